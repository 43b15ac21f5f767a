import { describe, expect, it } from 'vitest';
import { renderExpr, type ExprNode } from '../../../src/core/expr/ast.js';
import { MAX_EXPRESSION_DEPTH, parseExpression } from '../../../src/core/expr/parser.js';

function parse(text: string): ExprNode {
  const r = parseExpression(text);
  if (!r.ok) throw new Error(`expected \`${text}\` to parse: ${r.error.message}`);
  return r.expr;
}

function shape(text: string): string {
  return renderExpr(parse(text));
}

function parseError(text: string): { message: string; start: number; end: number } {
  const r = parseExpression(text);
  if (r.ok) throw new Error(`expected \`${text}\` not to parse, got ${renderExpr(r.expr)}`);
  return r.error;
}

describe('operator precedence and associativity follow Go', () => {
  it.each([
    ['a || b && c', 'LOR($a, LAND($b, $c))'],
    ['a && b || c', 'LOR(LAND($a, $b), $c)'],
    ['a == b && c != d', 'LAND(EQ($a, $b), NEQ($c, $d))'],
    ['a | "x" == "y"', 'EQ(OR($a, "x"), "y")'],
    ['a | b | c', 'OR(OR($a, $b), $c)'],
    ['a | (b | c)', 'OR($a, OR($b, $c))'],
    ['a + b * c', 'ADD($a, MUL($b, $c))'],
    ['a * b + c', 'ADD(MUL($a, $b), $c)'],
    ['a - b - c', 'SUB(SUB($a, $b), $c)'],
    ['a << b + c', 'ADD(SHL($a, $b), $c)'],
    ['a >> b', 'SHR($a, $b)'],
    ['a &^ b | c', 'OR(AND_NOT($a, $b), $c)'],
    ['a ^ b & c', 'XOR($a, AND($b, $c))'],
    ['a % b / c', 'QUO(REM($a, $b), $c)'],
    ['a < b == c', 'EQ(LT($a, $b), $c)'],
    ['a <= b', 'LEQ($a, $b)'],
    ['a > b', 'GT($a, $b)'],
    ['a >= b', 'GEQ($a, $b)'],
    ['!a == b', 'EQ(NOT($a), $b)'],
    ['-a.b * c', 'MUL(SUB($a.b), $c)'],
    ['^a', 'XOR($a)'],
    ['&a', 'AND($a)'],
    ['+a', 'ADD($a)'],
    ['<-a', 'ARROW($a)'],
    ['!!a', 'NOT(NOT($a))'],
    ['(a || b) && c', 'LAND(LOR($a, $b), $c)'],
    ['a || b || c', 'LOR(LOR($a, $b), $c)'],
    ['a == b | c + d', 'EQ($a, ADD(OR($b, $c), $d))'],
  ])('`%s` parses as %s', (text, expected) => {
    expect(shape(text)).toBe(expected);
  });
});

describe('operands, selectors, indexing and calls', () => {
  it.each([
    ['a.b.c', '$a.b.c'],
    ['destination.service.host', '$destination.service.host'],
    ['TRUE', 'true'],
    ['False', 'false'],
    ['m["k"]', 'INDEX($m, "k")'],
    ['m[k]["j"]', 'INDEX(INDEX($m, $k), "j")'],
    ['(ar | br)["foo"]', 'INDEX(OR($ar, $br), "foo")'],
    ['f()', 'f()'],
    ['f(a, b,)', 'f($a, $b)'],
    ['destination.service.startsWith("acme")', '$destination.service:startsWith("acme")'],
    ['a.f()', '$a:f()'],
    ['"svc.*".matches(x)', '"svc.*":matches($x)'],
    ['f(y).g(z)', 'f($y):g($z)'],
    ['(a).f()', '$a:f()'],
    ['(a | b).f()', 'OR($a, $b):f()'],
    ['true.f()', '$true:f()'],
    ['`raw`', '`raw`'],
    ["'c'", "'c'"],
    ['a // trailing comment', '$a'],
    ['a /* x */ == b', 'EQ($a, $b)'],
    ['a ==\n b', 'EQ($a, $b)'],
    ['a == b\n', 'EQ($a, $b)'],
    ['\ufeffa', '$a'],
  ])('`%s` parses as %s', (text, expected) => {
    expect(shape(text)).toBe(expected);
  });

  it('gives a method call on an attribute chain the chain minus the method as its target', () => {
    const node = parse('destination.service.startsWith("acme")');
    expect(node.kind).toBe('call');
    if (node.kind !== 'call') return;
    expect(node.name).toBe('startsWith');
    expect(node.target).toMatchObject({ kind: 'variable', name: 'destination.service', span: { start: 0, end: 19 } });
    expect(node.nameSpan).toEqual({ start: 20, end: 30 });
  });

  it('records the operator token as the span of an operator call', () => {
    const node = parse('a  ||  b');
    expect(node.kind === 'call' && node.nameSpan).toEqual({ start: 3, end: 5 });
    expect(node.span).toEqual({ start: 0, end: 8 });
  });
});

