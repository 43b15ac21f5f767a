import { describe, expect, it } from 'vitest';
import { binLower, binUpper, Circllhist } from '../../../src/core/circllhist/index.js';
import { OVERFLOW, StatView, type StatConfig, type StatKey } from '../../../src/core/stat/index.js';

const SLICE = 10_000;
const CONFIG: StatConfig = { sliceMs: SLICE, retentionMs: 600_000, maxKeys: 100 };
/** A slice boundary, so tests can say exactly which slices a window covers. */
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % SLICE);

class FakeClock {
  constructor(public t = T0) {}
  now(): number {
    return this.t;
  }
}

function key(dst: string, src = 'productpage-v1', service = `${dst.split('-')[0]}.default.svc.cluster.local`): StatKey {
  return { sourceNamespace: 'default', sourceWorkload: src, destinationNamespace: 'default', destinationWorkload: dst, destinationService: service };
}

function record(view: StatView, clock: FakeClock, k: StatKey, ms: number, code = 200): void {
  view.record(k.sourceNamespace, k.sourceWorkload, k.destinationNamespace, k.destinationWorkload, k.destinationService, ms * 1e6, code > 0 && code < 500, view.sliceIndex(clock.now()));
}

/** The true type-1 quantile of samples (the order statistic circllhist's type 1 estimates). */
function trueQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

