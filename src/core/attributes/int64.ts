/**
 * INT64 attribute values, exact over the whole int64 range as Go's Mixer holds them.
 *
 * A value is a plain number when it is a safe integer (|v| ≤ 2^53 − 1), which is every count,
 * size and code a proxy reports, and a bigint only beyond that. The form follows from the value
 * alone, so two INT64 values are equal exactly when `===` says so (a number never equals a
 * bigint, and never has to), and `<`/`>` compare a number with a bigint exactly in JavaScript:
 * equality and ordering need nothing of their own. Addition, text and conversion to double do.
 */
export type Int64 = number | bigint;

/** The canonical form of an int64 held as a bigint (which must be within int64 range). */
export function int64FromBigInt(v: bigint): Int64 {
  const n = Number(v);
  // Rounding is monotone: a bigint of magnitude 2^53 or more never becomes a safe integer.
  return Number.isSafeInteger(n) ? n : v;
}

/** Go's int64 `+`: wraps around on overflow (9223372036854775807 + 1 is -9223372036854775808). */
export function addInt64(a: Int64, b: Int64): Int64 {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b;
    // Two safe integers whose exact sum is safe add exactly; a sum past 2^53 − 1 rounds to a
    // double that is not safe either, so this test never accepts a rounded sum.
    if (Number.isSafeInteger(s)) return s;
  }
  return int64FromBigInt(BigInt.asIntN(64, BigInt(a) + BigInt(b)));
}
