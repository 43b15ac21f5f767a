import { Metadata, status as Status } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, dur, int, str } from '../../src/client/compressor.js';
import { defaultConfigPath } from '../../src/cli/paths.js';
import { startStatsdServer, type StatsdServer } from '../adapters/statsd/support/statsd-server.js';
import { startTelemux, type Running } from '../support/harness.js';

const DEFAULT = readFileSync(`${defaultConfigPath()}/istio-1.4-telemetry.yaml`, 'utf8');

function withStatsd(port: number, flushDuration = '100ms'): string {
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
    flushDuration: ${flushDuration}
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

describe('Reports in through gRPC while the StatsD server is down for a while', () => {
  it('answers every Report promptly and, once the server is back on its port, has delivered every acknowledged request', async () => {
    let first: StatsdServer | undefined = await startStatsdServer({ flushIntervalMs: 100 });
    const port = first.port;
    // Flushes a second apart, so the server can be stopped between two of them with nothing of
    // ours in its memory: an Etsy server that dies loses what it has not flushed yet, which no
    // client could ever see.
    const t = await startTelemux({ configYaml: withStatsd(port, '1s') });
    let second: StatsdServer | undefined;
    const want = new Map<string, number>();
    let wantSamples = 0;
    const codes: number[] = [];
    let sending = true;
    let r = 0;
    const sender = (async () => {
      while (sending) {
        const sets = Array.from({ length: 20 }, (_, i) => ({
          'context.protocol': str('http'),
          'destination.service.name': str(`svc${(r + i) % 5}`),
          'destination.service.host': str('svc.default.svc.cluster.local'),
          'response.code': int(i % 7 === 0 ? 500 : 200),
          'response.duration': dur((1 + ((r * 20 + i) % 300)) * 1e6),
        }));
        // Far under the 1 s flush time box: a Report held up by a flush would miss it.
        const code = await new Promise<number>((resolve) => {
          t.client.report(buildReport(sets), new Metadata(), { deadline: Date.now() + 250 }, (err) => resolve(err ? err.code : Status.OK));
        });
        codes.push(code);
        if (code === Status.OK) {
          for (let i = 0; i < sets.length; i++) {
            const k = `mesh.requests.svc${(r + i) % 5}.${i % 7 === 0 ? 500 : 200}`;
            want.set(k, (want.get(k) ?? 0) + 1);
          }
          wantSamples += sets.length;
        }
        r++;
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
    try {
      // Up for a while, then stopped just after the server has flushed one of our flushes.
      await first.waitFor((s) => total(s.counters) > 0, 5000);
      const seen = first.totals.metricsReceived;
      await first.waitFor((s) => s.metricsReceived > seen, 5000);
      // Our flush may straddle one of the server's: let two more go by, well before our next.
      const flushes = first.totals.flushes;
      await first.waitFor((s) => s.flushes >= flushes + 2, 5000);
      const before = { counters: new Map(first.totals.counters), timers: new Map(first.totals.timers) };
      await first.stop();
      first = undefined;
      // Down for about three flushes: every one of them meets a closed port.
      await new Promise((res) => setTimeout(res, 3200));
      second = await startStatsdServer({ flushIntervalMs: 100, port, resetAfterProbe: false });
      await new Promise((res) => setTimeout(res, 1500));
      sending = false;
      await sender;
      const server = second;
      const delivered = (): Map<string, number> => {
        const sum = new Map(before.counters);
        for (const [k, v] of server.totals.counters) sum.set(k, (sum.get(k) ?? 0) + v);
        return sum;
      };
      const samples = (): number => {
        let n = 0;
        for (const m of [before.timers, server.totals.timers]) for (const v of m.values()) n += v.length;
        return n;
      };
      await server.waitFor(() => total(delivered()) >= total(want) && samples() >= wantSamples, 8000).catch(() => undefined);
      expect(codes.length).toBeGreaterThan(60);
      expect(codes.every((c) => c === Status.OK)).toBe(true);
      expect(delivered()).toEqual(want);
      expect(samples()).toBe(wantSamples);
      expect(server.totals.badLines).toBe(0);
    } finally {
      sending = false;
      await sender;
      await t.stop();
      await first?.stop();
      await second?.stop();
    }
  }, 30_000);
});
