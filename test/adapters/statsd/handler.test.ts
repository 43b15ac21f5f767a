import { describe, expect, it } from 'vitest';
import { ValueType, type InstanceSpec } from '../../../src/core/adapter.js';
import {
  parseStatsdConfig,
  STATSD_EVENTS,
  StatsdHandler,
  type LookupFn,
  type StatsdConfig,
  type StatsdHandlerOptions,
} from '../../../src/adapters/statsd/index.js';
import { collectingReporter, instance, memoryTransports, neverAborted, spec, testEnv, type TestEnv } from './support/fixtures.js';
import type { DatagramTransport } from '../../../src/adapters/statsd/index.js';

const requests = spec('requestcount.instance.istio-system', ValueType.INT64, {
  destination_service: ValueType.STRING,
  response_code: ValueType.INT64,
});
const duration = spec('requestduration.instance.istio-system', ValueType.DURATION, { destination_service: ValueType.STRING });
const size = spec('requestsize.instance.istio-system', ValueType.INT64, { destination_service: ValueType.STRING });
const connections = spec('connections.instance.istio-system', ValueType.INT64, { destination_service: ValueType.STRING });
const all = [requests, duration, size, connections];

const params = {
  address: '127.0.0.1:8125',
  prefix: 'mesh',
  metrics: {
    'requestcount.instance.istio-system': {
      type: 'COUNTER',
      name_template: 'requests.{{.destination_service}}.{{.response_code}}',
    },
    'requestduration.instance.istio-system': { type: 'DISTRIBUTION', name_template: 'latency.{{.destination_service}}' },
    'requestsize.instance.istio-system': { type: 'DISTRIBUTION', name_template: 'bytes.{{.destination_service}}' },
    'connections.instance.istio-system': { type: 'GAUGE', name_template: 'conns.{{.destination_service}}' },
  },
};

function config(overrides: Record<string, unknown> = {}, instances: readonly InstanceSpec[] = all): StatsdConfig {
  const report = collectingReporter();
  const c = parseStatsdConfig({ ...params, ...overrides }, instances, report);
  expect(report.issues).toEqual([]);
  // Tests binding fewer instances than params list get warnings for the rest; that is expected.
  if (c === undefined) throw new Error('config rejected');
  return c;
}

function setup(overrides: Record<string, unknown> = {}, options: StatsdHandlerOptions = {}, instances = all) {
  const env = testEnv();
  const transports = memoryTransports();
  const handler = new StatsdHandler(config(overrides, instances), instances, env, { transport: transports.factory, ...options });
  return { env, transports, handler };
}

function event(env: TestEnv, name: string): number {
  return env.events.get(name) ?? 0;
}

