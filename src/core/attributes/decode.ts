import { TelemuxError, type ErrorCode } from '../errors.js';
import { AttributeBag } from './bag.js';
import { GLOBAL_DICTIONARY } from './global-dictionary.js';
import type { AttributeManifest } from './manifest.js';
import { Timestamp, type AttributeValue } from './value.js';
import { ValueType, valueTypeName } from './value-type.js';
import { MalformedError, WIRE_LEN, WIRE_VARINT, WIRE_FIXED64, WireReader, utf8Slice } from './wire-reader.js';

/** A Report that cannot be accepted. `record` is the index of the offending attribute set, if any. */
export class DecodeError extends TelemuxError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly record: number | undefined,
  ) {
    super(code, record === undefined ? message : `attributes[${record}]: ${message}`);
    this.name = 'DecodeError';
  }
}

/**
 * Bounds on one attribute set, enforced while the set is read, so that checking them costs no
 * pass of its own. The Report's envelope (size, number of sets) is bounded before decoding.
 */
export interface RecordLimits {
  /** Map entries (attributes) in one set. */
  readonly maxAttributesPerSet: number;
  /** Bytes of one of the set's own words, or of a bytes value. */
  readonly maxStringBytes: number;
}

const UNLIMITED: RecordLimits = { maxAttributesPerSet: Number.POSITIVE_INFINITY, maxStringBytes: Number.POSITIVE_INFINITY };

/** An attribute set past a RecordLimits bound; the caller words the answer. */
export class RecordLimitError extends DecodeError {
  constructor(
    readonly limit: 'attributes' | 'string',
    /** What is too long, e.g. `words[1]` or `a bytes value`; empty for the attribute count. */
    readonly what: string,
    readonly found: number,
    record: number,
  ) {
    super('DECODE_RECORD_LIMIT', limit === 'attributes' ? `${found} attributes` : `${what} is ${found} bytes`, record);
    this.name = 'RecordLimitError';
  }
}

export type Semantics = 'delta' | 'independent';

export interface DecodedReport {
  readonly semantics: Semantics;
  readonly globalWordCount: number;
  /** One bag per attribute set, in order; for DELTA each is the accumulated state after that set. */
  readonly bags: readonly AttributeBag[];
}

// CompressedAttributes field numbers; also the "wire map" an attribute arrived in.
const F_WORDS = 1;
const F_STRINGS = 2;
const F_INT64S = 3;
const F_DOUBLES = 4;
const F_BOOLS = 5;
const F_TIMESTAMPS = 6;
const F_DURATIONS = 7;
const F_BYTES = 8;
const F_STRING_MAPS = 9;

const MAP_NAMES = ['', 'words', 'strings', 'int64s', 'doubles', 'bools', 'timestamps', 'durations', 'bytes', 'string_maps'];

function wireMapOf(t: ValueType): number {
  switch (t) {
    case ValueType.STRING:
    case ValueType.DNS_NAME:
    case ValueType.EMAIL_ADDRESS:
    case ValueType.URI:
      return F_STRINGS;
    case ValueType.INT64:
      return F_INT64S;
    case ValueType.DOUBLE:
      return F_DOUBLES;
    case ValueType.BOOL:
      return F_BOOLS;
    case ValueType.TIMESTAMP:
      return F_TIMESTAMPS;
    case ValueType.DURATION:
      return F_DURATIONS;
    case ValueType.IP_ADDRESS:
      return F_BYTES;
    case ValueType.STRING_MAP:
      return F_STRING_MAPS;
    default:
      return 0;
  }
}

const UNRESOLVED = -2;

/** A message dictionary (default_words or an element's words), decoded lazily word by word. */
class WordTable {
  count = 0;
  private starts: Int32Array = new Int32Array(64);
  private ends: Int32Array = new Int32Array(64);
  private strings: (string | undefined)[] = [];
  private slots: Int32Array = new Int32Array(64);
  private buf: Uint8Array = new Uint8Array(0);

  reset(buf: Uint8Array): void {
    this.buf = buf;
    for (let i = 0; i < this.count; i++) this.strings[i] = undefined;
    this.count = 0;
  }

