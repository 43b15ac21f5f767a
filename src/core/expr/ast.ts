/**
 * Mixer's simplified expression tree (`mixer/pkg/lang/ast`): every expression is a constant, a
 * variable (attribute) or a function call; operators, indexing and methods are all calls.
 */
import type { Span } from './lexer.js';

export type { Span } from './lexer.js';

export type LiteralKind = 'int' | 'float' | 'string' | 'bool';

export interface LiteralNode {
  readonly kind: 'literal';
  readonly literal: LiteralKind;
  /**
   * Decoded value: DOUBLE as number, INT64 as number or (past 2^53 − 1) bigint, strings unquoted,
   * bools as boolean.
   */
  readonly value: number | bigint | string | boolean;
  /** How Mixer prints the constant in messages: the literal's source text (bools lower-cased). */
  readonly text: string;
  readonly span: Span;
}

export interface VariableNode {
  readonly kind: 'variable';
  /** The attribute name: a dotted identifier chain joined back together. */
  readonly name: string;
  readonly span: Span;
}

/** How a call was written; it decides nothing about typing but helps messages and spans. */
export type CallForm = 'operator' | 'index' | 'function' | 'method';

export interface CallNode {
  readonly kind: 'call';
  /** Go token name for operators (`EQ`, `OR`, `QUO`, `NOT`, `INDEX`, …) or the function name. */
  readonly name: string;
  readonly form: CallForm;
  /** The method target (`target.fn(args)`), absent for plain calls and operators. */
  readonly target?: ExprNode;
  readonly args: readonly ExprNode[];
  readonly span: Span;
  /** The operator token, `[`, or the function/method name: where name-related errors point. */
  readonly nameSpan: Span;
}

export type ExprNode = LiteralNode | VariableNode | CallNode;

/**
 * Mixer's `Expression.String()`: variables as `$name`, calls as `name(args)` or `target:name(args)`.
 * Type errors quote expressions in this form, so the text must match Mixer's byte for byte.
 */
export function renderExpr(e: ExprNode): string {
  switch (e.kind) {
    case 'literal':
      return e.text;
    case 'variable':
      return `$${e.name}`;
    case 'call': {
      const target = e.target === undefined ? '' : `${renderExpr(e.target)}:`;
      return `${target}${e.name}(${e.args.map(renderExpr).join(', ')})`;
    }
  }
}
