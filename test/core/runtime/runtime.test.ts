import { afterEach, describe, expect, it } from 'vitest';
import { compileConfig } from '../../../src/core/config/compile.js';
import { parseConfigText } from '../../../src/core/config/document.js';
import { ReportDecoder } from '../../../src/core/attributes/decode.js';
import { dispatchReport } from '../../../src/core/dispatch/dispatcher.js';
import { silentLogger, type Logger } from '../../../src/core/log.js';
import { Runtime } from '../../../src/core/runtime/runtime.js';
import { Exposition } from '../../../src/core/server/exposition.js';
import { SelfMetrics } from '../../../src/core/server/self-metrics.js';
import { buildReport, dur, encodeReport, int, str } from '../../../src/client/compressor.js';
import { recordingAdapter } from '../../support/recording-adapter.js';
import { prometheusAdapter } from '../../../src/adapters/prometheus/index.js';
import { statsdAdapter } from '../../../src/adapters/statsd/index.js';
import { startUdpReceiver } from '../../adapters/statsd/support/udp-receiver.js';

const MANIFEST = `
apiVersion: config.istio.io/v1alpha2
kind: attributemanifest
metadata: {name: attrs}
spec:
  attributes:
    request.path: {valueType: STRING}
    response.code: {valueType: INT64}
    context.reporter.kind: {valueType: STRING}
    destination.namespace: {valueType: STRING}
    source.namespace: {valueType: STRING}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: hits}
spec:
  compiledTemplate: metric
  params:
    value: "1"
    dimensions: {path: request.path | "none", code: response.code | 0}
`;

function handlerDoc(name: string, params: string, ns = 'istio-system'): string {
  return `---\napiVersion: config.istio.io/v1alpha2\nkind: handler\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n  compiledAdapter: recording\n  params: ${params}\n`;
}

function ruleDoc(name: string, handler: string, opts: { ns?: string; match?: string; instances?: string } = {}): string {
  return `---\napiVersion: config.istio.io/v1alpha2\nkind: rule\nmetadata: {name: ${name}, namespace: ${opts.ns ?? 'istio-system'}}\nspec:\n  match: ${JSON.stringify(opts.match ?? '')}\n  actions:\n  - handler: ${handler}\n    instances: [${opts.instances ?? 'hits.instance.istio-system'}]\n`;
}

function setup() {
  const { adapter, built } = recordingAdapter();
  const adapters = new Map([[adapter.name, adapter]]);
  const metrics = new SelfMetrics(() => []);
  const runtime = new Runtime({ logger: silentLogger, clock: Date, exposition: new Exposition(), metrics });
  const compile = (yaml: string) => {
    const { documents, issues } = parseConfigText(yaml, 'test.yaml');
    expect(issues).toEqual([]);
    const r = compileConfig(documents, { adapters });
    expect(r.issues.filter((i) => i.severity === 'error')).toEqual([]);
    return r.snapshot!;
  };
  const send = (sets: Parameters<typeof buildReport>[0]) => {
    const active = runtime.active!;
    const bags = new ReportDecoder(active.snapshot.manifest).decode(encodeReport(buildReport(sets))).bags;
    return dispatchReport(bags, active.routing, active.namespaces, { buildError: () => undefined, matchError: () => undefined, handlerDispatched: () => undefined });
  };
  return { runtime, built, compile, send };
}

