/**
 * Types an expression tree against the attribute vocabulary, with Mixer's rules and messages
 * (`ast.Function.EvalType`): template typing, exact type equality, and the per-type limits of Mixer's
 * code generator (no DURATION equality, ordering only on STRING/INT64/DOUBLE/TIMESTAMP, …).
 *
 * Unlike Mixer it does not stop at the first problem: independent errors (two misspelt attributes)
 * are all reported, in Mixer's checking order, so the first one is the error Mixer itself reports.
 */
import type { AttributeManifest } from '../attributes/manifest.js';
import type { AttributeValue } from '../attributes/value.js';
import { ValueType, valueTypeName } from '../attributes/value-type.js';
import type { ErrorCode } from '../errors.js';
import { renderExpr, type CallNode, type ExprNode, type LiteralNode, type Span, type VariableNode } from './ast.js';
import { parseGoDuration } from './duration.js';
import { CALLABLE_FUNCTION_NAMES, FUNCTIONS } from './functions.js';
import { compileRe2, type Re2Matcher } from './re2.js';
import { suggestName } from './suggest.js';

export interface TypedConstant {
  readonly kind: 'constant';
  readonly type: ValueType;
  readonly value: AttributeValue;
  readonly span: Span;
}

export interface TypedAttribute {
  readonly kind: 'attribute';
  readonly type: ValueType;
  readonly name: string;
  /** AttributeBag slot, from the manifest the expression was checked against. */
  readonly slot: number;
  readonly span: Span;
}

export interface TypedCall {
  readonly kind: 'call';
  /** The result type. */
  readonly type: ValueType;
  readonly name: string;
  readonly target?: TypedExpr;
  readonly args: readonly TypedExpr[];
  /** The template type (the operand type of `==`, `<`, `+`, `|`, …); UNSPECIFIED when none. */
  readonly operandType: ValueType;
  /** For `"literal".matches(x)`: the pattern, compiled once here. */
  readonly pattern?: Re2Matcher;
  readonly span: Span;
}

export type TypedExpr = TypedConstant | TypedAttribute | TypedCall;

export interface CheckDiagnostic {
  readonly code: ErrorCode;
  readonly message: string;
  readonly start: number;
  readonly end: number;
}

export type CheckResult =
  | { readonly ok: true; readonly expr: TypedExpr }
  | { readonly ok: false; readonly errors: readonly CheckDiagnostic[] };

/**
 * A subtree that failed to type. `type` is kept when the failure cannot change it (a function with
 * a fixed return type), so that the enclosing call can still be checked without cascading errors.
 */
interface Failed {
  readonly kind: 'failed';
  readonly type: ValueType | undefined;
}

type Checked = TypedExpr | Failed;

const UNSPECIFIED = ValueType.VALUE_TYPE_UNSPECIFIED;

export function checkExpression(node: ExprNode, manifest: AttributeManifest): CheckResult {
  const checker = new Checker(manifest);
  const result = checker.check(node);
  if (result.kind === 'failed' || checker.errors.length > 0) return { ok: false, errors: checker.errors };
  return { ok: true, expr: result };
}

class Checker {
  readonly errors: CheckDiagnostic[] = [];

  constructor(private readonly manifest: AttributeManifest) {}

  check(node: ExprNode): Checked {
    switch (node.kind) {
      case 'literal':
        return this.literal(node);
      case 'variable':
        return this.variable(node);
      case 'call':
        return this.call(node);
    }
  }

  private report(code: ErrorCode, message: string, at: Span): void {
    this.errors.push({ code, message, start: at.start, end: at.end });
  }

  private literal(node: LiteralNode): TypedConstant {
    const { value, span } = node;
    if (typeof value === 'boolean') return { kind: 'constant', type: ValueType.BOOL, value, span };
    if (typeof value === 'bigint') return { kind: 'constant', type: ValueType.INT64, value, span };
    if (typeof value === 'number') {
      return { kind: 'constant', type: node.literal === 'int' ? ValueType.INT64 : ValueType.DOUBLE, value, span };
    }
    // Mixer's rule: a string literal that parses as a Go duration is a DURATION constant ("0" included).
    const duration = parseGoDuration(value);
    if (duration.ok) return { kind: 'constant', type: ValueType.DURATION, value: duration.nanos, span };
    return { kind: 'constant', type: ValueType.STRING, value, span };
  }

