import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatGoFloatF,
  formatGoFloatG,
  formatGoInt,
  formatOpenMetricsFloat,
  formatPromFloat,
} from '../../../src/core/format/index.js';

describe('formatGoFloatG (strconv g, -1; fmt %v)', () => {
  it.each<[number, string]>([
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [1.5, '1.5'],
    [-2.25, '-2.25'],
    [100000, '100000'],
    [123456, '123456'],
    [1e6, '1e+06'],
    [1234567, '1.234567e+06'],
    [1e8, '1e+08'],
    [123456789, '1.23456789e+08'],
    [1e21, '1e+21'],
    [1e100, '1e+100'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [2.5e-5, '2.5e-05'],
    [0.1 + 0.2, '0.30000000000000004'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ])('prints %s as %s', (v, want) => {
    expect(formatGoFloatG(v)).toBe(want);
  });

  it('round-trips every finite double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        expect(Object.is(Number(formatGoFloatG(v)), v)).toBe(true);
      }),
    );
  });
});

describe('formatGoFloatF (strconv f, -1)', () => {
  it.each<[number, string]>([
    [0, '0'],
    [-0, '-0'],
    [0.1, '0.1'],
    [123.456, '123.456'],
    [-2.5, '-2.5'],
    [1e6, '1000000'],
    [1e21, '1000000000000000000000'],
    [1e-7, '0.0000001'],
    [1.5e300, `15${'0'.repeat(299)}`],
    [5e-324, `0.${'0'.repeat(323)}5`],
    [0.30000000000000004, '0.30000000000000004'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ])('prints %s as %s', (v, want) => {
    expect(formatGoFloatF(v)).toBe(want);
  });

  it('never uses an exponent and round-trips', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const s = formatGoFloatF(v);
        expect(s).not.toMatch(/e/i);
        expect(Object.is(Number(s), v)).toBe(true);
      }),
    );
  });
});

describe('formatPromFloat (client_golang text writeFloat)', () => {
  it.each<[number, string]>([
    [0, '0'],
    [-0, '0'],
    [1, '1'],
    [-1, '-1'],
    [0.005, '0.005'],
    [2.5, '2.5'],
    [100000, '100000'],
    [1e6, '1e+06'],
    [1e8, '1e+08'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ])('prints %s as %s', (v, want) => {
    expect(formatPromFloat(v)).toBe(want);
  });
});

describe('formatOpenMetricsFloat (client_golang writeOpenMetricsFloat)', () => {
  it.each<[number, string]>([
    [0, '0.0'],
    [-0, '0.0'],
    [1, '1.0'],
    [-1, '-1.0'],
    [100, '100.0'],
    [0.25, '0.25'],
    [1e6, '1e+06'],
    [Infinity, '+Inf'],
    [NaN, 'NaN'],
  ])('prints %s as %s', (v, want) => {
    expect(formatOpenMetricsFloat(v)).toBe(want);
  });
});

describe('formatGoInt', () => {
  it.each<[number, string]>([
    [0, '0'],
    [200, '200'],
    [-5, '-5'],
    [2 ** 53, '9007199254740992'],
    [2 ** 63, '9223372036854775808'],
    [1e21, '1000000000000000000000'],
  ])('prints %s as %s', (v, want) => {
    expect(formatGoInt(v)).toBe(want);
  });
});
