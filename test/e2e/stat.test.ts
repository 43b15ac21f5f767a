import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, dur, int, smap, str, type AttributeSet } from '../../src/client/compressor.js';
import { binLower, binUpper, Circllhist } from '../../src/core/circllhist/index.js';
import { stableJson } from '../../src/core/stat/index.js';
import { runCli } from '../support/cli.js';
import { startTelemux, type Running } from '../support/harness.js';

const SLICE = 10_000;
const T0 = 1_800_000_000_000 - (1_800_000_000_000 % SLICE);

class FakeClock {
  t = T0;
  now(): number {
    return this.t;
  }
}

interface Call {
  readonly src: string;
  readonly dst: string;
  readonly ms: number;
  readonly code: number;
}

function set(c: Call, kind: 'inbound' | 'outbound', agent = 'python-requests/2.21.0'): AttributeSet {
  const svc = c.dst.replace(/-v\d+$/, '');
  return {
    'context.protocol': str('http'),
    'context.reporter.kind': str(kind),
    'source.workload.name': str(c.src),
    'source.workload.namespace': str('shop'),
    'source.labels': smap({ app: c.src.replace(/-v\d+$/, ''), version: 'v1' }),
    'destination.workload.name': str(c.dst),
    'destination.workload.namespace': str('shop'),
    'destination.service.host': str(`${svc}.shop.svc.cluster.local`),
    'destination.service.name': str(svc),
    'destination.namespace': str('shop'),
    'source.namespace': str('shop'),
    'request.useragent': str(agent),
    'response.code': int(c.code),
    // Whole microseconds: durations a sidecar reports, and exact in every encoding on the way.
    'response.duration': dur(Math.round(c.ms * 1000) * 1000),
  };
}

/** The synthetic load: known counts, codes and latencies per edge. */
function load(): Call[] {
  const calls: Call[] = [];
  for (let i = 0; i < 500; i++) {
    const ms = i % 50 === 49 ? 250 + i / 10 : 2 + ((i * 37) % 100) * 0.5;
    calls.push({ src: 'frontend-v1', dst: 'backend-v1', ms, code: i % 20 === 3 ? 503 : i % 50 === 7 ? 404 : 200 });
  }
  for (let i = 0; i < 120; i++) calls.push({ src: 'frontend-v1', dst: 'cache-v1', ms: 0.5 + (i % 16) * 0.1, code: 200 });
  for (let i = 0; i < 30; i++) calls.push({ src: 'backend-v1', dst: 'cache-v1', ms: 1 + (i % 3), code: i === 0 ? 500 : 200 });
  return calls;
}

/** The true type-1 quantile: the ⌈qN⌉-th smallest sample. */
function trueQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

function expectWithinBin(reportedMs: number | null, trueMs: number): void {
  const h = new Circllhist();
  h.insertIntScale(Math.round(trueMs * 1e6), -9);
  const bin = h.bins()[0]!;
  expect(reportedMs).not.toBeNull();
  // Reported values are rounded to 0.001 ms.
  expect(reportedMs! / 1000).toBeGreaterThanOrEqual(binLower(bin) - 5e-7);
  expect(reportedMs! / 1000).toBeLessThanOrEqual(binUpper(bin) + 5e-7);
}

interface Row {
  readonly requests: number;
  readonly success: number;
  readonly rps: number;
  readonly latency_ms_p50: number | null;
  readonly latency_ms_p95: number | null;
  readonly latency_ms_p99: number | null;
  readonly [key: string]: unknown;
}