  private variable(node: VariableNode): Checked {
    const slot = this.manifest.slotOf(node.name);
    if (slot < 0) {
      const suggestion = suggestName(node.name, this.manifest.names());
      const hint = suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`;
      this.report('EXPR_UNKNOWN_ATTRIBUTE', `unknown attribute ${node.name}${hint}`, node.span);
      return { kind: 'failed', type: undefined };
    }
    const type = this.manifest.attributes[slot]!.type;
    return { kind: 'attribute', type, name: node.name, slot, span: node.span };
  }

  /** Checks the children of a call that is already known to be wrong, for their own errors only. */
  private checkChildren(node: CallNode): void {
    if (node.target !== undefined) this.check(node.target);
    for (const a of node.args) this.check(a);
  }

  private call(node: CallNode): Checked {
    const sig = FUNCTIONS.get(node.name);
    if (sig === undefined) {
      let message = `unknown function: ${node.name}`;
      if (node.form === 'function' || node.form === 'method') {
        const suggestion = suggestName(node.name, CALLABLE_FUNCTION_NAMES);
        if (suggestion !== undefined) message += ` (did you mean ${suggestion}?)`;
      }
      this.report('EXPR_UNKNOWN_FUNCTION', message, node.nameSpan);
      this.checkChildren(node);
      return { kind: 'failed', type: undefined };
    }
    const fixedReturn = sig.returnType === UNSPECIFIED ? undefined : sig.returnType;
    const failed: Failed = { kind: 'failed', type: fixedReturn };
    const shown = (): string => renderExpr(node);
    let ok = true;

    // Template typing: the first template position fixes the type; 'poisoned' when that position
    // failed to type, which silences comparisons against it.
    let template: ValueType = UNSPECIFIED;
    let templateState: 'unset' | 'set' | 'poisoned' = 'unset';

    let target: TypedExpr | undefined;
    if (node.target !== undefined) {
      if (!sig.instance) {
        this.report('EXPR_TYPE', `invoking regular function on instance method: ${node.name}`, node.nameSpan);
        this.checkChildren(node);
        return failed;
      }
      const t = this.check(node.target);
      const wanted = sig.targetType ?? UNSPECIFIED;
      if (wanted === UNSPECIFIED) {
        if (t.type === undefined) templateState = 'poisoned';
        else [template, templateState] = [t.type, 'set'];
      } else if (t.type !== undefined && t.type !== wanted) {
        this.report(
          'EXPR_TYPE',
          `${shown()} target typeError got ${valueTypeName(t.type)}, expected ${valueTypeName(wanted)}`,
          node.target.span,
        );
        ok = false;
      }
      if (t.kind === 'failed') ok = false;
      else target = t;
    } else if (sig.instance) {
      this.report('EXPR_TYPE', `invoking instance method without an instance: ${node.name}`, node.nameSpan);
      this.checkChildren(node);
      return failed;
    }

    // Mixer rejects too few arguments and never looks at extra ones, which then misbehave at run time;
    // extras are rejected here too.
    if (node.args.length !== sig.argTypes.length) {
      this.report(
        'EXPR_ARITY',
        `${shown()} arity mismatch. Got ${node.args.length} arg(s), expected ${sig.argTypes.length} arg(s)`,
        node.nameSpan,
      );
      for (const a of node.args) this.check(a);
      return failed;
    }

    const args: TypedExpr[] = [];
    for (let i = 0; i < node.args.length; i++) {
      const argNode = node.args[i]!;
      const a = this.check(argNode);
      let wanted = sig.argTypes[i]!;
      if (wanted === UNSPECIFIED) {
        if (templateState === 'unset') {
          if (a.type === undefined) templateState = 'poisoned';
          else [template, templateState] = [a.type, 'set'];
        } else if (templateState === 'set') {
          wanted = template;
        }
      }
      if (wanted !== UNSPECIFIED && a.type !== undefined && a.type !== wanted) {
        this.report(
          'EXPR_TYPE',
          `${shown()} arg ${i + 1} (${renderExpr(argNode)}) typeError got ${valueTypeName(a.type)}, expected ${valueTypeName(wanted)}`,
          argNode.span,
        );
        ok = false;
      }
      if (a.kind === 'failed') ok = false;
      else args.push(a);
    }
    if (!ok) return failed;

    if (sig.implementedFor !== undefined && !sig.implementedFor.types.has(template)) {
      this.report(
        'EXPR_TYPE',
        `${shown()}: ${sig.implementedFor.operation} for type not yet implemented: ${valueTypeName(template)}`,
        node.nameSpan,
      );
      return failed;
    }

    let pattern: Re2Matcher | undefined;
    if (sig.name === 'matches' && target?.kind === 'constant' && typeof target.value === 'string') {
      // RE2 rejects what JS would accept (backreferences, lookaround): catch it here, at config time.
      const compiled = compileRe2(target.value);
      if (!compiled.ok) {
        this.report('EXPR_CONSTANT', `${shown()} target is not a valid pattern: ${compiled.message}`, target.span);
        return failed;
      }
      pattern = compiled.regexp;
    }

    return {
      kind: 'call',
      type: fixedReturn ?? template,
      name: node.name,
      ...(target === undefined ? {} : { target }),
      args,
      operandType: template,
      ...(pattern === undefined ? {} : { pattern }),
      span: node.span,
    };
  }
}