  add(start: number, end: number): void {
    if (this.count === this.starts.length) {
      const n = this.count * 2;
      this.starts = grow(this.starts, n);
      this.ends = grow(this.ends, n);
      this.slots = grow(this.slots, n);
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.slots[this.count] = UNRESOLVED;
    this.count++;
  }

  word(i: number): string {
    let s = this.strings[i];
    if (s === undefined) {
      s = utf8Slice(this.buf, this.starts[i]!, this.ends[i]!);
      this.strings[i] = s;
    }
    return s;
  }

  slot(i: number, manifest: AttributeManifest): number {
    let s = this.slots[i]!;
    if (s === UNRESOLVED) {
      s = manifest.slotOf(this.word(i));
      this.slots[i] = s;
    }
    return s;
  }
}

function grow(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

/**
 * Decodes `istio.mixer.v1.ReportRequest` bytes straight into AttributeBags, without building the
 * intermediate protobuf object graph (spec §1.3–1.4). Bound to one config snapshot's manifest.
 *
 * Every set is decoded and validated before any is returned, so a rejected Report has no effect.
 * Bags are pooled: the result is valid until the next `decode` call, which suits the synchronous
 * decode → dispatch path. Attribute values that no compiled expression reads are validated but
 * not materialised.
 */
export class ReportDecoder {
  private readonly reader = new WireReader(new Uint8Array(0));
  private readonly globalSlots: Int32Array;
  private readonly slotMaps: Uint8Array;
  private readonly slotTypes: ValueType[];
  private readonly referenced: Uint8Array;
  private readonly defaultWords = new WordTable();
  private readonly elementWords = new WordTable();
  private words: WordTable = this.defaultWords;
  private elemStarts: Int32Array = new Int32Array(128);
  private elemEnds: Int32Array = new Int32Array(128);
  private readonly pool: AttributeBag[] = [];

  /** `referenced[slot]` non-zero means some expression reads the attribute; omit to decode all. */
  constructor(
    private readonly manifest: AttributeManifest,
    referenced?: Uint8Array,
  ) {
    const n = manifest.size;
    this.globalSlots = new Int32Array(GLOBAL_DICTIONARY.length);
    for (let i = 0; i < GLOBAL_DICTIONARY.length; i++) this.globalSlots[i] = manifest.slotOf(GLOBAL_DICTIONARY[i]!);
    this.slotTypes = manifest.attributes.map((a) => a.type);
    this.slotMaps = new Uint8Array(n);
    for (let s = 0; s < n; s++) this.slotMaps[s] = wireMapOf(this.slotTypes[s]!);
    this.referenced = referenced ?? new Uint8Array(n).fill(1);
  }

  /** The limits of the decode in progress. */
  private limits: RecordLimits = UNLIMITED;

  decode(buf: Uint8Array, limits: RecordLimits = UNLIMITED): DecodedReport {
    this.limits = limits;
    try {
      return this.decodeUnchecked(buf);
    } catch (e) {
      if (e instanceof MalformedError) {
        throw new DecodeError('DECODE_MALFORMED', `malformed ReportRequest: ${e.message}`, this.recordOrUndefined());
      }
      throw e;
    }
  }

  private recordIndex = -1;

  private recordOrUndefined(): number | undefined {
    return this.recordIndex >= 0 ? this.recordIndex : undefined;
  }

  private decodeUnchecked(buf: Uint8Array): DecodedReport {
    const r = this.reader;
    r.reset(buf);
    this.recordIndex = -1;
    this.defaultWords.reset(buf);
    let elements = 0;
    let globalWordCount = 0;
    let semanticsValue = 0;
    while (r.pos < r.end) {
      const tag = r.uint32();
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 && wt === WIRE_LEN) {
        const end = r.delimited();
        if (elements === this.elemStarts.length) {
          this.elemStarts = grow(this.elemStarts, elements * 2);
          this.elemEnds = grow(this.elemEnds, elements * 2);
        }
        this.elemStarts[elements] = r.pos;
        this.elemEnds[elements] = end;
        elements++;
        r.pos = end;
      } else if (field === 2 && wt === WIRE_LEN) {
        const end = r.delimited();
        this.defaultWords.add(r.pos, end);
        r.pos = end;
      } else if (field === 3 && wt === WIRE_VARINT) {
        globalWordCount = r.uint32();
      } else if (field === 4 && wt === WIRE_VARINT) {
        // An enum is an int32: bits past the 32nd are dropped, as Go's decoder drops them.
        semanticsValue = r.uint32() | 0;
      } else if (field === 0) {
        throw new MalformedError('field number 0');
      } else {
        r.skip(wt);
      }
    }
    if (globalWordCount > GLOBAL_DICTIONARY.length) {
      throw new DecodeError(
        'DECODE_DICTIONARY_VERSION',
        `inconsistent global dictionary versions used: mixer knows ${GLOBAL_DICTIONARY.length} words, caller knows ${globalWordCount}`,
        undefined,
      );
    }
    if (semanticsValue !== 0 && semanticsValue !== 1 && elements > 0) {
      // Mixer 1.4 switches on the two values it knows and, for any other, dispatches nothing and
      // answers OK; refused here, so that the sender learns why nothing was recorded.
      throw new DecodeError(
        'DECODE_SEMANTICS',
        `unknown repeated_attributes_semantics ${semanticsValue} (known: DELTA_ENCODING = 0, INDEPENDENT_ENCODING = 1)`,
        undefined,
      );
    }
    const semantics: Semantics = semanticsValue === 1 ? 'independent' : 'delta';
    const bags = this.bagsFor(elements);
    for (let i = 0; i < elements; i++) {
      this.recordIndex = i;
      const bag = bags[i]!;
      const prev = semantics === 'delta' && i > 0 ? bags[i - 1]! : undefined;
      resetBag(bag, prev);
      this.decodeElement(buf, this.elemStarts[i]!, this.elemEnds[i]!, bag, prev);
    }
    this.recordIndex = -1;
    return { semantics, globalWordCount, bags };
  }

  private bagsFor(n: number): AttributeBag[] {
    const size = this.manifest.size;
    while (this.pool.length < n) this.pool.push(new AttributeBag(size));
    return this.pool.length === n ? this.pool : this.pool.slice(0, n);
  }

  /**
   * One CompressedAttributes element into `bag` (already cleared, or holding the previous DELTA
   * state when `prev` is given). An element's own words, when present, replace default_words
   * for it (spec §1.3). Encoders write them first, so the map entries are decoded in the same
   * pass; words found after an entry (legal, never seen) restart the element with them.
   */
  private decodeElement(buf: Uint8Array, start: number, end: number, bag: AttributeBag, prev: AttributeBag | undefined): void {
    this.words = this.defaultWords;
    this.reader.reset(buf, start, end);
    let entries: number;
    try {
      entries = this.decodeElementInOrder(buf, start, end, bag, prev);
    } catch (e) {
      // Entries met before words later in the element were read against the wrong dictionary, so
      // a word index that only those words define looked out of range (or named another
      // attribute): read the element again with all its words.
      if (e instanceof DecodeError && !(e instanceof RecordLimitError) && wordsAfterEntries(buf, start, end)) {
        this.restartWithWords(buf, start, end, bag, prev);
        return;
      }
      throw e;
    }
    // -1: restartWithWords decoded (and bounded) the element.
    if (entries > this.limits.maxAttributesPerSet) throw new RecordLimitError('attributes', '', entries, this.recordIndex);
  }

  /**
   * The single pass of decodeElement, in wire order. Returns the number of map entries, or -1 after
   * handing the element to restartWithWords (words found after an entry).
   */
  private decodeElementInOrder(buf: Uint8Array, start: number, end: number, bag: AttributeBag, prev: AttributeBag | undefined): number {
    const r = this.reader;
    let hasWords = false;
    let entries = 0;
    while (r.pos < end) {
      const tag = buf[r.pos]! < 0x80 ? buf[r.pos++]! : r.uint32();
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === F_WORDS && wt === WIRE_LEN) {
        if (entries > 0) {
          this.restartWithWords(buf, start, end, bag, prev);
          return -1;
        }
        if (!hasWords) {
          this.elementWords.reset(buf);
          this.words = this.elementWords;
          hasWords = true;
        }
        const e = r.delimited();
        this.addElementWord(r.pos, e);
        r.pos = e;
      } else if (field >= F_STRINGS && field <= F_STRING_MAPS && wt === WIRE_LEN) {
        // Entries are short: a one-byte length is the rule.
        let entryEnd: number;
        const len = r.pos < end ? buf[r.pos]! : 0x80;
        if (len < 0x80) {
          entryEnd = r.pos + 1 + len;
          r.pos++;
          if (entryEnd > end) throw new MalformedError(`length ${len} runs past the end of the message`);
        } else {
          entryEnd = r.delimited();
        }
        this.decodeEntry(field, r.pos, entryEnd, bag);
        r.pos = entryEnd;
        r.end = end;
        entries++;
      } else {
        if (field === 0) throw new MalformedError('field number 0');
        r.skip(wt);
      }
    }
    return entries;
  }

