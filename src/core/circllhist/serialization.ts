import { isValidBin, keyOfBin, valOfKey, expOfKey } from './bin.js';
import type { BinStore } from './bin-store.js';
import { CircllhistFormatError } from './errors.js';

// Wire layout (identical in the C and Go references):
//   u16 big-endian N, then N records of
//   int8 val, int8 exp, u8 T = count bytes − 1 (0…7), count as T+1 bytes little-endian.
// No magic, version or checksum; an empty histogram is 00 00.

const TWO_POW_32 = 0x1_0000_0000;

/** Minimal byte width of a count ≥ 1: the smallest w with count < 256^w. */
function widthOf(count: number | bigint): number {
  if (typeof count === 'number') {
    // Comparisons on doubles are exact here: counts kept as numbers are ≤ 2^53−1.
    let w = 1;
    let limit = 256;
    while (count >= limit) {
      w++;
      limit *= 256;
    }
    return w;
  }
  // The reference C table mis-sizes [2^32, 2^36) and [2^48, 2^52) (typos in its limits) and
  // truncates those counts; this is the correct rule, which the Go port also uses.
  let w = 1;
  let rest = count >> 8n;
  while (rest > 0n) {
    w++;
    rest >>= 8n;
  }
  return w;
}

/** @internal Serialized size in bytes. */
export function serializedLength(store: BinStore): number {
  let len = 2;
  for (let i = 0; i < store.size; i++) len += 3 + widthOf(store.countAt(i));
  return len;
}

/** @internal Writes the store in the §6 layout. */
export function serializeStore(store: BinStore): Uint8Array {
  const out = new Uint8Array(serializedLength(store));
  const n = store.size;
  out[0] = n >>> 8;
  out[1] = n & 0xff;
  let o = 2;
  for (let i = 0; i < n; i++) {
    const key = store.keyAt(i);
    const count = store.countAt(i);
    const w = widthOf(count);
    out[o] = valOfKey(key) & 0xff;
    out[o + 1] = expOfKey(key) & 0xff;
    out[o + 2] = w - 1;
    o += 3;
    if (typeof count === 'number') {
      // Split at 2^32 so each half fits the 32-bit bitwise operators exactly.
      let lo = count % TWO_POW_32;
      let hi = (count - lo) / TWO_POW_32;
      for (let b = 0; b < w; b++) {
        if (b < 4) {
          out[o + b] = lo & 0xff;
          lo >>>= 8;
        } else {
          out[o + b] = hi & 0xff;
          hi >>>= 8;
        }
      }
    } else {
      let rest = count;
      for (let b = 0; b < w; b++) {
        out[o + b] = Number(rest & 0xffn);
        rest >>= 8n;
      }
    }
    o += w;
  }
  return out;
}

function int8(byte: number): number {
  return byte >= 128 ? byte - 256 : byte;
}

/**
 * @internal Reads one serialized histogram starting at `offset` and adds its bins to `store`.
 * Returns the number of bytes consumed.
 *
 * Strict where the C reader is lax: a header promising more records than the input holds is an
 * error (C stops quietly at the end of input). Like C, zero-count records and invalid bins are
 * skipped. Unlike C, records are re-inserted rather than copied, so an out-of-order or duplicated
 * stream still yields a correctly ordered histogram (duplicates add up, saturating), and a
 * non-canonical zero bin (0, e≠0) folds into (0, 0).
 */
export function deserializeInto(store: BinStore, bytes: Uint8Array, offset: number): number {
  const end = bytes.length;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > end) {
    throw new RangeError(`offset ${String(offset)} is outside the input`);
  }
  if (end - offset < 2) throw new CircllhistFormatError('circllhist data shorter than its 2-byte header');
  const n = (bytes[offset] << 8) | bytes[offset + 1];
  let p = offset + 2;
  // Each record takes at least 4 bytes, so a lying header cannot make this over-allocate.
  store.reserve(Math.min(n, (end - p) >>> 2));
  for (let r = 0; r < n; r++) {
    if (end - p < 3) throw new CircllhistFormatError(`circllhist record ${String(r)} is truncated`);
    const val = int8(bytes[p]);
    const exp = int8(bytes[p + 1]);
    const t = bytes[p + 2];
    if (t > 7) throw new CircllhistFormatError(`circllhist record ${String(r)} has count width ${String(t + 1)}`);
    const w = t + 1;
    if (end - p - 3 < w) throw new CircllhistFormatError(`circllhist record ${String(r)} count is truncated`);
    const count = readCount(bytes, p + 3, w);
    p += 3 + w;
    if (count === 0) continue;
    const v = val === 0 ? 0 : val;
    const e = val === 0 ? 0 : exp;
    if (!isValidBin(v, e)) continue;
    store.add(keyOfBin(v, e), count);
  }
  return p - offset;
}

/** Little-endian unsigned integer; a number when it fits 2^53−1 exactly, else a bigint. */
function readCount(bytes: Uint8Array, at: number, w: number): number | bigint {
  if (w <= 6) {
    let v = 0;
    for (let b = w - 1; b >= 0; b--) v = v * 256 + bytes[at + b];
    return v;
  }
  let v = 0n;
  for (let b = w - 1; b >= 0; b--) v = (v << 8n) | BigInt(bytes[at + b]);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
