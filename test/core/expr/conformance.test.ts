/**
 * The conformance vectors of spec §4.5 (from Mixer's mixer/pkg/il/testing/tests.go), plus more of
 * that table's cases, run against the vocabulary it names.
 */
import { describe, expect, it } from 'vitest';
import type { AttributeValue } from '../../../src/core/attributes/value.js';
import { Timestamp } from '../../../src/core/attributes/value.js';
import { ValueType } from '../../../src/core/attributes/value-type.js';
import { compileExpression, ExprEvalError } from '../../../src/core/expr/index.js';
import { bagOf, compileOk, describeBag, manifestOf, stringMap } from './helpers.js';

const {
  STRING, INT64, DOUBLE, BOOL, DURATION, STRING_MAP, IP_ADDRESS, TIMESTAMP,
} = ValueType;

const manifest = manifestOf({
  as: STRING, bs: STRING, ai: INT64, bi: INT64, ab: BOOL, bb: BOOL, ad: DOUBLE, bd: DOUBLE,
  adur: DURATION, ar: STRING_MAP, br: STRING_MAP, sm: STRING_MAP,
  'request.size': INT64, 'origin.name': STRING,
  // Also named by individual vectors:
  'request.header': STRING_MAP, 'request.headers': STRING_MAP, 'service.name': STRING,
  'destination.ip': IP_ADDRESS, 'source.labels': STRING_MAP, x: INT64, y: INT64,
  at: TIMESTAMP, bt: TIMESTAMP, aip: IP_ADDRESS, bip: IP_ADDRESS,
});

type Bag = Readonly<Record<string, AttributeValue>>;

interface Vector {
  readonly expr: string;
  readonly bag?: Bag;
  readonly result?: AttributeValue;
  readonly type?: ValueType;
  readonly evalError?: string;
  readonly compileError?: string;
}

const ms = 1_000_000;

const SPEC_VECTORS: readonly Vector[] = [
  { expr: 'as | "user1"', bag: {}, result: 'user1', type: STRING },
  { expr: 'as | "user1"', bag: { as: 'a2' }, result: 'a2' },
  { expr: 'as | ""', bag: { as: 'foo' }, result: 'foo' },
  { expr: 'as | bs | "user1"', bag: { bs: 'b' }, result: 'b' },
  { expr: 'ai | bi | 42', bag: {}, result: 42, type: INT64 },
  { expr: 'adur | "19ms"', bag: {}, result: 19 * ms, type: DURATION },
  { expr: 'ar["c"] | "foo"', bag: {}, result: 'foo' },
  { expr: 'ar["c"] | "foo"', bag: { ar: stringMap({ c: 'b' }) }, result: 'b' },
  { expr: 'ar["b"] | ar["c"] | "null"', bag: { ar: stringMap({ c: 'b' }) }, result: 'b' },
  { expr: 'sm["foo"]', bag: { sm: stringMap({ foo: 'bar' }) }, result: 'bar' },
  { expr: 'request.header["user"] | "unknown"', bag: { 'request.header': stringMap({ myheader: 'bbb' }) }, result: 'unknown' },
  { expr: '(ar | br)["foo"]', bag: { ar: stringMap({ foo: 'bar' }), br: stringMap({ foo: 'far' }) }, result: 'bar' },
  { expr: '( origin.name | "unknown" ) == "users"', bag: {}, result: false, type: BOOL },
  { expr: '"foo" | "bar"', bag: {}, result: 'foo' },
  { expr: 'match(request.headers["user-agent"], "curl*")', bag: {}, evalError: "lookup failed: 'request.headers'" },
  { expr: 'match(service.name, 1)', compileError: 'match($service.name, 1) arg 2 (1) typeError got INT64, expected STRING' },
  { expr: 'ai == true', compileError: 'EQ($ai, true) arg 2 (true) typeError got BOOL, expected INT64' },
  { expr: '1 < "a"', compileError: 'LT(1, "a") arg 2 ("a") typeError got STRING, expected INT64' },
  { expr: '(x/y) == 30', compileError: 'unknown function: QUO' },
  { expr: '@23', compileError: "illegal character U+0040 '@'" },
  { expr: 'dnsName("foo.bar.baz") == dnsName("foo.Bar.baz.")', bag: {}, result: true },
  { expr: 'timestamp("2015-01-02T15:04:35Z") < timestamp("2015-01-02T15:04:36Z")', bag: {}, result: true },
  { expr: 'destination.ip | ip("10.1.12.3")', bag: {}, result: new Uint8Array([10, 1, 12, 3]), type: IP_ADDRESS },
  { expr: 'source.labels | emptyStringMap()', bag: {}, result: new Map(), type: STRING_MAP },
  { expr: '"foo".startsWith("bar") | true', bag: {}, result: false },
  {
    expr: 'request.headers[toLower("USER-AGENT")] == "curlish"',
    bag: { 'request.headers': stringMap({ 'user-agent': 'curlish' }) },
    result: true,
  },
];

