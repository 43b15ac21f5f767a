import { describe, expect, it } from 'vitest';
import { Timestamp } from '../../../src/core/attributes/value.js';
import { ValueType } from '../../../src/core/attributes/value-type.js';
import { ExprEvalError } from '../../../src/core/expr/index.js';
import { bagOf, compileOk, evaluate, manifestOf } from './helpers.js';

const manifest = manifestOf({ as: ValueType.STRING, bs: ValueType.STRING, ab: ValueType.BOOL });

/** Evaluates `fn(<arg>)` with the argument supplied as an attribute, so nothing is folded at compile time. */
function call(fn: string, arg: string): unknown {
  return evaluate(`${fn}(as)`, manifest, { as: arg });
}

function callError(fn: string, arg: string): string {
  try {
    call(fn, arg);
  } catch (e) {
    expect(e).toBeInstanceOf(ExprEvalError);
    return (e as Error).message;
  }
  throw new Error(`expected ${fn}(${JSON.stringify(arg)}) to fail`);
}

describe('size', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['héllo', 6],
    ['日本', 6],
    ['😀', 4],
  ])('counts the UTF-8 bytes of %j: %i', (s, n) => {
    expect(call('size', s)).toBe(n);
    expect(evaluate(`size(${JSON.stringify(s)})`, manifest)).toBe(n);
  });
});

describe('toLower', () => {
  it.each([
    ['USER-AGENT', 'user-agent'],
    ['ÀÉÎ', 'àéî'],
    ['ΣΑΣ', 'σασ'],
    ['İstanbul', 'istanbul'],
    ['already', 'already'],
  ])('lower-cases %j per character as Go does: %j', (s, lower) => {
    expect(call('toLower', s)).toBe(lower);
  });
});

describe('match (glob-lite)', () => {
  it.each([
    ['abc', 'ab*', true],
    ['xbc', 'ab*', false],
    ['abc', '*bc', true],
    ['abc', '*bd', false],
    ['abc', 'abc', true],
    ['abc', 'ab', false],
    ['anything', '*', true],
    ['', '*', true],
    ['abc', 'a*c', false],
    ['a*c', 'a*c', true],
    ['*ab', '*a*', true],
    ['xab', '*a*', false],
    ['svc1.ns1.cluster', '*.ns1.cluster', true],
  ])('match(%j, %j) is %s', (str, pattern, result) => {
    expect(evaluate(`match(as, ${JSON.stringify(pattern)})`, manifest, { as: str })).toBe(result);
    expect(evaluate('match(as, bs)', manifest, { as: str, bs: pattern })).toBe(result);
  });
});

describe('matches (RE2 search; the target is the pattern)', () => {
  it.each([
    ['svc.*', 'svc1', true],
    ['^svc$', 'xsvc', false],
    ['svc', 'my-svc-1', true],
    ['^a.c$', 'a\nc', false],
    ['(?s)^a.c$', 'a\nc', true],
    ['(?m)^b$', 'a\nb', true],
    ['(?i)ABC', 'xabc', true],
    ['\\d{3}', 'a123', true],
    ['\\s', '\u00a0', false],
    ['[[:alpha:]]+$', 'abc', true],
    ['\\Qa.b\\E', 'axb', false],
    ['\\pL', 'é', true],
  ])('`%s`.matches(%j) is %s', (pattern, str, result) => {
    expect(evaluate(`\`${pattern}\`.matches(as)`, manifest, { as: str })).toBe(result);
    expect(evaluate('as.matches(bs)', manifest, { as: pattern, bs: str })).toBe(result);
  });

  it('fails at evaluation time on an invalid pattern that comes from an attribute', () => {
    expect(() => evaluate('as.matches(bs)', manifest, { as: '(?=x)', bs: 'x' })).toThrow(
      'error parsing regexp: invalid or unsupported Perl syntax: `(?=`',
    );
  });

  it('fails at evaluation time on an invalid pattern folded from constants', () => {
    const e = compileOk('("a" + "(").matches(as)', manifest);
    expect(() => e.evaluate(bagOf(manifest, { as: 'a' }))).toThrow('error parsing regexp: missing closing ): `a(`');
  });

  it('stays correct when more distinct patterns arrive than the cache holds', () => {
    const e = compileOk('as.matches(bs)', manifest);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 100; i++) {
        expect(e.evaluate(bagOf(manifest, { as: `^p${i}$`, bs: `p${i}` }))).toBe(true);
        expect(e.evaluate(bagOf(manifest, { as: `^p${i}$`, bs: `p${i + 1}` }))).toBe(false);
      }
    }
  });
});

describe('startsWith and endsWith', () => {
  it('test a prefix and a suffix of the target', () => {
    expect(evaluate('as.startsWith("ab")', manifest, { as: 'abc' })).toBe(true);
    expect(evaluate('as.startsWith("bc")', manifest, { as: 'abc' })).toBe(false);
    expect(evaluate('as.endsWith("bc")', manifest, { as: 'abc' })).toBe(true);
    expect(evaluate('as.endsWith(bs)', manifest, { as: 'abc', bs: 'ab' })).toBe(false);
    expect(evaluate('"".startsWith("")', manifest)).toBe(true);
  });
});

