/**
 * Go's expression grammar (what `go/parser.ParseExpr` accepts), followed by Mixer's mapping of the Go
 * tree onto its constant/variable/call tree. Both steps live here because together they decide what
 * a CEXL text means; typing is the checker's job.
 */
import { int64FromBigInt } from '../attributes/int64.js';
import type { CallNode, ExprNode, LiteralNode } from './ast.js';
import { ExprSyntaxError, Lexer, type Span, type Token } from './lexer.js';

export interface ParseDiagnostic {
  readonly message: string;
  readonly start: number;
  readonly end: number;
}

export type ParseResult =
  | { readonly ok: true; readonly expr: ExprNode }
  | { readonly ok: false; readonly error: ParseDiagnostic };

/**
 * Deeper trees are rejected: the checker and the compiled closures recurse once per level, and no
 * real config comes anywhere near this.
 */
export const MAX_EXPRESSION_DEPTH = 200;

// Go's token names, which Mixer uses as function names for operators (`tMap` in ast/expr.go).
const OPERATOR_NAMES: Readonly<Record<string, string>> = {
  '+': 'ADD', '-': 'SUB', '*': 'MUL', '/': 'QUO', '%': 'REM',
  '&': 'AND', '|': 'OR', '^': 'XOR', '<<': 'SHL', '>>': 'SHR', '&^': 'AND_NOT',
  '&&': 'LAND', '||': 'LOR',
  '==': 'EQ', '!=': 'NEQ', '<': 'LT', '<=': 'LEQ', '>': 'GT', '>=': 'GEQ',
  '!': 'NOT', '<-': 'ARROW',
};

const BINARY_PRECEDENCE: Readonly<Record<string, number>> = {
  '||': 1,
  '&&': 2,
  '==': 3, '!=': 3, '<': 3, '<=': 3, '>': 3, '>=': 3,
  '+': 4, '-': 4, '|': 4, '^': 4,
  '*': 5, '/': 5, '%': 5, '<<': 5, '>>': 5, '&': 5, '&^': 5,
};

const UNARY_OPERATORS: ReadonlySet<string> = new Set(['+', '-', '!', '^', '&', '<-']);

/** Go syntax tree, reduced to the node kinds Mixer distinguishes. */
type GoNode =
  | { readonly k: 'ident'; readonly tok: Token; readonly span: Span; readonly depth: number }
  | { readonly k: 'lit'; readonly tok: Token; readonly span: Span; readonly depth: number }
  | { readonly k: 'paren'; readonly x: GoNode; readonly span: Span; readonly depth: number }
  | { readonly k: 'selector'; readonly x: GoNode; readonly sel: Token; readonly span: Span; readonly depth: number }
  | {
      readonly k: 'index';
      readonly x: GoNode;
      readonly index: GoNode;
      readonly lbrack: Span;
      readonly span: Span;
      readonly depth: number;
    }
  | { readonly k: 'call'; readonly fun: GoNode; readonly args: readonly GoNode[]; readonly span: Span; readonly depth: number }
  | { readonly k: 'unary'; readonly op: Token; readonly x: GoNode; readonly span: Span; readonly depth: number }
  | {
      readonly k: 'binary';
      readonly op: Token;
      readonly x: GoNode;
      readonly y: GoNode;
      readonly span: Span;
      readonly depth: number;
    }
  /** Valid Go that CEXL has no meaning for: `*x`, `x.(T)`, `x[a:b]`, `T{…}`, `f(xs...)`. */
  | { readonly k: 'unsupported'; readonly span: Span; readonly depth: number };

function span(start: number, end: number): Span {
  return { start, end };
}

function tooDeep(at: Span): never {
  throw new ExprSyntaxError(`expression is nested more than ${MAX_EXPRESSION_DEPTH} levels deep`, at.start, at.end);
}

export function parseExpression(text: string): ParseResult {
  try {
    const goTree = new GoParser(text).parseTopLevel();
    return { ok: true, expr: lower(goTree, text) };
  } catch (e) {
    if (e instanceof ExprSyntaxError) return { ok: false, error: { message: e.message, start: e.start, end: e.end } };
    throw e;
  }
}

class GoParser {
  private readonly lexer: Lexer;
  private tok: Token;

  constructor(text: string) {
    this.lexer = new Lexer(text);
    this.tok = this.lexer.next();
  }

  parseTopLevel(): GoNode {
    const x = this.parseExpr(0);
    // Go's scanner inserts a semicolon at the end of the last line; ParseExpr swallows exactly that one.
    if (this.tok.kind === 'semicolon' && this.tok.text === '\n') this.advance();
    if (this.tok.kind !== 'eof') this.errorExpected("'EOF'");
    return x;
  }