describe('the statsd handler', () => {
  it('flushes on the interval given by flushDuration', () => {
    expect(setup({ flushDuration: '2s' }).handler.flushIntervalMs).toBe(2000);
  });

  it('sends one line per counter series per flush, summing the increments', async () => {
    const { handler, transports, env } = setup();
    await handler.start();
    for (let i = 0; i < 1000; i++) {
      handler.handleMetrics([
        instance(requests, 1, { destination_service: 'reviews', response_code: 200 }),
        instance(requests, 1, { destination_service: 'reviews', response_code: i % 10 === 0 ? 503 : 200 }),
      ]);
    }
    expect(handler.liveSeries()).toBe(2);
    await handler.flush(neverAborted());
    expect(transports.lines()).toEqual(['mesh.requests.reviews.200:1900|c', 'mesh.requests.reviews.503:100|c']);
    expect(transports.datagrams).toHaveLength(1);
    expect(event(env, STATSD_EVENTS.linesSent)).toBe(2);
    expect(event(env, STATSD_EVENTS.datagramsSent)).toBe(1);
    expect(handler.liveSeries()).toBe(0);
  });

  it('saturates a DOUBLE counter whose sum passes the largest double, instead of sending +Inf, which servers reject', async () => {
    const bytes = spec('bytesum.instance.istio-system', ValueType.DOUBLE, { destination_service: ValueType.STRING });
    const { handler, transports } = setup({ metrics: { [bytes.name]: { type: 'COUNTER' } } }, {}, [bytes]);
    await handler.start();
    handler.handleMetrics([instance(bytes, 1.7e308, { destination_service: 'a' }), instance(bytes, 1.7e308, { destination_service: 'a' })]);
    await handler.flush(neverAborted());
    const [line] = transports.lines();
    expect(line).toMatch(/^mesh\.bytesum\.instance\.istio-system:17976931348623157\d{292}\|c$/);
    expect(Number(line?.slice(line.indexOf(':') + 1, -2))).toBe(Number.MAX_VALUE);
  });

  it('sends the last gauge value, and a negative one as reset plus delta in the same datagram', async () => {
    const { handler, transports } = setup();
    await handler.start();
    handler.handleMetrics([
      instance(connections, 5, { destination_service: 'a' }),
      instance(connections, 8, { destination_service: 'a' }),
      instance(connections, -3, { destination_service: 'b' }),
    ]);
    await handler.flush(neverAborted());
    expect(transports.datagrams).toEqual(['mesh.conns.a:8|g\nmesh.conns.b:0|g\nmesh.conns.b:-3|g']);
  });

  it('sends every duration sample as a timer in milliseconds', async () => {
    const { handler, transports } = setup();
    await handler.start();
    handler.handleMetrics([
      instance(duration, 12_500_000, { destination_service: 'reviews' }),
      instance(duration, 1_000, { destination_service: 'reviews' }),
      instance(duration, 2_000_000_000, { destination_service: 'reviews' }),
    ]);
    await handler.flush(neverAborted());
    expect(transports.lines()).toEqual(['mesh.latency.reviews:12.5|ms', 'mesh.latency.reviews:0.001|ms', 'mesh.latency.reviews:2000|ms']);
  });

  it('sends an integer DISTRIBUTION as timer samples, not as the counter Mixer made of it', async () => {
    const { handler, transports } = setup();
    await handler.start();
    handler.handleMetrics([instance(size, 512, { destination_service: 'r' }), instance(size, 2048, { destination_service: 'r' })]);
    await handler.flush(neverAborted());
    expect(transports.lines()).toEqual(['mesh.bytes.r:512|ms', 'mesh.bytes.r:2048|ms']);
  });

  it('keeps timer samples with probability samplingRate and marks them with |@rate; counters stay exact', async () => {
    const draws = [0.1, 0.9, 0.3, 0.7];
    let i = 0;
    const { handler, transports, env } = setup({ samplingRate: 0.5 }, { random: () => draws[i++ % draws.length] as number });
    await handler.start();
    for (let k = 0; k < 4; k++) {
      handler.handleMetrics([
        instance(duration, (k + 1) * 1e6, { destination_service: 's' }),
        instance(requests, 1, { destination_service: 's', response_code: 200 }),
      ]);
    }
    await handler.flush(neverAborted());
    expect(transports.lines()).toEqual(['mesh.requests.s.200:4|c', 'mesh.latency.s:1|ms|@0.5', 'mesh.latency.s:3|ms|@0.5']);
    expect(event(env, STATSD_EVENTS.instancesSampledOut)).toBe(2);
  });

  it('puts instances that arrive during a flush into the next flush', async () => {
    const { handler, transports } = setup();
    await handler.start();
    handler.handleMetrics([instance(requests, 1, { destination_service: 'a', response_code: 200 })]);
    const flushing = handler.flush(neverAborted());
    handler.handleMetrics([instance(requests, 5, { destination_service: 'a', response_code: 200 })]);
    await flushing;
    await handler.flush(neverAborted());
    expect(transports.datagrams).toEqual(['mesh.requests.a.200:1|c', 'mesh.requests.a.200:5|c']);
  });

  it('sends only what each interval recorded, flush after flush, though it records into the tables of two flushes before', async () => {
    const { handler, transports } = setup();
    await handler.start();
    const flushed = async (): Promise<string[]> => {
      const before = transports.datagrams.length;
      await handler.flush(neverAborted());
      return transports.datagrams.slice(before);
    };
    handler.handleMetrics([
      instance(requests, 3, { destination_service: 'reviews', response_code: 200 }),
      instance(duration, 10_000_000, { destination_service: 'reviews' }),
      instance(duration, 20_000_000, { destination_service: 'reviews' }),
      instance(connections, 5, { destination_service: 'reviews' }),
    ]);
    expect(await flushed()).toEqual(['mesh.requests.reviews.200:3|c\nmesh.conns.reviews:5|g\nmesh.latency.reviews:10|ms\nmesh.latency.reviews:20|ms']);
    handler.handleMetrics([
      instance(requests, 1, { destination_service: 'ratings', response_code: 200 }),
      instance(duration, 7_000_000, { destination_service: 'ratings' }),
    ]);
    expect(await flushed()).toEqual(['mesh.requests.ratings.200:1|c\nmesh.latency.ratings:7|ms']);
    // Fewer series and samples than the first interval left in these tables.
    handler.handleMetrics([instance(duration, 30_000_000, { destination_service: 'reviews' }), instance(requests, 2, { destination_service: 'reviews', response_code: 503 })]);
    expect(await flushed()).toEqual(['mesh.requests.reviews.503:2|c\nmesh.latency.reviews:30|ms']);
    expect(await flushed()).toEqual([]);
    handler.handleMetrics([instance(requests, 4, { destination_service: 'reviews', response_code: 200 })]);
    expect(await flushed()).toEqual(['mesh.requests.reviews.200:4|c']);
  });

  it('sends nothing when nothing was recorded', async () => {
    const { handler, transports } = setup();
    await handler.start();
    await handler.flush(neverAborted());
    expect(transports.datagrams).toEqual([]);
  });

  it('reports, counts and drops instances it cannot send, keeping the rest of the batch', async () => {
    const unbound = spec('other.instance.default', ValueType.INT64);
    const { handler, transports, env } = setup({}, {}, [...all, unbound]);
    await handler.start();
    const result = handler.handleMetrics([
      instance(unbound, 1),
      instance(duration, -5, { destination_service: 'a' }),
      instance(requests, Number.NaN, { destination_service: 'a', response_code: 200 }),
      instance(requests, 2, { destination_service: '', response_code: 200 }),
      instance(connections, 1, { destination_service: '' }),
    ]);
    expect(result).toEqual({ failed: 3, message: 'no statsd metric is configured for instance other.instance.default' });
    expect(event(env, STATSD_EVENTS.instancesUnconfigured)).toBe(1);
    expect(event(env, STATSD_EVENTS.instancesInvalidValue)).toBe(2);
    await handler.flush(neverAborted());
    // An empty dimension still leaves the literal text, so these are sendable.
    expect(transports.lines()).toEqual(['mesh.requests..200:2|c', 'mesh.conns.:1|g']);
  });

  it('drops an instance whose name renders empty', () => {
    const bare = spec('bare.instance.default', ValueType.INT64, { svc: ValueType.STRING });
    const { handler, env } = setup({ metrics: { 'bare.instance.default': { type: 'COUNTER', nameTemplate: '{{.svc}}' } } }, {}, [bare]);
    expect(handler.handleMetrics([instance(bare, 1, { svc: '' })])).toMatchObject({ failed: 1 });
    expect(event(env, STATSD_EVENTS.instancesEmptyName)).toBe(1);
  });

  it('does no I/O on the report path', () => {
    const { handler, transports } = setup();
    handler.handleMetrics([instance(requests, 1, { destination_service: 'a', response_code: 200 })]);
    expect(transports.created).toEqual([]);
  });

  it('packs lines into datagrams no larger than flushBytes', async () => {
    const { handler, transports } = setup({ flushBytes: 100 });
    await handler.start();
    for (let i = 0; i < 50; i++) handler.handleMetrics([instance(requests, 1, { destination_service: `svc${i}`, response_code: 200 })]);
    await handler.flush(neverAborted());
    expect(transports.datagrams.length).toBeGreaterThan(1);
    for (const d of transports.datagrams) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(100);
    expect(transports.lines()).toHaveLength(50);
  });

  it('sends a line longer than flushBytes alone in its own datagram, as Mixer did, and counts it', async () => {
    const { handler, transports, env } = setup({ flushBytes: 40 });
    await handler.start();
    const long = `mesh.requests.${'x'.repeat(40)}.200:1|c`;
    handler.handleMetrics([
      instance(requests, 1, { destination_service: 'x'.repeat(40), response_code: 200 }),
      instance(requests, 1, { destination_service: 'y', response_code: 200 }),
      instance(requests, 1, { destination_service: 'z', response_code: 200 }),
    ]);
    await handler.flush(neverAborted());
    expect(transports.lines().sort()).toEqual([long, 'mesh.requests.y.200:1|c', 'mesh.requests.z.200:1|c']);
    expect(transports.datagrams).toContain(long);
    for (const d of transports.datagrams) if (d !== long) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(40);
    expect(event(env, STATSD_EVENTS.linesSentAlone)).toBe(1);
    expect(event(env, STATSD_EVENTS.linesDroppedOversized)).toBe(0);
  });

  it('keeps what a failed send could not deliver and sends it, merged, once sends work again', async () => {
    const { handler, transports, env } = setup({ flushBytes: 64 });
    await handler.start();
    transports.fail = Object.assign(new Error('send ENETUNREACH'), { code: 'ENETUNREACH' });
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10; i++) handler.handleMetrics([instance(requests, 1, { destination_service: `s${i}`, response_code: 200 })]);
      handler.handleMetrics([instance(connections, round, { destination_service: 'c' }), instance(duration, (round + 1) * 1e6, { destination_service: 't' })]);
      await handler.flush(neverAborted());
      env.advance(300);
    }
    expect(event(env, STATSD_EVENTS.sendErrors)).toBeGreaterThanOrEqual(5);
    expect(event(env, STATSD_EVENTS.linesDroppedPendingLimit)).toBe(0);
    // Ten counter series, one gauge and five timer samples wait, however many flushes failed.
    expect(handler.liveSeries()).toBe(12);
    const warnings = env.logger.lines.filter((l) => l.msg === 'statsd send failed; lines kept for the next flush');
    // Five failing flushes within 1.5 s: one log line, the rest counted as suppressed.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields?.error).toBe('send ENETUNREACH');
    env.advance(10_000);
    transports.fail = undefined;
    handler.handleMetrics([instance(requests, 1, { destination_service: 's0', response_code: 200 }), instance(connections, 9, { destination_service: 'c' })]);
    await handler.flush(neverAborted());
    // Counters add up, the newest gauge wins, every timer sample is there, in order.
    expect(transports.lines().sort()).toEqual(
      [
        'mesh.requests.s0.200:6|c',
        ...Array.from({ length: 9 }, (_, i) => `mesh.requests.s${i + 1}.200:5|c`),
        'mesh.conns.c:9|g',
        ...[1, 2, 3, 4, 5].map((ms) => `mesh.latency.t:${ms}|ms`),
      ].sort(),
    );
    expect(env.logger.lines.some((l) => l.msg === 'statsd sends recovered')).toBe(true);
    await handler.flush(neverAborted());
    expect(handler.liveSeries()).toBe(0);
  });

  it('keeps at most max_pending_lines, dropping the newest timer samples first, and counts the rest', async () => {
    const { handler, transports, env } = setup({ maxPendingLines: 6 });
    await handler.start();
    transports.fail = new Error('send ECONNREFUSED');
    handler.handleMetrics([
      instance(requests, 2, { destination_service: 'a', response_code: 200 }),
      instance(connections, 3, { destination_service: 'a' }),
      ...[1, 2, 3, 4, 5, 6].map((ms) => instance(duration, ms * 1e6, { destination_service: 'a' })),
    ]);
    await handler.flush(neverAborted());
    expect(event(env, STATSD_EVENTS.linesDroppedPendingLimit)).toBe(2);
    transports.fail = undefined;
    await handler.flush(neverAborted());
    expect(transports.lines()).toEqual(['mesh.requests.a.200:2|c', 'mesh.conns.a:3|g', ...[1, 2, 3, 4].map((ms) => `mesh.latency.a:${ms}|ms`)]);
  });

  it('counts a negative gauge it keeps, or drops over max_pending_lines, as the two lines it is on the wire', async () => {
    const { handler, transports, env } = setup({ maxPendingLines: 3 });
    await handler.start();
    transports.fail = new Error('send ECONNREFUSED');
    handler.handleMetrics([
      instance(connections, -5, { destination_service: 'a' }),
      instance(connections, -6, { destination_service: 'b' }),
      instance(connections, 4, { destination_service: 'c' }),
    ]);
    await handler.flush(neverAborted());
    const warning = env.logger.lines.find((l) => l.msg === 'statsd send failed; lines kept for the next flush');
    expect(warning?.fields?.lines).toBe(5);
    expect(event(env, STATSD_EVENTS.linesRequeued)).toBe(5);
    // Room for a's pair and one more line: b's pair is not split, and c, newer, goes with it.
    expect(event(env, STATSD_EVENTS.linesDroppedPendingLimit)).toBe(3);
    transports.fail = undefined;
    await handler.flush(neverAborted());
    expect(transports.lines()).toEqual(['mesh.conns.a:0|g', 'mesh.conns.a:-5|g']);
    expect(event(env, STATSD_EVENTS.linesSent)).toBe(2);
  });

  it('drops what it cannot send at once when max_pending_lines is 0, as Mixer did', async () => {
    const { handler, transports, env } = setup({ maxPendingLines: 0 });
    await handler.start();
    transports.fail = new Error('send ECONNREFUSED');
    handler.handleMetrics([instance(requests, 2, { destination_service: 'a', response_code: 200 })]);
    await handler.flush(neverAborted());
    expect(event(env, STATSD_EVENTS.linesDroppedPendingLimit)).toBe(1);
    expect(handler.liveSeries()).toBe(0);
  });

  it('reads a refusal reported on a later send as the loss of what went before, and resends exactly that', async () => {
    // A connected UDP socket sending to a closed port: each sent datagram is lost, and its ICMP
    // refusal fails the next send (which does not leave either), as Linux does on loopback.
    const received: string[] = [];
    let serverUp = false;
    let refusalPending = false;
    const factory = (): DatagramTransport => ({
      send(payload, done) {
        if (refusalPending) {
          refusalPending = false;
          setImmediate(() => done(Object.assign(new Error('send ECONNREFUSED'), { code: 'ECONNREFUSED' })));
          return;
        }
        if (serverUp) received.push(Buffer.from(payload).toString('utf8'));
        else refusalPending = true;
        setImmediate(() => done(undefined));
      },
      close: async () => undefined,
    });
    const env = testEnv();
    const handler = new StatsdHandler(config({ flushBytes: 40 }), all, env, { transport: factory });
    await handler.start();
    const want = new Map<string, number>();
    const record = (svc: string): void => {
      handler.handleMetrics([instance(requests, 1, { destination_service: svc, response_code: 200 })]);
      const k = `mesh.requests.${svc}.200`;
      want.set(k, (want.get(k) ?? 0) + 1);
    };
    serverUp = true;
    for (let f = 0; f < 12; f++) {
      // Down for flushes 3–7: one-datagram and many-datagram flushes on both edges.
      if (f === 3) serverUp = false;
      if (f === 8) serverUp = true;
      // Names recur every few flushes (so carried counts merge) and datagram counts vary (odd
      // counts leave a refusal pending for the next flush to find).
      const series = f % 2 === 0 ? 1 : 4;
      for (let i = 0; i < series; i++) record(`f${f % 5}s${i}`);
      await handler.flush(neverAborted());
    }
    await handler.flush(neverAborted());
    const got = new Map<string, number>();
    for (const line of received.flatMap((d) => d.split('\n'))) {
      const m = /^(.*):(\d+)\|c$/.exec(line);
      if (m === null) throw new Error(`unexpected line ${line}`);
      got.set(m[1] as string, (got.get(m[1] as string) ?? 0) + Number(m[2]));
    }
    expect(got).toEqual(want);
    expect(event(env, STATSD_EVENTS.sendErrors)).toBeGreaterThan(0);
  });

  it('resends what was in flight or unsent when the flush is aborted (at least once)', async () => {
    const { handler, transports, env } = setup({ flushBytes: 64 }, { maxDatagramsInFlight: 1 });
    await handler.start();
    for (let i = 0; i < 20; i++) handler.handleMetrics([instance(requests, 1, { destination_service: `s${i}`, response_code: 200 })]);
    const ac = new AbortController();
    const flushing = handler.flush(ac.signal);
    ac.abort();
    await flushing;
    const firstFlush = transports.datagrams.length;
    expect(firstFlush).toBeLessThan(20);
    expect(event(env, STATSD_EVENTS.linesRequeued)).toBe(20);
    await handler.flush(neverAborted());
    const lines = transports.lines();
    expect(new Set(lines).size).toBe(20);
    // Only the datagram in the socket's hands at the abort may arrive twice.
    const resentTwice = transports.datagrams.slice(0, firstFlush).join('\n').split('\n').length;
    expect(lines.length).toBeLessThanOrEqual(20 + resentTwice);
  });

  it('packs a flush over the bytes of the last only once every send from them has called back', async () => {
    // Holds each payload as a socket does (a view, no copy) and answers only when told.
    interface Held {
      readonly payload: Uint8Array;
      readonly text: string;
      readonly flush: number;
    }
    const held: Held[] = [];
    const unanswered: ((err: Error | undefined) => void)[] = [];
    let flush = 0;
    const holding: DatagramTransport = {
      send(payload, done) {
        held.push({ payload, text: Buffer.from(payload).toString('utf8'), flush });
        unanswered.push(done);
      },
      close: async () => undefined,
    };
    const { handler } = setup({ flushBytes: 64 }, { transport: () => holding, maxDatagramsInFlight: 4 });
    await handler.start();
    // Gauges: what an aborted flush carries over is merged with the newer values, so the next
    // flush's bytes differ from the last one's at the same places.
    const record = (prefix: string, value: number): void => {
      for (let i = 0; i < 12; i++) handler.handleMetrics([instance(connections, value, { destination_service: `${prefix}${i}` })]);
    };
    const answerUntil = async (p: Promise<void>): Promise<void> => {
      let done = false;
      void p.then(() => (done = true));
      while (!done) {
        for (const cb of unanswered.splice(0)) cb(undefined);
        await new Promise((r) => setImmediate(r));
      }
    };
    const intact = (f: number): boolean => held.filter((h) => h.flush === f).every((h) => Buffer.from(h.payload).toString('utf8') === h.text);

    // Cut short by its time box with four sends unanswered: their bytes stay theirs.
    flush = 1;
    record('same', 1);
    const ac = new AbortController();
    const aborted = handler.flush(ac.signal);
    await new Promise((r) => setImmediate(r));
    expect(held).toHaveLength(4);
    ac.abort();
    await aborted;
    const stillSending = unanswered.splice(0);
    flush = 2;
    record('same', 2);
    await answerUntil(handler.flush(neverAborted()));
    expect(intact(1)).toBe(true);
    for (const cb of stillSending) cb(undefined);

    // Flush 2 was answered in full: flush 3 writes over its bytes, and sends exactly its own.
    flush = 3;
    record('third', 3);
    await answerUntil(handler.flush(neverAborted()));
    const buffersOf = (f: number): Set<ArrayBufferLike> => new Set(held.filter((h) => h.flush === f).map((h) => h.payload.buffer));
    expect([...buffersOf(3)].every((b) => buffersOf(2).has(b))).toBe(true);
    expect(intact(3)).toBe(true);
    const lines = (f: number): string[] => held.filter((h) => h.flush === f).flatMap((h) => h.text.split('\n'));
    expect(lines(3).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `mesh.conns.third${String(i)}:3|g`).sort());
    expect(lines(2).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `mesh.conns.same${String(i)}:2|g`).sort());
  });

  it('resolves the address from start, without holding start up, and refreshes it in the background, not per packet', async () => {
    const lookups: string[] = [];
    let answer = '10.0.0.1';
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const lookup: LookupFn = async (host) => {
      lookups.push(host);
      await gate;
      return { address: answer, family: 4 };
    };
    const { handler, transports, env } = setup({ address: 'statsd.monitoring:8125', flushBytes: 64 }, { lookup, dnsRefreshMs: 30_000 });
    // start returns while the lookup is still under way.
    await handler.start();
    expect(lookups).toEqual(['statsd.monitoring']);
    expect(transports.created).toEqual([]);
    // The first flush waits for that first answer rather than drop what was recorded.
    handler.handleMetrics([instance(requests, 1, { destination_service: 'first', response_code: 200 })]);
    const firstFlush = handler.flush(neverAborted());
    release();
    await firstFlush;
    expect(transports.created).toEqual([{ address: '10.0.0.1', family: 4, port: 8125 }]);
    expect(transports.lines()).toEqual(['mesh.requests.first.200:1|c']);
    for (let f = 0; f < 10; f++) {
      for (let i = 0; i < 20; i++) handler.handleMetrics([instance(requests, 1, { destination_service: `s${i}`, response_code: 200 })]);
      await handler.flush(neverAborted());
      env.advance(300);
    }
    expect(transports.datagrams.length).toBeGreaterThan(50);
    expect(lookups).toHaveLength(1);

    // Past the refresh interval the next flush starts a lookup and keeps sending to the old address.
    answer = '10.0.0.2';
    env.advance(30_000);
    handler.handleMetrics([instance(requests, 1, { destination_service: 'x', response_code: 200 })]);
    await handler.flush(neverAborted());
    expect(lookups).toHaveLength(2);
    handler.handleMetrics([instance(requests, 1, { destination_service: 'y', response_code: 200 })]);
    await handler.flush(neverAborted());
    expect(transports.created.map((t) => t.address)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(transports.closed.map((t) => t.address)).toEqual(['10.0.0.1']);
    await handler.close();
  });

  it('keeps sending to the last good address when a refresh fails, and counts the failure', async () => {
    let fail = false;
    const lookup: LookupFn = async () => {
      if (fail) throw new Error('getaddrinfo EAI_AGAIN statsd');
      return { address: '10.0.0.1', family: 4 };
    };
    const { handler, transports, env } = setup({ address: 'statsd:8125' }, { lookup, dnsRefreshMs: 1000 });
    await handler.start();
    await new Promise((r) => setImmediate(r));
    fail = true;
    env.advance(2000);
    handler.handleMetrics([instance(requests, 1, { destination_service: 'x', response_code: 200 })]);
    await handler.flush(neverAborted());
    await new Promise((r) => setImmediate(r));
    handler.handleMetrics([instance(requests, 1, { destination_service: 'y', response_code: 200 })]);
    await handler.flush(neverAborted());
    expect(transports.lines()).toEqual(['mesh.requests.x.200:1|c', 'mesh.requests.y.200:1|c']);
    expect(event(env, STATSD_EVENTS.dnsErrors)).toBe(1);
    expect(env.logger.lines.some((l) => l.fields?.error === 'getaddrinfo EAI_AGAIN statsd')).toBe(true);
  });

  it('starts even when the address cannot be resolved, keeps lines until it can, and retries on each flush', async () => {
    let up = false;
    const lookups: number[] = [];
    const lookup: LookupFn = async () => {
      lookups.push(1);
      if (!up) throw new Error('getaddrinfo ENOTFOUND statsd');
      return { address: '10.0.0.9', family: 4 };
    };
    const { handler, transports, env } = setup({ address: 'statsd:8125' }, { lookup });
    await handler.start();
    handler.handleMetrics([instance(requests, 1, { destination_service: 'x', response_code: 200 })]);
    await handler.flush(neverAborted());
    expect(event(env, STATSD_EVENTS.linesRequeued)).toBe(1);
    await new Promise((r) => setImmediate(r));
    up = true;
    handler.handleMetrics([instance(requests, 1, { destination_service: 'y', response_code: 200 })]);
    await handler.flush(neverAborted()); // starts the retry; its answer serves the next flush
    await new Promise((r) => setImmediate(r));
    handler.handleMetrics([instance(requests, 1, { destination_service: 'z', response_code: 200 })]);
    await handler.flush(neverAborted());
    expect(transports.lines()).toEqual(['mesh.requests.x.200:1|c', 'mesh.requests.y.200:1|c', 'mesh.requests.z.200:1|c']);
    expect(lookups.length).toBe(2);
  });

  it('drops and counts, at close, what never got through', async () => {
    const { handler, transports, env } = setup();
    await handler.start();
    transports.fail = new Error('send ECONNREFUSED');
    handler.handleMetrics([
      instance(requests, 1, { destination_service: 'x', response_code: 200 }),
      instance(duration, 1e6, { destination_service: 'x' }),
      // Two lines: a reset and the value.
      instance(connections, -1, { destination_service: 'x' }),
    ]);
    await handler.flush(neverAborted());
    await handler.close();
    expect(event(env, STATSD_EVENTS.linesDroppedClosed)).toBe(4);
    expect(env.logger.lines.some((l) => l.msg === 'statsd handler closed with unsent lines; they are dropped')).toBe(true);
  });

  it('closes idempotently, and safely without start', async () => {
    const { handler } = setup();
    await handler.close();
    await handler.close();
    const started = setup();
    await started.handler.start();
    await started.handler.close();
    expect(started.transports.closed).toHaveLength(1);
    await started.handler.close();
    expect(started.transports.closed).toHaveLength(1);
  });
});

