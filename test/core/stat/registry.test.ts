import { describe, expect, it } from 'vitest';
import { StatViews, type StatQueryable } from '../../../src/core/stat/index.js';

const view = (): StatQueryable => ({ query: (q) => Promise.resolve({ by: q.by, window_seconds: 60, rows: [] } as never) });

describe('the stat view registry', () => {
  it('finds the newest view, or one by handler name, and lets a replacement survive the old handler closing', () => {
    const views = new StatViews();
    expect(views.find()).toBeUndefined();
    const a = view();
    const b = view();
    views.register('stat.handler.istio-system', a);
    views.register('other.handler.istio-system', b);
    expect(views.find()).toBe(b);
    expect(views.find('stat.handler.istio-system')).toBe(a);
    expect(views.names()).toEqual(['other.handler.istio-system', 'stat.handler.istio-system']);
    // A changed handler: the new one starts (registers) before the old one closes (unregisters).
    const a2 = view();
    views.register('stat.handler.istio-system', a2);
    views.unregister('stat.handler.istio-system', a);
    expect(views.find('stat.handler.istio-system')).toBe(a2);
    views.unregister('stat.handler.istio-system', a2);
    expect(views.find('stat.handler.istio-system')).toBeUndefined();
  });
});
