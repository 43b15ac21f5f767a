import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildReport, dur, int, str } from '../../src/client/compressor.js';
import { defaultConfigPath } from '../../src/cli/paths.js';
import { Circllhist } from '../../src/core/circllhist/index.js';
import { decodePayload, readableName, startTrapServer } from '../adapters/circonus/support/trap-server.js';
import { startTelemux } from '../support/harness.js';

const DEFAULT = readFileSync(`${defaultConfigPath()}/istio-1.4-telemetry.yaml`, 'utf8');

function withCirconus(url: string): string {
  return `${DEFAULT}
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
    - {name: requestcount.instance.istio-system, type: COUNTER, dimensions: [destination_service_name, response_code]}
    - {name: requestduration.instance.istio-system, type: DISTRIBUTION, dimensions: [destination_service_name]}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: circonushttp, namespace: istio-system}
spec:
  match: context.protocol == "http"
  actions:
  - handler: circonus
    instances: [requestcount, requestduration]
`;
}

describe('Reports in through gRPC, out to an HTTPTrap endpoint', () => {
  it('PUTs exact counters and histograms with dimensions as stream tags, and a 500 loses nothing', async () => {
    const trap = await startTrapServer();
    trap.script({ status: 500 });
    const t = await startTelemux({ configYaml: withCirconus(trap.url) });
    const expected = new Circllhist();
    let ok = 0;
    let failed = 0;
    try {
      for (let r = 0; r < 6; r++) {
        const sets = Array.from({ length: 50 }, (_, i) => {
          const ns = 1_000_000 + ((r * 50 + i) * 7_919_113) % 400_000_000;
          expected.insertIntScale(ns, -9);
          if (i % 5 === 0) failed++;
          else ok++;
          return {
            'context.protocol': str('http'),
            'destination.service.host': str('reviews.default.svc.cluster.local'),
            'destination.service.name': str('reviews'),
            'response.code': int(i % 5 === 0 ? 503 : 200),
            'response.duration': dur(ns),
          };
        });
        expect(await t.report(buildReport(sets))).toEqual({ code: 0, details: '' });
        await new Promise((res) => setTimeout(res, 300));
      }
    } finally {
      await t.stop();
      await trap.close();
    }
    expect(trap.requests.length).toBeGreaterThanOrEqual(2);
    for (const req of trap.requests) {
      expect(req.method).toBe('PUT');
      expect(req.headers['content-type']).toMatch(/^application\/json/);
    }
    // The first PUT was refused: only the later ones count, and together they carry everything.
    const counters = new Map<string, number>();
    const histogram = new Circllhist();
    for (const req of trap.requests.slice(1)) {
      for (const [name, m] of decodePayload(req.body)) {
        const readable = readableName(name);
        if (m.type === 'h') {
          expect(readable).toBe('requestduration.instance.istio-system{destination_service_name=reviews}');
          histogram.merge(m.histogram);
        } else {
          counters.set(readable, (counters.get(readable) ?? 0) + m.value);
        }
      }
    }
    expect(counters).toEqual(
      new Map([
        ['requestcount.instance.istio-system{destination_service_name=reviews,response_code=200}', ok],
        ['requestcount.instance.istio-system{destination_service_name=reviews,response_code=503}', failed],
      ]),
    );
    expect(histogram.toBase64()).toBe(expected.toBase64());
    expect(histogram.sampleCount()).toBe(300n);
  });
});
