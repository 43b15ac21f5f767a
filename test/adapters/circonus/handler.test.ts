import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Timestamp, ValueType, type InstanceSpec } from '../../../src/core/adapter.js';
import { Circllhist } from '../../../src/core/circllhist/index.js';
import {
  CIRCONUS_EVENTS,
  CirconusMetricType,
  InstanceRecorder,
  SeriesStore,
  type CirconusMetricConfig,
} from '../../../src/adapters/circonus/index.js';
import {
  ACTIVE_CONNECTIONS,
  instance,
  neverAborted,
  REQUEST_BYTES,
  REQUEST_COUNT,
  REQUEST_DURATION,
  spec,
  startHandler,
} from './support/fixtures.js';
import { decodePayload, readableName, startTrapServer, type DecodedMetric, type TrapServer } from './support/trap-server.js';

let trap: TrapServer;
beforeEach(async () => {
  trap = await startTrapServer();
});
afterEach(async () => {
  await trap.close();
});

function params(metrics: readonly Record<string, unknown>[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { submission_url: trap.url, metrics, ...extra };
}

/** The last PUT body as `readable name → value` (histograms as bvs strings). */
function lastPayload(): Record<string, unknown> {
  const body = trap.requests.at(-1)?.body;
  if (body === undefined) throw new Error('nothing was sent');
  const out: Record<string, unknown> = {};
  for (const [name, m] of decodePayload(body)) out[readableName(name)] = show(m);
  return out;
}

function show(m: DecodedMetric): unknown {
  return m.type === 'h' ? { h: m.histogram.toBvs() } : { [m.type]: m.value };
}

describe('circonus handler recording', () => {
  it('adds counter values instead of counting +1 per instance', async () => {
    const { handler } = await startHandler(params([{ name: REQUEST_BYTES.name, type: 'COUNTER' }]), [REQUEST_BYTES]);
    expect(
      handler.handleMetrics([
        instance(REQUEST_BYTES, 1200, { destination_service: 'reviews' }),
        instance(REQUEST_BYTES, 300, { destination_service: 'reviews' }),
        instance(REQUEST_BYTES, 0, { destination_service: 'ratings' }),
      ]),
    ).toBeUndefined();
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({
      'requestsize.instance.istio-system{destination_service=reviews}': { L: 1500 },
      'requestsize.instance.istio-system{destination_service=ratings}': { L: 0 },
    });
  });

  it("counts instances of a counter without a value expression, which is Mixer's +1", async () => {
    const hits = spec('hits.instance.istio-system', ValueType.VALUE_TYPE_UNSPECIFIED);
    const { handler } = await startHandler(params([{ name: hits.name, type: 'COUNTER' }]), [hits]);
    handler.handleMetrics([instance(hits, null), instance(hits, null), instance(hits, null)]);
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({ 'hits.instance.istio-system': { L: 3 } });
  });

  it('sums a DOUBLE counter as a double', async () => {
    const cost = spec('cost.instance.istio-system', ValueType.DOUBLE);
    const { handler } = await startHandler(params([{ name: cost.name, type: 'COUNTER' }]), [cost]);
    handler.handleMetrics([instance(cost, 0.25), instance(cost, 0.5)]);
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({ 'cost.instance.istio-system': { n: 0.75 } });
  });

  it('saturates a DOUBLE counter at the largest double instead of losing the whole flush to an Infinity', async () => {
    const cost = spec('cost.instance.istio-system', ValueType.DOUBLE);
    const { handler, env } = await startHandler(
      params([
        { name: cost.name, type: 'COUNTER' },
        { name: REQUEST_BYTES.name, type: 'COUNTER' },
      ]),
      [cost, REQUEST_BYTES],
    );
    handler.handleMetrics([instance(cost, 1.5e308), instance(cost, 1.5e308), instance(REQUEST_BYTES, 7, { destination_service: 'a' })]);
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({
      'cost.instance.istio-system': { n: Number.MAX_VALUE },
      'requestsize.instance.istio-system{destination_service=a}': { L: 7 },
    });
    expect(env.event(CIRCONUS_EVENTS.droppedSeries)).toBe(0);
  });

  it('keeps the last gauge value of the interval, typed by the value', async () => {
    const rtt = spec('rtt.instance.istio-system', ValueType.DURATION);
    const load = spec('load.instance.istio-system', ValueType.DOUBLE);
    const { handler } = await startHandler(
      params([
        { name: ACTIVE_CONNECTIONS.name, type: 'GAUGE', dimensions: [] },
        { name: rtt.name, type: 'GAUGE' },
        { name: load.name, type: 'GAUGE' },
      ]),
      [ACTIVE_CONNECTIONS, rtt, load],
    );
    handler.handleMetrics([
      instance(ACTIVE_CONNECTIONS, 12, { destination_service: 'a' }),
      instance(ACTIVE_CONNECTIONS, -3, { destination_service: 'b' }),
      instance(rtt, 1_500_000),
      instance(load, 0.5),
      instance(load, 0.75),
    ]);
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({
      'connections.instance.istio-system': { l: -3 },
      'rtt.instance.istio-system': { n: 0.0015 },
      'load.instance.istio-system': { n: 0.75 },
    });
  });

  it('records durations in seconds through the exact int-scale path, and numbers as they are', async () => {
    const size = spec('size.instance.istio-system', ValueType.INT64);
    const { handler } = await startHandler(
      params([
        { name: REQUEST_DURATION.name, type: 'DISTRIBUTION', dimensions: [] },
        { name: size.name, type: 'DISTRIBUTION' },
      ]),
      [REQUEST_DURATION, size],
    );
    const dims = { destination_service: 'reviews', response_code: 200 };
    // 999999.999999999 s is 1 ns below a bin edge: as a double it rounds up into H[1.0e+06];
    // the int-scale path keeps it exactly in H[9.9e+05].
    handler.handleMetrics([
      instance(REQUEST_DURATION, 999_999_999_999_999, dims),
      instance(REQUEST_DURATION, 300_000_000, dims),
      instance(REQUEST_DURATION, 1_500_000, dims),
      instance(REQUEST_DURATION, 1_500_000, dims),
      instance(size, 1024),
      instance(size, 1024),
    ]);
    await handler.flush(neverAborted());
    const expected = new Circllhist();
    expected.insertIntScale(999_999_999_999_999, -9);
    expected.insertIntScale(300_000_000, -9);
    expected.insertIntScale(1_500_000, -9, 2);
    expect(lastPayload()).toEqual({
      'requestduration.instance.istio-system': { h: expected.toBvs() },
      'size.instance.istio-system': { h: ['H[1.0e+03]=2'] },
    });
    expect(expected.toBvs()).toEqual(['H[1.5e-03]=2', 'H[3.0e-01]=1', 'H[9.9e+05]=1']);
  });

  it('records NaN and ±Infinity of a distribution in the NaN bin, as cgm and libcircllhist do', async () => {
    const lat = spec('lat.instance.istio-system', ValueType.DOUBLE);
    const { handler, env } = await startHandler(params([{ name: lat.name, type: 'DISTRIBUTION' }]), [lat]);
    // A histogram can carry them (the NaN bin, `H[NaN]`): unlike a gauge, nothing fails to encode.
    const result = handler.handleMetrics([
      instance(lat, Number.NaN),
      instance(lat, Number.POSITIVE_INFINITY),
      instance(lat, Number.NEGATIVE_INFINITY),
      instance(lat, 1e128),
      instance(lat, 0.25),
    ]);
    expect(result).toBeUndefined();
    expect(env.event(CIRCONUS_EVENTS.instancesInvalidValue)).toBe(0);
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({ 'lat.instance.istio-system': { h: ['H[NaN]=4', 'H[2.5e-01]=1'] } });
  });

  it('makes one stream-tagged series per distinct dimension set, stringified per static type', async () => {
    const s = spec('mixed.instance.istio-system', ValueType.INT64, {
      'Destination Service': ValueType.STRING,
      code: ValueType.INT64,
      ratio: ValueType.DOUBLE,
      timeout: ValueType.DURATION,
      secure: ValueType.BOOL,
      ip: ValueType.IP_ADDRESS,
      at: ValueType.TIMESTAMP,
      labels: ValueType.STRING_MAP,
    });
    const { handler } = await startHandler(params([{ name: s.name, type: 'COUNTER' }]), [s]);
    const dims = {
      'Destination Service': ' reviews ',
      code: 503,
      ratio: 0.5,
      timeout: 1_500_000_000,
      secure: true,
      ip: new Uint8Array([10, 0, 0, 1]),
      at: new Timestamp(1_700_000_000, 0),
      labels: new Map([
        ['version', 'v1'],
        ['app', 'reviews'],
      ]),
    };
    handler.handleMetrics([instance(s, 1, dims), instance(s, 1, { ...dims, ip: new Uint8Array([10, 0, 0, 1]) }), instance(s, 1, { ...dims, code: 200 })]);
    await handler.flush(neverAborted());
    const rest = 'destinationservice=reviews,ip=10.0.0.1,labels=app=reviews&version=v1,ratio=0.5,secure=true,timeout=1.5s}';
    expect(lastPayload()).toEqual({
      [`mixed.instance.istio-system{at=2023-11-14T22:13:20.000000Z,code=200,${rest}`]: { L: 1 },
      [`mixed.instance.istio-system{at=2023-11-14T22:13:20.000000Z,code=503,${rest}`]: { L: 2 },
    });
  });

  it('folds series together when the allow-list leaves a dimension out', async () => {
    const { handler } = await startHandler(
      params([{ name: REQUEST_COUNT.name, type: 'COUNTER', dimensions: ['response_code'] }]),
      [REQUEST_COUNT],
    );
    handler.handleMetrics([
      instance(REQUEST_COUNT, 1, { destination_service: 'a', response_code: 200 }),
      instance(REQUEST_COUNT, 1, { destination_service: 'b', response_code: 200 }),
      instance(REQUEST_COUNT, 1, { destination_service: 'b', response_code: 500 }),
    ]);
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({
      'requestcount.instance.istio-system{response_code=200}': { L: 2 },
      'requestcount.instance.istio-system{response_code=500}': { L: 1 },
    });
  });

  it('drops and counts values a metric cannot record, and says so in the result', async () => {
    const cost = spec('cost.instance.istio-system', ValueType.DOUBLE);
    const { handler, env } = await startHandler(
      params([
        { name: REQUEST_BYTES.name, type: 'COUNTER' },
        { name: cost.name, type: 'GAUGE' },
      ]),
      [REQUEST_BYTES, cost],
    );
    const stray = spec('stray.instance.istio-system', ValueType.INT64);
    const result = handler.handleMetrics([
      instance(REQUEST_BYTES, -5, { destination_service: 'a' }),
      instance(cost, Number.NaN),
      instance(cost, 1.5),
      instance(stray, 1),
    ]);
    expect(result).toEqual({
      failed: 3,
      message: 'instance requestsize.instance.istio-system has a value circonus cannot record (-5)',
    });
    expect(env.event(CIRCONUS_EVENTS.instancesInvalidValue)).toBe(2);
    expect(env.event(CIRCONUS_EVENTS.instancesUnconfigured)).toBe(1);
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({ 'cost.instance.istio-system': { n: 1.5 } });
  });

  it('records new streams past max_series into the overflow stream, so the totals still add up', async () => {
    const { handler, env } = await startHandler(params([{ name: REQUEST_BYTES.name, type: 'COUNTER' }], { max_series: 2 }), [REQUEST_BYTES]);
    const batch = ['a', 'b', 'c', 'd', 'a'].map((d) => instance(REQUEST_BYTES, 1, { destination_service: d }));
    expect(handler.handleMetrics(batch)).toBeUndefined();
    expect(env.event(CIRCONUS_EVENTS.instancesOverflowed)).toBe(2);
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({
      'requestsize.instance.istio-system{destination_service=a}': { L: 2 },
      'requestsize.instance.istio-system{destination_service=b}': { L: 1 },
      'requestsize.instance.istio-system{destination_service=overflow}': { L: 2 },
    });
    const logged = env.logger.lines.filter((l) => l.msg.startsWith('circonus series limit reached'));
    expect(logged).toHaveLength(1);
    expect(logged[0]?.fields).toMatchObject({ total: 2, by: 'requestsize.instance.istio-system=2' });
    // A new interval starts with room again.
    handler.handleMetrics([instance(REQUEST_BYTES, 1, { destination_service: 'c' })]);
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({ 'requestsize.instance.istio-system{destination_service=c}': { L: 1 } });
  });

  it('caps each metric at its own max_series, so one exploding metric leaves room for the others', async () => {
    const { handler, env } = await startHandler(
      params(
        [
          { name: REQUEST_COUNT.name, type: 'COUNTER', dimensions: ['destination_service'] },
          { name: REQUEST_BYTES.name, type: 'DISTRIBUTION', max_series: 1 },
        ],
        { max_series_per_metric: 2 },
      ),
      [REQUEST_COUNT, REQUEST_BYTES],
    );
    const batch = [
      ...['h1', 'h2', 'h3', 'h4'].map((d) => instance(REQUEST_COUNT, 1, { destination_service: d, response_code: 200 })),
      ...['x', 'y'].map((d) => instance(REQUEST_BYTES, 100, { destination_service: d })),
    ];
    expect(handler.handleMetrics(batch)).toBeUndefined();
    expect(env.event(CIRCONUS_EVENTS.instancesOverflowed)).toBe(3);
    await handler.flush(neverAborted());
    const sent = lastPayload();
    expect(Object.keys(sent).sort()).toEqual([
      'requestcount.instance.istio-system{destination_service=h1}',
      'requestcount.instance.istio-system{destination_service=h2}',
      'requestcount.instance.istio-system{destination_service=overflow}',
      'requestsize.instance.istio-system{destination_service=overflow}',
      'requestsize.instance.istio-system{destination_service=x}',
    ]);
    expect(sent['requestcount.instance.istio-system{destination_service=overflow}']).toEqual({ L: 2 });
  });

  it('sends nothing for an interval without data', async () => {
    const { handler } = await startHandler(params([{ name: REQUEST_BYTES.name, type: 'COUNTER' }]), [REQUEST_BYTES]);
    await handler.flush(neverAborted());
    await handler.flush(neverAborted());
    expect(trap.requests).toHaveLength(0);
  });

  it('drops a tuple whose tagged name would pass the broker limit of 4096 bytes', async () => {
    const wide = spec(
      'wide.instance.istio-system',
      ValueType.INT64,
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`d${i}`, ValueType.STRING])),
    );
    const { handler, env } = await startHandler(params([{ name: wide.name, type: 'COUNTER' }]), [wide]);
    const dims = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`d${i}`, 'v'.repeat(200)]));
    expect(handler.handleMetrics([instance(wide, 1, dims), instance(wide, 1, dims)])?.failed).toBe(2);
    expect(env.event(CIRCONUS_EVENTS.instancesNameTooLong)).toBe(2);
  });
});

