import { describe, expect, it } from 'vitest';
import { ValueType } from '../../../src/core/attributes/value-type.js';
import { INT64_MAX as MAX, INT64_MIN as MIN, P53, P53_1 } from '../../support/int64-arbitrary.js';
import { evaluate, manifestOf } from './helpers.js';

const { INT64, STRING } = ValueType;
const manifest = manifestOf({ ai: INT64, bi: INT64, as: STRING });

describe('INT64 values past 2^53 in expressions, exact as Go int64', () => {
  it('reads integer literals exactly, up to int64 max', () => {
    expect(evaluate('9007199254740993', manifest)).toBe(P53_1);
    expect(evaluate('9223372036854775807', manifest)).toBe(MAX);
    // Below 2^53 a literal stays a plain number.
    expect(evaluate('9007199254740991', manifest)).toBe(9007199254740991);
  });

  it('compares an attribute with a big literal with ==, telling apart values a double cannot', () => {
    expect(evaluate('ai == 9007199254740993', manifest, { ai: P53_1 })).toBe(true);
    expect(evaluate('ai == 9007199254740993', manifest, { ai: P53 })).toBe(false);
    expect(evaluate('ai != 9007199254740993', manifest, { ai: P53 })).toBe(true);
    expect(evaluate('9223372036854775807 == ai', manifest, { ai: MAX })).toBe(true);
    expect(evaluate('ai == 9223372036854775807', manifest, { ai: MAX - 1n })).toBe(false);
    expect(evaluate('ai == 9007199254740993', manifest, { ai: 5 })).toBe(false);
  });

  it('compares two int64 attributes with ==', () => {
    expect(evaluate('ai == bi', manifest, { ai: MAX, bi: MAX })).toBe(true);
    expect(evaluate('ai == bi', manifest, { ai: MAX, bi: MAX - 1n })).toBe(false);
    expect(evaluate('ai == bi', manifest, { ai: MIN, bi: MIN })).toBe(true);
    expect(evaluate('ai == bi', manifest, { ai: MIN, bi: 0 })).toBe(false);
  });

  it('orders big values exactly, against big literals, small literals and each other', () => {
    expect(evaluate('ai < 9007199254740993', manifest, { ai: P53 })).toBe(true);
    expect(evaluate('ai < 9007199254740993', manifest, { ai: P53_1 })).toBe(false);
    expect(evaluate('ai <= 9007199254740993', manifest, { ai: P53_1 })).toBe(true);
    expect(evaluate('ai > 9223372036854775806', manifest, { ai: MAX })).toBe(true);
    expect(evaluate('ai >= 9223372036854775807', manifest, { ai: MAX - 1n })).toBe(false);
    expect(evaluate('ai > 5', manifest, { ai: P53_1 })).toBe(true);
    expect(evaluate('ai < 0', manifest, { ai: MIN })).toBe(true);
    expect(evaluate('ai < bi', manifest, { ai: MIN, bi: MIN + 1n })).toBe(true);
    expect(evaluate('ai < bi', manifest, { ai: 3, bi: P53_1 })).toBe(true);
    expect(evaluate('ai > bi', manifest, { ai: -3, bi: -P53_1 })).toBe(true);
  });

  it('adds exactly past 2^53, where doubles would round', () => {
    expect(evaluate('ai + 2', manifest, { ai: 9007199254740991 })).toBe(P53_1);
    expect(evaluate('ai + bi', manifest, { ai: P53_1, bi: P53_1 })).toBe(2n * P53_1);
    // Back below 2^53 the sum is a plain number again.
    expect(evaluate('ai + 1', manifest, { ai: -P53 })).toBe(-9007199254740991);
  });

  it('wraps around on overflow as Go int64 addition does', () => {
    expect(evaluate('9223372036854775807 + 1', manifest)).toBe(MIN);
    expect(evaluate('ai + 1', manifest, { ai: MAX })).toBe(MIN);
    expect(evaluate('ai + bi', manifest, { ai: MAX, bi: MAX })).toBe(-2);
    expect(evaluate('ai + bi', manifest, { ai: MIN, bi: -1 })).toBe(MAX);
    expect(evaluate('ai + bi', manifest, { ai: MIN, bi: MIN })).toBe(0);
    expect(evaluate('ai + 9223372036854775807 == 9223372036854775806', manifest, { ai: MAX })).toBe(false);
    expect(evaluate('ai + 9223372036854775807 == 9223372036854775806', manifest, { ai: -1 })).toBe(true);
  });

  it('passes big values through `|` and conditional unchanged', () => {
    expect(evaluate('ai | 9223372036854775807', manifest)).toBe(MAX);
    expect(evaluate('ai | 0', manifest, { ai: MIN })).toBe(MIN);
    expect(evaluate('conditional(as == "x", 9007199254740993, ai)', manifest, { as: 'x', ai: 1 })).toBe(P53_1);
  });
});
