import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodeError, ReportDecoder } from '../../../src/core/attributes/decode.js';
import { GLOBAL_DICTIONARY } from '../../../src/core/attributes/global-dictionary.js';
import { Timestamp, type AttributeValue } from '../../../src/core/attributes/value.js';
import { ValueType } from '../../../src/core/attributes/value-type.js';
import { type AttributeSet, bool, buildReport, dur, encodeReport, int, ip, smap, str, ts, dbl } from '../../../src/client/compressor.js';
import { ReportRequest } from '../../../src/gen/istio/mixer/v1/mixer.js';
import { appendixA } from '../../support/appendix-a.js';
import { int64Value } from '../../support/int64-arbitrary.js';
import { referenceDecode } from '../../support/reference-decode.js';
import { SHARED_DATA, istioManifest, istioVocabulary } from '../../support/vocabulary.js';

const manifest = istioManifest();

function bagAsMap(values: readonly (AttributeValue | undefined)[]): Map<string, AttributeValue> {
  const out = new Map<string, AttributeValue>();
  values.forEach((v, slot) => {
    if (v !== undefined) out.set(manifest.attributes[slot]!.name, v);
  });
  return out;
}

function decode(buf: Uint8Array): Map<string, AttributeValue>[] {
  return new ReportDecoder(manifest).decode(buf).bags.map((b) => bagAsMap(b.values));
}

function decodeError(buf: Uint8Array): DecodeError {
  try {
    new ReportDecoder(manifest).decode(buf);
  } catch (e) {
    if (e instanceof DecodeError) return e;
    throw e;
  }
  throw new Error('expected a DecodeError');
}

