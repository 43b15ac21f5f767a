import { defineAdapter } from '../../core/adapter.js';
import { checkAcrossHandlers, parseConfig, type PromConfig } from './config.js';
import { PrometheusHandler } from './handler.js';

/** `compiledAdapter: prometheus`: metric instances exposed on the core's pull endpoint. */
export const prometheusAdapter = defineAdapter<PromConfig>({
  name: 'prometheus',
  templates: ['metric'],
  parseConfig,
  checkAcrossHandlers,
  createHandler: (config, instances, env) => new PrometheusHandler(config, instances, env),
});