describe('telemux stat', () => {
  const clock = new FakeClock();
  const calls = load();
  let t: Running;
  let now: number;

  beforeAll(async () => {
    t = await startTelemux({ clock });
    // Spread over 50 s in batches of ≤100 sets, each call reported by both sidecars, plus noise
    // the view must ignore (health probes).
    const sets: AttributeSet[] = [];
    for (const c of calls) sets.push(set(c, 'outbound'), set(c, 'inbound'));
    for (let i = 0; i < 10; i++) sets.push(set({ src: 'kubelet', dst: 'backend-v1', ms: 1, code: 200 }, 'inbound', 'kube-probe/1.16'));
    for (let i = 0; i < sets.length; i += 100) {
      clock.t = T0 + 1_000 + Math.floor((i / sets.length) * 49_000);
      expect((await t.report(buildReport(sets.slice(i, i + 100)))).code).toBe(0);
    }
    now = T0 + 59_500;
    clock.t = now;
  });
  afterAll(async () => {
    await t.stop();
  });

  const stat = async (...args: string[]): Promise<string> => {
    const run = await runCli(['stat', '--server', t.adminUrl, ...args]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    return run.stdout;
  };

  it('reports request counts exactly and p50/p95/p99 within the histogram bin of the true values, per workload', async () => {
    const result = JSON.parse(await stat('-o', 'json')) as { by: string; window_seconds: number; rows: Row[] };
    expect(result.by).toBe('workload');
    expect(result.window_seconds).toBe(60);
    expect(result.rows.map((r) => [r['namespace'], r['workload']])).toEqual([
      ['shop', 'backend-v1'],
      ['shop', 'cache-v1'],
    ]);
    const byDst = (dst: string): Call[] => calls.filter((c) => c.dst === dst);
    for (const row of result.rows) {
      const mine = byDst(row['workload'] as string);
      expect(row.requests).toBe(mine.length);
      expect(row.success).toBe(mine.filter((c) => c.code < 500).length / mine.length);
      expect(row.rps).toBe(Math.round((mine.length / 59.5) * 1000) / 1000);
      const ms = mine.map((c) => c.ms);
      expectWithinBin(row.latency_ms_p50, trueQuantile(ms, 0.5));
      expectWithinBin(row.latency_ms_p95, trueQuantile(ms, 0.95));
      expectWithinBin(row.latency_ms_p99, trueQuantile(ms, 0.99));
    }
  });

  it('groups by service and by source→destination edge', async () => {
    const services = JSON.parse(await stat('--by', 'service', '-o', 'json')) as { rows: Row[] };
    expect(services.rows.map((r) => [r['service'], r.requests])).toEqual([
      ['backend.shop.svc.cluster.local', 500],
      ['cache.shop.svc.cluster.local', 150],
    ]);
    const edges = JSON.parse(await stat('--by', 'edge', '-o', 'json')) as { rows: Row[] };
    expect(edges.rows.map((r) => `${r['source_workload']}->${r['destination_workload']}=${r.requests}`)).toEqual(['backend-v1->cache-v1=30', 'frontend-v1->backend-v1=500', 'frontend-v1->cache-v1=120']);
    const edge = edges.rows[0]!;
    expect(edge.success).toBe(29 / 30);
    expectWithinBin(edge.latency_ms_p50, 2);
  });

  it('prints -o json with sorted keys and rows, identically every time', async () => {
    const a = await stat('-o', 'json', '--by', 'edge');
    const b = await stat('--by', 'edge', '-o', 'json', '--window', '60s');
    expect(b).toBe(a);
    expect(a).toBe(`${stableJson(JSON.parse(a))}\n`);
    const row = JSON.parse(a).rows[0] as Record<string, unknown>;
    expect(Object.keys(row)).toEqual(['destination_namespace', 'destination_workload', 'latency_ms_p50', 'latency_ms_p95', 'latency_ms_p99', 'requests', 'rps', 'source_namespace', 'source_workload', 'success']);
  });

  it('prints an aligned table like conduit stat', async () => {
    const lines = (await stat()).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE {3}WORKLOAD {5}REQUESTS {3}SUCCESS {3}RPS {7}LATENCY_P50 {3}LATENCY_P95 {3}LATENCY_P99$/);
    expect(lines[1]).toMatch(/^shop {8}backend-v1 {3}500 {8}95\.00% {4}8\.40rps {3}\d/);
    expect(lines[2]).toMatch(/^shop {8}cache-v1 {5}150 {8}99\.33% {4}2\.52rps {3}\d/);
    for (const col of ['REQUESTS', 'SUCCESS', 'RPS', 'LATENCY_P50', 'LATENCY_P95', 'LATENCY_P99']) {
      const at = lines[0]!.indexOf(col);
      for (const l of lines.slice(1)) expect(l[at - 1]).toBe(' ');
      for (const l of lines.slice(1)) expect(l[at]).not.toBe(' ');
    }
  });

  it('answers bad queries with a usage error and a window beyond the retention with the limit', async () => {
    const bad = await runCli(['stat', '--server', t.adminUrl, '--by', 'pod']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--by: expected one of workload, service, edge');
    const long = await runCli(['stat', '--server', t.adminUrl, '--window', '1h']);
    expect(long.code).toBe(1);
    expect(long.stderr).toContain('at most 600s of history is kept');
    expect(long.stderr).toContain('[STAT_BAD_QUERY]');
    clock.t = now + 600_000;
    expect(await stat()).toBe('No traffic in the last 1m.\n');
    clock.t = now;
  });
});

describe('telemux stat without a stat view', () => {
  it('says how to get one', async () => {
    const t = await startTelemux({ configYaml: 'apiVersion: config.istio.io/v1alpha2\nkind: attributemanifest\nmetadata: {name: a}\nspec: {attributes: {request.path: {valueType: STRING}}}\n' });
    try {
      const run = await runCli(['stat', '--server', t.adminUrl]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("the active config has no 'telemuxstat' handler; include config/telemux-stat.yaml");
      expect(run.stderr).toContain('[STAT_NO_VIEW]');
    } finally {
      await t.stop();
    }
  });
});
