/**
 * RE2 (Go `regexp`) patterns translated to JS RegExp source. JS regexps are not RE2: they have
 * backreferences and lookaround (which RE2 rejects), and `.`, `\s`, `\w`, `^`/`$` under flags, `\Q…\E`,
 * POSIX classes and inline flag groups differ. So the pattern is parsed with RE2's grammar and error
 * messages, and re-emitted as JS that matches the same strings. Only a match/no-match answer is needed,
 * so every group is emitted non-capturing.
 */

export type Re2Result = { readonly ok: true; readonly regexp: RegExp } | { readonly ok: false; readonly message: string };

/** Go's maximum repeat count and nesting depth. */
const MAX_REPEAT = 1000;
const MAX_DEPTH = 1000;
const MAX_CODE_POINT = 0x10ffff;
/** Manual case folding enumerates class ranges up to this many code points. */
const FOLD_ENUMERATION_LIMIT = 0x3000;

interface Flags {
  readonly i: boolean;
  readonly m: boolean;
  readonly s: boolean;
  readonly U: boolean;
}

type Range = readonly [number, number];

interface ClassSet {
  ranges: Range[];
  /** Unicode property atoms kept as JS syntax (`\p{Lu}`, `\P{Script=Greek}`): not enumerable. */
  props: string[];
}

class Re2Error extends Error {
  constructor(code: string, expr: string) {
    super(`error parsing regexp: ${code}: \`${expr}\``);
  }
}

const DIGIT: readonly Range[] = [[0x30, 0x39]];
const SPACE: readonly Range[] = [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]];
const WORD: readonly Range[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];

const POSIX: Readonly<Record<string, readonly Range[]>> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: DIGIT,
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: WORD,
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

const GENERAL_CATEGORIES: ReadonlySet<string> = new Set([
  'C', 'Cc', 'Cf', 'Co', 'Cs', 'L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No',
  'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So', 'Z', 'Zl', 'Zp', 'Zs',
]);

// Simple case-folding orbits that upper/lower-casing alone does not find.
const FOLD_EXTRAS: ReadonlyMap<number, readonly number[]> = new Map([
  [0x4b, [0x212a]], [0x6b, [0x212a]], [0x212a, [0x4b, 0x6b]],
  [0x53, [0x17f]], [0x73, [0x17f]], [0x17f, [0x53, 0x73]],
  [0xc5, [0x212b]], [0xe5, [0x212b]], [0x212b, [0xc5, 0xe5]],
  [0x3a9, [0x2126]], [0x3c9, [0x2126]], [0x2126, [0x3a9, 0x3c9]],
]);

function complement(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

function isCased(cp: number): boolean {
  const s = String.fromCodePoint(cp);
  return s.toLowerCase() !== s.toUpperCase() || FOLD_EXTRAS.has(cp);
}

function foldOrbit(cp: number): number[] {
  const s = String.fromCodePoint(cp);
  const out = new Set<number>([cp]);
  for (const v of [s.toLowerCase(), s.toUpperCase(), s.toLowerCase().toUpperCase(), s.toUpperCase().toLowerCase()]) {
    const first = v.codePointAt(0);
    if (first !== undefined && String.fromCodePoint(first).length === v.length) out.add(first);
  }
  for (const c of [...out]) for (const extra of FOLD_EXTRAS.get(c) ?? []) out.add(extra);
  return [...out];
}

/** A code point as JS regexp source, valid both inside and outside a `u`-mode class. */
function emitChar(cp: number): string {
  if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a)) {
    return String.fromCodePoint(cp);
  }
  return `\\u{${cp.toString(16)}}`;
}

function isAlnum(c: string): boolean {
  return /^[0-9A-Za-z]$/.test(c);
}

function isOctal(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '7';
}

class Translator {
  private pos = 0;
  private depth = 0;
  /**
   * Output that precedes the atom a following quantifier applies to: `\Qab\E*` repeats only `b`,
   * because RE2 treats quoted text as a run of single-character literals.
   */
  private unquantifiedPrefix = '';
  sawFolded = false;
  sawUnfolded = false;

