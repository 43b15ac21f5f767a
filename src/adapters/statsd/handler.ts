/**
 * The StatsD handler: records instances in memory on the Report path and, on the core's ticker,
 * encodes one line per series (per sample for timers), packs them into datagrams and sends them.
 * What a send could not deliver is merged into the next flush (bounded), so a server restart or a
 * short outage loses nothing; see README.md for how UDP tells.
 */
import type { AttributeValue, Handler, HandleResult, HandlerEnv, InstanceSpec, MetricInstance } from '../../core/adapter.js';
import { DEFAULT_SLICE_MS, flushPacer, TimeSlicer, ValueType } from '../../core/adapter.js';
import { RateLimitedLog, TallyLog } from '../../core/log.js';
import { selectUnits, StatsdAggregator, type AggregateSnapshot, type StatKind } from './aggregator.js';
import { StatsdMetricType, type StatsdConfig, type StatsdMetricConfig } from './config.js';
import { encodeUnitsInSteps } from './encoder.js';
import { compileStatName, overflowStatName, referencedDimensions, type StatNameRenderer } from './name-template.js';
import { DatagramPacker, type PackedDatagrams } from './packer.js';
import { AddressResolver, systemLookup, type LookupFn } from './resolver.js';
import { SEND_RESULT, sendWindowed, type SendOutcome } from './send-window.js';
import { StatNameCaches, type StatNameCache } from './stat-name-cache.js';
import type { DatagramTransport, TransportFactory, TransportTarget } from './transport.js';
import { connectedUdpTransport } from './udp-transport.js';

/** Event names counted through `HandlerEnv.stats` (exported as `telemux_handler_events_total`). */
export const STATSD_EVENTS = {
  linesSent: 'lines_sent',
  datagramsSent: 'datagrams_sent',
  sendErrors: 'send_errors',
  socketErrors: 'socket_errors',
  dnsErrors: 'dns_errors',
  /** Lines carried into the next flush: failed, unsent, refused or not yet resolvable. */
  linesRequeued: 'lines_requeued',
  linesDroppedPendingLimit: 'lines_dropped_pending_limit',
  /** Lines still waiting when the handler closed (after the core's final flush). */
  linesDroppedClosed: 'lines_dropped_closed',
  /**
   * Lines of the final flush's last datagrams: sent, but no later send could tell whether the
   * server refused them. Taken as delivered.
   */
  linesUnconfirmedAtClose: 'lines_unconfirmed_at_close',
  /** Lines longer than the largest UDP payload (65507 bytes): no datagram can carry them. */
  linesDroppedOversized: 'lines_dropped_oversized',
  /** Lines longer than flushBytes, each sent in a datagram of its own. */
  linesSentAlone: 'lines_sent_alone',
  instancesUnconfigured: 'instances_dropped_unconfigured',
  instancesInvalidValue: 'instances_dropped_invalid_value',
  instancesEmptyName: 'instances_dropped_empty_name',
  instancesSampledOut: 'instances_sampled_out',
  /** Instances recorded into their metric's overflow stat because a series limit was reached. */
  instancesOverflowed: 'instances_overflowed',
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
  /**
   * Work a flush does between two turns of the event loop (encoding, packing, sending). Default
   * DEFAULT_SLICE_MS; 0 yields at every step, which tests use to make the slicing certain.
   */
  readonly flushSliceMs?: number;
}

export const DEFAULT_DNS_REFRESH_MS = 30_000;
/**
 * The largest packing arena kept from one flush for the next. A flush's lines take a few MB at
 * most on a busy server; one far larger (a burst of timer samples) is not held for good.
 */
const MAX_KEPT_ARENA_BYTES = 16 * 1024 * 1024;

export const DEFAULT_MAX_DATAGRAMS_IN_FLIGHT = 64;
const DEFAULT_LOG_INTERVAL_MS = 10_000;

interface Plan {
  readonly kind: StatKind;
  /** The value is divided by this: 1e6 turns a DURATION's nanoseconds into timer milliseconds. */
  readonly divisor: number;
  readonly render: StatNameRenderer;
  /** Names already rendered, by the values the template references. */
  readonly names: StatNameCache;
  readonly instance: string;
  /** Where new series go once a limit is reached. */
  readonly overflowName: string;
  readonly maxSeries: number;
  /** Series this metric created in the current interval. */
  live: number;
  /** Instances it sent to the overflow stat in the current interval. */
  overflowed: number;
  /** The overflow stat's slot, valid in aggregator generation `overflowGeneration`. */
  overflowSlot: number;
  overflowGeneration: number;
}

