import { describe, expect, it } from 'vitest';
import { Timestamp, type AttributeValue } from '../../../src/core/attributes/value.js';
import { ValueType } from '../../../src/core/attributes/value-type.js';
import { compareGoStrings, formatGoValue, stringifyValue } from '../../../src/core/format/index.js';

const ts = new Timestamp(1_700_000_000, 123_456_789);
const ip4 = new Uint8Array([10, 0, 0, 1]);
const map = new Map([
  ['b', '2'],
  ['a', '1'],
]);

describe('stringifyValue (Mixer Stringify, used for Prometheus label values)', () => {
  it.each<[string, AttributeValue | null, ValueType, string]>([
    ['a string as is', 'reviews', ValueType.STRING, 'reviews'],
    ['a DNS name as is', 'a.b.svc', ValueType.DNS_NAME, 'a.b.svc'],
    ['an INT64 in decimal', 200, ValueType.INT64, '200'],
    ['a large INT64 without exponent', 2 ** 62, ValueType.INT64, '4611686018427387904'],
    ['an INT64 past 2^53 exactly', 9007199254740993n, ValueType.INT64, '9007199254740993'],
    ['int64 max exactly', 9223372036854775807n, ValueType.INT64, '9223372036854775807'],
    ['int64 min exactly', -9223372036854775808n, ValueType.INT64, '-9223372036854775808'],
    ['an untyped big integer by its shape', 9007199254740993n, ValueType.VALUE_TYPE_UNSPECIFIED, '9007199254740993'],
    ['a DOUBLE without exponent', 1e21, ValueType.DOUBLE, '1000000000000000000000'],
    ['a small DOUBLE without exponent', 1.5e-7, ValueType.DOUBLE, '0.00000015'],
    ['a BOOL', true, ValueType.BOOL, 'true'],
    ['a TIMESTAMP with six fraction digits', ts, ValueType.TIMESTAMP, '2023-11-14T22:13:20.123456Z'],
    ['a DURATION as Go prints it', 1.5e9, ValueType.DURATION, '1.5s'],
    ['a zero DURATION', 0, ValueType.DURATION, '0s'],
    ['an IPv4 address dotted', ip4, ValueType.IP_ADDRESS, '10.0.0.1'],
    ['a STRING_MAP sorted by key', map, ValueType.STRING_MAP, 'a=1&b=2'],
    ['an empty STRING_MAP', new Map<string, string>(), ValueType.STRING_MAP, ''],
    ['null as empty', null, ValueType.STRING, ''],
    ['an untyped integer by its shape', 7, ValueType.VALUE_TYPE_UNSPECIFIED, '7'],
    ['an untyped fraction by its shape', 0.5, ValueType.VALUE_TYPE_UNSPECIFIED, '0.5'],
  ])('prints %s', (_name, v, t, want) => {
    expect(stringifyValue(v, t)).toBe(want);
  });
});

describe('formatGoValue (Go %v, used by StatsD name templates)', () => {
  it.each<[string, AttributeValue | null, ValueType, string]>([
    ['a string as is', 'GET', ValueType.STRING, 'GET'],
    ['an INT64 in decimal', 200, ValueType.INT64, '200'],
    ['an INT64 past 2^53 exactly', -9007199254740993n, ValueType.INT64, '-9007199254740993'],
    ['int64 max exactly', 9223372036854775807n, ValueType.INT64, '9223372036854775807'],
    ['a DOUBLE in %g form', 1e6, ValueType.DOUBLE, '1e+06'],
    ['a plain DOUBLE', 0.25, ValueType.DOUBLE, '0.25'],
    ['a DURATION', 1.5e9, ValueType.DURATION, '1.5s'],
    ['IP bytes as a byte slice', ip4, ValueType.IP_ADDRESS, '[10 0 0 1]'],
    ['a BOOL', false, ValueType.BOOL, 'false'],
    ['a STRING_MAP sorted by key', map, ValueType.STRING_MAP, 'map[a:1 b:2]'],
    ['a TIMESTAMP as time.Time.String', ts, ValueType.TIMESTAMP, '2023-11-14 22:13:20.123456789 +0000 UTC'],
    ['null as <nil>', null, ValueType.INT64, '<nil>'],
  ])('prints %s', (_name, v, t, want) => {
    expect(formatGoValue(v, t)).toBe(want);
  });
});

describe('compareGoStrings', () => {
  it('orders by UTF-8 bytes, putting astral characters after the last BMP ones', () => {
    const sorted = ['b', '\u{1F600}', '\uFFFD', 'a', 'ab', ''].sort(compareGoStrings);
    expect(sorted).toEqual(['', 'a', 'ab', 'b', '\uFFFD', '\u{1F600}']);
  });
});
