/**
 * A point in time with nanosecond precision. Kept as two numbers because epoch nanoseconds
 * (~1.7e18) do not fit a double exactly.
 */
export class Timestamp {
  constructor(
    readonly seconds: number,
    readonly nanos: number,
  ) {}

  static fromMillis(ms: number): Timestamp {
    const seconds = Math.floor(ms / 1000);
    return new Timestamp(seconds, Math.round((ms - seconds * 1000) * 1e6));
  }

  compare(other: Timestamp): number {
    return this.seconds !== other.seconds ? this.seconds - other.seconds : this.nanos - other.nanos;
  }
}

/**
 * Runtime representation of attribute values. Which variant a value is follows from its static
 * ValueType (checked at config load), never from inspecting the value:
 * - STRING, DNS_NAME, EMAIL_ADDRESS, URI → string
 * - INT64 → number when a safe integer (|v| ≤ 2^53 − 1), bigint beyond: exact over the int64
 *   range, the form following from the value (see int64.ts)
 * - DOUBLE → number
 * - BOOL → boolean
 * - TIMESTAMP → Timestamp
 * - DURATION → number of nanoseconds (exact up to ~104 days)
 * - IP_ADDRESS → Uint8Array of 4 or 16 bytes
 * - STRING_MAP → ReadonlyMap<string, string>
 */
export type AttributeValue = string | number | bigint | boolean | Timestamp | Uint8Array | ReadonlyMap<string, string>;

export type StringMap = ReadonlyMap<string, string>;

export const EMPTY_STRING_MAP: StringMap = new Map<string, string>();
