/** A tenant's rate limit: attribute sets per second, and how many may arrive at once. */
export interface RateLimit {
  readonly setsPerSecond: number;
  /** Bucket size: the largest burst accepted after a quiet period. At least 1. */
  readonly burst: number;
}

/**
 * A token bucket measured in attribute sets. It starts full, refills at `setsPerSecond` up to
 * `burst`, and a Report takes as many tokens as it has sets.
 *
 * A Report is admitted when the bucket holds its sets, or, for a Report larger than the whole
 * bucket, when the bucket is full; it then goes into debt that the refill pays back first. Without
 * that, a sidecar whose batches are bigger than the burst would be refused forever, and with it
 * the long-run rate still holds.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly limit: RateLimit,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.last = now;
  }

  /** Takes `sets` tokens and returns true, or takes nothing and returns false. `now` in ms. */
  take(sets: number, now: number): boolean {
    this.refill(now);
    const needed = Math.min(sets, this.limit.burst);
    if (this.tokens < needed) return false;
    this.tokens -= sets;
    return true;
  }

  /** Tokens available at `now` (negative while in debt). */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  private refill(now: number): void {
    // A clock stepping backwards must not mint tokens; it only restarts the measurement.
    const elapsed = now > this.last ? now - this.last : 0;
    this.last = now;
    if (elapsed > 0) this.tokens = Math.min(this.limit.burst, this.tokens + (elapsed * this.limit.setsPerSecond) / 1000);
  }
}