// More of Mixer's table (same vocabulary).
const MIXER_TABLE: readonly Vector[] = [
  { expr: 'ai == 2', bag: { ai: 2 }, result: true },
  { expr: 'ai != 2', bag: { ai: 2 }, result: false },
  { expr: 'ai != 2', bag: {}, evalError: "lookup failed: 'ai'" },
  { expr: '2 != ai', bag: {}, evalError: "lookup failed: 'ai'" },
  { expr: 'ai ', bag: { ai: 2 }, result: 2 },
  { expr: 'true == ai', compileError: 'EQ(true, $ai) arg 2 ($ai) typeError got INT64, expected BOOL' },
  { expr: '3.14 == ai', compileError: 'EQ(3.14, $ai) arg 2 ($ai) typeError got INT64, expected DOUBLE' },
  { expr: '2 ', result: 2, type: INT64 },
  { expr: 'request.size | 200', bag: { 'request.size': 120 }, result: 120 },
  { expr: 'request.size | 200', bag: { 'request.size': 0 }, result: 0 },
  { expr: 'request.size | 200', bag: {}, result: 200 },
  { expr: '(x == 20 && y == 10) || x == 30', bag: { x: 20, y: 10 }, result: true },
  { expr: 'x == 20 && y == 10', bag: {}, evalError: "lookup failed: 'x'" },
  { expr: 'match(service.name, "*.ns1.cluster")', bag: { 'service.name': 'svc1.ns1.cluster' }, result: true },
  { expr: 'match(service.name, "*.ns1.cluster")', bag: { 'service.name': 'svc1.ns2.cluster' }, result: false },
  { expr: 'request.header["X-FORWARDED-HOST"] == "aaa"', bag: { 'request.header': stringMap({ 'X-FORWARDED-HOST': 'bbb' }) }, result: false },
  { expr: 'request.header["X-FORWARDED-HOST"] == "aaa"', bag: {}, evalError: "lookup failed: 'request.header'" },
  { expr: 'request.header[as] == "aaa"', bag: { 'request.header': stringMap({}) }, evalError: "lookup failed: 'as'" },
  { expr: 'request.header[as] == "aaa"', bag: { 'request.header': stringMap({ h: 'aaa' }), as: 'h' }, result: true },
  { expr: 'destination.ip | ip("10.1.12")', bag: {}, evalError: 'could not convert 10.1.12 to IP_ADDRESS' },
  { expr: 'destination.ip | ip(2)', compileError: 'ip(2) arg 1 (2) typeError got INT64, expected STRING' },
  { expr: 'at | timestamp(2)', compileError: 'timestamp(2) arg 1 (2) typeError got INT64, expected STRING' },
  {
    expr: 'at | timestamp("242233")',
    bag: {},
    evalError: "could not convert '242233' to TIMESTAMP. expected format: '2006-01-02T15:04:05Z07:00'",
  },
  { expr: 'at | timestamp("2015-01-02T15:04:35Z")', bag: {}, result: new Timestamp(1420211075, 0) },
  { expr: 'a = 2', compileError: "expected '==', found '='" },
  { expr: 'true', result: true, type: BOOL },
  { expr: 'false', result: false },
  { expr: '"ABC"', result: 'ABC', type: STRING },
  { expr: '456789', result: 456789 },
  { expr: '456.789', result: 456.789, type: DOUBLE },
  { expr: 'false || true || false', result: true },
  { expr: 'false || false || false', result: false },
  { expr: 'true && false', result: false },
  { expr: 'ab && bb', bag: { ab: true, bb: true }, result: true },
  { expr: '3 == 2', result: false },
  { expr: '3 != 2', result: true },
  { expr: '"ABC" != "ABC"', result: false },
  { expr: '23.45 != 45.23', result: true },
  { expr: 'ai == 20 || ar["b"] == "c"', bag: { ai: 19, ar: stringMap({ b: 'c' }) }, result: true },
  { expr: 'as | ""', bag: {}, result: '' },
  { expr: 'ab | true', bag: { ab: false }, result: false },
  { expr: 'ab | bb | true', bag: { bb: false }, result: false },
  { expr: 'ad | bd | 42.1', bag: { bd: 20 }, result: 20 },
  { expr: '(ar | br)["foo"]', bag: { br: stringMap({ foo: 'far' }) }, result: 'far' },
  { expr: 'sm[as]', bag: { as: 'foo', sm: stringMap({ foo: 'bar' }) }, result: 'bar' },
  { expr: 'ar[as] | "foo"', bag: {}, result: 'foo' },
  { expr: 'ar[as] | "foo"', bag: { ar: stringMap({ as: 'bar' }) }, result: 'foo' },
  { expr: 'ar[as] | "foo"', bag: { as: 'bar' }, result: 'foo' },
  { expr: 'ar[as] | "foo"', bag: { ar: stringMap({ as: 'bar' }), as: '!!!!' }, result: 'foo' },
  { expr: 'ar[as] | "foo"', bag: { ar: stringMap({ asval: 'bar' }), as: 'asval' }, result: 'bar' },
  { expr: 'ar["b"] | ar["c"] | "null"', bag: { ar: stringMap({}) }, result: 'null' },
  { expr: 'ar["b"] | ar["c"] | "null"', bag: { ar: stringMap({ b: 'c', c: 'b' }) }, result: 'c' },
  { expr: 'adur', bag: { adur: 20 * ms }, result: 20 * ms },
  { expr: 'at | bt', bag: { bt: new Timestamp(100, 5) }, result: new Timestamp(100, 5) },
  { expr: 'aip | bip', bag: { bip: new Uint8Array([4, 5, 6, 7]) }, result: new Uint8Array([4, 5, 6, 7]) },
  { expr: 'aip == bip', bag: { aip: new Uint8Array([1, 2, 3, 4]), bip: new Uint8Array([4, 5, 6, 7]) }, result: false },
  { expr: 'at == bt', bag: { at: new Timestamp(1, 0), bt: new Timestamp(1, 0) }, result: true },
  { expr: 'at != bt', bag: { at: new Timestamp(1, 0), bt: new Timestamp(1, 0) }, result: false },
  { expr: 'ip("1.2.3.4" | "5.6.7.8")', result: new Uint8Array([1, 2, 3, 4]) },
  { expr: 'ip(as | "5.6.7.8")', bag: {}, result: new Uint8Array([5, 6, 7, 8]) },
  { expr: 'ip(as | bs)', bag: { bs: '1.2.3.4' }, result: new Uint8Array([1, 2, 3, 4]) },
  { expr: 'ip(as | bs)', bag: {}, evalError: "lookup failed: 'bs'" },
  { expr: 'ip(ar["foo"])', bag: { ar: stringMap({ foo: '1.2.3.4' }) }, result: new Uint8Array([1, 2, 3, 4]) },
  { expr: '"aaa".matches(23)', compileError: '"aaa":matches(23) arg 1 (23) typeError got INT64, expected STRING' },
  { expr: 'matches("aaa")', compileError: 'invoking instance method without an instance: matches' },
  { expr: 'matches()', compileError: 'invoking instance method without an instance: matches' },
  { expr: '"abc".matches("abc")', result: true },
  { expr: '".*".matches("abc")', result: true },
  { expr: '"ab.*d".matches("abc")', result: false },
  { expr: 'as.matches(bs)', bag: { as: 'st.*', bs: 'str1' }, result: true },
  { expr: 'as.matches(bs)', bag: { as: 'st.*', bs: 'sqr1' }, result: false },
  { expr: '"aaa".startsWith(23)', compileError: '"aaa":startsWith(23) arg 1 (23) typeError got INT64, expected STRING' },
  { expr: 'startsWith("aaa")', compileError: 'invoking instance method without an instance: startsWith' },
  { expr: '"abcd".startsWith("abc")', result: true },
  { expr: '"abfood".startsWith("abc")', result: false },
  { expr: 'as.startsWith(bs)', bag: { as: 'abcd', bs: 'ab' }, result: true },
  { expr: '"aaa".endsWith(23)', compileError: '"aaa":endsWith(23) arg 1 (23) typeError got INT64, expected STRING' },
  { expr: 'endsWith()', compileError: 'invoking instance method without an instance: endsWith' },
  { expr: '"abcd".endsWith("bcd")', result: true },
  { expr: 'as.endsWith(bs)', bag: { as: 'bcda', bs: 'abc' }, result: false },
];

