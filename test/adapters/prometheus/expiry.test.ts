import { describe, expect, it } from 'vitest';
import { ValueType } from '../../../src/core/adapter.js';
import { histogramOf, parseExposition, sampleOf } from './real-parser.js';
import { instance, spec, startHandler, testEnv } from './fixtures.js';

const C = spec('c.instance.ns', ValueType.INT64, ['k']);
const H = spec('h.instance.ns', ValueType.DURATION, ['k']);
const MINUTE = 60_000;

function params(policy?: Record<string, string>): unknown {
  return {
    ...(policy === undefined ? {} : { metricsExpirationPolicy: policy }),
    metrics: [
      { name: 'c_total', instance_name: C.name, kind: 'COUNTER', label_names: ['k'] },
      { name: 'h_seconds', instance_name: H.name, kind: 'DISTRIBUTION', label_names: ['k'] },
    ],
  };
}

const never = new AbortController().signal;

describe('series expiry', () => {
  it('checks every half TTL by default and every expiryCheckIntervalDuration when set', async () => {
    expect((await startHandler(params({ metricsExpiryDuration: '10m' }), [C, H])).handler.flushIntervalMs).toBe(5 * MINUTE);
    expect(
      (await startHandler(params({ metricsExpiryDuration: '10m', expiryCheckIntervalDuration: '1m' }), [C, H])).handler.flushIntervalMs,
    ).toBe(MINUTE);
  });

  it('removes series idle for the TTL and keeps the ones still updated', async () => {
    const { handler, env } = await startHandler(params({ metricsExpiryDuration: '10m' }), [C, H]);
    handler.handleMetrics([instance(C, 5, { k: 'idle' }), instance(C, 1, { k: 'busy' }), instance(H, 1e9, { k: 'idle' })]);
    env.clock.advance(8 * MINUTE);
    handler.handleMetrics([instance(C, 1, { k: 'busy' })]);
    env.clock.advance(2 * MINUTE - 1);
    await handler.flush(never);
    expect(handler.liveSeries?.()).toBe(3);

    env.clock.advance(1);
    await handler.flush(never);
    expect(handler.liveSeries?.()).toBe(1);
    const families = parseExposition(env.exposition.render());
    expect(families.map((f) => f.name)).toEqual(['istio_c_total']);
    expect(sampleOf(families, 'istio_c_total', { k: 'busy' })?.value).toBe('2');
    expect(sampleOf(families, 'istio_c_total', { k: 'idle' })).toBeUndefined();
    expect(env.events.get('series_expired')).toBe(2);
  });

  it('recreates an expired series from zero on the next observation', async () => {
    const { handler, env } = await startHandler(params({ metricsExpiryDuration: '1m' }), [C, H]);
    handler.handleMetrics([instance(C, 5, { k: 'a' }), instance(H, 2e9, { k: 'a' }), instance(H, 3e9, { k: 'a' })]);
    env.clock.advance(MINUTE);
    await handler.flush(never);
    expect(env.exposition.render()).toBe('');

    handler.handleMetrics([instance(C, 1, { k: 'a' }), instance(H, 5e8, { k: 'a' })]);
    const text = env.exposition.render();
    expect(sampleOf(parseExposition(text), 'istio_c_total', { k: 'a' })?.value).toBe('1');
    const h = histogramOf(text, 'istio_h_seconds', { k: 'a' });
    expect(h.count).toBe('1');
    expect(h.sum).toBe('0.5');
    expect(h.buckets['0.5']).toBe('1');
  });

  it('keeps every series forever without a policy', async () => {
    const { handler, env } = await startHandler(params(), [C, H]);
    expect(handler.flushIntervalMs).toBeUndefined();
    handler.handleMetrics([instance(C, 1, { k: 'a' })]);
    env.clock.advance(365 * 24 * 60 * MINUTE);
    await handler.flush(never);
    expect(sampleOf(parseExposition(env.exposition.render()), 'istio_c_total', { k: 'a' })?.value).toBe('1');
  });

  it('keeps a series that another handler exporting the same metric, without a policy, keeps updating', async () => {
    const a = testEnv('prom-a.handler.ns');
    const b = { ...testEnv('prom-b.handler.ns'), exposition: a.exposition, clock: a.clock };
    const B = spec('b.instance.ns', ValueType.INT64, ['k']);
    const counter = (instanceName: string) => ({ name: 'c_total', instance_name: instanceName, kind: 'COUNTER', label_names: ['k'] });
    const { handler: expiring } = await startHandler({ metricsExpirationPolicy: { metricsExpiryDuration: '1m' }, metrics: [counter(C.name)] }, [C], a);
    const { handler: keeping } = await startHandler({ metrics: [counter(B.name)] }, [B], b);
    // The two handlers share the family: prom-b's updates are prom-a's series too.
    for (let i = 1; i <= 4; i++) {
      keeping.handleMetrics([instance(B, 1, { k: 'busy' })]);
      a.clock.advance(MINUTE / 2);
      await expiring.flush(never);
      expect(sampleOf(parseExposition(a.exposition.render()), 'istio_c_total', { k: 'busy' })?.value).toBe(String(i));
    }
    // Idle for the TTL, it goes.
    a.clock.advance(MINUTE / 2);
    await expiring.flush(never);
    expect(a.exposition.render()).toBe('');
  });

  it('gives series carried over from a handler without a policy the full TTL when a reload adds one', async () => {
    const env = testEnv();
    const { handler: before } = await startHandler(params(), [C, H], env);
    before.handleMetrics([instance(C, 3, { k: 'a' })]);
    env.clock.advance(MINUTE / 2);
    const { handler: after } = await startHandler(params({ metricsExpiryDuration: '1m' }), [C, H], env);
    await before.close();
    await after.flush(never);
    expect(sampleOf(parseExposition(env.exposition.render()), 'istio_c_total', { k: 'a' })?.value).toBe('3');
    env.clock.advance(MINUTE / 2);
    await after.flush(never);
    expect(env.exposition.render()).toBe('');
  });

  it('stops evicting when the flush is aborted', async () => {
    const { handler, env } = await startHandler(params({ metricsExpiryDuration: '1m' }), [C, H]);
    handler.handleMetrics([instance(C, 1, { k: 'a' }), instance(H, 1, { k: 'a' })]);
    env.clock.advance(MINUTE);
    const aborted = new AbortController();
    aborted.abort();
    await handler.flush(aborted.signal);
    expect(handler.liveSeries?.()).toBe(2);
  });
});
