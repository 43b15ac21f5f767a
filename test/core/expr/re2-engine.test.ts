import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRe2 } from '../../../src/core/expr/re2.js';

function matcher(pattern: string): { test(s: string): boolean } {
  const r = compileRe2(pattern);
  if (!r.ok) throw new Error(`expected ${pattern} to compile: ${r.message}`);
  return r.regexp;
}

describe('matches() takes time linear in the subject, as RE2 does', () => {
  // Each of these backtracks exponentially or polynomially in a backtracking engine (JS RegExp,
  // PCRE): a proxy-supplied header of this shape would stall the Report path for minutes or more.
  const long = 'a'.repeat(20_000);
  it.each([
    ['^(a+)+$', `${long}b`, false],
    ['(a|aa)*c', long, false],
    ['(a*)*b', long, false],
    ['^(\\w+\\s?)*$', `${'word '.repeat(4_000)}!`, false],
    ['.*.*.*=.*=', `${'='.repeat(20_000)}`, true],
    ['.*.*.*=x', `${'='.repeat(20_000)}`, false],
    ['(x+x+)+y', 'x'.repeat(20_000), false],
    ['^(a|a?)+$', `${long}!`, false],
    ['(?i)(A+)+$', `${long}b`, false],
    ['(?m)^(a+)+$', `${long}b\n${long}`, true],
  ])('`%s` on a hostile subject (%#)', (pattern, subject, expected) => {
    expect(matcher(pattern).test(subject)).toBe(expected);
  });

  it('keeps answering right when a pattern has more DFA states than the cache holds', () => {
    // `[ab]*a[ab]{12}` needs 2^13 DFA states: the cache starts over several times mid-subject.
    const re = matcher('[ab]*a[ab]{12}$');
    const js = /[ab]*a[ab]{12}$/u;
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let n = 0; n < 50; n++) {
      let s = '';
      for (let i = 0; i < 2_000; i++) s += random() % 2 === 0 ? 'a' : 'b';
      expect(re.test(s)).toBe(js.test(s));
      expect(re.test(`${s}c`)).toBe(false);
    }
  });

  it('keeps answering right on a subject of more distinct characters than the cache keeps transitions for', () => {
    // 60,000 distinct code points from U+0100: each is a transition of its own to cache.
    let distinct = '';
    for (let cp = 0x100; distinct.length < 60_000; cp++) if (cp < 0xd800 || cp >= 0xe000) distinct += String.fromCodePoint(cp);
    const cases: [string, string, boolean][] = [
      ['\\pL+z', `${distinct}éz`, true],
      ['\\pL+z', distinct, false],
      ['^(?:\\PL|\\pL)*z$', `${distinct}z`, true],
      ['^(?:\\PL|\\pL)*z$', distinct, false],
      ['^[\\x{100}-\\x{10FFFF}]+$', distinct, true],
      ['^[\\x{100}-\\x{10FFFF}]+$', `${distinct}a`, false],
    ];
    for (const [pattern, subject, expected] of cases) expect(matcher(pattern).test(subject), pattern).toBe(expected);
  });

  it('rejects a pattern whose counted repetitions expand past the size Go accepts', () => {
    // Go refuses nested counts that multiply past 1000 copies (repeatIsValid), quoting the outer count.
    expect(compileRe2('(a{1000}){1000}')).toEqual({
      ok: false,
      message: 'error parsing regexp: invalid repeat count: `{1000}`',
    });
    // Go 1.13 accepts a long run of large counts; Telemux refuses it, as Go 1.19 and later do.
    const long = 'a{1000}'.repeat(300);
    expect(compileRe2(long)).toEqual({ ok: false, message: `error parsing regexp: expression too large: \`${long}\`` });
    expect(compileRe2('[a-z]{1000}').ok).toBe(true);
  });
});

describe('word boundaries are ASCII, as in Go, whatever the case flag', () => {
  it.each([
    // ſ folds to s under (?i) but is not an ASCII word character, so there is no boundary before it.
    ['(?i)\\bs', '\u017f', false],
    ['(?i)\\bs', 's', true],
    ['(?i)x\\b', 'x\u212a', true],
    ['\\bé', ' é', false],
  ])('`%s` on %j is %s', (pattern, subject, expected) => {
    expect(matcher(pattern).test(subject)).toBe(expected);
  });
});

/**
 * Patterns from a grammar on which RE2 and JS RegExp agree (with the JS flags named), rendered in
 * each syntax. Subjects avoid \r, \u2028 and \u2029, where JS `.` and `(?m)` differ from RE2.
 */
type Shape = { re2: string; js: string };

const leaf: fc.Arbitrary<Shape> = fc.constantFrom(
  ...['a', 'b', 'A', '.', '[ab]', '[^a]', '[a-c]', '\\d', '\\w', '\\W', '\\s', ' ', '-', '\\b', '\\B', '^', '$'].map(
    (s) => ({ re2: s, js: s }),
  ),
  // Beginning and end of text whatever the flags: JS `^` and `$` follow lines under the m flag.
  { re2: '\\A', js: '(?<![^])' },
  { re2: '\\z', js: '(?![^])' },
  { re2: '[[:alpha:]]', js: '[A-Za-z]' },
  { re2: '\\pL', js: '\\p{L}' },
);

const quantifiers = ['*', '+', '?', '{2}', '{0,2}', '{1,}', '{1,3}', '*?', '+?'];

const shape: fc.Arbitrary<Shape> = fc.letrec<{ node: Shape }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('node'), { minLength: 2, maxLength: 4 }).map((xs) => ({
      re2: xs.map((x) => x.re2).join(''),
      js: xs.map((x) => x.js).join(''),
    })),
    fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((xs) => ({
      re2: `(?:${xs.map((x) => x.re2).join('|')})`,
      js: `(?:${xs.map((x) => x.js).join('|')})`,
    })),
    fc.tuple(tie('node'), fc.constantFrom(...quantifiers)).map(([x, q]) => ({ re2: `(?:${x.re2})${q}`, js: `(?:${x.js})${q}` })),
  ),
})).node;

const flagSets: readonly { re2: string; js: string }[] = [
  { re2: '', js: 'u' },
  { re2: '(?i)', js: 'iu' },
  { re2: '(?s)', js: 'su' },
  { re2: '(?m)', js: 'mu' },
  { re2: '(?ims)', js: 'imsu' },
];

const subject = fc.array(fc.constantFrom('a', 'b', 'c', 'A', '1', ' ', '-', '\n', 'é', '_'), { maxLength: 12 }).map((cs) => cs.join(''));

describe('the linear-time engine answers as V8\'s backtracking RegExp does where the two syntaxes agree', () => {
  it('on generated patterns, flags and subjects', () => {
    fc.assert(
      fc.property(shape, fc.constantFrom(...flagSets), fc.array(subject, { minLength: 1, maxLength: 8 }), (p, flags, subjects) => {
        // Under (?i) JS folds \w and \b beyond ASCII (ſ, K); the subjects hold neither.
        const re2 = matcher(`${flags.re2}${p.re2}`);
        const js = new RegExp(p.js, flags.js);
        for (const s of subjects) expect(re2.test(s), `${flags.re2}${p.re2} on ${JSON.stringify(s)}`).toBe(js.test(s));
      }),
      { numRuns: 3000 },
    );
  });
});
