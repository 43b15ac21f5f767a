/**
 * Overload, end to end: the built server under about twice the Report rate it can sustain, over
 * loopback, for a bounded time. Excess Reports must be refused quickly with UNAVAILABLE and
 * Mixer's message, memory must stay under the cap, every accepted Report must be counted (and every
 * refused one counted as shed), and throughput must be back to normal within 10 s of the load
 * dropping. Bounded (≤ 40 s) and self-stopping: every loop has a deadline and a cap on calls in
 * flight.
 *
 * A `*.solo.test.ts` file runs after every other test file, alone (see vitest.config.ts): its
 * figures are about CPU, and other test files running beside it would move them.
 */
import { Client, credentials, Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildReport, dur, encodeReport, int, str } from '../../src/client/compressor.js';
import { parsePrometheusText } from '../support/prom-text.js';
import { serveCli, type ServingCli } from '../support/cli.js';

const MiB = 1024 * 1024;
const RSS_CAP = 384 * MiB;

/** The flags the overload module is wired to (see src/core/server/overload.ts). */
const OVERLOAD_FLAGS = ['--max-rss', '384MiB', '--shed-event-loop-utilization', '0.9', '--shed-event-loop-delay', '100ms'];

/**
 * All the load on one connection, as a gateway or relay would send it: the harshest case. With
 * HTTP/2's default 64 KiB connection window, Reports queued in the client for seconds before the
 * server could refuse them (see src/core/server/http2-window.ts); a fleet of sidecars, each on its
 * own connection, is the easier case.
 */
const CONNECTIONS = 1;

const SETS_PER_REPORT = 300;
const REPORT = Buffer.from(
  encodeReport(
    buildReport(
      Array.from({ length: SETS_PER_REPORT }, (_, i) => ({
        'context.protocol': str('http'),
        'context.reporter.kind': str('inbound'),
        'destination.service.host': str(`svc${i % 20}.default.svc.cluster.local`),
        'destination.service.name': str(`svc${i % 20}`),
        'request.path': str(`/api/items/${i}`),
        'response.code': int(i % 10 === 0 ? 503 : 200),
        'response.duration': dur((1 + (i % 50)) * 1e6),
        'request.size': int(100 + i),
        'response.size': int(1000 + i),
      })),
    ),
  ),
);

interface Outcome {
  readonly code: number;
  readonly details: string;
  readonly ms: number;
}

/** Bare gRPC clients sending pre-encoded bytes: the load generator must cost far less than the server. */
function rawClients(address: string): { report(deadlineMs: number): Promise<Outcome>; close(): void } {
  // A local subchannel pool per client, so each would get a connection of its own.
  const clients = Array.from({ length: CONNECTIONS }, () => new Client(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  const identity = (b: Buffer): Buffer => b;
  let next = 0;
  return {
    report(deadlineMs) {
      const client = clients[next++ % clients.length]!;
      const t0 = performance.now();
      return new Promise((resolve) => {
        client.makeUnaryRequest('/istio.mixer.v1.Mixer/Report', identity, identity, REPORT, new Metadata(), { deadline: Date.now() + deadlineMs }, (err: ServiceError | null) => {
          resolve({ code: err ? err.code : Status.OK, details: err ? err.details : '', ms: performance.now() - t0 });
        });
      });
    },
    close: () => clients.forEach((c) => c.close()),
  };
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Closed loop: `concurrency` callers back to back for `ms`. */
async function closedLoop(send: () => Promise<Outcome>, concurrency: number, ms: number): Promise<Outcome[]> {
  const until = performance.now() + ms;
  const out: Outcome[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) out.push(await send());
    }),
  );
  return out;
}

interface OpenLoopRun {
  readonly outcomes: Outcome[];
  /** Calls not made because 2000 were already waiting: the generator's own bound. */
  readonly skipped: number;
}

/** Open loop: `rate` calls a second for `ms`, on schedule whatever the answers; `tick` runs every 10 ms. */
async function openLoop(send: () => Promise<Outcome>, rate: number, ms: number, tick: () => void = () => undefined): Promise<OpenLoopRun> {
  const calls: Promise<Outcome>[] = [];
  let outstanding = 0;
  let skipped = 0;
  let issued = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; issued < due; issued++) {
      if (outstanding >= 2000) {
        skipped++;
        continue;
      }
      outstanding++;
      calls.push(
        send().then((o) => {
          outstanding--;
          return o;
        }),
      );
    }
    tick();
    await new Promise((r) => setTimeout(r, 10));
  }
  return { outcomes: await Promise.all(calls), skipped };
}

const okCount = (xs: readonly Outcome[]): number => xs.filter((o) => o.code === Status.OK).length;

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
}

