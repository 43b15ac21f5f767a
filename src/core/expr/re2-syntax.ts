/**
 * RE2 (Go `regexp`) syntax: a pattern parsed with RE2's grammar and error messages into a tree whose
 * leaves are single-character sets and empty-width assertions. JS regexps are not RE2 (they have
 * backreferences and lookaround, which RE2 rejects, and `.`, `\s`, `\w`, `\Q…\E`, POSIX classes and
 * inline flag groups differ), so JS RegExp syntax appears only inside a leaf: each character set is
 * written as a one-character JS class, which V8 evaluates with Unicode tables Node already carries.
 * Structure (sequence, alternation, repetition) is left to re2-program.ts, so matching never backtracks.
 */

/**
 * One character (code point) a leaf accepts: `source` is a JS RegExp atom (a literal or a `[…]`
 * class) valid under the `u` flag; `fold` asks for case-insensitive comparison (the `i` flag).
 * `codePoint` is set for a plain literal so the common case needs no RegExp at all.
 */
export interface CharSet {
  readonly source: string;
  readonly fold: boolean;
  readonly codePoint?: number;
}

export type Assertion = 'beginText' | 'endText' | 'beginLine' | 'endLine' | 'wordBoundary' | 'notWordBoundary';

export type Re2Node =
  | { readonly kind: 'empty' }
  | { readonly kind: 'char'; readonly set: CharSet }
  | { readonly kind: 'assert'; readonly assertion: Assertion }
  | { readonly kind: 'concat'; readonly items: readonly Re2Node[] }
  | { readonly kind: 'alternate'; readonly items: readonly Re2Node[] }
  /** `max` -1 is unbounded. Greedy and lazy repetition match the same strings, so laziness is not kept. */
  | { readonly kind: 'repeat'; readonly body: Re2Node; readonly min: number; readonly max: number };

const EMPTY: Re2Node = { kind: 'empty' };

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

