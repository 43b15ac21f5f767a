/**
 * The StatsD handler: records instances in memory on the Report path and, on the core's ticker,
 * encodes one line per series (per sample for timers), packs them into datagrams and sends them.
 */
import type { AttributeValue, Handler, HandleResult, HandlerEnv, InstanceSpec, MetricInstance } from '../../core/adapter.js';
import { ValueType } from '../../core/adapter.js';
import { RateLimitedLog } from '../../core/log.js';
import { encodeSnapshot, StatsdAggregator } from './aggregator.js';
import { StatsdMetricType, type StatsdConfig } from './config.js';
import { compileStatName, type StatNameRenderer } from './name-template.js';
import { packLines } from './packer.js';
import { AddressResolver, systemLookup, type LookupFn } from './resolver.js';
import { sendWindowed } from './send-window.js';
import { hotShotsTransport, type DatagramTransport, type TransportFactory, type TransportTarget } from './transport.js';

/** Event names counted through `HandlerEnv.stats` (exported as `telemux_handler_events_total`). */
export const STATSD_EVENTS = {
  linesSent: 'lines_sent',
  datagramsSent: 'datagrams_sent',
  sendErrors: 'send_errors',
  socketErrors: 'socket_errors',
  dnsErrors: 'dns_errors',
  linesDroppedSendError: 'lines_dropped_send_error',
  linesDroppedOversized: 'lines_dropped_oversized',
  linesDroppedUnresolved: 'lines_dropped_unresolved',
  linesDroppedAborted: 'lines_dropped_aborted',
  instancesUnconfigured: 'instances_dropped_unconfigured',
  instancesInvalidValue: 'instances_dropped_invalid_value',
  instancesEmptyName: 'instances_dropped_empty_name',
  instancesSampledOut: 'instances_sampled_out',
} as const;

/** Seams for tests and benches; production uses the defaults. */
export interface StatsdHandlerOptions {
  /** Uniform in [0, 1); decides which timer samples are kept when samplingRate < 1. */
  readonly random?: () => number;
  readonly lookup?: LookupFn;
  readonly transport?: TransportFactory;
  /** How old a DNS answer may get before a flush refreshes it in the background. Default 30 s. */
  readonly dnsRefreshMs?: number;
  /** Datagrams handed to the socket before waiting for their completion. Default 64. */
  readonly maxDatagramsInFlight?: number;
  /** At most one log line per concern per this interval. Default 10 s. */
  readonly logIntervalMs?: number;
}

export const DEFAULT_DNS_REFRESH_MS = 30_000;
export const DEFAULT_MAX_DATAGRAMS_IN_FLIGHT = 64;
const DEFAULT_LOG_INTERVAL_MS = 10_000;

type Kind = 'count' | 'gauge' | 'timing';

interface Plan {
  readonly kind: Kind;
  /** The value is divided by this: 1e6 turns a DURATION's nanoseconds into timer milliseconds. */
  readonly divisor: number;
  readonly render: StatNameRenderer;
}

function planFor(type: StatsdMetricType, spec: InstanceSpec, render: StatNameRenderer): Plan {
  switch (type) {
    case StatsdMetricType.COUNTER:
      return { kind: 'count', divisor: 1, render };
    case StatsdMetricType.GAUGE:
      return { kind: 'gauge', divisor: 1, render };
    default:
      // Mixer sent an INT64 DISTRIBUTION as a counter increment, summing e.g. request sizes into
      // one number. A distribution is a timer here whatever its type; only durations change unit.
      return { kind: 'timing', divisor: spec.valueType === ValueType.DURATION ? 1e6 : 1, render };
  }
}

function describeValue(v: AttributeValue | null): string {
  if (v === null) return 'no value';
  if (typeof v === 'number') return String(v);
  return typeof v;
}

function untilSettledOrAborted(p: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    // The resolver's promises never reject.
    void p.then(done);
  });
}

export class StatsdHandler implements Handler {
  readonly flushIntervalMs: number;

  private readonly plans = new Map<string, Plan>();
  private readonly aggregator = new StatsdAggregator();
  private readonly resolver: AddressResolver;
  private readonly random: () => number;
  private readonly createTransport: TransportFactory;
  private readonly maxInFlight: number;
  private transport: { readonly target: TransportTarget; readonly t: DatagramTransport } | undefined;
  /** Transports replaced after the address changed, still draining. */
  private readonly retiring = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;
  private waitedForFirstLookup = false;

