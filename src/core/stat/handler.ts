import type { Handler, HandleResult, HandlerEnv, InstanceSpec, MetricInstance } from '../adapter.js';
import { STAT_DIMENSIONS, type StatConfig, type StatRole } from './config.js';
import type { StatViews } from './registry.js';
import { StatView } from './view.js';

/** Event names counted through `HandlerEnv.stats` (`telemux_handler_events_total{event}`). */
export const STAT_EVENTS = {
  overflowed: 'requests_overflowed',
  invalid: 'instances_dropped_invalid_value',
} as const;

/** Where each role's value sits in one instance's dimension list. */
type Plan = Readonly<Record<StatRole, number>>;

function planFor(spec: InstanceSpec): Plan {
  const plan = {} as Record<StatRole, number>;
  for (const [role, d] of Object.entries(STAT_DIMENSIONS) as [StatRole, { name: string }][]) {
    plan[role] = spec.dimensions.findIndex((x) => x.name === d.name);
  }
  return plan;
}

/**
 * The built-in `telemuxstat` handler: feeds a StatView on the Report path and publishes it for the
 * admin API while it is running. Its flush only forgets keys that left the retention; it sends
 * nothing anywhere.
 */
export class StatHandler implements Handler {
  readonly flushIntervalMs: number;
  readonly view: StatView;
  /**
   * By spec object: those this handler was created with, and equivalent ones the core hands over
   * later (a reload that keeps this handler compiles new InstanceSpec objects for the same
   * instances). Weak, so the specs of configs since replaced can go.
   */
  private readonly plans = new WeakMap<InstanceSpec, Plan>();
  private readonly instanceNames: ReadonlySet<string>;

  constructor(
    config: StatConfig,
    instances: readonly InstanceSpec[],
    private readonly env: HandlerEnv,
    private readonly views: StatViews,
  ) {
    this.view = new StatView(config, env.clock);
    this.flushIntervalMs = config.sliceMs;
    for (const spec of instances) this.plans.set(spec, planFor(spec));
    this.instanceNames = new Set(instances.map((spec) => spec.name));
  }

  /** The plan of a spec seen before, or of an equivalent one for an instance this handler serves. */
  private planOf(spec: InstanceSpec): Plan | undefined {
    let plan = this.plans.get(spec);
    if (plan === undefined && this.instanceNames.has(spec.name)) {
      plan = planFor(spec);
      this.plans.set(spec, plan);
    }
    return plan;
  }

  async start(): Promise<void> {
    this.views.register(this.env.name, this.view);
  }

  handleMetrics(batch: readonly MetricInstance[]): HandleResult | undefined {
    const slice = this.view.sliceIndex(this.env.clock.now());
    const overflowedBefore = this.view.overflowed;
    let invalid = 0;
    for (let i = 0; i < batch.length; i++) {
      const inst = batch[i]!;
      const p = this.planOf(inst.spec);
      const d = inst.dimensions;
      const value = inst.value;
      if (p === undefined || typeof value !== 'number') {
        invalid++;
        continue;
      }
      // STRING dimensions by config validation; String() only guards the types' promise.
      const sw = String(d[p.sourceWorkload]);
      const sn = String(d[p.sourceNamespace]);
      const dw = String(d[p.destinationWorkload]);
      const dn = String(d[p.destinationNamespace]);
      const ds = String(d[p.destinationService]);
      const code = d[p.responseCode];
      // Linkerd's classification: a response below 500 is a success; 0 (no response sent) is not.
      const success = typeof code === 'number' && code > 0 && code < 500;
      this.view.record(sn, sw, dn, dw, ds, value, success, slice);
    }
    const overflowed = this.view.overflowed - overflowedBefore;
    if (overflowed > 0) this.env.stats.count(STAT_EVENTS.overflowed, overflowed);
    if (invalid > 0) {
      this.env.stats.count(STAT_EVENTS.invalid, invalid);
      return { failed: invalid, message: `${invalid} instance(s) without a duration value` };
    }
    return undefined;
  }

  async flush(): Promise<void> {
    this.view.expire(this.env.clock.now());
  }

  async close(): Promise<void> {
    this.views.unregister(this.env.name, this.view);
  }

  liveSeries(): number {
    return this.view.keyCount;
  }
}
