/**
 * StatsD has no escaping: `:` ends the name, `|` separates fields, `@` introduces the sample rate
 * and a newline ends the line. A dimension value carrying any of them would corrupt the line (and,
 * in a packed datagram, the lines after it), so they are replaced rather than sent raw.
 *
 * Whitespace is replaced as well: the Etsy server rewrites it to `_` anyway, and servers that
 * forward to Graphite's plaintext protocol would otherwise split the name at the space. So are
 * the C1 control characters (U+0080–U+009F), which JavaScript's `\s` leaves out although NEL
 * (U+0085) is a line break and whitespace to Unicode, Go and Python alike.
 */
const ILLEGAL = /[:|@\s\u0000-\u001f\u007f-\u009f]/;
const ILLEGAL_ALL = /[:|@\s\u0000-\u001f\u007f-\u009f]/g;

/** What an illegal character becomes. One for one, so the name's length is kept. */
export const STAT_NAME_REPLACEMENT = '_';

/** Replaces every character StatsD cannot carry in a name with `_`. */
export function sanitizeStatName(s: string): string {
  // Most values are clean: test first so the common case allocates nothing.
  return ILLEGAL.test(s) ? s.replace(ILLEGAL_ALL, STAT_NAME_REPLACEMENT) : s;
}

/** Index of the first character StatsD cannot carry in a name, or -1. */
export function findIllegalStatNameChar(s: string): number {
  const m = ILLEGAL.exec(s);
  return m === null ? -1 : m.index;
}

/** `':'`, `'\n'` (escaped) etc., for messages about configuration text. */
export function describeChar(c: string): string {
  return JSON.stringify(c);
}