describe('the stat view', () => {
  it('counts requests and successes per destination workload exactly, with 5xx and code 0 as failures', async () => {
    const clock = new FakeClock();
    const view = new StatView(CONFIG, clock);
    for (let i = 0; i < 40; i++) record(view, clock, key('reviews-v1'), 5, i < 3 ? 503 : i < 5 ? 404 : 200);
    record(view, clock, key('reviews-v1', 'other-v1'), 5, 0);
    for (let i = 0; i < 7; i++) record(view, clock, key('ratings-v1', 'reviews-v2'), 2);
    clock.t += 5_000;
    const r = await view.query({ by: 'workload', windowMs: 60_000 });
    expect(r.by).toBe('workload');
    expect(r.window_seconds).toBe(60);
    expect(r.rows.map((x) => [x.workload, x.requests, x.success])).toEqual([
      ['ratings-v1', 7, 1],
      ['reviews-v1', 41, 37 / 41],
    ]);
    const edges = await view.query({ by: 'edge', windowMs: 60_000 });
    expect(edges.rows.map((x) => `${x.source_workload}->${x.destination_workload}:${x.requests}`)).toEqual(['other-v1->reviews-v1:1', 'productpage-v1->reviews-v1:40', 'reviews-v2->ratings-v1:7']);
    const services = await view.query({ by: 'service', windowMs: 60_000 });
    expect(services.rows.map((x) => [x.service, x.requests])).toEqual([
      ['ratings.default.svc.cluster.local', 7],
      ['reviews.default.svc.cluster.local', 41],
    ]);
  });

  it('rounds the window up to whole slices, includes the slice in progress, and divides the rate by the time covered', async () => {
    const clock = new FakeClock();
    const view = new StatView(CONFIG, clock);
    // One request per second for 120 s: slices [T0, T0+120 s).
    for (let s = 0; s < 120; s++) {
      clock.t = T0 + s * 1000;
      record(view, clock, key('details-v1'), 2);
    }
    clock.t = T0 + 125_000; // 5 s into slice 12
    const oneMinute = (await view.query({ by: 'workload', windowMs: 60_000 })).rows[0]!;
    // Slices 7..12 (the slice in progress has no data): 5 full slices = 50 requests over 55 s.
    expect(oneMinute.requests).toBe(50);
    expect(oneMinute.rps).toBe(Math.round((50 / 55) * 1000) / 1000);
    const fifteen = await view.query({ by: 'workload', windowMs: 15_000 });
    expect(fifteen.window_seconds).toBe(20);
    expect(fifteen.rows[0]!.requests).toBe(10); // slice 11 (10 requests) and slice 12 (none yet)
    clock.t = T0 + 120_000 + 600_000;
    expect((await view.query({ by: 'workload', windowMs: 600_000 })).rows).toEqual([]);
  });

  it('divides the rate by the time since it started when that is shorter than the window', async () => {
    const clock = new FakeClock(T0 + 2_000);
    const view = new StatView(CONFIG, clock);
    for (let i = 0; i < 30; i++) record(view, clock, key('details-v1'), 2);
    clock.t = T0 + 5_000;
    expect((await view.query({ by: 'workload', windowMs: 60_000 })).rows[0]!.rps).toBe(10);
  });

  it('reports p50, p95 and p99 within the circllhist bin of the true quantiles, in milliseconds', async () => {
    const clock = new FakeClock();
    const view = new StatView(CONFIG, clock);
    const samples: number[] = [];
    let x = 7;
    for (let i = 0; i < 1000; i++) {
      x = (x * 48271) % 2147483647;
      const ms = 0.5 + (x / 2147483647) ** 3 * 400; // skewed, like latencies
      samples.push(ms);
      record(view, clock, key('reviews-v3'), ms);
    }
    const row = (await view.query({ by: 'workload', windowMs: 60_000 })).rows[0]!;
    const sorted = [...samples].sort((a, b) => a - b);
    for (const [q, got] of [
      [0.5, row.latency_ms_p50],
      [0.95, row.latency_ms_p95],
      [0.99, row.latency_ms_p99],
    ] as const) {
      const truth = trueQuantile(sorted, q) / 1000;
      const h = new Circllhist();
      h.insert(truth);
      const bin = h.bins()[0]!;
      expect(got! / 1000).toBeGreaterThanOrEqual(binLower(bin) - 1e-6);
      expect(got! / 1000).toBeLessThanOrEqual(binUpper(bin) + 1e-6);
    }
  });

  it('keeps at most maxKeys keys and counts the traffic of further keys in one overflow row, so totals stay exact', async () => {
    const clock = new FakeClock();
    const view = new StatView({ ...CONFIG, maxKeys: 3 }, clock);
    for (let i = 0; i < 10; i++) record(view, clock, key(`w${i}-v1`), 1);
    expect(view.keyCount).toBe(4);
    expect(view.overflowed).toBe(7);
    const rows = (await view.query({ by: 'workload', windowMs: 60_000 })).rows;
    expect(rows.map((r) => r.workload)).toEqual([OVERFLOW, 'w0-v1', 'w1-v1', 'w2-v1']);
    expect(rows.reduce((n, r) => n + r.requests, 0)).toBe(10);
  });

  it('forgets keys whose newest data left the retention', async () => {
    const clock = new FakeClock();
    const view = new StatView({ ...CONFIG, maxKeys: 2 }, clock);
    record(view, clock, key('a-v1'), 1);
    clock.t += 300_000;
    record(view, clock, key('b-v1'), 1);
    clock.t += 300_000;
    expect(view.expire(clock.now())).toBe(1);
    expect(view.keyCount).toBe(1);
    record(view, clock, key('c-v1'), 1);
    expect(view.overflowed).toBe(0);
  });

  it('keeps a bounded number of slices per key however long it runs', async () => {
    const clock = new FakeClock();
    const view = new StatView({ sliceMs: 1_000, retentionMs: 5_000, maxKeys: 10 }, clock);
    for (let s = 0; s < 100; s++) {
      clock.t = T0 + s * 1_000;
      record(view, clock, key('a-v1'), 1);
    }
    expect((await view.query({ by: 'workload', windowMs: 5_000 })).rows[0]!.requests).toBe(5);
  });

  it('refuses a window longer than the retention', async () => {
    const view = new StatView(CONFIG, new FakeClock());
    await expect(view.query({ by: 'workload', windowMs: 601_000 })).rejects.toThrow(/at most 600s of history/);
  });

  it('filters by destination namespace', async () => {
    const clock = new FakeClock();
    const view = new StatView(CONFIG, clock);
    record(view, clock, key('a-v1'), 1);
    record(view, clock, { ...key('b-v1'), destinationNamespace: 'prod' }, 1);
    expect((await view.query({ by: 'workload', windowMs: 60_000, namespace: 'prod' })).rows.map((r) => r.workload)).toEqual(['b-v1']);
  });
});
