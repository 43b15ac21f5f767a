import { describe, expect, it } from 'vitest';
import { ExprSyntaxError, Lexer, type Token } from '../../../src/core/expr/lexer.js';

function tokens(text: string): Token[] {
  const lexer = new Lexer(text);
  const out: Token[] = [];
  for (;;) {
    const t = lexer.next();
    out.push(t);
    if (t.kind === 'eof') return out;
  }
}

function lexError(text: string): ExprSyntaxError {
  try {
    tokens(text);
  } catch (e) {
    if (e instanceof ExprSyntaxError) return e;
    throw e;
  }
  throw new Error(`expected \`${text}\` not to lex`);
}

describe('lexer', () => {
  it('gives every token its kind, text and source span', () => {
    const got = tokens('a.b == "x"').map((t) => [t.kind, t.text, t.start, t.end]);
    expect(got).toEqual([
      ['ident', 'a', 0, 1],
      ['op', '.', 1, 2],
      ['ident', 'b', 2, 3],
      ['op', '==', 4, 6],
      ['string', '"x"', 7, 10],
      ['semicolon', '\n', 10, 10],
      ['eof', '', 10, 10],
    ]);
  });

  it('takes the longest operator, as Go does', () => {
    expect(tokens('a&^b<<=c&&d||e').filter((t) => t.kind === 'op').map((t) => t.text)).toEqual([
      '&^', '<<=', '&&', '||',
    ]);
  });

  it('inserts a semicolon at a newline only after an operand-ending token', () => {
    expect(tokens('a\n+ b').map((t) => t.kind)).toEqual(['ident', 'semicolon', 'op', 'ident', 'semicolon', 'eof']);
    expect(tokens('a +\nb').map((t) => t.kind)).toEqual(['ident', 'op', 'ident', 'semicolon', 'eof']);
  });

  it('skips comments, treating a line comment after an operand as a newline', () => {
    expect(tokens('a /* x */ + b // y').map((t) => t.kind)).toEqual(['ident', 'op', 'ident', 'semicolon', 'eof']);
  });

  it('lexes Unicode letters and digits in identifiers', () => {
    expect(tokens('größe٣').map((t) => [t.kind, t.text])[0]).toEqual(['ident', 'größe٣']);
  });

  it('marks Go keywords', () => {
    expect(tokens('map')[0]!.kind).toBe('keyword');
  });

  it.each([
    ['"a\\tb"', 'a\tb'],
    ['"\\a\\b\\f\\n\\r\\t\\v\\\\\\""', '\x07\b\f\n\r\t\v\\"'],
    ['"\\u00e9\\U0001F600"', 'é😀'],
    ['"\\xc3\\xa9"', 'é'],
    ['"\\101\\102"', 'AB'],
    ['"\\xff"', '\ufffd'],
    ['`raw\\n`', 'raw\\n'],
    ['`a\r\nb`', 'a\nb'],
    ["'c'", 'c'],
    ["'\\n'", '\n'],
    ["'\\''", "'"],
    ["'é'", 'é'],
  ])('unquotes the literal %s as Go does', (text, value) => {
    expect(tokens(text)[0]!.value).toBe(value);
  });

  it.each([
    ['123', 'int'],
    ['010', 'int'],
    ['0x1F', 'int'],
    ['0o17', 'int'],
    ['0b101', 'int'],
    ['1_000', 'int'],
    ['0x_1e_5', 'int'],
    ['1_0.0_1e1_0', 'float'],
    ['1.5', 'float'],
    ['.5', 'float'],
    ['1.', 'float'],
    ['1e3', 'float'],
    ['1E-3', 'float'],
    ['08.5', 'float'],
    ['0x1p-2', 'float'],
    ['1i', 'imag'],
  ])('lexes the number %s as %s', (text, kind) => {
    const t = tokens(text)[0]!;
    expect([t.kind, t.text]).toEqual([kind, text]);
  });

  it.each([
    ['@23', "illegal character U+0040 '@'", 0, 1],
    ['a # b', "illegal character U+0023 '#'", 2, 3],
    ['a\u0000', 'illegal character U+0000', 1, 2],
    ['"abc', 'string literal not terminated', 0, 4],
    ['"ab\nc"', 'string literal not terminated', 0, 3],
    ['`abc', 'raw string literal not terminated', 0, 4],
    ["'ab'", 'illegal rune literal', 0, 4],
    ["''", "empty rune literal or unescaped ' in rune literal", 0, 2],
    ['"\\q"', 'unknown escape sequence', 1, 3],
    ['"\\\'"', 'unknown escape sequence', 1, 3],
    ["'\\\"'", 'unknown escape sequence', 1, 3],
    ['"\\xZ1"', "illegal character U+005A 'Z' in escape sequence", 3, 4],
    ['"\\uD800"', 'escape sequence is invalid Unicode code point', 1, 7],
    ['"\\400"', 'escape sequence is invalid Unicode code point', 1, 5],
    ['08', "invalid digit '8' in octal literal", 1, 2],
    ['0b102', "invalid digit '2' in binary literal", 4, 5],
    ['0x', 'hexadecimal literal has no digits', 0, 2],
    ['1e', 'exponent has no digits', 0, 2],
    ['0x1.0', "hexadecimal mantissa requires a 'p' exponent", 0, 5],
    ['0b1.0', 'invalid radix point in binary literal', 3, 4],
    ['1__0', "'_' must separate successive digits", 0, 4],
    // An exponent letter is not a digit, so '_' may not touch it (go/scanner invalidSep).
    ['1e_5', "'_' must separate successive digits", 0, 4],
    ['1_e5', "'_' must separate successive digits", 0, 4],
    ['0x1p_4', "'_' must separate successive digits", 0, 6],
    ['a /* b', 'comment not terminated', 2, 6],
  ])('rejects %j with "%s" at [%i, %i)', (text, message, start, end) => {
    const e = lexError(text);
    expect([e.message, e.start, e.end]).toEqual([message, start, end]);
  });
});