function kindOf(type: StatsdMetricType): StatKind {
  return type === StatsdMetricType.COUNTER ? 'count' : type === StatsdMetricType.GAUGE ? 'gauge' : 'timing';
}

function planFor(m: StatsdMetricConfig, spec: InstanceSpec, prefix: string, caches: StatNameCaches): Plan {
  const kind = kindOf(m.type);
  return {
    kind,
    // Mixer sent an INT64 DISTRIBUTION as a counter increment, summing e.g. request sizes into
    // one number. A distribution is a timer here whatever its type; only durations change unit.
    divisor: kind === 'timing' && spec.valueType === ValueType.DURATION ? 1e6 : 1,
    render: compileStatName(m.parts, spec.dimensions, prefix, spec.name),
    names: caches.create(referencedDimensions(m.parts, spec.dimensions)),
    instance: spec.name,
    overflowName: overflowStatName(m.parts, prefix, spec.name),
    maxSeries: m.maxSeries,
    live: 0,
    overflowed: 0,
    overflowSlot: -1,
    overflowGeneration: -1,
  };
}

/** What {@link StatsdHandler.resolve} returns instead of a slot. */
const EMPTY_NAME = -1;
const OVER_LIMIT = -2;

/**
 * Names cached per handler before the cache starts afresh: a few times the series one interval
 * may hold, so a mesh's label sets all stay cached while churning values cannot grow it forever.
 */
function nameCacheBound(maxSeries: number): number {
  return Math.max(4096, 2 * maxSeries);
}

/** How one datagram of a flush is settled (see StatsdHandler.settle); 0 means delivered. */
const RETRY = 1;
const UNCONFIRMED = 2;

function describeValue(v: AttributeValue | null): string {
  if (v === null) return 'no value';
  if (typeof v === 'number') return String(v);
  return typeof v;
}

