/**
 * The ingest bench's load generator, run in its own process (forked by bench/ingest.ts) so its
 * CPU never competes with the server under test. It pre-encodes Envoy-shaped Reports and sends
 * them over several HTTP/2 connections (h2-client.ts: each framed once, never copied per call),
 * either closed-loop (a fixed number in flight: the maximum rate) or open-loop (a fixed schedule:
 * latency at a given load, measured from the scheduled send time so a stalled server cannot hide
 * its queueing).
 */
import { status } from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { grpcFrame, H2GrpcConnection } from './h2-client.js';
import { encodedReports, seedingReports, SETS_PER_REPORT } from './workload.js';

export type LoadCommand =
  | { readonly cmd: 'init'; readonly reports: number }
  | { readonly cmd: 'closed'; readonly target: string; readonly concurrency: number; readonly warmupMs: number; readonly durationMs: number }
  | { readonly cmd: 'open'; readonly target: string; readonly rate: number; readonly warmupMs: number; readonly durationMs: number }
  | { readonly cmd: 'seed'; readonly target: string; readonly labelSets: number }
  | { readonly cmd: 'exit' };

export interface LoadResult {
  readonly type: 'result';
  /**
   * Reports answered within the measured window: OK, refused as overloaded (UNAVAILABLE, what a
   * server past its capacity answers by design), or failed in any other way.
   */
  readonly ok: number;
  readonly refused: number;
  readonly failed: number;
  readonly firstError: string | undefined;
  readonly sets: number;
  readonly elapsedMs: number;
  /** Of OK answers: from the scheduled send time (open loop) or the send (closed loop) to the answer. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Open loop: from the actual send, leaving out the generator's own lateness. */
  readonly sentLatencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** The generator's own CPU over the window, as a fraction of one core: near 1 means it was the limit. */
  readonly cpuShare: number;
  /** Open loop: sends that went out more than 5 ms after their scheduled time. */
  readonly late: number;
}

export type LoadEvent = { readonly type: 'ready'; readonly bytesPerReport: number } | { readonly type: 'measuring' } | LoadResult;

const PATH = '/istio.mixer.v1.Mixer/Report';
const CONNECTIONS = 4;

/** Framed Reports (see grpcFrame), sent round-robin. */
let pool: Buffer[] = [];
const clients = new Map<string, H2GrpcConnection[]>();

function clientsFor(target: string): H2GrpcConnection[] {
  let cs = clients.get(target);
  if (cs === undefined) {
    cs = [];
    // One HTTP/2 connection each, as separate sidecars would have.
    for (let i = 0; i < CONNECTIONS; i++) cs.push(new H2GrpcConnection(target, PATH));
    clients.set(target, cs);
  }
  return cs;
}

function emit(e: LoadEvent): void {
  process.send?.(e);
}