  /** One of the element's own words; its length is bounded like any string. */
  private addElementWord(start: number, end: number): void {
    if (end - start > this.limits.maxStringBytes) throw new RecordLimitError('string', `words[${this.elementWords.count}]`, end - start, this.recordIndex);
    this.elementWords.add(start, end);
  }

  /** The rare layout with words after map entries: collect all words first, then decode again. */
  private restartWithWords(buf: Uint8Array, start: number, end: number, bag: AttributeBag, prev: AttributeBag | undefined): void {
    const r = this.reader;
    this.elementWords.reset(buf);
    r.reset(buf, start, end);
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag >>> 3 === F_WORDS && (tag & 7) === WIRE_LEN) {
        const e = r.delimited();
        this.addElementWord(r.pos, e);
        r.pos = e;
      } else {
        if (tag >>> 3 === 0) throw new MalformedError('field number 0');
        r.skip(tag & 7);
      }
    }
    this.words = this.elementWords;
    resetBag(bag, prev);
    r.reset(buf, start, end);
    let entries = 0;
    while (r.pos < end) {
      const tag = r.uint32();
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field >= F_STRINGS && field <= F_STRING_MAPS && wt === WIRE_LEN) {
        const entryEnd = r.delimited();
        this.decodeEntry(field, r.pos, entryEnd, bag);
        r.pos = entryEnd;
        r.end = end;
        entries++;
      } else {
        r.skip(wt);
      }
    }
    if (entries > this.limits.maxAttributesPerSet) throw new RecordLimitError('attributes', '', entries, this.recordIndex);
  }

  /** One map entry {1: sint32 key, 2: value}; either field may be missing (proto3 defaults). */
  private decodeEntry(map: number, entryStart: number, entryEnd: number, bag: AttributeBag): void {
    const r = this.reader;
    r.end = entryEnd;
    r.pos = entryStart;
    let key = 0;
    let valueStart = -1;
    let valueEnd = -1;
    let valueWire = -1;
    // Every encoder writes `08 <key> <value tag> <value>` and nothing else: read that directly,
    // without skipping the value first. Anything else takes the general loop below.
    const buf = r.buf;
    const expected = valueWireType(map);
    if (buf[entryStart] === 0x08) {
      if (map !== F_DOUBLES && map !== F_TIMESTAMPS && map !== F_DURATIONS && map !== F_BYTES && this.fastEntry(map, buf, entryStart, entryEnd, bag)) return;
      r.pos = entryStart + 1;
      key = r.sint32();
      if (r.pos < entryEnd && buf[r.pos] === (0x10 | expected)) {
        valueStart = r.pos + 1;
        valueEnd = valueEndAt(buf, valueStart, entryEnd, expected);
        if (valueEnd === entryEnd) {
          this.store(map, key, valueStart, valueEnd, bag);
          return;
        }
      }
      r.pos = entryStart;
      key = 0;
      valueStart = -1;
    }
    while (r.pos < entryEnd) {
      const tag = r.uint32();
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 && wt === WIRE_VARINT) {
        key = r.sint32();
      } else if (field === 2) {
        valueStart = r.pos;
        valueWire = wt;
        r.skip(wt);
        valueEnd = r.pos;
      } else {
        if (field === 0) throw new MalformedError('field number 0');
        r.skip(wt);
      }
    }
    if (valueStart >= 0 && valueWire !== expected) {
      // A value of the wrong wire type is an unknown field to protobuf: the entry keeps the default.
      valueStart = -1;
    }
    this.store(map, key, valueStart, valueEnd, bag);
  }

  /**
   * The entry kinds that make up most of a Report (strings, string maps, integers, booleans),
   * read inline when laid out as every encoder writes them and small enough (word indices of at
   * most three varint bytes, integers below 2^28). Returns false, having changed nothing, for
   * anything else; the general path then decodes the entry.
   */
  private fastEntry(map: number, buf: Uint8Array, start: number, end: number, bag: AttributeBag): boolean {
    let p = start + 1;
    let b = buf[p++]!;
    let k = b & 0x7f;
    if (b >= 0x80) {
      if (p >= end) return false;
      b = buf[p++]!;
      k |= (b & 0x7f) << 7;
      if (b >= 0x80) return false;
    }
    if (p >= end) return false;
    const key = (k >>> 1) ^ -(k & 1);
    if (map === F_STRINGS) {
      if (buf[p++] !== 0x10) return false;
      const v = this.varint21(buf, p, end);
      if (v < 0 || this.vEnd !== end) return false;
      this.storeString(key, (v >>> 1) ^ -(v & 1), bag);
      return true;
    }
    if (map === F_INT64S || map === F_BOOLS) {
      // Counts, sizes, codes and flags: non-negative and below 2^28, so four varint bytes at most.
      if (buf[p++] !== 0x10) return false;
      let v = 0;
      let shift = 0;
      for (;;) {
        if (p >= end || shift > 21) return false;
        const c = buf[p++]!;
        v |= (c & 0x7f) << shift;
        if (c < 0x80) break;
        shift += 7;
      }
      if (p !== end) return false;
      const slot = this.keySlot(key);
      if (slot < 0) return true;
      this.checkDeclared(slot, map);
      bag.values[slot] = map === F_INT64S ? v : v !== 0;
      return true;
    }
    if (buf[p++] !== 0x12 || p >= end) return false;
    const len = buf[p++]!;
    if (len >= 0x80 || p + len !== end) return false;
    // Validate the whole map's layout first, so that falling back never follows a side effect.
    const pairs = this.pairs;
    let n = 0;
    while (p < end) {
      if (buf[p] !== 0x0a || p + 1 >= end) return false;
      const elen = buf[p + 1]!;
      const eEnd = p + 2 + elen;
      if (elen >= 0x80 || eEnd > end || buf[p + 2] !== 0x08) return false;
      const mk = this.varint21(buf, p + 3, eEnd);
      if (mk < 0 || this.vEnd >= eEnd || buf[this.vEnd] !== 0x10) return false;
      const mv = this.varint21(buf, this.vEnd + 1, eEnd);
      if (mv < 0 || this.vEnd !== eEnd) return false;
      if (n + 2 > pairs.length) return false;
      pairs[n++] = (mk >>> 1) ^ -(mk & 1);
      pairs[n++] = (mv >>> 1) ^ -(mv & 1);
      p = eEnd;
    }
    const slot = this.keySlot(key);
    if (slot >= 0) this.checkDeclared(slot, F_STRING_MAPS);
    if (slot < 0 || this.referenced[slot] !== 1) {
      for (let i = 0; i < n; i++) this.checkWord(pairs[i]!);
      if (slot >= 0) bag.values[slot] = UNREAD_MAP;
      return true;
    }
    const out = new Map<string, string>();
    for (let i = 0; i < n; i += 2) out.set(this.resolveWord(pairs[i]!), this.resolveWord(pairs[i + 1]!));
    bag.values[slot] = out;
    return true;
  }

  /** Where the last varint21 ended. */
  private vEnd = 0;

  /** A varint of at most three bytes (21 bits) at `pos`, not past `end`; -1 when longer or cut off. */
  private varint21(buf: Uint8Array, pos: number, end: number): number {
    let v = 0;
    for (let shift = 0; shift < 21; shift += 7) {
      if (pos >= end) return -1;
      const b = buf[pos++]!;
      v |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.vEnd = pos;
        return v;
      }
    }
    return -1;
  }
  /** Word indices of one string map, key and value alternating (at most 64 entries inline). */
  private readonly pairs = new Int32Array(128);

  private storeString(key: number, idx: number, bag: AttributeBag): void {
    const slot = this.keySlot(key);
    if (slot < 0) {
      this.checkWord(idx);
      return;
    }
    this.checkDeclared(slot, F_STRINGS);
    if (this.referenced[slot] === 1) {
      bag.values[slot] = this.resolveWord(idx);
    } else {
      this.checkWord(idx);
      bag.values[slot] = '';
    }
  }

  private checkDeclared(slot: number, map: number): void {
    if (this.slotMaps[slot] === map) return;
    const name = this.manifest.attributes[slot]!.name;
    throw new DecodeError(
      'DECODE_TYPE_MISMATCH',
      `attribute '${name}' is declared ${valueTypeName(this.slotTypes[slot]!)} in the attribute manifest but arrived in the '${MAP_NAMES[map]}' map`,
      this.recordOrUndefined(),
    );
  }

  /** Validates the entry's value and, if its attribute is in the vocabulary, records it. */
  private store(map: number, key: number, valueStart: number, valueEnd: number, bag: AttributeBag): void {
    const r = this.reader;
    if (map === F_BYTES && valueStart >= 0) {
      const len = valueEnd - valueStart - lengthPrefixSize(r.buf, valueStart);
      if (len > this.limits.maxStringBytes) throw new RecordLimitError('string', 'a bytes value', len, this.recordIndex);
    }
    if ((map === F_TIMESTAMPS || map === F_DURATIONS) && valueStart >= 0) {
      // Validated whatever the attribute: Mixer's gogo decoder (stdtime/stdduration) refuses the
      // whole request on any out-of-range value. readValue then uses what this read.
      r.reset(r.buf, valueStart, valueEnd);
      this.readSecondsNanos(r.delimited());
      const problem = map === F_TIMESTAMPS ? timestampProblem(this.seconds, this.nanos) : durationProblem(this.seconds, this.nanos);
      if (problem !== undefined) {
        throw new DecodeError('DECODE_MALFORMED', `invalid ${MAP_NAMES[map]} value {seconds: ${this.seconds}, nanos: ${this.nanos}}: ${problem}`, this.recordOrUndefined());
      }
    }
    const slot = this.keySlot(key);
    if (slot < 0) {
      // Not in the vocabulary: never read, but string word indices must still be valid.
      if (map === F_STRINGS && valueStart >= 0) {
        r.reset(r.buf, valueStart, valueEnd);
        this.checkWord(r.sint32());
      } else if (map === F_STRING_MAPS && valueStart >= 0) {
        this.readStringMap(valueStart + lengthPrefixSize(r.buf, valueStart), valueEnd, false);
      }
      return;
    }
    this.checkDeclared(slot, map);
    // Mixer rejects one name in two maps of a DELTA element; here that cannot pass the type check
    // above, and twice in the same map is protobuf's "last entry wins".
    const materialise = this.referenced[slot] === 1;
    bag.values[slot] = this.readValue(map, valueStart, valueEnd, materialise, slot);
  }

  private readValue(map: number, start: number, end: number, materialise: boolean, slot: number): AttributeValue | undefined {
    const r = this.reader;
    const present = start >= 0;
    if (present) r.reset(r.buf, start, end);
    switch (map) {
      case F_STRINGS: {
        const idx = present ? r.sint32() : 0;
        return materialise ? this.resolveWord(idx) : (this.checkWord(idx), '');
      }
      case F_INT64S:
        return present ? r.int64Exact() : 0;
      case F_DOUBLES:
        return present ? r.double() : 0;
      case F_BOOLS:
        return present ? r.bool() : false;
      // Seconds and nanos were read and validated by store.
      case F_TIMESTAMPS:
        // No value at all is Go's zero time.Time (gogo decodes the entry into new(time.Time)); an
        // empty value is the Unix epoch.
        if (!present) return new Timestamp(MIN_TIMESTAMP_SECONDS, 0);
        return materialise ? new Timestamp(this.seconds, this.nanos) : EPOCH;
      case F_DURATIONS:
        if (!present) return 0;
        return this.seconds * 1e9 + this.nanos;
      case F_BYTES: {
        const inner = present ? r.delimited() : start;
        const len = present ? inner - r.pos : 0;
        if (len !== 4 && len !== 16) {
          const name = this.manifest.attributes[slot]!.name;
          throw new DecodeError('DECODE_TYPE_MISMATCH', `attribute '${name}' is an IP_ADDRESS but has ${len} bytes (want 4 or 16)`, this.recordOrUndefined());
        }
        // A copy: a view would keep the whole request's bytes alive for as long as the value lives.
        return materialise ? new Uint8Array(r.buf.subarray(r.pos, inner)) : EMPTY_IP;
      }
      case F_STRING_MAPS: {
        if (!present) return new Map<string, string>();
        const innerEnd = r.delimited();
        return this.readStringMap(r.pos, innerEnd, materialise);
      }
      default:
        return undefined;
    }
  }

  // Out-parameters of readSecondsNanos (a tuple would be an allocation per timestamp).
  private seconds = 0;
  private nanos = 0;

  private readSecondsNanos(end: number): void {
    const r = this.reader;
    let seconds = 0;
    let nanos = 0;
    r.end = end;
    while (r.pos < end) {
      const tag = r.uint32();
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 && wt === WIRE_VARINT) seconds = r.int64();
      else if (field === 2 && wt === WIRE_VARINT) nanos = r.int64() | 0;
      else {
        if (field === 0) throw new MalformedError('field number 0');
        r.skip(wt);
      }
    }
    this.seconds = seconds;
    this.nanos = nanos;
  }

  /** StringMap {1: repeated entry {1: sint32 key, 2: sint32 value}}. */
  private readStringMap(start: number, end: number, materialise: boolean): ReadonlyMap<string, string> {
    const r = this.reader;
    const out = materialise ? new Map<string, string>() : UNREAD_MAP;
    r.reset(r.buf, start, end);
    while (r.pos < end) {
      const tag = r.uint32();
      const wt = tag & 7;
      if (tag >>> 3 === 1 && wt === WIRE_LEN) {
        const entryEnd = r.delimited();
        let k = 0;
        let v = 0;
        r.end = entryEnd;
        while (r.pos < entryEnd) {
          const t = r.uint32();
          const f = t >>> 3;
          if (f === 1 && (t & 7) === WIRE_VARINT) k = r.sint32();
          else if (f === 2 && (t & 7) === WIRE_VARINT) v = r.sint32();
          else {
            if (f === 0) throw new MalformedError('field number 0');
            r.skip(t & 7);
          }
        }
        r.end = end;
        if (materialise) (out as Map<string, string>).set(this.resolveWord(k), this.resolveWord(v));
        else {
          this.checkWord(k);
          this.checkWord(v);
        }
      } else {
        if (tag >>> 3 === 0) throw new MalformedError('field number 0');
        r.skip(wt);
      }
    }
    return out;
  }

  private keySlot(index: number): number {
    if (index >= 0) {
      if (index >= GLOBAL_DICTIONARY.length) this.badIndex(index);
      return this.globalSlots[index]!;
    }
    const w = -index - 1;
    if (w >= this.words.count) this.badIndex(index);
    return this.words.slot(w, this.manifest);
  }

  private resolveWord(index: number): string {
    if (index >= 0) {
      if (index >= GLOBAL_DICTIONARY.length) this.badIndex(index);
      return GLOBAL_DICTIONARY[index]!;
    }
    const w = -index - 1;
    if (w >= this.words.count) this.badIndex(index);
    return this.words.word(w);
  }

  private checkWord(index: number): void {
    if (index >= GLOBAL_DICTIONARY.length || -index - 1 >= this.words.count) this.badIndex(index);
  }

  private badIndex(index: number): never {
    const which = this.words === this.elementWords ? 'words' : 'default_words';
    throw new DecodeError(
      'DECODE_WORD_INDEX',
      `attribute index ${index} is not defined in the available dictionaries (global dictionary has ${GLOBAL_DICTIONARY.length} words, ${which} has ${this.words.count})`,
      this.recordOrUndefined(),
    );
  }
}

