/**
 * CEXL, Mixer's expression language (spec §4): compile once per config load against the attribute
 * manifest, then evaluate per attribute bag.
 *
 * Deliberate differences from Mixer 1.4, each in the direction of reporting problems earlier:
 * - all independent errors of an expression are reported (Mixer stops at the first; ours comes first);
 * - unknown attributes and functions get a "did you mean" hint;
 * - extra function arguments are an arity error (Mixer ignores them at check time);
 * - a literal `matches` pattern that RE2 would reject is a config error (Mixer fails every evaluation);
 * - `==` on DNS_NAME / EMAIL_ADDRESS / URI values that do not parse compares the raw text instead of
 *   failing the expression;
 * - `dnsName()` also enforces label/name lengths and letters-digits-hyphens on ASCII labels (Mixer's
 *   ToUnicode skipped them) but not the IDNA bidi rule;
 * - `ip()` of an IPv4 address is 4 bytes (Go's net.ParseIP gives the 16-byte mapped form; the two are
 *   equal under `==`).
 */
import type { AttributeBag } from '../attributes/bag.js';
import type { AttributeManifest } from '../attributes/manifest.js';
import type { AttributeValue } from '../attributes/value.js';
import type { ValueType } from '../attributes/value-type.js';
import type { ErrorCode } from '../errors.js';
import { checkExpression, type TypedExpr } from './checker.js';
import { compileTyped } from './compiler.js';
import { ExprEvalError } from './eval-error.js';
import { parseExpression } from './parser.js';

export { ExprEvalError } from './eval-error.js';
export { parseGoDuration, type DurationResult } from './duration.js';

export interface CompiledExpression {
  readonly text: string;
  readonly type: ValueType;
  /** Names of the attributes the expression mentions, each once, in source order. */
  readonly attributes: readonly string[];
  /**
   * Throws ExprEvalError (a TelemuxError with code 'EXPR_EVAL') on evaluation errors. Returned
   * values may be shared between evaluations (constants, `emptyStringMap()`): do not mutate them.
   */
  evaluate(bag: AttributeBag): AttributeValue;
}

export interface ExprDiagnostic {
  readonly code: ErrorCode;
  readonly message: string;
  /** Offsets into the expression text (UTF-16 code units), end exclusive. */
  readonly start: number;
  readonly end: number;
}

export type CompileResult =
  | { readonly ok: true; readonly expr: CompiledExpression }
  | { readonly ok: false; readonly errors: readonly ExprDiagnostic[] };

export function compileExpression(text: string, manifest: AttributeManifest): CompileResult {
  if (text.trim() === '') {
    return { ok: false, errors: [{ code: 'EXPR_SYNTAX', message: 'empty expression', start: 0, end: text.length }] };
  }
  const parsed = parseExpression(text);
  if (!parsed.ok) return { ok: false, errors: [{ code: 'EXPR_SYNTAX', ...parsed.error }] };
  const checked = checkExpression(parsed.expr, manifest);
  if (!checked.ok) return { ok: false, errors: checked.errors };
  const run = compileTyped(checked.expr);
  return {
    ok: true,
    expr: {
      text,
      type: checked.expr.type,
      attributes: attributeNames(checked.expr),
      evaluate: (bag) => {
        try {
          return run(bag);
        } catch (e) {
          if (e instanceof ExprEvalError) throw e;
          // A bag value whose runtime variant does not match the manifest type (a decoder bug or a
          // hand-built bag) surfaces here as a TypeError; report it like any evaluation failure.
          throw new ExprEvalError(`error evaluating '${text}': ${e instanceof Error ? e.message : String(e)}`);
        }
      },
    },
  };
}

function attributeNames(expr: TypedExpr): string[] {
  const names = new Set<string>();
  const visit = (e: TypedExpr): void => {
    if (e.kind === 'attribute') names.add(e.name);
    if (e.kind !== 'call') return;
    if (e.target !== undefined) visit(e.target);
    e.args.forEach(visit);
  };
  visit(expr);
  return [...names];
}