  private readonly sendLog: RateLimitedLog;
  private readonly dnsLog: RateLimitedLog;
  private readonly dropLog: RateLimitedLog;
  private readonly reportLog: RateLimitedLog;

  constructor(
    private readonly config: StatsdConfig,
    instances: readonly InstanceSpec[],
    private readonly env: HandlerEnv,
    options: StatsdHandlerOptions = {},
  ) {
    this.flushIntervalMs = config.flushIntervalMs;
    this.random = options.random ?? Math.random;
    this.createTransport = options.transport ?? hotShotsTransport;
    this.maxInFlight = Math.max(1, options.maxDatagramsInFlight ?? DEFAULT_MAX_DATAGRAMS_IN_FLIGHT);
    const now = (): number => env.clock.now();
    const logEvery = options.logIntervalMs ?? DEFAULT_LOG_INTERVAL_MS;
    this.sendLog = new RateLimitedLog(env.logger, logEvery, now);
    this.dnsLog = new RateLimitedLog(env.logger, logEvery, now);
    this.dropLog = new RateLimitedLog(env.logger, logEvery, now);
    this.reportLog = new RateLimitedLog(env.logger, logEvery, now);

    const specs = new Map(instances.map((i) => [i.name, i] as const));
    for (const m of config.metrics) {
      const spec = specs.get(m.instance);
      if (spec === undefined) continue;
      const render = compileStatName(m.parts, spec.dimensions, config.prefix, spec.name);
      this.plans.set(m.instance, planFor(m.type, spec, render));
    }

    this.resolver = new AddressResolver(
      config.address.host,
      options.lookup ?? systemLookup,
      now,
      options.dnsRefreshMs ?? DEFAULT_DNS_REFRESH_MS,
      (err) => {
        env.stats.count(STATSD_EVENTS.dnsErrors);
        this.dnsLog.warn('cannot resolve statsd address; sending to the last good address, if any', {
          host: config.address.host,
          error: err.message,
        });
      },
    );
  }

  /**
   * Starts resolving the address but does not wait for it: the core starts handlers one after
   * another, and a slow resolver must not hold up the others. The first flush waits for it instead.
   */
  async start(): Promise<void> {
    this.resolver.refreshIfStale();
    const target = this.target();
    if (target !== undefined) this.transportFor(target);
  }

  handleMetrics(batch: readonly MetricInstance[]): HandleResult | undefined {
    const agg = this.aggregator;
    const rate = this.config.samplingRate;
    let unconfigured = 0;
    let invalid = 0;
    let emptyName = 0;
    let sampledOut = 0;
    let message: string | undefined;
    for (const inst of batch) {
      const plan = this.plans.get(inst.spec.name);
      if (plan === undefined) {
        unconfigured++;
        message ??= `no statsd metric is configured for instance ${inst.spec.name}`;
        continue;
      }
      const v = inst.value;
      // Timers cannot be negative on the wire (servers reject the line).
      if (typeof v !== 'number' || !Number.isFinite(v) || (plan.kind === 'timing' && v < 0)) {
        invalid++;
        message ??= `instance ${inst.spec.name} has a value statsd cannot send (${describeValue(v)})`;
        continue;
      }
      // Sampled before the name is rendered: a dropped sample should cost as little as possible.
      if (plan.kind === 'timing' && rate < 1 && this.random() >= rate) {
        sampledOut++;
        continue;
      }
      const name = plan.render(inst.dimensions);
      if (name === '') {
        emptyName++;
        message ??= `instance ${inst.spec.name} rendered an empty stat name`;
        continue;
      }
      if (plan.kind === 'count') agg.addCount(name, v);
      else if (plan.kind === 'gauge') agg.setGauge(name, v);
      else agg.addTiming(name, plan.divisor === 1 ? v : v / plan.divisor);
    }
    const stats = this.env.stats;
    if (sampledOut > 0) stats.count(STATSD_EVENTS.instancesSampledOut, sampledOut);
    const failed = unconfigured + invalid + emptyName;
    if (failed === 0) return undefined;
    if (unconfigured > 0) stats.count(STATSD_EVENTS.instancesUnconfigured, unconfigured);
    if (invalid > 0) stats.count(STATSD_EVENTS.instancesInvalidValue, invalid);
    if (emptyName > 0) stats.count(STATSD_EVENTS.instancesEmptyName, emptyName);
    this.reportLog.warn('statsd handler dropped instances', { failed, reason: message });
    return { failed, message: message ?? 'instances dropped' };
  }