/** Drops from `older` the gauges `newer` holds: resending an older value could overwrite the newer one. */
function forgetGaugesOf(newer: AggregateSnapshot, older: StatsdAggregator): void {
  const g = newer.gauges;
  for (let s = 0; s < g.length; s++) {
    const name = g.nameAt(s);
    if (name !== undefined) older.deleteGauge(name);
  }
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
  private readonly names: StatNameCaches;
  /** Lines a failed flush handed back, older than anything in `aggregator`. */
  private pending: StatsdAggregator | undefined;
  /**
   * The last datagrams of the previous flush. UDP reports a refusal on the send *after* the lost
   * datagram, so these are settled by the next flush's first send: taken as delivered if it
   * succeeds, carried over if it fails.
   */
  private unconfirmed: StatsdAggregator | undefined;
  /** Set after a failed send, so the recovery is logged once. */
  private failing = false;
  /** The bytes the last flush packed its datagrams into, once nothing sends from them any more. */
  private arena: Buffer | undefined;
  /** What the last flush cost the event loop (encoding and sending), for pacing the next. */
  private lastFlushBusyMs = 0;
  private readonly resolver: AddressResolver;
  private readonly random: () => number;
  private readonly createTransport: TransportFactory;
  private readonly maxInFlight: number;
  private readonly sliceMs: number;
  private transport: { readonly target: TransportTarget; readonly t: DatagramTransport } | undefined;
  /** Transports replaced after the address changed, still draining. */
  private readonly retiring = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;
  private waitedForFirstLookup = false;

  private readonly sendLog: RateLimitedLog;
  private readonly dnsLog: RateLimitedLog;
  private readonly dropLog: RateLimitedLog;
  private readonly reportLog: RateLimitedLog;
  private readonly overflowLog: TallyLog;

  constructor(
    private readonly config: StatsdConfig,
    instances: readonly InstanceSpec[],
    private readonly env: HandlerEnv,
    options: StatsdHandlerOptions = {},
  ) {
    this.flushIntervalMs = config.flushIntervalMs;
    this.random = options.random ?? Math.random;
    this.createTransport = options.transport ?? connectedUdpTransport;
    this.maxInFlight = Math.max(1, options.maxDatagramsInFlight ?? DEFAULT_MAX_DATAGRAMS_IN_FLIGHT);
    this.sliceMs = Math.max(0, options.flushSliceMs ?? DEFAULT_SLICE_MS);
    const now = (): number => env.clock.now();
    const logEvery = options.logIntervalMs ?? DEFAULT_LOG_INTERVAL_MS;
    this.sendLog = new RateLimitedLog(env.logger, logEvery, now);
    this.dnsLog = new RateLimitedLog(env.logger, logEvery, now);
    this.dropLog = new RateLimitedLog(env.logger, logEvery, now);
    this.reportLog = new RateLimitedLog(env.logger, logEvery, now);
    this.overflowLog = new TallyLog(env.logger, logEvery, now);

    this.names = new StatNameCaches(nameCacheBound(config.maxSeries));
    const specs = new Map(instances.map((i) => [i.name, i] as const));
    for (const m of config.metrics) {
      const spec = specs.get(m.instance);
      if (spec !== undefined) this.plans.set(m.instance, planFor(m, spec, config.prefix, this.names));
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
    const generation = agg.generation;
    const ids = this.names.ids;
    const rate = this.config.samplingRate;
    let unconfigured = 0;
    let invalid = 0;
    let emptyName = 0;
    let sampledOut = 0;
    let overflowed = 0;
    let message: string | undefined;
    for (let i = 0; i < batch.length; i++) {
      const inst = batch[i] as MetricInstance;
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
      // Sampled before the name is looked up: a dropped sample should cost as little as possible.
      if (plan.kind === 'timing' && rate < 1 && this.random() >= rate) {
        sampledOut++;
        continue;
      }
      // The fast path: a name cached and already looked up in this interval.
      const names = plan.names;
      const entry = names.find(inst.dimensions, ids);
      let slot =
        entry >= 0 && names.generations[entry] === generation ? (names.slots[entry] as number) : this.resolve(plan, inst.dimensions, entry);
      if (slot === EMPTY_NAME) {
        emptyName++;
        message ??= `instance ${inst.spec.name} rendered an empty stat name`;
        continue;
      }
      if (slot === OVER_LIMIT) {
        slot = this.overflowSlot(plan);
        plan.overflowed++;
        overflowed++;
      }
      if (plan.kind === 'count') agg.counters.values[slot] += v;
      else if (plan.kind === 'gauge') agg.gauges.values[slot] = v;
      else agg.timers.add(slot, plan.divisor === 1 ? v : v / plan.divisor);
    }
    const stats = this.env.stats;
    if (sampledOut > 0) stats.count(STATSD_EVENTS.instancesSampledOut, sampledOut);
    // Not a failure of the Report: the data is kept, only its dimensions are folded.
    if (overflowed > 0) stats.count(STATSD_EVENTS.instancesOverflowed, overflowed);
    const failed = unconfigured + invalid + emptyName;
    if (failed === 0) return undefined;
    if (unconfigured > 0) stats.count(STATSD_EVENTS.instancesUnconfigured, unconfigured);
    if (invalid > 0) stats.count(STATSD_EVENTS.instancesInvalidValue, invalid);
    if (emptyName > 0) stats.count(STATSD_EVENTS.instancesEmptyName, emptyName);
    this.reportLog.warn('statsd handler dropped instances', { failed, reason: message });
    return { failed, message: message ?? 'instances dropped' };
  }

  /**
   * The slow path of handleMetrics: the slot of the series these values name, admitting a new
   * series within the limits, and caching the name. EMPTY_NAME or OVER_LIMIT instead of a slot.
   */
  private resolve(plan: Plan, dimensions: readonly AttributeValue[], cached: number): number {
    const agg = this.aggregator;
    const names = plan.names;
    const name = cached >= 0 ? (names.names[cached] as string) : plan.render(dimensions);
    if (name === '') {
      if (cached < 0) this.names.insert(names, dimensions, name);
      return EMPTY_NAME;
    }
    let slot = agg.slotOf(plan.kind, name);
    let created = false;
    if (slot < 0) {
      // Not cached when over a limit, so a runaway template cannot churn the cache; limits only
      // tighten within an interval, and a new one renders the name again.
      if (plan.live >= plan.maxSeries || agg.series >= this.config.maxSeries) return OVER_LIMIT;
      slot = agg.create(plan.kind, name);
      plan.live++;
      created = true;
    }
    // Cached from the second sighting on: values seen once (a request id in a template) would
    // fill the cache for nothing, at a cost several times that of rendering.
    const entry = cached >= 0 ? cached : created ? -1 : this.names.insert(names, dimensions, name);
    if (entry >= 0) {
      names.generations[entry] = agg.generation;
      names.slots[entry] = slot;
    }
    return slot;
  }

  /** The metric's overflow stat, which is always admitted: at most one extra series per metric. */
  private overflowSlot(plan: Plan): number {
    const agg = this.aggregator;
    if (plan.overflowGeneration !== agg.generation) {
      const slot = agg.slotOf(plan.kind, plan.overflowName);
      plan.overflowSlot = slot >= 0 ? slot : agg.create(plan.kind, plan.overflowName);
      plan.overflowGeneration = agg.generation;
    }
    return plan.overflowSlot;
  }

  async flush(signal: AbortSignal): Promise<void> {
    this.resolver.refreshIfStale();
    // Taken synchronously: whatever is recorded from here on, even while this flush yields
    // between slices, belongs to the next flush.
    const fresh = this.aggregator.drain();
    this.endInterval();
    // Paced from the last flush's cost over its interval.
    const pacer = flushPacer(this.lastFlushBusyMs, this.sliceMs, this.flushIntervalMs, this.closing !== undefined);
    const slicer = new TimeSlicer(this.sliceMs, undefined, pacer);
    let batch = fresh;
    const carried = this.pending;
    if (carried !== undefined) {
      this.pending = undefined;
      // Not cut short by an abort: this flush alone holds both halves, and carries them merged.
      const merge = carried.absorbNewerInSteps(fresh);
      if (!slicer.runWithinSlice(merge)) await slicer.finish(merge);
      batch = carried.drain();
    }
    const total = batch.pendingLines;
    if (total === 0) return;
    // Taken, so a flush that overlaps this one (none should) packs into bytes of its own.
    const arena = this.arena;
    this.arena = undefined;
    const packer = new DatagramPacker(this.config.flushBytes, batch.series + batch.timers.samples, arena);
    const encode = encodeUnitsInSteps(batch, this.config.samplingRate, packer);
    if (!slicer.runWithinSlice(encode) && !(await slicer.finish(encode, () => signal.aborted || this.closing !== undefined))) {
      if (this.closing !== undefined) this.dropClosed(total, 'statsd handler closed during a flush; unsent lines dropped');
      else this.requeueUnsent(batch);
      return;
    }
    const stats = this.env.stats;
    const packed = packer.finish();
    // Read now: what follows waits on other things (the resolver, the socket).
    const encodeBusyMs = slicer.busyMs;
    if (packed.oversized > 0) {
      stats.count(STATSD_EVENTS.linesDroppedOversized, packed.oversizedLines);
      this.dropLog.warn('statsd lines longer than the largest UDP payload (65507 bytes) were dropped; shorten the name template', {
        lines: packed.oversizedLines,
      });
    }
    if (packed.linesAlone > 0) {
      stats.count(STATSD_EVENTS.linesSentAlone, packed.linesAlone);
      this.dropLog.warn('statsd lines longer than flushBytes were sent in datagrams of their own, which the network may fragment or drop; shorten the name template or raise flushBytes', {
        lines: packed.linesAlone,
        flushBytes: this.config.flushBytes,
      });
    }
    if (packed.lines === 0) {
      this.keepArena(packed.arena);
      return;
    }
    // Only the very first lookup is waited for (within the flush's time box), so data recorded
    // right after start is not lost to a slow resolver; later lookups never hold a flush.
    const first = this.waitedForFirstLookup || this.resolver.current() !== undefined ? undefined : this.resolver.firstLookup();
    if (first !== undefined) {
      this.waitedForFirstLookup = true;
      await untilSettledOrAborted(first, signal);
    }
    if (this.closing !== undefined) {
      this.dropClosed(packed.lines, 'statsd handler flushed after close; lines dropped');
      return;
    }
    const target = this.target();
    if (target === undefined) {
      this.keepArena(packed.arena);
      const kept = this.carry(selectUnits(batch, (u) => (packed.unitDatagram[u] ?? -1) >= 0));
      this.dropLog.warn('statsd address not resolved yet; lines kept for the next flush', { host: this.config.address.host, lines: kept });
      return;
    }
    const outcome = await sendWindowed(this.transportFor(target), packed, signal, this.maxInFlight, this.sliceMs, pacer);
    this.lastFlushBusyMs = encodeBusyMs + outcome.busyMs;
    // Sends a time box cut short may still read their payloads: those bytes are left to them.
    if (!outcome.stillSending) this.keepArena(packed.arena);
    if (outcome.linesSent > 0) {
      stats.count(STATSD_EVENTS.linesSent, outcome.linesSent);
      stats.count(STATSD_EVENTS.datagramsSent, outcome.datagramsSent);
    }
    if (outcome.datagramsFailed > 0) stats.count(STATSD_EVENTS.sendErrors, outcome.datagramsFailed);
    this.settle(batch, packed, outcome, target);
    // Settled: what was carried over or left unconfirmed was copied out of the batch.
    this.aggregator.recycle(batch);
  }

  /**
   * Decides, per datagram, what this flush delivered, and carries the rest over. A connected UDP
   * socket reports a refused datagram (ICMP port unreachable) as ECONNREFUSED on a *later* send,
   * and that send itself does not leave. So:
   * - a failed, unsent or unanswered datagram is retried;
   * - a failure also condemns the datagrams sent shortly before the first failure (one send
   *   window) up to the last failure: one of them was refused, which one cannot be known;
   * - the datagrams after the last failure (at most one window) are unconfirmed until the next
   *   flush's first send says whether a refusal was pending;
   * - the previous flush's unconfirmed datagrams are settled by this flush's first send.
   * Delivery is therefore at least once: when a server comes or goes in the middle of a flush,
   * a few datagrams it did receive may be sent again.
   */
  private settle(batch: StatsdAggregator, packed: PackedDatagrams, outcome: SendOutcome, target: TransportTarget): void {
    const results = outcome.results;
    const n = results.length;
    const previous = this.unconfirmed;
    this.unconfirmed = undefined;
    if (this.closing !== undefined) {
      // Closed under the flush: nothing is left to carry anything to.
      let unsent = 0;
      for (let d = 0; d < n; d++) if (results[d] !== SEND_RESULT.ok) unsent += packed.lineCounts[d] ?? 0;
      if (unsent > 0) this.dropClosed(unsent, 'statsd handler closed during a flush; unsent lines dropped');
      return;
    }
    let firstFailure = -1;
    let lastFailure = -1;
    for (let d = 0; d < n; d++) {
      if (results[d] !== SEND_RESULT.failed) continue;
      if (firstFailure < 0) firstFailure = d;
      lastFailure = d;
    }
    const window = this.maxInFlight;
    const suspectFrom = firstFailure < 0 ? n : Math.max(0, firstFailure - window);
    const unconfirmedFrom = Math.max(lastFailure + 1, n - window);
    const fate = new Uint8Array(n);
    let retry = 0;
    let retryLines = 0;
    let unconfirmed = 0;
    for (let d = 0; d < n; d++) {
      if (results[d] !== SEND_RESULT.ok || (d >= suspectFrom && d <= lastFailure)) {
        fate[d] = RETRY;
        retry++;
        retryLines += packed.lineCounts[d] ?? 0;
      } else if (d >= unconfirmedFrom && this.config.maxPendingLines > 0) {
        fate[d] = UNCONFIRMED;
        unconfirmed++;
      }
    }

    let carried = 0;
    if (previous !== undefined && results[0] !== SEND_RESULT.ok) {
      // The first send failed (a refusal was waiting) or was never answered: the previous
      // flush's last datagrams may not have arrived. A gauge this flush carries is newer than
      // theirs, and resending the older value could overwrite it on the server.
      forgetGaugesOf(batch, previous);
      carried += this.carry(previous);
    }
    // Oversized units were never packed (datagram -1): they are counted as dropped already.
    const unit = packed.unitDatagram;
    const settledAs = (f: number) => (u: number) => {
      const d = unit[u] ?? -1;
      return d >= 0 && fate[d] === f;
    };
    if (retry > 0) carried += this.carry(selectUnits(batch, settledAs(RETRY)));
    if (unconfirmed > 0) this.unconfirmed = selectUnits(batch, settledAs(UNCONFIRMED));

    if (retry > 0) {
      this.failing = true;
      this.sendLog.warn('statsd send failed; lines kept for the next flush', {
        address: `${target.address}:${target.port}`,
        datagrams: retry,
        lines: retryLines,
        pending: this.pending?.pendingLines ?? 0,
        error: outcome.firstError?.message ?? (outcome.linesAborted > 0 ? 'flush aborted (time box)' : undefined),
      });
    } else if (this.failing && carried === 0) {
      this.failing = false;
      this.env.logger.info('statsd sends recovered', { address: `${target.address}:${target.port}` });
    }
  }

  private keepArena(arena: Buffer): void {
    if (arena.length <= MAX_KEPT_ARENA_BYTES) this.arena = arena;
  }

  /**
   * A flush aborted before it finished encoding sent nothing: everything it held is carried
   * over, as if every send had been aborted (see settle).
   */
  private requeueUnsent(batch: StatsdAggregator): void {
    const previous = this.unconfirmed;
    this.unconfirmed = undefined;
    if (previous !== undefined) {
      forgetGaugesOf(batch, previous);
      this.carry(previous);
    }
    const lines = batch.pendingLines;
    this.carry(batch);
    this.failing = true;
    this.sendLog.warn('statsd send failed; lines kept for the next flush', {
      lines,
      pending: this.pending?.pendingLines ?? 0,
      error: 'flush aborted (time box)',
    });
  }

  /**
   * Adds `lines` (older than anything recorded since) to what the next flush sends, within
   * max_pending_lines. Returns how many lines were kept.
   */
  private carry(lines: StatsdAggregator): number {
    const added = lines.pendingLines;
    if (added === 0) return 0;
    const stats = this.env.stats;
    const max = this.config.maxPendingLines;
    if (max === 0) {
      stats.count(STATSD_EVENTS.linesDroppedPendingLimit, added);
      this.dropLog.warn('statsd lines that could not be delivered were dropped (max_pending_lines is 0)', { dropped: added });
      return 0;
    }
    stats.count(STATSD_EVENTS.linesRequeued, added);
    let pending = this.pending;
    if (pending === undefined) pending = lines;
    else pending.absorbNewer(lines.drain());
    const dropped = pending.trimTo(max);
    if (dropped > 0) {
      stats.count(STATSD_EVENTS.linesDroppedPendingLimit, dropped);
      this.dropLog.warn('statsd lines waiting to be resent exceed max_pending_lines; the newest were dropped', {
        dropped,
        maxPendingLines: max,
      });
    }
    this.pending = pending.empty ? undefined : pending;
    return added;
  }

  /** Starts a new interval for the series limits, and reports what overflowed in the last ones. */
  private endInterval(): void {
    for (const plan of this.plans.values()) {
      plan.live = 0;
      if (plan.overflowed > 0) {
        this.overflowLog.add(plan.instance, plan.overflowed);
        plan.overflowed = 0;
      }
    }
    this.overflowLog.flush('statsd series limit reached; new series were recorded into their metric\'s overflow stat', {
      maxSeries: this.config.maxSeries,
    });
  }

  private dropClosed(lines: number, why: string): void {
    this.env.stats.count(STATSD_EVENTS.linesDroppedClosed, lines);
    this.dropLog.warn(why, { lines });
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  liveSeries(): number {
    return this.aggregator.series + (this.pending?.series ?? 0);
  }

  private async shutdown(): Promise<void> {
    const current = this.transport;
    this.transport = undefined;
    await Promise.all([current?.t.close(), ...this.retiring, this.resolver.idle()]);
    // The core's final flush has run: what still waits has nowhere left to go. What is merely
    // unconfirmed was sent and is taken as delivered, but counted so the doubt is visible.
    const unconfirmed = this.unconfirmed?.pendingLines ?? 0;
    this.unconfirmed = undefined;
    if (unconfirmed > 0) this.env.stats.count(STATSD_EVENTS.linesUnconfirmedAtClose, unconfirmed);
    const left = (this.pending?.pendingLines ?? 0) + this.aggregator.pendingLines;
    this.pending = undefined;
    this.aggregator.drain();
    if (left > 0) {
      this.env.stats.count(STATSD_EVENTS.linesDroppedClosed, left);
      this.env.logger.warn('statsd handler closed with unsent lines; they are dropped', { lines: left });
    }
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
