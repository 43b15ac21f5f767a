/**
 * EMAIL_ADDRESS: `email()` (an RFC 5322 addr-spec as Go's net/mail parses it, without a display
 * name, whose domain must also pass `dnsName()`) and equality (same local part, DNS-equal domain).
 */
import { dnsNameEqual, dnsNameError, toDnsName } from './idna.js';

const DISPLAY_NAMES = 'display names are not allowed';

export type EmailResult =
  | { readonly ok: true; readonly local: string; readonly domain: string }
  | { readonly ok: false; readonly reason: string };

// RFC 5322 atext, plus any non-ASCII character (RFC 6532), as Go accepts.
const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10ffff}]+$/u;

function isDotAtom(s: string): boolean {
  return s.split('.').every((part) => ATEXT.test(part));
}

/** The unquoted content of a quoted-string local part, or undefined when malformed. */
function unquoteLocal(s: string): string | undefined {
  if (s.length < 2 || !s.startsWith('"') || !s.endsWith('"')) return undefined;
  let out = '';
  for (let i = 1; i < s.length - 1; i++) {
    let c = s[i]!;
    if (c === '\\') {
      i++;
      if (i >= s.length - 1) return undefined;
      c = s[i]!;
    } else if (c === '"' || c < ' ' || c === '\x7f') {
      return undefined;
    }
    out += c;
  }
  return out;
}

function parseAddrSpec(addr: string): EmailResult {
  const at = addr.lastIndexOf('@');
  if (at < 0) return { ok: false, reason: 'mail: missing @ in addr-spec' };
  const rawLocal = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  let local: string | undefined;
  if (rawLocal.startsWith('"')) local = unquoteLocal(rawLocal);
  else if (rawLocal !== '' && isDotAtom(rawLocal)) local = rawLocal;
  if (local === undefined) return { ok: false, reason: 'mail: invalid string' };
  if (domain === '' || !isDotAtom(domain)) return { ok: false, reason: 'mail: invalid domain' };
  return { ok: true, local, domain };
}

/** Go's mail.ParseAddress, minus display names: `a@b.c` or `<a@b.c>`. */
function parseAddress(text: string): EmailResult {
  // Go skips only spaces and tabs around an address (skipSpace); a newline or NBSP is not blank.
  const s = text.replace(/^[ \t]+|[ \t]+$/g, '');
  if (s === '') return { ok: false, reason: 'mail: no address' };
  let addr = s;
  if (s.endsWith('>')) {
    const open = s.indexOf('<');
    if (open < 0) return { ok: false, reason: 'mail: no angle-addr' };
    if (s.slice(0, open).trim() !== '') return { ok: false, reason: DISPLAY_NAMES };
    addr = s.slice(open + 1, -1);
  }
  return parseAddrSpec(addr);
}

/**
 * `email()`: the address must parse, have no display name, and its domain must be a valid DNS name.
 * Returns Mixer's error message, or undefined when the address is valid. The three failures are
 * worded differently in Mixer (externEmail): a parse error quoted, the display-name error bare, and
 * a bad domain as the whole quoted `dnsName()` error.
 */
export function checkEmail(text: string): string | undefined {
  const prefix = `error converting '${text}' to e-mail:`;
  const parsed = parseAddress(text);
  if (!parsed.ok) {
    if (parsed.reason === DISPLAY_NAMES) return `${prefix} ${DISPLAY_NAMES}`;
    return `${prefix} '${parsed.reason}'`;
  }
  const dns = toDnsName(parsed.domain);
  if (!dns.ok) return `${prefix} '${dnsNameError(parsed.domain, dns.reason)}'`;
  return undefined;
}

/**
 * Equal when the local parts are identical and the domains DNS-equal. Values that do not parse (a
 * wire value never went through `email()`) are compared as plain strings instead of failing.
 */
export function emailEqual(a: string, b: string): boolean {
  const pa = parseAddress(a);
  const pb = parseAddress(b);
  if (!pa.ok || !pb.ok) return a === b;
  return pa.local === pb.local && dnsNameEqual(pa.domain, pb.domain);
}
