import type { Clock, ExpositionRegistry, Handler } from '../adapter.js';
import { ReportDecoder } from '../attributes/decode.js';
import { IDENTITY_ATTRIBUTES, TENANT_ATTRIBUTE, type ConfigSnapshot, type HandlerPlan } from '../config/compile.js';
import { NamespaceResolver, RoutingTable } from '../dispatch/routing.js';
import { HandlerBuildError, TelemuxError } from '../errors.js';
import type { Logger } from '../log.js';
import { FlushTicker, settledBefore } from '../schedule/flush-ticker.js';
import type { SelfMetrics } from '../server/self-metrics.js';

/** A built, started handler and the ticker that flushes it. */
interface LiveHandler {
  readonly plan: HandlerPlan;
  readonly handler: Handler;
  readonly ticker: FlushTicker;
}

/** Everything the Report path needs from one config, swapped as a unit. */
export interface ActiveConfig {
  readonly snapshot: ConfigSnapshot;
  readonly decoder: ReportDecoder;
  readonly routing: RoutingTable;
  readonly namespaces: NamespaceResolver;
  /** Slot of the built-in `context.tenant`, which the Report path sets in every bag. */
  readonly tenantSlot: number;
}

export interface ApplySummary {
  readonly hash: string;
  readonly created: readonly string[];
  readonly changed: readonly string[];
  readonly unchanged: readonly string[];
  readonly removed: readonly string[];
}

export interface RuntimeOptions {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly exposition: ExpositionRegistry;
  readonly metrics: SelfMetrics;
  /** Upper bound for one flush; defaults to the handler's interval, at most 10 s. */
  readonly flushTimeoutMs?: number;
  /** How long a handler's close is waited for. Default 10 s. */
  readonly closeTimeoutMs?: number;
}

/**
 * Owns the live handlers. `apply` builds what a new snapshot needs (reusing handlers whose
 * signature is unchanged, so their series and pending data survive), swaps the active config in
 * one assignment, then flushes and closes the handlers that are no longer used.
 */
export class Runtime {
  private live = new Map<string, LiveHandler>();
  private activeConfig: ActiveConfig | undefined;
  private applying: Promise<unknown> = Promise.resolve();
  private closed = false;

  private readonly closeTimeoutMs: number;

  constructor(private readonly opts: RuntimeOptions) {
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 10_000;
  }

  get active(): ActiveConfig | undefined {
    return this.activeConfig;
  }

  liveSeries(): [string, number][] {
    return [...this.live.values()].map((l) => [l.plan.name, l.handler.liveSeries?.() ?? 0]);
  }

  /** Applies snapshots one at a time; a failure leaves the previous config running untouched. */
  apply(snapshot: ConfigSnapshot): Promise<ApplySummary> {
    const next = this.applying.then(() => this.applyNow(snapshot));
    this.applying = next.catch(() => undefined);
    return next;
  }

  private async applyNow(snapshot: ConfigSnapshot): Promise<ApplySummary> {
    if (this.closed) throw new TelemuxError('RUNTIME_CLOSED', 'runtime is shut down');
    const next = new Map<string, LiveHandler>();
    const created: LiveHandler[] = [];
    const summary = { hash: snapshot.hash, created: [] as string[], changed: [] as string[], unchanged: [] as string[], removed: [] as string[] };
    try {
      for (const plan of snapshot.handlers.values()) {
        const old = this.live.get(plan.name);
        if (old && old.plan.signature === plan.signature) {
          next.set(plan.name, old);
          summary.unchanged.push(plan.name);
          continue;
        }
        const lh = await this.build(plan);
        created.push(lh);
        next.set(plan.name, lh);
        (old ? summary.changed : summary.created).push(plan.name);
      }
    } catch (e) {
      // Atomic: nothing of a half-built config stays around.
      await Promise.all(created.map((lh) => this.retire(lh, false)));
      if (e instanceof HandlerBuildError) this.opts.metrics.mixer.handlerBuildFailed();
      throw e;
    }
    const handlers = new Map([...next].map(([name, lh]) => [name, lh.handler]));
    const m = snapshot.manifest;
    this.activeConfig = {
      snapshot,
      decoder: new ReportDecoder(m, snapshot.referenced),
      routing: new RoutingTable(snapshot, handlers),
      namespaces: new NamespaceResolver(...(IDENTITY_ATTRIBUTES.map((a) => m.slotOf(a)) as [number, number, number])),
      tenantSlot: m.slotOf(TENANT_ATTRIBUTE),
    };
    for (const lh of created) lh.ticker.start();
    const retired = [...this.live.values()].filter((lh) => next.get(lh.plan.name) !== lh);
    for (const lh of retired) if (!next.has(lh.plan.name)) summary.removed.push(lh.plan.name);
    this.live = next;
    // In-flight Reports finished synchronously before this line could run, so the old handlers
    // receive nothing more: flush what they hold and let them go.
    const closed = await Promise.all(retired.map((lh) => this.retire(lh, true)));
    const closeFailures = closed.filter((ok) => !ok).length;
    this.opts.metrics.mixer.handlersChanged({ created: created.length, reused: summary.unchanged.length, closed: closed.length - closeFailures, closeFailures });
    this.opts.metrics.configInfo.reset();
    this.opts.metrics.configInfo.set({ hash: snapshot.hash }, 1);
    return summary;
  }

  private async build(plan: HandlerPlan): Promise<LiveHandler> {
    const { logger, clock, exposition, metrics } = this.opts;
    const log = logger.child({ handler: plan.name, adapter: plan.adapter.name });
    let handler: Handler;
    try {
      handler = plan.adapter.createHandler(plan.config, plan.instances, {
        name: plan.name,
        logger: log,
        clock,
        exposition,
        stats: { count: (event, n = 1) => metrics.handlerEvents.inc({ handler: plan.name, event }, n) },
      });
      await handler.start();
    } catch (e) {
      throw new HandlerBuildError(plan.name, `handler '${plan.name}' (adapter ${plan.adapter.name}) could not start: ${(e as Error).message}`);
    }
    const interval = handler.flushIntervalMs !== undefined && handler.flushIntervalMs > 0 ? handler.flushIntervalMs : undefined;
    const timeout = this.opts.flushTimeoutMs ?? Math.min(interval ?? 10_000, 10_000);
    const ticker = new FlushTicker(handler, interval, timeout, log, {
      flushed: (seconds, ok) => {
        metrics.flushDuration.observe({ handler: plan.name }, seconds);
        if (!ok) metrics.flushFailures.inc({ handler: plan.name });
      },
    });
    return { plan, handler, ticker };
  }

  /** Flushes (optionally) and closes a handler; false when closing failed or did not finish in time. */
  private async retire(lh: LiveHandler, flush: boolean): Promise<boolean> {
    try {
      if (flush) await lh.ticker.stop();
      // Bounded like a flush: a handler that never finishes closing must not keep a reload, or
      // the process at shutdown, waiting forever.
      if (!(await settledBefore(lh.handler.close(), AbortSignal.timeout(this.closeTimeoutMs), 0))) {
        this.opts.logger.error('handler close did not finish; no longer waiting for it', { handler: lh.plan.name, timeoutMs: this.closeTimeoutMs });
        return false;
      }
      return true;
    } catch (e) {
      this.opts.logger.warn('handler close failed', { handler: lh.plan.name, error: (e as Error).message });
      return false;
    }
  }

  /** Final flush and close of every handler. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.applying;
    const all = [...this.live.values()];
    this.live = new Map();
    await Promise.all(all.map((lh) => this.retire(lh, true)));
  }
}
