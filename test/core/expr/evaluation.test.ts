import { describe, expect, it } from 'vitest';
import { EMPTY_STRING_MAP, Timestamp } from '../../../src/core/attributes/value.js';
import { ValueType } from '../../../src/core/attributes/value-type.js';
import { ExprEvalError } from '../../../src/core/expr/index.js';
import { bagOf, compileOk, evaluate, manifestOf, stringMap } from './helpers.js';

const { STRING, INT64, DOUBLE, BOOL, STRING_MAP, IP_ADDRESS, TIMESTAMP } = ValueType;

const manifest = manifestOf({
  as: STRING, bs: STRING, cs: STRING, ai: INT64, bi: INT64, ab: BOOL, bb: BOOL, ad: DOUBLE,
  ar: STRING_MAP, br: STRING_MAP, aip: IP_ADDRESS, bip: IP_ADDRESS, at: TIMESTAMP, bt: TIMESTAMP,
});

function evalError(text: string, values: Parameters<typeof evaluate>[2] = {}): string {
  try {
    evaluate(text, manifest, values);
  } catch (e) {
    expect(e).toBeInstanceOf(ExprEvalError);
    expect((e as ExprEvalError).code).toBe('EXPR_EVAL');
    return (e as Error).message;
  }
  throw new Error(`expected \`${text}\` to fail`);
}

describe('`|` falls through only when its left side is absent', () => {
  it('uses the attribute when present, even when it is an empty string', () => {
    expect(evaluate('as | "x"', manifest, { as: '' })).toBe('');
    expect(evaluate('ai | 7', manifest, { ai: 0 })).toBe(0);
    expect(evaluate('ab | true', manifest, { ab: false })).toBe(false);
  });

  it('uses the default when the attribute is missing', () => {
    expect(evaluate('as | "x"', manifest)).toBe('x');
  });

  it('falls through when the map attribute is missing, the key is missing, or the key attribute is missing', () => {
    expect(evaluate('ar["k"] | "d"', manifest)).toBe('d');
    expect(evaluate('ar["k"] | "d"', manifest, { ar: stringMap({ other: 'v' }) })).toBe('d');
    expect(evaluate('ar[as] | "d"', manifest, { ar: stringMap({ k: 'v' }) })).toBe('d');
    expect(evaluate('ar[as] | "d"', manifest, { ar: stringMap({ k: 'v' }), as: 'k' })).toBe('v');
  });

  it('falls through a missing key of a map known at compile time, which folding must not turn into ""', () => {
    expect(evaluate('emptyStringMap()["k"] | "d"', manifest)).toBe('d');
    expect(evaluate('conditional(true, emptyStringMap(), ar)["k"] | "d"', manifest)).toBe('d');
    expect(evaluate('emptyStringMap()["k"] | ar["k"] | "d"', manifest, { ar: stringMap({ k: 'v' }) })).toBe('v');
    // Outside `|` the missing key is still "".
    expect(evaluate('emptyStringMap()["k"]', manifest)).toBe('');
  });

  it('treats a present empty map value as present', () => {
    expect(evaluate('ar["k"] | "d"', manifest, { ar: stringMap({ k: '' }) })).toBe('');
  });

  it('returns the first present operand of a chain, whichever way it is grouped', () => {
    expect(evaluate('as | bs | cs', manifest, { cs: 'c' })).toBe('c');
    expect(evaluate('as | (bs | "z")', manifest)).toBe('z');
    expect(evaluate('(as | bs) | "z"', manifest, { bs: 'b' })).toBe('b');
    expect(evaluate('ar["a"] | br["b"] | "z"', manifest, { br: stringMap({ b: 'bb' }) })).toBe('bb');
  });

  it('requires the last operand of a chain: it is not itself defaulted', () => {
    expect(evalError('as | bs')).toBe("lookup failed: 'bs'");
    expect(evalError('as | (bs | cs)')).toBe("lookup failed: 'cs'");
  });

  it('never falls through a constant, which is always present', () => {
    expect(evaluate('"a" | as', manifest)).toBe('a');
  });

  it('never falls through a call, even when the call fails', () => {
    expect(evaluate('"foo".startsWith("bar") | true', manifest)).toBe(false);
    expect(evalError('toLower(as) | "x"')).toBe("lookup failed: 'as'");
    expect(evalError('ip(as) | ip("1.1.1.1")', { as: 'bad' })).toBe('could not convert bad to IP_ADDRESS');
    expect(evalError('conditional(ab, as, "y") | "z"', { ab: true })).toBe("lookup failed: 'as'");
  });

  it('applies to whole maps, then indexes the chosen one', () => {
    const values = { br: stringMap({ k: 'from-br' }) };
    expect(evaluate('(ar | br)["k"]', manifest, values)).toBe('from-br');
    expect(evaluate('(ar | br)["missing"] | "d"', manifest, values)).toBe('d');
    expect(evaluate('(ar | br)["missing"]', manifest, values)).toBe('');
  });

  it('binds tighter than ==', () => {
    expect(evaluate('as | "x" == "x"', manifest)).toBe(true);
  });
});

