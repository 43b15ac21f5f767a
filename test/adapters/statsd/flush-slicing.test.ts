import { describe, expect, it } from 'vitest';
import { ValueType, type MetricInstance } from '../../../src/core/adapter.js';
import {
  parseStatsdConfig,
  STATSD_EVENTS,
  StatsdHandler,
  type DatagramTransport,
  type StatsdHandlerOptions,
  type TransportFactory,
} from '../../../src/adapters/statsd/index.js';
import { collectingReporter, instance, memoryTransports, neverAborted, spec, testEnv } from './support/fixtures.js';

const requests = spec('requestcount.instance.istio-system', ValueType.INT64, { svc: ValueType.STRING, code: ValueType.INT64 });
const latency = spec('requestduration.instance.istio-system', ValueType.DURATION, { svc: ValueType.STRING, code: ValueType.INT64 });
const load = spec('load.instance.istio-system', ValueType.DOUBLE, { svc: ValueType.STRING, code: ValueType.INT64 });
const all = [requests, latency, load];

function handlerWith(options: StatsdHandlerOptions, overrides: Record<string, unknown> = {}) {
  const report = collectingReporter();
  const config = parseStatsdConfig(
    {
      address: '127.0.0.1:8125',
      prefix: 'mesh',
      flushBytes: 200,
      maxSeries: 100_000,
      maxSeriesPerMetric: 100_000,
      metrics: {
        [requests.name]: { type: 'COUNTER', nameTemplate: 'requests.{{.svc}}.{{.code}}' },
        [latency.name]: { type: 'DISTRIBUTION', nameTemplate: 'latency.{{.svc}}' },
        [load.name]: { type: 'GAUGE', nameTemplate: 'load.{{.svc}}' },
      },
      ...overrides,
    },
    all,
    report,
  );
  expect(report.issues).toEqual([]);
  if (config === undefined) throw new Error('config rejected');
  const env = testEnv();
  const transports = memoryTransports();
  const handler = new StatsdHandler(config, all, env, { transport: transports.factory, ...options });
  return { handler, env, transports };
}

/** One attribute set: its three instances share one dimensions array, as the core builds them. */
function set(svc: string, code: number, i: number): MetricInstance[] {
  const dimensions = [svc, code];
  return [
    { ...instance(requests, 1, { svc, code }), dimensions },
    { ...instance(latency, ((i % 97) + 0.25) * 1e6, { svc, code }), dimensions },
    // Negative gauges are two lines that must stay together.
    { ...instance(load, i % 3 === 0 ? -i : i / 8, { svc, code }), dimensions },
  ];
}

function record(handler: StatsdHandler, sets: number, services: number): void {
  for (let i = 0; i < sets; i++) handler.handleMetrics(set(`svc-${i % services}.ns-ü.svc`, i % 7 === 0 ? 503 : 200, i));
}

