import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, ReportDecoder } from '../../../src/core/attributes/decode.js';
import { GLOBAL_DICTIONARY } from '../../../src/core/attributes/global-dictionary.js';
import { Timestamp, type AttributeValue } from '../../../src/core/attributes/value.js';
import { ValueType } from '../../../src/core/attributes/value-type.js';
import { buildReport, type AttributeSet } from '../../../src/client/compressor.js';
import type { CompressedAttributes } from '../../../src/gen/istio/mixer/v1/attributes.js';
import type { ReportRequest } from '../../../src/gen/istio/mixer/v1/mixer.js';
import { int64Value } from '../../support/int64-arbitrary.js';
import { referenceDecode } from '../../support/reference-decode.js';
import { istioManifest, istioVocabulary } from '../../support/vocabulary.js';

/**
 * The hand-written decoder reads the layout every encoder writes on a fast path and anything else
 * on a general one. These tests encode the same messages in the layouts protobuf also allows
 * (fields in any order, repeated fields, unknown fields, non-minimal varints, an element's own
 * words after its maps) and require the ts-proto reference to agree with the decoder on all.
 */

const manifest = istioManifest();

/** How one map entry is laid out on the wire. */
type Layout = 'canonical' | 'value-first' | 'unknown-field' | 'repeated-value' | 'padded-key' | 'no-key';

interface Options {
  readonly layout: (i: number) => Layout;
  /** Elements that carry their own words (default_words, altered), written after their maps. */
  readonly wordsLast: (element: number) => boolean;
}

/** A varint with one redundant continuation byte: legal, never written by encoders. */
function paddedVarint(w: BinaryWriter, v: number): void {
  const bytes: number[] = [];
  let n = v >>> 0;
  do {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  } while (n > 0);
  bytes.push(0);
  w.raw(Uint8Array.from(bytes));
}

