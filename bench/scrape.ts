/**
 * Scrape bench: `/metrics` for 10,000 counter and 30,000 histogram series with Istio label sets
 * (requests_total, request_duration_seconds with 11 buckets, request_bytes and response_bytes with
 * 8), rendered by Telemux's Prometheus handler through the core's exposition endpoint code and by
 * prom-client's registry holding the same series. Reports samples/s for each, the ratio, and the
 * longest pause an ingestion loop sees while each renders.
 *
 * Run: npm run bench -- scrape
 */
import { performance } from 'node:perf_hooks';
import { Counter, Histogram, Registry } from 'prom-client';
import type { InstanceSpec, MetricInstance } from '../src/core/adapter.js';
import { Exposition, type ChunkStream } from '../src/core/server/exposition.js';
import { PrometheusHandler } from '../src/adapters/prometheus/index.js';
import type { PromConfig } from '../src/adapters/prometheus/index.js';
import { defaultPrometheusPlan, envFor, HTTP_INSTANCES, instanceOf, istioDimensions, valueFor } from './istio-series.js';
import { fmtBytes, fmtRate, machineLine, median } from './timing.js';

const LABEL_SETS = 10_000;
const ROUNDS = 5;
/** Observations per series, so buckets and sums are not all zero. */
const OBSERVATIONS = 3;

interface Render {
  readonly ms: number;
  readonly bytes: number;
  readonly samples: number;
}

function countSamples(text: string): number {
  let n = 0;
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    if (text.charCodeAt(start) !== 35 /* # */ && nl > start) n++;
    start = nl + 1;
  }
  return n;
}

/**
 * Runs `render` while an ingestion loop (100 instances per turn, as one Report would bring)
 * keeps asking for the event loop; returns the longest time it had to wait.
 */
async function longestPause(render: () => Promise<unknown>, ingest: () => void): Promise<number> {
  let running = true;
  let longest = 0;
  let last = performance.now();
  const loop = (): void => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    ingest();
    last = performance.now();
    if (running) setImmediate(loop);
  };
  setImmediate(loop);
  await new Promise((resolve) => setImmediate(resolve));
  await render();
  // Let the loop run once more: the gap that spans the end of the render counts too.
  await new Promise((resolve) => setImmediate(resolve));
  running = false;
  return longest;
}

