/** IP_ADDRESS parsing (`ip()`, Go's net.ParseIP) and equality (Go's net.IP.Equal). */

function parseIPv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    // Go 1.13 (Mixer 1.4) reads each part as decimal, leading zeros included ("010" is 10), and
    // only the value is bounded, so any number of leading zeros is fine.
    if (!/^[0-9]+$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 0xff) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIPv6(s: string): Uint8Array | undefined {
  const ip = new Uint8Array(16);
  let ellipsis = -1;
  let i = 0;
  let p = 0;
  if (s.startsWith('::')) {
    ellipsis = 0;
    p = 2;
    if (p === s.length) return ip;
  }
  while (i < 16) {
    const m = /^[0-9a-fA-F]+/.exec(s.slice(p));
    if (m === null) return undefined;
    if (s[p + m[0].length] === '.') {
      // An embedded IPv4 address, only as the last 4 bytes.
      if (ellipsis < 0 && i !== 12) return undefined;
      if (i + 4 > 16) return undefined;
      const v4 = parseIPv4(s.slice(p));
      if (v4 === undefined) return undefined;
      ip.set(v4, i);
      i += 4;
      p = s.length;
      break;
    }
    // As for IPv4 parts, Go bounds the group's value, not its length: "00001" is a valid group.
    const n = parseInt(m[0], 16);
    if (n > 0xffff) return undefined;
    ip[i] = n >> 8;
    ip[i + 1] = n & 0xff;
    i += 2;
    p += m[0].length;
    if (p === s.length) break;
    if (s[p] !== ':' || p + 1 === s.length) return undefined;
    p++;
    if (s[p] === ':') {
      if (ellipsis >= 0) return undefined;
      ellipsis = i;
      p++;
      if (p === s.length) break;
    }
  }
  if (p !== s.length) return undefined;
  if (i < 16) {
    if (ellipsis < 0) return undefined;
    const n = 16 - i;
    ip.copyWithin(ellipsis + n, ellipsis, i);
    ip.fill(0, ellipsis, ellipsis + n);
  } else if (ellipsis >= 0) {
    return undefined; // "::" must stand for at least one group
  }
  return ip;
}

/** IPv4 dotted quad → 4 bytes, IPv6 → 16 bytes; undefined when it is neither. No zones. */
export function parseIp(s: string): Uint8Array | undefined {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '.') return parseIPv4(s);
    if (s[i] === ':') return parseIPv6(s);
  }
  return undefined;
}

function isV4InV6Prefix(ip: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

/** Byte equality, except that a 4-byte address equals its 16-byte IPv4-mapped form. */
export function ipEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length === b.length) {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (a.length === 4 && b.length === 16) return isV4InV6Prefix(b) && sameTail(a, b);
  if (a.length === 16 && b.length === 4) return isV4InV6Prefix(a) && sameTail(b, a);
  return false;
}

function sameTail(v4: Uint8Array, v6: Uint8Array): boolean {
  return v4[0] === v6[12] && v4[1] === v6[13] && v4[2] === v6[14] && v4[3] === v6[15];
}
