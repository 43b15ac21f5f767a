import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValueType, type MetricInstance } from '../../../src/core/adapter.js';
import {
  CIRCONUS_EVENTS,
  CirconusMetricType,
  encodeBodyInSlices,
  encodePayload,
  InstanceRecorder,
  KeyOrder,
  Series,
  SeriesStore,
  TagKeyer,
  type CirconusMetricConfig,
} from '../../../src/adapters/circonus/index.js';
import { sortInSlices, TimeSlicer } from '../../../src/core/adapter.js';
import { Circllhist } from '../../../src/core/circllhist/index.js';
import { FAST_RETRIES, instance, neverAborted, REQUEST_COUNT, REQUEST_DURATION, spec, startHandler } from './support/fixtures.js';
import { decodePayload, readableName, startTrapServer, type TrapServer } from './support/trap-server.js';

/** Yields at every check, so a flush of any size spans many turns of the event loop. */
const EVERY_CHECK = { ...FAST_RETRIES, flushSliceMs: 0 };

let trap: TrapServer;
beforeEach(async () => {
  trap = await startTrapServer();
});
afterEach(async () => {
  await trap.close();
});

/** Four long tags, so a few thousand streams make a payload of several MB. */
const WIDE = spec('wide.instance.istio-system', ValueType.DURATION, {
  destination_service: ValueType.STRING,
  source_workload: ValueType.STRING,
  request_path: ValueType.STRING,
  response_code: ValueType.INT64,
});

function wideInstances(n: number, value = 1_500_000): MetricInstance[] {
  return Array.from({ length: n }, (_, i) =>
    instance(WIDE, value + i, {
      destination_service: `svc-${i % 97}.ns-${i % 7}.svc.cluster.local`,
      source_workload: `workload-${i}-${'w'.repeat(300)}`,
      request_path: `/api/v1/items/${i}/${'p'.repeat(400)}`,
      response_code: 200 + (i % 5),
    }),
  );
}

function readable(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, m] of decodePayload(body)) out[readableName(name)] = m.type === 'h' ? { h: m.histogram.toBvs() } : { [m.type]: m.value };
  return out;
}

