import { describe, expect, it } from 'vitest';
import { ValueType } from '../../../src/core/attributes/value-type.js';
import { compileExpression } from '../../../src/core/expr/index.js';
import { compileErrors, compileOk, evaluate, manifestOf, spanText } from './helpers.js';

const {
  STRING, INT64, DOUBLE, BOOL, DURATION, STRING_MAP, IP_ADDRESS, TIMESTAMP, DNS_NAME, EMAIL_ADDRESS, URI,
} = ValueType;

const manifest = manifestOf({
  as: STRING, bs: STRING, ai: INT64, bi: INT64, ab: BOOL, bb: BOOL, ad: DOUBLE, bd: DOUBLE,
  adur: DURATION, bdur: DURATION, ar: STRING_MAP, br: STRING_MAP, aip: IP_ADDRESS, bip: IP_ADDRESS,
  at: TIMESTAMP, bt: TIMESTAMP, adns: DNS_NAME, bdns: DNS_NAME, aemail: EMAIL_ADDRESS, bemail: EMAIL_ADDRESS,
  auri: URI, buri: URI,
  'request.size': INT64, 'response.code': INT64, 'destination.service.host': STRING,
  'source.workload.name': STRING,
});

describe('constants are typed as Mixer types them', () => {
  it.each([
    ['1', INT64],
    ['1.5', DOUBLE],
    ['true', BOOL],
    ['FALSE', BOOL],
    ['"abc"', STRING],
    ['""', STRING],
    ['"10"', STRING],
    ['"10ms"', DURATION],
    ['"1.5s"', DURATION],
    ['"1h2m"', DURATION],
    ['"0ms"', DURATION],
    ['"-3s"', DURATION],
    ['"0"', DURATION],
    ["'0'", DURATION],
    ['`5s`', DURATION],
    ["'x'", STRING],
  ])('`%s` is %s', (text, type) => {
    expect(compileOk(text, manifest).type).toBe(type);
  });

  it('gives a duration literal its value in nanoseconds', () => {
    expect(evaluate('"1.5s"', manifest)).toBe(1_500_000_000);
    expect(evaluate('"-3s"', manifest)).toBe(-3_000_000_000);
  });
});

describe('expressions get the type of their result', () => {
  it.each([
    ['as', STRING],
    ['as | bs', STRING],
    ['ar | br', STRING_MAP],
    ['ar["k"]', STRING],
    ['aip | ip("1.1.1.1")', IP_ADDRESS],
    ['at | timestamp("2015-01-02T15:04:35Z")', TIMESTAMP],
    ['adur | "1s"', DURATION],
    ['dnsName("a.b")', DNS_NAME],
    ['email("a@b.c")', EMAIL_ADDRESS],
    ['uri("http://x")', URI],
    ['emptyStringMap()', STRING_MAP],
    ['toLower(as)', STRING],
    ['size(as)', INT64],
    ['conditional(ab, ai, 2)', INT64],
    ['conditional(ab, ar, emptyStringMap())', STRING_MAP],
    ['conditionalString(ab, "a", "b")', STRING],
    ['match(as, "a*")', BOOL],
    ['as.matches("a")', BOOL],
    ['as.startsWith("a")', BOOL],
    ['as.endsWith("a")', BOOL],
    ['as + bs', STRING],
    ['ai + 1', INT64],
    ['ad + 1.5', DOUBLE],
    ['as < bs', BOOL],
    ['at >= bt', BOOL],
    ['ad <= 1.5', BOOL],
    ['ai > 1', BOOL],
    ['aip == bip', BOOL],
    ['adns == bdns', BOOL],
    ['aemail != bemail', BOOL],
    ['auri == buri', BOOL],
    ['ab == bb', BOOL],
    ['ab || bb && ab', BOOL],
  ])('`%s` is %s', (text, type) => {
    expect(compileOk(text, manifest).type).toBe(type);
  });
});

