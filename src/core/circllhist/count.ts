/**
 * Counts are unsigned 64-bit integers. Callers may pass a `number` (any non-negative integer; exact
 * by construction, since every double ≥ 2^53 is an integer) or a `bigint`.
 */
export type CountInput = number | bigint;

export const U64_MAX = 0xffffffffffffffffn;

/** @internal Largest count the store keeps as a plain double; above it a bin switches to bigint. */
export const MAX_EXACT = Number.MAX_SAFE_INTEGER;

/**
 * @internal Validates a count and returns it as a number when exact (≤ 2^53−1), else as a bigint.
 * Throws RangeError for negatives, fractions, NaN and anything past 2^64−1: a caller bug, not data
 * to saturate.
 */
export function normalizeCount(count: CountInput): number | bigint {
  if (typeof count === 'number') {
    if (count >= 0 && count <= MAX_EXACT && Number.isInteger(count)) return count;
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(`count must be a non-negative integer, got ${String(count)}`);
    }
    return checkU64(BigInt(count));
  }
  if (typeof count !== 'bigint') throw new TypeError('count must be a number or a bigint');
  return count <= BigInt(MAX_EXACT) && count >= 0n ? Number(count) : checkU64(count);
}

function checkU64(count: bigint): bigint {
  if (count < 0n || count > U64_MAX) {
    throw new RangeError(`count must be in 0…2^64−1, got ${count.toString()}`);
  }
  return count;
}

/** @internal a + b clamped to 2^64−1, as the reference saturates on insert and merge. */
export function saturatingAdd(a: bigint, b: bigint): bigint {
  const s = a + b;
  return s > U64_MAX ? U64_MAX : s;
}

/**
 * @internal Exact running sum of u64 counts that stays in doubles while it can (no allocation for
 * realistic histograms) and moves to bigint only past 2^53−1, saturating at 2^64−1.
 */
export class CountAccumulator {
  private small = 0;
  private big: bigint | null = null;

  add(count: number | bigint): void {
    if (this.big === null && typeof count === 'number') {
      const s = this.small + count;
      if (s <= MAX_EXACT) {
        this.small = s;
        return;
      }
    }
    this.big = saturatingAdd(this.big ?? BigInt(this.small), BigInt(count));
  }

  get value(): bigint {
    return this.big ?? BigInt(this.small);
  }
}
