/**
 * Micro benches of the Report path's stages, in-process on the ingest bench's traffic and config:
 * decode (hand-written vs the generated ts-proto decoder), rule match, instance build, each
 * handler's handleMetrics, the whole Report without transport, circllhist insert and StatsD
 * encode. Per attribute set unless said otherwise; medians of 5 rounds. Then, with 10,000 label
 * sets recorded, the longest event-loop block of each handler's flush and of a /metrics render.
 *
 * Run: npm run bench -- micro
 */
import type { MetricInstance } from '../src/core/adapter.js';
import { AttributeBag } from '../src/core/attributes/bag.js';
import { Circllhist } from '../src/core/circllhist/index.js';
import { compileRe2 } from '../src/core/expr/re2.js';
import { dispatchReport, type DispatchObserver } from '../src/core/dispatch/dispatcher.js';
import { RequestCounts } from '../src/core/dispatch/request-counts.js';
import type { MetricInstanceBuilder } from '../src/core/templates/metric.js';
import { ReportRequest } from '../src/gen/istio/mixer/v1/mixer.js';
import { DatagramPacker, encodeUnitsInSteps, StatsdAggregator } from '../src/adapters/statsd/index.js';
import { Exposition } from '../src/core/server/exposition.js';
import { silentLogger } from '../src/core/log.js';
import { buildPipeline, type Pipeline } from './pipeline.js';
import { fmtNs, fmtRate, longestBlock, machineLine, nsPerOp, nsPerOpTurning } from './timing.js';
import { encodedReports, rng, seedingReports, SETS_PER_REPORT } from './workload.js';

const REPORTS = 64;

// Counts per set as the server's observer does (Mixer's per-request histograms), so that cost is timed.
const NOOP_OBSERVER: DispatchObserver = { buildError: () => undefined, matchError: () => undefined, handlerDispatched: () => undefined, requests: new RequestCounts() };

/** Copies a pooled bag's values, so many decoded sets can be held at once. */
function snapshotBags(bags: readonly AttributeBag[]): AttributeBag[] {
  return bags.map((b) => {
    const copy = new AttributeBag(b.values.length);
    for (let i = 0; i < b.values.length; i++) copy.values[i] = b.values[i];
    return copy;
  });
}

type Routing = Pipeline['active']['routing'];

const RE2_CASES: readonly { re2: string; js: string; flags: string; subjects: readonly string[] }[] = [
  { re2: '^/api/v[0-9]+/users/[^/]+$', js: '^\\/api\\/v[0-9]+\\/users\\/[^\\/]+$', flags: 'u', subjects: ['/api/v1/users/12345', '/api/v2/orders/77', '/healthz'] },
  {
    re2: '(?i)mozilla.*(chrome|firefox)',
    js: 'mozilla.*(?:chrome|firefox)',
    flags: 'iu',
    subjects: ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', 'curl/8.1.2'],
  },
  { re2: '\\.(css|js|png)$', js: '\\.(?:css|js|png)$', flags: 'u', subjects: ['/static/app.js', '/index.html', '/img/logo.png?v=2'] },
  { re2: '^(GET|POST)$', js: '^(?:GET|POST)$', flags: 'u', subjects: ['GET', 'DELETE', 'POST'] },
  { re2: 'productpage|reviews', js: 'productpage|reviews', flags: 'u', subjects: ['productpage.default.svc.cluster.local', 'ratings.default.svc.cluster.local'] },
];

