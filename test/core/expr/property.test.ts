import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValueType } from '../../../src/core/attributes/value-type.js';
import { compileExpression, ExprEvalError } from '../../../src/core/expr/index.js';
import { compileRe2 } from '../../../src/core/expr/re2.js';
import { bagOf, manifestOf, stringMap } from './helpers.js';

const manifest = manifestOf({
  as: ValueType.STRING, ai: ValueType.INT64, ab: ValueType.BOOL, ar: ValueType.STRING_MAP,
  'a.b': ValueType.STRING, aip: ValueType.IP_ADDRESS,
});

// Fragments that make random input look like CEXL often enough to reach the checker and compiler.
const FRAGMENTS = [
  'as', 'ai', 'ab', 'ar', 'a.b', 'aip', 'x', ' ', '.', '(', ')', '[', ']', ',', '|', '||', '&&', '==', '!=', '<', '>=',
  '+', '-', '!', '*', '/', '"s"', '"10ms"', '"0"', '`r`', "'c'", '1', '1.5', '0x1', 'true', 'FALSE', 'match', 'matches',
  'startsWith', 'conditional', 'size', 'ip', 'timestamp', 'dnsName', 'emptyStringMap', 'toLower', '"(?=x)"', '"a*"',
  '"\\', '\n', '/*', '*/', '@', '$', 'map', '{', '}', '...', ':',
];

const cexlish = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 25 }).map((parts) => parts.join(''));
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 40 }), cexlish);

const bag = bagOf(manifest, { as: 's', ai: 1, ab: true, ar: stringMap({ s: 'v' }), 'a.b': '1.2.3.4' });

describe('compileExpression on arbitrary text', () => {
  it('never throws: it returns a compiled expression or diagnostics with offsets inside the text', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const r = compileExpression(text, manifest);
        if (r.ok) return;
        expect(r.errors.length).toBeGreaterThan(0);
        for (const e of r.errors) {
          expect(e.code).toMatch(/^EXPR_/);
          expect(e.message).not.toBe('');
          expect(0 <= e.start && e.start <= e.end && e.end <= text.length).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('yields expressions whose evaluation returns a value or throws only ExprEvalError', () => {
    fc.assert(
      fc.property(cexlish, (text) => {
        const r = compileExpression(text, manifest);
        if (!r.ok) return;
        try {
          r.expr.evaluate(bag);
        } catch (e) {
          expect(e).toBeInstanceOf(ExprEvalError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('compileRe2 on arbitrary patterns', () => {
  const reFragments = ['a', 'b', '.', '*', '+', '?', '{2}', '{1,', '}', '(', ')', '(?i)', '(?:', '(?P<n>', '[', ']', '^', '-',
    '\\', '\\d', '\\p{L}', '\\Q', '\\E', '[:alpha:]', '|', '$', 'é', '(?s', ':'];
  const pattern = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.array(fc.constantFrom(...reFragments), { maxLength: 15 }).map((p) => p.join('')),
  );

  it('never throws: it compiles or reports an RE2 parse error', () => {
    fc.assert(
      fc.property(pattern, (p) => {
        const r = compileRe2(p);
        if (!r.ok) expect(r.message).toMatch(/^error parsing regexp: /);
        else expect(typeof r.regexp.test('abc')).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });
});
