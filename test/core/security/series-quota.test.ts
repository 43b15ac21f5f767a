import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { Timestamp, type AttributeValue } from '../../../src/core/attributes/value.js';
import { SeriesHasher, SeriesQuota, type SeriesCheck } from '../../../src/core/security/series-quota.js';

const TTL = 60_000;
const SEEDS = Uint32Array.of(1, 2, 3, 4);

function quota(limits: Record<string, number>, onRefused?: (t: string) => void): SeriesQuota {
  const q = new SeriesQuota({ idleTtlMs: TTL, seeds: SEEDS, onRefused });
  for (const [t, n] of Object.entries(limits)) q.setLimit(t, n, 0);
  return q;
}

/** Offers `paths` as series of one instance in one Report and settles it; true when admitted. */
function report(q: SeriesQuota, tenant: string, now: number, paths: readonly string[], instance = 'requests.instance.istio-system'): boolean {
  const check = q.begin(tenant, now)!;
  for (const p of paths) check.offer(instance, [p, 200]);
  return check.settle() === undefined;
}

describe('per-tenant series quotas', () => {
  it('admits new series up to maxSeries and refuses the Report that would go beyond, with RESOURCE_EXHAUSTED', () => {
    const q = quota({ a: 3 });
    expect(report(q, 'a', 0, ['/1', '/2'])).toBe(true);
    expect(report(q, 'a', 1, ['/3'])).toBe(true);
    const check = q.begin('a', 2)!;
    expect(check.offer('requests.instance.istio-system', ['/4', 200])).toBe(false);
    const refusal = check.settle();
    expect(refusal).toMatchObject({ ok: false, code: status.RESOURCE_EXHAUSTED, reason: 'series_quota' });
    expect(refusal?.message).toBe('tenant "a" exceeded its series quota of 3; the Report\'s new series were not recorded');
    expect(q.size('a')).toBe(3);
  });

  it('keeps admitting Reports whose series are all known once the quota is full', () => {
    const q = quota({ a: 2 });
    expect(report(q, 'a', 0, ['/1', '/2'])).toBe(true);
    expect(report(q, 'a', 1, ['/2', '/1', '/1'])).toBe(true);
    expect(report(q, 'a', 2, ['/1', '/3'])).toBe(false);
    expect(report(q, 'a', 3, ['/1'])).toBe(true);
  });

  it('adds nothing from a refused Report, not even the series that would have fitted', () => {
    const q = quota({ a: 3 });
    expect(report(q, 'a', 0, ['/1'])).toBe(true);
    expect(report(q, 'a', 1, ['/2', '/3', '/4'])).toBe(false);
    expect(q.size('a')).toBe(1);
    expect(report(q, 'a', 2, ['/2', '/3'])).toBe(true);
    expect(q.size('a')).toBe(3);
  });

  it('counts a series once however many times a Report offers it (one instance, several handlers)', () => {
    const q = quota({ a: 2 });
    const check = q.begin('a', 0)!;
    const dims = ['/1', 200];
    for (let i = 0; i < 5; i++) expect(check.offer('requests.instance.istio-system', dims)).toBe(true);
    expect(check.newSeries).toBe(1);
    expect(check.settle()).toBeUndefined();
    expect(q.size('a')).toBe(1);
  });

  it('keeps tenants apart: one tenant at its quota does not affect another', () => {
    const refused: string[] = [];
    const q = quota({ a: 1, b: 100 }, (t) => refused.push(t));
    expect(report(q, 'a', 0, ['/1'])).toBe(true);
    expect(report(q, 'a', 0, ['/2'])).toBe(false);
    expect(report(q, 'b', 0, ['/1', '/2', '/3'])).toBe(true);
    expect(refused).toEqual(['a']);
    expect(q.begin('nobody', 0)).toBeUndefined();
  });

  it('tells series apart by instance, by every dimension value and by its type, and by position', () => {
    const q = quota({ a: 1000 });
    const check = q.begin('a', 0)!;
    const lists: [string, AttributeValue[]][] = [
      ['i1', ['a', 'b']],
      ['i2', ['a', 'b']],
      ['i1', ['b', 'a']],
      ['i1', ['ab', '']],
      ['i1', ['a', 'b', '']],
      ['i1', ['1']],
      ['i1', [1]],
      ['i1', [true]],
      ['i1', [1.5]],
      ['i1', [new Timestamp(1, 0)]],
      ['i1', [new Timestamp(1, 1)]],
      ['i1', [Uint8Array.of(127, 0, 0, 1)]],
      ['i1', [Uint8Array.of(127, 0, 0, 2)]],
      ['i1', [new Map([['k', 'v']])]],
      ['i1', [new Map([['k', 'w']])]],
      ['i1', []],
    ];
    for (const [instance, dims] of lists) check.offer(instance, dims);
    expect(check.newSeries).toBe(lists.length);
  });

  it('treats equal values as the same series: map entry order, 0 and -0, fresh arrays', () => {
    const q = quota({ a: 1000 });
    const check = q.begin('a', 0)!;
    check.offer('i', [new Map([['x', '1'], ['y', '2']])]);
    check.offer('i', [new Map([['y', '2'], ['x', '1']])]);
    check.offer('i', [0]);
    check.offer('i', [-0]);
    check.offer('i', ['/p', 200]);
    check.offer('i', ['/p', 200]);
    expect(check.newSeries).toBe(3);
  });

  it('forgets series idle for the TTL (at most twice the TTL), so churn frees quota', () => {
    const q = quota({ a: 2 });
    expect(report(q, 'a', 0, ['/old1', '/old2'])).toBe(true);
    expect(report(q, 'a', TTL / 2, ['/new'])).toBe(false);
    expect(report(q, 'a', 2 * TTL, ['/new'])).toBe(true);
    expect(q.size('a')).toBe(1);
  });

  it('keeps series that are still reported, however long they live', () => {
    const q = quota({ a: 2 });
    expect(report(q, 'a', 0, ['/live', '/idle'])).toBe(true);
    for (let t = TTL / 2; t <= 10 * TTL; t += TTL / 2) expect(report(q, 'a', t, ['/live'])).toBe(true);
    expect(q.size('a')).toBe(1);
    expect(report(q, 'a', 10 * TTL + 1, ['/other'])).toBe(true);
    expect(report(q, 'a', 10 * TTL + 2, ['/third'])).toBe(false);
  });

  it('keeps a series idle for less than the TTL', () => {
    const q = quota({ a: 1 });
    expect(report(q, 'a', 0, ['/1'])).toBe(true);
    expect(report(q, 'a', TTL - 1, ['/x'])).toBe(false);
    expect(report(q, 'a', TTL, ['/x'])).toBe(false); // rotated: /1 is in the previous generation
    expect(report(q, 'a', TTL + 1, ['/1'])).toBe(true);
    expect(report(q, 'a', 2 * TTL + 2, ['/x'])).toBe(false); // /1 was seen at TTL+1
  });

  it('never holds more series than the limit', () => {
    const q = quota({ a: 50 });
    let t = 0;
    for (let r = 0; r < 200; r++) {
      t += 997;
      report(q, 'a', t, Array.from({ length: 7 }, (_, i) => `/r${r}-${i}`));
      expect(q.size('a')).toBeLessThanOrEqual(50);
    }
  });

  it('applies a lowered limit to new series only, and a raised one at once', () => {
    const q = quota({ a: 3 });
    expect(report(q, 'a', 0, ['/1', '/2', '/3'])).toBe(true);
    q.setLimit('a', 2, 0);
    expect(report(q, 'a', 1, ['/1', '/2', '/3'])).toBe(true);
    expect(report(q, 'a', 1, ['/4'])).toBe(false);
    q.setLimit('a', 5, 0);
    expect(report(q, 'a', 2, ['/4', '/5'])).toBe(true);
    q.setLimit('a', undefined, 0);
    expect(q.begin('a', 3)).toBeUndefined();
  });

  it('forgets the tenants a reload removed', () => {
    const q = quota({ a: 3, b: 3 });
    report(q, 'a', 0, ['/1']);
    q.retainOnly(new Set(['b']));
    expect(q.begin('a', 0)).toBeUndefined();
    expect([...q.usage()]).toEqual([{ tenant: 'b', series: 0, limit: 3 }]);
  });

  it('stops checking once exceeded', () => {
    const q = quota({ a: 1 });
    const check: SeriesCheck = q.begin('a', 0)!;
    expect(check.offer('i', ['/1'])).toBe(true);
    expect(check.offer('i', ['/2'])).toBe(false);
    expect(check.exceeded).toBe(true);
    expect(check.offer('i', ['/1'])).toBe(false);
  });
});

