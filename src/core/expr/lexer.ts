/**
 * Go's expression tokens, as go/scanner produces them: CEXL is parsed with `go/parser.ParseExpr`, so
 * which texts lex (and which fail) has to match Go, including automatic semicolon insertion.
 */

export interface Span {
  /** Offset of the first UTF-16 code unit, into the expression text. */
  readonly start: number;
  /** Offset one past the last code unit. */
  readonly end: number;
}

export type TokenKind =
  | 'ident'
  | 'keyword'
  | 'int'
  | 'float'
  | 'imag'
  | 'char'
  | 'string'
  | 'op'
  | 'semicolon'
  | 'eof';

export interface Token extends Span {
  readonly kind: TokenKind;
  /** Source text; for operators the operator, for an inserted semicolon "\n". */
  readonly text: string;
  /** Unquoted value of `string` and `char` tokens. */
  readonly value?: string;
}

/** A lexical or syntactic error; the parser turns it into an EXPR_SYNTAX diagnostic. */
export class ExprSyntaxError extends Error {
  constructor(
    message: string,
    readonly start: number,
    readonly end: number,
  ) {
    super(message);
    this.name = 'ExprSyntaxError';
  }
}

const KEYWORDS: ReadonlySet<string> = new Set([
  'break', 'case', 'chan', 'const', 'continue', 'default', 'defer', 'else', 'fallthrough', 'for', 'func',
  'go', 'goto', 'if', 'import', 'interface', 'map', 'package', 'range', 'return', 'select', 'struct',
  'switch', 'type', 'var',
]);

// Longest first, so that a prefix never shadows a longer operator.
const OPERATORS: readonly string[] = [
  '...', '&^=', '<<=', '>>=',
  '&&', '||', '<-', '++', '--', '==', '!=', '<=', '>=', ':=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=',
  '<<', '>>', '&^',
  '+', '-', '*', '/', '%', '&', '|', '^', '<', '>', '=', '!', '(', ')', '[', ']', '{', '}', ',', ';', '.', ':',
];

const LETTER = /^\p{L}$/u;
const UNICODE_DIGIT = /^\p{Nd}$/u;
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]$/u;

function isLetter(ch: string): boolean {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch === '_' || (ch >= '\u0080' && LETTER.test(ch));
}

function isIdentDigit(ch: string): boolean {
  return (ch >= '0' && ch <= '9') || (ch >= '\u0080' && UNICODE_DIGIT.test(ch));
}

function isDecimal(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

function isHex(ch: string | undefined): boolean {
  return ch !== undefined && ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'));
}

/** Go's `%#U` rendering of a character, used in scanner messages. */
function describeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  return PRINTABLE.test(ch) ? `U+${hex} '${ch}'` : `U+${hex}`;
}

function codePointAt(text: string, i: number): string {
  const cp = text.codePointAt(i);
  return cp === undefined ? '' : String.fromCodePoint(cp);
}

const NUMBER_NAMES: Readonly<Record<string, string>> = {
  x: 'hexadecimal literal',
  o: 'octal literal',
  '0': 'octal literal',
  b: 'binary literal',
  '': 'decimal literal',
};

/**
 * Pull-based scanner. Errors are thrown as ExprSyntaxError at the position Go reports them, so that
 * a parse error earlier in the text wins over a lexical error later on, as in Go.
 */
export class Lexer {
  private pos = 0;
  private insertSemi = false;