/** Percentiles of the first `n` entries of `xs`. */
function latencies(xs: Float64Array, n: number): LoadResult['latencyMs'] {
  if (n === 0) return { p50: NaN, p99: NaN, max: NaN };
  const s = xs.slice(0, n).sort();
  const at = (p: number): number => s[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!;
  return { p50: at(0.5), p99: at(0.99), max: s[n - 1]! };
}

function closedLoop(target: string, concurrency: number, warmupMs: number, durationMs: number): Promise<LoadResult> {
  const cs = clientsFor(target);
  const lat = new Float64Array(1 << 20);
  let n = 0;
  let ok = 0;
  let refused = 0;
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  let measuring = false;
  let stopped = false;
  let windowStart = 0;
  let cpu0 = process.cpuUsage();
  return new Promise((resolve) => {
    const loop = (worker: number): void => {
      if (stopped) return;
      const buf = pool[next++ % pool.length]!;
      const t0 = performance.now();
      cs[worker % cs.length]!.call(buf, (code, err) => {
        if (measuring && !stopped) {
          if (code === status.OK) {
            ok++;
            if (n < lat.length) lat[n++] = performance.now() - t0;
          } else if (code === status.UNAVAILABLE) refused++;
          else {
            failed++;
            firstError ??= err;
          }
        }
        loop(worker);
      });
    };
    for (let w = 0; w < concurrency; w++) loop(w);
    setTimeout(() => {
      measuring = true;
      windowStart = performance.now();
      cpu0 = process.cpuUsage();
      emit({ type: 'measuring' });
      setTimeout(() => {
        stopped = true;
        const elapsedMs = performance.now() - windowStart;
        const cpu = process.cpuUsage(cpu0);
        resolve({
          type: 'result',
          ok,
          refused,
          failed,
          firstError,
          sets: ok * SETS_PER_REPORT,
          elapsedMs,
          latencyMs: latencies(lat, n),
          sentLatencyMs: latencies(lat, n),
          cpuShare: (cpu.user + cpu.system) / 1e3 / elapsedMs,
          late: 0,
        });
      }, durationMs);
    }, warmupMs);
  });
}

function openLoop(target: string, rate: number, warmupMs: number, durationMs: number): Promise<LoadResult> {
  const cs = clientsFor(target);
  const total = Math.ceil((rate * (warmupMs + durationMs)) / 1000);
  const lat = new Float64Array(total);
  const sentLat = new Float64Array(total);
  let n = 0;
  let ok = 0;
  let refused = 0;
  let failed = 0;
  let late = 0;
  let firstError: string | undefined;
  let sent = 0;
  let answered = 0;
  const start = performance.now();
  const windowStart = start + warmupMs;
  const windowEnd = windowStart + durationMs;
  let cpu0 = process.cpuUsage();
  let announced = false;
  return new Promise((resolve) => {
    const finish = (): void => {
      const cpu = process.cpuUsage(cpu0);
      resolve({
        type: 'result',
        ok,
        refused,
        failed,
        firstError,
        sets: ok * SETS_PER_REPORT,
        elapsedMs: durationMs,
        latencyMs: latencies(lat, n),
        sentLatencyMs: latencies(sentLat, n),
        cpuShare: (cpu.user + cpu.system) / 1e3 / durationMs,
        late,
      });
    };
    const tick = (): void => {
      const now = performance.now();
      if (!announced && now >= windowStart) {
        announced = true;
        cpu0 = process.cpuUsage();
        emit({ type: 'measuring' });
      }
      // Everything whose time has come goes out now, each timed from its own scheduled time.
      while (sent < total) {
        const scheduled = start + (sent * 1000) / rate;
        if (scheduled > now) break;
        if (now - scheduled > 5) late++;
        const inWindow = scheduled >= windowStart && scheduled < windowEnd;
        const buf = pool[sent % pool.length]!;
        const sentAt = performance.now();
        cs[sent % cs.length]!.call(buf, (code, err) => {
          answered++;
          if (inWindow) {
            if (code === status.OK) {
              ok++;
              const t = performance.now();
              sentLat[n] = t - sentAt;
              lat[n++] = t - scheduled;
            } else if (code === status.UNAVAILABLE) refused++;
            else {
              failed++;
              firstError ??= err;
            }
          }
          if (answered === total) finish();
        });
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}

async function seed(target: string, labelSets: number): Promise<LoadResult> {
  const cs = clientsFor(target);
  const reports = seedingReports(labelSets).map((r) => grpcFrame(r));
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  for (const r of reports) {
    // Seeding waits for each answer, so even a refusal is a failure here.
    const err = await new Promise<string | undefined>((resolve) => cs[0]!.call(r, (_code, e) => resolve(e)));
    if (err !== undefined) {
      failed++;
      firstError ??= err;
    } else ok++;
  }
  const none = { p50: NaN, p99: NaN, max: NaN };
  return { type: 'result', ok, refused: 0, failed, firstError, sets: labelSets, elapsedMs: performance.now() - t0, latencyMs: none, sentLatencyMs: none, cpuShare: NaN, late: 0 };
}

process.on('message', (m: LoadCommand) => {
  void (async () => {
    switch (m.cmd) {
      case 'init': {
        const reports = encodedReports(m.reports);
        pool = reports.map((r) => grpcFrame(r));
        emit({ type: 'ready', bytesPerReport: reports.reduce((sum, b) => sum + b.length, 0) / reports.length });
        return;
      }
      case 'closed':
        emit(await closedLoop(m.target, m.concurrency, m.warmupMs, m.durationMs));
        return;
      case 'open':
        emit(await openLoop(m.target, m.rate, m.warmupMs, m.durationMs));
        return;
      case 'seed':
        emit(await seed(m.target, m.labelSets));
        return;
      case 'exit':
        for (const cs of clients.values()) for (const c of cs) c.close();
        process.disconnect?.();
        return;
    }
  })();
});