describe('a flush of many streams', () => {
  it('sends the same bytes as the one-shot encoder, across megabytes of chunks', async () => {
    const { handler } = await startHandler({ submission_url: trap.url, metrics: [{ name: WIDE.name, type: 'DISTRIBUTION' }] }, [WIDE], EVERY_CHECK);
    const batch = wideInstances(3000);
    handler.handleMetrics(batch);
    await handler.flush(neverAborted());

    const store = new SeriesStore(1);
    const metric: CirconusMetricConfig = {
      name: WIDE.name,
      type: CirconusMetricType.DISTRIBUTION,
      tagDimensions: WIDE.dimensions.map((d) => d.name),
    };
    const recorder = new InstanceRecorder(WIDE, metric, { count: 0, max: 10_000 }, { truncatedTagValues: () => undefined });
    for (const inst of batch) recorder.record(inst, store, 10_000);
    const body = trap.requests[0]?.body ?? '';
    expect(body.length).toBeGreaterThan(2_000_000);
    expect(body).toBe(encodePayload(store.values()));
    expect(trap.requests[0]?.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });

  it('paces itself from the cost of the last flush, leaving the event loop free most of the time, and still sends every stream', async () => {
    const { handler } = await startHandler({ submission_url: trap.url, submission_interval: '2s', metrics: [{ name: WIDE.name, type: 'DISTRIBUTION' }] }, [WIDE], FAST_RETRIES);
    /** The flush's wall time and the share of it the event loop was busy (the encoding, the PUT and the trap server alike). */
    const timeFlush = async (): Promise<{ ms: number; busy: number }> => {
      handler.handleMetrics(wideInstances(3000));
      const t0 = performance.now();
      const elu0 = performance.eventLoopUtilization();
      await handler.flush(neverAborted());
      return { ms: performance.now() - t0, busy: performance.eventLoopUtilization(elu0).utilization };
    };
    // The first flush has no cost to go by and runs as fast as the event loop lets it.
    const first = await timeFlush();
    const second = await timeFlush();
    expect(trap.requests).toHaveLength(2);
    expect(trap.requests[1]!.body.length).toBe(trap.requests[0]!.body.length);
    expect(first.busy).toBeGreaterThan(0.8);
    // Paced at the floor share (5%) of a 1 s spread: the slices leave the loop idle in between,
    // and the flush still ends well within its 2 s interval.
    expect(second.busy).toBeLessThan(0.6);
    expect(second.ms).toBeLessThan(2_000);
  });

  it('lets the event loop turn while it encodes, before the PUT goes out', async () => {
    // A broker of our own, to see when the request starts.
    const events: string[] = [];
    const broker: Server = createServer((req, res) => {
      events.push('request');
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"stats":1}'));
    });
    await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', () => resolve()));
    try {
      const url = `http://127.0.0.1:${String((broker.address() as AddressInfo).port)}/module/httptrap/00000000-0000-4000-8000-000000000000/x`;
      const { handler, env } = await startHandler({ submission_url: url, metrics: [{ name: WIDE.name, type: 'DISTRIBUTION' }] }, [WIDE], EVERY_CHECK);
      handler.handleMetrics(wideInstances(2000));
      let turns = 0;
      let ticking = true;
      const tick = (): void => {
        if (!ticking) return;
        if (!events.includes('request')) turns++;
        setImmediate(tick);
      };
      setImmediate(tick);
      await handler.flush(neverAborted());
      ticking = false;
      expect(turns).toBeGreaterThan(10);
      expect(env.event(CIRCONUS_EVENTS.seriesSent)).toBe(2000);
    } finally {
      broker.closeAllConnections();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    }
  });

  it('keeps what is recorded while it runs for the next interval', async () => {
    const { handler } = await startHandler({ submission_url: trap.url, metrics: [{ name: WIDE.name, type: 'DISTRIBUTION' }] }, [WIDE], EVERY_CHECK);
    handler.handleMetrics(wideInstances(500));
    const flushing = handler.flush(neverAborted());
    await new Promise((resolve) => setImmediate(resolve));
    const late = instance(WIDE, 7_000_000, { destination_service: 'late', source_workload: 'w', request_path: '/', response_code: 200 });
    handler.handleMetrics([late]);
    await flushing;
    const first = readable(trap.requests[0]?.body ?? '{}');
    expect(Object.keys(first)).toHaveLength(500);
    expect(Object.keys(first).some((n) => n.includes('destination_service=late'))).toBe(false);
    await handler.flush(neverAborted());
    expect(readable(trap.requests[1]?.body ?? '{}')).toEqual({
      'wide.instance.istio-system{destination_service=late,request_path=/,response_code=200,source_workload=w}': { h: ['H[7.0e-03]=1'] },
    });
  });

  it('keeps its payload for the next flush when aborted while encoding', async () => {
    const { handler, env } = await startHandler({ submission_url: trap.url, metrics: [{ name: WIDE.name, type: 'DISTRIBUTION' }] }, [WIDE], EVERY_CHECK);
    handler.handleMetrics(wideInstances(300));
    const ctrl = new AbortController();
    const flushing = handler.flush(ctrl.signal);
    setImmediate(() => ctrl.abort(new Error('flush exceeded 10000 ms')));
    await flushing;
    expect(trap.requests).toHaveLength(0);
    expect(env.event(CIRCONUS_EVENTS.submitFailures)).toBe(1);
    expect(env.event(CIRCONUS_EVENTS.seriesRequeued)).toBe(300);
    await handler.flush(neverAborted());
    expect(Object.keys(readable(trap.requests[0]?.body ?? '{}'))).toHaveLength(300);
  });
});