  constructor(private readonly text: string) {
    // Go tolerates a byte order mark only as the very first character.
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  next(): Token {
    const t = this.text;
    // Whitespace and comments; a newline (or a comment spanning one) ends a line for semicolon insertion.
    for (;;) {
      const ch = t[this.pos];
      if (ch === ' ' || ch === '\t' || ch === '\r') {
        this.pos++;
      } else if (ch === '\n') {
        if (this.insertSemi) return this.autoSemicolon(this.pos, this.pos + 1);
        this.pos++;
      } else if (ch === '/' && t[this.pos + 1] === '/') {
        const start = this.pos;
        while (this.pos < t.length && t[this.pos] !== '\n') this.pos++;
        if (this.insertSemi) return this.autoSemicolon(start, this.pos);
      } else if (ch === '/' && t[this.pos + 1] === '*') {
        const start = this.pos;
        const close = t.indexOf('*/', this.pos + 2);
        if (close < 0) throw new ExprSyntaxError('comment not terminated', start, t.length);
        this.pos = close + 2;
        const spansLine = t.slice(start, this.pos).includes('\n') || this.pos >= t.length;
        if (this.insertSemi && spansLine) return this.autoSemicolon(start, this.pos);
      } else {
        break;
      }
    }

    const start = this.pos;
    if (start >= t.length) {
      if (this.insertSemi) return this.autoSemicolon(start, start);
      return { kind: 'eof', text: '', start, end: start };
    }

    const ch = codePointAt(t, start);
    if (isLetter(ch)) return this.identifier(start);
    if (isDecimal(ch) || (ch === '.' && isDecimal(t[start + 1]))) return this.number(start);
    if (ch === '"') return this.interpreted(start);
    if (ch === '`') return this.raw(start);
    if (ch === "'") return this.rune(start);

    for (const op of OPERATORS) {
      if (t.startsWith(op, start)) {
        this.pos = start + op.length;
        this.insertSemi = op === ')' || op === ']' || op === '}' || op === '++' || op === '--';
        if (op === ';') return { kind: 'semicolon', text: ';', start, end: this.pos };
        return { kind: 'op', text: op, start, end: this.pos };
      }
    }
    throw new ExprSyntaxError(`illegal character ${describeChar(ch)}`, start, start + ch.length);
  }

  private autoSemicolon(start: number, end: number): Token {
    this.insertSemi = false;
    return { kind: 'semicolon', text: '\n', start, end };
  }

  private identifier(start: number): Token {
    const t = this.text;
    let i = start;
    for (;;) {
      const ch = codePointAt(t, i);
      if (ch === '' || !(isLetter(ch) || isIdentDigit(ch))) break;
      i += ch.length;
    }
    this.pos = i;
    const text = t.slice(start, i);
    if (KEYWORDS.has(text)) {
      this.insertSemi = text === 'break' || text === 'continue' || text === 'fallthrough' || text === 'return';
      return { kind: 'keyword', text, start, end: i };
    }
    this.insertSemi = true;
    return { kind: 'ident', text, start, end: i };
  }

  /** go/scanner's scanNumber (Go 1.13 literal syntax), including its error messages. */
  private number(start: number): Token {
    const t = this.text;
    let i = start;
    let kind: TokenKind = 'int';
    let prefix = '';
    let base = 10;
    let sawDigits = false;
    let sawSep = false;
    let invalidDigit = -1;

    const digits = (): void => {
      for (;;) {
        const c = t[i];
        if (c === '_') {
          sawSep = true;
        } else if (base <= 10 ? isDecimal(c) : isHex(c)) {
          if (base < 10 && c !== undefined && c.charCodeAt(0) - 48 >= base && invalidDigit < 0) invalidDigit = i;
          sawDigits = true;
        } else {
          return;
        }
        i++;
      }
    };

    if (t[i] !== '.') {
      if (t[i] === '0') {
        i++;
        const p = (t[i] ?? '').toLowerCase();
        if (p === 'x' || p === 'o' || p === 'b') {
          prefix = p;
          base = p === 'x' ? 16 : p === 'o' ? 8 : 2;
          i++;
        } else {
          prefix = '0';
          base = 8;
          sawDigits = true; // the leading 0 itself is a digit
        }
      }
      digits();
    }
    if (t[i] === '.') {
      kind = 'float';
      if (prefix === 'o' || prefix === 'b') {
        throw new ExprSyntaxError(`invalid radix point in ${NUMBER_NAMES[prefix]}`, i, i + 1);
      }
      i++;
      // Decimal digits after the point even for a leading-zero mantissa ("08.5" is a valid float).
      if (prefix === '0') base = 10;
      digits();
    }
    if (!sawDigits) {
      throw new ExprSyntaxError(`${NUMBER_NAMES[prefix] ?? 'literal'} has no digits`, start, i);
    }

    const e = (t[i] ?? '').toLowerCase();
    if (e === 'e' || e === 'p') {
      if (e === 'e' && prefix !== '' && prefix !== '0') {
        throw new ExprSyntaxError(`'${t[i]}' exponent requires decimal mantissa`, i, i + 1);
      }
      if (e === 'p' && prefix !== 'x') {
        throw new ExprSyntaxError(`'${t[i]}' exponent requires hexadecimal mantissa`, i, i + 1);
      }
      i++;
      kind = 'float';
      if (t[i] === '+' || t[i] === '-') i++;
      const savedBase = base;
      base = 10;
      sawDigits = false;
      digits();
      base = savedBase;
      if (!sawDigits) throw new ExprSyntaxError('exponent has no digits', start, i);
    } else if (prefix === 'x' && kind === 'float') {
      throw new ExprSyntaxError("hexadecimal mantissa requires a 'p' exponent", start, i);
    }

    if (t[i] === 'i') {
      kind = 'imag';
      i++;
    }
    const text = t.slice(start, i);
    if (kind === 'int' && invalidDigit >= 0) {
      throw new ExprSyntaxError(
        `invalid digit '${t[invalidDigit]}' in ${NUMBER_NAMES[prefix]}`,
        invalidDigit,
        invalidDigit + 1,
      );
    }
    if (sawSep && !separatorsValid(text)) {
      throw new ExprSyntaxError("'_' must separate successive digits", start, i);
    }
    this.pos = i;
    this.insertSemi = true;
    return { kind, text, start, end: i };
  }

  private interpreted(start: number): Token {
    const t = this.text;
    const out = new ValueBuilder();
    let i = start + 1;
    for (;;) {
      const ch = t[i];
      if (ch === undefined || ch === '\n') throw new ExprSyntaxError('string literal not terminated', start, i);
      if (ch === '"') break;
      if (ch === '\\') {
        i = this.escape(i, '"', out);
      } else {
        const c = codePointAt(t, i);
        out.text(c);
        i += c.length;
      }
    }
    i++;
    this.pos = i;
    this.insertSemi = true;
    return { kind: 'string', text: t.slice(start, i), value: out.finish(), start, end: i };
  }

  private raw(start: number): Token {
    const t = this.text;
    const close = t.indexOf('`', start + 1);
    if (close < 0) throw new ExprSyntaxError('raw string literal not terminated', start, t.length);
    this.pos = close + 1;
    this.insertSemi = true;
    // Go discards carriage returns from raw string values.
    const value = t.slice(start + 1, close).replace(/\r/g, '');
    return { kind: 'string', text: t.slice(start, this.pos), value, start, end: this.pos };
  }

  private rune(start: number): Token {
    const t = this.text;
    const out = new ValueBuilder();
    let i = start + 1;
    let count = 0;
    for (;;) {
      const ch = t[i];
      if (ch === undefined || ch === '\n') throw new ExprSyntaxError('rune literal not terminated', start, i);
      if (ch === "'") break;
      count++;
      if (ch === '\\') {
        i = this.escape(i, "'", out);
      } else {
        const c = codePointAt(t, i);
        out.text(c);
        i += c.length;
      }
    }
    i++;
    if (count !== 1) {
      const message = count === 0 ? "empty rune literal or unescaped ' in rune literal" : 'illegal rune literal';
      throw new ExprSyntaxError(message, start, i);
    }
    this.pos = i;
    this.insertSemi = true;
    return { kind: 'char', text: t.slice(start, i), value: out.finish(), start, end: i };
  }

  /** One escape sequence starting at the backslash at `at`; returns the index after it. */
  private escape(at: number, quote: string, out: ValueBuilder): number {
    const t = this.text;
    const c = t[at + 1];
    const simple: Readonly<Record<string, string>> = {
      a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\',
    };
    if (c !== undefined && simple[c] !== undefined) {
      out.text(simple[c]);
      return at + 2;
    }
    if (c === quote) {
      out.text(c);
      return at + 2;
    }
    let len: number;
    let base: number;
    let max: number;
    let isByte = false;
    if (c !== undefined && c >= '0' && c <= '7') {
      [len, base, max, isByte] = [3, 8, 255, true];
    } else if (c === 'x') {
      [len, base, max, isByte] = [2, 16, 255, true];
    } else if (c === 'u') {
      [len, base, max] = [4, 16, 0x10ffff];
    } else if (c === 'U') {
      [len, base, max] = [8, 16, 0x10ffff];
    } else {
      if (c === undefined) throw new ExprSyntaxError('escape sequence not terminated', at, at + 1);
      throw new ExprSyntaxError('unknown escape sequence', at, at + 2);
    }
    let i = base === 8 ? at + 1 : at + 2;
    let v = 0;
    for (let n = 0; n < len; n++, i++) {
      const d = t[i];
      const digit = d === undefined ? -1 : parseInt(d, base);
      if (d === undefined || Number.isNaN(digit)) {
        if (d === undefined) throw new ExprSyntaxError('escape sequence not terminated', at, i);
        throw new ExprSyntaxError(`illegal character ${describeChar(d)} in escape sequence`, i, i + 1);
      }
      v = v * base + digit;
    }
    if (v > max || (v >= 0xd800 && v < 0xe000 && !isByte)) {
      throw new ExprSyntaxError('escape sequence is invalid Unicode code point', at, i);
    }
    if (isByte) out.byte(v);
    else out.text(String.fromCodePoint(v));
    return i;
  }
}

/**
 * Checks Go's rule (go/scanner invalidSep) that every '_' in a number sits between two digits or
 * after a base prefix. Letters are digits only in a hexadecimal literal: `1e_5` and `1_e5` are
 * invalid, `0x1e_5` is not.
 */
function separatorsValid(text: string): boolean {
  const prefixed = /^0[xXoObB]/.test(text);
  const hex = /^0[xX]/.test(text);
  const isDigit = (c: string | undefined): boolean => (hex ? isHex(c) : isDecimal(c));
  for (let i = prefixed ? 2 : 0; i < text.length; i++) {
    if (text[i] !== '_') continue;
    const beforeOk = (prefixed && i === 2) || isDigit(text[i - 1]);
    if (!beforeOk || !isDigit(text[i + 1])) return false;
  }
  return true;
}

/**
 * Assembles a literal's value. Go strings are bytes, so `\xNN` and octal escapes are raw bytes; runs
 * of them are decoded as UTF-8 (invalid sequences become U+FFFD, the closest a JS string can get).
 */
class ValueBuilder {
  private out = '';
  private bytes: number[] = [];

  text(s: string): void {
    this.flush();
    this.out += s;
  }

  byte(b: number): void {
    this.bytes.push(b);
  }

  finish(): string {
    this.flush();
    return this.out;
  }

  private flush(): void {
    if (this.bytes.length === 0) return;
    this.out += Buffer.from(this.bytes).toString('utf8');
    this.bytes = [];
  }
}
