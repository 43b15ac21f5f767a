/**
 * End to end against a real HTTP(S) server standing in for a broker's HTTPTrap endpoint: metric
 * instances in through handleMetrics, PUT bodies out, decoded back into circllhists and numbers.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { MetricInstance } from '../../../src/core/adapter.js';
import { Circllhist } from '../../../src/core/circllhist/index.js';
import { CIRCONUS_CODES, CIRCONUS_EVENTS, CirconusError, CirconusHandler } from '../../../src/adapters/circonus/index.js';
import {
  ACTIVE_CONNECTIONS,
  FAST_RETRIES,
  instance,
  mustParse,
  neverAborted,
  REQUEST_COUNT,
  REQUEST_DURATION,
  startHandler,
  testEnv,
} from './support/fixtures.js';
import { decodePayload, mergeBodies, readableName, startTrapServer, TRAP_PATH, type DecodedMetric, type TrapServer } from './support/trap-server.js';
import { seededRandom } from '../../support/seeded-random.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const servers: TrapServer[] = [];
async function trapServer(tls?: Parameters<typeof startTrapServer>[0]): Promise<TrapServer> {
  const s = await startTrapServer(tls);
  servers.push(s);
  return s;
}
const handlers: CirconusHandler[] = [];
afterEach(async () => {
  await Promise.all(handlers.splice(0).map((h) => h.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const INSTANCES = [REQUEST_COUNT, REQUEST_DURATION, ACTIVE_CONNECTIONS];
const METRICS = [
  { name: REQUEST_COUNT.name, type: 'COUNTER' },
  { name: REQUEST_DURATION.name, type: 'DISTRIBUTION' },
  { name: ACTIVE_CONNECTIONS.name, type: 'GAUGE' },
];

async function handlerFor(trap: TrapServer, extra: Record<string, unknown> = {}, env = testEnv()) {
  const started = await startHandler({ submission_url: trap.url, metrics: METRICS, ...extra }, INSTANCES, FAST_RETRIES, env);
  handlers.push(started.handler);
  return started;
}


/**
 * What one interval should produce, computed independently of the handler: per readable series
 * name, the exact histogram (durations inserted as ns at scale −9), counter sum or last gauge.
 */
class Expected {
  readonly histograms = new Map<string, Circllhist>();
  readonly counters = new Map<string, number>();
  readonly gauges = new Map<string, number>();

  merge(newer: Expected): this {
    for (const [k, h] of newer.histograms) this.hist(k).merge(h);
    for (const [k, v] of newer.counters) this.counters.set(k, (this.counters.get(k) ?? 0) + v);
    for (const [k, v] of newer.gauges) this.gauges.set(k, v);
    return this;
  }

  hist(k: string): Circllhist {
    let h = this.histograms.get(k);
    if (h === undefined) this.histograms.set(k, (h = new Circllhist()));
    return h;
  }
}

/** `count` Reports' worth of instances over 3 services × 3 response codes, plus gauges. */
function workload(seed: number, count: number): { batches: MetricInstance[][]; expected: Expected } {
  const next = seededRandom(seed);
  const expected = new Expected();
  const batches: MetricInstance[][] = [];
  let batch: MetricInstance[] = [];
  for (let i = 0; i < count; i++) {
    const svc = ['reviews', 'ratings', 'details'][Math.floor(next() * 3)] as string;
    const code = [200, 200, 200, 404, 503][Math.floor(next() * 5)] as number;
    const ns = Math.round(Math.exp(Math.log(20e6) + (next() - 0.5) * 4));
    const tags = `{destination_service=${svc},response_code=${code}}`;
    batch.push(instance(REQUEST_COUNT, 1, { destination_service: svc, response_code: code }));
    batch.push(instance(REQUEST_DURATION, ns, { destination_service: svc, response_code: code }));
    expected.counters.set(`${REQUEST_COUNT.name}${tags}`, (expected.counters.get(`${REQUEST_COUNT.name}${tags}`) ?? 0) + 1);
    expected.hist(`${REQUEST_DURATION.name}${tags}`).insertIntScale(ns, -9);
    if (i % 10 === 0) {
      const open = Math.floor(next() * 100);
      batch.push(instance(ACTIVE_CONNECTIONS, open, { destination_service: svc }));
      expected.gauges.set(`${ACTIVE_CONNECTIONS.name}{destination_service=${svc}}`, open);
    }
    if (batch.length >= 50) {
      batches.push(batch);
      batch = [];
    }
  }
  if (batch.length > 0) batches.push(batch);
  return { batches, expected };
}