describe('type errors use Mixer\'s messages and point at the offending operand', () => {
  it.each([
    ['ai == true', 'EQ($ai, true) arg 2 (true) typeError got BOOL, expected INT64', 'true'],
    ['1 < "a"', 'LT(1, "a") arg 2 ("a") typeError got STRING, expected INT64', '"a"'],
    ['response.code == "200"', 'EQ($response.code, "200") arg 2 ("200") typeError got STRING, expected INT64', '"200"'],
    ['request.size | "0"', 'OR($request.size, "0") arg 2 ("0") typeError got DURATION, expected INT64', '"0"'],
    [
      'destination.service.host == dnsName("x")',
      'EQ($destination.service.host, dnsName("x")) arg 2 (dnsName("x")) typeError got DNS_NAME, expected STRING',
      'dnsName("x")',
    ],
    ['conditional(ab, 1, "x")', 'conditional($ab, 1, "x") arg 3 ("x") typeError got STRING, expected INT64', '"x"'],
    ['conditional(as, 1, 2)', 'conditional($as, 1, 2) arg 1 ($as) typeError got STRING, expected BOOL', 'as'],
    ['size(ai)', 'size($ai) arg 1 ($ai) typeError got INT64, expected STRING', 'ai'],
    ['as["k"]', 'INDEX($as, "k") arg 1 ($as) typeError got STRING, expected STRING_MAP', 'as'],
    ['ar[1]', 'INDEX($ar, 1) arg 2 (1) typeError got INT64, expected STRING', '1'],
    ['ab && ai', 'LAND($ab, $ai) arg 2 ($ai) typeError got INT64, expected BOOL', 'ai'],
    ['ai || ab', 'LOR($ai, $ab) arg 1 ($ai) typeError got INT64, expected BOOL', 'ai'],
    ['(as | "x") == 1', 'EQ(OR($as, "x"), 1) arg 2 (1) typeError got INT64, expected STRING', '1'],
    ['match(as, `x`) == ai', 'EQ(match($as, `x`), $ai) arg 2 ($ai) typeError got INT64, expected BOOL', 'ai'],
    ['ai.startsWith("x")', '$ai:startsWith("x") target typeError got INT64, expected STRING', 'ai'],
    ['toLower(ai)', 'toLower($ai) arg 1 ($ai) typeError got INT64, expected STRING', 'ai'],
    ['ip(ai)', 'ip($ai) arg 1 ($ai) typeError got INT64, expected STRING', 'ai'],
  ])('`%s` → %s', (text, message, offending) => {
    const [first] = compileErrors(text, manifest);
    expect(first!.code).toBe('EXPR_TYPE');
    expect(first!.message).toBe(message);
    expect(spanText(text, first!)).toBe(offending);
  });
});

describe('operators exist only for the types Mixer implements them for', () => {
  it.each([
    ['adur == bdur', 'EQ($adur, $bdur): equality for type not yet implemented: DURATION', '=='],
    ['adur != "1s"', 'NEQ($adur, "1s"): equality for type not yet implemented: DURATION', '!='],
    ['ar == br', 'EQ($ar, $br): equality for type not yet implemented: STRING_MAP', '=='],
    ['adur < bdur', 'LT($adur, $bdur): ordering for type not yet implemented: DURATION', '<'],
    ['ab > bb', 'GT($ab, $bb): ordering for type not yet implemented: BOOL', '>'],
    ['aip <= bip', 'LEQ($aip, $bip): ordering for type not yet implemented: IP_ADDRESS', '<='],
    ['adur + bdur', 'ADD($adur, $bdur): addition for type not yet implemented: DURATION', '+'],
    ['ab + bb', 'ADD($ab, $bb): addition for type not yet implemented: BOOL', '+'],
  ])('`%s` is rejected: %s', (text, message, operator) => {
    const [first] = compileErrors(text, manifest);
    expect(first!.code).toBe('EXPR_TYPE');
    expect(first!.message).toBe(message);
    expect(spanText(text, first!)).toBe(operator);
  });
});