describe('the runtime', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('reuses a handler whose configuration is unchanged and rebuilds a changed one, closing it after a final flush', async () => {
    const { runtime, built, compile, send } = setup();
    cleanup = () => runtime.close();
    const base = MANIFEST + handlerDoc('a', '{label: a}') + handlerDoc('b', '{label: b}') + ruleDoc('ra', 'a') + ruleDoc('rb', 'b');
    const first = await runtime.apply(compile(base));
    expect(first.created.sort()).toEqual(['a.handler.istio-system', 'b.handler.istio-system']);
    send([{ 'request.path': str('/x') }]);
    const [a1, b1] = built;
    expect(a1!.received).toHaveLength(1);

    const second = await runtime.apply(compile(base.replace('{label: b}', '{label: b2}')));
    expect(second).toMatchObject({ unchanged: ['a.handler.istio-system'], changed: ['b.handler.istio-system'], created: [], removed: [] });
    expect(built).toHaveLength(3);
    expect(b1!.flushes).toBe(1);
    expect(b1!.closed).toBe(1);
    expect(a1!.closed).toBe(0);
    send([{ 'request.path': str('/y') }]);
    expect(a1!.received).toHaveLength(2);
    expect(built[2]!.received).toHaveLength(1);

    const third = await runtime.apply(compile(MANIFEST + handlerDoc('a', '{label: a}') + ruleDoc('ra', 'a')));
    expect(third.removed).toEqual(['b.handler.istio-system']);
    expect(built[2]!.closed).toBe(1);
  });

  it('keeps the previous config when a new handler fails to start, and closes what it built', async () => {
    const { runtime, built, compile, send } = setup();
    cleanup = () => runtime.close();
    await runtime.apply(compile(MANIFEST + handlerDoc('a', '{label: a}') + ruleDoc('ra', 'a')));
    const before = runtime.active;
    await expect(runtime.apply(compile(MANIFEST + handlerDoc('a', '{label: a}') + handlerDoc('c', '{label: c}') + handlerDoc('d', '{label: d, failStart: true}') + ruleDoc('ra', 'a') + ruleDoc('rc', 'c') + ruleDoc('rd', 'd')))).rejects.toThrow(/handler 'd.handler.istio-system' \(adapter recording\) could not start: cannot bind/);
    expect(runtime.active).toBe(before);
    expect(built.find((h) => h.config.label === 'c')?.closed).toBe(1);
    send([{ 'request.path': str('/x') }]);
    expect(built[0]!.received).toHaveLength(1);
  });

  it('isolates a handler that throws: the others still get their batch and the error is reported', async () => {
    const { runtime, built, compile, send } = setup();
    cleanup = () => runtime.close();
    await runtime.apply(compile(MANIFEST + handlerDoc('bad', '{label: bad, throwOnHandle: true}') + handlerDoc('good', '{label: good}') + ruleDoc('r1', 'bad') + ruleDoc('r2', 'good')));
    const outcome = send([{ 'request.path': str('/x') }, { 'request.path': str('/y') }]);
    expect(outcome.errors).toEqual(["handler 'bad.handler.istio-system' failed: boom"]);
    expect(built.find((h) => h.config.label === 'good')!.received.map((i) => i.dimensions[0])).toEqual(['/x', '/y']);
  });

  it('applies default-namespace rules to all traffic and namespaced rules only to their identity namespace', async () => {
    const { runtime, built, compile, send } = setup();
    cleanup = () => runtime.close();
    await runtime.apply(compile(MANIFEST + handlerDoc('all', '{label: all}') + handlerDoc('shop', '{label: shop}', 'shop') + ruleDoc('r1', 'all') + ruleDoc('r2', 'shop', { ns: 'shop', instances: 'hits.instance.istio-system' })));
    send([
      { 'request.path': str('/in-shop'), 'destination.namespace': str('shop') },
      { 'request.path': str('/out-of-shop'), 'context.reporter.kind': str('outbound'), 'source.namespace': str('shop'), 'destination.namespace': str('other') },
      { 'request.path': str('/elsewhere'), 'destination.namespace': str('other') },
    ]);
    const by = (l: string) => built.find((h) => h.config.label === l)!.received.map((i) => i.dimensions[0]);
    expect(by('all')).toEqual(['/in-shop', '/out-of-shop', '/elsewhere']);
    expect(by('shop')).toEqual(['/in-shop', '/out-of-shop']);
  });

  it('scopes rules by the configured default namespace: its rules apply to all traffic, istio-system\'s then only to istio-system', async () => {
    const { adapter, built } = recordingAdapter();
    const runtime = new Runtime({ logger: silentLogger, clock: Date, exposition: new Exposition(), metrics: new SelfMetrics(() => []) });
    cleanup = () => runtime.close();
    // MANIFEST's resources have no namespace, so they land in the configured one.
    const yaml = MANIFEST + handlerDoc('all', '{label: all}', 'telemetry') + handlerDoc('is', '{label: is}') + ruleDoc('r1', 'all', { ns: 'telemetry', instances: 'hits' }) + ruleDoc('r2', 'is', { instances: 'hits.instance.telemetry' });
    const compiled = compileConfig(parseConfigText(yaml, 'test.yaml').documents, { adapters: new Map([[adapter.name, adapter]]), defaultNamespace: 'telemetry' });
    expect(compiled.issues).toEqual([]);
    await runtime.apply(compiled.snapshot!);
    const active = runtime.active!;
    const bags = new ReportDecoder(active.snapshot.manifest).decode(
      encodeReport(
        buildReport([
          { 'request.path': str('/istio-system'), 'destination.namespace': str('istio-system') },
          { 'request.path': str('/shop'), 'destination.namespace': str('shop') },
          // Neither inbound nor outbound: no identity namespace, so only the default namespace's rules.
          { 'request.path': str('/gateway'), 'context.reporter.kind': str('gateway'), 'destination.namespace': str('istio-system') },
        ]),
      ),
    ).bags;
    dispatchReport(bags, active.routing, active.namespaces, { buildError: () => undefined, matchError: () => undefined, handlerDispatched: () => undefined });
    const by = (l: string) => built.find((h) => h.config.label === l)!.received.map((i) => i.dimensions[0]);
    expect(by('all')).toEqual(['/istio-system', '/shop', '/gateway']);
    expect(by('is')).toEqual(['/istio-system']);
  });

  it('scopes rules by namespace when no attribute manifest declares the reporter kind or the namespaces, as Mixer read them from every Report', async () => {
    const { runtime, built, compile, send } = setup();
    cleanup = () => runtime.close();
    const bare = MANIFEST.replace(/ {4}context\.reporter\.kind.*\n {4}destination\.namespace.*\n {4}source\.namespace.*\n/, '');
    expect(bare).not.toContain('namespace: {valueType');
    await runtime.apply(compile(bare + handlerDoc('all', '{label: all}') + handlerDoc('shop', '{label: shop}', 'shop') + ruleDoc('r1', 'all') + ruleDoc('r2', 'shop', { ns: 'shop', instances: 'hits.instance.istio-system' })));
    send([
      { 'request.path': str('/in-shop'), 'destination.namespace': str('shop') },
      { 'request.path': str('/out-of-shop'), 'context.reporter.kind': str('outbound'), 'source.namespace': str('shop'), 'destination.namespace': str('other') },
      { 'request.path': str('/into-shop-from-outside'), 'context.reporter.kind': str('outbound'), 'source.namespace': str('other'), 'destination.namespace': str('shop') },
    ]);
    const by = (l: string) => built.find((h) => h.config.label === l)!.received.map((i) => i.dimensions[0]);
    expect(by('all')).toEqual(['/in-shop', '/out-of-shop', '/into-shop-from-outside']);
    expect(by('shop')).toEqual(['/in-shop', '/out-of-shop']);
  });

  it('skips an instance whose expression fails, counting the error, and still dispatches the rest', async () => {
    const { runtime, built, compile, send } = setup();
    cleanup = () => runtime.close();
    const strictInstance = `---\napiVersion: config.istio.io/v1alpha2\nkind: instance\nmetadata: {name: strict}\nspec:\n  compiledTemplate: metric\n  params:\n    value: response.code\n`;
    await runtime.apply(compile(MANIFEST + strictInstance + handlerDoc('a', '{label: a}') + ruleDoc('ra', 'a', { instances: 'hits, strict' })));
    const outcome = send([{ 'request.path': str('/x') }, { 'request.path': str('/y'), 'response.code': int(500) }]);
    expect(outcome.errors).toEqual(["attributes[0]: instance 'strict.instance.istio-system': lookup failed: 'response.code'"]);
    expect(built[0]!.received.map((i) => [i.spec.name, i.value])).toEqual([
      ['hits.instance.istio-system', 1],
      ['hits.instance.istio-system', 1],
      ['strict.instance.istio-system', 500],
    ]);
  });

  it('treats a rule condition that fails to evaluate as no match', async () => {
    const { runtime, built, compile, send } = setup();
    cleanup = () => runtime.close();
    await runtime.apply(compile(MANIFEST + handlerDoc('a', '{label: a}') + ruleDoc('ra', 'a', { match: 'response.code == 200' })));
    const outcome = send([{ 'request.path': str('/no-code') }, { 'request.path': str('/ok'), 'response.code': int(200) }]);
    expect(outcome.errors).toEqual([]);
    expect(built[0]!.received.map((i) => i.dimensions[0])).toEqual(['/ok']);
  });

  it('stops waiting for a handler that ignores its flush time box or never finishes closing, so shutdown ends', async () => {
    const { adapter, built } = recordingAdapter();
    const logged: string[] = [];
    const logger: Logger = { ...silentLogger, error: (msg: string) => void logged.push(msg), child: () => logger };
    const runtime = new Runtime({ logger, clock: Date, exposition: new Exposition(), metrics: new SelfMetrics(() => []), flushTimeoutMs: 20, closeTimeoutMs: 50 });
    const { documents } = parseConfigText(MANIFEST + handlerDoc('stuck', '{label: stuck, hangFlush: true}') + handlerDoc('sticky', '{label: sticky, hangClose: true}') + ruleDoc('r1', 'stuck') + ruleDoc('r2', 'sticky'), 'test.yaml');
    await runtime.apply(compileConfig(documents, { adapters: new Map([[adapter.name, adapter]]) }).snapshot!);
    const t0 = performance.now();
    await runtime.close();
    // The flush's 20 ms time box plus the ticker's 1 s grace; the close's 50 ms.
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(built.map((h) => h.closed)).toEqual([1, 1]);
    expect(logged).toEqual(expect.arrayContaining(['flush ignored its time box; no longer waiting for it', 'handler close did not finish; no longer waiting for it']));
  });

  it('flushes on the handler ticker without overlapping, time-boxed by the interval, and once more on close', async () => {
    const { runtime, built, compile } = setup();
    // Each flush would take 70 ms but is aborted after the 20 ms interval.
    await runtime.apply(compile(MANIFEST + handlerDoc('slow', '{label: slow, flushIntervalMs: 20, flushDelayMs: 70}') + ruleDoc('r', 'slow')));
    await new Promise((r) => setTimeout(r, 400));
    const h = built[0]!;
    expect(h.flushes).toBeGreaterThanOrEqual(5);
    expect(h.maxConcurrentFlushes).toBe(1);
    const before = h.flushes;
    await runtime.close();
    expect(h.flushes).toBeGreaterThan(before);
    expect(h.concurrentFlushes).toBe(0);
    const after = h.flushes;
    await new Promise((r) => setTimeout(r, 60));
    expect(h.flushes).toBe(after);
    expect(h.closed).toBe(1);
    await runtime.close();
    expect(h.closed).toBe(1);
  });
});

