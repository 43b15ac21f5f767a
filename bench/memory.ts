/**
 * Memory bench: heap bytes per live series, measured in a fresh child process with `--expose-gc`
 * (so nothing else on the heap moves the figure) as the growth of V8 heap plus ArrayBuffer
 * memory after garbage collection, divided by the series created:
 * - Prometheus counter (istio_requests_total, 20 labels);
 * - Prometheus histogram with 11 buckets (istio_request_duration_seconds);
 * - the Istio metric set: all four HTTP families fed per label set (1 counter, 3 histograms);
 * - Circonus circllhist series (request durations, stream-tagged by all 20 dimensions).
 *
 * Run: npm run bench -- memory
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { InstanceSpec, MetricInstance } from '../src/core/adapter.js';
import { ADAPTERS } from '../src/adapters/index.js';
import { PrometheusHandler, type PromConfig } from '../src/adapters/prometheus/index.js';
import { defaultPrometheusPlan, envFor, HTTP_INSTANCES, instanceOf, istioDimensions, OneSource, valueFor } from './istio-series.js';
import { machineLine } from './timing.js';

const LABEL_SETS = 10_000;
const kept: unknown[] = [];

interface Figure {
  readonly name: string;
  readonly series: number;
  readonly bytesPerSeries: number;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) g();
}

function used(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function measure(name: string, specs: readonly InstanceSpec[], make: () => Promise<{ handle: (b: MetricInstance[]) => void; live: () => number; keep: unknown }>): Promise<Figure> {
  // Instances are made as they are recorded and dropped at once, so after a collection only what
  // the store keeps is left; their strings are fresh per label set, as decoding makes them, and
  // the instances of one label set share one dimensions array, as the core hands them over.
  const h = await make();
  h.handle([]);
  const before = used();
  for (let i = 0; i < LABEL_SETS; i++) {
    const dims = istioDimensions(specs[0]!, i);
    h.handle(specs.map((s) => instanceOf(s, valueFor(s, i), dims)));
  }
  const after = used();
  const series = h.live();
  // Keep every store alive to the end, so freeing one cannot offset the next reading.
  kept.push(h.keep);
  return { name, series, bytesPerSeries: (after - before) / series };
}

async function child(): Promise<void> {
  const plan = await defaultPrometheusPlan();
  const spec = (n: string): InstanceSpec => plan.instances.find((i) => i.name === n)!;
  const prom = async (names: readonly string[]) => {
    const h = new PrometheusHandler(plan.config as PromConfig, plan.instances, envFor(plan.name, new OneSource()));
    await h.start();
    return { handle: (b: MetricInstance[]) => void h.handleMetrics(b), live: () => h.liveSeries(), keep: [h, names] };
  };
  const figures: Figure[] = [];
  figures.push(await measure('prometheus counter (20 labels)', [spec(HTTP_INSTANCES[0]!)], () => prom([HTTP_INSTANCES[0]!])));
  figures.push(await measure('prometheus histogram, 11 buckets', [spec(HTTP_INSTANCES[1]!)], () => prom([HTTP_INSTANCES[1]!])));
  figures.push(await measure('Istio metric set (1 counter + 3 histograms)', HTTP_INSTANCES.map(spec), () => prom(HTTP_INSTANCES)));
  const circonus = ADAPTERS.get('circonus');
  if (circonus) {
    const dur = spec(HTTP_INSTANCES[1]!);
    const config = circonus.parseConfig({ submission_url: 'http://127.0.0.1:9/write/x', metrics: [{ name: dur.name, type: 'DISTRIBUTION' }] }, [dur], { issue: (p, m) => { throw new Error(`${p.join('.')}: ${m}`); }, warn: () => undefined });
    figures.push(
      await measure('circonus circllhist (20 stream tags)', [dur], async () => {
        const h = circonus.createHandler(config, [dur], envFor('circonus.handler.istio-system', new OneSource()));
        return { handle: (b: MetricInstance[]) => void h.handleMetrics(b), live: () => h.liveSeries?.() ?? 0, keep: h };
      }),
    );
  }
  process.send?.(figures);
}

export async function run(): Promise<Figure[]> {
  console.log(machineLine());
  const figures = await new Promise<Figure[]>((resolve, reject) => {
    const c = fork(fileURLToPath(import.meta.url), ['--child'], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const t = setTimeout(() => c.kill('SIGKILL'), 120_000);
    c.once('message', (m: Figure[]) => resolve(m));
    c.once('exit', (code) => {
      clearTimeout(t);
      if (code !== 0) reject(new Error(`memory bench child exited ${String(code)}`));
    });
  });
  for (const f of figures) console.log(`${f.name.padEnd(46)} ${f.bytesPerSeries.toFixed(0).padStart(6)} bytes/series  (${String(f.series)} series)`);
  const istio = figures.find((f) => f.name.startsWith('Istio'));
  const short = ['counter', 'histogram', 'istio-average', 'circllhist'];
  console.log(`summary: ${figures.map((f, i) => `${short[i] ?? f.name}=${f.bytesPerSeries.toFixed(0)}B`).join(' ')} per live series (target istio-average <= 512B: ${istio && istio.bytesPerSeries <= 512 ? 'met' : 'missed'})`);
  return figures;
}

if (process.argv.includes('--child')) await child();
