import { describe, expect, it } from 'vitest';
import { SelfMetrics } from '../../../src/core/server/self-metrics.js';

function quantile(text: string, q: string): number {
  const m = new RegExp(`^telemux_event_loop_delay_seconds\\{quantile="${q.replace('.', '\\.')}"\\} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`no quantile ${q} in:\n${text}`);
  return Number(m[1]);
}

describe('event-loop delay self-metric', () => {
  it('shows a stall of the event loop as its longest delay, then starts over at the next scrape', async () => {
    const metrics = new SelfMetrics(() => []);
    await metrics.registry.metrics();
    await new Promise((r) => setTimeout(r, 20));
    const until = performance.now() + 60;
    while (performance.now() < until);
    await new Promise((r) => setTimeout(r, 20));
    const first = await metrics.registry.metrics();
    expect(quantile(first, '1')).toBeGreaterThanOrEqual(0.05);
    expect(quantile(first, '0.5')).toBeLessThan(quantile(first, '1'));
    await new Promise((r) => setTimeout(r, 30));
    const second = await metrics.registry.metrics();
    expect(quantile(second, '1')).toBeLessThan(quantile(first, '1'));
  });
});
