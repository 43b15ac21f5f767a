/**
 * Circonus adapter bench: 10,000 stream-tagged histogram series (request durations by service and
 * response code) fed with log-normal latencies. Reports circllhist inserts per second through
 * handleMetrics (name cache + int-scale insert) next to bare circllhist inserts, then the flush
 * cost for those 10,000 series: encode (sort + base64 + JSON), a full flush with a loopback PUT,
 * and the merge a failed payload costs when carried into the next one. Timings live here, never
 * in tests.
 *
 * Run: npx tsc -p . && node dist/bench/circonus.js   (or import and call run()).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ValueType, type HandlerEnv, type InstanceSpec, type MetricInstance } from '../src/core/adapter.js';
import { Circllhist } from '../src/core/circllhist/index.js';
import { silentLogger } from '../src/core/log.js';
import {
  CIRCONUS_EVENTS,
  CirconusHandler,
  CirconusMetricType,
  encodeBodyInSlices,
  encodePayload,
  InstanceRecorder,
  parseCirconusConfig,
  SeriesStore,
} from '../src/adapters/circonus/index.js';
import { TimeSlicer } from '../src/core/adapter.js';
import { longestBlock, median } from './timing.js';
import { rng } from './workload.js';

const SERVICES = 2_500;
const CODES = [200, 404, 500, 503];
const SERIES = SERVICES * CODES.length;
const SAMPLES = 1_000_000;
const BATCH = 100;
const ROUNDS = 5;
const SEED = 0x5eed1234;

const duration: InstanceSpec = {
  name: 'requestduration.instance.istio-system',
  template: 'metric',
  valueType: ValueType.DURATION,
  dimensions: [
    { name: 'destination_service', type: ValueType.STRING },
    { name: 'response_code', type: ValueType.INT64 },
  ],
  monitoredResourceDimensions: [],
};


/** Log-normal latencies in ns (median 20 ms, σ = 1), spread round-robin over every series. */
function workload(): { batches: MetricInstance[][]; ns: Float64Array } {
  const next = rng(SEED);
  const services = Array.from({ length: SERVICES }, (_, i) => `svc-${i}.ns-${i % 7}.svc.cluster.local`);
  const ns = new Float64Array(SAMPLES);
  const batches: MetricInstance[][] = [];
  let batch: MetricInstance[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    ns[i] = Math.round(Math.exp(Math.log(20e6) + z));
    const s = i % SERIES;
    batch.push({
      spec: duration,
      value: ns[i] as number,
      dimensions: [services[s % SERVICES] as string, CODES[Math.floor(s / SERVICES)] as number],
      monitoredResourceType: 'UNSPECIFIED',
      monitoredResourceDimensions: [],
    });
    if (batch.length === BATCH) {
      batches.push(batch);
      batch = [];
    }
  }
  if (batch.length > 0) batches.push(batch);
  return { batches, ns };
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function fmtRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M/s` : `${(perSecond / 1e3).toFixed(1)}k/s`;
}

/** A loopback stand-in for the broker: reads the body, answers 200 like HTTPTrap. */
async function startBroker(): Promise<{ server: Server; url: string; bytes: number[] }> {
  const bytes: number[] = [];
  const server = createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
    });
    req.on('end', () => {
      bytes.push(n);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"stats":1,"filtered":0}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://127.0.0.1:${port}/module/httptrap/00000000-0000-4000-8000-000000000000/bench`, bytes };
}

function envFor(events: Map<string, number>): HandlerEnv {
  return {
    name: 'circonus.handler.bench',
    logger: silentLogger,
    clock: { now: () => Date.now() },
    exposition: { register: () => undefined, unregister: () => undefined },
    stats: { count: (e, n = 1) => void events.set(e, (events.get(e) ?? 0) + n) },
  };
}

/** One interval's store filled through the same recorder the handler uses. */
function filledStore(batches: readonly MetricInstance[][], epoch: number, recorder: InstanceRecorder): SeriesStore {
  const store = new SeriesStore(epoch);
  for (const b of batches) for (const inst of b) recorder.record(inst, store, SERIES);
  return store;
}

