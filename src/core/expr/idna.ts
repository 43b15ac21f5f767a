/**
 * DNS names for `dnsName()` and DNS_NAME equality: punycode (RFC 3492), strict label validation, and
 * the comparison Mixer performs (IDNA lookup mapping, one trailing dot ignored).
 */
import { domainToUnicode } from 'node:url';

export type DnsNameResult = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: string };

const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 128;
const MAX_LABEL_BYTES = 63;
const MAX_NAME_BYTES = 253;

function adapt(delta: number, numPoints: number, firstTime: boolean): number {
  let d = firstTime ? Math.floor(delta / DAMP) : delta >> 1;
  d += Math.floor(d / numPoints);
  let k = 0;
  while (d > ((BASE - T_MIN) * T_MAX) >> 1) {
    d = Math.floor(d / (BASE - T_MIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - T_MIN + 1) * d) / (d + SKEW));
}

function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 22; // '0'..'9' → 26..35
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61;
  return BASE;
}

function digitChar(d: number): string {
  return String.fromCharCode(d < 26 ? d + 0x61 : d + 22);
}

/** RFC 3492 decoding of the part after `xn--`; undefined when malformed. */
export function punycodeDecode(input: string): string | undefined {
  const out: number[] = [];
  const basicEnd = input.lastIndexOf('-');
  for (let j = 0; j < Math.max(basicEnd, 0); j++) {
    const c = input.charCodeAt(j);
    if (c >= 0x80) return undefined;
    out.push(c);
  }
  let n = INITIAL_N;
  let bias = INITIAL_BIAS;
  let i = 0;
  for (let pos = basicEnd > 0 ? basicEnd + 1 : 0; pos < input.length; ) {
    const oldi = i;
    let w = 1;
    for (let k = BASE; ; k += BASE) {
      if (pos >= input.length) return undefined;
      const digit = digitValue(input.charCodeAt(pos++));
      if (digit >= BASE) return undefined;
      i += digit * w;
      if (i > 0x7fffffff) return undefined;
      const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
      if (digit < t) break;
      w *= BASE - t;
    }
    bias = adapt(i - oldi, out.length + 1, oldi === 0);
    n += Math.floor(i / (out.length + 1));
    i %= out.length + 1;
    if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return undefined;
    out.splice(i, 0, n);
    i++;
  }
  return String.fromCodePoint(...out);
}

/** RFC 3492 encoding of a label (without the `xn--` prefix). */
export function punycodeEncode(label: string): string {
  const cps = Array.from(label, (c) => c.codePointAt(0)!);
  let out = cps.filter((c) => c < 0x80).map((c) => String.fromCharCode(c)).join('');
  const basic = out.length;
  let handled = basic;
  if (basic > 0) out += '-';
  let n = INITIAL_N;
  let delta = 0;
  let bias = INITIAL_BIAS;
  while (handled < cps.length) {
    let m = Infinity;
    for (const c of cps) if (c >= n && c < m) m = c;
    delta += (m - n) * (handled + 1);
    n = m;
    for (const c of cps) {
      if (c < n) delta++;
      if (c !== n) continue;
      let q = delta;
      for (let k = BASE; ; k += BASE) {
        const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
        if (q < t) break;
        out += digitChar(t + ((q - t) % (BASE - t)));
        q = Math.floor((q - t) / (BASE - t));
      }
      out += digitChar(q);
      bias = adapt(delta, handled + 1, handled === basic);
      delta = 0;
      handled++;
    }
    delta++;
    n++;
  }
  return out;
}

const LABEL_CHAR = /^[\p{L}\p{M}\p{Nd}-]$/u;
const MARK = /^\p{M}$/u;
const NON_ASCII = /[^\x00-\x7f]/;

function isAceLabel(label: string): boolean {
  return label.length >= 4 && label.slice(0, 4).toLowerCase() === 'xn--';
}