  async flush(signal: AbortSignal): Promise<void> {
    this.resolver.refreshIfStale();
    const snapshot = this.aggregator.drain();
    const units = encodeSnapshot(snapshot, this.config.samplingRate);
    if (units.length === 0) return;
    const stats = this.env.stats;
    const packed = packLines(units, this.config.flushBytes);
    if (packed.oversized > 0) {
      stats.count(STATSD_EVENTS.linesDroppedOversized, packed.oversizedLines);
      this.dropLog.warn('statsd lines longer than flushBytes were dropped; shorten the name template or raise flushBytes', {
        lines: packed.oversizedLines,
        flushBytes: this.config.flushBytes,
      });
    }
    if (packed.lines === 0) return;
    // Only the very first lookup is waited for (within the flush's time box), so data recorded
    // right after start is not lost to a slow resolver; later lookups never hold a flush.
    const first = this.waitedForFirstLookup || this.resolver.current() !== undefined ? undefined : this.resolver.firstLookup();
    if (first !== undefined) {
      this.waitedForFirstLookup = true;
      await untilSettledOrAborted(first, signal);
    }
    if (this.closing !== undefined) {
      stats.count(STATSD_EVENTS.linesDroppedAborted, packed.lines);
      this.dropLog.warn('statsd handler flushed after close; lines dropped', { lines: packed.lines });
      return;
    }
    const target = this.target();
    if (target === undefined) {
      stats.count(STATSD_EVENTS.linesDroppedUnresolved, packed.lines);
      this.dropLog.warn('statsd address not resolved yet; lines dropped', { host: this.config.address.host, lines: packed.lines });
      return;
    }
    const outcome = await sendWindowed(this.transportFor(target), packed.datagrams, packed.lineCounts, signal, this.maxInFlight);
    if (outcome.linesSent > 0) {
      stats.count(STATSD_EVENTS.linesSent, outcome.linesSent);
      stats.count(STATSD_EVENTS.datagramsSent, outcome.datagramsSent);
    }
    if (outcome.datagramsFailed > 0) {
      stats.count(STATSD_EVENTS.sendErrors, outcome.datagramsFailed);
      stats.count(STATSD_EVENTS.linesDroppedSendError, outcome.linesFailed);
      this.sendLog.warn('statsd send failed', {
        address: `${target.address}:${target.port}`,
        datagrams: outcome.datagramsFailed,
        lines: outcome.linesFailed,
        error: outcome.firstError?.message,
      });
    }
    if (outcome.linesAborted > 0) {
      stats.count(STATSD_EVENTS.linesDroppedAborted, outcome.linesAborted);
      this.dropLog.warn('statsd flush overran and was aborted; remaining lines dropped', { lines: outcome.linesAborted });
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  liveSeries(): number {
    return this.aggregator.series;
  }

  private async shutdown(): Promise<void> {
    const current = this.transport;
    this.transport = undefined;
    await Promise.all([current?.t.close(), ...this.retiring, this.resolver.idle()]);
  }

  private target(): TransportTarget | undefined {
    const r = this.resolver.current();
    return r === undefined ? undefined : { address: r.address, family: r.family, port: this.config.address.port };
  }

  /** The transport for `target`; a new one when DNS moved the server, the old one left to drain. */
  private transportFor(target: TransportTarget): DatagramTransport {
    const current = this.transport;
    if (current !== undefined && current.target.address === target.address) return current.t;
    if (current !== undefined) {
      const retired = current.t.close();
      this.retiring.add(retired);
      void retired.finally(() => this.retiring.delete(retired));
      this.env.logger.info('statsd address changed; switching socket', { from: current.target.address, to: target.address });
    }
    const t = this.createTransport(target, (err) => {
      this.env.stats.count(STATSD_EVENTS.socketErrors);
      this.sendLog.warn('statsd socket error', { error: err.message });
    });
    this.transport = { target, t };
    return t;
  }
}