export async function run(): Promise<void> {
  const { batches, ns } = workload();
  const broker = await startBroker();
  try {
    const issues: string[] = [];
    const config = parseCirconusConfig(
      { submission_url: broker.url, metrics: [{ name: duration.name, type: 'DISTRIBUTION' }] },
      [duration],
      { issue: (path, message) => void issues.push(`${path.join('.')}: ${message}`), warn: () => undefined },
    );
    if (config === undefined) throw new Error(`bench config rejected: ${issues.join('; ')}`);

    // Bare circllhist: the floor for what the handler's record path can reach.
    const bare = Array.from({ length: SERIES }, () => new Circllhist());
    for (let i = 0; i < SAMPLES; i++) (bare[i % SERIES] as Circllhist).insertIntScale(ns[i] as number, -9);
    const bareMs = median(
      Array.from({ length: ROUNDS }, () =>
        time(() => {
          for (let i = 0; i < SAMPLES; i++) (bare[i % SERIES] as Circllhist).insertIntScale(ns[i] as number, -9);
        }),
      ),
    );

    // Through the handler: each round is one interval (fresh store, cached tuples), then a flush.
    const events = new Map<string, number>();
    const handler = new CirconusHandler(config, [duration], envFor(events));
    await handler.start();
    const recordMs: number[] = [];
    const flushMs: number[] = [];
    const blockMs: number[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      const r = time(() => {
        for (const b of batches) handler.handleMetrics(b);
      });
      const f = await longestBlock(() => handler.flush(new AbortController().signal));
      // Round 0 warms up the JIT and fills the tuple cache; it is not reported.
      if (round > 0) {
        recordMs.push(r);
        flushMs.push(f.ms);
        blockMs.push(f.longest);
      }
    }
    await handler.close();
    const sent = events.get(CIRCONUS_EVENTS.seriesSent) ?? 0;
    if (sent !== SERIES * (ROUNDS + 1)) throw new Error(`expected ${SERIES} series per flush, sent ${sent} in ${ROUNDS + 1}`);

    // Encode alone, on a store filled the handler's way.
    const recorder = new InstanceRecorder(
      duration,
      { name: duration.name, type: CirconusMetricType.DISTRIBUTION, tagDimensions: ['destination_service', 'response_code'] },
      { count: 0, max: 2 * SERIES },
      { truncatedTagValues: () => undefined },
    );
    const store = filledStore(batches, 1, recorder);
    let body = '';
    body = encodePayload(store.values());
    const encodeMs = median(
      Array.from({ length: ROUNDS }, () =>
        time(() => {
          body = encodePayload(store.values());
          Buffer.from(body, 'utf8');
        }),
      ),
    );
    // What the flush runs: the same bytes, in slices between turns of the event loop.
    const slicedMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      // Sized in slices, then encoded piece by piece as the PUT reads it: here read at once.
      const body = await encodeBodyInSlices(store.values(), new TimeSlicer());
      for (const chunk of body.chunks()) void chunk;
      slicedMs.push(performance.now() - t0);
    }
    const bins = [...store.values()].reduce((n, s) => n + ((s.histogram as Circllhist).binCount), 0) / store.size;

    // The failure path: carry one interval's 10,000 series into the next (histograms merge).
    const mergeMs = median(
      Array.from({ length: ROUNDS }, (_, i) => {
        const older = filledStore(batches, 10 + 2 * i, recorder);
        const newer = filledStore(batches, 11 + 2 * i, recorder);
        return time(() => older.absorbNewer(newer));
      }),
    );

    const perSecond = SAMPLES / (median(recordMs) / 1e3);
    const bareRate = SAMPLES / (bareMs / 1e3);
    const mb = (Buffer.byteLength(body) / 1024 / 1024).toFixed(2);
    console.log(
      `circonus bench: ${SERIES.toLocaleString('en-US')} histogram series, ${SAMPLES.toLocaleString('en-US')} duration instances per interval ` +
        `(batches of ${BATCH}), ~${bins.toFixed(0)} bins/series, median of ${ROUNDS}`,
    );
    console.log(
      `  handleMetrics (tag cache + int-scale insert)  ${fmtRate(perSecond)} inserts  (${median(recordMs).toFixed(1)} ms per interval, ` +
        `${((median(recordMs) * 1e6) / SAMPLES).toFixed(0)} ns per instance)`,
    );
    console.log(`  bare circllhist insertIntScale                ${fmtRate(bareRate)} inserts`);
    console.log(
      `  flush encode (sort + base64 + JSON + UTF-8)   ${encodeMs.toFixed(1)} ms for ${SERIES.toLocaleString('en-US')} series ` +
        `(${((encodeMs * 1e3) / SERIES).toFixed(2)} µs/series, ${mb} MiB body)`,
    );
    console.log(`  flush encode: sized in slices, then pieces     ${median(slicedMs).toFixed(1)} ms wall (the PUT reads one piece per socket drain)`);
    console.log(`  full flush incl. loopback PUT                 ${median(flushMs).toFixed(1)} ms, longest event-loop block ${median(blockMs).toFixed(1)} ms`);
    console.log(`  carry a failed payload into the next          ${mergeMs.toFixed(1)} ms (merge of ${SERIES.toLocaleString('en-US')} series)`);
    console.log(
      `summary: handleMetrics ${fmtRate(perSecond)} inserts (bare circllhist ${fmtRate(bareRate)}); ` +
        `flush of ${SERIES} histogram series: encode ${encodeMs.toFixed(1)} ms (${mb} MiB), ` +
        `with PUT ${median(flushMs).toFixed(1)} ms (longest block ${median(blockMs).toFixed(1)} ms); requeue merge ${mergeMs.toFixed(1)} ms`,
    );
  } finally {
    broker.server.closeAllConnections();
    await new Promise<void>((resolve) => broker.server.close(() => resolve()));
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  await run();
}
