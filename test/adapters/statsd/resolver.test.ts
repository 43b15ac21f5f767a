/**
 * Which address a host name is sent to. getaddrinfo answers `localhost` with `::1` first wherever
 * /etc/hosts lists it (every Kubernetes pod), and Node >= 17 keeps that order; Go's
 * ResolveUDPAddr, which Mixer's client used, takes the first IPv4 answer.
 */
import { describe, expect, it, vi } from 'vitest';

// What getaddrinfo returns for `localhost` in a pod: ::1 first, as Node passes it on (verbatim).
const podLocalhost = [
  { address: '::1', family: 6 },
  { address: '127.0.0.1', family: 4 },
];

vi.mock('node:dns/promises', () => ({
  lookup: vi.fn(async (host: string, options?: { all?: boolean }) => {
    const answers = host === 'v6only.example' ? [{ address: '2001:db8::5', family: 6 }] : podLocalhost;
    return options?.all === true ? answers : answers[0];
  }),
}));

const { pickAddress, systemLookup } = await import('../../../src/adapters/statsd/resolver.js');

describe('the statsd address lookup', () => {
  it('sends to the IPv4 address of a name that has both, as Mixer did, not to the ::1 getaddrinfo lists first', async () => {
    expect(await systemLookup('localhost')).toEqual({ address: '127.0.0.1', family: 4 });
  });

  it('takes an IPv6 address when the name has no IPv4 one', async () => {
    expect(await systemLookup('v6only.example')).toEqual({ address: '2001:db8::5', family: 6 });
    expect(pickAddress([])).toBeUndefined();
    expect(pickAddress([{ address: '10.0.0.2', family: 4 }, { address: '10.0.0.1', family: 4 }])).toEqual({ address: '10.0.0.2', family: 4 });
  });
});