// Stand-ins stored for attributes that no expression reads: present, never looked at.
const EMPTY_IP = new Uint8Array(4);
const EPOCH = new Timestamp(0, 0);
const UNREAD_MAP: ReadonlyMap<string, string> = new Map<string, string>();

/** A bag at the start of an element: empty, or the previous DELTA state. */
function resetBag(bag: AttributeBag, prev: AttributeBag | undefined): void {
  if (prev === undefined) {
    bag.clear();
    return;
  }
  const from = prev.values;
  const to = bag.values;
  for (let s = 0; s < from.length; s++) to[s] = from[s];
}

/**
 * End of a map entry's value starting at `pos` with wire type `wt`, or -1 when it does not fit
 * before `end` (the general path then reports or tolerates it).
 */
function valueEndAt(buf: Uint8Array, pos: number, end: number, wt: number): number {
  if (wt === WIRE_VARINT) {
    for (let i = 0; i < 10 && pos + i < end; i++) if (buf[pos + i]! < 0x80) return pos + i + 1;
    return -1;
  }
  if (wt === WIRE_FIXED64) return pos + 8 <= end ? pos + 8 : -1;
  // Length-delimited: a varint length, then that many bytes.
  let len = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (pos >= end) return -1;
    const b = buf[pos++]!;
    len += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return pos + len <= end ? pos + len : -1;
    shift += 7;
  }
  return -1;
}

