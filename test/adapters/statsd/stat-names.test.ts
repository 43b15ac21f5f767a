import { describe, expect, it } from 'vitest';
import { ValueType, type AttributeValue, type InstanceSpec, type MetricInstance } from '../../../src/core/adapter.js';
import { parseStatsdConfig, STATSD_EVENTS, StatsdHandler } from '../../../src/adapters/statsd/index.js';
import { collectingReporter, instance, memoryTransports, neverAborted, spec, testEnv } from './support/fixtures.js';

// Both specs have the same dimension list, so one attribute set's instances share one array.
const dims = { svc: ValueType.STRING, code: ValueType.INT64, ratio: ValueType.DOUBLE };
const requests = spec('requestcount.instance.istio-system', ValueType.INT64, dims);
const latency = spec('requestduration.instance.istio-system', ValueType.DURATION, dims);
const all = [requests, latency];

function setup(metrics: Record<string, unknown> = {}, limits: Record<string, unknown> = {}) {
  const report = collectingReporter();
  const config = parseStatsdConfig(
    {
      address: '127.0.0.1:8125',
      prefix: 'mesh',
      metrics: {
        [requests.name]: { type: 'COUNTER', nameTemplate: 'requests.{{.svc}}.{{.code}}' },
        [latency.name]: { type: 'DISTRIBUTION', nameTemplate: 'latency.{{.svc}}' },
        ...metrics,
      },
      ...limits,
    },
    all,
    report,
  );
  expect(report.issues).toEqual([]);
  if (config === undefined) throw new Error('config rejected');
  const env = testEnv();
  const transports = memoryTransports();
  const handler = new StatsdHandler(config, all, env, { transport: transports.factory });
  return { handler, env, transports };
}

/** One attribute set's instances, sharing one dimensions array as the core builds them. */
function set(svc: AttributeValue, code: AttributeValue, ms = 1, ratio: AttributeValue = 0.5): MetricInstance[] {
  const dimensions: AttributeValue[] = [svc, code, ratio];
  return [
    { ...instance(requests, 1, { svc, code, ratio }), dimensions },
    { ...instance(latency, ms * 1e6, { svc, code, ratio }), dimensions },
  ];
}

async function flushLines(h: ReturnType<typeof setup>): Promise<string[]> {
  h.transports.datagrams.length = 0;
  await h.handler.flush(neverAborted());
  return h.transports.lines();
}