async function familySum(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const family = parsePrometheusText(text).find((f) => f.name === name);
  return (family?.metrics ?? []).reduce((n, m) => n + Number(m.value ?? 0), 0);
}

describe('a Telemux pushed to twice the Report rate it can sustain', () => {
  it('refuses the excess quickly with UNAVAILABLE, stays under its memory cap, counts what it accepts and what it sheds, and recovers within 10 s', async () => {
    const served: ServingCli = await serveCli(['--no-watch-config', '--drain-duration', '0s', ...OVERLOAD_FLAGS]);
    const pid = served.child.pid as number;
    const client = rawClients(served.grpc);
    try {
      // 1. What it sustains: four callers back to back (the shedder may trim this already).
      const warm = await closedLoop(() => client.report(5000), 4, 500);
      const calibration = await closedLoop(() => client.report(5000), 4, 3000);
      const sustainable = okCount(calibration) / 3;
      expect(sustainable).toBeGreaterThan(10);

      // 2. Normal load, half of that, once the shedder has let go after the calibration's
      //    saturation: everything is accepted.
      await new Promise((r) => setTimeout(r, 2500));
      const normal = await openLoop(() => client.report(5000), sustainable / 2, 1000);
      expect(okCount(normal.outcomes)).toBe(normal.outcomes.length);

      // 3. Twice the sustainable rate for 8 s.
      let maxRss = rssOf(pid);
      const overload = await openLoop(() => client.report(10_000), 2 * sustainable, 8000, () => {
        maxRss = Math.max(maxRss, rssOf(pid));
      });
      maxRss = Math.max(maxRss, rssOf(pid));
      const results = overload.outcomes;
      const refused = results.filter((o) => o.code === Status.UNAVAILABLE);
      const figures = `sustainable ${sustainable.toFixed(0)} Reports/s; at 2x: ${okCount(results)} accepted, ${refused.length} refused, refusal latency p50 ${quantile(refused.map((r) => r.ms), 0.5).toFixed(0)} ms p90 ${quantile(refused.map((r) => r.ms), 0.9).toFixed(0)} ms, RSS max ${(maxRss / MiB).toFixed(0)} MiB`;
      // Refusals kept the backlog short: the generator never hit its own bound.
      expect(overload.skipped, figures).toBe(0);
      expect(results.filter((o) => o.code !== Status.OK && o.code !== Status.UNAVAILABLE)).toEqual([]);
      expect(refused.length, figures).toBeGreaterThan(results.length / 10);
      for (const r of refused) expect(r.details).toBe('Server is currently overloaded. Please try again.');
      // Refused quickly: a refusal costs no decoding, so it is not stuck behind a backlog.
      expect(quantile(refused.map((r) => r.ms), 0.5), figures).toBeLessThan(250);
      expect(quantile(refused.map((r) => r.ms), 0.9), figures).toBeLessThan(1000);
      // And shedding does not collapse what gets through. Not all of the sustainable rate: the
      // shedder keeps the loop under 90% busy, and on a shared machine a neighbour's CPU time
      // looks busy to it too.
      expect(okCount(results) / 8, figures).toBeGreaterThan(0.4 * sustainable);
      expect(maxRss, figures).toBeLessThan(RSS_CAP);

      // 4. Load back to normal: within 10 s a one-second window at the normal rate is accepted whole.
      const dropped = performance.now();
      let recoveredAfterMs = Number.POSITIVE_INFINITY;
      const after: Outcome[] = [];
      while (performance.now() - dropped < 10_000) {
        const window = await openLoop(() => client.report(5000), sustainable / 2, 1000);
        after.push(...window.outcomes);
        if (okCount(window.outcomes) === window.outcomes.length) {
          recoveredAfterMs = performance.now() - dropped;
          break;
        }
      }
      expect(recoveredAfterMs).toBeLessThanOrEqual(10_000);

      // 5. Every accepted Report was counted, none of the refused ones, and every refusal was
      //    counted as shed on the admin endpoint.
      const all = [warm, calibration, normal.outcomes, results, after];
      const accepted = all.reduce((n, xs) => n + okCount(xs), 0);
      const shed = all.reduce((n, xs) => n + xs.filter((o) => o.code === Status.UNAVAILABLE).length, 0);
      expect(await familySum(`http://${served.metrics}/metrics`, 'istio_requests_total')).toBe(accepted * SETS_PER_REPORT);
      expect(await familySum(`http://${served.admin}/metrics`, 'telemux_reports_shed_total')).toBe(shed);
      console.log(`overload: ${figures}`);
    } finally {
      client.close();
      served.child.kill('SIGTERM');
      await served.exited;
    }
  }, 40_000);
});