function valueWireType(map: number): number {
  if (map === F_DOUBLES) return WIRE_FIXED64;
  if (map === F_TIMESTAMPS || map === F_DURATIONS || map === F_BYTES || map === F_STRING_MAPS) return WIRE_LEN;
  return WIRE_VARINT;
}

function lengthPrefixSize(buf: Uint8Array, pos: number): number {
  let n = 0;
  while (buf[pos + n]! >= 0x80) n++;
  return n + 1;
}

// google.protobuf.Timestamp's valid range, 0001-01-01T00:00:00Z up to (excluding) 10000-01-01.
const MIN_TIMESTAMP_SECONDS = -62_135_596_800;
const MAX_TIMESTAMP_SECONDS = 253_402_300_800;
// time.Duration is int64 nanoseconds: at most 9223372036.854775807 s either way.
const MAX_DURATION_SECONDS = 9_223_372_036;

/** Why gogo's TimestampFromProto would refuse the value, or undefined. */
function timestampProblem(seconds: number, nanos: number): string | undefined {
  if (seconds < MIN_TIMESTAMP_SECONDS) return 'before 0001-01-01';
  if (seconds >= MAX_TIMESTAMP_SECONDS) return 'after 10000-01-01';
  if (nanos < 0 || nanos >= 1e9) return 'nanos not in range [0, 1e9)';
  return undefined;
}

