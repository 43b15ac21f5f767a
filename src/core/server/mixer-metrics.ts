import { Gauge, Histogram, type MetricValueWithName, type Registry } from 'prom-client';
import type { ConfigTally } from '../config/compile.js';
import { pushHistogramValues, renderedMetric, type RenderedMetric } from './prom-values.js';
import { type DispatchCell, type DispatchTally, TalliedCounter, TalliedHistogram } from './dispatch-tally.js';
import { REQUEST_COUNT_BUCKETS, RequestCounts, type CountDistribution } from '../dispatch/request-counts.js';

/** Mixer's dispatch duration buckets (spec §8.5). */
export const MIXER_DURATION_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** `meshFunction`: the template of every Telemux dispatch. */
const METRIC_TEMPLATE = 'metric';

type DispatchLabel = 'meshFunction' | 'handler' | 'adapter' | 'error';

/**
 * A histogram whose observations were counted elsewhere (a CountDistribution the Report path
 * increments); its buckets are summed only when the registry renders it.
 */
class CountHistogram extends Histogram {
  constructor(
    registry: Registry,
    private readonly metricName: string,
    private readonly metricHelp: string,
    private readonly source: CountDistribution,
  ) {
    super({ name: metricName, help: metricHelp, buckets: [...REQUEST_COUNT_BUCKETS], registers: [registry] });
  }

  override async get(): Promise<RenderedMetric> {
    return this.getForPromString();
  }

  /** What the registry renders (prom-client's Histogram has this method, and the registry prefers it to get). */
  async getForPromString(): Promise<RenderedMetric> {
    const { buckets, count, sum } = this.source.cumulative(REQUEST_COUNT_BUCKETS);
    const values: MetricValueWithName<string>[] = [];
    pushHistogramValues(values, this.metricName, REQUEST_COUNT_BUCKETS, buckets, count, sum);
    return renderedMetric(this.metricName, this.metricHelp, 'histogram', values);
  }
}

/** The handler-table change gauges (spec §8.3, §8.5). */
export interface HandlerChange {
  readonly created: number;
  readonly reused: number;
  readonly closed: number;
  readonly closeFailures: number;
}

/**
 * Mixer's self-monitoring metrics under Mixer's names, labels and buckets (spec §8.5), so that
 * dashboards and alerts built on Mixer's `:15014/metrics` keep working. Registered next to the
 * `telemux_*` ones. Mixer metrics with no Telemux counterpart are left out, not faked.
 */
export class MixerMetrics {
  /** Fed by the dispatcher once per attribute set; rendered at scrape time. */
  readonly requests = new RequestCounts();
  private readonly config: Record<keyof ConfigTally, Gauge>;
  private readonly handlers: Record<keyof HandlerChange | 'buildFailures', Gauge>;

  /** `dispatches`: the handler dispatches the Report path counts, rendered here under Mixer's names too. */
  constructor(r: Registry, dispatches: DispatchTally) {
    const labelNames: DispatchLabel[] = ['meshFunction', 'handler', 'adapter', 'error'];
    const labelsOf = (c: DispatchCell): Record<DispatchLabel, string> => ({
      meshFunction: METRIC_TEMPLATE,
      handler: c.mixerHandler,
      adapter: c.adapter,
      error: c.failed ? 'true' : 'false',
    });
    new TalliedCounter(r, dispatches, {
      name: 'mixer_runtime_dispatches_total',
      help: 'Total number of adapter dispatches handled by Mixer.',
      labelNames,
      labelsOf,
      valueOf: (c) => c.dispatches,
    });
    new TalliedHistogram(r, dispatches, { name: 'mixer_runtime_dispatch_duration_seconds', help: 'Duration in seconds for adapter dispatches handled by Mixer.', labelNames, labelsOf });
    new CountHistogram(r, 'mixer_dispatcher_destinations_per_request', 'Number of handlers dispatched per request by Mixer', this.requests.destinations);
    new CountHistogram(r, 'mixer_dispatcher_instances_per_request', 'Number of instances created per request by Mixer', this.requests.instances);
    const gauge = (name: string, help: string): Gauge => new Gauge({ name, help, registers: [r] });
    this.config = {
      attributes: gauge('mixer_config_attributes_total', 'The number of known attributes in the current config.'),
      handlers: gauge('mixer_config_handler_configs_total', 'The number of known handlers in the current config.'),
      instances: gauge('mixer_config_instance_configs_total', 'The number of known instances in the current config.'),
      instanceErrors: gauge('mixer_config_instance_config_errors_total', 'The number of errors encountered during processing of the instance configuration.'),
      rules: gauge('mixer_config_rule_configs_total', 'The number of known rules in the current config.'),
      ruleErrors: gauge('mixer_config_rule_config_errors_total', 'The number of errors encountered during processing of the rule configuration.'),
    };
    // Telemux runs no out-of-process adapters: it loads none of their `kind: adapter` and `kind:
    // template` descriptors (they are ignored with a warning), so it knows none.
    gauge('mixer_config_adapter_info_configs_total', 'The number of known adapters in the current config.').set(0);
    gauge('mixer_config_template_configs_total', 'The number of known templates in the current config.').set(0);
    this.handlers = {
      created: gauge('mixer_handler_new_handlers_total', 'The number of handlers that were newly created during config transition.'),
      reused: gauge('mixer_handler_reused_handlers_total', 'The number of handlers that were re-used during config transition.'),
      closed: gauge('mixer_handler_closed_handlers_total', 'The number of handlers that were closed during config transition.'),
      buildFailures: gauge('mixer_handler_handler_build_failures_total', 'The number of handlers that failed creation during config transition.'),
      closeFailures: gauge('mixer_handler_handler_close_failures_total', 'The number of errors encountered while closing handlers during config transition.'),
    };
  }

  /** The config now serving. */
  configApplied(tally: ConfigTally): void {
    for (const k of Object.keys(this.config) as (keyof ConfigTally)[]) this.config[k].set(tally[k]);
  }

  /**
   * A config refused: the counts keep describing the config still serving, while the error
   * gauges show the refused one's errors, as Mixer's showed those of its latest config.
   */
  configRefused(tally: ConfigTally): void {
    this.config.instanceErrors.set(tally.instanceErrors);
    this.config.ruleErrors.set(tally.ruleErrors);
  }

  /** A handler table swapped in: handlers built, kept, and the old ones closed (or failing to). */
  handlersChanged(change: HandlerChange): void {
    this.handlers.created.set(change.created);
    this.handlers.reused.set(change.reused);
    this.handlers.closed.set(change.closed);
    this.handlers.closeFailures.set(change.closeFailures);
    this.handlers.buildFailures.set(0);
  }

  /** A handler failed to build: the config was refused and the serving handlers are untouched. */
  handlerBuildFailed(): void {
    this.handlers.buildFailures.set(1);
  }
}
