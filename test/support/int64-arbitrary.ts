import fc from 'fast-check';
import { int64FromBigInt, type Int64 } from '../../src/core/attributes/int64.js';

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;
const SAFE = 2n ** 53n;

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