describe('statsd stat names', () => {
  it('follow each dimension value as it changes from one attribute set to the next', async () => {
    const h = setup();
    await h.handler.start();
    h.handler.handleMetrics([...set('a', 200, 1), ...set('a', 503, 2), ...set('b', 503, 3), ...set('b', 200, 4), ...set('a', 200, 5)]);
    expect(await flushLines(h)).toEqual([
      'mesh.requests.a.200:2|c',
      'mesh.requests.a.503:1|c',
      'mesh.requests.b.503:1|c',
      'mesh.requests.b.200:1|c',
      'mesh.latency.a:1|ms',
      'mesh.latency.a:2|ms',
      'mesh.latency.a:5|ms',
      'mesh.latency.b:3|ms',
      'mesh.latency.b:4|ms',
    ]);
  });

  it('are right for dimension arrays that are reused or rebuilt, across flush intervals', async () => {
    const h = setup();
    await h.handler.start();
    const shared = set('x', 200);
    h.handler.handleMetrics(shared);
    h.handler.handleMetrics(shared);
    // Equal values in new arrays and new string objects name the same series.
    h.handler.handleMetrics(set(['x'].join(''), 200));
    expect(await flushLines(h)).toEqual(['mesh.requests.x.200:3|c', 'mesh.latency.x:1|ms', 'mesh.latency.x:1|ms', 'mesh.latency.x:1|ms']);
    h.handler.handleMetrics(set('x', 200, 7));
    h.handler.handleMetrics(set('y', 200, 8));
    expect(await flushLines(h)).toEqual(['mesh.requests.x.200:1|c', 'mesh.requests.y.200:1|c', 'mesh.latency.x:7|ms', 'mesh.latency.y:8|ms']);
  });

  it('share a series whenever values render the same name, and keep apart those that do not', async () => {
    const h = setup({ [requests.name]: { type: 'COUNTER', nameTemplate: 'requests.{{.svc}}.{{.code}}.{{.ratio}}' } });
    await h.handler.start();
    h.handler.handleMetrics([
      // A number and a string that print alike, and values that sanitise alike.
      ...set('a', 200, 1, 0),
      ...set('a', '200', 1, 0),
      ...set('a:b', 200, 1, 0),
      ...set('a_b', 200, 1, 0),
      // Go prints -0.0 as -0: not the same name as 0.
      ...set('a', 200, 1, -0),
      ...set('a', 200, 1, 0),
    ]);
    expect((await flushLines(h)).filter((l) => l.endsWith('|c'))).toEqual([
      'mesh.requests.a.200.0:3|c',
      'mesh.requests.a_b.200.0:2|c',
      'mesh.requests.a.200.-0:1|c',
    ]);
  });

  it('are found again after the name cache outgrew its bound and started afresh', async () => {
    // The cache holds 6,000 names at this limit; each interval brings 2,500 new ones.
    const h = setup({}, { maxSeries: 3000 });
    await h.handler.start();
    const interval = async (from: number): Promise<string[]> => {
      // Twice each: a name is cached from its second sighting.
      for (let round = 0; round < 2; round++) {
        for (let i = from; i < from + 1250; i++) h.handler.handleMetrics(set(`svc-${i}`, 200, 1));
      }
      return flushLines(h);
    };
    const expected = (from: number): string[] => [
      ...Array.from({ length: 1250 }, (_, k) => `mesh.requests.svc-${from + k}.200:2|c`),
      ...Array.from({ length: 1250 }, (_, k) => Array(2).fill(`mesh.latency.svc-${from + k}:1|ms`) as string[]).flat(),
    ];
    for (const from of [0, 10_000, 20_000, 30_000, 0, 20_000]) expect(await interval(from)).toEqual(expected(from));
  });

  it('stay apart for tens of thousands of values at every position of the template', async () => {
    const h = setup({}, { maxSeries: 200_000, maxSeriesPerMetric: 200_000 });
    await h.handler.start();
    const n = 70_000;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < n; i++) h.handler.handleMetrics(set(`s${i % 40_000}`, i).slice(0, 1));
    }
    const lines = await flushLines(h);
    expect(lines).toHaveLength(n);
    expect(lines.every((l, i) => l === `mesh.requests.s${i % 40_000}.${i}:2|c`)).toBe(true);
  });

  it('are rendered from values that cannot be cached (addresses, maps) every time', async () => {
    const ip = spec('ip.instance.istio-system', ValueType.INT64, { addr: ValueType.IP_ADDRESS });
    const report = collectingReporter();
    const config = parseStatsdConfig(
      { address: '127.0.0.1:8125', metrics: { [ip.name]: { type: 'COUNTER', nameTemplate: 'from.{{.addr}}' } } },
      [ip],
      report,
    );
    if (config === undefined) throw new Error('config rejected');
    const transports = memoryTransports();
    const handler = new StatsdHandler(config, [ip] as readonly InstanceSpec[], testEnv(), { transport: transports.factory });
    await handler.start();
    for (const last of [1, 2, 1]) handler.handleMetrics([instance(ip, 1, { addr: new Uint8Array([10, 0, 0, last]) })]);
    await handler.flush(neverAborted());
    expect(transports.lines()).toEqual(['from.[10_0_0_1]:2|c', 'from.[10_0_0_2]:1|c']);
  });
});

describe('statsd series limits with cached names', () => {
  it('send a name cached in an earlier interval to the overflow stat once this interval is full', async () => {
    const h = setup({ [requests.name]: { type: 'COUNTER', nameTemplate: 'requests.{{.svc}}.{{.code}}', maxSeries: 1 } });
    await h.handler.start();
    h.handler.handleMetrics(set('a', 200).slice(0, 1));
    expect(await flushLines(h)).toEqual(['mesh.requests.a.200:1|c']);
    h.handler.handleMetrics([...set('b', 200).slice(0, 1), ...set('a', 200).slice(0, 1), ...set('b', 200).slice(0, 1)]);
    expect(h.env.events.get(STATSD_EVENTS.instancesOverflowed)).toBe(1);
    expect(await flushLines(h)).toEqual(['mesh.requests.b.200:2|c', 'mesh.requests.overflow.overflow:1|c']);
    // And a fresh interval admits it again.
    h.handler.handleMetrics(set('a', 200).slice(0, 1));
    expect(await flushLines(h)).toEqual(['mesh.requests.a.200:1|c']);
  });

  it('let values that overflowed keep overflowing, while admitted names keep counting, within an interval', async () => {
    const h = setup({}, { maxSeries: 3 });
    await h.handler.start();
    for (let i = 0; i < 3; i++) {
      for (const svc of ['a', 'b', 'c']) h.handler.handleMetrics(set(svc, 200, i + 1));
    }
    // a: 2 series (counter, timer); b: counter admitted, timer over the handler-wide limit; c: both over.
    expect(await flushLines(h)).toEqual([
      'mesh.requests.a.200:3|c',
      'mesh.requests.b.200:3|c',
      'mesh.requests.overflow.overflow:3|c',
      ...[1, 2, 3].map((ms) => `mesh.latency.a:${ms}|ms`),
      ...[1, 1, 2, 2, 3, 3].map((ms) => `mesh.latency.overflow:${ms}|ms`),
    ]);
    expect(h.env.events.get(STATSD_EVENTS.instancesOverflowed)).toBe(9);
  });
});
