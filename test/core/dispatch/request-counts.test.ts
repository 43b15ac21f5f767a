import { describe, expect, it } from 'vitest';
import { CountDistribution, REQUEST_COUNT_BUCKETS, RequestCounts } from '../../../src/core/dispatch/request-counts.js';

describe('CountDistribution', () => {
  it('sums per-value counts into cumulative buckets (value ≤ le), with values past the last bound only in the total and sum', () => {
    const d = new CountDistribution(20);
    for (const v of [0, 0, 1, 4, 9, 10, 16, 20, 21, 100]) d.add(v);
    expect(d.cumulative(REQUEST_COUNT_BUCKETS)).toEqual({
      //        le: 0  1  2  3  4  5  6  7  8 10 15 20
      buckets: [2, 3, 3, 3, 4, 4, 4, 4, 4, 6, 6, 8],
      count: 10,
      sum: 181,
    });
  });

  it('is empty before any observation', () => {
    expect(new RequestCounts().destinations.cumulative(REQUEST_COUNT_BUCKETS)).toEqual({ buckets: REQUEST_COUNT_BUCKETS.map(() => 0), count: 0, sum: 0 });
  });
});
