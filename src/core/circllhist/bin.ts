/**
 * A circllhist bin: two signed 8-bit integers. Positive bins have `val` in 10…99 and cover
 * [val/10·10^exp, (val+1)/10·10^exp); negative bins mirror them; `(0, 0)` is the zero bin and
 * `(−1, 0)` the NaN bin (NaN, ±Infinity and values too large to bin).
 */
export interface Bin {
  readonly val: number;
  readonly exp: number;
}

/** A bin together with its exact unsigned 64-bit count. */
export interface BinCount extends Bin {
  readonly count: bigint;
}

export const NAN_BIN: Bin = Object.freeze({ val: -1, exp: 0 });
export const ZERO_BIN: Bin = Object.freeze({ val: 0, exp: 0 });

/**
 * Bins are handled internally as one integer "key" whose numeric order is the serialization order
 * of the reference library (NaN first, then most negative … zero … largest): that lets the store
 * keep a sorted Int32Array and compare bins with `<`, and lets the insert path avoid allocating a
 * `{val, exp}` object per sample.
 *
 *   zero → 0, positive → (exp + 129)·100 + val, negative → −((exp + 129)·100 + |val|)
 *
 * Magnitudes span 110…25699, so any value below −25699 is free for the NaN bin.
 */
export const NAN_KEY = -30000;
export const ZERO_KEY = 0;

/** True for bins the format can hold: |val| in 10…99 with int8 exp, the zero bin, or the NaN pair. */
export function isValidBin(val: number, exp: number): boolean {
  if (!Number.isInteger(val) || !Number.isInteger(exp) || exp < -128 || exp > 127) return false;
  if (val === -1) return exp === 0;
  // The zero bin is only valid in canonical form here; readers canonicalise (0, e) before asking.
  if (val === 0) return exp === 0;
  const mag = val < 0 ? -val : val;
  return mag >= 10 && mag <= 99;
}

/** Key of a valid bin; callers validate first (see {@link isValidBin}). */
export function keyOfBin(val: number, exp: number): number {
  if (val === 0) return ZERO_KEY;
  if (val === -1 && exp === 0) return NAN_KEY;
  return val > 0 ? (exp + 129) * 100 + val : -((exp + 129) * 100 - val);
}

export function valOfKey(key: number): number {
  if (key === NAN_KEY) return -1;
  return key >= 0 ? key % 100 : -(-key % 100);
}

export function expOfKey(key: number): number {
  if (key === NAN_KEY || key === ZERO_KEY) return 0;
  const mag = key < 0 ? -key : key;
  return ((mag - (mag % 100)) / 100) - 129;
}

export function binOfKey(key: number): Bin {
  return { val: valOfKey(key), exp: expOfKey(key) };
}

/**
 * Total order of the reference library: negative when `a` sorts before `b` (NaN bin first, then
 * ascending along the real axis). Both bins must be valid.
 */
export function compareBins(a: Bin, b: Bin): number {
  return keyOfBin(a.val, a.exp) - keyOfBin(b.val, b.exp);
}

export function isNanBin(bin: Bin): boolean {
  return bin.val === -1 && bin.exp === 0;
}

export function isZeroBin(bin: Bin): boolean {
  return bin.val === 0;
}

/** Throws unless `bin` is a valid bin; public helpers use it so garbage never reaches the tables. */
export function assertValidBin(bin: Bin): void {
  if (!isValidBin(bin.val, bin.exp)) {
    throw new RangeError(`invalid circllhist bin (val=${String(bin.val)}, exp=${String(bin.exp)})`);
  }
}
