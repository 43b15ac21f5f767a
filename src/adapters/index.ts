import type { AnyAdapter } from '../core/adapter.js';
import { createStatAdapter, STAT_ADAPTER_NAME, StatViews } from '../core/stat/index.js';
import { circonusAdapter } from './circonus/index.js';
import { prometheusAdapter } from './prometheus/index.js';
import { statsdAdapter } from './statsd/index.js';

/** Every compiled-in adapter, by the `compiledAdapter` name operators write. */
export const ADAPTERS: ReadonlyMap<string, AnyAdapter> = new Map([prometheusAdapter, statsdAdapter, circonusAdapter].map((a) => [a.name, a]));

/** The adapters one Telemux process runs with, and where its stat views are published. */
export interface AdapterInventory {
  readonly adapters: ReadonlyMap<string, AnyAdapter>;
  readonly statViews: StatViews;
}

/**
 * ADAPTERS plus the core's built-in `telemuxstat` view (fed by config/telemux-stat.yaml). Each call
 * makes a fresh registry, so two Telemux instances in one process never read each other's views.
 */
export function createAdapterInventory(): AdapterInventory {
  const statViews = new StatViews();
  return { adapters: new Map([...ADAPTERS, [STAT_ADAPTER_NAME, createStatAdapter(statViews)]]), statViews };
}
