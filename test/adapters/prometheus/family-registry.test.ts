import { describe, expect, it } from 'vitest';
import { FamilyRegistry } from '../../../src/adapters/prometheus/family-registry.js';
import { idKey } from '../../../src/adapters/prometheus/series-store.js';

const HITS = { name: 'istio_hits_total', help: 'hits', kind: 'COUNTER', labelNames: ['code', 'path'], upperBounds: [] } as const;

describe('the family registry shared by the prometheus handlers of one endpoint', () => {
  it('hands the same family to every holder of one definition, and a new one for a changed definition', () => {
    const r = new FamilyRegistry();
    const a = r.acquire(HITS);
    expect(r.acquire({ ...HITS, labelNames: ['code', 'path'] })).toBe(a);
    expect(r.acquire({ ...HITS, help: 'other' })).not.toBe(a);
    expect(r.acquire({ ...HITS, labelNames: ['path'] })).not.toBe(a);
    expect(r.acquire({ ...HITS, kind: 'GAUGE' })).not.toBe(a);
    const h = { ...HITS, name: 'istio_d', kind: 'DISTRIBUTION', upperBounds: [1, 2] } as const;
    expect(r.acquire({ ...h, upperBounds: [1, 3] })).not.toBe(r.acquire(h));
  });

  it('keeps a family and its series while any holder is left, and forgets both, label values too, after the last', () => {
    const r = new FamilyRegistry();
    const f = r.acquire(HITS);
    r.acquire(HITS);
    const ids = [r.labels.idOf('200'), r.labels.idOf('/a')];
    f.add(f.createSlot(idKey(ids, 2), ids), 5);
    r.release(f);
    expect(r.acquire(HITS)).toBe(f);
    expect(f.size).toBe(1);
    r.release(f);
    r.release(f);
    expect(r.size).toBe(0);
    expect(f.size).toBe(0);
    expect(r.labels.size).toBe(0);
    expect(r.acquire(HITS)).not.toBe(f);
  });
});
