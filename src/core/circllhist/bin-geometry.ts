import { type Bin, NAN_KEY, ZERO_KEY, assertValidBin, keyOfBin, valOfKey, expOfKey } from './bin.js';
import { powerOfTen } from './pow10.js';

// Every formula below keeps the reference library's evaluation order (e.g. (val / 10) · 10^exp,
// not val · 10^(exp−1)): a different but algebraically equal order changes the last bit, and the
// vectors compare bit for bit.

const ZERO_BIN_HALF_WIDTH = 1e-128;

/** @internal Edge nearest zero of the bin with this key. */
export function edgeOfKey(key: number): number {
  if (key === NAN_KEY) return NaN;
  if (key === ZERO_KEY) return 0;
  return (valOfKey(key) / 10) * powerOfTen(expOfKey(key));
}

/** @internal Width of the bin with this key (0 for the zero bin). */
export function widthOfKey(key: number): number {
  if (key === NAN_KEY) return NaN;
  if (key === ZERO_KEY) return 0;
  return powerOfTen(expOfKey(key)) / 10;
}

/** @internal Edge nearest −∞, the base the quantile interpolation starts from. */
export function leftOfKey(key: number): number {
  if (key === ZERO_KEY) return 0;
  const edge = edgeOfKey(key);
  return edge > 0 ? edge : edge - widthOfKey(key);
}

/** @internal Minimum-relative-error midpoint of the reference (harmonic mean of the edges). */
export function midpointOfKey(key: number): number {
  if (key === NAN_KEY) return NaN;
  if (key === ZERO_KEY) return 0;
  const bottom = edgeOfKey(key);
  let interval = widthOfKey(key);
  if (bottom < 0) interval = -interval;
  const top = bottom + interval;
  const ratio = bottom / (bottom + top);
  return bottom + interval * ratio;
}

function keyOf(bin: Bin): number {
  assertValidBin(bin);
  return keyOfBin(bin.val, bin.exp);
}

/** Edge nearest zero (reference `hist_bucket_to_double`): NaN for the NaN bin, 0 for the zero bin. */
export function binToDouble(bin: Bin): number {
  return edgeOfKey(keyOf(bin));
}

/** Bin width `10^exp / 10`: NaN for the NaN bin, 0 for the zero bin. */
export function binWidth(bin: Bin): number {
  return widthOfKey(keyOf(bin));
}

/**
 * Midpoint used by mean/sum/stddev: 2AB/(A+B) of the edges A, B (not the arithmetic midpoint the
 * Go port uses), which minimises the worst-case relative error inside the bin.
 */
export function binMidpoint(bin: Bin): number {
  return midpointOfKey(keyOf(bin));
}

/** Lower bound: the edge for positive bins, edge − width for negative bins, −1e−128 for zero. */
export function binLower(bin: Bin): number {
  const key = keyOf(bin);
  if (key === ZERO_KEY) return -ZERO_BIN_HALF_WIDTH;
  const edge = edgeOfKey(key);
  return edge < 0 ? edge - widthOfKey(key) : edge;
}

/** Upper bound: edge + width for positive bins, the edge for negative bins, 1e−128 for zero. */
export function binUpper(bin: Bin): number {
  const key = keyOf(bin);
  if (key === ZERO_KEY) return ZERO_BIN_HALF_WIDTH;
  const edge = edgeOfKey(key);
  return edge < 0 ? edge : edge + widthOfKey(key);
}
