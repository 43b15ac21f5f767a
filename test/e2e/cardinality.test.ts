import { describe, expect, it } from 'vitest';
import { buildReport, int, str } from '../../src/client/compressor.js';
import { startTelemux } from '../support/harness.js';

const CONFIG = `
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
  params: {value: "1", dimensions: {path: request.path | "none", code: response.code | 0}}
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: prom, namespace: istio-system}
spec:
  compiledAdapter: prometheus
  params:
    metrics: [{name: hits_total, instance_name: hits.instance.istio-system, kind: COUNTER, label_names: [path, code], max_series: 1000}]
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: all, namespace: istio-system}
spec:
  actions: [{handler: prom, instances: [hits]}]
`;

describe('the Prometheus cardinality guard', () => {
  it('keeps 100,000 distinct label sets to 1,000 series plus one overflow series whose counts still add up', async () => {
    const t = await startTelemux({ configYaml: CONFIG });
    try {
      for (let r = 0; r < 1000; r++) {
        const sets = Array.from({ length: 100 }, (_, i) => ({ 'request.path': str(`/item/${r * 100 + i}`), 'response.code': int(200) }));
        expect((await t.report(buildReport(sets))).code).toBe(0);
      }
      // Known series keep counting after the cap is reached.
      expect((await t.report(buildReport([{ 'request.path': str('/item/0'), 'response.code': int(200) }]))).code).toBe(0);
      const family = (await t.scrape()).find((f) => f.name === 'istio_hits_total')!;
      expect(family.metrics).toHaveLength(1001);
      const overflow = family.metrics.filter((m) => m.labels['path'] === '__overflow__');
      expect(overflow).toHaveLength(1);
      expect(overflow[0]!.labels).toEqual({ path: '__overflow__', code: '__overflow__' });
      expect(overflow[0]!.value).toBe(String(100_000 - 1000));
      expect(family.metrics.find((m) => m.labels['path'] === '/item/0')?.value).toBe('2');
      expect(family.metrics.reduce((n, m) => n + Number(m.value), 0)).toBe(100_001);
      const self = await (await t.admin('/metrics')).text();
      expect(self).toMatch(/telemux_handler_events_total\{handler="prom.handler.istio-system",event="series_overflow"\} 99000/);
    } finally {
      await t.stop();
    }
  }, 60_000);
});
