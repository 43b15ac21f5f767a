import { describe, expect, it } from 'vitest';
import { type AttributeSet, buildReport, int, str } from '../../src/client/compressor.js';
import { startTrapServer } from '../adapters/circonus/support/trap-server.js';
import { startTelemux } from '../support/harness.js';
import { INT64_MAX as MAX, INT64_MIN as MIN, P53_1 } from '../support/int64-arbitrary.js';

function config(url: string): string {
  return `
apiVersion: config.istio.io/v1alpha2
kind: attributemanifest
metadata: {name: attrs, namespace: istio-system}
spec:
  attributes:
    request.path: {valueType: STRING}
    request.size: {valueType: INT64}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: size, namespace: istio-system}
spec:
  compiledTemplate: metric
  params: {value: request.size, dimensions: {path: request.path}}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: bytes, namespace: istio-system}
spec:
  compiledTemplate: metric
  params: {value: request.size, dimensions: {path: request.path}}
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: circonus, namespace: istio-system}
spec:
  compiledAdapter: circonus
  params:
    submission_url: ${url}
    submission_interval: 1s
    max_retries: 0
    metrics:
    - {name: size.instance.istio-system, type: GAUGE}
    - {name: bytes.instance.istio-system, type: COUNTER}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: all, namespace: istio-system}
spec:
  actions: [{handler: circonus, instances: [size]}]
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: counted, namespace: istio-system}
spec:
  match: request.size >= 0
  actions: [{handler: circonus, instances: [bytes]}]
`;
}

/** The raw `_value` text of each member, read from the body without going through doubles. */
function rawValues(body: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of body.matchAll(/"([^"]*?(?:\\"[^"]*?)*)":\{"_value":(-?\d+|"[^"]*"|[^,]+),"_type":"([a-zA-Z])"\}/g)) {
    const path = /\|ST\[b\\"cGF0aA==\\":b\\"([A-Za-z0-9+/=]*)\\"\]$/.exec(m[1] as string);
    const base = (m[1] as string).split('|')[0] as string;
    out.set(`${base}{${path === null ? '' : Buffer.from(path[1] as string, 'base64').toString()}}`, `${m[3] as string}:${m[2] as string}`);
  }
  return out;
}

describe('INT64 values beyond 2^53 reported over gRPC to Circonus', () => {
  it('go out exactly as int64 gauges (`l`) and uint64 counters (`L`), as cgm sends Go integers', async () => {
    const trap = await startTrapServer();
    const t = await startTelemux({ configYaml: config(trap.url) });
    try {
      const sets: AttributeSet[] = [
        { 'request.path': str('/p53+1'), 'request.size': int(P53_1) },
        { 'request.path': str('/max'), 'request.size': int(MAX) },
        { 'request.path': str('/min'), 'request.size': int(MIN) },
        // Two adds on one counter past 2^53: 2^53+1 and 2, exactly 9007199254740995.
        { 'request.path': str('/sum'), 'request.size': int(P53_1) },
        { 'request.path': str('/sum'), 'request.size': int(2) },
      ];
      expect(await t.report(buildReport(sets))).toEqual({ code: 0, details: '' });
    } finally {
      await t.stop();
      await trap.close();
    }
    const values = new Map<string, string>();
    for (const req of trap.requests) for (const [k, v] of rawValues(req.body)) values.set(k, v);
    expect(values.get('size.instance.istio-system{/p53+1}')).toBe('l:9007199254740993');
    expect(values.get('size.instance.istio-system{/max}')).toBe('l:9223372036854775807');
    expect(values.get('size.instance.istio-system{/min}')).toBe('l:-9223372036854775808');
    expect(values.get('size.instance.istio-system{/sum}')).toBe('l:2');
    expect(values.get('bytes.instance.istio-system{/p53+1}')).toBe('L:9007199254740993');
    expect(values.get('bytes.instance.istio-system{/max}')).toBe('L:9223372036854775807');
    expect(values.get('bytes.instance.istio-system{/sum}')).toBe('L:9007199254740995');
    expect(values.has('bytes.instance.istio-system{/min}')).toBe(false);
  });
});