describe('outside `|`', () => {
  it('fails on a missing attribute with lookup failed', () => {
    expect(evalError('as == "a"')).toBe("lookup failed: 'as'");
    expect(evalError('ar["k"]')).toBe("lookup failed: 'ar'");
    expect(evalError('ar[as]', { ar: stringMap({}) })).toBe("lookup failed: 'as'");
  });

  it('reads a missing map key as the empty string', () => {
    expect(evaluate('ar["k"]', manifest, { ar: stringMap({}) })).toBe('');
    expect(evaluate('ar["k"] == ""', manifest, { ar: stringMap({}) })).toBe(true);
  });

  it('looks map keys up exactly, case included', () => {
    expect(evaluate('ar["Key"]', manifest, { ar: stringMap({ key: 'v' }) })).toBe('');
  });
});

describe('conditionals and boolean operators', () => {
  it('evaluates only the chosen branch of conditional', () => {
    expect(evaluate('conditional(ab, as, bs)', manifest, { ab: true, as: 'a' })).toBe('a');
    expect(evaluate('conditional(ab, as, bs)', manifest, { ab: false, bs: 'b' })).toBe('b');
  });

  it('evaluates both branches of conditionalString', () => {
    expect(evaluate('conditionalString(ab, as, bs)', manifest, { ab: true, as: 'a', bs: 'b' })).toBe('a');
    expect(evalError('conditionalString(ab, as, bs)', { ab: true, as: 'a' })).toBe("lookup failed: 'bs'");
  });

  it('folds a conditional on a constant condition without making the branch optional', () => {
    expect(evaluate('conditional(true, as, "y")', manifest, { as: 'a' })).toBe('a');
    expect(evalError('conditional(true, as, "y") | "z"')).toBe("lookup failed: 'as'");
  });

  it('short-circuits && and || left to right', () => {
    expect(evaluate('ab || ai == 1', manifest, { ab: true })).toBe(true);
    expect(evaluate('ab && ai == 1', manifest, { ab: false })).toBe(false);
    expect(evalError('ab && ai == 1', { ab: true })).toBe("lookup failed: 'ai'");
  });
});

describe('equality and ordering', () => {
  it('compares strings, integers, doubles and booleans by value', () => {
    expect(evaluate('as == bs', manifest, { as: 'x', bs: 'x' })).toBe(true);
    expect(evaluate('"x" == as', manifest, { as: 'x' })).toBe(true);
    expect(evaluate('as != "x"', manifest, { as: 'x' })).toBe(false);
    expect(evaluate('ai == bi', manifest, { ai: 3, bi: 3 })).toBe(true);
    expect(evaluate('ad == 0.5', manifest, { ad: 0.5 })).toBe(true);
    expect(evaluate('ad == ad', manifest, { ad: Number.NaN })).toBe(false);
    expect(evaluate('ab == false', manifest, { ab: false })).toBe(true);
  });

  it('treats an IPv4 address and its IPv4-mapped IPv6 form as equal', () => {
    const v4 = new Uint8Array([10, 0, 0, 1]);
    const mapped = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1]);
    expect(evaluate('aip == bip', manifest, { aip: v4, bip: mapped })).toBe(true);
    expect(evaluate('aip == ip("::ffff:10.0.0.1")', manifest, { aip: v4 })).toBe(true);
    expect(evaluate('aip == ip("10.0.0.2")', manifest, { aip: v4 })).toBe(false);
    expect(evaluate('aip != ip("::1")', manifest, { aip: v4 })).toBe(true);
  });

  it('compares timestamps as instants', () => {
    const values = { at: new Timestamp(100, 5), bt: new Timestamp(100, 6) };
    expect(evaluate('at == bt', manifest, values)).toBe(false);
    expect(evaluate('at < bt', manifest, values)).toBe(true);
    expect(evaluate('at >= bt', manifest, values)).toBe(false);
    expect(evaluate('timestamp("2015-01-02T16:04:35+01:00") == timestamp("2015-01-02T15:04:35Z")', manifest)).toBe(true);
  });

  it('orders strings by their UTF-8 bytes, not UTF-16 code units', () => {
    // U+FF5E is one UTF-16 unit above the surrogates of U+1F600, but sorts below it in UTF-8.
    expect(evaluate('as < bs', manifest, { as: '\uff5e', bs: '\u{1f600}' })).toBe(true);
    expect(evaluate('as < bs', manifest, { as: 'a', bs: 'b' })).toBe(true);
    expect(evaluate('as <= bs', manifest, { as: 'b', bs: 'b' })).toBe(true);
    expect(evaluate('as > bs', manifest, { as: 'ab', bs: 'a' })).toBe(true);
  });

  it('orders numbers', () => {
    expect(evaluate('ai < 3', manifest, { ai: 2 })).toBe(true);
    expect(evaluate('ai <= 2', manifest, { ai: 2 })).toBe(true);
    expect(evaluate('ai > 2', manifest, { ai: 2 })).toBe(false);
    expect(evaluate('ad >= 1.5', manifest, { ad: 1.5 })).toBe(true);
  });

  it('compares DNS names case-insensitively, ignoring one trailing dot', () => {
    expect(evaluate('dnsName("foo.bar.baz") == dnsName("foo.Bar.baz.")', manifest)).toBe(true);
    expect(evaluate('dnsName("a.b") == dnsName("a.c")', manifest)).toBe(false);
    expect(evaluate('dnsName("bücher.de") == dnsName("xn--bcher-kva.DE")', manifest)).toBe(true);
    expect(evaluate('dnsName(as) == dnsName("a.b")', manifest, { as: 'A.B.' })).toBe(true);
  });

  it('compares e-mail addresses by local part and DNS-equal domain', () => {
    expect(evaluate('email("user@EXAMPLE.com") == email("user@example.com")', manifest)).toBe(true);
    expect(evaluate('email("User@example.com") == email("user@example.com")', manifest)).toBe(false);
    expect(evaluate('email("\\"user\\"@example.com") == email("user@example.com")', manifest)).toBe(true);
  });

  it('compares URIs after normalising scheme case, and http(s) host and port', () => {
    expect(evaluate('uri("HTTP://Example.COM/x?y#z") == uri("http://example.com/x?y#z")', manifest)).toBe(true);
    expect(evaluate('uri("http://example.com:80/x") == uri("http://example.com/x")', manifest)).toBe(false);
    expect(evaluate('uri("http://example.com/X") == uri("http://example.com/x")', manifest)).toBe(false);
    expect(evaluate('uri("foo://A/x") == uri("foo://a/x")', manifest)).toBe(false);
    expect(evaluate('uri("mailto:a@b") == uri("MAILTO:a@b")', manifest)).toBe(true);
  });
});