describe('DNS_NAME, EMAIL_ADDRESS and URI order and concatenate as the strings Mixer holds them as', () => {
  it.each([
    ['adns >= bdns', BOOL],
    ['aemail < bemail', BOOL],
    ['auri <= buri', BOOL],
    ['adns + bdns', DNS_NAME],
    ['aemail + bemail', EMAIL_ADDRESS],
    ['auri + buri', URI],
  ])('`%s` compiles to %s', (text, type) => {
    expect(compileOk(text, manifest).type).toBe(type);
  });
});

describe('unimplemented operators and unknown functions', () => {
  it.each([
    ['!ab', 'unknown function: NOT', '!'],
    ['-5', 'unknown function: SUB', '-'],
    ['ai - 1', 'unknown function: SUB', '-'],
    ['ai * 2', 'unknown function: MUL', '*'],
    ['ai / bi', 'unknown function: QUO', '/'],
    ['ai % 2', 'unknown function: REM', '%'],
    ['ai & bi', 'unknown function: AND', '&'],
    ['ai ^ bi', 'unknown function: XOR', '^'],
    ['ai << 1', 'unknown function: SHL', '<<'],
    ['ai >> 1', 'unknown function: SHR', '>>'],
    ['ai &^ bi', 'unknown function: AND_NOT', '&^'],
    ['<-ai', 'unknown function: ARROW', '<-'],
    ['reverse(as)', 'unknown function: reverse', 'reverse'],
    ['as.startswith("a")', 'unknown function: startswith (did you mean startsWith?)', 'startswith'],
    ['tolower(as)', 'unknown function: tolower (did you mean toLower?)', 'tolower'],
  ])('`%s` → %s', (text, message, offending) => {
    const [first] = compileErrors(text, manifest);
    expect(first!.code).toBe('EXPR_UNKNOWN_FUNCTION');
    expect(first!.message).toBe(message);
    expect(spanText(text, first!)).toBe(offending);
  });

  it('rejects a method called as a plain function, and a plain function called as a method', () => {
    const [a] = compileErrors('startsWith(as, "x")', manifest);
    expect([a!.code, a!.message]).toEqual(['EXPR_TYPE', 'invoking instance method without an instance: startsWith']);
    const [b] = compileErrors('as.size()', manifest);
    expect([b!.code, b!.message]).toEqual(['EXPR_TYPE', 'invoking regular function on instance method: size']);
    expect(spanText('as.size()', b!)).toBe('size');
  });

  it('reports unary plus as ADD with one argument, as Mixer does', () => {
    const [e] = compileErrors('+ai', manifest);
    expect([e!.code, e!.message]).toEqual(['EXPR_ARITY', 'ADD($ai) arity mismatch. Got 1 arg(s), expected 2 arg(s)']);
  });
});

describe('arity', () => {
  it.each([
    ['match(as)', 'match($as) arity mismatch. Got 1 arg(s), expected 2 arg(s)', 'match'],
    ['conditional(ab, 1)', 'conditional($ab, 1) arity mismatch. Got 2 arg(s), expected 3 arg(s)', 'conditional'],
    ['as.startsWith()', '$as:startsWith() arity mismatch. Got 0 arg(s), expected 1 arg(s)', 'startsWith'],
    ['size(as, bs)', 'size($as, $bs) arity mismatch. Got 2 arg(s), expected 1 arg(s)', 'size'],
    ['emptyStringMap(as)', 'emptyStringMap($as) arity mismatch. Got 1 arg(s), expected 0 arg(s)', 'emptyStringMap'],
  ])('`%s` → %s', (text, message, offending) => {
    const [first] = compileErrors(text, manifest);
    expect(first!.code).toBe('EXPR_ARITY');
    expect(first!.message).toBe(message);
    expect(spanText(text, first!)).toBe(offending);
  });
});