describe('series kept from one interval to the next', () => {
  // Each interval's store takes the series of the last settled one (emptied) instead of making new
  // ones: what users must see is that every payload still holds only its own interval.
  const setup = (extra: Record<string, unknown> = {}) =>
    startHandler(
      params(
        [
          { name: REQUEST_COUNT.name, type: 'COUNTER' },
          { name: ACTIVE_CONNECTIONS.name, type: 'GAUGE' },
          { name: REQUEST_DURATION.name, type: 'DISTRIBUTION' },
        ],
        extra,
      ),
      [REQUEST_COUNT, ACTIVE_CONNECTIONS, REQUEST_DURATION],
    );
  const a = { destination_service: 'a', response_code: 200 };
  const b = { destination_service: 'b', response_code: 200 };
  const hist = (...ns: number[]): { h: string[] } => {
    const h = new Circllhist();
    for (const n of ns) h.insertIntScale(n, -9);
    return { h: h.toBvs() };
  };

  it('sends only what each interval recorded, also for a stream that skipped an interval', async () => {
    const { handler } = await setup();
    handler.handleMetrics([
      instance(REQUEST_COUNT, 3, a),
      instance(REQUEST_COUNT, 4, a),
      instance(REQUEST_COUNT, 1, b),
      instance(ACTIVE_CONNECTIONS, 12, { destination_service: 'a' }),
      instance(REQUEST_DURATION, 2_000_000, a),
      instance(REQUEST_DURATION, 300_000_000, a),
    ]);
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({
      'requestcount.instance.istio-system{destination_service=a,response_code=200}': { L: 7 },
      'requestcount.instance.istio-system{destination_service=b,response_code=200}': { L: 1 },
      'connections.instance.istio-system{destination_service=a}': { l: 12 },
      'requestduration.instance.istio-system{destination_service=a,response_code=200}': hist(2_000_000, 300_000_000),
    });

    // Interval 2: only `a`'s counter and histogram; `b` and the gauge are not sent.
    handler.handleMetrics([instance(REQUEST_COUNT, 5, a), instance(REQUEST_DURATION, 40_000_000, a)]);
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({
      'requestcount.instance.istio-system{destination_service=a,response_code=200}': { L: 5 },
      'requestduration.instance.istio-system{destination_service=a,response_code=200}': hist(40_000_000),
    });

    // Interval 3: `b` again, and the gauge: their interval-1 values are gone.
    handler.handleMetrics([instance(REQUEST_COUNT, 2, b), instance(ACTIVE_CONNECTIONS, 7, { destination_service: 'a' })]);
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({
      'requestcount.instance.istio-system{destination_service=b,response_code=200}': { L: 2 },
      'connections.instance.istio-system{destination_service=a}': { l: 7 },
    });

    // Interval 4: everything once more, after stores have been passed on three times.
    handler.handleMetrics([instance(REQUEST_COUNT, 1, a), instance(REQUEST_COUNT, 1, b), instance(REQUEST_DURATION, 2_000_000, a)]);
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({
      'requestcount.instance.istio-system{destination_service=a,response_code=200}': { L: 1 },
      'requestcount.instance.istio-system{destination_service=b,response_code=200}': { L: 1 },
      'requestduration.instance.istio-system{destination_service=a,response_code=200}': hist(2_000_000),
    });
    expect(trap.requests).toHaveLength(4);
  });

  it('keeps a failed payload whole while later intervals record, and sends it merged with the next', async () => {
    const { handler } = await setup({ max_retries: 0 });
    handler.handleMetrics([instance(REQUEST_COUNT, 1, a), instance(REQUEST_DURATION, 2_000_000, a)]);
    await handler.flush(neverAborted());
    // Interval 2 took interval 1's series; its payload fails (500, retries off) and is carried.
    trap.script({ status: 500 });
    handler.handleMetrics([instance(REQUEST_COUNT, 10, a), instance(REQUEST_DURATION, 40_000_000, a), instance(REQUEST_COUNT, 3, b)]);
    await handler.flush(neverAborted());
    // Interval 3 records the same streams while interval 2's series wait for the next submission.
    handler.handleMetrics([instance(REQUEST_COUNT, 100, a), instance(REQUEST_DURATION, 2_000_000, a)]);
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({
      'requestcount.instance.istio-system{destination_service=a,response_code=200}': { L: 110 },
      'requestcount.instance.istio-system{destination_service=b,response_code=200}': { L: 3 },
      'requestduration.instance.istio-system{destination_service=a,response_code=200}': hist(40_000_000, 2_000_000),
    });
    // And after the merged payload went out, the next interval starts from nothing again.
    handler.handleMetrics([instance(REQUEST_COUNT, 1, a)]);
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({ 'requestcount.instance.istio-system{destination_service=a,response_code=200}': { L: 1 } });
  });

  it('counts each interval once when the next one records the same stream while a failing PUT is out', async () => {
    const { handler } = await setup({ max_retries: 0 });
    handler.handleMetrics([instance(REQUEST_COUNT, 1, a)]);
    await handler.flush(neverAborted());
    // While interval 2's PUT is on its way (and about to fail), interval 3 records `a` too: into
    // a series of its own, taken from interval 1's settled store, never interval 2's.
    handler.handleMetrics([instance(REQUEST_COUNT, 20, a)]);
    trap.script({ status: 500 });
    const second = handler.flush(neverAborted());
    await trap.received(2);
    handler.handleMetrics([instance(REQUEST_COUNT, 300, a)]);
    await second;
    // Interval 2 was carried and goes out merged with interval 3: each counted once.
    await handler.flush(neverAborted());
    expect(lastPayload()).toEqual({ 'requestcount.instance.istio-system{destination_service=a,response_code=200}': { L: 320 } });
  });
});

