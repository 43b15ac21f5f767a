// circllhist throughput: inserts/s on both insert paths, merge cost and serialize+base64 cost,
// over 10,000 histogram series fed with log-normal latencies. Timings live here, never in tests.
//
// Run: npx tsc -p . && node dist/bench/circllhist.js   (or import and call run()).
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Circllhist } from '../src/core/circllhist/index.js';
import { rng } from './workload.js';

const SERIES = 10_000;
const SAMPLES = 2_000_000;
const SEED = 0x5eed1234;


/** Log-normal request latencies: median 20 ms, σ = 1 in log space (roughly 0.5 ms … 1 s). */
function latencies(n: number): { ms: Float64Array; ns: Float64Array } {
  const next = rng(SEED);
  const ms = new Float64Array(n);
  const ns = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - next();
    const v = next();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    ms[i] = Math.exp(Math.log(20) + z);
    ns[i] = Math.round(ms[i] * 1e6);
  }
  return { ms, ns };
}

function fresh(n: number): Circllhist[] {
  return Array.from({ length: n }, () => new Circllhist());
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function fmtRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M/s` : `${(perSecond / 1e3).toFixed(1)}k/s`;
}

export async function run(): Promise<void> {
  const { ms, ns } = latencies(SAMPLES);
  const seriesOf = (i: number): number => i % SERIES;

  // Warm-up: lets the JIT optimise both paths and creates every bin, so the timed passes below
  // measure the steady state (existing bins, no allocation).
  const dbl = fresh(SERIES);
  const ints = fresh(SERIES);
  for (let i = 0; i < SAMPLES; i++) {
    dbl[seriesOf(i)].insert(ms[i] * 1e-3);
    ints[seriesOf(i)].insertIntScale(ns[i], -9);
  }

  const heapBefore = process.memoryUsage().heapUsed;
  const dblMs = time(() => {
    for (let i = 0; i < SAMPLES; i++) dbl[seriesOf(i)].insert(ms[i] * 1e-3);
  });
  const heapDelta = process.memoryUsage().heapUsed - heapBefore;
  const intMs = time(() => {
    for (let i = 0; i < SAMPLES; i++) ints[seriesOf(i)].insertIntScale(ns[i], -9);
  });
  // One hot histogram: the insert cost without cache misses across 10,000 series.
  const hot = new Circllhist();
  for (let i = 0; i < SAMPLES; i++) hot.insert(ms[i]);
  const hotMs = time(() => {
    for (let i = 0; i < SAMPLES; i++) hot.insert(ms[i]);
  });
  // Cold path: first samples into empty histograms, where bins are created.
  const cold = fresh(SERIES);
  const coldMs = time(() => {
    for (let i = 0; i < SAMPLES; i++) cold[seriesOf(i)].insert(ms[i] * 1e-3);
  });

  const dblRate = SAMPLES / (dblMs / 1e3);
  const intRate = SAMPLES / (intMs / 1e3);
  const bins = dbl.reduce((s, h) => s + h.binCount, 0) / SERIES;
  console.log(`circllhist bench: ${String(SERIES)} series, ${String(SAMPLES)} log-normal samples per pass, ~${bins.toFixed(0)} bins/series`);
  // Heap growth over the pass (no GC forced): ~0 bytes/insert means the steady-state path does
  // not allocate; a collection during the pass can even make it negative.
  const perInsert = heapDelta / SAMPLES;
  console.log(`insert (double, steady state)   ${fmtRate(dblRate)}  (${dblMs.toFixed(1)} ms, heap growth ${perInsert.toFixed(3)} B/insert)`);
  console.log(`insertIntScale (ns, scale -9)   ${fmtRate(intRate)}  (${intMs.toFixed(1)} ms)`);
  console.log(`insert (double, one hot hist)   ${fmtRate(SAMPLES / (hotMs / 1e3))}`);
  console.log(`insert (double, cold series)    ${fmtRate(SAMPLES / (coldMs / 1e3))}  (includes bin creation)`);

  // Merge: fold all series into one aggregate, as a flush of per-tag series would. One untimed
  // fold first so the timed one measures optimised code.
  let aggregate = Circllhist.merged(dbl);
  const mergeMs = time(() => {
    aggregate = new Circllhist();
    for (const h of dbl) aggregate.merge(h);
  });
  const mergeUs = (mergeMs * 1e3) / SERIES;
  console.log(`merge 10,000 series → one        ${mergeMs.toFixed(1)} ms (${mergeUs.toFixed(2)} µs/merge, ${String(aggregate.binCount)} bins in result)`);

  // Serialize + base64 for every series: the per-flush encoding cost of an HTTPTrap submission.
  let bytes = 0;
  const encoded: string[] = new Array<string>(SERIES);
  for (let i = 0; i < SERIES; i++) encoded[i] = dbl[i].toBase64();
  for (let i = 0; i < SERIES; i++) Circllhist.fromBase64(encoded[i]);
  const encMs = time(() => {
    for (let i = 0; i < SERIES; i++) encoded[i] = dbl[i].toBase64();
  });
  for (const e of encoded) bytes += e.length;
  const decMs = time(() => {
    for (let i = 0; i < SERIES; i++) Circllhist.fromBase64(encoded[i]);
  });
  const encUs = (encMs * 1e3) / SERIES;
  console.log(`serialize+base64 10,000 series  ${encMs.toFixed(1)} ms (${encUs.toFixed(2)} µs/series, ${String(bytes)} chars)`);
  console.log(`parse base64 10,000 series      ${decMs.toFixed(1)} ms (${((decMs * 1e3) / SERIES).toFixed(2)} µs/series)`);

  console.log(
    `summary: insert=${fmtRate(dblRate)} intscale=${fmtRate(intRate)} merge=${mergeUs.toFixed(2)}us/series ` +
      `serialize+b64=${encMs.toFixed(1)}ms/${String(SERIES)}series (${encUs.toFixed(2)}us/series)`,
  );
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  await run();
}
