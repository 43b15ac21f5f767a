import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ADAPTERS } from '../../src/adapters/index.js';
import { compileConfig } from '../../src/core/config/compile.js';
import { parseConfigText } from '../../src/core/config/document.js';
import { formatConfigIssue } from '../../src/core/errors.js';
import { compileExpression } from '../../src/core/expr/index.js';
import { defaultConfigPath } from '../../src/cli/paths.js';
import { istioManifest } from '../support/vocabulary.js';
import { FUZZ_RUNS, FUZZ_TIMEOUT_MS, PER_INPUT_MS } from './budget.js';

const DEFAULT = readFileSync(`${defaultConfigPath()}/istio-1.4-telemetry.yaml`, 'utf8');
const ISSUE_LINE = /^[^\n]+:\d+:\d+: [^\n]*\[[A-Z][A-Z0-9_]*\]$/;

function loadOrExplain(text: string): void {
  const t0 = performance.now();
  const { documents, issues } = parseConfigText(text, 'fuzz.yaml');
  const compiled = compileConfig(documents, { adapters: ADAPTERS });
  const all = [...issues, ...compiled.issues];
  for (const i of all) expect(formatConfigIssue(i)).toMatch(ISSUE_LINE);
  // Either it is a valid config or at least one error says why.
  if (!compiled.snapshot || issues.length > 0) expect(all.some((i) => i.severity === 'error')).toBe(true);
  expect(performance.now() - t0).toBeLessThan(PER_INPUT_MS * 10);
}

describe('the config loader under fuzzing', () => {
  it('answers random text with issues in file:line:col form, never a crash', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), loadOrExplain), { numRuns: FUZZ_RUNS });
  }, FUZZ_TIMEOUT_MS);

  it('answers the default config with random edits (deleted, duplicated or replaced spans) the same way', () => {
    const edited = fc.tuple(fc.nat(DEFAULT.length), fc.nat(200), fc.oneof(fc.constant(''), fc.string({ maxLength: 30 }), fc.constantFrom('{', ']', ': ', '\n  - ', '"', "'", '|', '&a', '*a', '!!binary', '\t'))).map(([at, len, insert]) => DEFAULT.slice(0, at) + insert + DEFAULT.slice(at + len));
    fc.assert(fc.property(edited, loadOrExplain), { numRuns: Math.max(20, Math.floor(FUZZ_RUNS / 5)) });
  }, FUZZ_TIMEOUT_MS * 2);

  it('survives YAML alias bombs', () => {
    const bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n';
    loadOrExplain(bomb);
  });
});

describe('the expression compiler under fuzzing', () => {
  const manifest = istioManifest();
  const tokens = fc.constantFrom('request.size', 'response.code', 'source.labels', '"app"', '[', ']', '(', ')', '|', '||', '&&', '==', '!=', '<', '+', '-', '!', ',', '.', 'match', 'conditional', 'ip', 'dnsName', 'timestamp', '"10ms"', '"0"', '1', '1.5', 'true', '`raw`', "'c'", '"\\x"', '"*"', '.matches', '.startsWith', 'emptyStringMap()', ' ');
  const check = (text: string): void => {
    const t0 = performance.now();
    const r = compileExpression(text, manifest);
    if (!r.ok) {
      expect(r.errors.length).toBeGreaterThan(0);
      for (const d of r.errors) {
        expect(d.code).toMatch(/^EXPR_/);
        expect(d.start).toBeGreaterThanOrEqual(0);
        expect(d.end).toBeLessThanOrEqual(Math.max(text.length, d.start + 1));
      }
    }
    expect(performance.now() - t0).toBeLessThan(PER_INPUT_MS);
  };

  it('answers random text with diagnostics that point into it', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), check), { numRuns: FUZZ_RUNS });
  }, FUZZ_TIMEOUT_MS);

  it('answers random token soup the same way', () => {
    fc.assert(fc.property(fc.array(tokens, { maxLength: 40 }).map((t) => t.join('')), check), { numRuns: FUZZ_RUNS });
  }, FUZZ_TIMEOUT_MS);

  it('rejects deep nesting with a syntax error instead of overflowing the stack', () => {
    const r = compileExpression(`${'('.repeat(100_000)}1${')'.repeat(100_000)}`, manifest);
    expect(r.ok).toBe(false);
  });
});