describe('the dimension-tuple cache', () => {
  const metric: CirconusMetricConfig = {
    name: REQUEST_COUNT.name,
    type: CirconusMetricType.COUNTER,
    tagDimensions: ['destination_service', 'response_code'],
  };

  function recorder(s: InstanceSpec = REQUEST_COUNT) {
    const budget = { count: 0, max: 100 };
    return { r: new InstanceRecorder(s, metric, budget, { truncatedTagValues: () => undefined }), budget };
  }

  it('reuses the series of a tuple seen before and refreshes it after a store swap', () => {
    const { r, budget } = recorder();
    const one = new SeriesStore(1);
    const dims = { destination_service: 'reviews', response_code: 200 };
    r.record(instance(REQUEST_COUNT, 1, dims), one, 10);
    r.record(instance(REQUEST_COUNT, 2, dims), one, 10);
    expect(one.size).toBe(1);
    expect([...one.values()][0]?.value).toBe(3);
    const two = new SeriesStore(2);
    r.record(instance(REQUEST_COUNT, 5, dims), two, 10);
    expect([...two.values()][0]?.value).toBe(5);
    expect([...one.values()][0]?.value).toBe(3);
    expect(budget.count).toBe(1);
  });

  it('forgets tuples idle for a whole interval, so churned pods do not stay cached', () => {
    const { r, budget } = recorder();
    const first = new SeriesStore(1);
    r.record(instance(REQUEST_COUNT, 1, { destination_service: 'old-pod', response_code: 200 }), first, 10);
    r.record(instance(REQUEST_COUNT, 1, { destination_service: 'steady', response_code: 200 }), first, 10);
    r.sweep(1);
    expect(r.cachedTuples()).toBe(2);
    const second = new SeriesStore(2);
    r.record(instance(REQUEST_COUNT, 1, { destination_service: 'steady', response_code: 200 }), second, 10);
    r.sweep(2);
    expect(r.cachedTuples()).toBe(1);
    expect(budget.count).toBe(1);
  });

  it('caches no new tuple once the store is full, recording into the one overflow stream instead', () => {
    const { r, budget } = recorder();
    const store = new SeriesStore(1);
    expect(r.record(instance(REQUEST_COUNT, 1, { destination_service: 'a', response_code: 200 }), store, 1)).toBeUndefined();
    for (let i = 0; i < 50; i++) {
      expect(r.record(instance(REQUEST_COUNT, 1, { destination_service: `x${i}`, response_code: 200 }), store, 1)).toBe('overflow');
    }
    expect(budget.count).toBe(1);
    expect(r.cachedTuples()).toBe(1);
    expect(store.size).toBe(2);
    expect([...store.values()].map((s) => s.value)).toEqual([1, 50]);
  });
});