/** A runtime with the real prometheus adapter (and the recording one), scraped as the endpoint would be. */
function promSetup() {
  const { adapter } = recordingAdapter();
  const adapters = new Map<string, typeof adapter | typeof prometheusAdapter>([[adapter.name, adapter], [prometheusAdapter.name, prometheusAdapter]]);
  const exposition = new Exposition();
  const runtime = new Runtime({ logger: silentLogger, clock: Date, exposition, metrics: new SelfMetrics(() => []) });
  const compile = (yaml: string) => {
    const r = compileConfig(parseConfigText(yaml, 'test.yaml').documents, { adapters });
    expect(r.issues.filter((i) => i.severity === 'error')).toEqual([]);
    return r.snapshot!;
  };
  const send = (path: string) => {
    const active = runtime.active!;
    const bags = new ReportDecoder(active.snapshot.manifest).decode(encodeReport(buildReport([{ 'request.path': str(path), 'response.code': int(200) }]))).bags;
    dispatchReport(bags, active.routing, active.namespaces, { buildError: () => undefined, matchError: () => undefined, handlerDispatched: () => undefined });
  };
  const scrape = async (): Promise<string> => {
    let out = '';
    await exposition.render('prometheus-text-0.0.4', (c) => void (out += typeof c === 'string' ? c : Buffer.from(c).toString('utf8')));
    return out;
  };
  return { runtime, compile, send, scrape };
}