  private advance(): void {
    this.tok = this.lexer.next();
  }

  private isOp(text: string): boolean {
    return this.tok.kind === 'op' && this.tok.text === text;
  }

  private expectOp(text: string): Token {
    const t = this.tok;
    if (!this.isOp(text)) this.errorExpected(`'${text}'`);
    this.advance();
    return t;
  }

  /** go/parser's errorExpected wording. */
  private errorExpected(what: string): never {
    const t = this.tok;
    let found: string;
    if (t.kind === 'semicolon' && t.text === '\n') found = 'newline';
    else if (t.kind === 'eof') found = "'EOF'";
    else if (t.kind === 'op' || t.kind === 'keyword' || t.kind === 'semicolon') found = `'${t.text}'`;
    else found = t.text;
    throw new ExprSyntaxError(`expected ${what}, found ${found}`, t.start, t.end);
  }

  /** Bounds the tree depth (left-associative chains grow it without recursing here). */
  private checkDepth(node: GoNode): GoNode {
    if (node.depth > MAX_EXPRESSION_DEPTH) tooDeep(node.span);
    return node;
  }

  private parseExpr(nesting: number): GoNode {
    return this.parseBinary(1, nesting);
  }

  /** Precedence climbing, exactly Go's parseBinaryExpr: all binary operators are left-associative. */
  private parseBinary(minPrec: number, nesting: number): GoNode {
    let x = this.parseUnary(nesting);
    for (;;) {
      if (this.tok.kind !== 'op') return x;
      // Go treats `=` in an expression as a misspelt `==` and reports it as such.
      if (this.tok.text === '=') {
        if (3 < minPrec) return x;
        this.errorExpected("'=='");
      }
      const prec = BINARY_PRECEDENCE[this.tok.text];
      if (prec === undefined || prec < minPrec) return x;
      const op = this.tok;
      this.advance();
      const y = this.parseBinary(prec + 1, nesting + 1);
      x = this.checkDepth({
        k: 'binary',
        op,
        x,
        y,
        span: span(x.span.start, y.span.end),
        depth: Math.max(x.depth, y.depth) + 1,
      });
    }
  }

  private parseUnary(nesting: number): GoNode {
    // Bounds the parser's own recursion (parentheses, unary operators, arguments).
    if (nesting > MAX_EXPRESSION_DEPTH) tooDeep(this.tok);
    const t = this.tok;
    if (t.kind === 'op' && UNARY_OPERATORS.has(t.text)) {
      this.advance();
      const x = this.parseUnary(nesting + 1);
      return this.checkDepth({ k: 'unary', op: t, x, span: span(t.start, x.span.end), depth: x.depth + 1 });
    }
    if (t.kind === 'op' && t.text === '*') {
      this.advance();
      const x = this.parseUnary(nesting + 1);
      return { k: 'unsupported', span: span(t.start, x.span.end), depth: x.depth + 1 };
    }
    return this.parsePrimary(nesting);
  }

  private parsePrimary(nesting: number): GoNode {
    let x = this.parseOperand(nesting);
    for (;;) {
      if (this.isOp('.')) {
        this.advance();
        if (this.tok.kind === 'ident') {
          const sel = this.tok;
          this.advance();
          x = this.checkDepth({ k: 'selector', x, sel, span: span(x.span.start, sel.end), depth: x.depth + 1 });
        } else if (this.isOp('(')) {
          // Type assertion `x.(T)` / `x.(type)`.
          this.advance();
          if (this.tok.kind === 'keyword' && this.tok.text === 'type') this.advance();
          else this.parseExpr(nesting + 1);
          const close = this.expectOp(')');
          x = { k: 'unsupported', span: span(x.span.start, close.end), depth: x.depth + 1 };
        } else {
          this.errorExpected('selector or type assertion');
        }
      } else if (this.isOp('[')) {
        const lbrack = this.tok;
        this.advance();
        let slice = false;
        let index: GoNode | undefined;
        if (!this.isOp(':')) index = this.parseExpr(nesting + 1);
        while (this.isOp(':')) {
          slice = true;
          this.advance();
          if (!this.isOp(':') && !this.isOp(']')) this.parseExpr(nesting + 1);
        }
        const close = this.expectOp(']');
        if (slice || index === undefined) {
          x = { k: 'unsupported', span: span(x.span.start, close.end), depth: x.depth + 1 };
        } else {
          x = this.checkDepth({
            k: 'index',
            x,
            index,
            lbrack: span(lbrack.start, lbrack.end),
            span: span(x.span.start, close.end),
            depth: Math.max(x.depth, index.depth) + 1,
          });
        }
      } else if (this.isOp('(')) {
        this.advance();
        const args: GoNode[] = [];
        let ellipsis = false;
        while (!this.isOp(')')) {
          args.push(this.parseExpr(nesting + 1));
          if (this.isOp('...')) {
            ellipsis = true;
            this.advance();
          }
          if (!this.isOp(',')) break;
          this.advance();
        }
        const close = this.expectOp(')');
        const s = span(x.span.start, close.end);
        const depth = args.reduce((d, a) => Math.max(d, a.depth), x.depth) + 1;
        x = ellipsis ? { k: 'unsupported', span: s, depth } : this.checkDepth({ k: 'call', fun: x, args, span: s, depth });
      } else if (this.isOp('{') && isLiteralType(x)) {
        // Composite literal `T{…}`: valid Go, meaningless in CEXL. Skip its balanced braces.
        let level = 0;
        let end = this.tok.end;
        do {
          if (this.tok.kind === 'eof') this.errorExpected("'}'");
          if (this.isOp('{')) level++;
          if (this.isOp('}')) level--;
          end = this.tok.end;
          this.advance();
        } while (level > 0);
        x = { k: 'unsupported', span: span(x.span.start, end), depth: x.depth + 1 };
      } else {
        return x;
      }
    }
  }

