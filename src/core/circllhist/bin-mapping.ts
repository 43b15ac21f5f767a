import { type Bin, NAN_KEY, ZERO_KEY, binOfKey } from './bin.js';
import { powerOfTen } from './pow10.js';

// Added before flooring the mantissa: (a / 10^e)·10 can land a few ulps under an integer that the
// decimal value sits exactly on (0.29 / 0.1 · 10 = 28.999999999999996), and the reference library
// lifts those back with this exact constant. Changing it changes bins.
const NUDGE = 1e-13;

const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;

/**
 * Key of the bin holding `d` (reference `double_to_hist_bucket`), allocation-free for the insert path.
 *
 * Uses the "V3" guard of the spec (§3.3): when `Math.log10` rounds a value just below a power of
 * ten up to that power, the mantissa comes out below 10. The reference library then returns the
 * NaN bin for a perfectly finite value; retrying one decade lower gives the true bin instead and
 * is identical to the reference everywhere else.
 */
export function keyOfDouble(d: number): number {
  if (d !== d || d === Infinity || d === -Infinity) return NAN_KEY;
  if (d === 0) return ZERO_KEY;
  const neg = d < 0;
  const a = neg ? -d : d;
  let e = Math.floor(Math.log10(a));
  // Mirrors the reference's int8 wrap-around checks: too small is zero, too large is NaN.
  if (e < -128) return ZERO_KEY;
  if (e > 127) return NAN_KEY;
  // Exact evaluation order of the reference (divide, then ×10, then nudge) for bit parity.
  let v = Math.floor((a / powerOfTen(e)) * 10 + NUDGE);
  if (v < 10) {
    e -= 1;
    if (e < -128) return ZERO_KEY;
    v = Math.floor((a / powerOfTen(e)) * 10 + NUDGE);
  }
  if (v === 100) {
    // The nudge (or log10 rounding down) carried the mantissa into the next decade.
    if (e >= 127) return NAN_KEY;
    v = 10;
    e += 1;
  }
  if (v < 10 || v > 99) return NAN_KEY;
  const mag = (e + 129) * 100 + v;
  return neg ? -mag : mag;
}

/** The bin holding `d`: exact decimal edges land on the upper side (0.1 → (10, −1)). */
export function doubleToBin(d: number): Bin {
  return binOfKey(keyOfDouble(d));
}

/**
 * Key of the bin holding the exact value `n · 10^scale` (reference `int_scale_to_hist_bucket`):
 * integer arithmetic only, truncating toward the bin nearest zero, never rounding.
 *
 * `n` must be an int64; a safe-integer `number` takes the allocation-free path, anything wider
 * (as a bigint or an integral double ≥ 2^53) goes through bigint.
 */
export function keyOfIntScale(n: number | bigint, scale: number): number {
  if (!Number.isSafeInteger(scale)) {
    throw new RangeError(`int-scale scale must be a safe integer, got ${String(scale)}`);
  }
  if (typeof n === 'number') {
    if (Number.isSafeInteger(n)) return keyOfSafeIntScale(n, scale);
    if (!Number.isInteger(n)) throw new RangeError(`int-scale value must be an integer, got ${String(n)}`);
    return keyOfBigIntScale(BigInt(n), scale);
  }
  return keyOfBigIntScale(n, scale);
}

function keyOfSafeIntScale(value: number, scale: number): number {
  if (value === 0) return ZERO_KEY;
  let n = value < 0 ? -value : value;
  let s = scale + 1;
  if (n < 10) {
    n *= 10;
    s -= 1;
  }
  while (n >= 100) {
    // Subtracting the remainder first keeps the division exact (n/10 could round up near 2^53).
    n = (n - (n % 10)) / 10;
    s += 1;
  }
  return finishIntScale(value < 0, n, s);
}

function keyOfBigIntScale(value: bigint, scale: number): number {
  if (value < INT64_MIN || value > INT64_MAX) {
    throw new RangeError(`int-scale value must fit in int64, got ${value.toString()}`);
  }
  if (value === 0n) return ZERO_KEY;
  // The reference cannot negate INT64_MIN and clamps its magnitude to INT64_MAX instead.
  let n = value === INT64_MIN ? INT64_MAX : value < 0n ? -value : value;
  let s = scale + 1;
  if (n < 10n) {
    n *= 10n;
    s -= 1;
  }
  while (n >= 100n) {
    n /= 10n;
    s += 1;
  }
  return finishIntScale(value < 0n, Number(n), s);
}

function finishIntScale(neg: boolean, v: number, s: number): number {
  if (s < -128) return ZERO_KEY;
  if (s > 127) return NAN_KEY;
  const mag = (s + 129) * 100 + v;
  return neg ? -mag : mag;
}

/** The bin holding `n · 10^scale`, e.g. `intScaleToBin(1_500_000, -9)` is (15, −3) for 1.5 ms. */
export function intScaleToBin(n: number | bigint, scale: number): Bin {
  return binOfKey(keyOfIntScale(n, scale));
}
