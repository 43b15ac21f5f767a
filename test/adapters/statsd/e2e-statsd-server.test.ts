/**
 * End to end against the real Etsy StatsD server: instances in through the handler, real flushes
 * over UDP, and the server's own flushed counters, timers and gauges compared with what was sent.
 * (The gRPC-level variant, Reports in through the server, lives with the server's tests.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValueType, type MetricInstance } from '../../../src/core/adapter.js';
import { parseStatsdConfig, STATSD_EVENTS, StatsdHandler, type StatsdHandlerOptions } from '../../../src/adapters/statsd/index.js';
import { collectingReporter, instance, neverAborted, spec, testEnv } from './support/fixtures.js';
import { startStatsdServer, type StatsdServer } from './support/statsd-server.js';

const requests = spec('requestcount.instance.istio-system', ValueType.INT64, {
  destination_service: ValueType.STRING,
  response_code: ValueType.INT64,
  source_workload: ValueType.STRING,
});
const latency = spec('requestduration.instance.istio-system', ValueType.DURATION, {
  destination_service: ValueType.STRING,
});
const requestBytes = spec('requestsize.instance.istio-system', ValueType.INT64, { destination_service: ValueType.STRING });
const inflight = spec('inflight.instance.istio-system', ValueType.INT64, { destination_service: ValueType.STRING });
const instances = [requests, latency, requestBytes, inflight];

function handlerFor(server: StatsdServer, extra: Record<string, unknown> = {}, options: StatsdHandlerOptions = {}) {
  const report = collectingReporter();
  const config = parseStatsdConfig(
    {
      address: `127.0.0.1:${server.port}`,
      prefix: 'istio',
      metrics: {
        'requestcount.instance.istio-system': {
          type: 'COUNTER',
          name_template: 'requests.{{.destination_service}}.{{.source_workload}}.{{.response_code}}',
        },
        'requestduration.instance.istio-system': { type: 'DISTRIBUTION', name_template: 'latency.{{.destination_service}}' },
        'requestsize.instance.istio-system': { type: 'DISTRIBUTION', name_template: 'bytes.{{.destination_service}}' },
        'inflight.instance.istio-system': { type: 'GAUGE', name_template: 'inflight.{{.destination_service}}' },
      },
      ...extra,
    },
    instances,
    report,
  );
  expect(report.issues).toEqual([]);
  if (config === undefined) throw new Error('config rejected');
  const env = testEnv();
  return { env, handler: new StatsdHandler(config, instances, env, options) };
}

const services = ['reviews.default.svc.cluster.local', 'ratings.default.svc.cluster.local', 'details.default.svc.cluster.local'];
// A workload name carrying every character StatsD cannot take: it must arrive sanitised.
const workloads = ['productpage-v1', 'evil:wl|x@y\nz'];
const codes = [200, 404, 503];

describe('the statsd handler feeding a real StatsD server', () => {
  let server: StatsdServer;
  beforeAll(async () => {
    server = await startStatsdServer({ flushIntervalMs: 100 });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('delivers exact counter totals, every timer sample and the last gauge value', async () => {
    const { handler, env } = handlerFor(server);
    await handler.start();

    const wantCounters = new Map<string, number>();
    const wantTimers = new Map<string, number[]>();
    const wantGauges = new Map<string, number>();
    let instancesIn = 0;
    // Five flush intervals of traffic, as the core's ticker would drive them.
    for (let flush = 0; flush < 5; flush++) {
      for (let r = 0; r < 40; r++) {
        const batch: MetricInstance[] = [];
        for (let i = 0; i < 25; i++) {
          const n = flush * 1000 + r * 25 + i;
          const svc = services[n % services.length] as string;
          const wl = workloads[n % workloads.length] as string;
          const code = codes[n % 7 === 0 ? 2 : n % 5 === 0 ? 1 : 0] as number;
          const svcName = svc.replace(/\./g, '.');
          batch.push(instance(requests, 1, { destination_service: svc, source_workload: wl, response_code: code }));
          const counterKey = `istio.requests.${svcName}.${wl.replace(/[:|@\n]/g, '_')}.${code}`;
          wantCounters.set(counterKey, (wantCounters.get(counterKey) ?? 0) + 1);

          const ns = ((n % 977) + 1) * 250_000; // 0.25 ms .. 244.25 ms
          batch.push(instance(latency, ns, { destination_service: svc }));
          const tk = `istio.latency.${svcName}`;
          wantTimers.set(tk, [...(wantTimers.get(tk) ?? []), ns / 1e6]);

          const bytes = (n % 4096) * 3;
          batch.push(instance(requestBytes, bytes, { destination_service: svc }));
          const bk = `istio.bytes.${svcName}`;
          wantTimers.set(bk, [...(wantTimers.get(bk) ?? []), bytes]);

          batch.push(instance(inflight, n % 50, { destination_service: svc }));
          wantGauges.set(`istio.inflight.${svcName}`, n % 50);
          instancesIn += 4;
        }
        expect(handler.handleMetrics(batch)).toBeUndefined();
      }
      await handler.flush(neverAborted());
    }
    await handler.flush(neverAborted()); // the core's final flush before close
    await handler.close();

    const linesSent = env.events.get(STATSD_EVENTS.linesSent) ?? 0;
    const datagramsSent = env.events.get(STATSD_EVENTS.datagramsSent) ?? 0;
    expect(instancesIn).toBe(20_000);
    // Counters and gauges collapse to one line per series per flush; every timer sample is a line.
    const timerSamples = [...wantTimers.values()].reduce((a, s) => a + s.length, 0);
    expect(linesSent).toBeLessThan(instancesIn);
    expect(linesSent).toBeGreaterThanOrEqual(timerSamples);
    await server.waitFor((t) => t.metricsReceived >= linesSent);

    expect(server.totals.badLines).toBe(0);
    expect(server.totals.metricsReceived).toBe(linesSent);
    expect(server.totals.packetsReceived).toBe(datagramsSent);
    expect(Object.fromEntries(server.totals.counters)).toEqual(Object.fromEntries(wantCounters));
    const sorted = (m: Map<string, number[]>) => Object.fromEntries([...m].map(([k, v]) => [k, [...v].sort((a, b) => a - b)]));
    expect(sorted(server.totals.timers)).toEqual(sorted(wantTimers));
    for (const [k, v] of wantTimers) expect(server.totals.timerCounts.get(k)).toBe(v.length);
    expect(Object.fromEntries(server.totals.gauges)).toEqual(Object.fromEntries(wantGauges));
    // The sanitised workload is what the server stored; nothing raw got through.
    expect([...server.totals.counters.keys()].some((k) => k.includes('evil_wl_x_y_z'))).toBe(true);
  });

  it('scales sampled timer counts back to the true number of samples', async () => {
    let flip = 0;
    const { handler, env } = handlerFor(server, { samplingRate: 0.25 }, { random: () => (flip++ % 4) / 4 });
    await handler.start();
    server.totals.timerCounts.clear();
    server.totals.timers.clear();
    const before = server.totals.metricsReceived;
    const batch: MetricInstance[] = [];
    for (let i = 0; i < 4000; i++) batch.push(instance(latency, 5e6, { destination_service: 'sampled' }));
    handler.handleMetrics(batch);
    await handler.flush(neverAborted());
    await handler.close();
    const sent = env.events.get(STATSD_EVENTS.linesSent) ?? 0;
    expect(sent).toBe(1000);
    await server.waitFor((t) => t.metricsReceived - before >= sent);
    expect(server.totals.timers.get('istio.latency.sampled')).toHaveLength(1000);
    expect(server.totals.timerCounts.get('istio.latency.sampled')).toBe(4000);
  });

  it('sends a negative gauge so the server stores it, not a decrement', async () => {
    const { handler } = handlerFor(server);
    await handler.start();
    handler.handleMetrics([instance(inflight, 10, { destination_service: 'neg' })]);
    await handler.flush(neverAborted());
    await server.waitFor((t) => t.gauges.get('istio.inflight.neg') === 10);
    handler.handleMetrics([instance(inflight, -4, { destination_service: 'neg' })]);
    await handler.flush(neverAborted());
    await handler.close();
    await server.waitFor((t) => t.gauges.get('istio.inflight.neg') !== 10);
    expect(server.totals.gauges.get('istio.inflight.neg')).toBe(-4);
  });

  it('counts the lines the server receives, a negative gauge as its two, when it sends and when it closes', async () => {
    const { handler, env } = handlerFor(server);
    await handler.start();
    const before = server.totals.metricsReceived;
    const gauges = { 'neg-a': -3, 'pos-b': 7, 'neg-c': -0.5 };
    handler.handleMetrics(Object.entries(gauges).map(([svc, v]) => instance(inflight, v, { destination_service: svc })));
    // The core's final flush: nothing sent after it can confirm its datagrams.
    await handler.flush(neverAborted());
    await handler.close();
    const sent = env.events.get(STATSD_EVENTS.linesSent) ?? 0;
    await server.waitFor((t) => t.metricsReceived - before >= sent);
    const received = server.totals.metricsReceived - before;
    expect(received).toBe(5);
    expect(server.totals.badLines).toBe(0);
    expect(sent).toBe(received);
    expect(env.events.get(STATSD_EVENTS.linesUnconfirmedAtClose)).toBe(received);
    for (const [svc, v] of Object.entries(gauges)) expect(server.totals.gauges.get(`istio.inflight.${svc}`)).toBe(v);
  });
});
