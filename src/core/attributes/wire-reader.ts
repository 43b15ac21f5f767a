import { TelemuxError } from '../errors.js';
import type { Int64 } from './int64.js';

/**
 * Protobuf wire types. Groups (3, 4) are obsolete, but an unknown field may still be one: it is
 * skipped, as every protobuf runtime (Mixer's gogo decoder among them) skips it.
 */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

export class MalformedError extends TelemuxError {
  constructor(message: string) {
    super('DECODE_MALFORMED', message);
  }
}

/**
 * A cursor over protobuf bytes that reads scalars without allocating. Every read checks bounds so
 * truncated or hostile input fails with MalformedError instead of reading garbage.
 */
export class WireReader {
  pos = 0;
  end = 0;
  buf: Uint8Array;
  private view: DataView;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.end = buf.length;
  }

  reset(buf: Uint8Array, pos = 0, end = buf.length): void {
    if (buf !== this.buf) {
      this.buf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    this.pos = pos;
    this.end = end;
  }

  /** A varint that must fit in 32 bits (tags, lengths, sint32, uint32, bool). Returns it unsigned. */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= this.end) throw new MalformedError('truncated varint');
      const b = buf[pos++]!;
      if (shift < 28) {
        result |= (b & 0x7f) << shift;
      } else if (shift === 28) {
        result |= (b & 0x0f) << 28;
      }
      // Bytes past the 32nd bit are accepted and dropped, as protobuf does for int32 on the wire.
      if (b < 0x80) break;
      shift += 7;
      if (shift >= 70) throw new MalformedError('varint longer than 10 bytes');
    }
    this.pos = pos;
    return result >>> 0;
  }

  sint32(): number {
    const n = this.uint32();
    return (n >>> 1) ^ -(n & 1);
  }

  /** The low and high 32 bits (unsigned) of the last varint read by `varint64`. */
  private lo = 0;
  private hi = 0;

  /** Reads a varint's 64 bits into `lo` and `hi`; the int64 readers differ only in how they convert them. */
  private varint64(): void {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (;;) {
      if (pos >= this.end) throw new MalformedError('truncated varint');
      const b = buf[pos++]!;
      if (shift < 28) {
        lo |= (b & 0x7f) << shift;
      } else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else if (shift < 64) {
        hi |= (b & 0x7f) << (shift - 32);
      }
      if (b < 0x80) break;
      shift += 7;
      if (shift >= 70) throw new MalformedError('varint longer than 10 bytes');
    }
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /**
   * A varint read as a signed 64-bit integer, returned as the nearest double (exact within 2^53):
   * for fields whose valid values are small (semantics, timestamp seconds). INT64 attribute
   * values use int64Exact.
   */
  int64(): number {
    this.varint64();
    const { lo, hi } = this;
    if (hi & 0x80000000) {
      // Two's complement negative: negate the 64-bit value.
      const nlo = (~lo + 1) >>> 0;
      const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
      return -(nhi * 4294967296 + nlo);
    }
    return hi * 4294967296 + lo;
  }

  /**
   * A varint read as a signed 64-bit integer, exactly: a number when it is a safe integer, a
   * bigint beyond (the INT64 attribute form, see int64.ts). Only the general decoding path reads
   * INT64 attribute values here; small ones are read inline by the decoder's fast path.
   */
  int64Exact(): Int64 {
    this.varint64();
    const { lo, hi } = this;
    if (hi & 0x80000000) {
      const nlo = (~lo + 1) >>> 0;
      const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
      // A magnitude below 2^53 (high word below 2^21) is a safe integer.
      if (nhi < 0x200000) return -(nhi * 4294967296 + nlo);
    } else if (hi < 0x200000) {
      return hi * 4294967296 + lo;
    }
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }

  bool(): boolean {
    // A bool is a varint of any length; any non-zero value is true.
    const buf = this.buf;
    let nonZero = false;
    for (let i = 0; ; i++) {
      if (this.pos >= this.end) throw new MalformedError('truncated varint');
      if (i >= 10) throw new MalformedError('varint longer than 10 bytes');
      const b = buf[this.pos++]!;
      if ((b & 0x7f) !== 0) nonZero = true;
      if (b < 0x80) return nonZero;
    }
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new MalformedError('truncated double');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Reads a length prefix and returns the end offset of the delimited bytes (pos is at their start). */
  delimited(): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > this.end) throw new MalformedError(`length ${len} runs past the end of the message`);
    return end;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.int64();
        return;
      case WIRE_FIXED64:
        if (this.pos + 8 > this.end) throw new MalformedError('truncated fixed64');
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.pos = this.delimited();
        return;
      case WIRE_FIXED32:
        if (this.pos + 4 > this.end) throw new MalformedError('truncated fixed32');
        this.pos += 4;
        return;
      case WIRE_START_GROUP: {
        // Up to the matching end-group tag, counting nested groups (no recursion: depth is the
        // sender's to choose). Like gogo, the end tag's field number is not compared.
        let depth = 1;
        while (depth > 0) {
          const wt = this.uint32() & 7;
          if (wt === WIRE_START_GROUP) depth++;
          else if (wt === WIRE_END_GROUP) depth--;
          else this.skip(wt);
        }
        return;
      }
      default:
        throw new MalformedError(`invalid wire type ${wireType}`);
    }
  }
}

const utf8 = new TextDecoder('utf-8');

/** Decodes UTF-8 the way protobuf runtimes in JS do (invalid sequences become U+FFFD). */
export function utf8Slice(buf: Uint8Array, start: number, end: number): string {
  if (end - start < 16) {
    // Short ASCII strings dominate attribute words; avoid the TextDecoder call for them.
    let s = '';
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return utf8.decode(buf.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8.decode(buf.subarray(start, end));
}