/** A prometheus handler exporting `metrics` (flow-style YAML MetricInfo entries). */
function promDoc(name: string, ...metrics: string[]): string {
  return `---\napiVersion: config.istio.io/v1alpha2\nkind: handler\nmetadata: {name: ${name}, namespace: istio-system}\nspec:\n  compiledAdapter: prometheus\n  params:\n    metrics: [${metrics.join(', ')}]\n`;
}

const HITS = (description = 'hits', labels = 'path, code') => `{name: hits_total, description: ${description}, instance_name: hits.instance.istio-system, kind: COUNTER, label_names: [${labels}]}`;

const PATHS = `
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: paths}
spec:
  compiledTemplate: metric
  params:
    value: "1"
    dimensions: {path: request.path | "none"}
`;
const PATHS_METRIC = `{name: paths_total, instance_name: paths.instance.istio-system, kind: COUNTER, label_names: [path]}`;

describe('prometheus handlers across reloads (one registry, as in Mixer)', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('keeps serving the previous prometheus handler on /metrics when a reload that would replace it fails', async () => {
    const { runtime, compile, send, scrape } = promSetup();
    cleanup = () => runtime.close();
    await runtime.apply(compile(MANIFEST + promDoc('prom', HITS('first')) + ruleDoc('rp', 'prom')));
    const active = runtime.active;
    send('/x');
    expect(await scrape()).toContain('istio_hits_total{code="200",path="/x"} 1');
    // The prometheus handler is rebuilt (its description changed), then another handler fails to start.
    await expect(runtime.apply(compile(MANIFEST + promDoc('prom', HITS('second')) + handlerDoc('d', '{label: d, failStart: true}') + ruleDoc('rp', 'prom') + ruleDoc('rd', 'd')))).rejects.toThrow(/could not start/);
    expect(runtime.active).toBe(active);
    expect(await scrape()).toContain('istio_hits_total{code="200",path="/x"} 1');
    send('/x');
    expect(await scrape()).toContain('istio_hits_total{code="200",path="/x"} 2');
  });

  it('keeps the series of the metrics a rebuilt handler did not redefine, and restarts the ones it did', async () => {
    const { runtime, compile, send, scrape } = promSetup();
    cleanup = () => runtime.close();
    await runtime.apply(compile(MANIFEST + PATHS + promDoc('prom', HITS()) + ruleDoc('rp', 'prom')));
    send('/a');
    send('/a');
    // A metric added to the handler rebuilds it; hits_total is defined as before.
    const added = await runtime.apply(compile(MANIFEST + PATHS + promDoc('prom', HITS(), PATHS_METRIC) + ruleDoc('rp', 'prom', { instances: 'hits.instance.istio-system, paths.instance.istio-system' })));
    expect(added.changed).toEqual(['prom.handler.istio-system']);
    expect(await scrape()).toContain('istio_hits_total{code="200",path="/a"} 2');
    send('/a');
    let text = await scrape();
    expect(text).toContain('istio_hits_total{code="200",path="/a"} 3');
    expect(text).toContain('istio_paths_total{path="/a"} 1');

    // An edited instance expression rebuilds it too; the metric definitions are unchanged.
    const edited = MANIFEST.replace('request.path | "none"', 'request.path | "unknown"');
    await runtime.apply(compile(edited + PATHS + promDoc('prom', HITS(), PATHS_METRIC) + ruleDoc('rp', 'prom', { instances: 'hits.instance.istio-system, paths.instance.istio-system' })));
    send('/a');
    text = await scrape();
    expect(text).toContain('istio_hits_total{code="200",path="/a"} 4');
    expect(text).toContain('istio_paths_total{path="/a"} 2');

    // A redefined metric (new help) is a new collector, as in Mixer: it starts from zero. The other keeps its series.
    await runtime.apply(compile(edited + PATHS + promDoc('prom', HITS('renamed'), PATHS_METRIC) + ruleDoc('rp', 'prom', { instances: 'hits.instance.istio-system, paths.instance.istio-system' })));
    text = await scrape();
    expect(text).not.toContain('istio_hits_total{');
    expect(text).toContain('istio_paths_total{path="/a"} 2');
    send('/a');
    text = await scrape();
    expect(text).toContain('# HELP istio_hits_total renamed');
    expect(text).toContain('istio_hits_total{code="200",path="/a"} 1');
    expect(text).toContain('istio_paths_total{path="/a"} 3');
  });

  it('adds up two handlers exporting the same metric, as Mixer\'s shared collector did', async () => {
    const { runtime, compile, send, scrape } = promSetup();
    cleanup = () => runtime.close();
    await runtime.apply(compile(MANIFEST + promDoc('prom-a', HITS()) + promDoc('prom-b', HITS()) + ruleDoc('ra', 'prom-a') + ruleDoc('rb', 'prom-b')));
    send('/a');
    const text = await scrape();
    expect(text).toContain('istio_hits_total{code="200",path="/a"} 2');
    expect(text.match(/^istio_hits_total\{/gm)).toHaveLength(1);
    // Without prom-b, prom-a still holds the series.
    await runtime.apply(compile(MANIFEST + promDoc('prom-a', HITS()) + ruleDoc('ra', 'prom-a')));
    send('/a');
    expect(await scrape()).toContain('istio_hits_total{code="200",path="/a"} 3');
  });

  it('drops the series of a handler that is removed', async () => {
    const { runtime, compile, send, scrape } = promSetup();
    cleanup = () => runtime.close();
    await runtime.apply(compile(MANIFEST + promDoc('prom', HITS()) + ruleDoc('rp', 'prom')));
    send('/a');
    await runtime.apply(compile(MANIFEST + handlerDoc('a', '{label: a}') + ruleDoc('ra', 'a')));
    expect(await scrape()).not.toContain('istio_hits_total');
    // Brought back, it starts from zero.
    await runtime.apply(compile(MANIFEST + promDoc('prom', HITS()) + ruleDoc('rp', 'prom')));
    send('/a');
    expect(await scrape()).toContain('istio_hits_total{code="200",path="/a"} 1');
  });
});

