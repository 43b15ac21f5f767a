import { describe, expect, it } from 'vitest';
import { Timestamp, ValueType } from '../../../src/core/adapter.js';
import type { PrometheusHandler } from '../../../src/adapters/prometheus/handler.js';
import { histogramOf, histogramSamples, parseExposition, sampleOf } from './real-parser.js';
import {
  DEFAULT_INSTANCES,
  defaultHandlerParams,
  httpDims,
  instance,
  spec,
  startHandler,
  testEnv,
} from './fixtures.js';

const [REQUEST_COUNT, REQUEST_DURATION, REQUEST_SIZE, RESPONSE_SIZE] = DEFAULT_INSTANCES as [
  (typeof DEFAULT_INSTANCES)[number],
  (typeof DEFAULT_INSTANCES)[number],
  (typeof DEFAULT_INSTANCES)[number],
  (typeof DEFAULT_INSTANCES)[number],
];

async function defaultHandler() {
  return startHandler(defaultHandlerParams(), DEFAULT_INSTANCES);
}

describe('prometheus handler', () => {
  it('counts requests per label set', async () => {
    const { handler, env } = await defaultHandler();
    const result = handler.handleMetrics([
      instance(REQUEST_COUNT, 1, httpDims()),
      instance(REQUEST_COUNT, 1, httpDims()),
      instance(REQUEST_COUNT, 1, httpDims({ response_code: 404 })),
    ]);
    expect(result).toBeUndefined();
    const families = parseExposition(env.exposition.render());
    const family = families.find((f) => f.name === 'istio_requests_total');
    expect(family?.type).toBe('COUNTER');
    expect(family?.help).toBe('requests_total');
    expect(family?.metrics).toHaveLength(2);
    expect(sampleOf(families, 'istio_requests_total', { response_code: '200' })?.value).toBe('2');
    expect(sampleOf(families, 'istio_requests_total', { response_code: '404' })?.value).toBe('1');
    expect(sampleOf(families, 'istio_requests_total', { response_code: '200' })?.labels).toEqual({
      connection_security_policy: 'mutual_tls',
      destination_app: 'unknown',
      destination_principal: 'unknown',
      destination_service: 'reviews.default.svc.cluster.local',
      destination_service_name: 'unknown',
      destination_service_namespace: 'unknown',
      destination_version: 'unknown',
      destination_workload: 'unknown',
      destination_workload_namespace: 'unknown',
      permissive_response_code: 'none',
      permissive_response_policyid: 'none',
      reporter: 'destination',
      request_protocol: 'http',
      response_code: '200',
      response_flags: '-',
      source_app: 'unknown',
      source_principal: 'unknown',
      source_version: 'unknown',
      source_workload: 'unknown',
      source_workload_namespace: 'unknown',
    });
    expect(handler.liveSeries?.()).toBe(2);
  });

  it('observes request durations in seconds into the configured buckets', async () => {
    const { handler, env } = await defaultHandler();
    handler.handleMetrics([
      instance(REQUEST_DURATION, 12_500_000, httpDims()),
      instance(REQUEST_DURATION, 300_000_000, httpDims()),
      instance(REQUEST_DURATION, 20_000_000_000, httpDims()),
      instance(REQUEST_DURATION, 5_000_000, httpDims()),
      instance(REQUEST_DURATION, 1_000_000_000, httpDims({ response_code: 404 })),
    ]);
    const text = env.exposition.render();
    expect(parseExposition(text).find((f) => f.name === 'istio_request_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(histogramSamples(text, 'istio_request_duration_seconds')).toHaveLength(2);
    const h = histogramOf(text, 'istio_request_duration_seconds', { response_code: '200' });
    expect(h.labels.reporter).toBe('destination');
    expect(h.buckets).toEqual({
      '0.005': '1',
      '0.01': '1',
      '0.025': '2',
      '0.05': '2',
      '0.1': '2',
      '0.25': '2',
      '0.5': '3',
      '1': '3',
      '2.5': '3',
      '5': '3',
      '10': '3',
      '+Inf': '4',
    });
    expect(h.count).toBe('4');
    expect(Number(h.sum)).toBe(0.0125 + 0.3 + 20 + 0.005);
    const notFound = histogramOf(text, 'istio_request_duration_seconds', { response_code: '404' });
    expect(notFound.buckets['0.5']).toBe('0');
    expect(notFound.buckets['1']).toBe('1');
    expect(notFound.count).toBe('1');
    expect(notFound.sum).toBe('1');
  });

  it('observes sizes into the exponential 1 … 1e8 buckets', async () => {
    const { handler, env } = await defaultHandler();
    handler.handleMetrics([
      instance(REQUEST_SIZE, 123, httpDims()),
      instance(REQUEST_SIZE, 0, httpDims()),
      instance(RESPONSE_SIZE, 2e9, httpDims()),
    ]);
    const text = env.exposition.render();
    const request = histogramOf(text, 'istio_request_bytes');
    expect(request.buckets).toEqual({
      '1': '1',
      '10': '1',
      '100': '1',
      '1000': '2',
      '10000': '2',
      '100000': '2',
      '1e+06': '2',
      '1e+07': '2',
      '1e+08': '2',
      '+Inf': '2',
    });
    expect(request.sum).toBe('123');
    expect(request.count).toBe('2');
    const response = histogramOf(text, 'istio_response_bytes');
    expect(response.buckets['1e+08']).toBe('0');
    expect(response.buckets['+Inf']).toBe('1');
    expect(response.sum).toBe('2e+09');
    expect(histogramSamples(text, 'istio_response_bytes')).toHaveLength(1);
  });

  it('sets gauges to the last value and adds counters, parsing numeric strings', async () => {
    const g = spec('temp.instance.ns', ValueType.DOUBLE, ['room']);
    const c = spec('bytes.instance.ns', ValueType.STRING, ['room']);
    const { handler, env } = await startHandler(
      {
        metrics: [
          { name: 'temperature', instance_name: g.name, kind: 'GAUGE', label_names: ['room'] },
          { name: 'bytes_total', instance_name: c.name, kind: 'COUNTER', label_names: ['room'] },
        ],
      },
      [g, c],
    );
    handler.handleMetrics([
      instance(g, 20.5, { room: 'a' }),
      instance(g, -3.25, { room: 'a' }),
      instance(c, '1.5', { room: 'a' }),
      instance(c, '1e3', { room: 'a' }),
    ]);
    const families = parseExposition(env.exposition.render());
    expect(sampleOf(families, 'istio_temperature', { room: 'a' })?.value).toBe('-3.25');
    expect(sampleOf(families, 'istio_bytes_total', { room: 'a' })?.value).toBe('1001.5');
  });

  it('drops only the failing instances of a batch and says why', async () => {
    const { handler, env } = await defaultHandler();
    const text = spec('requestcount.instance.istio-system', ValueType.STRING, REQUEST_COUNT.dimensions.map((d) => [d.name, d.type] as [string, ValueType]));
    const result = handler.handleMetrics([
      instance(REQUEST_COUNT, 1, httpDims()),
      instance(REQUEST_COUNT, -1, httpDims({ response_code: 500 })),
      instance(spec('stray.instance.istio-system', ValueType.INT64), 1),
      instance(text, 'lots', httpDims()),
      instance(REQUEST_COUNT, null, httpDims()),
      instance(REQUEST_COUNT, 2, httpDims()),
    ]);
    expect(result?.failed).toBe(4);
    expect(result?.message).toContain('could not find metric info from adapter config for stray.instance.istio-system');
    expect(result?.message).toContain('counter cannot decrease in value');
    expect(result?.message).toContain('strconv.ParseFloat: parsing "lots": invalid syntax');
    expect(result?.message).toContain('could not extract numeric value for <nil>');
    const families = parseExposition(env.exposition.render());
    // The negative add created no series.
    expect(families.find((f) => f.name === 'istio_requests_total')?.metrics).toHaveLength(1);
    expect(sampleOf(families, 'istio_requests_total')?.value).toBe('3');
    expect(env.events.get('negative_counter')).toBe(1);
    expect(env.events.get('unknown_instance')).toBe(1);
    expect(env.events.get('bad_value')).toBe(2);
  });

  it('refuses NaN for a counter or a histogram, which would keep it for good, and sets a gauge to it', async () => {
    const g = spec('temp.instance.ns', ValueType.STRING, ['room']);
    const c = spec('bytes.instance.ns', ValueType.STRING, ['room']);
    const h = spec('size.instance.ns', ValueType.DOUBLE, ['room']);
    const { handler, env } = await startHandler(
      {
        metrics: [
          { name: 'temperature', instance_name: g.name, kind: 'GAUGE', label_names: ['room'] },
          { name: 'bytes_total', instance_name: c.name, kind: 'COUNTER', label_names: ['room'] },
          { name: 'size', instance_name: h.name, kind: 'DISTRIBUTION', label_names: ['room'], buckets: { explicit_buckets: { bounds: [1] } } },
        ],
      },
      [g, c, h],
    );
    const result = handler.handleMetrics([
      instance(g, 'NaN', { room: 'a' }),
      instance(c, '2', { room: 'a' }),
      instance(c, 'NaN', { room: 'a' }),
      instance(c, '+Inf', { room: 'b' }),
      instance(h, 0.5, { room: 'a' }),
      instance(h, NaN, { room: 'a' }),
      instance(c, '3', { room: 'a' }),
    ]);
    expect(result?.failed).toBe(2);
    expect(result?.message).toContain('could not add NaN to counter istio_bytes_total for bytes.instance.ns: a counter total is never NaN');
    expect(result?.message).toContain('could not observe NaN in histogram istio_size for size.instance.ns: a histogram sum is never NaN');
    expect(env.events.get('bad_value')).toBe(2);
    for (const format of ['prometheus-text-0.0.4', 'openmetrics-1.0.0'] as const) {
      const text = env.exposition.render(format);
      const om = format === 'openmetrics-1.0.0';
      expect(text).toContain('istio_temperature{room="a"} NaN\n');
      expect(text).toContain(`istio_bytes_total{room="a"} ${om ? '5.0' : '5'}\n`);
      expect(text).toContain('istio_bytes_total{room="b"} +Inf\n');
      expect(text).toContain(`istio_size_sum{room="a"} 0.5\n`);
      expect(text).toContain('istio_size_count{room="a"} 1\n');
    }
  });

  it('reports a lone failure with its own message', async () => {
    const { handler } = await defaultHandler();
    const result = handler.handleMetrics([instance(spec('stray.instance.ns', ValueType.INT64), 1)]);
    expect(result).toEqual({ failed: 1, message: 'could not find metric info from adapter config for stray.instance.ns' });
  });

  it('stringifies label values by the dimension type, as Mixer did', async () => {
    const s = spec('typed.instance.ns', ValueType.INT64, [
      ['ip', ValueType.IP_ADDRESS],
      ['latency', ValueType.DURATION],
      ['secure', ValueType.BOOL],
      ['ratio', ValueType.DOUBLE],
      ['at', ValueType.TIMESTAMP],
      ['headers', ValueType.STRING_MAP],
      ['code', ValueType.INT64],
    ]);
    const { handler, env } = await startHandler(
      { metrics: [{ name: 'typed_total', instance_name: s.name, kind: 'COUNTER', label_names: ['ip', 'latency', 'secure', 'ratio', 'at', 'headers', 'code'] }] },
      [s],
    );
    handler.handleMetrics([
      instance(s, 1, {
        ip: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 5]),
        latency: 1_500_000_000,
        secure: true,
        ratio: 1e21,
        at: new Timestamp(1_700_000_000, 123_456_789),
        headers: new Map([
          ['z', '1'],
          ['a', '2'],
        ]),
        code: 503,
      }),
    ]);
    const families = parseExposition(env.exposition.render());
    expect(sampleOf(families, 'istio_typed_total')?.labels).toEqual({
      at: '2023-11-14T22:13:20.123456Z',
      code: '503',
      headers: 'a=2&z=1',
      ip: '10.0.0.5',
      latency: '1.5s',
      ratio: '1000000000000000000000',
      secure: 'true',
    });
  });

  it('accepts an equivalent instance spec object and rejects one whose dimensions changed', async () => {
    const s = spec('x.instance.ns', ValueType.INT64, ['a', 'b']);
    const { handler, env } = await startHandler({ metrics: [{ name: 'x_total', instance_name: s.name, kind: 'COUNTER', label_names: ['a', 'b'] }] }, [s]);
    const reordered = spec('x.instance.ns', ValueType.INT64, ['b', 'a']);
    const changed = spec('x.instance.ns', ValueType.INT64, ['a', 'c']);
    const result = handler.handleMetrics([instance(reordered, 2, { a: '1', b: '2' }), instance(s, 1, { a: '1', b: '2' }), instance(changed, 1, { a: '1', c: '3' })]);
    expect(result?.failed).toBe(1);
    expect(result?.message).toContain('do not match the labels');
    const families = parseExposition(env.exposition.render());
    expect(sampleOf(families, 'istio_x_total', { a: '1', b: '2' })?.value).toBe('3');
  });

  it('merges two instances that share one family', async () => {
    const a = spec('a.instance.ns', ValueType.INT64, ['k']);
    const b = spec('b.instance.ns', ValueType.INT64, ['k']);
    const metric = (i: string) => ({ name: 'events_total', instance_name: i, kind: 'COUNTER', label_names: ['k'] });
    const { handler, env } = await startHandler({ metrics: [metric(a.name), metric(b.name)] }, [a, b]);
    handler.handleMetrics([instance(a, 1, { k: 'v' }), instance(b, 2, { k: 'v' }), instance(b, 1, { k: 'w' })]);
    const families = parseExposition(env.exposition.render());
    expect(families.filter((f) => f.name === 'istio_events_total')).toHaveLength(1);
    expect(sampleOf(families, 'istio_events_total', { k: 'v' })?.value).toBe('3');
    expect(sampleOf(families, 'istio_events_total', { k: 'w' })?.value).toBe('1');
  });

  it('sends label sets past max_series to one overflow series, keeping none of their values', async () => {
    const a = spec('a.instance.ns', ValueType.INT64, ['path', 'code']);
    const b = spec('b.instance.ns', ValueType.INT64, ['path', 'code']);
    const { handler, env } = await startHandler(
      {
        metrics: [
          { name: 'a_total', instance_name: a.name, kind: 'COUNTER', label_names: ['path', 'code'], max_series: 2 },
          { name: 'b_total', instance_name: b.name, kind: 'COUNTER', label_names: ['path', 'code'] },
        ],
      },
      [a, b],
    );
    const prom = handler as PrometheusHandler;
    // The same dimensions object for both instances, as the core hands them over.
    const batch = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ path: `/p/${from + i}`, code: '200' })).flatMap((d) => [instance(a, 1, d), instance(b, 1, d)]);
    expect(handler.handleMetrics(batch(0, 2))).toBeUndefined();
    const held = prom.labelValuesHeld();
    // Both label sets past a's cap still get series of their own in b, whose cap is not reached.
    expect(handler.handleMetrics(batch(2, 2))).toBeUndefined();
    expect(prom.labelValuesHeld()).toBe(held + 2 + 1);
    // With b capped as well (by the handler-wide cap of a fresh handler), nothing is kept.
    const { handler: capped } = await startHandler(
      { max_series: 2, metrics: [{ name: 'a_total', instance_name: a.name, kind: 'COUNTER', label_names: ['path', 'code'] }] },
      [a],
    );
    const single = (from: number, n: number) => Array.from({ length: n }, (_, i) => instance(a, 1, { path: `/q/${from + i}`, code: '200' }));
    capped.handleMetrics(single(0, 2));
    const before = (capped as PrometheusHandler).labelValuesHeld();
    for (let r = 0; r < 20; r++) capped.handleMetrics(single(2 + r * 500, 500));
    expect((capped as PrometheusHandler).labelValuesHeld()).toBe(before + 1);
    // Known label sets keep their own series after the cap is reached.
    capped.handleMetrics(single(0, 1));
    const families = parseExposition(env.exposition.render());
    expect(sampleOf(families, 'istio_a_total', { path: '__overflow__', code: '__overflow__' })?.value).toBe('2');
    expect(sampleOf(families, 'istio_b_total', { path: '/p/3', code: '200' })?.value).toBe('1');
    expect(env.events.get('series_overflow')).toBe(2);
  });

  it('logs overflows at most once a minute, with the count per metric since the last line', async () => {
    const a = spec('a.instance.ns', ValueType.INT64, ['path']);
    const lines: { msg: string; fields: Record<string, unknown> }[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      error: () => undefined,
      warn: (msg: string, fields?: Record<string, unknown>) => void lines.push({ msg, fields: fields ?? {} }),
      child: () => logger,
    };
    const env = { ...testEnv(), logger };
    const { handler } = await startHandler(
      {
        metricsExpirationPolicy: { metricsExpiryDuration: '10m' },
        metrics: [{ name: 'a_total', instance_name: a.name, kind: 'COUNTER', label_names: ['path'], max_series: 1 }],
      },
      [a],
      env,
    );
    const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => instance(a, 1, { path: `/${from + i}` }));
    handler.handleMetrics(batch(0, 3));
    handler.handleMetrics(batch(3, 5));
    expect(lines.map((l) => [l.fields['total'], l.fields['by']])).toEqual([[2, 'istio_a_total=2']]);
    // A minute later the expiry check writes what came since, though no overflow has come after it.
    env.clock.advance(61_000);
    await handler.flush!(new AbortController().signal);
    expect(lines.map((l) => [l.fields['total'], l.fields['by']])).toEqual([
      [2, 'istio_a_total=2'],
      [5, 'istio_a_total=5'],
    ]);
    expect(lines[1]?.msg).toBe('series cap reached: new label sets go to the overflow series');
    expect(env.events.get('series_overflow')).toBe(7);
  });

  it('exposes nothing for a metric that has no series yet', async () => {
    const { env } = await defaultHandler();
    expect(env.exposition.render()).toBe('');
  });

  it('registers its exposition source on start and removes it on close, once', async () => {
    const env = testEnv('prom.handler.ns');
    const { handler } = await startHandler(defaultHandlerParams(), DEFAULT_INSTANCES, env);
    expect([...env.exposition.sources.keys()]).toEqual(['prom.handler.ns']);
    await handler.close();
    await handler.close();
    expect(env.exposition.sources.size).toBe(0);
  });

  it('does not remove a replacement source registered under the same name', async () => {
    const env = testEnv();
    const { handler: old } = await startHandler(defaultHandlerParams(), DEFAULT_INSTANCES, env);
    const { handler: replacement } = await startHandler(defaultHandlerParams(), DEFAULT_INSTANCES, env);
    await old.close();
    expect(env.exposition.sources.size).toBe(1);
    await replacement.close();
    expect(env.exposition.sources.size).toBe(0);
  });

  it('closes safely when it was never started', async () => {
    const { prometheusAdapter } = await import('../../../src/adapters/prometheus/index.js');
    const env = testEnv();
    const cfg = prometheusAdapter.parseConfig({}, [], { issue: () => undefined, warn: () => undefined });
    const handler = prometheusAdapter.createHandler(cfg, [], env);
    await expect(handler.close()).resolves.toBeUndefined();
    expect(handler.flushIntervalMs).toBeUndefined();
  });
});