function feed(handler: CirconusHandler, batches: readonly MetricInstance[][]): void {
  for (const b of batches) expect(handler.handleMetrics(b)).toBeUndefined();
}

/** Asserts that a decoded payload is exactly `expected`: same series, equal bins and values. */
function expectExactly(decoded: ReadonlyMap<string, DecodedMetric>, expected: Expected): void {
  const got = new Map([...decoded].map(([name, m]) => [readableName(name), m] as const));
  const wanted = [...expected.histograms.keys(), ...expected.counters.keys(), ...expected.gauges.keys()].sort();
  expect([...got.keys()].sort()).toEqual(wanted);
  for (const [k, h] of expected.histograms) {
    const m = got.get(k);
    expect(m?.type).toBe('h');
    if (m?.type === 'h') {
      expect(m.histogram.bins()).toEqual(h.bins());
      expect(m.histogram.equals(h)).toBe(true);
    }
  }
  for (const [k, v] of expected.counters) expect(got.get(k)).toEqual({ type: 'L', value: v });
  for (const [k, v] of expected.gauges) expect(got.get(k)).toEqual({ type: 'l', value: v });
}

describe('circonus HTTPTrap submission, end to end', () => {
  it('PUTs one JSON payload per flush that decodes to exactly the histograms and counters recorded', async () => {
    const trap = await trapServer();
    const { handler, env } = await handlerFor(trap);
    const first = workload(1, 2_000);
    feed(handler, first.batches);
    await handler.flush(neverAborted());
    const second = workload(2, 700);
    feed(handler, second.batches);
    await handler.flush(neverAborted());

    expect(trap.requests).toHaveLength(2);
    for (const r of trap.requests) {
      expect(r.method).toBe('PUT');
      expect(r.path).toBe(TRAP_PATH);
      expect(r.headers['content-type']).toBe('application/json');
      expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body));
    }
    expectExactly(decodePayload(trap.requests[0]?.body ?? ''), first.expected);
    expectExactly(decodePayload(trap.requests[1]?.body ?? ''), second.expected);
    expect(env.event(CIRCONUS_EVENTS.payloadsSent)).toBe(2);
    expect(env.event(CIRCONUS_EVENTS.submitFailures)).toBe(0);
  });

  it('sends the exact bytes cgm would for the same series', async () => {
    const trap = await trapServer();
    const { handler } = await handlerFor(trap);
    const dims = { destination_service: 'reviews', response_code: 200 };
    handler.handleMetrics([
      instance(REQUEST_COUNT, 1, dims),
      instance(REQUEST_COUNT, 1, dims),
      instance(REQUEST_DURATION, 1_500_000, dims),
      instance(REQUEST_DURATION, 25_000_000, dims),
      instance(REQUEST_DURATION, 25_300_000, dims),
      instance(ACTIVE_CONNECTIONS, 7, { destination_service: 'reviews' }),
    ]);
    await handler.flush(neverAborted());
    const tags =
      'b\\"ZGVzdGluYXRpb25fc2VydmljZQ==\\":b\\"cmV2aWV3cw==\\",b\\"cmVzcG9uc2VfY29kZQ==\\":b\\"MjAw\\"';
    expect(trap.requests[0]?.body).toBe(
      '{"connections.instance.istio-system|ST[b\\"ZGVzdGluYXRpb25fc2VydmljZQ==\\":b\\"cmV2aWV3cw==\\"]":{"_value":7,"_type":"l"},' +
        `"requestcount.instance.istio-system|ST[${tags}]":{"_value":2,"_type":"L"},` +
        `"requestduration.instance.istio-system|ST[${tags}]":{"_value":"AAIP/QABGf4AAg==","_type":"h"}}`,
    );
  });

  it('loses nothing when the broker answers 500 and then 200', async () => {
    const trap = await trapServer();
    const { handler, env } = await handlerFor(trap);
    trap.script({ status: 500 });
    const { batches, expected } = workload(3, 500);
    feed(handler, batches);
    await handler.flush(neverAborted());
    expect(trap.requests.map((r) => r.body === trap.requests[0]?.body)).toEqual([true, true]);
    expectExactly(decodePayload(trap.requests[1]?.body ?? ''), expected);
    expect(env.event(CIRCONUS_EVENTS.submitRetries)).toBe(1);
    expect(env.event(CIRCONUS_EVENTS.payloadsSent)).toBe(1);
    expect(env.event(CIRCONUS_EVENTS.droppedSeries)).toBe(0);
  });

  it('carries a payload whose every attempt failed into the next one, merged exactly', async () => {
    const trap = await trapServer();
    const { handler, env } = await handlerFor(trap, { max_retries: 1 });
    trap.script({ status: 500 }, { status: 503 });
    const first = workload(4, 600);
    feed(handler, first.batches);
    await handler.flush(neverAborted());
    expect(trap.requests).toHaveLength(2);
    expect(env.event(CIRCONUS_EVENTS.submitFailures)).toBe(1);
    expect(env.event(CIRCONUS_EVENTS.seriesRequeued)).toBe(decodePayload(trap.requests[0]?.body ?? '').size);
    expect(handler.liveSeries()).toBe(decodePayload(trap.requests[0]?.body ?? '').size);

    const second = workload(5, 400);
    feed(handler, second.batches);
    await handler.flush(neverAborted());
    expect(trap.requests).toHaveLength(3);
    // Histograms and counters add up bin for bin; each gauge keeps its newest value.
    expectExactly(decodePayload(trap.requests[2]?.body ?? ''), first.expected.merge(second.expected));
    expect(env.event(CIRCONUS_EVENTS.droppedSeries)).toBe(0);
    expect(handler.liveSeries()).toBe(0);
    expect(env.logger.lines.some((l) => l.level === 'info' && l.msg === 'circonus submissions recovered')).toBe(true);
  });

  it('cuts off a broker that hangs at the request timeout and sends its data with the next flush', async () => {
    const trap = await trapServer();
    const { handler, env } = await handlerFor(trap, { submission_interval: '1s', request_timeout: '150ms', max_retries: 0 });
    trap.script('hang');
    const first = workload(6, 100);
    feed(handler, first.batches);
    await handler.flush(neverAborted());
    expect(trap.requests).toHaveLength(1);
    expect(env.event(CIRCONUS_EVENTS.submitFailures)).toBe(1);
    const warning = env.logger.lines.find((l) => l.msg.startsWith('circonus submission failed'));
    expect(warning?.fields?.error).toMatch(/no complete response within 150 ms/);
    expect(JSON.stringify(env.logger.lines)).not.toContain('s3cr3t');

    const second = workload(7, 100);
    feed(handler, second.batches);
    await handler.flush(neverAborted());
    expectExactly(decodePayload(trap.requests[1]?.body ?? ''), first.expected.merge(second.expected));
  });

  it("keeps the data of a flush the core aborts, and sends it next time", async () => {
    const trap = await trapServer();
    const { handler, env } = await handlerFor(trap);
    trap.script('hang');
    const first = workload(8, 100);
    feed(handler, first.batches);
    const ctrl = new AbortController();
    const flushing = handler.flush(ctrl.signal);
    await trap.received(1);
    ctrl.abort(new Error('flush exceeded 10000 ms'));
    await flushing;
    expect(env.event(CIRCONUS_EVENTS.submitFailures)).toBe(1);
    await handler.flush(neverAborted());
    expect(trap.requests).toHaveLength(2);
    expectExactly(decodePayload(trap.requests[1]?.body ?? ''), first.expected);
  });

  it('never lets a stuck broker hold up handleMetrics or another handler', async () => {
    const stuck = await trapServer();
    const healthy = await trapServer();
    const a = await handlerFor(stuck);
    const b = await handlerFor(healthy);
    stuck.script('hang');
    const dims = { destination_service: 'reviews', response_code: 200 };
    a.handler.handleMetrics([instance(REQUEST_COUNT, 1, dims)]);
    const ctrl = new AbortController();
    let aDone = false;
    const aFlush = a.handler.flush(ctrl.signal).then(() => {
      aDone = true;
    });
    await stuck.received(1);

    // While A's PUT hangs, Reports still record synchronously, into a fresh interval.
    expect(a.handler.handleMetrics([instance(REQUEST_COUNT, 5, dims), instance(REQUEST_DURATION, 2_000_000, dims)])).toBeUndefined();
    expect(a.handler.liveSeries()).toBe(2);
    // And B flushes to its own broker while A is still stuck.
    b.handler.handleMetrics([instance(REQUEST_COUNT, 3, dims)]);
    await b.handler.flush(neverAborted());
    expect(healthy.requests).toHaveLength(1);
    expect(aDone).toBe(false);

    ctrl.abort(new Error('time box'));
    await aFlush;
    await a.handler.flush(neverAborted());
    const total = mergeBodies([stuck.requests[1]?.body ?? '']);
    const counts = [...total].filter(([n]) => n.startsWith(REQUEST_COUNT.name)).map(([, m]) => m);
    expect(counts).toEqual([{ type: 'L', value: 6 }]);
  });

  it('records Reports that arrive while a flush encodes or sends into the next interval', async () => {
    const trap = await trapServer();
    const { handler } = await handlerFor(trap);
    // More series than one encoding chunk, so the flush yields while encoding.
    const first = new Expected();
    const many: MetricInstance[] = [];
    for (let i = 0; i < 1_500; i++) {
      const dims = { destination_service: `svc-${i}`, response_code: 200 };
      many.push(instance(REQUEST_COUNT, i, dims));
      first.counters.set(`${REQUEST_COUNT.name}{destination_service=svc-${i},response_code=200}`, i);
    }
    feed(handler, [many]);
    const flushing = handler.flush(neverAborted());
    let done = false;
    void flushing.then(() => (done = true));
    // One turn of the event loop: the state has been swapped and encoding has yielded.
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    expect(trap.requests).toHaveLength(0);
    const second = workload(12, 50);
    feed(handler, second.batches);
    await flushing;
    expectExactly(decodePayload(trap.requests[0]?.body ?? ''), first);
    await handler.flush(neverAborted());
    expectExactly(decodePayload(trap.requests[1]?.body ?? ''), second.expected);
  });

  it('runs overlapping flushes one after the other, so a failed payload is never overwritten', async () => {
    const trap = await trapServer();
    const { handler } = await handlerFor(trap);
    trap.script('hang');
    const first = workload(13, 40);
    feed(handler, first.batches);
    const ctrl = new AbortController();
    const one = handler.flush(ctrl.signal);
    await trap.received(1);
    const second = workload(14, 40);
    feed(handler, second.batches);
    const two = handler.flush(neverAborted());
    ctrl.abort(new Error('time box'));
    await Promise.all([one, two]);
    expect(trap.requests).toHaveLength(2);
    expectExactly(decodePayload(trap.requests[1]?.body ?? ''), first.expected.merge(second.expected));
  });

  it('drops a payload the broker refuses with a 4xx, without retrying it', async () => {
    const trap = await trapServer();
    const { handler, env } = await handlerFor(trap);
    trap.script({ status: 403, body: '{ "error": "secret mismatch" }{ "error": "secret mismatch" }' });
    const first = workload(9, 50);
    feed(handler, first.batches);
    await handler.flush(neverAborted());
    const sent = decodePayload(trap.requests[0]?.body ?? '').size;
    expect(trap.requests).toHaveLength(1);
    expect(env.event(CIRCONUS_EVENTS.payloadsRejected)).toBe(1);
    expect(env.event(CIRCONUS_EVENTS.droppedSeries)).toBe(sent);
    expect(env.logger.lines.find((l) => l.level === 'warn')?.fields).toMatchObject({ status: 403, error: expect.stringMatching(/secret mismatch/) });

    const second = workload(10, 50);
    feed(handler, second.batches);
    await handler.flush(neverAborted());
    expectExactly(decodePayload(trap.requests[1]?.body ?? ''), second.expected);
  });

  it('waits as long as a 429 or 503 Retry-After asks, within the flush', async () => {
    const trap = await trapServer();
    const { handler, env } = await handlerFor(trap);
    trap.script({ status: 429, headers: { 'Retry-After': '0' } }, { status: 503, headers: { 'Retry-After': '0' } });
    handler.handleMetrics([instance(REQUEST_COUNT, 1, { destination_service: 'a', response_code: 200 })]);
    await handler.flush(neverAborted());
    expect(trap.requests).toHaveLength(3);
    expect(env.event(CIRCONUS_EVENTS.payloadsSent)).toBe(1);
    // A wait longer than a flush can afford leaves the data for the next one instead.
    trap.script({ status: 503, headers: { 'Retry-After': '3600' } });
    handler.handleMetrics([instance(REQUEST_COUNT, 1, { destination_service: 'a', response_code: 200 })]);
    await handler.flush(neverAborted());
    expect(trap.requests).toHaveLength(4);
    expect(env.event(CIRCONUS_EVENTS.submitFailures)).toBe(1);
    expect(handler.liveSeries()).toBe(1);
  });

  it('bounds what a failed payload carries over, dropping the newest series and counting them', async () => {
    const trap = await trapServer();
    const { handler, env } = await handlerFor(trap, { max_retries: 0, max_pending_series: 2 });
    trap.script({ status: 500 });
    for (const svc of ['a', 'b', 'c']) handler.handleMetrics([instance(REQUEST_COUNT, 1, { destination_service: svc, response_code: 200 })]);
    await handler.flush(neverAborted());
    expect(env.event(CIRCONUS_EVENTS.droppedSeries)).toBe(1);
    expect(env.event(CIRCONUS_EVENTS.seriesRequeued)).toBe(2);
    handler.handleMetrics([instance(REQUEST_COUNT, 1, { destination_service: 'a', response_code: 200 })]);
    await handler.flush(neverAborted());
    const got = [...decodePayload(trap.requests[1]?.body ?? '')].map(([n, m]) => [readableName(n), m]);
    expect(got).toEqual([
      [`${REQUEST_COUNT.name}{destination_service=a,response_code=200}`, { type: 'L', value: 2 }],
      [`${REQUEST_COUNT.name}{destination_service=b,response_code=200}`, { type: 'L', value: 1 }],
    ]);
  });

  it('also bounds the carried-over payload by bytes', async () => {
    const trap = await trapServer();
    const { handler, env } = await handlerFor(trap, { max_retries: 0, max_pending_bytes: 200 });
    trap.script({ status: 500 });
    for (const svc of ['a', 'b', 'c']) handler.handleMetrics([instance(REQUEST_COUNT, 1, { destination_service: svc, response_code: 200 })]);
    await handler.flush(neverAborted());
    // One entry is about 150 bytes of JSON, so only the first fits in 200.
    expect(env.event(CIRCONUS_EVENTS.droppedSeries)).toBe(2);
    expect(handler.liveSeries()).toBe(1);
  });

  it('drops what is still unsent at close, counting it', async () => {
    const trap = await trapServer();
    const { handler, env } = await handlerFor(trap, { max_retries: 0 });
    trap.script({ status: 500 });
    handler.handleMetrics([instance(REQUEST_COUNT, 1, { destination_service: 'a', response_code: 200 })]);
    // The core's final flush, then close.
    await handler.flush(neverAborted());
    await handler.close();
    await handler.close();
    expect(env.event(CIRCONUS_EVENTS.droppedSeries)).toBe(1);
    expect(env.logger.lines.some((l) => l.msg === 'circonus handler closed with unsent series; they are dropped')).toBe(true);
  });

  it('sends everything on the final flush before close', async () => {
    const trap = await trapServer();
    const { handler, env } = await handlerFor(trap);
    handler.handleMetrics([instance(REQUEST_COUNT, 4, { destination_service: 'a', response_code: 200 })]);
    await handler.flush(neverAborted());
    await handler.close();
    expect(trap.requests).toHaveLength(1);
    expect(env.event(CIRCONUS_EVENTS.droppedSeries)).toBe(0);
  });
});