describe('the statsd series limits', () => {
  it("send a metric's new series past its limit to one overflow stat, so its totals still add up", async () => {
    const { handler, transports, env } = setup({
      metrics: {
        ...params.metrics,
        'requestcount.instance.istio-system': { type: 'COUNTER', name_template: 'requests.{{.destination_service}}.{{.response_code}}', maxSeries: 3 },
      },
    });
    await handler.start();
    for (let i = 0; i < 10; i++) {
      expect(handler.handleMetrics([instance(requests, 2, { destination_service: `svc${i}`, response_code: 200 })])).toBeUndefined();
    }
    // A series admitted before the limit keeps counting.
    handler.handleMetrics([instance(requests, 5, { destination_service: 'svc0', response_code: 200 })]);
    // Other metrics have limits of their own.
    handler.handleMetrics([instance(connections, 4, { destination_service: 'svc9' })]);
    expect(event(env, STATSD_EVENTS.instancesOverflowed)).toBe(7);
    await handler.flush(neverAborted());
    expect(transports.lines()).toEqual([
      'mesh.requests.svc0.200:7|c',
      'mesh.requests.svc1.200:2|c',
      'mesh.requests.svc2.200:2|c',
      'mesh.requests.overflow.overflow:14|c',
      'mesh.conns.svc9:4|g',
    ]);
  });

  it('apply the handler-wide limit across metrics, and start afresh each interval', async () => {
    const { handler, transports } = setup({ maxSeries: 2 });
    await handler.start();
    handler.handleMetrics([
      instance(requests, 1, { destination_service: 'a', response_code: 200 }),
      instance(duration, 1e6, { destination_service: 'a' }),
      instance(connections, 1, { destination_service: 'a' }),
      instance(duration, 2e6, { destination_service: 'b' }),
    ]);
    await handler.flush(neverAborted());
    expect(transports.lines()).toEqual(['mesh.requests.a.200:1|c', 'mesh.conns.overflow:1|g', 'mesh.latency.a:1|ms', 'mesh.latency.overflow:2|ms']);
    transports.datagrams.length = 0;
    handler.handleMetrics([instance(duration, 3e6, { destination_service: 'b' })]);
    await handler.flush(neverAborted());
    expect(transports.lines()).toEqual(['mesh.latency.b:3|ms']);
  });

  it('log what overflowed at most once per log interval, with the totals per metric', async () => {
    const { handler, env } = setup({ maxSeriesPerMetric: 1 });
    await handler.start();
    for (let f = 0; f < 4; f++) {
      handler.handleMetrics([
        instance(requests, 1, { destination_service: `a${f}`, response_code: 200 }),
        instance(requests, 1, { destination_service: `b${f}`, response_code: 200 }),
        instance(duration, 1e6, { destination_service: `a${f}` }),
        instance(duration, 1e6, { destination_service: `b${f}` }),
        instance(duration, 1e6, { destination_service: `c${f}` }),
      ]);
      await handler.flush(neverAborted());
      env.advance(1000);
    }
    let lines = env.logger.lines.filter((l) => l.msg.startsWith('statsd series limit reached'));
    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields).toMatchObject({ total: 3, by: 'requestduration.instance.istio-system=2,requestcount.instance.istio-system=1' });
    env.advance(10_000);
    await handler.flush(neverAborted());
    lines = env.logger.lines.filter((l) => l.msg.startsWith('statsd series limit reached'));
    expect(lines).toHaveLength(2);
    expect(lines[1]?.fields).toMatchObject({ total: 9 });
  });
});

describe('a statsd handler whose resolver hangs', () => {
  it('does not hold up start, and a flush waiting on the first lookup ends when the core aborts it', async () => {
    const env = testEnv();
    const transports = memoryTransports();
    const never: LookupFn = () => new Promise(() => undefined);
    const handler = new StatsdHandler(config({ address: 'statsd:8125' }), all, env, { transport: transports.factory, lookup: never });
    await handler.start();
    handler.handleMetrics([instance(requests, 1, { destination_service: 'x', response_code: 200 })]);
    const ac = new AbortController();
    const flushing = handler.flush(ac.signal);
    ac.abort();
    await flushing;
    expect(env.events.get(STATSD_EVENTS.linesRequeued)).toBe(1);
    // Later flushes do not wait on it again; what they hold waits with the rest.
    handler.handleMetrics([instance(requests, 1, { destination_service: 'y', response_code: 200 })]);
    await handler.flush(neverAborted());
    expect(handler.liveSeries()).toBe(2);
    expect(transports.created).toEqual([]);
  });
});