describe('the series hash', () => {
  it('depends on its secret seeds', () => {
    const h1 = new SeriesHasher(SEEDS);
    const h2 = new SeriesHasher(Uint32Array.of(5, 6, 7, 8));
    h1.values(['/p', 200]);
    h2.values(['/p', 200]);
    expect(h1.key('i', h1.a, h1.b)).not.toBe(h2.key('i', h2.a, h2.b));
  });

  it('tells apart INT64 dimensions past 2^53 that differ in any bit, and from their nearest double', () => {
    const h = new SeriesHasher(SEEDS);
    const keys = new Set<number>();
    const values: AttributeValue[] = [9007199254740992, 9007199254740993n, 9007199254740995n, 9223372036854775807n, -9223372036854775808n, -9007199254740993n, 2n ** 62n + 1n];
    for (const v of values) {
      h.values(['/p', v]);
      keys.add(h.key('i', h.a, h.b));
    }
    expect(keys.size).toBe(values.length);
  });

  it('is not fooled by flipping top bits, the difference a multiplication passes on whatever the seed', () => {
    // In a single multiply/xor-shift lane, flipping bit 31 of one word and bits 31 and 16 of the
    // next cancels out for every seed. Two characters make one 32-bit word.
    const flip = (s: string, i: number, mask: number): string => s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ mask) + s.slice(i + 1);
    const base = 'abcdefgh';
    const forged = flip(flip(base, 1, 0x8000), 3, 0x8001);
    for (let seed = 1; seed <= 50; seed++) {
      const h = new SeriesHasher(Uint32Array.of(seed, seed * 7919, seed * 104729, seed * 1299709));
      h.values([base]);
      const k1 = h.key('i', h.a, h.b);
      h.values([forged]);
      expect(h.key('i', h.a, h.b)).not.toBe(k1);
    }
  });

  it('spreads 200,000 similar series without a collision, as 53-bit integers', () => {
    const h = new SeriesHasher(Uint32Array.of(0xdeadbeef, 0x12345678, 0x9abcdef0, 0x0badf00d));
    const keys = new Set<number>();
    let bad = 0;
    for (let i = 0; i < 200_000; i++) {
      h.values([`reviews-v${i % 7}`, `/api/item/${i}`, i % 600]);
      const k = h.key(`m${i % 4}.instance.istio-system`, h.a, h.b);
      if (!Number.isSafeInteger(k) || k < 0) bad++;
      keys.add(k);
    }
    expect(bad).toBe(0);
    expect(keys.size).toBe(200_000);
  });
});