describe('stream lookup by interned tag values', () => {
  it('puts each instance in the stream of its own values when sets share a dimensions array', async () => {
    const { handler } = await startHandler(
      {
        submission_url: trap.url,
        metrics: [
          { name: REQUEST_COUNT.name, type: 'COUNTER' },
          { name: REQUEST_DURATION.name, type: 'DISTRIBUTION' },
        ],
      },
      [REQUEST_COUNT, REQUEST_DURATION],
    );
    // As the core builds them: one dimensions array per attribute set, shared by its instances;
    // consecutive sets change one value, then come back to an earlier tuple.
    const sets: [string, number][] = [
      ['reviews', 200],
      ['reviews', 503],
      ['ratings', 503],
      ['reviews', 200],
    ];
    const batch: MetricInstance[] = [];
    for (const [service, code] of sets) {
      const dims = [service, code];
      const base = { monitoredResourceType: 'UNSPECIFIED', monitoredResourceDimensions: [] };
      batch.push({ ...base, spec: REQUEST_COUNT, value: 1, dimensions: dims }, { ...base, spec: REQUEST_DURATION, value: code * 1_000_000, dimensions: dims });
    }
    handler.handleMetrics(batch);
    await handler.flush(neverAborted());
    expect(readable(trap.requests[0]?.body ?? '{}')).toEqual({
      'requestcount.instance.istio-system{destination_service=reviews,response_code=200}': { L: 2 },
      'requestcount.instance.istio-system{destination_service=reviews,response_code=503}': { L: 1 },
      'requestcount.instance.istio-system{destination_service=ratings,response_code=503}': { L: 1 },
      'requestduration.instance.istio-system{destination_service=reviews,response_code=200}': { h: ['H[2.0e-01]=2'] },
      'requestduration.instance.istio-system{destination_service=reviews,response_code=503}': { h: ['H[5.0e-01]=1'] },
      'requestduration.instance.istio-system{destination_service=ratings,response_code=503}': { h: ['H[5.0e-01]=1'] },
    });
  });

  it('names new streams right after idle ones were forgotten and their ids reused', async () => {
    const { handler } = await startHandler({ submission_url: trap.url, metrics: [{ name: REQUEST_COUNT.name, type: 'COUNTER' }] }, [REQUEST_COUNT]);
    const count = (service: string, code: number): MetricInstance => instance(REQUEST_COUNT, 1, { destination_service: service, response_code: code });
    handler.handleMetrics([count('old-a', 200), count('old-b', 404)]);
    await handler.flush(neverAborted());
    handler.handleMetrics([count('steady', 200)]);
    // Forgets old-a and old-b (idle for a whole interval).
    await handler.flush(neverAborted());
    handler.handleMetrics([count('new-c', 500), count('new-d', 200), count('steady', 200), count('old-a', 404)]);
    await handler.flush(neverAborted());
    expect(readable(trap.requests[2]?.body ?? '{}')).toEqual({
      'requestcount.instance.istio-system{destination_service=new-c,response_code=500}': { L: 1 },
      'requestcount.instance.istio-system{destination_service=new-d,response_code=200}': { L: 1 },
      'requestcount.instance.istio-system{destination_service=steady,response_code=200}': { L: 1 },
      'requestcount.instance.istio-system{destination_service=old-a,response_code=404}': { L: 1 },
    });
  });

  it('overflows one metric at its limit while another with the same tags keeps its streams', async () => {
    const { handler, env } = await startHandler(
      {
        submission_url: trap.url,
        metrics: [
          { name: REQUEST_COUNT.name, type: 'COUNTER', max_series: 1 },
          { name: REQUEST_DURATION.name, type: 'DISTRIBUTION' },
        ],
      },
      [REQUEST_COUNT, REQUEST_DURATION],
    );
    const batch: MetricInstance[] = [];
    for (const service of ['a', 'b', 'c']) {
      const dims = { destination_service: service, response_code: 200 };
      batch.push(instance(REQUEST_COUNT, 1, dims), instance(REQUEST_DURATION, 1_000_000, dims));
    }
    handler.handleMetrics(batch);
    expect(env.event(CIRCONUS_EVENTS.instancesOverflowed)).toBe(2);
    await handler.flush(neverAborted());
    expect(readable(trap.requests[0]?.body ?? '{}')).toEqual({
      'requestcount.instance.istio-system{destination_service=a,response_code=200}': { L: 1 },
      'requestcount.instance.istio-system{destination_service=overflow,response_code=overflow}': { L: 2 },
      'requestduration.instance.istio-system{destination_service=a,response_code=200}': { h: ['H[1.0e-03]=1'] },
      'requestduration.instance.istio-system{destination_service=b,response_code=200}': { h: ['H[1.0e-03]=1'] },
      'requestduration.instance.istio-system{destination_service=c,response_code=200}': { h: ['H[1.0e-03]=1'] },
    });
  });
});