describe('unknown attributes', () => {
  it('names the attribute and points at the whole dotted name', () => {
    const text = 'zzz.yyy == "a"';
    const [e] = compileErrors(text, manifest);
    expect([e!.code, e!.message, spanText(text, e!)]).toEqual(['EXPR_UNKNOWN_ATTRIBUTE', 'unknown attribute zzz.yyy', 'zzz.yyy']);
  });

  it.each([
    ['request.sise', 'request.size'],
    ['respons.code', 'response.code'],
    ['destination.host', 'destination.service.host'],
    ['source.workload_name', 'source.workload.name'],
    ['aipp', 'aip'],
  ])('suggests a close manifest name for `%s`', (name, suggestion) => {
    const [e] = compileErrors(name, manifest);
    expect(e!.message).toBe(`unknown attribute ${name} (did you mean ${suggestion}?)`);
  });

  it('does not suggest anything when no name is close', () => {
    expect(compileErrors('connection.mtls', manifest)[0]!.message).toBe('unknown attribute connection.mtls');
  });

  it('reports every independent error, the one Mixer reports first', () => {
    const text = 'nosuch1 == "a" && ai == true && nosuch2 == "b"';
    const errors = compileErrors(text, manifest);
    expect(errors.map((e) => [e.code, spanText(text, e)])).toEqual([
      ['EXPR_UNKNOWN_ATTRIBUTE', 'nosuch1'],
      ['EXPR_TYPE', 'true'],
      ['EXPR_UNKNOWN_ATTRIBUTE', 'nosuch2'],
    ]);
  });

  it('does not cascade: an operand that failed to type is not compared again', () => {
    expect(compileErrors('nosuch == 1', manifest)).toHaveLength(1);
    expect(compileErrors('(nosuch | "x") == "y"', manifest)).toHaveLength(1);
  });

  it('keeps checking around a failed call whose return type is fixed', () => {
    const errors = compileErrors('match(nosuch, "a") == 1', manifest);
    expect(errors.map((e) => e.code)).toEqual(['EXPR_UNKNOWN_ATTRIBUTE', 'EXPR_TYPE']);
  });
});

describe('constant regular expressions are validated at config time', () => {
  it.each([
    ['"(?=x)".matches(as)', 'invalid or unsupported Perl syntax: `(?=`'],
    ['"(?<!x)y".matches(as)', 'invalid or unsupported Perl syntax: `(?<`'],
    ['`(a)\\1`.matches(as)', 'invalid escape sequence: `\\1`'],
    ['"a(".matches(as)', 'missing closing ): `a(`'],
    ['"[z-a]".matches(as)', 'invalid character class range: `z-a`'],
  ])('`%s` is rejected (%s)', (text, detail) => {
    const [e] = compileErrors(text, manifest);
    expect(e!.code).toBe('EXPR_CONSTANT');
    expect(e!.message).toContain(`error parsing regexp: ${detail}`);
    expect(text.slice(e!.start, e!.end)).toBe(text.slice(0, text.indexOf('.matches')));
  });
});

describe('compileExpression', () => {
  it('rejects an empty or blank expression', () => {
    for (const text of ['', '   ']) {
      const r = compileExpression(text, manifest);
      expect(r).toEqual({ ok: false, errors: [{ code: 'EXPR_SYNTAX', message: 'empty expression', start: 0, end: text.length }] });
    }
  });

  it('reports syntax errors with code EXPR_SYNTAX and the offending offsets', () => {
    const r = compileExpression('as == @', manifest);
    expect(r).toEqual({
      ok: false,
      errors: [{ code: 'EXPR_SYNTAX', message: "illegal character U+0040 '@'", start: 6, end: 7 }],
    });
  });

  it('keeps the text and lists the attributes the expression mentions', () => {
    const e = compileOk('(as | bs) == as && ar["k"] == "x"', manifest);
    expect(e.text).toBe('(as | bs) == as && ar["k"] == "x"');
    expect(e.attributes).toEqual(['as', 'bs', 'ar']);
  });
});
