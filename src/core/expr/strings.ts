/**
 * String semantics where Go and JS differ: Go strings are UTF-8 bytes, JS strings UTF-16 code units.
 * These run per evaluation, so none of them allocates on ASCII input.
 */

/** `len(s)` in Go: the UTF-8 byte length. A lone surrogate counts as U+FFFD (3 bytes). */
export function utf8ByteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      n += 1;
    } else if (c < 0x800) {
      n += 2;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    } else {
      n += 3;
    }
  }
  return n;
}

/**
 * Byte-wise lexicographic order of the UTF-8 encodings, which differs from JS `<` on UTF-16 for
 * characters above U+FFFF versus U+E000–U+FFFF. Negative, zero or positive.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (supplementary planes) sort after U+E000–U+FFFF in UTF-8: rotate them to the top.
      x = x < 0xe000 ? x + 0x2000 : x - 0x800;
      y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Go's strings.ToLower: per-character simple lower-casing, without context rules (final sigma). */
export function toLowerGo(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s.toLowerCase();
  let out = '';
  for (const ch of s) {
    // U+0130 (İ) is the one character whose full lower-case mapping is two characters; Go's simple
    // mapping gives 'i'.
    if (ch === '\u0130') {
      out += 'i';
      continue;
    }
    const lower = ch.toLowerCase();
    out += String.fromCodePoint(lower.codePointAt(0)!).length === lower.length ? lower : ch;
  }
  return out;
}

/**
 * Mixer's `match(str, pattern)`: a trailing `*` is a prefix match, else a leading `*` a suffix
 * match, else equality. Only one `*` is honoured.
 */
export function globMatch(str: string, pattern: string): boolean {
  if (pattern.endsWith('*')) return str.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return str.endsWith(pattern.slice(1));
  return str === pattern;
}
