/**
 * HPACK (RFC 7541): the header block decoder the HTTP/2 endpoint runs on every request, and a
 * small stateless encoder for the server's few fixed response blocks (and for tests).
 *
 * Strings are latin1, one char per octet, as node:http2 hands header values over: the decoder
 * makes them with one `latin1Slice` of the block (or one Huffman decode), and a field read from
 * the dynamic table is the very string stored there, so an indexed field allocates nothing.
 */

import { HpackError, huffmanDecode, huffmanEncode, huffmanEncodedLength } from './hpack-huffman.js';

// Defined beside the Huffman code, which throws it too, so the two modules do not import each other.
export { HpackError } from './hpack-huffman.js';

/** RFC 7541 Appendix A; index 1 first. */
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];
const STATIC_COUNT = STATIC_TABLE.length;

// Flat arrays indexed by HPACK index (slot 0 unused) keep the decoder's lookup to one element load.
const STATIC_NAMES: readonly string[] = ['', ...STATIC_TABLE.map(([name]) => name)];
const STATIC_VALUES: readonly string[] = ['', ...STATIC_TABLE.map(([, value]) => value)];

/** RFC 7541 §4.1: every entry costs its octets plus 32. */
const ENTRY_OVERHEAD = 32;

/** Integers past this are refused: no index, length or table size can be near it. */
const MAX_INTEGER = 0x7fffffff;
/** Continuation octets allowed after a full prefix: 5 × 7 bits already covers 2^31. */
const MAX_CONTINUATIONS = 5;

type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: Latin1Slice }).latin1Slice;

/*
 * The read cursor of the block being decoded. Module state rather than a field or a returned
 * pair so that reading an integer or a string returns one value and allocates nothing; decoding
 * is synchronous, so no two blocks ever share it.
 */
let at = 0;

/** Reads an integer whose prefix is the low bits of `src[at]` selected by `mask` (2^N - 1). */
function readInteger(src: Uint8Array, end: number, mask: number): number {
  let value = src[at++]! & mask;
  if (value < mask) return value;
  let scale = 1;
  for (let i = 0; i < MAX_CONTINUATIONS; i++) {
    if (at >= end) throw new HpackError('header block ends inside an integer');
    const octet = src[at++]!;
    value += (octet & 0x7f) * scale;
    if (value > MAX_INTEGER) throw new HpackError('integer exceeds 2^31 - 1');
    if (octet < 0x80) return value;
    scale *= 128;
  }
  throw new HpackError('integer has too many continuation octets');
}

function readString(src: Uint8Array, end: number): string {
  if (at >= end) throw new HpackError('header block ends before a string literal');
  const huffman = src[at]! & 0x80;
  const length = readInteger(src, end, 0x7f);
  const start = at;
  if (length > end - start) throw new HpackError('header block ends inside a string literal');
  at = start + length;
  return huffman ? huffmanDecode(src, start, at) : latin1Slice.call(src, start, at);
}

/**
 * One connection's decoding context: the dynamic table, which every header block on the
 * connection reads and updates in order.
 */
export class HpackDecoder {
  /** SETTINGS_HEADER_TABLE_SIZE as we advertised it: the most a size update may ask for. */
  private readonly limit: number;
  /** The table's maximum size as the peer's encoder last set it (RFC 7541 §4.2). */
  private max: number;
  private size = 0;
  private count = 0;
  /** Ring buffer slot of the newest entry; dynamic index i lives at `(head - i + 1) & mask`. */
  private head = 0;
  private readonly mask: number;
  private readonly names: string[];
  private readonly values: string[];

  constructor(maxTableBytes = 4096) {
    if (!Number.isInteger(maxTableBytes) || maxTableBytes < 0 || maxTableBytes > MAX_INTEGER) {
      throw new RangeError(`maxTableBytes must be an integer in [0, 2^31), got ${maxTableBytes}`);
    }
    this.limit = maxTableBytes;
    this.max = maxTableBytes;
    // Every entry costs at least 32 octets, which bounds how many the table can ever hold.
    let capacity = 1;
    while (capacity < maxTableBytes / ENTRY_OVERHEAD) capacity *= 2;
    this.mask = capacity - 1;
    this.names = packedStrings(capacity);
    this.values = packedStrings(capacity);
  }