describe('Report decoding', () => {
  it('uses the 222-word dictionary in its raw wire spelling', () => {
    expect(GLOBAL_DICTIONARY).toHaveLength(222);
    // Word for word and in order, as the shared copy of istio/api's global_dictionary.yaml has it (spec §2).
    expect(GLOBAL_DICTIONARY).toEqual(readFileSync(`${SHARED_DATA}mixer-global-dictionary.txt`, 'utf8').split('\n').slice(0, -1));
    expect(GLOBAL_DICTIONARY[94]).toBe("'200'");
    expect(GLOBAL_DICTIONARY[218]).toBe('"-"');
    expect(GLOBAL_DICTIONARY[131]).toBe('context.protocol');
    expect(GLOBAL_DICTIONARY[221]).toBe('context.proxy_version');
  });

  it('decodes the spec Appendix A request into exactly its ten attributes', () => {
    const [bag] = decode(ReportRequest.encode(appendixA()).finish());
    expect(bag).toEqual(
      new Map<string, AttributeValue>([
        ['context.protocol', 'http'],
        ['context.reporter.kind', 'inbound'],
        ['request.size', 123],
        ['response.code', 200],
        ['response.duration', 12_500_000],
        ['context.proxy_error_code', '-'],
        ['destination.service.host', 'reviews.default.svc.cluster.local'],
        ['request.headers', new Map([['user-agent', 'curl/7.58'], [':authority', 'reviews:9080']])],
        ['destination.ip', new Uint8Array([10, 0, 0, 5])],
        ['connection.mtls', true],
      ]),
    );
  });

  it('decodes INDEPENDENT sets each on their own', () => {
    const sets: AttributeSet[] = [
      { 'request.path': str('/a'), 'response.code': int(200) },
      { 'request.method': str('GET') },
    ];
    const bags = decode(encodeReport(buildReport(sets)));
    expect(bags[0]).toEqual(new Map<string, AttributeValue>([['request.path', '/a'], ['response.code', 200]]));
    expect(bags[1]).toEqual(new Map<string, AttributeValue>([['request.method', 'GET']]));
  });

  it('applies DELTA sets on top of the accumulated bag: later values override, absent ones are inherited', () => {
    const sets: AttributeSet[] = [
      { 'request.path': str('/a'), 'response.code': int(200), 'source.namespace': str('default') },
      { 'response.code': int(503) },
      { 'request.path': str('/b') },
    ];
    const bags = decode(encodeReport(buildReport(sets, { semantics: 'delta' })));
    expect(bags.map((b) => [b.get('request.path'), b.get('response.code'), b.get('source.namespace')])).toEqual([
      ['/a', 200, 'default'],
      ['/a', 503, 'default'],
      ['/b', 503, 'default'],
    ]);
  });

  it('treats an omitted semantics field as DELTA, the proto3 default', () => {
    const req = buildReport([{ 'request.path': str('/a') }, { 'response.code': int(1) }]);
    req.repeatedAttributesSemantics = 0;
    const bags = decode(encodeReport(req));
    expect(bags[1]!.get('request.path')).toBe('/a');
  });

  it('refuses a repeated_attributes_semantics other than DELTA (0) or INDEPENDENT (1), reading the enum as an int32 as Go does', () => {
    const sets: AttributeSet[] = [{ 'request.path': str('/a') }, { 'response.code': int(1) }];
    const withSemantics = (v: bigint): Uint8Array => {
      const w = new BinaryWriter();
      w.raw(encodeReport(buildReport(sets, { semantics: 'independent' })));
      // A later occurrence of the field wins.
      w.uint32((4 << 3) | WireType.Varint).uint64(v);
      return w.finish();
    };
    const err = decodeError(withSemantics(2n));
    expect(err.code).toBe('DECODE_SEMANTICS');
    expect(err.record).toBeUndefined();
    expect(err.message).toBe('unknown repeated_attributes_semantics 2 (known: DELTA_ENCODING = 0, INDEPENDENT_ENCODING = 1)');
    expect(decodeError(withSemantics(2n ** 64n - 1n)).message).toMatch(/^unknown repeated_attributes_semantics -1 /);
    // 2^32 + 1 is 1 in an int32: INDEPENDENT.
    expect(decode(withSemantics(2n ** 32n + 1n))[1]!.get('request.path')).toBeUndefined();
    // Nothing to decode, nothing to refuse: Mixer answers an empty Report OK whatever it says.
    const empty = new BinaryWriter();
    empty.uint32((4 << 3) | WireType.Varint).uint32(2);
    expect(decode(empty.finish())).toEqual([]);
  });

  it("prefers an element's own words over default_words", () => {
    const req: ReportRequest = {
      attributes: [
        { words: ['own'], strings: { 17: -1 }, int64s: {}, doubles: {}, bools: {}, timestamps: {}, durations: {}, bytes: {}, stringMaps: {} },
        { words: [], strings: { 17: -1 }, int64s: {}, doubles: {}, bools: {}, timestamps: {}, durations: {}, bytes: {}, stringMaps: {} },
      ],
      defaultWords: ['shared'],
      globalWordCount: 222,
      repeatedAttributesSemantics: 1,
    };
    expect(decode(encodeReport(req)).map((b) => b.get('request.path'))).toEqual(['own', 'shared']);
  });

  it('keeps nanosecond precision for timestamps and durations, and full int64 range for counts', () => {
    const bags = decode(
      encodeReport(
        buildReport([
          {
            'request.time': ts(1_700_000_000, 123_456_789),
            'response.duration': dur(1_000_000_001),
            'request.size': int(-42),
            'response.size': int(2n ** 53n),
          },
        ]),
      ),
    );
    expect(bags[0]!.get('request.time')).toEqual(new Timestamp(1_700_000_000, 123_456_789));
    expect(bags[0]!.get('response.duration')).toBe(1_000_000_001);
    expect(bags[0]!.get('request.size')).toBe(-42);
    // Past 2^53 − 1 an INT64 is a bigint, exact.
    expect(bags[0]!.get('response.size')).toBe(2n ** 53n);
  });

  it('accepts a client that knows fewer global words, and rejects one that knows more with INTERNAL semantics', () => {
    const ok = buildReport([{ 'request.path': str('/x') }], { globalWordCount: 111 });
    expect(decode(encodeReport(ok))[0]!.get('request.path')).toBe('/x');
    const bad = buildReport([{ 'request.path': str('/x') }]);
    bad.globalWordCount = 500;
    const err = decodeError(encodeReport(bad));
    expect(err.code).toBe('DECODE_DICTIONARY_VERSION');
    expect(err.message).toBe('inconsistent global dictionary versions used: mixer knows 222 words, caller knows 500');
  });

  it('rejects an out-of-range word index and names the record', () => {
    const req = buildReport([{ 'request.path': str('/a') }, { 'request.path': str('/b') }, { 'request.path': str('/c') }]);
    req.attributes[2]!.strings[17] = -9;
    const err = decodeError(encodeReport(req));
    expect(err.code).toBe('DECODE_WORD_INDEX');
    expect(err.record).toBe(2);
    expect(err.message).toMatch(/^attributes\[2\]: attribute index -9 is not defined/);
    const global = buildReport([{ 'request.path': str('/a') }]);
    global.attributes[0]!.strings[300] = 1;
    expect(decodeError(encodeReport(global)).message).toMatch(/^attributes\[0\]: attribute index 300/);
  });

  it('rejects an attribute whose wire map contradicts the manifest, naming record, attribute and types', () => {
    const req = buildReport([{ 'request.path': str('/a') }, { 'response.code': str('200') }]);
    const err = decodeError(encodeReport(req));
    expect(err.code).toBe('DECODE_TYPE_MISMATCH');
    expect(err.message).toBe(
      "attributes[1]: attribute 'response.code' is declared INT64 in the attribute manifest but arrived in the 'strings' map",
    );
  });

  it('rejects an IP address that is neither 4 nor 16 bytes', () => {
    const req = buildReport([{ 'source.ip': { type: ValueType.IP_ADDRESS, value: new Uint8Array([1, 2, 3]) } }]);
    expect(decodeError(encodeReport(req)).message).toMatch(/'source.ip' is an IP_ADDRESS but has 3 bytes/);
  });

  it('rejects undecodable bytes as malformed', () => {
    const good = encodeReport(buildReport([{ 'request.path': str('/a'), 'request.headers': smap({ a: 'b' }) }]));
    expect(decodeError(good.subarray(0, Math.floor(good.length / 2))).code).toBe('DECODE_MALFORMED');
    expect(decodeError(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])).code).toBe('DECODE_MALFORMED');
    expect(decodeError(Uint8Array.from([0x0b])).code).toBe('DECODE_MALFORMED');
  });

  it('ignores attributes that are not in the vocabulary, but still checks their word indices', () => {
    const req = buildReport([{ 'not.declared': str('x'), 'request.path': str('/a') }]);
    expect(decode(encodeReport(req))[0]).toEqual(new Map([['request.path', '/a']]));
    req.attributes[0]!.strings[-1] = -40;
    expect(decodeError(encodeReport(req)).code).toBe('DECODE_WORD_INDEX');
  });

  it('rejects timestamps and durations that Mixer\'s decoder refuses, naming the record, and accepts the extremes it takes', () => {
    const withTime = (seconds: bigint, nanos: number): Uint8Array => {
      const req = buildReport([{ 'request.path': str('/a') }, { 'request.path': str('/b') }]);
      req.attributes[1]!.timestamps[24] = { seconds, nanos };
      return encodeReport(req);
    };
    const withDuration = (seconds: bigint, nanos: number): Uint8Array => {
      const req = buildReport([{ 'request.path': str('/a') }]);
      req.attributes[0]!.durations[29] = { seconds, nanos };
      return encodeReport(req);
    };
    for (const [s, n] of [[5n, -1], [5n, 1_000_000_000], [-62_135_596_801n, 0], [253_402_300_800n, 0]] as const) {
      const err = decodeError(withTime(s, n));
      expect(err.code).toBe('DECODE_MALFORMED');
      expect(err.message).toMatch(/^attributes\[1\]: invalid timestamps value/);
    }
    for (const [s, n] of [[1n, -5], [-1n, 5], [0n, 1_000_000_000], [9_223_372_037n, 0], [9_223_372_036n, 854_775_808], [-9_223_372_036n, -854_775_809]] as const) {
      expect(decodeError(withDuration(s, n)).message).toMatch(/^attributes\[0\]: invalid durations value/);
    }
    // Also for an attribute outside the vocabulary: the request as a whole does not decode in Mixer.
    const unknown = buildReport([{ 'not.declared': ts(1, 0) }]);
    unknown.attributes[0]!.timestamps[-1] = { seconds: 1n, nanos: -1 };
    expect(decodeError(encodeReport(unknown)).code).toBe('DECODE_MALFORMED');
    expect(decode(withTime(-62_135_596_800n, 999_999_999))[1]!.get('request.time')).toEqual(new Timestamp(-62_135_596_800, 999_999_999));
    expect(decode(withDuration(-1n, -5))[0]!.get('response.duration')).toBe(-1_000_000_005);
    expect(decode(withDuration(0n, -5))[0]!.get('response.duration')).toBe(-5);
  });

  it('agrees with the generated ts-proto decoder on generated messages', () => {
    const vocab = istioVocabulary();
    const word = fc.oneof(fc.constantFrom(...GLOBAL_DICTIONARY.slice(0, 40)), fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }));
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
          return fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 }));
        case ValueType.STRING_MAP:
          return fc.dictionary(word, word, { maxKeys: 5 }).map((o) => new Map(Object.entries(o)));
        default:
          return word;
      }
    };
    const attr = fc.constantFrom(...vocab).chain((a) => valueOf(a.type).map((v) => [a.name, { type: a.type, value: v }] as const));
    const set = fc.array(attr, { maxLength: 25 }).map((pairs) => Object.fromEntries(pairs) as AttributeSet);
    fc.assert(
      fc.property(fc.array(set, { minLength: 1, maxLength: 6 }), fc.boolean(), (sets, delta) => {
        const buf = encodeReport(buildReport(sets, { semantics: delta ? 'delta' : 'independent' }));
        expect(decode(buf)).toEqual(referenceDecode(buf, manifest));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but a DecodeError on random or mutated bytes', () => {
    const seed = encodeReport(buildReport([{ 'request.path': str('/a'), 'request.headers': smap({ k: 'v' }), 'response.code': int(200), 'connection.mtls': bool(true), 'request.size': int(5), 'destination.ip': ip('1.2.3.4'), 'response.duration': dur(5), 'context.time': ts(1), 'check.error_code': int(1) }]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }).map((muts) => {
        const b = Uint8Array.from(seed);
        for (const [i, v] of muts) b[i] = v;
        return b;
      })), (bytes) => {
        try {
          new ReportDecoder(manifest).decode(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

void dbl;
