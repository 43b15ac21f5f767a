import { describe, expect, it } from 'vitest';
import { compileRe2 } from '../../../src/core/expr/re2.js';

function matches(pattern: string, text: string): boolean {
  const r = compileRe2(pattern);
  if (!r.ok) throw new Error(`expected ${pattern} to compile: ${r.message}`);
  return r.regexp.test(text);
}

describe('RE2 patterns match what Go regexp matches', () => {
  it.each([
    ['abc', 'xabcx', true],
    ['^abc$', 'abc', true],
    // Go's $ without (?m) is only the end of text, not before a final newline.
    ['^abc$', 'abc\n', false],
    ['a.c', 'a\nc', false],
    ['a.c', 'a\rc', true],
    ['a.c', 'a\u2028c', true],
    ['(?s)a.c', 'a\nc', true],
    ['(?m)^b$', 'a\nb\nc', true],
    ['(?m)^b$', 'a\rb\rc', false],
    ['^b$', 'a\nb\nc', false],
    ['\\Aab\\z', 'ab', true],
    ['(?i)ABC', 'xabc', true],
    ['(?i)k', '\u212a', true],
    ['a(?i)bc', 'aBC', true],
    ['a(?i)bc', 'ABC', false],
    ['(?i:b)c', 'Bc', true],
    ['(?i:b)c', 'BC', false],
    ['x(?i:[a-c])', 'xB', true],
    ['x(?i:[a-c])', 'XB', false],
    ['(?i)a|b', 'B', true],
    ['\\d+', 'a12', true],
    ['\\d', '٣', false],
    ['\\s', '\u00a0', false],
    ['\\s', '\v', false],
    ['\\s', '\f', true],
    ['\\S', ' ', false],
    ['\\w', 'é', false],
    ['\\W', 'é', true],
    ['\\bfoo\\b', 'a foo b', true],
    ['\\Bfoo', 'afoo', true],
    ['[[:alpha:]]+', 'abc', true],
    ['^[[:^alpha:]]+$', 'abc', false],
    ['^[[:^alpha:]]+$', '123', true],
    ['[[:digit:][:upper:]]', 'Q', true],
    // Under (?i) RE2 folds a class, then negates it: whole-pattern (JS i flag) and partial (?i) alike.
    ['(?i)\\W', 's', false],
    ['(?i)\\W', '\u017f', false],
    ['(?i)\\W', '-', true],
    ['(?i)[\\W]', 'k', false],
    ['(?i)[[:^lower:]]', 'a', false],
    ['(?i)[[:^lower:]]', 'A', false],
    ['(?i)[[:^lower:]]', '1', true],
    ['x(?i)[[:^lower:]]', 'xA', false],
    ['x(?i)\\W', 'x\u212a', false],
    ['(?i)[^\\W]', '\u017f', true],
    ['\\Qa.b\\E', 'a.b', true],
    ['\\Qa.b\\E', 'axb', false],
    ['^\\Qab\\E*$', 'abbb', true],
    ['^\\Qab\\E*$', 'abab', false],
    ['\\Qa.b', 'a.b', true],
    ['\\pL', 'é', true],
    ['\\p{Greek}', 'α', true],
    ['\\p{^Greek}', 'α', false],
    ['\\PL', 'a', false],
    ['[\\p{Lu}\\d]', '5', true],
    ['\\p{Any}', '\n', true],
    ['[^a]', '\n', true],
    ['^x{2}$', 'xx', true],
    ['^x{2,}$', 'xxxx', true],
    ['^x{1,2}$', 'xxx', false],
    ['a{,2}', 'a{,2}', true],
    ['a{', 'a{', true],
    ['a}', 'a}', true],
    ['\\x{41}', 'A', true],
    ['\\x41', 'A', true],
    ['\\101', 'A', true],
    ['\\0', '\0', true],
    ['\\a\\f\\t\\n\\r\\v', '\x07\f\t\n\r\v', true],
    ['[a-c-e]', '-', true],
    ['[]a]', ']', true],
    ['[^]a]', ']', false],
    ['[a-]', '-', true],
    ['^(?U)a+$', 'aaa', true],
    ['^(?U)a+?$', 'aaa', true],
    ['\\.', '.', true],
    ['\\-', '-', true],
    ['[\\-]', '-', true],
    ['\\/', '/', true],
    ['\\@', '@', true],
    ['(?P<name>a)b', 'ab', true],
    ['a|b|', 'zz', true],
    ['(a|b)*c', 'ababc', true],
    ['^*a', 'a', true],
    ['é+', 'éé', true],
    ['😀', 'x😀', true],
    ['^.$', '😀', true],
  ])('`%s` on %j is %s', (pattern, text, result) => {
    expect(matches(pattern, text)).toBe(result);
  });
});