  private parseOperand(nesting: number): GoNode {
    const t = this.tok;
    switch (t.kind) {
      case 'ident':
        this.advance();
        return { k: 'ident', tok: t, span: span(t.start, t.end), depth: 1 };
      case 'int':
      case 'float':
      case 'imag':
      case 'char':
      case 'string':
        this.advance();
        return { k: 'lit', tok: t, span: span(t.start, t.end), depth: 1 };
      case 'op':
        if (t.text === '(') {
          this.advance();
          const x = this.parseExpr(nesting + 1);
          const close = this.expectOp(')');
          return { k: 'paren', x, span: span(t.start, close.end), depth: x.depth };
        }
        break;
      default:
        break;
    }
    return this.errorExpected('operand');
  }
}

/** go/parser's isLiteralType: the operands that may be followed by a composite literal body. */
function isLiteralType(x: GoNode): boolean {
  if (x.k === 'ident') return true;
  return x.k === 'selector' && x.x.k === 'ident';
}

// ----- Mixer's mapping from the Go tree (ast/expr.go `process`) -----

function unexpected(node: GoNode, text: string): never {
  throw new ExprSyntaxError(
    `unexpected expression: ${text.slice(node.span.start, node.span.end)}`,
    node.span.start,
    node.span.end,
  );
}

/**
 * Walks a selector chain `a.b.c` down to what it hangs from. Returns the selector tokens outermost
 * first and either the root identifier or an "anchor" (literal, call or parenthesised expression).
 */
function flattenSelectors(
  node: GoNode & { k: 'selector' },
  text: string,
): { sels: Token[]; root?: Token; anchor?: GoNode } {
  const sels: Token[] = [];
  let cur: GoNode = node;
  while (cur.k === 'selector') {
    sels.push(cur.sel);
    cur = cur.x;
  }
  if (cur.k === 'ident') return { sels, root: cur.tok };
  if (cur.k === 'call' || cur.k === 'lit' || cur.k === 'paren') return { sels, anchor: cur };
  return unexpected(cur, text);
}

function variableName(root: Token, selsOutermostFirst: readonly Token[]): string {
  let name = root.text;
  for (let i = selsOutermostFirst.length - 1; i >= 0; i--) name += `.${selsOutermostFirst[i]!.text}`;
  return name;
}

function lower(node: GoNode, text: string): ExprNode {
  switch (node.k) {
    case 'paren':
      return lower(node.x, text);
    case 'lit':
      return literal(node.tok);
    case 'ident': {
      const lv = node.tok.text.toLowerCase();
      if (lv === 'true' || lv === 'false') {
        return { kind: 'literal', literal: 'bool', value: lv === 'true', text: lv, span: node.span };
      }
      return { kind: 'variable', name: node.tok.text, span: node.span };
    }
    case 'selector': {
      const { sels, root } = flattenSelectors(node, text);
      if (root === undefined) return unexpected(node, text);
      return { kind: 'variable', name: variableName(root, sels), span: node.span };
    }
    case 'unary':
      return operator(node.op, [lower(node.x, text)], node.span);
    case 'binary':
      return operator(node.op, [lower(node.x, text), lower(node.y, text)], node.span);
    case 'index':
      return {
        kind: 'call',
        name: 'INDEX',
        form: 'index',
        args: [lower(node.x, text), lower(node.index, text)],
        span: node.span,
        nameSpan: node.lbrack,
      };
    case 'call':
      return call(node, text);
    case 'unsupported':
      return unexpected(node, text);
  }
}

