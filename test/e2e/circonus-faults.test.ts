/**
 * A Circonus broker that fails in every way it can (5xx, requests that time out, connections
 * that hang) for several submission intervals, then recovers: over gRPC, Reports keep being
 * answered promptly, the Prometheus handler keeps counting, the PUTs after recovery carry
 * everything that was acknowledged, and shutdown is not held up by a hung broker.
 */
import { Metadata, status as Status } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildReport, dur, int, str } from '../../src/client/compressor.js';
import { defaultConfigPath } from '../../src/cli/paths.js';
import { Circllhist } from '../../src/core/circllhist/index.js';
import type { ReportRequest } from '../../src/gen/istio/mixer/v1/mixer.js';
import { mergeBodies, readableName, startTrapServer } from '../adapters/circonus/support/trap-server.js';
import { startTelemux, type Running } from '../support/harness.js';

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
    request_timeout: 300ms
    max_retries: 1
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

/** A Report with a deadline: answered in time, or it counts as held up. */
function reportWithin(t: Running, req: ReportRequest, deadlineMs: number): Promise<number> {
  return new Promise((resolve) => {
    t.client.report(req, new Metadata(), { deadline: Date.now() + deadlineMs }, (err) => resolve(err ? err.code : Status.OK));
  });
}

async function requestsCounted(t: Running): Promise<number> {
  const family = (await t.scrape()).find((f) => f.name === 'istio_requests_total');
  return (family?.metrics ?? []).reduce((n, m) => n + Number(m.value ?? 0), 0);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Reports over gRPC while the HTTPTrap broker fails, times out and hangs', () => {
  it('answers every Report promptly, keeps Prometheus counting, delivers everything once the broker recovers, and shuts down on time', async () => {
    const trap = await startTrapServer();
    // About five submission intervals of trouble: each flush makes one or two attempts.
    const failures = [{ status: 500 }, 'hang', { status: 503 }, 'hang', { status: 502 }, 'hang'] as const;
    trap.script(...failures);
    const t = await startTelemux({ configYaml: withCirconus(trap.url) });
    const expected = new Circllhist();
    const counts = new Map<string, number>();
    let acked = 0;
    const codes: number[] = [];
    let stopped = false;
    try {
      let r = 0;
      // Reports every 50 ms until the broker has recovered and taken one healthy PUT.
      while (trap.requests.length < failures.length + 1 && r < 200) {
        const sets = Array.from({ length: 10 }, (_, i) => {
          const ns = 1_000_000 + ((r * 10 + i) * 7_919_113) % 400_000_000;
          const code = i % 4 === 0 ? 503 : 200;
          return { ns, code, set: {
            'context.protocol': str('http'),
            'destination.service.host': str('reviews.default.svc.cluster.local'),
            'destination.service.name': str('reviews'),
            'response.code': int(code),
            'response.duration': dur(ns),
          } };
        });
        // Well under the request timeout and the flush time box: a Report that waited on a
        // submission would miss it.
        const code = await reportWithin(t, buildReport(sets.map((s) => s.set)), 250);
        codes.push(code);
        if (code === Status.OK) {
          acked += sets.length;
          for (const s of sets) {
            expected.insertIntScale(s.ns, -9);
            const k = `requestcount.instance.istio-system{destination_service_name=reviews,response_code=${s.code}}`;
            counts.set(k, (counts.get(k) ?? 0) + 1);
          }
        }
        // The other handler keeps counting while the broker is failing.
        if (r === 40) expect(await requestsCounted(t)).toBe(acked);
        r++;
        await sleep(50);
      }
      expect(trap.requests.length).toBeGreaterThan(failures.length);
      expect(codes.every((c) => c === Status.OK)).toBe(true);
      expect(codes.length).toBeGreaterThan(60);
      expect(await requestsCounted(t)).toBe(acked);

      // Recovery: the healthy PUTs together carry every acknowledged request, exactly once.
      const healthyFrom = failures.length;
      const delivered = async (): Promise<number> => {
        const bodies = trap.requests.slice(healthyFrom).map((q) => q.body);
        let n = 0;
        for (const [name, m] of mergeBodies(bodies)) if (m.type === 'L' && readableName(name).startsWith('requestcount')) n += m.value;
        return n;
      };
      for (let i = 0; i < 40 && (await delivered()) < acked; i++) await sleep(100);
      const merged = mergeBodies(trap.requests.slice(healthyFrom).map((q) => q.body));
      const gotCounts = new Map<string, number>();
      const histogram = new Circllhist();
      for (const [name, m] of merged) {
        if (m.type === 'h') histogram.merge(m.histogram);
        else gotCounts.set(readableName(name), m.value);
      }
      expect(gotCounts).toEqual(counts);
      expect(histogram.toBase64()).toBe(expected.toBase64());

      // Shutdown while the broker hangs again: the final flush is cut at its time box.
      trap.script(...Array.from({ length: 20 }, () => 'hang' as const));
      const late = {
        'context.protocol': str('http'),
        'destination.service.host': str('late.default.svc.cluster.local'),
        'destination.service.name': str('late'),
        'response.code': int(200),
        'response.duration': dur(1e6),
      };
      expect(await reportWithin(t, buildReport([late]), 250)).toBe(Status.OK);
      await sleep(1200);
      const t0 = performance.now();
      await t.stop();
      stopped = true;
      // The core's time box is min(interval, 10 s) = 1 s per flush: the running one, then the final one.
      expect(performance.now() - t0).toBeLessThan(4000);
    } finally {
      if (!stopped) await t.stop();
      await trap.close();
    }
  }, 40_000);
});