  /** Octets the dynamic table holds, by RFC 7541 §4.1's reckoning. */
  get dynamicTableSize(): number {
    return this.size;
  }

  /** The dynamic table's current maximum size: `maxTableBytes`, or less if the peer lowered it. */
  get dynamicTableMaxSize(): number {
    return this.max;
  }

  /** The dynamic table, newest entry (index 62) first. For tests and debugging: it allocates. */
  dynamicTableEntries(): [string, string][] {
    const entries: [string, string][] = [];
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head - i) & this.mask;
      entries.push([this.names[slot]!, this.values[slot]!]);
    }
    return entries;
  }

  /**
   * Decodes the complete header block `block[start..end)`, pushing each field's name then value
   * onto `out`, and returns the header list size (RFC 9113 SETTINGS_MAX_HEADER_LIST_SIZE: octets
   * of every name and value plus 32 a field). Once that size passes `maxListBytes`, fields are no
   * longer pushed, but the block is still decoded to its end so the dynamic table stays in step
   * with the peer's encoder; the caller sees the returned size and refuses the stream.
   *
   * Throws {@link HpackError} on any malformed block; the connection is unusable after that.
   */
  decode(block: Uint8Array, start: number, end: number, out: string[], maxListBytes: number): number {
    at = start;
    let listSize = 0;
    let fieldSeen = false;
    while (at < end) {
      const first = block[at]!;
      let name: string;
      let value: string;
      if (first & 0x80) {
        // Indexed field (§6.1).
        const index = readInteger(block, end, 0x7f);
        if (index === 0) throw new HpackError('indexed field with index 0');
        if (index <= STATIC_COUNT) {
          name = STATIC_NAMES[index]!;
          value = STATIC_VALUES[index]!;
        } else {
          const slot = this.slotOf(index);
          name = this.names[slot]!;
          value = this.values[slot]!;
        }
      } else if (first & 0x40) {
        // Literal with incremental indexing (§6.2.1).
        const index = readInteger(block, end, 0x3f);
        name = index === 0 ? readString(block, end) : this.nameAt(index);
        value = readString(block, end);
        this.insert(name, value);
      } else if (first & 0x20) {
        // Dynamic table size update (§6.3): RFC 7541 §4.2 puts it before the block's first field.
        if (fieldSeen) throw new HpackError('dynamic table size update after a header field');
        const max = readInteger(block, end, 0x1f);
        if (max > this.limit) throw new HpackError(`dynamic table size update to ${max} exceeds the ${this.limit} allowed`);
        this.max = max;
        while (this.size > max) this.evictOldest();
        continue;
      } else {
        // Literal without indexing (§6.2.2) or never indexed (§6.2.3): alike to a decoder.
        const index = readInteger(block, end, 0x0f);
        name = index === 0 ? readString(block, end) : this.nameAt(index);
        value = readString(block, end);
      }
      fieldSeen = true;
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize <= maxListBytes) out.push(name, value);
    }
    return listSize;
  }

  private slotOf(index: number): number {
    const dynamicIndex = index - STATIC_COUNT;
    if (dynamicIndex > this.count) throw new HpackError(`index ${index} is past the end of the table`);
    return (this.head - dynamicIndex + 1) & this.mask;
  }

  private nameAt(index: number): string {
    return index <= STATIC_COUNT ? STATIC_NAMES[index]! : this.names[this.slotOf(index)]!;
  }

  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.max) {
      // §4.4: an entry larger than the table empties it and is not added; not an error.
      while (this.count > 0) this.evictOldest();
      return;
    }
    while (this.size + size > this.max) this.evictOldest();
    this.head = (this.head + 1) & this.mask;
    this.names[this.head] = name;
    this.values[this.head] = value;
    this.count++;
    this.size += size;
  }

  private evictOldest(): void {
    const slot = (this.head - this.count + 1) & this.mask;
    this.size -= this.names[slot]!.length + this.values[slot]!.length + ENTRY_OVERHEAD;
    // Drop the references so an evicted value's memory is not held until its slot is reused.
    this.names[slot] = '';
    this.values[slot] = '';
    this.count--;
  }
}