export class Re2Error extends Error {
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

/**
 * Go 1.13's unicode.Scripts (Unicode 11.0): `\p{Name}` takes these long names only. V8 also knows the
 * aliases (`Grek`, `Zyyy`), `Unknown` and the scripts of later Unicode versions (`Wancho`, `Yezidi`),
 * all of which Go rejects as an invalid character class range.
 */
const GO_SCRIPTS: ReadonlySet<string> = new Set([
  'Adlam', 'Ahom', 'Anatolian_Hieroglyphs', 'Arabic', 'Armenian', 'Avestan', 'Balinese', 'Bamum', 'Bassa_Vah',
  'Batak', 'Bengali', 'Bhaiksuki', 'Bopomofo', 'Brahmi', 'Braille', 'Buginese', 'Buhid', 'Canadian_Aboriginal',
  'Carian', 'Caucasian_Albanian', 'Chakma', 'Cham', 'Cherokee', 'Common', 'Coptic', 'Cuneiform', 'Cypriot',
  'Cyrillic', 'Deseret', 'Devanagari', 'Dogra', 'Duployan', 'Egyptian_Hieroglyphs', 'Elbasan', 'Ethiopic',
  'Georgian', 'Glagolitic', 'Gothic', 'Grantha', 'Greek', 'Gujarati', 'Gunjala_Gondi', 'Gurmukhi', 'Han',
  'Hangul', 'Hanifi_Rohingya', 'Hanunoo', 'Hatran', 'Hebrew', 'Hiragana', 'Imperial_Aramaic', 'Inherited',
  'Inscriptional_Pahlavi', 'Inscriptional_Parthian', 'Javanese', 'Kaithi', 'Kannada', 'Katakana', 'Kayah_Li',
  'Kharoshthi', 'Khmer', 'Khojki', 'Khudawadi', 'Lao', 'Latin', 'Lepcha', 'Limbu', 'Linear_A', 'Linear_B',
  'Lisu', 'Lycian', 'Lydian', 'Mahajani', 'Makasar', 'Malayalam', 'Mandaic', 'Manichaean', 'Marchen',
  'Masaram_Gondi', 'Medefaidrin', 'Meetei_Mayek', 'Mende_Kikakui', 'Meroitic_Cursive', 'Meroitic_Hieroglyphs',
  'Miao', 'Modi', 'Mongolian', 'Mro', 'Multani', 'Myanmar', 'Nabataean', 'New_Tai_Lue', 'Newa', 'Nko', 'Nushu',
  'Ogham', 'Ol_Chiki', 'Old_Hungarian', 'Old_Italic', 'Old_North_Arabian', 'Old_Permic', 'Old_Persian',
  'Old_Sogdian', 'Old_South_Arabian', 'Old_Turkic', 'Oriya', 'Osage', 'Osmanya', 'Pahawh_Hmong', 'Palmyrene',
  'Pau_Cin_Hau', 'Phags_Pa', 'Phoenician', 'Psalter_Pahlavi', 'Rejang', 'Runic', 'Samaritan', 'Saurashtra',
  'Sharada', 'Shavian', 'Siddham', 'SignWriting', 'Sinhala', 'Sogdian', 'Sora_Sompeng', 'Soyombo', 'Sundanese',
  'Syloti_Nagri', 'Syriac', 'Tagalog', 'Tagbanwa', 'Tai_Le', 'Tai_Tham', 'Tai_Viet', 'Takri', 'Tamil',
  'Tangut', 'Telugu', 'Thaana', 'Thai', 'Tibetan', 'Tifinagh', 'Tirhuta', 'Ugaritic', 'Vai', 'Warang_Citi',
  'Yi', 'Zanabazar_Square',
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

function unhex(c: string): number {
  return /^[0-9A-Fa-f]$/.test(c) ? parseInt(c, 16) : -1;
}

function isOctal(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '7';
}

class Parser {
  private pos = 0;
  private depth = 0;
  /**
   * Literals that precede the atom a following quantifier applies to: `\Qab\E*` repeats only `b`,
   * because RE2 treats quoted text as a run of single-character literals.
   */
  private unquantifiedPrefix: Re2Node[] = [];

  constructor(private readonly src: string) {}

  parse(): Re2Node {
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

  private alternation(initial: Flags): Re2Node {
    // Flag groups like `(?i)` change the flags of the rest of the enclosing group, across `|`.
    const state = { flags: initial };
    const branches = [this.sequence(state)];
    while (this.peek() === '|') {
      this.pos++;
      branches.push(this.sequence(state));
    }
    return branches.length === 1 ? branches[0]! : { kind: 'alternate', items: branches };
  }

  /**
   * Go's parse loop for one branch. A repetition operator applies to the last item pushed: after a
   * flag group or an empty `\Q\E`, which push nothing, that is the item before them (`a(?i)*` is
   * `a*`), and with no item at all it is "missing argument". Errors quote the operator with its `?`.
   */
  private sequence(state: { flags: Flags }): Re2Node {
    const items: Re2Node[] = [];
    let lastRepeat = -1; // where the previous token started, when it was a repetition operator
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') {
        return items.length === 0 ? EMPTY : items.length === 1 ? items[0]! : { kind: 'concat', items };
      }
      const qStart = this.pos;
      const q = this.quantifier();
      if (q !== undefined) {
        if (this.peek() === '?') this.pos++; // lazy: matches the same strings
        if (lastRepeat >= 0) {
          throw new Re2Error('invalid nested repetition operator', this.src.slice(lastRepeat, this.pos));
        }
        const body = items.pop();
        if (body === undefined) {
          throw new Re2Error('missing argument to repetition operator', this.src.slice(qStart, this.pos));
        }
        const node: Re2Node = { kind: 'repeat', body, min: q.min, max: q.max };
        if ((q.min >= 2 || q.max >= 2) && !repeatIsValid(node, MAX_REPEAT)) {
          throw new Re2Error('invalid repeat count', this.src.slice(qStart, this.pos));
        }
        items.push(node);
        lastRepeat = qStart;
        continue;
      }
      lastRepeat = -1;
      const atom = this.atom(state);
      if (atom === undefined) continue; // a flag group or an empty \Q\E: no output
      items.push(...this.unquantifiedPrefix);
      this.unquantifiedPrefix = [];
      items.push(atom);
    }
  }

  /** `*`, `+`, `?` or a well-formed `{n}`, `{n,}`, `{n,m}`; anything else is not a quantifier. */
  private quantifier(): { min: number; max: number } | undefined {
    const c = this.peek();
    if (c === '*' || c === '+' || c === '?') {
      this.pos++;
      return c === '*' ? { min: 0, max: -1 } : c === '+' ? { min: 1, max: -1 } : { min: 0, max: 1 };
    }
    if (c !== '{') return undefined;
    // Go's parseInt refuses leading zeros, so `a{01}` is the literal text.
    const m = /^\{(0|[1-9]\d*)(,(0|[1-9]\d*)?)?\}/.exec(this.src.slice(this.pos));
    if (m === null) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === undefined ? -1 : Number(m[3]);
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && max < min)) {
      throw new Re2Error('invalid repeat count', m[0]);
    }
    this.pos += m[0].length;
    return { min, max };
  }

