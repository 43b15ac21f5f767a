/** The handler over the real hot-shots transport when the StatsD server is not there. */
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { ValueType, type MetricInstance } from '../../../src/core/adapter.js';
import { parseStatsdConfig, STATSD_EVENTS, StatsdHandler } from '../../../src/adapters/statsd/index.js';
import { collectingReporter, instance, neverAborted, spec, testEnv } from './support/fixtures.js';

const requests = spec('requestcount.instance.istio-system', ValueType.INT64, { destination_service: ValueType.STRING });

function handlerAt(address: string) {
  const report = collectingReporter();
  const config = parseStatsdConfig(
    { address, metrics: { 'requestcount.instance.istio-system': { type: 'COUNTER', nameTemplate: 'req.{{.destination_service}}' } } },
    [requests],
    report,
  );
  expect(report.issues).toEqual([]);
  if (config === undefined) throw new Error('config rejected');
  const env = testEnv();
  return { env, handler: new StatsdHandler(config, [requests], env) };
}

function batchOf(n: number, tag: string): MetricInstance[] {
  const out: MetricInstance[] = [];
  for (let i = 0; i < n; i++) out.push(instance(requests, 1, { destination_service: `${tag}-${i}` }));
  return out;
}

async function closedPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('a statsd handler whose server is down', () => {
  it('keeps recording in memory and finishes each flush promptly', async () => {
    const { handler, env } = handlerAt(`127.0.0.1:${await closedPort()}`);
    await handler.start();
    for (let round = 0; round < 3; round++) {
      const t0 = performance.now();
      expect(handler.handleMetrics(batchOf(20_000, `r${round}`))).toBeUndefined();
      const recorded = performance.now() - t0;
      const t1 = performance.now();
      await handler.flush(neverAborted());
      const flushed = performance.now() - t1;
      // Generous bounds: the point is that nothing waits for the absent server.
      expect(recorded).toBeLessThan(1000);
      expect(flushed).toBeLessThan(2000);
    }
    await handler.close();
    // UDP cannot know the server is gone: the datagrams left this host.
    expect(env.events.get(STATSD_EVENTS.linesSent)).toBe(60_000);
  });

  it('counts datagrams the socket refuses to send and logs them at a bounded rate', async () => {
    // Sending to the broadcast address without SO_BROADCAST fails on the socket (EACCES).
    const { handler, env } = handlerAt('255.255.255.255:8125');
    await handler.start();
    for (let round = 0; round < 4; round++) {
      handler.handleMetrics(batchOf(100, `r${round}`));
      await handler.flush(neverAborted());
      env.advance(300);
    }
    await handler.close();
    expect(env.events.get(STATSD_EVENTS.linesDroppedSendError)).toBe(400);
    expect(env.events.get(STATSD_EVENTS.sendErrors)).toBeGreaterThanOrEqual(4);
    expect(env.events.get(STATSD_EVENTS.linesSent)).toBeUndefined();
    const warnings = env.logger.lines.filter((l) => l.msg === 'statsd send failed');
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.fields?.error)).toMatch(/EACCES|EPERM/);
  });
});
