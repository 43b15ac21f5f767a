/**
 * Go's `net.IP.String()`: dotted quad for 4-byte and IPv4-mapped 16-byte addresses, RFC 5952
 * style for other 16-byte ones (the longest run of two or more zero groups becomes `::`, the
 * first run winning ties), `<nil>` for no bytes and `?` plus hex for any other length.
 */
export function formatIp(ip: Uint8Array): string {
  if (ip.length === 0) return '<nil>';
  if (ip.length === 4) return dotted(ip, 0);
  if (ip.length !== 16) return `?${hex(ip)}`;
  if (isV4Mapped(ip)) return dotted(ip, 12);

  let e0 = -1;
  let e1 = -1;
  for (let i = 0; i < 16; i += 2) {
    let j = i;
    while (j < 16 && ip[j] === 0 && ip[j + 1] === 0) j += 2;
    if (j > i && j - i > e1 - e0) {
      e0 = i;
      e1 = j;
      i = j;
    }
  }
  // A single zero group is never shortened.
  if (e1 - e0 <= 2) {
    e0 = -1;
    e1 = -1;
  }
  let out = '';
  for (let i = 0; i < 16; i += 2) {
    if (i === e0) {
      out += '::';
      i = e1;
      if (i >= 16) break;
    } else if (i > 0) {
      out += ':';
    }
    out += (((ip[i] ?? 0) << 8) | (ip[i + 1] ?? 0)).toString(16);
  }
  return out;
}

function isV4Mapped(ip: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

function dotted(ip: Uint8Array, at: number): string {
  return `${ip[at] ?? 0}.${ip[at + 1] ?? 0}.${ip[at + 2] ?? 0}.${ip[at + 3] ?? 0}`;
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}