function run(v: Vector): void {
  const compiled = compileExpression(v.expr, manifest);
  if (v.compileError !== undefined) {
    expect(compiled.ok).toBe(false);
    if (!compiled.ok) expect(compiled.errors[0]!.message).toBe(v.compileError);
    return;
  }
  const expr = compileOk(v.expr, manifest);
  if (v.type !== undefined) expect(expr.type).toBe(v.type);
  const bag = bagOf(manifest, v.bag ?? {});
  if (v.evalError !== undefined) {
    let thrown: unknown;
    try {
      expr.evaluate(bag);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ExprEvalError);
    expect((thrown as ExprEvalError).code).toBe('EXPR_EVAL');
    expect((thrown as ExprEvalError).message).toBe(v.evalError);
    return;
  }
  expect(expr.evaluate(bag)).toEqual(v.result);
}

describe('spec §4.5 conformance vectors', () => {
  it.each(SPEC_VECTORS.map((v) => [v.expr, describeBag(v.bag), v] as const))(
    '`%s` with bag %s behaves as Mixer does',
    (_expr, _bag, v) => run(v),
  );
});

describe("more of Mixer's expression test table", () => {
  it.each(MIXER_TABLE.map((v) => [v.expr, describeBag(v.bag), v] as const))(
    '`%s` with bag %s behaves as Mixer does',
    (_expr, _bag, v) => run(v),
  );
});
