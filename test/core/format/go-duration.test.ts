import { describe, expect, it } from 'vitest';
import { formatGoDuration } from '../../../src/core/format/index.js';

describe('formatGoDuration (time.Duration.String)', () => {
  it.each<[number, string]>([
    [0, '0s'],
    [1, '1ns'],
    [-1, '-1ns'],
    [999, '999ns'],
    [1000, '1µs'],
    [1500, '1.5µs'],
    [1e6, '1ms'],
    [1.5e6, '1.5ms'],
    [12.5e6, '12.5ms'],
    [150e6, '150ms'],
    [999_999_999, '999.999999ms'],
    [1e9, '1s'],
    [1e9 + 1, '1.000000001s'],
    [1.5e9, '1.5s'],
    [-1.5e9, '-1.5s'],
    [60e9, '1m0s'],
    [90e9, '1m30s'],
    [3600e9, '1h0m0s'],
    [3723e9, '1h2m3s'],
    [3723.5e9, '1h2m3.5s'],
    [100 * 3600e9, '100h0m0s'],
    [-3723e9, '-1h2m3s'],
  ])('prints %s ns as %s', (ns, want) => {
    expect(formatGoDuration(ns)).toBe(want);
  });
});
