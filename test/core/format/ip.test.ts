import { describe, expect, it } from 'vitest';
import { formatIp } from '../../../src/core/format/index.js';

function v6(...groups: number[]): Uint8Array {
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

describe('formatIp (net.IP.String)', () => {
  it.each<[string, Uint8Array, string]>([
    ['IPv4', new Uint8Array([10, 0, 0, 1]), '10.0.0.1'],
    ['IPv4 zero', new Uint8Array([0, 0, 0, 0]), '0.0.0.0'],
    ['v4-mapped IPv6', new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 5]), '10.0.0.5'],
    ['unspecified', v6(0, 0, 0, 0, 0, 0, 0, 0), '::'],
    ['loopback', v6(0, 0, 0, 0, 0, 0, 0, 1), '::1'],
    ['trailing run', v6(1, 0, 0, 0, 0, 0, 0, 0), '1::'],
    ['documentation', v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), '2001:db8::1'],
    ['first of equal runs wins', v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), '2001:db8::1:0:0:1'],
    ['longest run wins', v6(0x2001, 0, 0, 1, 0, 0, 0, 1), '2001:0:0:1::1'],
    ['single zero group is kept', v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1), '2001:db8:0:1:1:1:1:1'],
    ['lower-case hex without leading zeros', v6(0xfe80, 0, 0, 0, 0x0202, 0xb3ff, 0xfe1e, 0x8329), 'fe80::202:b3ff:fe1e:8329'],
    ['IPv4-compatible is not mapped', v6(0, 0, 0, 0, 0, 0, 0x0a00, 1), '::a00:1'],
    ['empty', new Uint8Array(0), '<nil>'],
    ['odd length', new Uint8Array([1, 2, 0xab]), '?0102ab'],
  ])('%s', (_name, ip, want) => {
    expect(formatIp(ip)).toBe(want);
  });
});