  constructor(
    private readonly src: string,
    /** Expand case-insensitive atoms by hand because flags differ across the pattern. */
    private readonly manualFold: boolean,
  ) {}

  translate(): string {
    const flags: Flags = { i: false, m: false, s: false, U: false };
    const out = this.alternation(flags);
    if (this.pos < this.src.length) {
      // alternation() only stops early at a ')' with no group open.
      throw new Re2Error('unexpected )', this.src);
    }
    return out;
  }

  private peek(offset = 0): string | undefined {
    const cp = this.src.codePointAt(this.pos + offset);
    return cp === undefined ? undefined : String.fromCodePoint(cp);
  }

  private alternation(initial: Flags): string {
    // Flag groups like `(?i)` change the flags of the rest of the enclosing group, across `|`.
    const state = { flags: initial };
    const branches = [this.sequence(state)];
    while (this.peek() === '|') {
      this.pos++;
      branches.push(this.sequence(state));
    }
    return branches.join('|');
  }

  private sequence(state: { flags: Flags }): string {
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') return out;
      const atom = this.atom(state);
      if (atom === undefined) continue; // a flag group: no output
      out += this.unquantifiedPrefix;
      this.unquantifiedPrefix = '';
      out += this.quantified(atom, state.flags);
    }
  }

  private quantified(atom: string, flags: Flags): string {
    let out = atom;
    let lastRepeatStart = -1;
    for (;;) {
      const qStart = this.pos;
      const q = this.quantifier();
      if (q === undefined) return out;
      if (lastRepeatStart >= 0) {
        throw new Re2Error('invalid nested repetition operator', this.src.slice(lastRepeatStart, this.pos));
      }
      lastRepeatStart = qStart;
      let lazy = false;
      if (this.peek() === '?') {
        this.pos++;
        lazy = true;
      }
      if (flags.U) lazy = !lazy;
      out = `(?:${out})${q}${lazy ? '?' : ''}`;
    }
  }

  /** `*`, `+`, `?` or a well-formed `{n}`, `{n,}`, `{n,m}`; anything else is not a quantifier. */
  private quantifier(): string | undefined {
    const c = this.peek();
    if (c === '*' || c === '+' || c === '?') {
      this.pos++;
      return c;
    }
    if (c !== '{') return undefined;
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
    if (m === null) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && max < min)) {
      throw new Re2Error('invalid repeat count', m[0]);
    }
    this.pos += m[0].length;
    return max < 0 ? `{${min},}` : max === min ? `{${min}}` : `{${min},${max}}`;
  }

  /** One atom's JS source, or undefined for a flag-setting group. */
  private atom(state: { flags: Flags }): string | undefined {
    const flags = state.flags;
    const c = this.peek()!;
    switch (c) {
      case '(':
        return this.group(state);
      case '[':
        return this.charClass(flags);
      case '.':
        this.pos++;
        return flags.s ? '[^]' : '[^\\n]';
      case '^':
        this.pos++;
        return flags.m ? '(?<![^\\n])' : '^';
      case '$':
        this.pos++;
        return flags.m ? '(?![^\\n])' : '$';
      case '*':
      case '+':
      case '?':
        throw new Re2Error('missing argument to repetition operator', c);
      case '{':
        if (/^\{\d+(,\d*)?\}/.test(this.src.slice(this.pos))) {
          const m = /^\{\d+(,\d*)?\}/.exec(this.src.slice(this.pos))!;
          throw new Re2Error('missing argument to repetition operator', m[0]);
        }
        this.pos++;
        return this.literal(0x7b, flags);
      case '\\':
        return this.escapeOutsideClass(flags);
      default:
        this.pos += c.length;
        return this.literal(c.codePointAt(0)!, flags);
    }
  }

  private group(state: { flags: Flags }): string | undefined {
    const start = this.pos;
    this.pos++; // (
    let inner = state.flags;
    if (this.peek() === '?') {
      const rest = this.src.slice(this.pos);
      const named = /^\?P<([^>]*)>/.exec(rest);
      if (named !== null) {
        if (!/^[A-Za-z0-9_]+$/.test(named[1]!)) {
          throw new Re2Error('invalid named capture', this.src.slice(start, this.pos + named[0].length));
        }
        this.pos += named[0].length;
      } else {
        const flagged = /^\?([A-Za-z]*)(?:-([A-Za-z]*))?([:)])/.exec(rest);
        const on = flagged?.[1] ?? '';
        const off = flagged?.[2];
        const valid =
          flagged !== null &&
          /^[imsU]*$/.test(on) &&
          /^[imsU]*$/.test(off ?? '') &&
          (on !== '' || (off ?? '') !== '') &&
          off !== '';
        if (!valid) {
          const shown = this.src.slice(start, Math.min(this.src.length, this.pos + 2));
          throw new Re2Error('invalid or unsupported Perl syntax', shown);
        }
        const set = (name: keyof Flags, current: boolean): boolean =>
          (off ?? '').includes(name) ? false : on.includes(name) ? true : current;
        const next: Flags = {
          i: set('i', state.flags.i),
          m: set('m', state.flags.m),
          s: set('s', state.flags.s),
          U: set('U', state.flags.U),
        };
        this.pos += flagged[0].length;
        if (flagged[3] === ')') {
          state.flags = next;
          return undefined;
        }
        inner = next;
      }
    }
    if (++this.depth > MAX_DEPTH) throw new Re2Error('expression nests too deeply', this.src);
    const body = this.alternation(inner);
    this.depth--;
    if (this.peek() !== ')') throw new Re2Error('missing closing )', this.src);
    this.pos++;
    return `(?:${body})`;
  }

  private escapeOutsideClass(flags: Flags): string {
    const c = this.src[this.pos + 1];
    switch (c) {
      case 'A':
        this.pos += 2;
        return '^';
      case 'z':
        this.pos += 2;
        return '$';
      case 'b':
        this.pos += 2;
        return '\\b';
      case 'B':
        this.pos += 2;
        return '\\B';
      case 'Q': {
        const end = this.src.indexOf('\\E', this.pos + 2);
        const text = this.src.slice(this.pos + 2, end < 0 ? undefined : end);
        this.pos = end < 0 ? this.src.length : end + 2;
        const chars = [...text].map((ch) => this.literal(ch.codePointAt(0)!, flags));
        if (chars.length === 0) return '(?:)';
        this.unquantifiedPrefix = chars.slice(0, -1).join('');
        return chars[chars.length - 1]!;
      }
      case 'd':
      case 'D':
      case 's':
      case 'S':
      case 'w':
      case 'W':
      case 'p':
      case 'P': {
        const set: ClassSet = { ranges: [], props: [] };
        this.classEscape(set, flags.i);
        return this.emitClass(set, false, flags);
      }
      default:
        return this.literal(this.escapedChar(), flags);
    }
  }

  /** RE2's parseEscape: a backslash sequence that stands for one character. */
  private escapedChar(): number {
    const start = this.pos;
    this.pos++; // backslash
    const c = this.peek();
    if (c === undefined) throw new Re2Error('trailing backslash at end of expression', '');
    this.pos += c.length;
    const bad = (): never => {
      throw new Re2Error('invalid escape sequence', this.src.slice(start, this.pos));
    };
    if (c >= '1' && c <= '7' && !isOctal(this.src[this.pos])) return bad(); // a backreference
    if (c >= '0' && c <= '7') {
      let v = c.charCodeAt(0) - 48;
      for (let n = 0; n < 2 && isOctal(this.src[this.pos]); n++) v = v * 8 + (this.src.charCodeAt(this.pos++) - 48);
      return v;
    }
    if (c === 'x') {
      if (this.src[this.pos] === '{') {
        const m = /^\{([0-9A-Fa-f]+)\}/.exec(this.src.slice(this.pos));
        if (m === null) {
          this.pos = Math.min(this.src.length, this.pos + 1);
          return bad();
        }
        this.pos += m[0].length;
        const v = parseInt(m[1]!, 16);
        return v > MAX_CODE_POINT ? bad() : v;
      }
      const m = /^[0-9A-Fa-f]{2}/.exec(this.src.slice(this.pos));
      if (m === null) return bad();
      this.pos += 2;
      return parseInt(m[0], 16);
    }
    const simple: Readonly<Record<string, number>> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };
    if (simple[c] !== undefined) return simple[c];
    if (c.codePointAt(0)! < 0x80 && !isAlnum(c)) return c.charCodeAt(0);
    return bad();
  }

  /** `\d \D \s \S \w \W \pX \p{Name} \PX \P{Name} \p{^Name}` into `set`. */
  private classEscape(set: ClassSet, folded: boolean): void {
    const start = this.pos;
    const c = this.src[this.pos + 1]!;
    this.pos += 2;
    const perl: Readonly<Record<string, readonly Range[]>> = { d: DIGIT, s: SPACE, w: WORD };
    const lower = c.toLowerCase();
    if (perl[lower] !== undefined) {
      set.ranges.push(...(c === lower ? perl[lower] : negatedClass(perl[lower], folded)));
      return;
    }
    let name: string;
    if (this.src[this.pos] === '{') {
      const close = this.src.indexOf('}', this.pos);
      if (close < 0) throw new Re2Error('invalid character class range', this.src.slice(start));
      name = this.src.slice(this.pos + 1, close);
      this.pos = close + 1;
    } else {
      const ch = this.peek();
      if (ch === undefined) throw new Re2Error('invalid character class range', this.src.slice(start));
      name = ch;
      this.pos += ch.length;
    }
    let negated = c === 'P';
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    const shown = this.src.slice(start, this.pos);
    if (name === 'Any') {
      if (!negated) set.ranges.push([0, MAX_CODE_POINT]);
      return;
    }
    let js: string;
    if (GENERAL_CATEGORIES.has(name)) {
      js = name;
    } else if (/^[A-Za-z_]+$/.test(name) && isScript(name)) {
      js = `Script=${name}`;
    } else {
      throw new Re2Error('invalid character class range', shown);
    }
    set.props.push(`\\${negated ? 'P' : 'p'}{${js}}`);
  }

  private charClass(flags: Flags): string {
    const start = this.pos;
    this.pos++; // [
    let negated = false;
    if (this.src[this.pos] === '^') {
      negated = true;
      this.pos++;
    }
    const set: ClassSet = { ranges: [], props: [] };
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new Re2Error('missing closing ]', this.src.slice(start));
      if (c === ']' && !first) break;
      first = false;
      if (c === '[' && this.src[this.pos + 1] === ':') {
        const close = this.src.indexOf(':]', this.pos + 2);
        if (close >= 0) {
          const raw = this.src.slice(this.pos + 2, close);
          const shown = this.src.slice(this.pos, close + 2);
          const neg = raw.startsWith('^');
          const ranges = POSIX[neg ? raw.slice(1) : raw];
          if (ranges === undefined) throw new Re2Error('invalid character class range', shown);
          set.ranges.push(...(neg ? negatedClass(ranges, flags.i) : ranges));
          this.pos = close + 2;
          continue;
        }
      }
      if (c === '\\' && /^[dDsSwWpP]$/.test(this.src[this.pos + 1] ?? '')) {
        this.classEscape(set, flags.i);
        continue;
      }
      const rangeStart = this.pos;
      const lo = this.classChar();
      let hi = lo;
      if (this.src[this.pos] === '-' && this.src[this.pos + 1] !== ']' && this.src[this.pos + 1] !== undefined) {
        this.pos++;
        hi = this.classChar();
        if (hi < lo) throw new Re2Error('invalid character class range', this.src.slice(rangeStart, this.pos));
      }
      set.ranges.push([lo, hi]);
    }
    this.pos++; // ]
    return this.emitClass(set, negated, flags);
  }

  private classChar(): number {
    const c = this.peek()!;
    if (c === '\\') return this.escapedChar();
    this.pos += c.length;
    return c.codePointAt(0)!;
  }

  private literal(cp: number, flags: Flags): string {
    if (!isCased(cp)) return emitChar(cp);
    this.noteFold(flags.i);
    if (!(flags.i && this.manualFold)) return emitChar(cp);
    const orbit = foldOrbit(cp);
    return orbit.length === 1 ? emitChar(cp) : `[${orbit.map(emitChar).join('')}]`;
  }

  private emitClass(set: ClassSet, negated: boolean, flags: Flags): string {
    this.noteFold(flags.i);
    let ranges = set.ranges;
    if (flags.i && this.manualFold) ranges = foldRanges(ranges);
    const body = ranges.map(([lo, hi]) => (lo === hi ? emitChar(lo) : `${emitChar(lo)}-${emitChar(hi)}`)).join('');
    return `[${negated ? '^' : ''}${body}${set.props.join('')}]`;
  }

  private noteFold(folded: boolean): void {
    if (folded) this.sawFolded = true;
    else this.sawUnfolded = true;
  }
}