function re2Comparison(): { dfaNs: number; v8Ns: number; hostileDfaUs: number; hostileV8Us: number } {
  const dfa = RE2_CASES.map((c) => {
    const r = compileRe2(c.re2);
    if (!r.ok) throw new Error(r.message);
    return r.regexp;
  });
  const v8 = RE2_CASES.map((c) => new RegExp(c.js, c.flags));
  const n = RE2_CASES.reduce((sum, c) => sum + c.subjects.length, 0);
  let hits = 0;
  const pass = (matchers: readonly { test(s: string): boolean }[]) => (): void => {
    for (let i = 0; i < RE2_CASES.length; i++) for (const s of RE2_CASES[i]!.subjects) if (matchers[i]!.test(s)) hits++;
  };
  const dfaNs = nsPerOp(pass(dfa), n);
  const v8Ns = nsPerOp(pass(v8), n);
  if (hits === 0) throw new Error('no subject matched');
  const hostile = `${'a'.repeat(24)}b`;
  const hostileRe2 = compileRe2('^(a+)+$');
  if (!hostileRe2.ok) throw new Error(hostileRe2.message);
  const micros = (f: () => void): number => {
    const t0 = performance.now();
    f();
    return (performance.now() - t0) * 1000;
  };
  return {
    dfaNs,
    v8Ns,
    hostileDfaUs: micros(() => hostileRe2.regexp.test(hostile)),
    hostileV8Us: micros(() => /^(?:(?:a)+)+$/u.test(hostile)),
  };
}

/**
 * The instances each Report gives `dest`, built as the dispatcher builds them (once per set, one
 * dimensions array shared by the four instances).
 */
function handlerBatches(routing: Routing, dest: Routing['all'][number], bags: readonly AttributeBag[]): MetricInstance[][] {
  const memo = routing.memo;
  const batches: MetricInstance[][] = [];
  for (let i = 0; i < bags.length; i += SETS_PER_REPORT) {
    const batch: MetricInstance[] = [];
    for (const bag of bags.slice(i, i + SETS_PER_REPORT)) {
      memo.next();
      for (const g of dest.groups) {
        if (g.match !== undefined && g.match.evaluate(bag) !== true) continue;
        for (const id of g.builderIds) {
          const inst = memo.instance(id, bag);
          if (inst) batch.push(inst);
        }
      }
    }
    batches.push(batch);
  }
  memo.release();
  return batches;
}

