import { describe, expect, it } from 'vitest';
import {
  encodeEntry,
  encodePayload,
  encodePayloadInChunks,
  goJsonString,
  Series,
  SeriesStore,
  streamTaggedName,
  tagCategory,
  trimGoSpace,
  type CirconusSample,
} from '../../../src/adapters/circonus/index.js';
import { Circllhist } from '../../../src/core/circllhist/index.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

describe('the HTTPTrap payload', () => {
  it("is byte for byte what cgm's Go encoder writes for the same metrics (spec §8.1 example)", () => {
    const latency = new Circllhist();
    latency.insert(0.25, 2);
    latency.insert(1.5);
    const samples: CirconusSample[] = [
      { name: 'tiny', type: 'n', value: 1e-7 },
      { name: 'requests', type: 'L', value: 42 },
      { name: 'latency', type: 'h', value: latency },
    ];
    expect(encodePayload(samples)).toBe(
      '{"latency":{"_value":"AAIZ/wACDwAAAQ==","_type":"h"},' +
        '"requests":{"_value":42,"_type":"L"},' +
        '"tiny":{"_value":1e-7,"_type":"n"}}',
    );
  });

  it('writes each type the way the broker reads it', () => {
    const h = new Circllhist();
    h.insertIntScale(1_500_000, -9);
    h.insertIntScale(25_000_000, -9, 2);
    expect(encodeEntry({ name: 'd', type: 'h', value: h })).toBe('"d":{"_value":"AAIP/QABGf4AAg==","_type":"h"}');
    expect(encodeEntry({ name: 'c', type: 'L', value: 0 })).toBe('"c":{"_value":0,"_type":"L"}');
    expect(encodeEntry({ name: 'c', type: 'L', value: 2n ** 64n - 1n })).toBe('"c":{"_value":18446744073709551615,"_type":"L"}');
    expect(encodeEntry({ name: 'c', type: 'L', value: 2 ** 60 })).toBe('"c":{"_value":1152921504606846976,"_type":"L"}');
    expect(encodeEntry({ name: 'g', type: 'l', value: -12 })).toBe('"g":{"_value":-12,"_type":"l"}');
    expect(encodeEntry({ name: 'g', type: 'n', value: 0.125 })).toBe('"g":{"_value":0.125,"_type":"n"}');
    expect(encodeEntry({ name: 'g', type: 'n', value: 1e21 })).toBe('"g":{"_value":1e+21,"_type":"n"}');
    expect(encodeEntry({ name: 'g', type: 'n', value: -0 })).toBe('"g":{"_value":-0,"_type":"n"}');
  });

  it('comes out the same when encoded in chunks, pausing between them', async () => {
    const samples: CirconusSample[] = Array.from({ length: 7 }, (_, i) => ({ name: `m${6 - i}`, type: 'L', value: i }));
    let pauses = 0;
    const body = await encodePayloadInChunks(samples, 3, async () => {
      pauses++;
    });
    expect(body).toBe(encodePayload(samples));
    expect(pauses).toBe(2);
  });

  it('refuses values their type cannot carry rather than writing null', () => {
    expect(() => encodeEntry({ name: 'g', type: 'n', value: Number.NaN })).toThrow(RangeError);
    expect(() => encodeEntry({ name: 'g', type: 'n', value: Number.POSITIVE_INFINITY })).toThrow(/not a valid "n" value/);
    expect(() => encodeEntry({ name: 'c', type: 'L', value: -1 })).toThrow(RangeError);
    expect(() => encodeEntry({ name: 'c', type: 'L', value: 1.5 })).toThrow(RangeError);
    expect(() => encodeEntry({ name: 'h', type: 'h', value: 3 })).toThrow(RangeError);
  });

  it('sorts keys in Go byte order and escapes like encoding/json', () => {
    const s = (name: string): CirconusSample => ({ name, type: 'L', value: 1 });
    expect(encodePayload([s('b'), s('B'), s('a<&>'), s('\u{1F600}'), s('\uFFFD')])).toBe(
      '{"B":{"_value":1,"_type":"L"},"a\\u003c\\u0026\\u003e":{"_value":1,"_type":"L"},"b":{"_value":1,"_type":"L"},' +
        '"\uFFFD":{"_value":1,"_type":"L"},"\u{1F600}":{"_value":1,"_type":"L"}}',
    );
    expect(goJsonString('m|ST[b"eA==":b"eQ=="]\u2028')).toBe('"m|ST[b\\"eA==\\":b\\"eQ==\\"]\\u2028"');
    expect(encodePayload([])).toBe('{}');
  });
});

