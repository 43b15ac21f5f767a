import { describe, expect, it } from 'vitest';
import { ReportDecoder } from '../../src/core/attributes/decode.js';
import type { Timestamp } from '../../src/core/attributes/value.js';
import { encodeReport } from '../../src/client/compressor.js';
import { ReportRequest_RepeatedAttributesSemantics, type ReportRequest } from '../../src/gen/istio/mixer/v1/mixer.js';
import { BATCH_MAX_SETS, BOOKINFO, Prng, runLoad, TrafficModel, type Call } from '../../src/loadgen/index.js';
import { runCli } from '../support/cli.js';
import { startTelemux } from '../support/harness.js';
import { sampleOf } from '../support/prom-text.js';
import { istioManifest } from '../support/vocabulary.js';

function calls(seed: number, n: number): Call[] {
  const model = new TrafficModel(BOOKINFO, new Prng(seed));
  const out: Call[] = [];
  for (let i = 0; i < n; i++) out.push(...model.userRequest(1_700_000_000_000 + i * 10));
  return out;
}

const summary = (c: Call): string => `${c.source.name}>${c.destination.name} ${c.path} ${c.code} ${c.serverNanos} ${c.clientNanos} ${c.responseBytes} ${c.requestId}`;

describe('the load generator', () => {
  it('makes the same requests, codes, latencies and sizes for the same seed, and different ones for another', () => {
    expect(calls(42, 200).map(summary)).toEqual(calls(42, 200).map(summary));
    expect(calls(43, 200).map(summary)).not.toEqual(calls(42, 200).map(summary));
  });

  it('simulates Bookinfo: productpage fans out to details and one reviews version, only v2 and v3 call ratings, parents take longer than their children', () => {
    const all = calls(7, 6000);
    const count = (src: string, dst: string): number => all.filter((c) => c.source.name === src && c.destination.name === dst).length;
    const entries = count('istio-ingressgateway', 'productpage-v1');
    expect(entries).toBe(6000);
    const versions = ['reviews-v1', 'reviews-v2', 'reviews-v3'].map((v) => count('productpage-v1', v));
    for (const v of versions) expect(v / versions.reduce((a, b) => a + b)).toBeCloseTo(1 / 3, 1);
    expect(count('reviews-v1', 'ratings-v1')).toBe(0);
    expect(count('reviews-v2', 'ratings-v1') + count('reviews-v3', 'ratings-v1')).toBeGreaterThan(0);
    // The product API (5%) and failed product pages make no downstream calls.
    expect(count('productpage-v1', 'details-v1') / entries).toBeGreaterThan(0.9);
    const failures = all.filter((c) => c.code >= 500).length / all.length;
    expect(failures).toBeGreaterThan(0.001);
    expect(failures).toBeLessThan(0.03);
    for (const c of all) expect(c.clientNanos).toBeGreaterThanOrEqual(c.serverNanos);
    const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const serverMs = (dst: string): number => median(all.filter((c) => c.destination.name === dst && !c.connectFailure).map((c) => c.serverNanos / 1e6));
    expect(serverMs('productpage-v1')).toBeGreaterThan(serverMs('reviews-v3'));
    expect(serverMs('reviews-v3')).toBeGreaterThan(serverMs('reviews-v1'));
    expect(serverMs('ratings-v1')).toBeLessThan(3);
  });

  it('sends a Report refused with UNAVAILABLE again after a backoff, so a busy moment of the server loses nothing', async () => {
    const refusedOnce = new WeakSet<ReportRequest>();
    let accepted = 0;
    const result = await runLoad({
      ratePerSecond: 100,
      durationMs: 300,
      seed: 3,
      retryBackoffMs: 1,
      send: async (req) => {
        if (!refusedOnce.has(req)) {
          refusedOnce.add(req);
          return 14;
        }
        accepted++;
        return 0;
      },
    });
    expect(result.reports).toBeGreaterThan(0);
    expect(result.reportsFailed).toBe(0);
    expect(result.reportsRetried).toBe(result.reports);
    expect(accepted).toBe(result.reports);
  });

  it('gives up on a Report after three retries and counts it failed by code; other codes are not retried', async () => {
    let attempts = 0;
    const refused = await runLoad({ ratePerSecond: 100, durationMs: 300, seed: 3, retryBackoffMs: 1, send: async () => (attempts++, 14) });
    expect(refused.reports).toBeGreaterThan(0);
    expect(refused.reportsFailed).toBe(refused.reports);
    expect(refused.failures).toEqual({ '14': refused.reports });
    expect(refused.reportsRetried).toBe(3 * refused.reports);
    expect(attempts).toBe(4 * refused.reports);

    attempts = 0;
    const invalid = await runLoad({ ratePerSecond: 100, durationMs: 300, seed: 3, retryBackoffMs: 1, send: async () => (attempts++, 3) });
    expect(invalid.reportsRetried).toBe(0);
    expect(invalid.failures).toEqual({ '3': invalid.reports });
    expect(attempts).toBe(invalid.reports);
  });

  it('sends INDEPENDENT batches of at most 100 sets from one sidecar each, none holding a set for more than a second', async () => {
    const sent: ReportRequest[] = [];
    const result = await runLoad({ ratePerSecond: 400, durationMs: 2_500, seed: 1, send: async (req) => (sent.push(req), 0) });
    expect(result.reportsFailed).toBe(0);
    expect(result.reports).toBe(sent.length);
    const manifest = istioManifest();
    const decoder = new ReportDecoder(manifest);
    let sets = 0;
    let full = 0;
    for (const req of sent) {
      expect(req.repeatedAttributesSemantics).toBe(ReportRequest_RepeatedAttributesSemantics.INDEPENDENT_ENCODING);
      expect(req.attributes.length).toBeGreaterThan(0);
      expect(req.attributes.length).toBeLessThanOrEqual(BATCH_MAX_SETS);
      if (req.attributes.length === BATCH_MAX_SETS) full++;
      const bags = decoder.decode(encodeReport(req)).bags;
      const reporters = new Set(bags.map((b) => b.values[manifest.slotOf('context.reporter.uid')]));
      expect(reporters.size).toBe(1);
      const times = bags.map((b) => {
        const t = b.values[manifest.slotOf('request.time')] as Timestamp;
        return t.seconds * 1000 + t.nanos / 1e6;
      });
      expect(Math.max(...times) - Math.min(...times)).toBeLessThan(1_200);
      sets += bags.length;
    }
    expect(full).toBeGreaterThan(0);
    expect(sets).toBe(result.attributeSets);
    expect(result.userRequests).toBeGreaterThan(600);
    expect(result.userRequests).toBeLessThan(1400);
  });

  it('stops by itself after its duration, and the default config sees real workloads on both sides of every call', async () => {
    const t = await startTelemux();
    try {
      const t0 = Date.now();
      const run = await runCli(['loadgen', '--target', `127.0.0.1:${t.addresses.grpc.port}`, '--rate', '60', '--duration', '1500ms', '--seed', '5', '--quiet']);
      const elapsed = Date.now() - t0;
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^loadgen: \d+ requests \(\d+ calls, \d+ attribute sets in \d+ reports\) in 1\.\ds to 127\.0\.0\.1:\d+, seed 5; 0 reports failed(, \d+ retried after UNAVAILABLE)?\n$/);
      expect(elapsed).toBeLessThan(8_000);
      const families = await t.scrape();
      const total = families.find((f) => f.name === 'istio_requests_total')!;
      expect(total.metrics.every((m) => m.labels['destination_workload'] !== 'unknown' && m.labels['source_workload'] !== 'unknown')).toBe(true);
      for (const reporter of ['source', 'destination']) {
        expect(sampleOf(families, 'istio_requests_total', { reporter, source_workload: 'productpage-v1', destination_workload: 'details-v1', destination_app: 'details', source_version: 'v1', response_code: '200' })).toBeDefined();
      }
      const stat = (await (await t.admin('/api/v1/stat')).json()) as { rows: { workload: string }[] };
      expect(stat.rows.map((r) => r.workload)).toEqual(['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3']);
    } finally {
      await t.stop();
    }
  });

  it('refuses an unbounded or nonsensical run', async () => {
    for (const args of [['--duration', '0s'], ['--duration', '25h'], ['--rate', '-1'], ['--seed', 'x']]) {
      const run = await runCli(['loadgen', ...args]);
      expect(run.code).toBe(2);
    }
  });
});
