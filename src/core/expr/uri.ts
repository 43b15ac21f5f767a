/**
 * URI: `uri()` accepts what Go's url.Parse accepts (which is a lot), and equality normalises the way
 * Mixer's uri_equal does: scheme case-insensitive, and for http(s) a DNS-equal host and same port.
 */
import { dnsNameEqual } from './idna.js';

export interface GoUrl {
  /** Lower-cased. */
  readonly scheme: string;
  readonly opaque: string;
  /** Raw userinfo, or undefined when there is no `@`. */
  readonly user: string | undefined;
  /** Raw host including any `:port`. */
  readonly host: string;
  readonly hasAuthority: boolean;
  readonly path: string;
  readonly rawQuery: string;
  readonly forceQuery: boolean;
  readonly fragment: string | undefined;
}

export type UrlResult = { readonly ok: true; readonly url: GoUrl } | { readonly ok: false; readonly reason: string };

const CONTROL = /[\x00-\x1f\x7f]/;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
// Characters Go's unescape(…, encodeHost) refuses in a host (besides '%' escapes).
const BAD_HOST_CHAR = /[^A-Za-z0-9!$&'()*+,;=:[\]<>"\-_.~%\u0080-\u{10ffff}]/u;
const USERINFO = /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/;

function fail(reason: string): UrlResult {
  return { ok: false, reason };
}

function validOptionalPort(port: string): boolean {
  return port === '' || /^:[0-9]*$/.test(port);
}

function escapeError(s: string): string | undefined {
  const m = BAD_ESCAPE.exec(s);
  if (m === null) return undefined;
  return `invalid URL escape ${JSON.stringify(s.slice(m.index, m.index + 3))}`;
}

function checkHost(host: string): string | undefined {
  if (host.startsWith('[')) {
    const close = host.lastIndexOf(']');
    if (close < 0) return "missing ']' in host";
    const port = host.slice(close + 1);
    if (!validOptionalPort(port)) return `invalid port ${JSON.stringify(port)} after host`;
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0 && !validOptionalPort(host.slice(colon))) {
      return `invalid port ${JSON.stringify(host.slice(colon))} after host`;
    }
  }
  const bad = BAD_HOST_CHAR.exec(host);
  if (bad !== null) return `invalid character ${JSON.stringify(bad[0])} in host name`;
  return escapeError(host);
}

/** Go's getscheme: a scheme is letters then letters/digits/`+-.`, ended by ':'. */
function splitScheme(raw: string): { scheme: string; rest: string } | string {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+\-.]/.test(c)) {
      if (i === 0) return { scheme: '', rest: raw };
      continue;
    }
    if (c === ':') {
      if (i === 0) return 'missing protocol scheme';
      return { scheme: raw.slice(0, i), rest: raw.slice(i + 1) };
    }
    return { scheme: '', rest: raw };
  }
  return { scheme: '', rest: raw };
}

/**
 * Go's url.Parse, reduced to what decides success and what equality compares. A failure's reason is
 * Go 1.13's url.Error text, `parse <url>: <problem>` with the URL unquoted (Go 1.14 began quoting
 * it): the URL is the text before any `#`, or all of it when the fragment is what fails, which Go
 * checks last.
 */
export function parseGoUrl(raw: string): UrlResult {
  const hash = raw.indexOf('#');
  const beforeFragment = hash < 0 ? raw : raw.slice(0, hash);
  const fragment = hash < 0 ? undefined : raw.slice(hash + 1);
  const parsed = parseBeforeFragment(beforeFragment, fragment);
  if (!parsed.ok) return fail(`parse ${beforeFragment}: ${parsed.reason}`);
  const bad = fragment === undefined ? undefined : escapeError(fragment);
  return bad === undefined ? parsed : fail(`parse ${raw}: ${bad}`);
}