describe('addition', () => {
  it('concatenates strings and adds numbers', () => {
    expect(evaluate('as + "-" + bs', manifest, { as: 'a', bs: 'b' })).toBe('a-b');
    expect(evaluate('ai + 2', manifest, { ai: 40 })).toBe(42);
    expect(evaluate('ad + 0.25', manifest, { ad: 1 })).toBe(1.25);
  });

  it('concatenates DNS names, e-mail addresses and URIs as the plain strings they are in Mixer', () => {
    expect(evaluate('dnsName(as) + dnsName("b.c")', manifest, { as: 'A.' })).toBe('A.b.c');
    expect(evaluate('uri(as) + uri("/x")', manifest, { as: 'http://h' })).toBe('http://h/x');
  });
});

describe('ordering of DNS names, e-mail addresses and URIs', () => {
  it('compares the text byte-wise, without the normalisation `==` applies (Mixer orders them as strings)', () => {
    expect(evaluate('dnsName(as) < dnsName(bs)', manifest, { as: 'a.com', bs: 'b.com' })).toBe(true);
    // "B" sorts before "a": no case folding, unlike dnsName equality.
    expect(evaluate('dnsName(as) < dnsName(bs)', manifest, { as: 'a.com', bs: 'B.com' })).toBe(false);
    expect(evaluate('email(as) >= email(bs)', manifest, { as: 'x@a.com', bs: 'x@a.com' })).toBe(true);
    expect(evaluate('uri(as) > uri(bs)', manifest, { as: 'http://a.com/\u00e9', bs: 'http://a.com/z' })).toBe(true);
  });
});

describe('evaluation', () => {
  it('shares constant results between evaluations instead of allocating', () => {
    const e = compileOk('ar | emptyStringMap()', manifest);
    const bag = bagOf(manifest, {});
    expect(e.evaluate(bag)).toBe(EMPTY_STRING_MAP);
    expect(e.evaluate(bag)).toBe(e.evaluate(bag));
  });

  it('reports a bag value of the wrong runtime type as an evaluation error', () => {
    const e = compileOk('as.startsWith("x")', manifest);
    const bag = bagOf(manifest, { as: 5 });
    expect(() => e.evaluate(bag)).toThrow(ExprEvalError);
  });

  it('can be evaluated repeatedly against different bags', () => {
    const e = compileOk('(as | "none") == "x"', manifest);
    expect(e.evaluate(bagOf(manifest, { as: 'x' }))).toBe(true);
    expect(e.evaluate(bagOf(manifest, {}))).toBe(false);
    expect(e.evaluate(bagOf(manifest, { as: 'x' }))).toBe(true);
  });
});