/** Grown by push, not `new Array(n)`, so V8 keeps the array packed: no hole checks on reads. */
function packedStrings(length: number): string[] {
  const array: string[] = [];
  for (let i = 0; i < length; i++) array.push('');
  return array;
}

export interface EncodeOptions {
  /** Huffman-code each string literal that comes out shorter that way. Default false. */
  readonly huffman?: boolean;
  /**
   * Emit literals "with incremental indexing" instead of "without indexing" (default false). The
   * encoder keeps no table either way: it never refers to the entries this makes the decoder add.
   */
  readonly index?: boolean;
}

const STATIC_FIELD_INDEX = new Map<string, Map<string, number>>();
const STATIC_NAME_INDEX = new Map<string, number>();
STATIC_TABLE.forEach(([name, value], i) => {
  let byValue = STATIC_FIELD_INDEX.get(name);
  if (byValue === undefined) STATIC_FIELD_INDEX.set(name, (byValue = new Map()));
  byValue.set(value, i + 1);
  if (!STATIC_NAME_INDEX.has(name)) STATIC_NAME_INDEX.set(name, i + 1);
});

/**
 * Encodes `fields` as one header block without any dynamic table state: a static table match is
 * an indexed field, anything else a literal (naming the static entry when the name is there).
 * Names must be lowercase (RFC 9113 §8.2.1); names and values must be latin1 strings.
 */
export function encodeHeaderBlock(fields: readonly (readonly [string, string])[], options: EncodeOptions = {}): Buffer {
  const huffman = options.huffman ?? false;
  const out: number[] = [];
  for (const [name, value] of fields) {
    if (name !== name.toLowerCase()) throw new TypeError(`header name ${JSON.stringify(name)} is not lowercase`);
    const full = STATIC_FIELD_INDEX.get(name)?.get(value);
    if (full !== undefined) {
      pushInteger(out, full, 7, 0x80);
      continue;
    }
    const nameIndex = STATIC_NAME_INDEX.get(name) ?? 0;
    if (options.index) pushInteger(out, nameIndex, 6, 0x40);
    else pushInteger(out, nameIndex, 4, 0x00);
    if (nameIndex === 0) pushString(out, name, huffman);
    pushString(out, value, huffman);
  }
  return Buffer.from(out);
}

/** `value` as an HPACK integer with an N-bit prefix (§5.1); `firstByte` carries the bits above it. */
export function encodeInteger(value: number, prefixBits: number, firstByte = 0): Buffer {
  const out: number[] = [];
  pushInteger(out, value, prefixBits, firstByte);
  return Buffer.from(out);
}

/**
 * Reads an HPACK integer with an N-bit prefix from `src[start..end)`: its value and the offset
 * after it. The decoder's own reader, exposed for tests.
 */
export function decodeInteger(src: Uint8Array, start: number, end: number, prefixBits: number): { value: number; next: number } {
  if (start >= end) throw new HpackError('no integer to read');
  at = start;
  const value = readInteger(src, end, (1 << prefixBits) - 1);
  return { value, next: at };
}

function pushInteger(out: number[], value: number, prefixBits: number, firstByte: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_INTEGER) throw new RangeError(`cannot encode integer ${value}`);
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(firstByte | value);
    return;
  }
  out.push(firstByte | max);
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

function pushString(out: number[], s: string, huffman: boolean): void {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) throw new TypeError(`HPACK strings are octets; ${JSON.stringify(s)} is not latin1`);
  }
  if (huffman && huffmanEncodedLength(s) < s.length) {
    const coded = huffmanEncode(s);
    pushInteger(out, coded.length, 7, 0x80);
    for (const octet of coded) out.push(octet);
    return;
  }
  pushInteger(out, s.length, 7, 0x00);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}