describe('literals become constants as Mixer converts them', () => {
  it.each([
    ['123', 'int', 123],
    ['010', 'int', 10],
    ['9007199254740991', 'int', 9007199254740991],
    // Exact past 2^53 − 1, as strconv.ParseInt gives them: a bigint.
    ['9007199254740993', 'int', 9007199254740993n],
    ['9223372036854775807', 'int', 9223372036854775807n],
    ['1.5', 'float', 1.5],
    ['1e3', 'float', 1000],
    ['.5', 'float', 0.5],
    ['1.', 'float', 1],
    ['0x1p-2', 'float', 0.25],
    ['0x_1p4', 'float', 16],
    // strconv.ParseFloat takes '_' between digits in any base (Go's underscoreOK), unlike ParseInt(…, 10, 64).
    ['1_000.5', 'float', 1000.5],
    ['1_0e1_0', 'float', 1e11],
    ['"a\\nb"', 'string', 'a\nb'],
    ["'x'", 'string', 'x'],
  ])('`%s` is a %s constant %s', (text, literal, value) => {
    expect(parse(text)).toMatchObject({ kind: 'literal', literal, value, text });
  });

  it.each([
    ['0x10', 'strconv.ParseInt: parsing "0x10": invalid syntax'],
    ['1_000', 'strconv.ParseInt: parsing "1_000": invalid syntax'],
    ['9223372036854775808', 'strconv.ParseInt: parsing "9223372036854775808": value out of range'],
    ['1e400', 'strconv.ParseFloat: parsing "1e400": value out of range'],
    ['1i', 'unsupported literal 1i'],
  ])('rejects `%s`: %s', (text, message) => {
    expect(parseError(text)).toEqual({ message, start: 0, end: text.length });
  });
});

describe('syntax errors carry Go-style messages and point at the offending token', () => {
  it.each([
    ['a = 2', "expected '==', found '='", 2, 3],
    ['a == ', "expected operand, found 'EOF'", 5, 5],
    ['a b', "expected 'EOF', found b", 2, 3],
    ['a;', "expected 'EOF', found ';'", 1, 2],
    // Go's scanner inserts a semicolon at the end of input after an operand.
    ['(a', "expected ')', found newline", 2, 2],
    ['(a\n)', "expected ')', found newline", 2, 3],
    ['a\n== b', "expected 'EOF', found '=='", 2, 4],
    ['f(a b)', "expected ')', found b", 4, 5],
    ['a.', "expected selector or type assertion, found 'EOF'", 2, 2],
    ['a.1', "expected 'EOF', found .1", 1, 3],
    ['map', "expected operand, found 'map'", 0, 3],
    ['a[]', "expected operand, found ']'", 2, 3],
    ['x == @', "illegal character U+0040 '@'", 5, 6],
  ])('`%s` → %s at [%i, %i)', (text, message, start, end) => {
    expect(parseError(text)).toEqual({ message, start, end });
  });

  it.each([
    ['*a', '*a'],
    ['a.(T)', 'a.(T)'],
    ['a[1:2]', 'a[1:2]'],
    ['a[:]', 'a[:]'],
    ['T{1, 2}', 'T{1, 2}'],
    ['f(a...)', 'f(a...)'],
    ['f()()', 'f()()'],
    ['a["x"].startsWith("y")', 'a["x"]'],
    ['"a".b', '"a".b'],
    ['"a".b.c()', '"a".b.c'],
    ['f().b', 'f().b'],
  ])('`%s` is valid Go but an unexpected CEXL expression (%s)', (text, offending) => {
    const e = parseError(text);
    expect(e.message).toBe(`unexpected expression: ${offending}`);
    expect(text.slice(e.start, e.end)).toBe(offending);
  });

  it('rejects expressions nested deeper than the limit instead of overflowing the stack', () => {
    const deep = `${'('.repeat(MAX_EXPRESSION_DEPTH + 50)}a${')'.repeat(MAX_EXPRESSION_DEPTH + 50)}`;
    expect(parseError(deep).message).toMatch(/nested more than/);
    const long = Array.from({ length: MAX_EXPRESSION_DEPTH + 50 }, (_, i) => `a${i}`).join(' | ');
    expect(parseError(long).message).toMatch(/nested more than/);
    const unary = `${'!'.repeat(MAX_EXPRESSION_DEPTH + 50)}a`;
    expect(parseError(unary).message).toMatch(/nested more than/);
  });

  it('accepts nesting up to the limit', () => {
    const ok = `${'('.repeat(100)}a${')'.repeat(100)}`;
    expect(shape(ok)).toBe('$a');
  });
});