/**
 * A negated Perl or POSIX class (`\W`, `[[:^lower:]]`). Under `(?i)` RE2 case-folds the class before
 * negating it, so `(?i)\W` excludes 'ſ' and 'K' (which fold to 's' and 'k') and `(?i)[[:^lower:]]`
 * excludes 'A'–'Z'. Negating first would keep them, and case-insensitive matching would then let 's'
 * or 'a' match through them.
 */
function negatedClass(ranges: readonly Range[], folded: boolean): Range[] {
  return complement(folded ? foldRanges(ranges) : ranges);
}

function foldRanges(ranges: readonly Range[]): Range[] {
  const out: Range[] = [...ranges];
  let budget = FOLD_ENUMERATION_LIMIT;
  for (const [lo, hi] of ranges) {
    if (hi - lo + 1 > budget) continue;
    budget -= hi - lo + 1;
    for (let cp = lo; cp <= hi; cp++) {
      if (!isCased(cp)) continue;
      for (const o of foldOrbit(cp)) if (o < lo || o > hi) out.push([o, o]);
    }
  }
  return out;
}

const scriptCache = new Map<string, boolean>();

function isScript(name: string): boolean {
  let known = scriptCache.get(name);
  if (known === undefined) {
    try {
      new RegExp(`\\p{Script=${name}}`, 'u');
      known = true;
    } catch {
      known = false;
    }
    scriptCache.set(name, known);
  }
  return known;
}

/**
 * Translates and compiles an RE2 pattern. Failures carry Go's `error parsing regexp: …` message.
 * Case-insensitivity uses the JS `i` flag when the whole pattern is case-insensitive, and explicit
 * case-folded classes when `(?i)` covers only part of it (JS in Node 20 has no inline flag groups).
 */
export function compileRe2(pattern: string): Re2Result {
  try {
    const first = new Translator(pattern, false);
    let source = first.translate();
    let flags = 'u';
    if (first.sawFolded && !first.sawUnfolded) {
      flags = 'iu';
    } else if (first.sawFolded) {
      source = new Translator(pattern, true).translate();
    }
    return { ok: true, regexp: new RegExp(source, flags) };
  } catch (e) {
    if (e instanceof Re2Error) return { ok: false, message: e.message };
    if (e instanceof SyntaxError) {
      return { ok: false, message: `error parsing regexp: unsupported pattern: \`${pattern}\`` };
    }
    throw e;
  }
}