/** Why gogo's DurationFromProto would refuse the value (including overflowing time.Duration), or undefined. */
function durationProblem(seconds: number, nanos: number): string | undefined {
  if (nanos <= -1e9 || nanos >= 1e9) return 'nanos out of range';
  if ((seconds < 0 && nanos > 0) || (seconds > 0 && nanos < 0)) return 'seconds and nanos have different signs';
  if (
    seconds > MAX_DURATION_SECONDS ||
    seconds < -MAX_DURATION_SECONDS ||
    (seconds === MAX_DURATION_SECONDS && nanos > 854_775_807) ||
    (seconds === -MAX_DURATION_SECONDS && nanos < -854_775_808)
  ) {
    return 'out of range for time.Duration';
  }
  return undefined;
}

/** Whether an element (already read once, so well-formed up to where it failed) has words after a map entry. */
function wordsAfterEntries(buf: Uint8Array, start: number, end: number): boolean {
  const r = new WireReader(buf);
  r.reset(buf, start, end);
  let entries = false;
  try {
    while (r.pos < end) {
      const tag = r.uint32();
      const field = tag >>> 3;
      if (field === F_WORDS && entries) return true;
      if (field >= F_STRINGS && field <= F_STRING_MAPS) entries = true;
      r.skip(tag & 7);
    }
  } catch (e) {
    // Malformed further on: the first error stands.
    if (e instanceof MalformedError) return false;
    throw e;
  }
  return false;
}
