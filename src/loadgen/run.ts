import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { buildReport } from '../client/compressor.js';
import { MixerClient, type ReportRequest } from '../gen/istio/mixer/v1/mixer.js';
import { reportsOf } from './attributes.js';
import { ProxyFleet, type Batch } from './fleet.js';
import { Prng } from './prng.js';
import { BOOKINFO } from './topology.js';
import { TrafficModel } from './traffic.js';

/** Sends one Report; resolves with the gRPC status code (0 = OK). */
export type ReportSender = (req: ReportRequest) => Promise<number>;

export interface LoadOptions {
  /** User requests per second entering through the gateway (each causes about 3.5 calls). */
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly seed: number;
  readonly send: ReportSender;
  /** Stops early (Ctrl-C); buffered batches are still sent. */
  readonly signal?: AbortSignal;
  /** Called about every `progressEveryMs` with the counts so far. */
  readonly onProgress?: (p: LoadSummary) => void;
  readonly progressEveryMs?: number;
  /** How often arrivals are generated and batches checked. Default 50 ms. */
  readonly tickMs?: number;
  /** Wait before the first retry of a Report refused with UNAVAILABLE; doubles per retry. Default 100 ms. */
  readonly retryBackoffMs?: number;
}

export interface LoadSummary {
  readonly elapsedMs: number;
  readonly userRequests: number;
  readonly calls: number;
  readonly attributeSets: number;
  readonly reports: number;
  readonly reportsFailed: number;
  /** Retries of Reports refused with UNAVAILABLE (each retry counts once, whatever its outcome). */
  readonly reportsRetried: number;
  /** Failed Reports by gRPC status code. */
  readonly failures: Readonly<Record<string, number>>;
}

/** At most this many Reports in flight; the generator waits rather than queueing without bound. */
const MAX_IN_FLIGHT = 64;

/**
 * UNAVAILABLE is gRPC's "transient, retry with backoff", and an overloaded Telemux (like Mixer)
 * adds "Please try again": a refused Report was not recorded, so sending it again cannot count
 * anything twice. Three retries (100, 200, 400 ms by default) ride out a busy moment of the host;
 * a server that stays overloaded still shows up as failed Reports.
 */
const MAX_RETRIES = 3;

/**
 * Plays the Bookinfo fleet against a Mixer endpoint for a bounded time: Poisson arrivals at the
 * given rate, each request's calls reported by both sidecars, batched per sidecar as Envoy does,
 * sent as INDEPENDENT_ENCODING Reports. Resolves after the last Report was answered.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadSummary> {
  const model = new TrafficModel(BOOKINFO, new Prng(opts.seed));
  // Arrival times come from their own stream, so the requests themselves do not depend on timing.
  const arrivals = new Prng(opts.seed ^ 0x5bd1e995);
  const fleet = new ProxyFleet();
  const tickMs = opts.tickMs ?? 50;
  const start = Date.now();
  const end = start + opts.durationMs;
  let nextArrival = start + arrivals.exponential(opts.ratePerSecond) * 1000;
  let userRequests = 0;
  let calls = 0;
  let attributeSets = 0;
  let reports = 0;
  let reportsFailed = 0;
  let reportsRetried = 0;
  const failures: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  const summary = (): LoadSummary => ({ elapsedMs: Date.now() - start, userRequests, calls, attributeSets, reports, reportsFailed, reportsRetried, failures: { ...failures } });
  const backoffMs = opts.retryBackoffMs ?? 100;

  const sendWithRetries = async (req: ReportRequest): Promise<number> => {
    let code = await opts.send(req);
    for (let retry = 0; code === status.UNAVAILABLE && retry < MAX_RETRIES; retry++) {
      // Jittered, so Reports refused together do not come back together.
      await sleep(backoffMs * 2 ** retry * (0.5 + Math.random()), undefined);
      reportsRetried++;
      code = await opts.send(req);
    }
    return code;
  };

  const send = (batch: Batch): void => {
    const req = buildReport(batch.sets);
    attributeSets += batch.sets.length;
    const p = sendWithRetries(req).then(
      (code) => {
        reports++;
        if (code !== 0) {
          reportsFailed++;
          failures[code] = (failures[code] ?? 0) + 1;
        }
      },
      () => {
        reports++;
        reportsFailed++;
        failures['error'] = (failures['error'] ?? 0) + 1;
      },
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  let lastProgress = start;
  while (!opts.signal?.aborted) {
    const now = Math.min(Date.now(), end);
    while (nextArrival <= now) {
      for (const call of model.userRequest(nextArrival)) {
        calls++;
        for (const { reporter, set } of reportsOf(call)) {
          const full = fleet.add(reporter, set, now);
          if (full) send(full);
        }
      }
      userRequests++;
      nextArrival += arrivals.exponential(opts.ratePerSecond) * 1000;
    }
    for (const batch of fleet.due(now)) send(batch);
    if (opts.onProgress && now - lastProgress >= (opts.progressEveryMs ?? 5_000)) {
      lastProgress = now;
      opts.onProgress(summary());
    }
    if (now >= end) break;
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    await sleep(Math.min(tickMs, end - Date.now()), opts.signal);
  }
  for (const batch of fleet.due(Date.now(), true)) send(batch);
  await Promise.all(inFlight);
  return summary();
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A sender over a real gRPC connection, and how to close it. */
export function grpcSender(target: string): { send: ReportSender; close: () => void } {
  const client = new MixerClient(target, credentials.createInsecure());
  const send: ReportSender = (req) =>
    new Promise((resolve) => {
      client.report(req, new Metadata(), { deadline: Date.now() + 10_000 }, (err: ServiceError | null) => resolve(err ? err.code : 0));
    });
  return { send, close: () => client.close() };
}