export async function run(): Promise<void> {
  console.log(machineLine());
  const reports = encodedReports(REPORTS).map((b) => Buffer.from(b));
  const sets = REPORTS * SETS_PER_REPORT;
  const bytes = reports.reduce((n, r) => n + r.length, 0);
  console.log(`traffic: ${String(REPORTS)} Reports × ${String(SETS_PER_REPORT)} sets, ${(bytes / REPORTS / 1024).toFixed(1)} KiB per Report`);
  const p = await buildPipeline();
  try {
    const { decoder, routing, namespaces } = p.active;
    const rows: [string, number, string][] = [];
    const row = (name: string, ns: number, unit = 'per set'): void => {
      rows.push([name, ns, unit]);
      console.log(`${name.padEnd(40)} ${fmtNs(ns).padStart(10)} ${unit}`);
    };

    const decodeNs = nsPerOp(() => {
      for (const r of reports) decoder.decode(r);
    }, sets);
    row('decode (hand-written, into bags)', decodeNs);
    const tsprotoNs = nsPerOp(() => {
      for (const r of reports) ReportRequest.decode(r);
    }, sets);
    row('decode (ts-proto objects, baseline)', tsprotoNs);

    const bags: AttributeBag[] = [];
    for (const r of reports) bags.push(...snapshotBags(decoder.decode(r).bags));
    const matches = [...new Set(p.snapshot.rules.map((r) => r.match).filter((m) => m !== undefined))];
    const matchNs = nsPerOp(() => {
      for (const bag of bags) for (const m of matches) m.evaluate(bag);
    }, bags.length * matches.length);
    row(`rule match (${String(matches.length)} distinct conditions)`, matchNs, 'per condition');

    const builders = new Set<MetricInstanceBuilder>();
    for (const rule of p.snapshot.rules) if (rule.name.startsWith('promhttp')) for (const a of rule.actions) for (const b of a.builders) builders.add(b);
    const httpBuilders = [...builders];
    const buildNs = nsPerOp(() => {
      for (const bag of bags) for (const b of httpBuilders) b.build(bag);
    }, bags.length * httpBuilders.length);
    row('instance build (Istio metric, 20 dims)', buildNs, 'per instance');

    const dispatchNs = await nsPerOpTurning(() => {
      for (let i = 0; i < bags.length; i += SETS_PER_REPORT) dispatchReport(bags.slice(i, i + SETS_PER_REPORT), routing, namespaces, NOOP_OBSERVER);
    }, bags.length);
    row(`dispatch: match + build + ${String(routing.all.length)} handlers`, dispatchNs);

    // Each handler alone on pre-built batches: the instances one Report gives it.
    for (const dest of routing.all) {
      const batches = handlerBatches(routing, dest, bags);
      const n = batches.reduce((s, b) => s + b.length, 0);
      const ns = await nsPerOpTurning(() => {
        for (const b of batches) dest.handler.handleMetrics(b);
      }, n);
      row(`handleMetrics: ${dest.adapter}`, ns, 'per instance');
    }
    // The cardinality guard's path: a Prometheus handler capped at one series, so nearly every
    // instance is a label set it has no room for and goes to its metric's overflow series.
    const capped = await buildPipeline({ prometheusMaxSeries: 1 });
    try {
      const cappedRouting = capped.active.routing;
      const dest = cappedRouting.all.find((d) => d.adapter === 'prometheus');
      if (dest === undefined) throw new Error('no prometheus handler in the bench config');
      const batches = handlerBatches(cappedRouting, dest, bags);
      const n = batches.reduce((s, b) => s + b.length, 0);
      const ns = nsPerOp(() => {
        for (const b of batches) dest.handler.handleMetrics(b);
      }, n);
      row('handleMetrics: prometheus, past max_series', ns, 'per instance');
    } finally {
      await capped.close();
    }

    // Here and wherever handlers receive instances, their flush tickers run between passes, as in
    // the server. Without them what the handlers hold grows for the whole measurement (StatsD
    // keeps every sample until it flushes), and in some processes the collector's share of this
    // row went from 3% to 13% and the row from 3.5 to 5.5-7 µs per set.
    const reportNs = await nsPerOpTurning(() => {
      for (const r of reports) p.report(r);
    }, sets);
    row('whole Report in-process (no transport)', reportNs);

    // circllhist: duration samples (ns, scale -9) into 1,000 series, as the Circonus handler does.
    const next = rng(7);
    const samples = Float64Array.from({ length: 100_000 }, () => Math.round(Math.exp(Math.log(8e6) + (next() - 0.5) * 4)));
    const hists = Array.from({ length: 1000 }, () => new Circllhist());
    const histNs = nsPerOp(() => {
      for (let i = 0; i < samples.length; i++) hists[i % 1000]!.insertIntScale(samples[i]!, -9);
    }, samples.length);
    row('circllhist insertIntScale', histNs, 'per sample');

    // matches(): the linear-time RE2 engine against V8's backtracking RegExp on the same patterns
    // (what Telemux ran before), on operator-style patterns and request-style subjects.
    const reRows = re2Comparison();
    row('matches(): RE2 lazy DFA', reRows.dfaNs, 'per subject');
    row('matches(): V8 RegExp, same patterns', reRows.v8Ns, 'per subject');
    console.log(`matches() on ^(a+)+$ and 24 a's then b: RE2 DFA ${reRows.hostileDfaUs.toFixed(0)} µs, V8 RegExp ${reRows.hostileV8Us.toFixed(0)} µs (doubles with each further a)`);

    // StatsD: one flush's encode + pack of 20,000 counters and 20,000 timer samples, the way the
    // handler's flush does it (its slices run the same steps).
    const agg = new StatsdAggregator();
    const fill = (): void => {
      for (let i = 0; i < 20_000; i++) {
        agg.addCount(`istio.requests.svc-${i % 400}.bookinfo.svc.cluster.local.${200 + (i % 5)}`, 1);
        agg.addTiming(`istio.latency.svc-${i % 400}.bookinfo.svc.cluster.local`, (i % 997) * 0.173);
      }
    };
    let lines = 0;
    // The handler packs each flush over the bytes of the last, once their sends are done.
    let arena: Buffer | undefined;
    const encodeNs = nsPerOp(() => {
      fill();
      const snapshot = agg.drain();
      const packer = new DatagramPacker(1400, snapshot.series + snapshot.timers.samples, arena);
      for (const _ of encodeUnitsInSteps(snapshot, 1, packer));
      const packed = packer.finish();
      lines = packed.lines;
      arena = packed.arena;
    }, 1);
    const fillNs = nsPerOp(() => {
      fill();
      agg.drain();
    }, 1);
    row('StatsD encode + pack (per line)', (encodeNs - fillNs) / Math.max(1, lines), 'per line');

    // What a handler's flush and a scrape hold the event loop for, once a mesh's worth of series
    // exist (10,000 label sets: 40,000 series per handler): the pauses Reports wait behind. Fresh
    // handlers without tickers, so nothing else runs meanwhile.
    // Closing the pipeline stops its tickers (after one last flush of everything the loops above
    // recorded, which must not count here); its decoder and routing table stay usable.
    await p.runtime.close();
    const exposition = new Exposition();
    const seeded = seedingReports(10_000).map((r) => Buffer.from(r));
    const pauses: string[] = [];
    for (const dest of routing.all) {
      const plan = p.snapshot.handlers.get(dest.name)!;
      const h = plan.adapter.createHandler(plan.config, plan.instances, { name: plan.name, logger: silentLogger, clock: Date, exposition, stats: { count: () => undefined } });
      await h.start();
      // Built and handled Report by Report: the decoder reuses its bags.
      for (const r of seeded) for (const batch of handlerBatches(routing, dest, decoder.decode(r).bags)) h.handleMetrics(batch);
      const series = h.liveSeries?.() ?? 0;
      const { ms, longest } = await longestBlock(() => h.flush(new AbortController().signal));
      pauses.push(`${dest.adapter}-flush=${longest.toFixed(0)}ms`);
      console.log(`${`flush: ${dest.adapter} (${String(series)} series)`.padEnd(40)} ${ms.toFixed(0).padStart(7)} ms, longest event-loop block ${longest.toFixed(1)} ms`);
      if (dest.adapter === 'circonus') {
        // The next interval, with the same streams: what a steady mesh's flushes cost.
        for (const r of seeded) for (const batch of handlerBatches(routing, dest, decoder.decode(r).bags)) h.handleMetrics(batch);
        const again = await longestBlock(() => h.flush(new AbortController().signal));
        console.log(`${`flush: ${dest.adapter}, next interval`.padEnd(40)} ${again.ms.toFixed(0).padStart(7)} ms, longest event-loop block ${again.longest.toFixed(1)} ms`);
      }
      if (dest.adapter === 'prometheus') {
        const scrape = await longestBlock(() => exposition.render('prometheus-text-0.0.4', () => undefined));
        pauses.push(`scrape=${scrape.longest.toFixed(0)}ms`);
        console.log(`${`/metrics render (${String(series)} series)`.padEnd(40)} ${scrape.ms.toFixed(0).padStart(7)} ms, longest event-loop block ${scrape.longest.toFixed(1)} ms`);
      }
      await h.close();
    }

    console.log(
      `summary: decode=${fmtNs(decodeNs)}/set (ts-proto ${fmtNs(tsprotoNs)}/set, ${(tsprotoNs / decodeNs).toFixed(1)}x) ` +
        `match=${fmtNs(matchNs)} build=${fmtNs(buildNs)}/instance dispatch=${fmtNs(dispatchNs)}/set ` +
        `report=${fmtNs(reportNs)}/set (${fmtRate(1e9 / reportNs)} sets) circllhist=${fmtNs(histNs)} statsd-line=${fmtNs((encodeNs - fillNs) / Math.max(1, lines))} longest-block ${pauses.join(' ')}`,
    );
  } finally {
    await p.close();
  }
}
