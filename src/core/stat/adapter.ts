import { defineAdapter, type AnyAdapter } from '../adapter.js';
import { parseStatConfig, type StatConfig } from './config.js';
import { StatHandler } from './handler.js';
import type { StatViews } from './registry.js';

/** The `compiledAdapter` name of the built-in stat view. */
export const STAT_ADAPTER_NAME = 'telemuxstat';

/**
 * The built-in adapter behind `telemux stat`. It is created per process around the registry its
 * handlers publish to, because the admin API of that same process reads them.
 */
export function createStatAdapter(views: StatViews): AnyAdapter {
  return defineAdapter<StatConfig>({
    name: STAT_ADAPTER_NAME,
    templates: ['metric'],
    parseConfig: parseStatConfig,
    createHandler: (config, instances, env) => new StatHandler(config, instances, env, views),
  });
}
