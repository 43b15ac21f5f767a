import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../src/core/security/token-bucket.js';

describe('the token bucket of a rate limit', () => {
  it('starts full: a burst up to its size is admitted at once, and the next set is refused', () => {
    const b = new TokenBucket({ setsPerSecond: 10, burst: 20 }, 0);
    expect(b.take(15, 0)).toBe(true);
    expect(b.take(5, 0)).toBe(true);
    expect(b.take(1, 0)).toBe(false);
  });

  it('refills at the configured rate, never beyond the burst', () => {
    const b = new TokenBucket({ setsPerSecond: 10, burst: 20 }, 0);
    expect(b.take(20, 0)).toBe(true);
    expect(b.take(5, 400)).toBe(false); // 4 tokens after 400 ms
    expect(b.take(5, 500)).toBe(true); // 5 tokens after 500 ms
    expect(b.available(60_000)).toBe(20);
  });

  it('takes nothing from the bucket when it refuses', () => {
    const b = new TokenBucket({ setsPerSecond: 1, burst: 10 }, 0);
    expect(b.take(8, 0)).toBe(true);
    expect(b.take(5, 0)).toBe(false);
    expect(b.available(0)).toBe(2);
    expect(b.take(2, 0)).toBe(true);
  });

  it('admits a Report larger than the burst only when the bucket is full, then pays the debt back first', () => {
    const b = new TokenBucket({ setsPerSecond: 10, burst: 10 }, 0);
    expect(b.take(25, 0)).toBe(true);
    expect(b.available(0)).toBe(-15);
    expect(b.take(1, 1_500)).toBe(false); // back to 0 after 1.5 s
    expect(b.take(25, 2_000)).toBe(false); // 5 tokens: not full
    expect(b.take(25, 2_500)).toBe(true); // full again
  });

  it('holds the long-run rate whatever the Report sizes', () => {
    const b = new TokenBucket({ setsPerSecond: 100, burst: 50 }, 0);
    let admitted = 0;
    for (let t = 0; t <= 10_000; t += 7) if (b.take(30, t)) admitted += 30;
    // 10 s at 100/s plus at most one burst and one Report of debt.
    expect(admitted).toBeLessThanOrEqual(100 * 10 + 50 + 30);
    expect(admitted).toBeGreaterThanOrEqual(100 * 10 - 30);
  });

  it('does not mint tokens when the clock steps backwards', () => {
    const b = new TokenBucket({ setsPerSecond: 10, burst: 10 }, 10_000);
    expect(b.take(10, 10_000)).toBe(true);
    expect(b.take(1, 5_000)).toBe(false);
    expect(b.take(1, 5_050)).toBe(false); // 50 ms after the step: half a token
    expect(b.take(1, 5_100)).toBe(true);
  });
});