describe('a reload that changes only the attribute manifest', () => {
  it('rebuilds a handler whose instances now have other value types, so a StatsD timer of a value now typed DURATION is sent in milliseconds', async () => {
    const statsd = await startUdpReceiver();
    const runtime = new Runtime({ logger: silentLogger, clock: Date, exposition: new Exposition(), metrics: new SelfMetrics(() => []) });
    const adapters = new Map([[statsdAdapter.name, statsdAdapter]]);
    // The same instance, handler and rule each time; only the manifest's type of response.duration changes.
    const config = (type: string) =>
      compileConfig(
        parseConfigText(
          `apiVersion: config.istio.io/v1alpha2
kind: attributemanifest
metadata: {name: attrs}
spec:
  attributes:
    response.duration: {valueType: ${type}}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: latency}
spec:
  compiledTemplate: metric
  params: {value: response.duration}
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: statsd}
spec:
  compiledAdapter: statsd
  params:
    address: 127.0.0.1:${statsd.port}
    metrics:
      latency.instance.istio-system: {type: DISTRIBUTION, nameTemplate: latency}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: r}
spec:
  actions: [{handler: statsd, instances: [latency]}]
`,
          'test.yaml',
        ).documents,
        { adapters },
      ).snapshot!;
    try {
      await runtime.apply(config('INT64'));
      const summary = await runtime.apply(config('DURATION'));
      expect(summary).toMatchObject({ changed: ['statsd.handler.istio-system'], unchanged: [] });
      const active = runtime.active!;
      const bags = new ReportDecoder(active.snapshot.manifest).decode(encodeReport(buildReport([{ 'response.duration': dur(1_500_000_000) }]))).bags;
      expect(dispatchReport(bags, active.routing, active.namespaces, { buildError: () => undefined, matchError: () => undefined, handlerDispatched: () => undefined }).errors).toEqual([]);
      await runtime.close();
      await statsd.waitFor((d) => d.length > 0);
      expect(statsd.datagrams.map((d) => d.toString('utf8'))).toEqual(['latency:1500|ms']);
    } finally {
      await runtime.close();
      await statsd.close();
    }
  });
});