describe('a flush of many series', () => {
  it('paces itself from the cost of the last flush, leaving the event loop free most of the time, and still sends every line', async () => {
    const { handler, transports } = handlerWith({}, { flushDuration: '2s' });
    await handler.start();
    /** Lines sent, wall time, and the share of it the event loop was busy. */
    const timeFlush = async (): Promise<{ ms: number; busy: number; lines: number }> => {
      transports.datagrams.length = 0;
      record(handler, 20_000, 500);
      const t0 = performance.now();
      const elu0 = performance.eventLoopUtilization();
      await handler.flush(neverAborted());
      return { ms: performance.now() - t0, busy: performance.eventLoopUtilization(elu0).utilization, lines: transports.lines().length };
    };
    // The first flush has no cost to go by and runs as fast as the event loop lets it.
    const first = await timeFlush();
    const second = await timeFlush();
    // 500 counters, up to 500 gauges (a third of them two lines), 20,000 timer samples.
    expect(first.lines).toBeGreaterThan(20_500);
    expect(second.lines).toBe(first.lines);
    // Paced to finish within half its 2 s interval (at most 1 s): the loop is left idle between
    // slices (the share of time, not the wall time, so that a busy machine does not blur it).
    expect(first.busy).toBeGreaterThan(0.8);
    expect(second.busy).toBeLessThan(0.6);
    expect(second.ms).toBeLessThan(2_000);
  });

  it('stops pacing once its spread is up, so a flush with far more work than the last stays within its interval', async () => {
    const { handler, transports } = handlerWith({}, { flushDuration: '1s' });
    await handler.start();
    record(handler, 2_000, 50);
    await handler.flush(neverAborted());
    transports.datagrams.length = 0;
    // Twenty times the work: paced at the last flush's share it would take seconds.
    record(handler, 40_000, 500);
    const t0 = performance.now();
    await handler.flush(neverAborted());
    const ms = performance.now() - t0;
    expect(transports.lines().length).toBeGreaterThan(40_500);
    expect(ms).toBeLessThan(1_000);
  });

  it('lets a timer run while it encodes, before its first datagram goes out', async () => {
    const { handler, env, transports } = handlerWith({ flushSliceMs: 0 });
    await handler.start();
    record(handler, 3000, 1000);
    let ticksBeforeFirstSend = 0;
    const timer = setInterval(() => {
      if (transports.datagrams.length === 0) ticksBeforeFirstSend++;
    }, 0);
    await handler.flush(neverAborted());
    clearInterval(timer);
    expect(ticksBeforeFirstSend).toBeGreaterThan(0);
    expect(transports.lines().length).toBeGreaterThan(4000);
    expect(env.events.get(STATSD_EVENTS.linesSent)).toBe(transports.lines().length);
    expect(handler.liveSeries()).toBe(0);
  });

  it('sends exactly the datagrams an unsliced flush sends', async () => {
    const sliced = handlerWith({ flushSliceMs: 0 });
    const whole = handlerWith({ flushSliceMs: 1e9 });
    for (const h of [sliced, whole]) {
      await h.handler.start();
      for (let round = 0; round < 3; round++) {
        record(h.handler, 2500, 400 + round * 50);
        await h.handler.flush(neverAborted());
      }
    }
    expect(sliced.transports.datagrams.length).toBeGreaterThan(100);
    expect(sliced.transports.datagrams).toEqual(whole.transports.datagrams);
    expect(sliced.env.events).toEqual(whole.env.events);
  });

  it('sends the lines a plain model of the aggregation expects, in first-seen order', async () => {
    const { handler, transports } = handlerWith({ flushSliceMs: 0 });
    await handler.start();
    const counters = new Map<string, number>();
    const gauges = new Map<string, number>();
    const timers = new Map<string, number[]>();
    for (let i = 0; i < 2000; i++) {
      const svc = `svc-${(i * 7) % 300}`;
      const code = i % 5 === 0 ? 404 : 200;
      handler.handleMetrics(set(svc, code, i));
      const c = `mesh.requests.${svc}.${code}`;
      counters.set(c, (counters.get(c) ?? 0) + 1);
      const t = `mesh.latency.${svc}`;
      timers.set(t, [...(timers.get(t) ?? []), (i % 97) + 0.25]);
      gauges.set(`mesh.load.${svc}`, i % 3 === 0 ? -i : i / 8);
    }
    await handler.flush(neverAborted());
    const want = [
      ...[...counters].map(([n, v]) => `${n}:${v}|c`),
      ...[...gauges].flatMap(([n, v]) => (v < 0 ? [`${n}:0|g`, `${n}:${v}|g`] : [`${n}:${v}|g`])),
      ...[...timers].flatMap(([n, vs]) => vs.map((v) => `${n}:${v}|ms`)),
    ];
    expect(transports.lines()).toEqual(want);
    for (const d of transports.datagrams) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(200);
  });

  it('keeps what is recorded while it yields for the next flush', async () => {
    const { handler, transports } = handlerWith({ flushSliceMs: 0 });
    await handler.start();
    record(handler, 2000, 500);
    const flushing = handler.flush(neverAborted());
    // The flush has yielded (it encodes in slices): these belong to the next one.
    await new Promise((r) => setImmediate(r));
    handler.handleMetrics(set('late', 200, 1));
    await flushing;
    expect(transports.lines().some((l) => l.startsWith('mesh.requests.late.'))).toBe(false);
    transports.datagrams.length = 0;
    await handler.flush(neverAborted());
    expect(transports.lines()).toEqual(['mesh.requests.late.200:1|c', 'mesh.load.late:0.125|g', 'mesh.latency.late:1.25|ms']);
  });

  it('stops when the core aborts it mid-encoding, keeps every line, and sends each once later', async () => {
    const { handler, transports, env } = handlerWith({ flushSliceMs: 0 });
    const reference = handlerWith({});
    for (const h of [handler, reference.handler]) {
      await h.start();
      record(h, 2000, 500);
    }
    const ac = new AbortController();
    const flushing = handler.flush(ac.signal);
    ac.abort();
    await flushing;
    expect(transports.datagrams).toEqual([]);
    expect(env.events.get(STATSD_EVENTS.linesRequeued)).toBeGreaterThan(2000);
    await handler.flush(neverAborted());
    await reference.handler.flush(neverAborted());
    expect(transports.datagrams).toEqual(reference.transports.datagrams);
    expect(env.events.get(STATSD_EVENTS.linesSent)).toBe(reference.env.events.get(STATSD_EVENTS.linesSent));
  });

  it('counts what it held as dropped when the handler closes under it', async () => {
    const { handler, env } = handlerWith({ flushSliceMs: 0 });
    await handler.start();
    record(handler, 2000, 500);
    const flushing = handler.flush(neverAborted());
    await handler.close();
    await flushing;
    expect(env.events.get(STATSD_EVENTS.linesDroppedClosed)).toBeGreaterThan(2000);
    expect(env.events.get(STATSD_EVENTS.linesSent)).toBeUndefined();
  });

  it('yields between sends when the socket completes them without waiting', async () => {
    const sent: string[] = [];
    // Like a UDP socket whose sends succeed at once: each completion arrives on the next tick,
    // before any timer or I/O could run.
    const eager: TransportFactory = (): DatagramTransport => ({
      send(payload, done) {
        sent.push(Buffer.from(payload).toString('utf8'));
        process.nextTick(done, undefined);
      },
      close: async () => undefined,
    });
    const { handler, env } = handlerWith({ flushSliceMs: 0, transport: eager });
    await handler.start();
    record(handler, 2000, 1000);
    let ticks = 0;
    let sending = false;
    const timer = setInterval(() => {
      if (sending && sent.length > 0) ticks++;
    }, 0);
    sending = true;
    await handler.flush(neverAborted());
    sending = false;
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    expect(env.events.get(STATSD_EVENTS.datagramsSent)).toBe(sent.length);
  });
});