describe('the tag keyer', () => {
  const text = (v: unknown): string => String(v);

  it('finds every live tuple again after others are dropped and their ids reused', () => {
    const keyer = new TagKeyer([0, 1], [text, text]);
    const tupleOf = new Map<string, number>();
    const dims = (a: number, b: number): string[] => [`a${a}`, `b${b % 13}`];
    for (let i = 0; i < 3000; i++) {
      const d = dims(i, i);
      expect(keyer.resolve(d)).toBe(-1);
      const t = keyer.intern();
      keyer.retain(t);
      tupleOf.set(d.join('/'), t);
    }
    expect(keyer.tuples).toBe(3000);
    // Drop every third tuple, then add new ones that take their ids.
    for (let i = 0; i < 3000; i += 3) keyer.release(tupleOf.get(dims(i, i).join('/')) as number);
    for (let i = 3000; i < 4000; i++) {
      const d = dims(i, i);
      expect(keyer.resolve(d)).toBe(-1);
      const t = keyer.intern();
      keyer.retain(t);
      tupleOf.set(d.join('/'), t);
    }
    for (let i = 0; i < 4000; i++) {
      const d = dims(i, i);
      const expected = i < 3000 && i % 3 === 0 ? -1 : tupleOf.get(d.join('/'));
      expect(keyer.resolve(d)).toBe(expected);
    }
    expect(keyer.tuples).toBe(3000);
    // Values only dropped tuples held are gone; the 13 `b` values are all still held.
    expect(keyer.values).toBe(3000 + 13);
  });

  it('resolves a shared dimensions array once, and only changed values again', () => {
    let calls = 0;
    const counting = (v: unknown): string => {
      calls++;
      return String(v);
    };
    const keyer = new TagKeyer([0, 1, 2], [counting, counting, counting]);
    const first = ['x', 'y', 'z'];
    keyer.resolve(first);
    keyer.retain(keyer.intern());
    expect(calls).toBe(3);
    expect(keyer.resolve(first)).toBe(0);
    expect(calls).toBe(3);
    expect(keyer.resolve(['x', 'y', 'w'])).toBe(-1);
    expect(calls).toBe(4);
    expect(keyer.currentTexts()).toEqual(['x', 'y', 'w']);
  });
});

