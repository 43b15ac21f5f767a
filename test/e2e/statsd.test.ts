import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, dur, int, str } from '../../src/client/compressor.js';
import { defaultConfigPath } from '../../src/cli/paths.js';
import { startStatsdServer, type StatsdServer } from '../adapters/statsd/support/statsd-server.js';
import { startTelemux, type Running } from '../support/harness.js';

const DEFAULT = readFileSync(`${defaultConfigPath()}/istio-1.4-telemetry.yaml`, 'utf8');

function withStatsd(port: number): string {
  return `${DEFAULT}
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: statsd, namespace: istio-system}
spec:
  compiledAdapter: statsd
  params:
    address: 127.0.0.1:${port}
    prefix: mesh
    flushDuration: 100ms
    metrics:
      requestcount.instance.istio-system: {type: COUNTER, name_template: 'requests.{{.destination_service_name}}.{{.response_code}}'}
      requestduration.instance.istio-system: {type: DISTRIBUTION, name_template: 'latency.{{.destination_service_name}}'}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: statsdhttp, namespace: istio-system}
spec:
  match: context.protocol == "http"
  actions:
  - handler: statsd
    instances: [requestcount, requestduration]
`;
}

describe('Reports in through gRPC, out to a real StatsD server', () => {
  let server: StatsdServer;
  let t: Running;
  beforeAll(async () => {
    server = await startStatsdServer({ flushIntervalMs: 100 });
    t = await startTelemux({ configYaml: withStatsd(server.port) });
  });
  afterAll(async () => {
    await t?.stop();
    await server?.stop();
  });

  it('delivers exact counter totals and every timer sample, sanitising dimension values', async () => {
    const sent: number[] = [];
    for (let r = 0; r < 20; r++) {
      const sets = Array.from({ length: 100 }, (_, i) => {
        const ms = 1 + ((r * 100 + i) % 250) / 4;
        sent.push(ms);
        return {
          'context.protocol': str('http'),
          'destination.service.name': str(i % 10 === 0 ? 'evil:svc|x@y' : 'reviews'),
          'destination.service.host': str('reviews.default.svc.cluster.local'),
          'response.code': int(i % 10 === 0 ? 503 : 200),
          'response.duration': dur(ms * 1e6),
        };
      });
      expect(await t.report(buildReport(sets))).toEqual({ code: 0, details: "" });
    }
    await server.waitFor((s) => (s.counters.get('mesh.requests.reviews.200') ?? 0) + (s.counters.get('mesh.requests.evil_svc_x_y.503') ?? 0) >= 2000 && (s.timers.get('mesh.latency.reviews')?.length ?? 0) + (s.timers.get('mesh.latency.evil_svc_x_y')?.length ?? 0) >= 2000, 10_000);
    expect(server.totals.counters.get('mesh.requests.reviews.200')).toBe(1800);
    expect(server.totals.counters.get('mesh.requests.evil_svc_x_y.503')).toBe(200);
    const timers = [...(server.totals.timers.get('mesh.latency.reviews') ?? []), ...(server.totals.timers.get('mesh.latency.evil_svc_x_y') ?? [])];
    expect(timers.sort((a, b) => a - b)).toEqual([...sent].sort((a, b) => a - b));
    expect(server.totals.badLines).toBe(0);
  });
});