describe('emptyStringMap', () => {
  it('is an empty map', () => {
    expect(evaluate('emptyStringMap()', manifest)).toEqual(new Map());
  });
});

describe('ip', () => {
  it.each([
    ['10.1.12.3', [10, 1, 12, 3]],
    ['0.0.0.0', [0, 0, 0, 0]],
    ['255.255.255.255', [255, 255, 255, 255]],
    ['010.001.1.1', [10, 1, 1, 1]],
    ['::', new Array<number>(16).fill(0)],
    ['::1', [...new Array<number>(15).fill(0), 1]],
    ['2001:db8::1', [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
    ['::ffff:1.2.3.4', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]],
    ['1:2:3:4:5:6:7:8', [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
    ['1:2:3:4:5:6:1.2.3.4', [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4]],
    ['fe80::', [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    // Go 1.13 bounds each part's value, not its length: leading zeros are free.
    ['1.2.3.000000004', [1, 2, 3, 4]],
    ['::00001', [...new Array<number>(15).fill(0), 1]],
    ['0000000fe80::', [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
  ])('parses %s', (text, bytes) => {
    expect(call('ip', text)).toEqual(new Uint8Array(bytes));
  });

  it.each(['', '10.1.12', '256.1.1.1', '1.2.3.4.5', '1.2.3.-4', 'a.b.c.d', '::1::', '1:2:3:4:5:6:7:8:9', '1::2::3',
    'fe80::1%eth0', '12345::', '000010000::', '1.2.3.0000256', '1:2:3:4:5:6:7::8', ':1', 'localhost'])('rejects %j', (text) => {
    expect(callError('ip', text)).toBe(`could not convert ${text} to IP_ADDRESS`);
  });
});

describe('timestamp', () => {
  it.each([
    ['2015-01-02T15:04:35Z', 1420211075, 0],
    ['1970-01-01T00:00:00Z', 0, 0],
    ['1969-12-31T23:59:59Z', -1, 0],
    ['2015-01-02T15:04:35.5Z', 1420211075, 500_000_000],
    ['2015-01-02T15:04:35.123456789Z', 1420211075, 123_456_789],
    ['2015-01-02T15:04:35.1234567899Z', 1420211075, 123_456_789],
    ['2015-01-02T16:04:35+01:00', 1420211075, 0],
    ['2015-01-02T10:04:35-05:00', 1420211075, 0],
    ['2016-02-29T00:00:00Z', 1456704000, 0],
    ['0001-01-01T00:00:00Z', -62135596800, 0],
    // The layout's hour ("15") takes one or two digits in Go; Go 1.13 does not range-check offsets.
    ['2015-01-02T1:04:35Z', 1420160675, 0],
    ['2015-01-02T15:04:35+24:00', 1420124675, 0],
    ['2015-01-02T15:04:35-00:99', 1420217015, 0],
  ])('parses %s', (text, seconds, nanos) => {
    expect(call('timestamp', text)).toEqual(new Timestamp(seconds, nanos));
  });

  it.each(['', '242233', '2015-01-02 15:04:35Z', '2015-01-02t15:04:35Z', '2015-01-02T15:04:35z', '2015-01-02T15:04:35',
    '2015-02-29T00:00:00Z', '2015-13-01T00:00:00Z', '2015-01-02T24:00:00Z', '2015-01-02T15:60:00Z',
    '2015-01-02T15:04:60Z', '15-01-02T15:04:35Z', '2015-01-02T15:04:35.Z', '2015-01-02T15:04:35+0100',
    '2015-01-02T015:04:35Z', '2015-01-02T15:4:35Z', '2015-1-02T15:04:35Z', '2015-01-02T15:04:35+1:00'])(
    'rejects %j with the expected format',
    (text) => {
      expect(callError('timestamp', text)).toBe(
        `could not convert '${text}' to TIMESTAMP. expected format: '2006-01-02T15:04:05Z07:00'`,
      );
    },
  );
});

describe('dnsName', () => {
  it.each([
    ['foo.bar.baz', 'foo.bar.baz'],
    ['Foo.Bar.', 'Foo.Bar.'],
    ['localhost', 'localhost'],
    ['a-b.c0', 'a-b.c0'],
    ['xn--bcher-kva.de', 'bücher.de'],
    ['bücher.de', 'bücher.de'],
    ['reviews.default.svc.cluster.local', 'reviews.default.svc.cluster.local'],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
  ])('accepts %j and returns its Unicode form %j', (text, unicode) => {
    expect(call('dnsName', text)).toBe(unicode);
  });

  it.each([
    '', '.', 'a..b', '.a', '-a.com', 'a-.com', 'a_b.com', 'a b.com', 'ab--cd.com', 'xn--.com', 'xn--a.com',
    `${'a'.repeat(64)}.com`, Array.from({ length: 64 }, () => 'abc').join('.'), 'a@b', 'e\u0301x.com'.normalize('NFD'),
  ])('rejects %j', (text) => {
    expect(callError('dnsName', text)).toMatch(new RegExp(`^error converting '${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' to dns name: '.+'$`));
  });
});

describe('email', () => {
  it.each(['user@example.com', '<user@example.com>', 'a.b+c@x.org', '"john doe"@example.com', 'user@bücher.de'])(
    'accepts %j and returns it unchanged',
    (text) => {
      expect(call('email', text)).toBe(text);
    },
  );

  it.each([
    ['example.com', 'mail: missing @ in addr-spec'],
    ['user@', 'mail: invalid domain'],
    ['@example.com', 'mail: invalid string'],
    ['a..b@example.com', 'mail: invalid string'],
  ])('rejects %j (%s)', (text, reason) => {
    expect(callError('email', text)).toBe(`error converting '${text}' to e-mail: '${reason}'`);
  });

  it('answers an empty or blank address with Go\'s "no address", as Mixer\'s own tests expect', () => {
    expect(callError('email', '')).toBe("error converting '' to e-mail: 'mail: no address'");
    expect(callError('email', ' \t ')).toBe("error converting ' \t ' to e-mail: 'mail: no address'");
  });

  it('skips only spaces and tabs around the address, as Go does', () => {
    expect(call('email', ' \ta@example.com\t ')).toBe(' \ta@example.com\t ');
    for (const text of ['a@example.com\n', '\na@example.com', 'a@example.com\r']) {
      expect(callError('email', text)).toMatch(/^error converting '.*' to e-mail: /s);
    }
  });

  it('words the display-name and domain errors as Mixer does', () => {
    // Unquoted, unlike the parse errors.
    expect(callError('email', 'John <john@example.com>')).toBe(
      "error converting 'John <john@example.com>' to e-mail: display names are not allowed",
    );
    // The whole dnsName() error of the domain, quoted.
    expect(callError('email', 'user@exa_mple.com')).toBe(
      `error converting 'user@exa_mple.com' to e-mail: 'error converting 'exa_mple.com' to dns name: 'idna: disallowed rune "_"''`,
    );
  });
});

describe('uri', () => {
  it.each(['http://example.com/a?b#c', 'https://user:pw@example.com:8443/', 'mailto:a@b', '/relative/path', 'x', 'urn:isbn:123',
    'http://[::1]:80/', 'a:b/c', '*'])('accepts %j and returns it unchanged', (text) => {
    expect(call('uri', text)).toBe(text);
  });

  it.each([
    ['', 'error converting string to uri: empty string'],
    // Go 1.13's url.Error text: "parse <url>: <problem>", the URL unquoted.
    [':foo', "error converting string to uri ':foo': 'parse :foo: missing protocol scheme'"],
    ['1a:b', "error converting string to uri '1a:b': 'parse 1a:b: first path segment in URL cannot contain colon'"],
    ['http://a b.com/', `error converting string to uri 'http://a b.com/': 'parse http://a b.com/: invalid character " " in host name'`],
    ['http://x:port/', `error converting string to uri 'http://x:port/': 'parse http://x:port/: invalid port ":port" after host'`],
    ['http://[::1/', "error converting string to uri 'http://[::1/': 'parse http://[::1/: missing ']' in host'"],
    ['/a%zz', `error converting string to uri '/a%zz': 'parse /a%zz: invalid URL escape "%zz"'`],
    ['http://x/\u0001', "error converting string to uri 'http://x/\u0001': 'parse http://x/\u0001: net/url: invalid control character in URL'"],
    // The URL named is the text before '#', or the whole text when the fragment fails, checked last.
    [':foo#x', "error converting string to uri ':foo#x': 'parse :foo: missing protocol scheme'"],
    [':foo#%zz', "error converting string to uri ':foo#%zz': 'parse :foo: missing protocol scheme'"],
    ['/a#%zz', `error converting string to uri '/a#%zz': 'parse /a#%zz: invalid URL escape "%zz"'`],
  ])('rejects %j', (text, message) => {
    expect(callError('uri', text)).toBe(message);
  });
});

describe('conditional and conditionalString', () => {
  it('choose by the condition', () => {
    expect(evaluate('conditional(ab, "y", "n")', manifest, { ab: true })).toBe('y');
    expect(evaluate('conditional(ab, 1, 2)', manifest, { ab: false })).toBe(2);
    expect(evaluate('conditionalString(ab, "y", "n")', manifest, { ab: false })).toBe('n');
  });
});

describe('conversions of constants', () => {
  it('are computed once at compile time when they succeed', () => {
    const e = compileOk('ip("1.2.3.4")', manifest);
    const bag = bagOf(manifest, {});
    expect(e.evaluate(bag)).toBe(e.evaluate(bag));
  });

  it('fail at evaluation time, not at compile time, as in Mixer', () => {
    const e = compileOk('ip("bad")', manifest);
    expect(() => e.evaluate(bagOf(manifest, {}))).toThrow('could not convert bad to IP_ADDRESS');
    expect(evaluate('conditional(ab, ip("bad"), ip("1.1.1.1"))', manifest, { ab: false })).toEqual(new Uint8Array([1, 1, 1, 1]));
  });
});