describe('sliced encoding', () => {
  it('writes exactly what encodePayload writes, escapes and Go key order included', async () => {
    const store = new SeriesStore(1);
    const names = ['b', 'B', 'a<&>"\\', '\u{1F600}', '\uFFFD', 'tab\there', 'line\u2028sep', 'é', 'lone\ud800'];
    for (let i = 0; i < 2000; i++) names.push(`m${i % 10}|ST[b"${Buffer.from(`v${i}`).toString('base64')}"]`);
    names.forEach((name, i) => {
      const kind = i % 4;
      if (kind === 0) store.getOrCreate(name, 'count', 'L', Infinity)?.addCount(i);
      else if (kind === 1) store.getOrCreate(name, 'sum', 'n', Infinity)?.addSum(i / 7);
      else if (kind === 2) store.getOrCreate(name, 'last', 'l', Infinity)?.set(-i);
      else store.getOrCreate(name, 'histogram', 'h', Infinity)?.insertIntScale(1_000_000 + i * 997, -9);
    });
    const body = await encodeBodyInSlices(store.values(), new TimeSlicer(0));
    const bytes = Buffer.concat([...body.chunks()].map((c) => Buffer.from(c, 'utf8')));
    expect(bytes.equals(Buffer.from(encodePayload(store.values()), 'utf8'))).toBe(true);
    expect(body.bytes).toBe(bytes.length);
    // Each series learns its member's size: what a requeue trims by.
    const members = [...store.values()].reduce((n, s) => n + s.encodedBytes, 0);
    expect(members + store.size - 1 + 2).toBe(bytes.length);
  });

  it('reuses the last key order across payloads and still writes what encodePayload writes', async () => {
    const order = new KeyOrder();
    const tagged = (i: number): string => `m${i % 7}|ST[b"${Buffer.from(`v${(i * 7919) % 3001}`).toString('base64')}"]`;
    // Each payload: some names of the last one gone, new ones before, between and after them,
    // and in the third a surrogate, which switches the comparison to Go's byte order.
    const payloads: string[][] = [
      Array.from({ length: 3000 }, (_, i) => tagged(i)),
      [...Array.from({ length: 3000 }, (_, i) => tagged(i)).filter((_, i) => i % 5 !== 0), 'a', 'zz', tagged(3001), tagged(4000)],
      [...Array.from({ length: 500 }, (_, i) => tagged(i)), '\u{1F600}', '\uFFFD'],
      [...Array.from({ length: 500 }, (_, i) => tagged(i)), '\uFFFD', 'b'],
      [],
      ['only'],
    ];
    for (const [n, names] of payloads.entries()) {
      const store = new SeriesStore(n);
      names.forEach((name, i) => store.getOrCreate(name, 'count', 'L', Infinity)?.addCount(i));
      const body = await encodeBodyInSlices(store.values(), new TimeSlicer(0), undefined, order);
      expect([...body.chunks()].join(''), `payload ${n}`).toBe(encodePayload(store.values()));
    }
  });

  it('leaves a usable key order when an encoding is aborted at any point', async () => {
    const order = new KeyOrder();
    const store = (names: readonly string[]): SeriesStore => {
      const st = new SeriesStore(1);
      for (const name of names) st.getOrCreate(name, 'count', 'L', Infinity)?.addCount(1);
      return st;
    };
    const names = Array.from({ length: 5000 }, (_, i) => `n${(i * 7919) % 5003}`);
    await encodeBodyInSlices(store(names).values(), new TimeSlicer(0), undefined, order);
    // Aborted after 40 to 120 turns of the event loop: in the scan, the sort or the positions.
    for (let turns = 40; turns <= 120; turns += 8) {
      const abort = new AbortController();
      let seen = 0;
      const tick = (): void => {
        if (++seen === turns) abort.abort(new Error('flush overran'));
        else setImmediate(tick);
      };
      setImmediate(tick);
      await encodeBodyInSlices(store([...names, `extra${turns}`]).values(), new TimeSlicer(0), abort.signal, order).catch(() => undefined);
      abort.abort();
      const next = store([...names.slice(turns), `new${turns}`]);
      expect([...(await encodeBodyInSlices(next.values(), new TimeSlicer(0), undefined, order)).chunks()].join('')).toBe(encodePayload(next.values()));
    }
  });

  it('encodes an empty store as {}', async () => {
    const body = await encodeBodyInSlices([], new TimeSlicer(0));
    expect([...body.chunks()].join('')).toBe('{}');
    expect(body.bytes).toBe(2);
  });

  it('sorts like Array#sort whatever the slicing', async () => {
    const items = Array.from({ length: 5000 }, (_, i) => `k${((i * 7919) % 5003).toString(36)}`);
    const byUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    expect(await sortInSlices([...items], byUnits, new TimeSlicer(0))).toEqual([...items].sort(byUnits));
    expect(await sortInSlices(['b', 'a'], byUnits, new TimeSlicer(0))).toEqual(['a', 'b']);
    expect(await sortInSlices([], byUnits, new TimeSlicer(0))).toEqual([]);
  });

  it('merges a carried payload into the next one in slices, exactly', async () => {
    const older = new SeriesStore(1);
    const newer = new SeriesStore(2);
    for (let i = 0; i < 1000; i++) {
      older.getOrCreate(`c${i}`, 'count', 'L', Infinity)?.addCount(1);
      newer.getOrCreate(`c${i + 500}`, 'count', 'L', Infinity)?.addCount(2);
    }
    (older.getOrCreate('h', 'histogram', 'h', Infinity) as Series).insert(1);
    (newer.getOrCreate('h', 'histogram', 'h', Infinity) as Series).insert(1);
    await older.absorbNewerInSlices(newer, new TimeSlicer(0));
    expect(older.size).toBe(1501);
    expect(older.get('c0')?.value).toBe(1);
    expect(older.get('c700')?.value).toBe(3);
    expect(older.get('c1400')?.value).toBe(2);
    expect((older.get('h')?.value as Circllhist).sampleCount()).toBe(2n);
  });
});
