import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { Admission, bearerToken } from '../../../src/core/security/admission.js';
import type { RefusalReason } from '../../../src/core/security/refusal.js';
import { parseTenants, type TenantDirectory } from '../../../src/core/security/tenants.js';

function tenants(yaml: string): TenantDirectory {
  const { directory, issues } = parseTenants(yaml, 'tenants.yaml');
  expect(issues).toEqual([]);
  return directory!;
}

function withToken(value: string | undefined): Metadata {
  const md = new Metadata();
  if (value !== undefined) md.set('authorization', value);
  return md;
}

const TWO = tenants(`tenants:
- {name: a, tokens: [token-a], rateLimit: {setsPerSecond: 10, burst: 20}, maxSeries: 2}
- {name: b, tokens: [token-b]}
`);

function admission(directory: TenantDirectory | undefined): { adm: Admission; refused: [string | undefined, RefusalReason][] } {
  const refused: [string | undefined, RefusalReason][] = [];
  const adm = new Admission({ observer: { refused: (t, r) => refused.push([t, r]) }, seriesSeeds: Uint32Array.of(1, 2, 3, 4) });
  adm.update(directory, 0);
  return { adm, refused };
}

describe('admission of Reports', () => {
  it('admits everything without a tenant when no tenants file is configured', () => {
    const { adm } = admission(undefined);
    expect(adm.enabled).toBe(false);
    expect(adm.admit(withToken(undefined), 1_000_000, 0)).toEqual({ ok: true, tenant: undefined });
    expect(adm.admit(withToken('Bearer whatever'), 1, 0)).toEqual({ ok: true, tenant: undefined });
    expect(adm.seriesCheck(undefined, 0)).toBeUndefined();
  });

  it('refuses a Report without a token, or with an unknown one, with UNAUTHENTICATED', () => {
    const { adm, refused } = admission(TWO);
    for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Basic dG9rZW4tYTo=', 'token-a', 'Bearer token-a extra', 'Bearer token-c', 'Bearer TOKEN-A']) {
      expect(adm.admit(withToken(header), 1, 0), String(header)).toEqual({ ok: false, code: status.UNAUTHENTICATED, reason: 'unauthenticated', message: 'missing or invalid bearer token' });
    }
    expect(refused).toHaveLength(9);
    expect(refused[0]).toEqual([undefined, 'unauthenticated']);
  });

  it('admits a valid token as its tenant, whatever the case of "Bearer" and surrounding blanks', () => {
    const { adm } = admission(TWO);
    expect(adm.admit(withToken('Bearer token-a'), 1, 0)).toEqual({ ok: true, tenant: 'a' });
    expect(adm.admit(withToken('bearer   token-b '), 1, 0)).toEqual({ ok: true, tenant: 'b' });
    expect(bearerToken(withToken('BEARER  x'))).toBe('x');
  });

  it('refuses a tenant over its rate limit with RESOURCE_EXHAUSTED while another tenant keeps flowing', () => {
    const { adm, refused } = admission(TWO);
    expect(adm.admit(withToken('Bearer token-a'), 20, 0).ok).toBe(true);
    const r = adm.admit(withToken('Bearer token-a'), 5, 100);
    expect(r).toEqual({ ok: false, code: status.RESOURCE_EXHAUSTED, reason: 'rate_limited', message: 'tenant "a" exceeded its rate limit of 10 sets/s' });
    for (let i = 0; i < 100; i++) expect(adm.admit(withToken('Bearer token-b'), 1000, 100).ok).toBe(true);
    expect(adm.admit(withToken('Bearer token-a'), 5, 600).ok).toBe(true);
    expect(refused).toEqual([['a', 'rate_limited']]);
  });

  it('holds a tenant with maxSeries to it, and gives no series check to a tenant without one', () => {
    const { adm, refused } = admission(TWO);
    const first = adm.seriesCheck('a', 0)!;
    first.offer('i', ['/1']);
    first.offer('i', ['/2']);
    expect(first.settle()).toBeUndefined();
    const second = adm.seriesCheck('a', 1)!;
    second.offer('i', ['/3']);
    expect(second.settle()).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'series_quota' });
    expect(refused).toEqual([['a', 'series_quota']]);
    expect(adm.seriesCheck('b', 0)).toBeUndefined();
    expect([...adm.seriesUsage()]).toEqual([{ tenant: 'a', series: 2, limit: 2 }]);
  });

  it('on reload: revokes removed tokens at once, accepts new ones, and keeps the state of unchanged tenants', () => {
    const { adm } = admission(TWO);
    expect(adm.admit(withToken('Bearer token-a'), 20, 0).ok).toBe(true);
    const check = adm.seriesCheck('a', 0)!;
    check.offer('i', ['/1']);
    check.settle();
    adm.update(
      tenants(`tenants:
- {name: a, tokens: [token-a2], rateLimit: {setsPerSecond: 10, burst: 20}, maxSeries: 2}
- {name: c, tokens: [token-c]}
`),
      50,
    );
    expect(adm.admit(withToken('Bearer token-a'), 1, 50).ok).toBe(false);
    expect(adm.admit(withToken('Bearer token-b'), 1, 50).ok).toBe(false);
    expect(adm.admit(withToken('Bearer token-c'), 1, 50)).toEqual({ ok: true, tenant: 'c' });
    // Same limit: the bucket emptied before the reload stays empty.
    expect(adm.admit(withToken('Bearer token-a2'), 5, 100)).toMatchObject({ ok: false, reason: 'rate_limited' });
    expect(adm.seriesCheck('a', 100)).toBeDefined();
    expect([...adm.seriesUsage()]).toEqual([{ tenant: 'a', series: 1, limit: 2 }]);
  });

  it('on reload: a changed rate limit starts a full bucket, and removing a quota forgets the series', () => {
    const { adm } = admission(TWO);
    expect(adm.admit(withToken('Bearer token-a'), 20, 0).ok).toBe(true);
    adm.update(tenants('tenants:\n- {name: a, tokens: [token-a], rateLimit: {setsPerSecond: 1, burst: 50}}\n'), 0);
    expect(adm.admit(withToken('Bearer token-a'), 50, 0).ok).toBe(true);
    expect(adm.seriesCheck('a', 0)).toBeUndefined();
    adm.update(undefined, 0);
    expect(adm.admit(withToken(undefined), 1, 0)).toEqual({ ok: true, tenant: undefined });
  });
});