export async function run(): Promise<{ telemuxSamplesPerSec: number; promClientSamplesPerSec: number }> {
  console.log(machineLine());
  const plan = await defaultPrometheusPlan();
  const specs = HTTP_INSTANCES.map((n) => plan.instances.find((i) => i.name === n)).filter((s): s is InstanceSpec => s !== undefined);
  const exposition = new Exposition();
  const handler = new PrometheusHandler(plan.config as PromConfig, plan.instances, envFor(plan.name, exposition));
  await handler.start();

  // prom-client with the same families, label names and buckets.
  const cfg = plan.config as PromConfig;
  const registry = new Registry();
  const promMetrics = new Map<string, { observe: (labels: Record<string, string | number>, v: number) => void }>();
  for (const spec of specs) {
    const m = cfg.metrics.find((x) => x.instanceName === spec.name)!;
    const labelNames = spec.dimensions.map((d) => d.name);
    if (m.kind === 'COUNTER') {
      const c = new Counter({ name: m.fullName, help: m.help, labelNames, registers: [registry] });
      promMetrics.set(spec.name, { observe: (l, v) => c.inc(l, v) });
    } else {
      const h = new Histogram({ name: m.fullName, help: m.help, labelNames, buckets: [...m.upperBounds], registers: [registry] });
      promMetrics.set(spec.name, { observe: (l, v) => h.observe(l, v) });
    }
  }

  for (let i = 0; i < LABEL_SETS; i++) {
    for (const spec of specs) {
      const dims = istioDimensions(spec, i);
      const labels: Record<string, string | number> = {};
      spec.dimensions.forEach((d, j) => (labels[d.name] = dims[j]!));
      for (let k = 0; k < OBSERVATIONS; k++) {
        const v = valueFor(spec, i + k);
        handler.handleMetrics([instanceOf(spec, v, dims)]);
        promMetrics.get(spec.name)!.observe(labels, spec.name.startsWith('requestduration') ? v / 1e9 : v);
      }
    }
  }
  console.log(`series: ${String(handler.liveSeries())} in Telemux (${String(LABEL_SETS)} counters, ${String(LABEL_SETS * 3)} histograms, 20 labels each)`);

  const renderTelemux = async (): Promise<Render> => {
    let bytes = 0;
    const t0 = performance.now();
    // A stream, as the HTTP response is, so chunk buffers are recycled as in the server: a
    // writer function keeps every chunk, so each would be a fresh allocation (and its first
    // write a page fault). Encoding to bytes is part of the cost: the socket does it on res.write.
    const sink: ChunkStream = {
      destroyed: false,
      write(chunk, done) {
        bytes += typeof chunk === 'string' ? Buffer.from(chunk, 'utf8').length : chunk.length;
        // Handed over, as a socket reports once the chunk is with the OS.
        if (done !== undefined) queueMicrotask(() => done());
        return true;
      },
      once: () => sink,
      off: () => sink,
    };
    await exposition.render('prometheus-text-0.0.4', sink);
    return { ms: performance.now() - t0, bytes, samples: 0 };
  };
  const renderPromClient = async (): Promise<Render> => {
    const t0 = performance.now();
    const text = await registry.metrics();
    const bytes = Buffer.from(text, 'utf8').length;
    return { ms: performance.now() - t0, bytes, samples: 0 };
  };

  // Sample counts, from one full render of each.
  let full = '';
  await exposition.render('prometheus-text-0.0.4', (chunk: string | Uint8Array) => {
    full += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  });
  const tmSamples = countSamples(full);
  const pcSamples = countSamples(await registry.metrics());
  full = '';

  const tm: Render[] = [];
  const pc: Render[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    tm.push(await renderTelemux());
    pc.push(await renderPromClient());
  }
  const tmMs = median(tm.map((x) => x.ms));
  const pcMs = median(pc.map((x) => x.ms));
  const tmRate = tmSamples / (tmMs / 1e3);
  const pcRate = pcSamples / (pcMs / 1e3);
  console.log(`telemux     ${String(tmSamples)} samples, ${fmtBytes(tm[0]!.bytes)}, ${tmMs.toFixed(0)} ms → ${fmtRate(tmRate)} samples`);
  console.log(`prom-client ${String(pcSamples)} samples, ${fmtBytes(pc[0]!.bytes)}, ${pcMs.toFixed(0)} ms → ${fmtRate(pcRate)} samples`);

  // Ingestion during a render: 100 instances per event-loop turn into existing series.
  const batch: MetricInstance[] = [];
  for (let i = 0; i < 25; i++) for (const spec of specs) batch.push(instanceOf(spec, valueFor(spec, i), istioDimensions(spec, i)));
  const ingestTm = (): void => void handler.handleMetrics(batch);
  const pausesTm: number[] = [];
  for (let r = 0; r < 3; r++) pausesTm.push(await longestPause(renderTelemux, ingestTm));
  const pauseTm = median(pausesTm);
  const pausePc: number[] = [];
  for (let r = 0; r < 3; r++) pausePc.push(await longestPause(renderPromClient, ingestTm));
  const pcPause = median(pausePc);
  console.log(`longest ingestion pause during a render: telemux ${pauseTm.toFixed(1)} ms, prom-client ${pcPause.toFixed(1)} ms`);
  console.log(
    `summary: telemux=${fmtRate(tmRate)} samples prom-client=${fmtRate(pcRate)} samples ratio=${(tmRate / pcRate).toFixed(2)}x ` +
      `pause telemux=${pauseTm.toFixed(1)}ms prom-client=${pcPause.toFixed(1)}ms (${String(tmSamples)} samples)`,
  );
  await handler.close();
  return { telemuxSamplesPerSec: tmRate, promClientSamplesPerSec: pcRate };
}
