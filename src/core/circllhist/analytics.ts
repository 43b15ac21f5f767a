import { NAN_KEY } from './bin.js';
import { leftOfKey, midpointOfKey, widthOfKey } from './bin-geometry.js';
import type { BinStore } from './bin-store.js';
import { CountAccumulator } from './count.js';

// Floating-point analytics follow the reference library step for step: counts are converted to
// doubles first and every sum is accumulated in bin order, so results match it bit for bit.
// Reordering any of these loops or fusing operations would change the last bits.

/** Hyndman–Fan quantile definitions the reference implements. */
export type QuantileType = 1 | 7;

/** The NaN bin sorts first, so the non-NaN bins are a suffix of the store. */
function firstNonNan(store: BinStore): number {
  return store.size > 0 && store.keyAt(0) === NAN_KEY ? 1 : 0;
}

/** @internal */
export function quantilesOf(store: BinStore, qs: readonly number[], type: QuantileType): number[] {
  if (type !== 1 && type !== 7) throw new RangeError(`quantile type must be 1 or 7, got ${String(type)}`);
  let prev = 0;
  for (const q of qs) {
    // The reference rejects these with error codes (−3 out of range, −2 out of order).
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile ${String(q)} is outside [0, 1]`);
    if (q < prev) throw new RangeError('quantiles must be given in non-decreasing order');
    prev = q;
  }
  const out = new Array<number>(qs.length);
  const start = firstNonNan(store);
  const last = store.size - 1;
  let total = 0;
  for (let i = start; i <= last; i++) total += store.countAsDouble(i);
  if (total === 0) return out.fill(NaN);

  let i = start;
  let lower = 0;
  let upper = store.countAsDouble(i);
  for (let j = 0; j < qs.length; j++) {
    const q = qs[j];
    const t = type === 1 ? total * q : Math.floor((total - 1) * q + 1);
    // A target equal to `upper` stays in the current bin.
    while (i < last && upper < t) {
      i++;
      lower = upper;
      upper = lower + store.countAsDouble(i);
    }
    const key = store.keyAt(i);
    const w = widthOfKey(key);
    if (w === 0) {
      out[j] = 0;
      continue;
    }
    const n = store.countAsDouble(i);
    let k = type === 1 ? Math.ceil(t - lower) : t - lower;
    // Only q = 0 on the first bin reaches k = 0 for type 1; it means the first order statistic.
    if (type === 1 && k === 0) k = 1;
    out[j] = leftOfKey(key) + (k / (n + 1)) * w;
  }
  return out;
}

/** @internal Σ midpoint·count over non-NaN bins (0 when empty). */
export function approxSumOf(store: BinStore): number {
  let sum = 0;
  for (let i = firstNonNan(store); i < store.size; i++) {
    sum += midpointOfKey(store.keyAt(i)) * store.countAsDouble(i);
  }
  return sum;
}

/** @internal Mean of the bin midpoints weighted by count; NaN without non-NaN samples. */
export function approxMeanOf(store: BinStore): number {
  let divisor = 0;
  let sum = 0;
  for (let i = firstNonNan(store); i < store.size; i++) {
    const c = store.countAsDouble(i);
    divisor += c;
    sum += midpointOfKey(store.keyAt(i)) * c;
  }
  return divisor === 0 ? NaN : sum / divisor;
}

/** @internal Population standard deviation over midpoints: sqrt(s2/N − (s1/N)²). */
export function approxStddevOf(store: BinStore): number {
  let n = 0;
  let s1 = 0;
  let s2 = 0;
  for (let i = firstNonNan(store); i < store.size; i++) {
    const m = midpointOfKey(store.keyAt(i));
    const c = store.countAsDouble(i);
    n += c;
    s1 += m * c;
    // The reference squares with pow(m, 2.0); an exact square is the same correctly rounded m·m.
    s2 += m * m * c;
  }
  if (n === 0) return NaN;
  const mean = s1 / n;
  return Math.sqrt(s2 / n - mean * mean);
}

/** @internal Σ m^k·c / N^k — the reference divides by N^k, not N; kept for parity. */
export function approxMomentOf(store: BinStore, k: number): number {
  let n = 0;
  let s = 0;
  for (let i = firstNonNan(store); i < store.size; i++) {
    const c = store.countAsDouble(i);
    n += c;
    s += Math.pow(midpointOfKey(store.keyAt(i)), k) * c;
  }
  if (n === 0) return NaN;
  return s / Math.pow(n, k);
}

/** @internal Sum of all counts, NaN bin included, saturating at 2^64−1. */
export function sampleCountOf(store: BinStore, includeNan: boolean): bigint {
  const acc = new CountAccumulator();
  for (let i = includeNan ? 0 : firstNonNan(store); i < store.size; i++) acc.add(store.countAt(i));
  return acc.value;
}

/**
 * @internal Sum of counts of the non-NaN bins ordered before `key` (or at it, when `inclusive`).
 * Thresholds compare bins, not values: a sample and a threshold in the same bin are "equal".
 *
 * The reference adds these in plain uint64 arithmetic (no saturation, unlike sample_count), so a
 * sum past 2^64−1 wraps; reproduced for parity, though only reachable with near-2^64 counts.
 */
export function countBelowKey(store: BinStore, key: number, inclusive: boolean): bigint {
  return BigInt.asUintN(64, exactSumBelow(store, key, inclusive));
}

/**
 * @internal `sample_count` minus the bins before `key` (or at it, when not `inclusive`), in the
 * reference's wrapping uint64 arithmetic. Starting from the full sample count means NaN-bin
 * samples always count as "above", a reference quirk.
 */
export function countAboveKey(store: BinStore, key: number, inclusive: boolean): bigint {
  return BigInt.asUintN(64, sampleCountOf(store, true) - exactSumBelow(store, key, !inclusive));
}

function exactSumBelow(store: BinStore, key: number, inclusive: boolean): bigint {
  let small = 0;
  let big = 0n;
  for (let i = firstNonNan(store); i < store.size; i++) {
    const k = store.keyAt(i);
    if (inclusive ? k > key : k >= key) break;
    const c = store.countAt(i);
    // Doubles stay exact while the partial sum is ≤ 2^53−1; spill into the bigint beyond.
    if (typeof c === 'number' && small + c <= Number.MAX_SAFE_INTEGER) small += c;
    else big += BigInt(c);
  }
  return big + BigInt(small);
}
