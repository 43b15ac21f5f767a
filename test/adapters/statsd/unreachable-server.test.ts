/** The handler over the real (connected UDP) transport when the StatsD server is not there. */
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { ValueType, type MetricInstance } from '../../../src/core/adapter.js';
import { connectedUdpTransport, parseStatsdConfig, STATSD_EVENTS, StatsdHandler } from '../../../src/adapters/statsd/index.js';
import { collectingReporter, instance, neverAborted, spec, testEnv } from './support/fixtures.js';

const requests = spec('requestcount.instance.istio-system', ValueType.INT64, { destination_service: ValueType.STRING });

function handlerAt(address: string) {
  const report = collectingReporter();
  const config = parseStatsdConfig(
    {
      address,
      maxSeries: 100_000,
      maxSeriesPerMetric: 100_000,
      metrics: { 'requestcount.instance.istio-system': { type: 'COUNTER', nameTemplate: 'req.{{.destination_service}}' } },
    },
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
  it('keeps recording in memory, finishes each flush promptly, and keeps what the closed port refused', async () => {
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
    // The connected socket hears the ICMP refusals: nothing is taken for delivered.
    expect(env.events.get(STATSD_EVENTS.sendErrors)).toBeGreaterThan(0);
    // Everything waits, but the last flush's final datagram: unconfirmed until a next send.
    expect(handler.liveSeries()).toBeGreaterThan(59_900);
    expect(env.events.get(STATSD_EVENTS.linesDroppedPendingLimit)).toBeUndefined();
    await handler.close();
    // All but the final flush's last datagrams, which no later send could vouch for.
    const unconfirmed = env.events.get(STATSD_EVENTS.linesUnconfirmedAtClose) ?? 0;
    expect(unconfirmed).toBeLessThan(100);
    expect((env.events.get(STATSD_EVENTS.linesDroppedClosed) ?? 0) + unconfirmed).toBe(60_000);
  });

  it('counts datagrams the socket refuses to send, keeps their lines, and logs at a bounded rate', async () => {
    // Sending to the broadcast address without SO_BROADCAST fails on the socket (EACCES).
    const { handler, env } = handlerAt('255.255.255.255:8125');
    await handler.start();
    for (let round = 0; round < 4; round++) {
      handler.handleMetrics(batchOf(100, `r${round}`));
      await handler.flush(neverAborted());
      env.advance(300);
    }
    expect(env.events.get(STATSD_EVENTS.sendErrors)).toBeGreaterThanOrEqual(4);
    expect(env.events.get(STATSD_EVENTS.linesSent)).toBeUndefined();
    expect(handler.liveSeries()).toBe(400);
    await handler.close();
    expect(env.events.get(STATSD_EVENTS.linesDroppedClosed)).toBe(400);
    const warnings = env.logger.lines.filter((l) => l.msg === 'statsd send failed; lines kept for the next flush');
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.fields?.error)).toMatch(/EACCES|EPERM/);
  });

  it('hears a closed port through its connected socket: the refusal fails the next send, even when it arrives between sends', async () => {
    const errors: Error[] = [];
    const t = connectedUdpTransport({ address: '127.0.0.1', family: 4, port: await closedPort() }, (e) => errors.push(e));
    const send = (payload: string): Promise<Error | undefined> => new Promise((resolve) => t.send(Buffer.from(payload), resolve));
    expect(await send('a:1|c')).toBeUndefined();
    // Long enough for the ICMP answer to come back and Node's read path to pick the error up.
    await new Promise((r) => setTimeout(r, 50));
    expect(((await send('b:1|c')) as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNREFUSED');
    // In a burst, the send path picks it up itself.
    const burst = await Promise.all(['c', 'd', 'e', 'f'].map((n) => send(`${n}:1|c`)));
    expect(burst.map((e) => (e as NodeJS.ErrnoException | undefined)?.code)).toEqual([undefined, 'ECONNREFUSED', undefined, 'ECONNREFUSED']);
    expect(errors).toEqual([]);
    await t.close();
    expect((await send('g:1|c'))?.message).toBe('statsd socket is closed');
  });
});
