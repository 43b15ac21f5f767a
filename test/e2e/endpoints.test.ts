import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, int, str } from '../../src/client/compressor.js';
import { CheckResponse, type CheckRequest } from '../../src/gen/istio/mixer/v1/mixer.js';
import { appendixA } from '../support/appendix-a.js';
import { startTelemux, type Running } from '../support/harness.js';
import { parsePrometheusText, sampleOf } from '../support/prom-text.js';

const TWO_HANDLERS = `
apiVersion: config.istio.io/v1alpha2
kind: attributemanifest
metadata: {name: attrs, namespace: istio-system}
spec:
  attributes:
    request.path: {valueType: STRING}
    response.code: {valueType: INT64}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: hits, namespace: istio-system}
spec:
  compiledTemplate: metric
  params: {value: "1", dimensions: {path: request.path | "none"}}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: codes, namespace: istio-system}
spec:
  compiledTemplate: metric
  params: {value: response.code | 0, dimensions: {path: request.path | "none"}}
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: prom-a, namespace: istio-system}
spec:
  compiledAdapter: prometheus
  params:
    metrics: [{name: hits_total, instance_name: hits.instance.istio-system, kind: COUNTER, label_names: [path]}]
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: prom-b, namespace: istio-system}
spec:
  compiledAdapter: prometheus
  params:
    metrics: [{name: last_code, namespace: app, instance_name: codes.instance.istio-system, kind: GAUGE, label_names: [path]}]
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: all, namespace: istio-system}
spec:
  actions:
  - {handler: prom-a, instances: [hits]}
  - {handler: prom-b, instances: [codes]}
`;

describe('endpoints', () => {
  let t: Running;
  beforeAll(async () => {
    t = await startTelemux();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers Check as Mixer does without policy adapters: OK, valid for 1 minute or 10000 uses', async () => {
    const req: CheckRequest = { attributes: appendixA().attributes[0], globalWordCount: 222, deduplicationId: 'x', quotas: {} };
    const res = await new Promise<CheckResponse>((resolve, reject) => t.client.check(req, (err, r) => (err ? reject(err) : resolve(r))));
    expect(res.precondition?.status?.code).toBe(0);
    expect(res.precondition?.validDuration).toEqual({ seconds: 60n, nanos: 0 });
    expect(res.precondition?.validUseCount).toBe(10000);
  });

  it('serves OpenMetrics 1.0 with # EOF when the scraper asks for it, and text 0.0.4 otherwise', async () => {
    await t.report(appendixA());
    const metricsUrl = `http://127.0.0.1:${t.addresses.metrics.port}/metrics`;
    const om = await fetch(metricsUrl, { headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' } });
    expect(om.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const omText = await om.text();
    expect(omText.endsWith('# EOF\n')).toBe(true);
    expect(omText).toContain('# TYPE istio_requests counter');
    const plain = await fetch(metricsUrl);
    expect(plain.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await plain.text();
    expect(text).not.toContain('# EOF');
    expect(text).toContain('# TYPE istio_requests_total counter');
  });

  it('serves self-metrics, health, readiness and version on the admin port', async () => {
    await t.report(buildReport([{ 'context.protocol': str('http'), 'response.code': int(200) }]));
    const self = parsePrometheusText(await (await t.admin('/metrics')).text());
    expect(Number(sampleOf(self, 'telemux_reports_total', { code: 'OK' })?.value)).toBeGreaterThan(0);
    expect(Number(sampleOf(self, 'telemux_attribute_sets_total')?.value)).toBeGreaterThan(0);
    expect(Number(sampleOf(self, 'telemux_instances_total', { handler: 'prometheus.handler.istio-system' })?.value)).toBeGreaterThan(0);
    expect(Number(sampleOf(self, 'telemux_handler_live_series', { handler: 'prometheus.handler.istio-system' })?.value)).toBeGreaterThan(0);
    expect(sampleOf(self, 'telemux_dispatch_duration_seconds', { handler: 'prometheus.handler.istio-system', error: 'false' })?.count).toBeDefined();
    expect(self.find((f) => f.name === 'telemux_config_info')?.metrics[0]?.labels['hash']).toMatch(/^[0-9a-f]{64}$/);
    expect((await t.admin('/healthz')).status).toBe(200);
    expect((await t.admin('/readyz')).status).toBe(200);
    expect(await (await t.admin('/version')).json()).toMatchObject({ name: 'telemux', version: expect.any(String) });
    expect((await t.admin('/nope')).status).toBe(404);
  });
});

describe('several prometheus handlers', () => {
  it('are served together from the one metrics port', async () => {
    const t = await startTelemux({ configYaml: TWO_HANDLERS });
    try {
      await t.report(buildReport([{ 'request.path': str('/a'), 'response.code': int(503) }, { 'request.path': str('/a'), 'response.code': int(200) }]));
      const families = await t.scrape();
      expect(sampleOf(families, 'istio_hits_total', { path: '/a' })?.value).toBe('2');
      expect(sampleOf(families, 'app_last_code', { path: '/a' })?.value).toBe('200');
    } finally {
      await t.stop();
    }
  });
});