function zigzag(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

function writeEntry(w: BinaryWriter, field: number, key: number, layout: Layout, value: (w: BinaryWriter) => void, junkValue: (w: BinaryWriter) => void): void {
  w.uint32((field << 3) | WireType.LengthDelimited).fork();
  const writeKey = (): void => {
    if (layout === 'padded-key') {
      w.uint32((1 << 3) | WireType.Varint);
      paddedVarint(w, zigzag(key));
    } else if (layout !== 'no-key' || key !== 0) {
      w.uint32((1 << 3) | WireType.Varint).sint32(key);
    }
  };
  if (layout === 'value-first') {
    value(w);
    writeKey();
  } else if (layout === 'repeated-value') {
    writeKey();
    junkValue(w);
    value(w);
  } else {
    writeKey();
    value(w);
    if (layout === 'unknown-field') w.uint32((7 << 3) | WireType.Varint).uint32(12345);
  }
  w.join();
}

function encodeElement(el: CompressedAttributes, words: readonly string[] | undefined, opts: Options, counter: { n: number }): Uint8Array {
  const w = new BinaryWriter();
  const entry = (field: number, key: number, value: (w: BinaryWriter) => void, junk: (w: BinaryWriter) => void): void =>
    writeEntry(w, field, key, opts.layout(counter.n++), value, junk);
  const str = (v: number) => (x: BinaryWriter) => x.uint32((2 << 3) | WireType.Varint).sint32(v);
  for (const [k, v] of Object.entries(el.strings)) entry(2, Number(k), str(v), str(0));
  for (const [k, v] of Object.entries(el.int64s)) entry(3, Number(k), (x) => x.uint32((2 << 3) | WireType.Varint).int64(v), (x) => x.uint32((2 << 3) | WireType.Varint).int64(7));
  for (const [k, v] of Object.entries(el.doubles)) entry(4, Number(k), (x) => x.uint32((2 << 3) | WireType.Bit64).double(v), (x) => x.uint32((2 << 3) | WireType.Bit64).double(1.5));
  for (const [k, v] of Object.entries(el.bools)) entry(5, Number(k), (x) => x.uint32((2 << 3) | WireType.Varint).bool(v), (x) => x.uint32((2 << 3) | WireType.Varint).bool(!v));
  const secondsNanos = (s: bigint, n: number) => (x: BinaryWriter) => {
    x.uint32((2 << 3) | WireType.LengthDelimited).fork();
    if (s !== 0n) x.uint32((1 << 3) | WireType.Varint).int64(s);
    if (n !== 0) x.uint32((2 << 3) | WireType.Varint).int32(n);
    x.join();
  };
  for (const [k, v] of Object.entries(el.timestamps)) entry(6, Number(k), secondsNanos(v.seconds, v.nanos), secondsNanos(1n, 1));
  for (const [k, v] of Object.entries(el.durations)) entry(7, Number(k), secondsNanos(v.seconds, v.nanos), secondsNanos(2n, 2));
  for (const [k, v] of Object.entries(el.bytes)) entry(8, Number(k), (x) => x.uint32((2 << 3) | WireType.LengthDelimited).bytes(v), (x) => x.uint32((2 << 3) | WireType.LengthDelimited).bytes(new Uint8Array(4)));
  const stringMap = (entries: Record<number, number>, layoutOf: () => Layout) => (x: BinaryWriter) => {
    x.uint32((2 << 3) | WireType.LengthDelimited).fork();
    for (const [mk, mv] of Object.entries(entries)) writeEntry(x, 1, Number(mk), layoutOf(), str(mv), str(0));
    x.join();
  };
  for (const [k, v] of Object.entries(el.stringMaps)) entry(9, Number(k), stringMap(v.entries, () => opts.layout(counter.n++)), stringMap({}, () => 'canonical'));
  if (words !== undefined) for (const word of words) w.uint32((1 << 3) | WireType.LengthDelimited).string(word);
  return w.finish();
}

function encodeWithLayouts(req: ReportRequest, opts: Options): Uint8Array {
  const w = new BinaryWriter();
  const counter = { n: 0 };
  req.attributes.forEach((el, i) => {
    // A dictionary of its own that differs from default_words, so using the wrong one shows.
    const own = opts.wordsLast(i) ? req.defaultWords.map((word) => `${word}!`) : undefined;
    w.uint32((1 << 3) | WireType.LengthDelimited).bytes(encodeElement(el, own, opts, counter));
  });
  for (const word of req.defaultWords) w.uint32((2 << 3) | WireType.LengthDelimited).string(word);
  w.uint32((3 << 3) | WireType.Varint).uint32(req.globalWordCount);
  w.uint32((4 << 3) | WireType.Varint).int32(req.repeatedAttributesSemantics);
  return w.finish();
}

function decodeMaps(buf: Uint8Array): Map<string, AttributeValue>[] {
  return new ReportDecoder(manifest).decode(buf).bags.map((b) => {
    const out = new Map<string, AttributeValue>();
    b.values.forEach((v, slot) => {
      if (v !== undefined) out.set(manifest.attributes[slot]!.name, v);
    });
    return out;
  });
}

function outcome(f: () => unknown): unknown {
  try {
    return f();
  } catch (e) {
    return e instanceof DecodeError ? { error: e.code } : { threw: String(e) };
  }
}

describe('Report decoding of every legal layout', () => {
  const vocab = istioVocabulary();
  const word = fc.oneof(fc.constantFrom(...GLOBAL_DICTIONARY.slice(0, 40)), fc.string({ maxLength: 8 }));
  const valueOf = (t: ValueType): fc.Arbitrary<AttributeValue> => {
    switch (t) {
      case ValueType.INT64:
        return int64Value;
      case ValueType.DOUBLE:
        return fc.double({ noNaN: true });
      case ValueType.BOOL:
        return fc.boolean();
      case ValueType.TIMESTAMP:
        return fc.tuple(fc.integer({ min: 0, max: 4e9 }), fc.integer({ min: 0, max: 999_999_999 })).map(([s, n]) => new Timestamp(s, n));
      case ValueType.DURATION:
        return fc.integer({ min: 0, max: 2 ** 50 });
      case ValueType.IP_ADDRESS:
        return fc.uint8Array({ minLength: 4, maxLength: 4 });
      case ValueType.STRING_MAP:
        return fc.dictionary(word, word, { maxKeys: 4 }).map((o) => new Map(Object.entries(o)));
      default:
        return word;
    }
  };
  const attr = fc.constantFrom(...vocab).chain((a) => valueOf(a.type).map((v) => [a.name, { type: a.type, value: v }] as const));
  const set = fc.array(attr, { maxLength: 20 }).map((pairs) => Object.fromEntries(pairs) as AttributeSet);
  const layout = fc.constantFrom<Layout>('canonical', 'value-first', 'unknown-field', 'repeated-value', 'padded-key', 'no-key');

  it('agrees with the generated ts-proto decoder whatever the field order, repetition and varint padding', () => {
    fc.assert(
      fc.property(fc.array(set, { minLength: 1, maxLength: 5 }), fc.boolean(), fc.array(layout, { minLength: 1, maxLength: 16 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }), (sets, delta, layouts, wordsLast) => {
        const req = buildReport(sets, { semantics: delta ? 'delta' : 'independent' });
        const buf = encodeWithLayouts(req, { layout: (i) => layouts[i % layouts.length]!, wordsLast: (e) => wordsLast[e % wordsLast.length]! });
        expect(outcome(() => decodeMaps(buf))).toEqual(outcome(() => referenceDecode(buf, manifest)));
      }),
      { numRuns: 300 },
    );
  });

  it("uses an element's own words even when they come after its maps", () => {
    const el = (path: number): CompressedAttributes => ({ words: [], strings: { 17: path }, int64s: {}, doubles: {}, bools: {}, timestamps: {}, durations: {}, bytes: {}, stringMaps: {} });
    const canonical: Options = { layout: () => 'canonical', wordsLast: () => false };
    const w = new BinaryWriter();
    // Element 0 names word -1 and brings its own dictionary after its maps; element 1 uses default_words.
    w.uint32((1 << 3) | WireType.LengthDelimited).bytes(encodeElement(el(-1), ['/own'], canonical, { n: 0 }));
    w.uint32((1 << 3) | WireType.LengthDelimited).bytes(encodeElement(el(-1), undefined, canonical, { n: 0 }));
    w.uint32((2 << 3) | WireType.LengthDelimited).string('/shared');
    w.uint32((4 << 3) | WireType.Varint).int32(1);
    const buf = w.finish();
    expect(decodeMaps(buf).map((m) => m.get('request.path'))).toEqual(['/own', '/shared']);
    expect(decodeMaps(buf)).toEqual(referenceDecode(buf, manifest));
  });

  it("resolves indices that only an element's later words define, in keys, values and string maps", () => {
    // default_words has one word; the element's own three words, written last, define -2 and -3.
    const el: CompressedAttributes = {
      words: [],
      strings: { 17: -2 },
      int64s: {},
      doubles: {},
      bools: {},
      timestamps: {},
      durations: {},
      bytes: {},
      stringMaps: { 15: { entries: { [-3]: -2 } } },
    };
    const canonical: Options = { layout: () => 'canonical', wordsLast: () => false };
    for (const semantics of [0, 1]) {
      const w = new BinaryWriter();
      w.uint32((1 << 3) | WireType.LengthDelimited).bytes(encodeElement(el, ['x', '/own', 'user-agent'], canonical, { n: 0 }));
      w.uint32((2 << 3) | WireType.LengthDelimited).string('/shared');
      w.uint32((4 << 3) | WireType.Varint).int32(semantics);
      const buf = w.finish();
      const [bag] = decodeMaps(buf);
      expect(bag!.get('request.path')).toBe('/own');
      expect(bag!.get('request.headers')).toEqual(new Map([['user-agent', '/own']]));
      expect(decodeMaps(buf)).toEqual(referenceDecode(buf, manifest));
    }
    // Without words anywhere in the element, the same index is still out of range.
    const w = new BinaryWriter();
    w.uint32((1 << 3) | WireType.LengthDelimited).bytes(encodeElement(el, undefined, canonical, { n: 0 }));
    w.uint32((2 << 3) | WireType.LengthDelimited).string('/shared');
    expect(() => decodeMaps(w.finish())).toThrow(/attributes\[0\]: attribute index -2 is not defined/);
  });
});

describe('unknown fields', () => {
  /** One unknown field of every wire type, the last a group holding a varint and a nested group. */
  function unknowns(w: BinaryWriter): void {
    w.uint32((100 << 3) | WireType.Varint).uint64(2n ** 63n);
    w.uint32((101 << 3) | WireType.Bit64).fixed64(7n);
    w.uint32((102 << 3) | WireType.LengthDelimited).string('unknown');
    w.uint32((103 << 3) | WireType.Bit32).fixed32(7);
    w.uint32((104 << 3) | WireType.StartGroup);
    w.uint32((1 << 3) | WireType.Varint).uint32(1);
    w.uint32((2 << 3) | WireType.StartGroup);
    w.uint32((1 << 3) | WireType.LengthDelimited).string('nested');
    w.uint32((2 << 3) | WireType.EndGroup);
    w.uint32((104 << 3) | WireType.EndGroup);
  }

  /** A Report of one set (request.path, request.headers, request.time), with `junk` written into every message of it. */
  function report(junk: (w: BinaryWriter) => void): Uint8Array {
    const el = new BinaryWriter();
    junk(el);
    el.uint32((2 << 3) | WireType.LengthDelimited).fork();
    el.uint32((1 << 3) | WireType.Varint).sint32(17);
    junk(el);
    el.uint32((2 << 3) | WireType.Varint).sint32(-1);
    el.join();
    el.uint32((9 << 3) | WireType.LengthDelimited).fork();
    el.uint32((1 << 3) | WireType.Varint).sint32(15);
    el.uint32((2 << 3) | WireType.LengthDelimited).fork();
    junk(el);
    el.uint32((1 << 3) | WireType.LengthDelimited).fork();
    el.uint32((1 << 3) | WireType.Varint).sint32(86);
    junk(el);
    el.uint32((2 << 3) | WireType.Varint).sint32(-2);
    el.join();
    el.join();
    el.join();
    el.uint32((6 << 3) | WireType.LengthDelimited).fork();
    el.uint32((1 << 3) | WireType.Varint).sint32(24);
    el.uint32((2 << 3) | WireType.LengthDelimited).fork();
    el.uint32((1 << 3) | WireType.Varint).int64(5);
    junk(el);
    el.uint32((2 << 3) | WireType.Varint).int32(7);
    el.join();
    el.join();
    junk(el);
    const w = new BinaryWriter();
    junk(w);
    w.uint32((1 << 3) | WireType.LengthDelimited).bytes(el.finish());
    w.uint32((2 << 3) | WireType.LengthDelimited).string('/p');
    junk(w);
    w.uint32((2 << 3) | WireType.LengthDelimited).string('curl');
    w.uint32((4 << 3) | WireType.Varint).int32(1);
    junk(w);
    return w.finish();
  }

  it('skips unknown fields of every wire type, groups included, in every message of a Report', () => {
    const expected = [
      new Map<string, AttributeValue>([
        ['request.path', '/p'],
        ['request.headers', new Map([['user-agent', 'curl']])],
        ['request.time', new Timestamp(5, 7)],
      ]),
    ];
    expect(decodeMaps(report(() => {}))).toEqual(expected);
    expect(decodeMaps(report(unknowns))).toEqual(expected);
  });

  it('still rejects an end-group tag without its start, and a group that never ends, as malformed', () => {
    expect(outcome(() => decodeMaps(report((w) => w.uint32((104 << 3) | WireType.EndGroup))))).toEqual({ error: 'DECODE_MALFORMED' });
    const open = new BinaryWriter();
    open.uint32((4 << 3) | WireType.Varint).int32(1);
    open.uint32((104 << 3) | WireType.StartGroup).uint32((1 << 3) | WireType.Varint).uint32(1);
    expect(outcome(() => decodeMaps(open.finish()))).toEqual({ error: 'DECODE_MALFORMED' });
  });
});

describe('map entries with proto3 defaults left off the wire', () => {
  /** One INDEPENDENT set made of `entries`, each `[map field, entry bytes]`. */
  function report(entries: readonly (readonly [number, (w: BinaryWriter) => void])[]): Uint8Array {
    const el = new BinaryWriter();
    for (const [field, body] of entries) {
      el.uint32((field << 3) | WireType.LengthDelimited).fork();
      body(el);
      el.join();
    }
    const w = new BinaryWriter();
    w.uint32((1 << 3) | WireType.LengthDelimited).bytes(el.finish());
    w.uint32((4 << 3) | WireType.Varint).int32(1);
    return w.finish();
  }
  const key = (k: number) => (w: BinaryWriter) => void w.uint32((1 << 3) | WireType.Varint).sint32(k);

  it('reads a missing value as its type default, and a missing key as index 0 (source.ip)', () => {
    const [bag] = decodeMaps(
      report([
        [2, key(17)], // request.path = word 0
        [3, key(23)], // request.size = 0
        [5, key(177)], // connection.mtls = false
        [7, key(29)], // response.duration = 0
        [9, key(15)], // request.headers = {}
        [8, (w) => void w.uint32((2 << 3) | WireType.LengthDelimited).bytes(Uint8Array.of(10, 0, 0, 1))], // key 0: source.ip
      ]),
    );
    expect(bag).toEqual(
      new Map<string, AttributeValue>([
        ['request.path', GLOBAL_DICTIONARY[0]!],
        ['request.size', 0],
        ['connection.mtls', false],
        ['response.duration', 0],
        ['request.headers', new Map()],
        ['source.ip', Uint8Array.of(10, 0, 0, 1)],
      ]),
    );
  });

  it("reads a timestamp entry without a value as Go's zero time.Time (0001-01-01T00:00:00Z), and one with an empty value as the Unix epoch", () => {
    // gogo decodes the entry into new(time.Time), which only an explicit value overwrites.
    expect(decodeMaps(report([[6, key(24)]]))[0]!.get('request.time')).toEqual(new Timestamp(-62_135_596_800, 0));
    const empty = (w: BinaryWriter): void => {
      key(24)(w);
      w.uint32((2 << 3) | WireType.LengthDelimited).bytes(new Uint8Array(0));
    };
    expect(decodeMaps(report([[6, empty]]))[0]!.get('request.time')).toEqual(new Timestamp(0, 0));
  });
});