describe('stream-tagged names', () => {
  const CATS = ['destination_service', 'response_code'].map(tagCategory);

  it('follow cgm: base64 categories and values, sorted by their plain text', () => {
    const { name } = streamTaggedName('requestcount.instance.istio-system', CATS, ['reviews.default.svc.cluster.local', '200']);
    expect(name).toBe(
      'requestcount.instance.istio-system|ST[' +
        'b"ZGVzdGluYXRpb25fc2VydmljZQ==":b"cmV2aWV3cy5kZWZhdWx0LnN2Yy5jbHVzdGVyLmxvY2Fs",' +
        'b"cmVzcG9uc2VfY29kZQ==":b"MjAw"]',
    );
    expect(name).toBe(
      `requestcount.instance.istio-system|ST[b"${b64('destination_service')}":b"${b64('reviews.default.svc.cluster.local')}",` +
        `b"${b64('response_code')}":b"${b64('200')}"]`,
    );
  });

  it('lowercase and strip categories, trim values, and leave an empty value bare', () => {
    expect(tagCategory(' Source\tApp ').plain).toBe('sourceapp');
    expect(trimGoSpace('\u00a0 x \u3000')).toBe('x');
    const { name } = streamTaggedName('m', [tagCategory('Source App'), tagCategory('empty')], ['  productpage ', '  ']);
    // "empty:" sorts before "sourceapp:…".
    expect(name).toBe(`m|ST[b"${b64('empty')}":,b"${b64('sourceapp')}":b"${b64('productpage')}"]`);
  });

  it('sort by the plain tag text and drop exact duplicates', () => {
    const { name } = streamTaggedName('m', [tagCategory('Zone'), tagCategory('app'), tagCategory('zone')], ['a', 'x', 'a']);
    expect(name).toBe(`m|ST[b"${b64('app')}":b"${b64('x')}",b"${b64('zone')}":b"${b64('a')}"]`);
  });

  it('encode values that look pre-encoded, since request data is never a tag', () => {
    const { name } = streamTaggedName('m', [tagCategory('path')], ['b"aGk="']);
    expect(name).toBe(`m|ST[b"${b64('path')}":b"${b64('b"aGk="')}"]`);
  });

  it("shorten a value so its tag stays under the broker's 256-byte pair limit, at a character boundary", () => {
    const cat = tagCategory('path');
    const long = `/${'é'.repeat(200)}`;
    const { name, truncatedValues } = streamTaggedName('m', [cat], [long]);
    expect(truncatedValues).toBe(1);
    const value = Buffer.from(/:b"([^"]+)"/.exec(name)?.[1] ?? '', 'base64').toString('utf8');
    expect(`path:${value}`.length).toBeLessThan(256);
    // 250 bytes are left for the value; "/" plus two-byte "é"s stop at 249 rather than split one.
    expect(Buffer.byteLength(`path:${value}`)).toBe(254);
    expect(value).toBe(`/${'é'.repeat(124)}`);
    expect(long.startsWith(value)).toBe(true);
    expect(streamTaggedName('m', [cat], ['x'.repeat(250)]).truncatedValues).toBe(0);
  });

  it('leave a name without tag dimensions bare', () => {
    expect(streamTaggedName('requestcount.instance.istio-system', [], []).name).toBe('requestcount.instance.istio-system');
  });
});

describe('series state', () => {
  it('merges a newer interval exactly: counters add, histograms merge, gauges take the newer value', () => {
    const older = new SeriesStore(1);
    const newer = new SeriesStore(2);
    older.getOrCreate('c', 'count', 'L', 10)?.addCount(3);
    newer.getOrCreate('c', 'count', 'L', 10)?.addCount(4);
    older.getOrCreate('g', 'last', 'l', 10)?.set(10);
    newer.getOrCreate('g', 'last', 'l', 10)?.set(7);
    older.getOrCreate('h', 'histogram', 'h', 10)?.insert(0.25);
    newer.getOrCreate('h', 'histogram', 'h', 10)?.insert(0.25);
    newer.getOrCreate('h', 'histogram', 'h', 10)?.insert(1.5);
    newer.getOrCreate('only-new', 'sum', 'n', 10)?.addSum(0.5);
    older.absorbNewer(newer);
    expect(older.get('c')?.value).toBe(7);
    expect(older.get('g')?.value).toBe(7);
    expect((older.get('h')?.value as Circllhist).toBvs()).toEqual(['H[2.5e-01]=2', 'H[1.5e+00]=1']);
    expect(older.get('only-new')?.value).toBe(0.5);
    expect([...older.values()].map((s) => s.name)).toEqual(['c', 'g', 'h', 'only-new']);
  });

  it('keeps counters exact past 2^53 and saturates at 2^64−1 like a uint64', () => {
    const s = new Series('c', 'count', 'L');
    s.addCount(Number.MAX_SAFE_INTEGER);
    s.addCount(2);
    expect(s.value).toBe(2n ** 53n + 1n);
    const t = new Series('c', 'count', 'L');
    t.addCount(2 ** 63);
    t.absorbNewer(s);
    t.addCount(2 ** 63);
    expect(t.value).toBe(2n ** 64n - 1n);
  });

  it('trims to the oldest series that fit, counting the rest', () => {
    const store = new SeriesStore(0);
    for (const n of ['a', 'b', 'c', 'd']) store.getOrCreate(n, 'count', 'L', 10)?.addCount(1);
    expect(store.getOrCreate('e', 'count', 'L', 4)).toBeUndefined();
    const bytes = (s: Series): number => encodeEntry(s).length;
    const entry = bytes(store.get('a') as Series);
    expect(store.trim(10, 2 + entry * 2 + 1, bytes)).toBe(2);
    expect([...store.values()].map((s) => s.name)).toEqual(['a', 'b']);
    expect(store.trim(1, Number.POSITIVE_INFINITY, () => 0)).toBe(1);
    expect([...store.values()].map((s) => s.name)).toEqual(['a']);
  });
});