/** Validates one label; returns its ASCII length (after punycode) or a reason. */
function checkLabel(label: string): { unicode: string; bytes: number } | string {
  let unicode = label;
  let ace = label;
  if (isAceLabel(label)) {
    const decoded = punycodeDecode(label.slice(4));
    if (decoded === undefined || decoded === '' || !NON_ASCII.test(decoded)) return `idna: invalid label "${label}"`;
    unicode = decoded;
  } else if (NON_ASCII.test(label)) {
    ace = `xn--${punycodeEncode(label)}`;
  } else if (label.length >= 4 && label[2] === '-' && label[3] === '-') {
    return `idna: invalid label "${label}"`; // "--" in positions 3-4 is reserved for ACE prefixes
  }
  if (unicode.normalize('NFC') !== unicode) return `idna: invalid label "${label}"`;
  if (unicode.startsWith('-') || unicode.endsWith('-')) return `idna: invalid label "${label}"`;
  let first = true;
  for (const ch of unicode) {
    if (!LABEL_CHAR.test(ch) || (first && MARK.test(ch))) return `idna: disallowed rune ${JSON.stringify(ch)}`;
    first = false;
  }
  if (ace.length > MAX_LABEL_BYTES) return `idna: label too long "${label}"`;
  return { unicode, bytes: ace.length };
}

/**
 * `dnsName()`: strict validation (letters, digits and hyphens after punycode decoding, no leading or
 * trailing hyphen, labels of 1–63 bytes, names of at most 253 bytes, one optional trailing dot).
 * Returns the Unicode form; case is kept, as Mixer's validating profile does not map.
 */
export function toDnsName(text: string): DnsNameResult {
  const fail = (reason: string): DnsNameResult => ({ ok: false, reason });
  if (text === '') return fail('idna: invalid label ""');
  const labels = text.split('.');
  const trailingDot = labels.length > 1 && labels[labels.length - 1] === '';
  if (trailingDot) labels.pop();
  let total = labels.length - 1; // the dots
  const out: string[] = [];
  for (const label of labels) {
    if (label === '') return fail('idna: invalid label ""');
    const checked = checkLabel(label);
    if (typeof checked === 'string') return fail(checked);
    total += checked.bytes;
    out.push(checked.unicode);
  }
  if (total > MAX_NAME_BYTES) return fail(`idna: name too long "${text}"`);
  return { ok: true, value: out.join('.') + (trailingDot ? '.' : '') };
}

/** Mixer's `dnsName()` error message (externDNSName), also nested in `email()`'s. */
export function dnsNameError(text: string, reason: string): string {
  return `error converting '${text}' to dns name: '${reason}'`;
}

function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) return false;
  }
  return !s.toLowerCase().includes('xn--');
}

function lowerAscii(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

function withoutTrailingDot(s: string): string {
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

/**
 * DNS_NAME equality: compared after IDNA lookup mapping (case-folded, punycode decoded), ignoring
 * one trailing dot. Plain ASCII names (nearly all) are compared in place without allocating.
 */
export function dnsNameEqual(a: string, b: string): boolean {
  if (isPlainAscii(a) && isPlainAscii(b)) {
    const la = a.endsWith('.') ? a.length - 1 : a.length;
    const lb = b.endsWith('.') ? b.length - 1 : b.length;
    if (la !== lb) return false;
    for (let i = 0; i < la; i++) {
      if (lowerAscii(a.charCodeAt(i)) !== lowerAscii(b.charCodeAt(i))) return false;
    }
    return true;
  }
  return withoutTrailingDot(lookupForm(a)) === withoutTrailingDot(lookupForm(b));
}

function lookupForm(s: string): string {
  // domainToUnicode applies UTS #46 mapping and decodes punycode; it yields "" for names it rejects,
  // which are then compared case-insensitively as written rather than failing the expression.
  return domainToUnicode(s) || s.toLowerCase();
}