describe('circonus submission over TLS', () => {
  const tls = { key: readFileSync(fixture('broker-key.pem')), cert: readFileSync(fixture('broker-cert.pem')) };

  it("trusts a private broker through ca_file, checking the certificate against tls_server_name", async () => {
    const trap = await trapServer(tls);
    const { handler, env } = await handlerFor(trap, { ca_file: fixture('ca.pem'), tls_server_name: 'broker.example' });
    handler.handleMetrics([instance(REQUEST_COUNT, 1, { destination_service: 'a', response_code: 200 })]);
    await handler.flush(neverAborted());
    expect(trap.requests).toHaveLength(1);
    expect(env.event(CIRCONUS_EVENTS.payloadsSent)).toBe(1);
  });

  it('does not retry a certificate that does not match, and keeps the data', async () => {
    const trap = await trapServer(tls);
    const { handler, env } = await handlerFor(trap, { ca_file: fixture('ca.pem') });
    handler.handleMetrics([instance(REQUEST_COUNT, 1, { destination_service: 'a', response_code: 200 })]);
    await handler.flush(neverAborted());
    expect(env.event(CIRCONUS_EVENTS.submitFailures)).toBe(1);
    expect(env.event(CIRCONUS_EVENTS.submitRetries)).toBe(0);
    expect(handler.liveSeries()).toBe(1);
    expect(env.logger.lines.find((l) => l.msg.startsWith('circonus submission failed'))?.fields?.error).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('rejects a broker whose CA is not trusted', async () => {
    const trap = await trapServer(tls);
    const { handler, env } = await handlerFor(trap, { tls_server_name: 'broker.example' });
    handler.handleMetrics([instance(REQUEST_COUNT, 1, { destination_service: 'a', response_code: 200 })]);
    await handler.flush(neverAborted());
    expect(trap.requests).toHaveLength(0);
    expect(env.event(CIRCONUS_EVENTS.submitFailures)).toBe(1);
  });

  it('fails to start with a stable code when ca_file cannot be used', async () => {
    const config = mustParse(
      { submission_url: 'https://127.0.0.1:1/x', ca_file: '/nonexistent/ca.pem', metrics: METRICS },
      INSTANCES,
    );
    const h = new CirconusHandler(config, INSTANCES, testEnv());
    await expect(h.start()).rejects.toMatchObject({ code: CIRCONUS_CODES.tls, message: expect.stringMatching(/cannot read ca_file/) });
    const notPem = new CirconusHandler({ ...config, caFile: fixture('README.md') }, INSTANCES, testEnv());
    await expect(notPem.start()).rejects.toBeInstanceOf(CirconusError);
  });
});
