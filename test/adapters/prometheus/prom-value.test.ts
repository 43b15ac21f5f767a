import { describe, expect, it } from 'vitest';
import { goDurationSeconds, parseGoFloat } from '../../../src/adapters/prometheus/index.js';

describe('sample value conversion', () => {
  it.each<[number, number]>([
    [0, 0],
    [12_500_000, 0.0125],
    [1_500_000_000, 1.5],
    [-1_500_000_000, -1.5],
    [3_600_000_000_001, 3600.000000001],
  ])('converts %d ns to %d s as Duration.Seconds() does', (ns, s) => {
    expect(goDurationSeconds(ns)).toBe(s);
  });

  it.each<[string, number]>([
    ['1', 1],
    ['-2.5', -2.5],
    ['+3', 3],
    ['1e3', 1000],
    ['1E-2', 0.01],
    ['.5', 0.5],
    ['5.', 5],
    ['0x1p-2', 0.25],
    ['0X1.8P1', 3],
    ['inf', Infinity],
    ['+Inf', Infinity],
    ['-Infinity', -Infinity],
    ['1e-400', 0],
  ])('parses %j as strconv.ParseFloat does', (s, want) => {
    expect(parseGoFloat(s)).toBe(want);
  });

  it('parses NaN in any case', () => {
    expect(parseGoFloat('NaN')).toBeNaN();
    expect(parseGoFloat('nan')).toBeNaN();
  });

  it.each(['', '.', 'abc', ' 1', '1 ', '1_000', '+nan', '0x1', '1e', 'e5', '0x'])('rejects %j with Go\'s syntax error', (s) => {
    expect(parseGoFloat(s)).toBe(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
  });

  it('rejects overflow with Go\'s range error', () => {
    expect(parseGoFloat('1e400')).toBe('strconv.ParseFloat: parsing "1e400": value out of range');
  });
});
