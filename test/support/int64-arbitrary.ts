import fc from 'fast-check';
import { int64FromBigInt, type Int64 } from '../../src/core/attributes/int64.js';

/** int64's ends, and around 2^53: 2^53 + 1 is the first integer a double cannot hold (it rounds to 2^53). */
export const INT64_MIN = -9223372036854775808n;
export const INT64_MAX = 9223372036854775807n;
export const P53 = 9007199254740992n;
export const P53_1 = 9007199254740993n;

const MIN = INT64_MIN;
const MAX = INT64_MAX;
const SAFE = P53;

/**
 * INT64 attribute values over the whole int64 range, in their canonical form (a number when a safe
 * integer, a bigint beyond): small ones (the decoder's fast path), the edges around 2^53 and of
 * int64 itself, and anything in between.
 */
export const int64Value: fc.Arbitrary<Int64> = fc.oneof(
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  fc
    .constantFrom(SAFE - 1n, SAFE, SAFE + 1n, -SAFE + 1n, -SAFE, -SAFE - 1n, MAX, MAX - 1n, MIN, MIN + 1n, 2n ** 28n, 2n ** 32n, -(2n ** 32n), -1n)
    .map(int64FromBigInt),
  fc.bigInt({ min: MIN, max: MAX }).map(int64FromBigInt),
);
