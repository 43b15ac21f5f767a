import { describe, expect, it } from 'vitest';
import { DEF_BUCKETS, exponentialBuckets, linearBuckets, resolveBuckets } from '../../../src/adapters/prometheus/index.js';

describe('histogram buckets', () => {
  it('default to client_golang DefBuckets when none are configured', () => {
    expect(resolveBuckets(undefined)).toEqual([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    expect(DEF_BUCKETS).toHaveLength(11);
  });

  it('give the default request_bytes/response_bytes bounds 1 … 1e8 for exponential {8, 10, 1}', () => {
    const bounds = resolveBuckets({ type: 'exponential', numFiniteBuckets: 8, growthFactor: 10, scale: 1 });
    expect(bounds).toEqual([1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8]);
  });

  it('have num_finite_buckets + 1 linear bounds starting at the offset', () => {
    expect(resolveBuckets({ type: 'linear', numFiniteBuckets: 3, width: 0.5, offset: 1 })).toEqual([1, 1.5, 2, 2.5]);
    expect(resolveBuckets({ type: 'linear', numFiniteBuckets: 0, width: 0, offset: 7 })).toEqual([7]);
  });

  it('accumulate linear bounds by repeated addition, as client_golang does', () => {
    const bounds = linearBuckets(0, 0.1, 11);
    // offset + width*i would give exactly 1 here; client_golang's loop does not.
    expect(bounds[10]).toBe(0.9999999999999999);
    expect(bounds[3]).toBe(0.30000000000000004);
  });

  it('accumulate exponential bounds by repeated multiplication', () => {
    expect(exponentialBuckets(0.5, 2, 4)).toEqual([0.5, 1, 2, 4]);
    let v = 0.3;
    const want: number[] = [];
    for (let i = 0; i < 6; i++, v *= 1.7) want.push(v);
    expect(exponentialBuckets(0.3, 1.7, 6)).toEqual(want);
  });

  it('use explicit bounds as given, dropping a trailing +Inf and falling back to DefBuckets when empty', () => {
    expect(resolveBuckets({ type: 'explicit', bounds: [0.1, 1, 10] })).toEqual([0.1, 1, 10]);
    expect(resolveBuckets({ type: 'explicit', bounds: [0.1, 1, Infinity] })).toEqual([0.1, 1]);
    expect(resolveBuckets({ type: 'explicit', bounds: [] })).toEqual(DEF_BUCKETS);
  });
});