/** Go's url.parse: the URL without its fragment. */
function parseBeforeFragment(beforeFragment: string, fragment: string | undefined): UrlResult {
  if (CONTROL.test(beforeFragment)) return fail('net/url: invalid control character in URL');
  const base = { opaque: '', user: undefined, host: '', hasAuthority: false, rawQuery: '', forceQuery: false, fragment };
  if (beforeFragment === '*') return { ok: true, url: { ...base, scheme: '', path: '*' } };

  const split = splitScheme(beforeFragment);
  if (typeof split === 'string') return fail(split);
  const scheme = split.scheme.toLowerCase();
  let rest = split.rest;

  let rawQuery = '';
  let forceQuery = false;
  const q = rest.indexOf('?');
  if (q >= 0) {
    if (q === rest.length - 1) forceQuery = true;
    else rawQuery = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }

  if (!rest.startsWith('/')) {
    if (scheme !== '') return { ok: true, url: { ...base, scheme, opaque: rest, path: '', rawQuery, forceQuery } };
    const colon = rest.indexOf(':');
    const slash = rest.indexOf('/');
    if (colon >= 0 && (slash < 0 || colon < slash)) return fail('first path segment in URL cannot contain colon');
  }

  let user: string | undefined;
  let host = '';
  let hasAuthority = false;
  if ((scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    hasAuthority = true;
    const afterSlashes = rest.slice(2);
    const slash = afterSlashes.indexOf('/');
    const authority = slash < 0 ? afterSlashes : afterSlashes.slice(0, slash);
    rest = slash < 0 ? '' : afterSlashes.slice(slash);
    const at = authority.lastIndexOf('@');
    host = at < 0 ? authority : authority.slice(at + 1);
    const hostError = checkHost(host);
    if (hostError !== undefined) return fail(hostError);
    if (at >= 0) {
      user = authority.slice(0, at);
      if (!USERINFO.test(user)) return fail('net/url: invalid userinfo');
      const bad = escapeError(user);
      if (bad !== undefined) return fail(bad);
    }
  }
  const badPath = escapeError(rest);
  if (badPath !== undefined) return fail(badPath);
  return { ok: true, url: { scheme, opaque: '', user, host, hasAuthority, path: rest, rawQuery, forceQuery, fragment } };
}

/** `uri()` accepts any non-empty text that url.Parse accepts. */
export function checkUri(text: string): string | undefined {
  if (text === '') return 'error converting string to uri: empty string';
  const parsed = parseGoUrl(text);
  return parsed.ok ? undefined : `error converting string to uri '${text}': '${parsed.reason}'`;
}

function hostname(host: string): string {
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return close < 0 ? host.slice(1) : host.slice(1, close);
  }
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

function port(host: string): string {
  const close = host.lastIndexOf(']');
  const colon = host.lastIndexOf(':');
  return colon > close ? host.slice(colon + 1) : '';
}

/**
 * URI equality. Values that do not parse (wire values never went through `uri()`) are compared as
 * plain strings instead of failing the expression.
 */
export function uriEqual(a: string, b: string): boolean {
  if (a === b) return true;
  const pa = parseGoUrl(a);
  const pb = parseGoUrl(b);
  if (!pa.ok || !pb.ok) return false;
  const ua = pa.url;
  const ub = pb.url;
  if (ua.scheme !== ub.scheme) return false;
  if (ua.scheme === 'http' || ua.scheme === 'https') {
    if (!dnsNameEqual(hostname(ua.host), hostname(ub.host)) || port(ua.host) !== port(ub.host)) return false;
  } else if (ua.host !== ub.host) {
    return false;
  }
  return (
    ua.opaque === ub.opaque &&
    ua.user === ub.user &&
    ua.hasAuthority === ub.hasAuthority &&
    ua.path === ub.path &&
    ua.rawQuery === ub.rawQuery &&
    ua.forceQuery === ub.forceQuery &&
    ua.fragment === ub.fragment
  );
}