function operator(op: Token, args: ExprNode[], s: Span): CallNode {
  return {
    kind: 'call',
    name: OPERATOR_NAMES[op.text] ?? op.text,
    form: 'operator',
    args,
    span: s,
    nameSpan: span(op.start, op.end),
  };
}

function call(node: GoNode & { k: 'call' }, text: string): CallNode {
  const args = node.args.map((a) => lower(a, text));
  const fun = node.fun;
  if (fun.k === 'ident') {
    return { kind: 'call', name: fun.tok.text, form: 'function', args, span: node.span, nameSpan: fun.span };
  }
  if (fun.k !== 'selector') return unexpected(node, text);

  const { sels, root, anchor } = flattenSelectors(fun, text);
  const method = sels[0]!;
  const nameSpan = span(method.start, method.end);
  if (root !== undefined) {
    // `a.b.c(x)`: the last segment is the method, everything before it is the target attribute.
    const rest = sels.slice(1);
    const targetEnd = rest.length > 0 ? rest[0]!.end : root.end;
    const target: ExprNode = { kind: 'variable', name: variableName(root, rest), span: span(root.start, targetEnd) };
    return { kind: 'call', name: method.text, form: 'method', target, args, span: node.span, nameSpan };
  }
  // `"lit".m(x)`, `f(y).m(x)`, `(e).m(x)`: only a single selector may follow the anchor.
  if (sels.length !== 1 || anchor === undefined) return unexpected(fun, text);
  return { kind: 'call', name: method.text, form: 'method', target: lower(anchor, text), args, span: node.span, nameSpan };
}

const MAX_INT64 = (1n << 63n) - 1n;

/** Mixer's newConstant: how Go literal text becomes a typed constant (before duration detection). */
function literal(tok: Token): LiteralNode {
  const s = span(tok.start, tok.end);
  switch (tok.kind) {
    case 'int':
      // Mixer parses integers with strconv.ParseInt(v, 10, 64): base prefixes and '_' are rejected,
      // while a leading 0 is simply decimal ("010" is 10).
      if (!/^[0-9]+$/.test(tok.text)) {
        throw new ExprSyntaxError(`strconv.ParseInt: parsing "${tok.text}": invalid syntax`, tok.start, tok.end);
      }
      const value = BigInt(tok.text);
      if (value > MAX_INT64) {
        throw new ExprSyntaxError(`strconv.ParseInt: parsing "${tok.text}": value out of range`, tok.start, tok.end);
      }
      // Exact: a bigint past 2^53 − 1, as an INT64 attribute is (see int64.ts).
      return { kind: 'literal', literal: 'int', value: int64FromBigInt(value), text: tok.text, span: s };
    case 'float': {
      const value = parseGoFloat(tok.text);
      if (value === undefined) {
        throw new ExprSyntaxError(`strconv.ParseFloat: parsing "${tok.text}": invalid syntax`, tok.start, tok.end);
      }
      if (!Number.isFinite(value)) {
        throw new ExprSyntaxError(`strconv.ParseFloat: parsing "${tok.text}": value out of range`, tok.start, tok.end);
      }
      return { kind: 'literal', literal: 'float', value, text: tok.text, span: s };
    }
    case 'string':
    case 'char':
      return { kind: 'literal', literal: 'string', value: tok.value ?? '', text: tok.text, span: s };
    default:
      throw new ExprSyntaxError(`unsupported literal ${tok.text}`, tok.start, tok.end);
  }
}

/** strconv.ParseFloat on a Go float literal: decimal, or hexadecimal with a binary exponent. */
function parseGoFloat(text: string): number | undefined {
  const hex = /^0[xX]([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?[0-9_]+)$/.exec(text);
  if (hex !== null) {
    const intDigits = (hex[1] ?? '').replace(/_/g, '');
    const fracDigits = (hex[2] ?? '').replace(/_/g, '');
    const exp = Number((hex[3] ?? '0').replace(/_/g, ''));
    const mantissa = parseInt(`${intDigits}${fracDigits}` || '0', 16);
    return mantissa * 2 ** (exp - 4 * fracDigits.length);
  }
  // ParseFloat takes '_' between digits, as Go literals do ("1_000.5"), whatever the base; the
  // lexer has already checked where they stand, so they can simply go.
  return Number(text.replace(/_/g, ''));
}
