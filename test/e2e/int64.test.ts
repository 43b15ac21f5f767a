import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttributeSet, buildReport, dur, int, str } from '../../src/client/compressor.js';
import { startTelemux, type Running } from '../support/harness.js';
import { INT64_MAX as MAX, INT64_MIN as MIN, P53, P53_1 } from '../support/int64-arbitrary.js';
import { sampleOf } from '../support/prom-text.js';

/** INT64 attributes through expressions into labels, matches and values. */
const CONFIG = `
apiVersion: config.istio.io/v1alpha2
kind: attributemanifest
metadata: {name: attrs, namespace: istio-system}
spec:
  attributes:
    request.path: {valueType: STRING}
    request.size: {valueType: INT64}
    response.size: {valueType: INT64}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: sizes, namespace: istio-system}
spec:
  compiledTemplate: metric
  params:
    value: request.size
    dimensions:
      path: request.path
      size: request.size
      next: request.size + 1
      is_p53_1: request.size == 9007199254740993
      below_max: request.size < 9223372036854775807
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: hits, namespace: istio-system}
spec:
  compiledTemplate: metric
  params: {value: "1", dimensions: {path: request.path}}
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: prom, namespace: istio-system}
spec:
  compiledAdapter: prometheus
  params:
    metrics:
    - {name: size_last, instance_name: sizes.instance.istio-system, kind: GAUGE, label_names: [path, size, next, is_p53_1, below_max]}
    - {name: exact_hits_total, instance_name: hits.instance.istio-system, kind: COUNTER, label_names: [path]}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: all, namespace: istio-system}
spec:
  actions: [{handler: prom, instances: [sizes]}]
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: exact, namespace: istio-system}
spec:
  match: response.size == 9007199254740993
  actions: [{handler: prom, instances: [hits]}]
`;

describe('INT64 attributes beyond 2^53 reported over gRPC', () => {
  let t: Running;
  beforeAll(async () => {
    t = await startTelemux({ configYaml: CONFIG });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('become exact label text in /metrics, through expressions, with Go int64 wrap-around on +', async () => {
    const sets: AttributeSet[] = [
      { 'request.path': str('/p53+1'), 'request.size': int(P53_1) },
      { 'request.path': str('/p53'), 'request.size': int(P53) },
      { 'request.path': str('/max'), 'request.size': int(MAX) },
      { 'request.path': str('/min'), 'request.size': int(MIN) },
      { 'request.path': str('/small'), 'request.size': int(42) },
    ];
    expect(await t.report(buildReport(sets))).toEqual({ code: 0, details: '' });
    const text = await t.scrapeText();
    const family = (await t.scrape()).find((f) => f.name === 'istio_size_last')!;
    const byPath = new Map(family.metrics.map((m) => [m.labels['path'], m]));
    expect(byPath.get('/p53+1')?.labels).toEqual({ path: '/p53+1', size: '9007199254740993', next: '9007199254740994', is_p53_1: 'true', below_max: 'true' });
    expect(byPath.get('/p53')?.labels).toEqual({ path: '/p53', size: '9007199254740992', next: '9007199254740993', is_p53_1: 'false', below_max: 'true' });
    expect(byPath.get('/max')?.labels).toEqual({ path: '/max', size: '9223372036854775807', next: '-9223372036854775808', is_p53_1: 'false', below_max: 'false' });
    expect(byPath.get('/min')?.labels).toEqual({ path: '/min', size: '-9223372036854775808', next: '-9223372036854775807', is_p53_1: 'false', below_max: 'true' });
    expect(byPath.get('/small')?.labels).toEqual({ path: '/small', size: '42', next: '43', is_p53_1: 'false', below_max: 'true' });
    // The raw exposition line, as Prometheus reads it.
    expect(text).toContain('istio_size_last{below_max="false",is_p53_1="false",next="-9223372036854775808",path="/max",size="9223372036854775807"} 9.223372036854776e+18');
    // Sample values are floats in Prometheus: the nearest double, as Mixer's float64 conversion gave.
    expect(byPath.get('/max')?.value).toBe('9.223372036854776e+18');
    expect(byPath.get('/min')?.value).toBe('-9.223372036854776e+18');
    expect(byPath.get('/small')?.value).toBe('42');
  });

  it('matches a rule on == with a big literal only for that exact value, not its double neighbour', async () => {
    const sets: AttributeSet[] = [
      { 'request.path': str('/exact'), 'request.size': int(1), 'response.size': int(P53_1) },
      { 'request.path': str('/neighbour'), 'request.size': int(1), 'response.size': int(P53) },
      { 'request.path': str('/exact'), 'request.size': int(1), 'response.size': int(P53_1) },
    ];
    const res = await t.report(buildReport(sets));
    expect(res).toEqual({ code: 0, details: '' });
    const families = await t.scrape();
    expect(sampleOf(families, 'istio_exact_hits_total', { path: '/exact' })?.value).toBe('2');
    expect(sampleOf(families, 'istio_exact_hits_total', { path: '/neighbour' })).toBeUndefined();
  });
});

describe('INT64 attributes beyond 2^53 with the embedded Istio 1.4 config', () => {
  let t: Running;
  beforeAll(async () => {
    t = await startTelemux();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('keep response_code label text exact for 2^53 + 1, int64 max and int64 min', async () => {
    const set = (host: string, code: bigint): AttributeSet => ({
      'context.protocol': str('http'),
      'context.reporter.kind': str('inbound'),
      'destination.service.host': str(host),
      'response.code': int(code),
      'response.duration': dur(1e6),
      'request.size': int(code),
    });
    const sets = [set('a.default.svc.cluster.local', P53_1), set('b.default.svc.cluster.local', MAX), set('c.default.svc.cluster.local', MIN)];
    expect((await t.report(buildReport(sets))).code).toBe(0);
    const families = await t.scrape();
    const codes = (host: string): string[] =>
      families.find((f) => f.name === 'istio_requests_total')!.metrics.filter((m) => m.labels['destination_service'] === host).map((m) => m.labels['response_code']!);
    expect(codes('a.default.svc.cluster.local')).toEqual(['9007199254740993']);
    expect(codes('b.default.svc.cluster.local')).toEqual(['9223372036854775807']);
    expect(codes('c.default.svc.cluster.local')).toEqual(['-9223372036854775808']);
    // request.size is istio_request_bytes' value: a float sample.
    const bytes = sampleOf(families, 'istio_request_bytes', { destination_service: 'b.default.svc.cluster.local' })!;
    expect(bytes.sum).toBe('9.223372036854776e+18');
    expect(bytes.count).toBe('1');
  });
});