  /** One atom (sequence() has taken repetition operators), or undefined for a flag group or empty `\Q\E`. */
  private atom(state: { flags: Flags }): Re2Node | undefined {
    const flags = state.flags;
    const c = this.peek()!;
    switch (c) {
      case '(':
        return this.group(state);
      case '[':
        return this.charClass(flags);
      case '.':
        this.pos++;
        return char({ source: flags.s ? '[^]' : '[^\\n]', fold: false });
      case '^':
        this.pos++;
        return assertion(flags.m ? 'beginLine' : 'beginText');
      case '$':
        this.pos++;
        return assertion(flags.m ? 'endLine' : 'endText');
      case '\\':
        return this.escapeOutsideClass(flags);
      default:
        this.pos += c.length;
        return this.literal(c.codePointAt(0)!, flags);
    }
  }

  private group(state: { flags: Flags }): Re2Node | undefined {
    const start = this.pos;
    this.pos++; // (
    let inner = state.flags;
    if (this.peek() === '?') {
      const rest = this.src.slice(this.pos);
      if (rest.length > 3 && rest.startsWith('?P<')) {
        const close = rest.indexOf('>');
        // Go shows the whole rest of the pattern when the name is not closed.
        const name = close < 0 ? '' : rest.slice(3, close);
        if (!/^[A-Za-z0-9_]+$/.test(name)) {
          throw new Re2Error('invalid named capture', this.src.slice(start, close < 0 ? undefined : this.pos + close + 1));
        }
        this.pos += close + 1;
      } else {
        const next = this.perlFlags(start, state.flags);
        if (this.src[this.pos - 1] === ')') {
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
    return body;
  }

  /**
   * Go's parsePerlFlags, after `(`: `?`, flags, optionally `-` and flags to clear, then `:` (a group
   * with those flags) or `)` (the flags hold for the rest of the enclosing group). `(?:` and `(?)`
   * are valid; `(?i-)` is not. The error shows the pattern up to the character that broke it.
   */
  private perlFlags(start: number, current: Flags): Flags {
    const flags = { ...current };
    let sign = 1;
    let sawFlag = false;
    this.pos++; // ?
    for (;;) {
      const c = this.peek();
      if (c === undefined) break;
      this.pos += c.length;
      if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
        flags[c] = sign > 0;
        sawFlag = true;
      } else if (c === '-') {
        if (sign < 0) break;
        sign = -1;
        sawFlag = false;
      } else if (c === ':' || c === ')') {
        if (sign < 0 && !sawFlag) break;
        return flags;
      } else {
        break;
      }
    }
    throw new Re2Error('invalid or unsupported Perl syntax', this.src.slice(start, this.pos));
  }

  private escapeOutsideClass(flags: Flags): Re2Node | undefined {
    const c = this.src[this.pos + 1];
    switch (c) {
      case 'A':
        this.pos += 2;
        return assertion('beginText');
      case 'z':
        this.pos += 2;
        return assertion('endText');
      case 'b':
        this.pos += 2;
        return assertion('wordBoundary');
      case 'B':
        this.pos += 2;
        return assertion('notWordBoundary');
      case 'Q': {
        const end = this.src.indexOf('\\E', this.pos + 2);
        const text = this.src.slice(this.pos + 2, end < 0 ? undefined : end);
        this.pos = end < 0 ? this.src.length : end + 2;
        const chars = [...text].map((ch) => this.literal(ch.codePointAt(0)!, flags));
        if (chars.length === 0) return undefined;
        this.unquantifiedPrefix = chars.slice(0, -1);
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
      // Go's error quotes the escape up to the character that broke it: `\xZ1`, `\x{12`, `\x{110000`.
      const next = (): number => {
        const ch = this.peek();
        if (ch === undefined) return -1;
        this.pos += ch.length;
        return ch === '}' ? -2 : unhex(ch);
      };
      if (this.pos >= this.src.length) return bad();
      if (this.src[this.pos] === '{') {
        this.pos++;
        let v = 0;
        let digits = 0;
        for (;;) {
          const d = next();
          if (d === -2) break;
          if (d < 0) return bad();
          v = v * 16 + d;
          if (v > MAX_CODE_POINT) return bad();
          digits++;
        }
        return digits === 0 ? bad() : v;
      }
      const hi = next();
      const lo = next();
      return hi < 0 || lo < 0 ? bad() : hi * 16 + lo;
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
    if (name === 'C') {
      // Go's C is Cc, Cf, Co and Cs: unlike the JS property it leaves out Cn (unassigned code points).
      set.props.push(negated ? '\\P{C}\\p{Cn}' : '\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}');
      return;
    }
    let js: string;
    if (GENERAL_CATEGORIES.has(name)) {
      js = name;
    } else if (GO_SCRIPTS.has(name)) {
      js = `Script=${name}`;
    } else {
      throw new Re2Error('invalid character class range', shown);
    }
    set.props.push(`\\${negated ? 'P' : 'p'}{${js}}`);
  }

  private charClass(flags: Flags): Re2Node {
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

  private literal(cp: number, flags: Flags): Re2Node {
    const fold = flags.i && isCased(cp);
    return char(fold ? { source: emitChar(cp), fold } : { source: emitChar(cp), fold, codePoint: cp });
  }

  private emitClass(set: ClassSet, negated: boolean, flags: Flags): Re2Node {
    const body = set.ranges.map(([lo, hi]) => (lo === hi ? emitChar(lo) : `${emitChar(lo)}-${emitChar(hi)}`)).join('');
    return char({ source: `[${negated ? '^' : ''}${body}${set.props.join('')}]`, fold: flags.i });
  }
}

/**
 * Go's repeatIsValid: nested counted repetitions may not make more than `n` copies of the innermost
 * item, so `(a{2}){501}` is an invalid repeat count although each count is at most 1000.
 */
function repeatIsValid(node: Re2Node, n: number): boolean {
  switch (node.kind) {
    case 'repeat': {
      if (node.max === 0) return true;
      const m = node.max < 0 ? node.min : node.max;
      if (m > n) return false;
      return repeatIsValid(node.body, m > 0 ? Math.floor(n / m) : n);
    }
    case 'concat':
    case 'alternate':
      return node.items.every((item) => repeatIsValid(item, n));
    default:
      return true;
  }
}

function char(set: CharSet): Re2Node {
  return { kind: 'char', set };
}

function assertion(kind: Assertion): Re2Node {
  return { kind: 'assert', assertion: kind };
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

/** Parses an RE2 pattern; throws Re2Error with Go's `error parsing regexp: …` message. */
export function parseRe2(pattern: string): Re2Node {
  return new Parser(pattern).parse();
}
