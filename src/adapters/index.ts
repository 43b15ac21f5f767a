import type { AnyAdapter } from '../core/adapter.js';
import { circonusAdapter } from './circonus/index.js';
import { prometheusAdapter } from './prometheus/index.js';
import { statsdAdapter } from './statsd/index.js';

/** Every compiled-in adapter, by the `compiledAdapter` name operators write. */
export const ADAPTERS: ReadonlyMap<string, AnyAdapter> = new Map([prometheusAdapter, statsdAdapter, circonusAdapter].map((a) => [a.name, a]));