describe('patterns RE2 rejects are rejected with Go\'s messages', () => {
  it.each([
    ['(a', 'missing closing ): `(a`'],
    ['a)', 'unexpected ): `a)`'],
    ['[a', 'missing closing ]: `[a`'],
    ['*a', 'missing argument to repetition operator: `*`'],
    ['(?i)*', 'missing argument to repetition operator: `*`'],
    ['{2}', 'missing argument to repetition operator: `{2}`'],
    ['a**', 'invalid nested repetition operator: `**`'],
    ['a+*', 'invalid nested repetition operator: `+*`'],
    ['a*?+', 'invalid nested repetition operator: `*?+`'],
    ['x{2}{3}', 'invalid nested repetition operator: `{2}{3}`'],
    ['a{1001}', 'invalid repeat count: `{1001}`'],
    ['a{2,1}', 'invalid repeat count: `{2,1}`'],
    ['(?=a)', 'invalid or unsupported Perl syntax: `(?=`'],
    ['(?!a)', 'invalid or unsupported Perl syntax: `(?!`'],
    ['(?<=a)', 'invalid or unsupported Perl syntax: `(?<`'],
    ['(?<!a)', 'invalid or unsupported Perl syntax: `(?<`'],
    ['(?<n>a)', 'invalid or unsupported Perl syntax: `(?<`'],
    ['(?#c)', 'invalid or unsupported Perl syntax: `(?#`'],
    ['(?x)a', 'invalid or unsupported Perl syntax: `(?x`'],
    ['(?)', 'invalid or unsupported Perl syntax: `(?)`'],
    ['(?i-)a', 'invalid or unsupported Perl syntax: `(?i`'],
    ['(?P<>a)', 'invalid named capture: `(?P<>`'],
    ['(?P<a-b>x)', 'invalid named capture: `(?P<a-b>`'],
    ['\\1', 'invalid escape sequence: `\\1`'],
    ['(a)\\1', 'invalid escape sequence: `\\1`'],
    ['\\8', 'invalid escape sequence: `\\8`'],
    ['\\Z', 'invalid escape sequence: `\\Z`'],
    ['\\C', 'invalid escape sequence: `\\C`'],
    ['\\e', 'invalid escape sequence: `\\e`'],
    ['\\x{110000}', 'invalid escape sequence: `\\x{110000}`'],
    ['\\xZ', 'invalid escape sequence: `\\x`'],
    ['\\', 'trailing backslash at end of expression: ``'],
    ['[z-a]', 'invalid character class range: `z-a`'],
    ['\\p{Foo}', 'invalid character class range: `\\p{Foo}`'],
    ['[[:foo:]]', 'invalid character class range: `[:foo:]`'],
  ])('`%s` → error parsing regexp: %s', (pattern, detail) => {
    expect(compileRe2(pattern)).toEqual({ ok: false, message: `error parsing regexp: ${detail}` });
  });

  it('rejects nesting deeper than RE2 allows instead of overflowing the stack', () => {
    const r = compileRe2(`${'('.repeat(1500)}a${')'.repeat(1500)}`);
    expect(r).toMatchObject({ ok: false, message: expect.stringContaining('expression nests too deeply') });
  });
});
