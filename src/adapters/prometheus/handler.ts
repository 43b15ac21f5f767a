import {
  ValueType,
  type AttributeValue,
  type ExposedFamily,
  type ExpositionFormat,
  type ExpositionSource,
  type Handler,
  type HandlerEnv,
  type HandleResult,
  type InstanceSpec,
  type MetricInstance,
} from '../../core/adapter.js';
import { stringifierFor, type ValueFormatter } from '../../core/format/index.js';
import { OVERFLOW_LABEL_VALUE, type PromConfig } from './config.js';
import { TallyLog } from '../../core/log.js';
import { ChunkBuffers, renderFamilyBytes, renderFamilyChunks, SERIES_PER_CHUNK } from './exposition.js';
import { valueConverterFor, type ValueConverter } from './prom-value.js';
import { familyRegistryOf, type FamilyRegistry } from './family-registry.js';
import { idKey, type LabelValues, type MetricFamily } from './series-store.js';

/**
 * How one instance's dimensions become a series key: which dimension feeds each label (in
 * label-name order) and how it is stringified. Bindings that agree on both share a plan, so the
 * core's practice of handing every instance of one attribute set the same dimensions array
 * (Istio's four HTTP metrics) turns four key computations into one.
 */
interface KeyPlan {
  readonly dimIndex: readonly number[];
  readonly stringify: readonly ValueFormatter[];
  /** Label value ids of `lastKey`; -1 for a value no series has (so none has this label set). */
  readonly ids: Int32Array;
  /** How many of `ids` are -1: while any is, `lastKey` names no series. */
  unknown: number;
  /**
   * The dimension values `ids` were made from, per label. Consecutive sets of a Report mostly
   * repeat them (the same decoded string, the same constant), so only labels whose value changed
   * are looked up again.
   */
  readonly lastValues: unknown[];
  lastDims: readonly AttributeValue[] | undefined;
  lastKey: string;
}

/** Equal to no dimension value: marks `lastValues` as unknown. */
const UNSET: unknown = Object.freeze({});

/** Everything handleMetrics needs for one instance name, resolved when the handler is built. */
interface Binding {
  readonly spec: InstanceSpec;
  readonly family: MetricFamily;
  readonly convert: ValueConverter;
  readonly plan: KeyPlan;
}

/** The overflow is logged at most once per this interval, with the counts since the line before. */
const OVERFLOW_LOG_INTERVAL_MS = 60_000;
const OVERFLOW_MESSAGE = 'series cap reached: new label sets go to the overflow series';

/** At most this many distinct messages are spelled out in a HandleResult. */
const MAX_MESSAGES = 5;

/** Stats events, counted per handler by the core. */
const EVENTS = {
  seriesOverflow: 'series_overflow',
  unknownInstance: 'unknown_instance',
  badValue: 'bad_value',
  negativeCounter: 'negative_counter',
  dimensionMismatch: 'dimension_mismatch',
  expired: 'series_expired',
} as const;

/**
 * The Prometheus handler: series fed by handleMetrics and rendered on scrape through the shared
 * exposition registry. Its families come from the endpoint's FamilyRegistry, as Mixer's came from
 * its process-wide registry: a rebuilt handler takes over the series of every metric whose
 * definition it kept, and the core keeps an unchanged handler across reloads as it is.
 */
export class PrometheusHandler implements Handler {
  readonly flushIntervalMs: number | undefined;
  private readonly families: readonly MetricFamily[];
  /** By instance name; a string when the instance can never be recorded, saying why. */
  private readonly bindings: ReadonlyMap<string, Binding | string>;
  /** Bindings for InstanceSpec objects other than the one seen at build time. */
  private readonly rebound = new WeakMap<InstanceSpec, Binding | string>();
  private readonly ttlMs: number | undefined;
  private readonly source: ExpositionSource;
  private readonly registry: FamilyRegistry;
  /** Label values of every family, stored once (shared by every handler on the endpoint). */
  private readonly labels: LabelValues;
  private readonly plans = new Map<string, KeyPlan>();
  private readonly seriesCaps = new Map<MetricFamily, number>();
  private readonly maxSeries: number;
  private readonly overflowLog: TallyLog;
  /** Each family's overflow series key, worked out once per batch (label ids can be reused between batches). */
  private readonly overflowKeys = new Map<MetricFamily, string>();
  /** Instances recorded into an overflow series in the current batch. */
  private overflowed = 0;
  private registered = false;
  private closed = false;

  constructor(
    config: PromConfig,
    instances: readonly InstanceSpec[],
    private readonly env: HandlerEnv,
  ) {
    this.registry = familyRegistryOf(env.exposition);
    this.labels = this.registry.labels;
    const specs = new Map(instances.map((i) => [i.name, i]));
    const families = new Map<string, MetricFamily>();
    const bindings = new Map<string, Binding | string>();
    for (const m of config.metrics) {
      let family = families.get(m.fullName);
      if (family === undefined) {
        // parseConfig guarantees metrics sharing a name have identical definitions.
        family = this.registry.acquire({ name: m.fullName, help: m.help, kind: m.kind, labelNames: [...m.labels].sort(), upperBounds: m.upperBounds });
        families.set(m.fullName, family);
      }
      if (!this.seriesCaps.has(family)) this.seriesCaps.set(family, m.maxSeries);
      const spec = specs.get(m.instanceName);
      if (spec !== undefined) bindings.set(m.instanceName, bindingFor(spec, family, this.plans));
    }
    this.families = [...families.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.bindings = bindings;
    this.maxSeries = config.maxSeries;
    this.overflowLog = new TallyLog(env.logger, OVERFLOW_LOG_INTERVAL_MS, () => env.clock.now());
    this.ttlMs = config.expiry === undefined ? undefined : config.expiry.ttlNs / 1e6;
    this.flushIntervalMs = config.expiry === undefined ? undefined : Math.max(1, config.expiry.checkIntervalNs / 1e6);
    // Scrapes of this handler's families reuse the chunk buffers the endpoint has written out.
    const buffers = new ChunkBuffers();
    const exposed = this.families.map((f) => exposedFamily(f, buffers));
    this.source = { families: () => exposed.filter((e) => e.family.size > 0) };
  }

  async start(): Promise<void> {
    this.env.exposition.register(this.env.name, this.source);
    this.registered = true;
  }

  handleMetrics(batch: readonly MetricInstance[]): HandleResult | undefined {
    // Stamped whether or not this handler expires series: a family can be shared with a handler
    // that does (another handler exporting the same metric, or this one's successor after a
    // reload adds a policy), and a series updated here must not look idle to it.
    const now = this.env.clock.now();
    let errors: Errors | undefined;
    // A key remembered from an earlier batch may name label ids freed since; start afresh.
    this.forgetKeys();
    const labels = this.labels;
    for (const inst of batch) {
      let b = this.bindings.get(inst.spec.name);
      if (b === undefined) {
        errors = addError(errors, EVENTS.unknownInstance, `could not find metric info from adapter config for ${inst.spec.name}`);
        continue;
      }
      if (typeof b === 'string') {
        errors = addError(errors, EVENTS.dimensionMismatch, b);
        continue;
      }
      if (b.spec !== inst.spec) {
        const r = this.rebind(b, inst.spec);
        if (typeof r === 'string') {
          errors = addError(errors, EVENTS.dimensionMismatch, r);
          continue;
        }
        b = r;
      }

      const v = b.convert(inst.value);
      if (typeof v === 'string') {
        errors = addError(errors, EVENTS.badValue, `could not get value for metric ${inst.spec.name}: ${v}`);
        continue;
      }
      const family = b.family;
      if (v !== v && family.kind !== 'GAUGE') {
        // A NaN would stay in the counter's total or the histogram's _sum for good (client_golang
        // added it); OpenMetrics forbids both. A gauge takes it: its next value replaces it.
        errors = addError(
          errors,
          EVENTS.badValue,
          family.kind === 'COUNTER'
            ? `could not add NaN to counter ${family.name} for ${inst.spec.name}: a counter total is never NaN`
            : `could not observe NaN in histogram ${family.name} for ${inst.spec.name}: a histogram sum is never NaN`,
        );
        continue;
      }
      if (family.kind === 'COUNTER' && v < 0) {
        // client_golang panics here and Mixer lost the rest of the batch; only this one is dropped.
        errors = addError(
          errors,
          EVENTS.negativeCounter,
          `could not add ${v} to counter ${family.name} for ${inst.spec.name}: counter cannot decrease in value`,
        );
        continue;
      }

      const dims = inst.dimensions;
      const plan = b.plan;
      let key = plan.lastKey;
      if (dims !== plan.lastDims) {
        const ids = plan.ids;
        const last = plan.lastValues;
        let changed = false;
        for (let j = 0; j < ids.length; j++) {
          const d = dims[plan.dimIndex[j] as number] as AttributeValue;
          if (d === last[j]) continue;
          last[j] = d;
          // Looked up, not interned: a value is kept only once a series uses it, so a burst of
          // label sets past the series cap leaves nothing behind.
          const id = labels.find((plan.stringify[j] as ValueFormatter)(d));
          const was = ids[j] as number;
          if (id !== was) {
            if (was < 0) plan.unknown--;
            if (id < 0) plan.unknown++;
            ids[j] = id;
            changed = true;
          }
        }
        if ((changed || plan.lastDims === undefined) && plan.unknown === 0) key = idKey(ids, ids.length);
        plan.lastDims = dims;
        plan.lastKey = key;
      }
      let slot = plan.unknown === 0 ? family.slotOf(key) : -1;
      if (slot < 0) slot = this.newSeries(family, plan);
      switch (family.kind) {
        case 'GAUGE':
          family.setValue(slot, v);
          break;
        case 'COUNTER':
          family.add(slot, v);
          break;
        case 'DISTRIBUTION':
          family.observeSlot(slot, v);
          break;
      }
      family.touch(slot, now);
    }
    if (this.overflowed > 0) this.reportOverflow();
    if (errors === undefined) return undefined;
    for (const [event, n] of errors.byEvent) this.env.stats.count(event, n);
    const more = errors.failed - errors.messages.length;
    const listed = errors.messages.join('; ');
    return {
      failed: errors.failed,
      message: errors.failed === 1 ? listed : `${errors.failed} instances failed: ${listed}${more > 0 ? ` (and ${more} more)` : ''}`,
    };
  }

  /**
   * The cardinality guard: a new label set gets its own series while the metric and the handler are
   * under their caps; past them it is recorded into the metric's one overflow series, whose label
   * values are all OVERFLOW_LABEL_VALUE, so sums and counts stay exact while memory stays bounded.
   */
  private newSeries(family: MetricFamily, plan: KeyPlan): number {
    const labels = this.labels;
    const ids = plan.ids;
    const n = ids.length;
    const text = (j: number): string => (plan.stringify[j] as ValueFormatter)(plan.lastValues[j] as AttributeValue);
    if (plan.unknown > 0) {
      // Another instance of this batch may have added the value since it was looked up.
      let unknown = 0;
      for (let j = 0; j < n; j++) if ((ids[j] as number) < 0 && (ids[j] = labels.find(text(j))) < 0) unknown++;
      plan.unknown = unknown;
      if (unknown === 0) {
        plan.lastKey = idKey(ids, n);
        const slot = family.slotOf(plan.lastKey);
        if (slot >= 0) return slot;
      }
    }
    const cap = this.seriesCaps.get(family) ?? Number.POSITIVE_INFINITY;
    if (family.size < cap && this.liveSeries() < this.maxSeries) {
      if (plan.unknown > 0) {
        for (let j = 0; j < n; j++) if ((ids[j] as number) < 0) ids[j] = labels.idOf(text(j));
        plan.unknown = 0;
        plan.lastKey = idKey(ids, n);
      }
      return family.createSlot(plan.lastKey, ids);
    }
    this.overflowed++;
    this.overflowLog.add(family.name);
    let key = this.overflowKeys.get(family);
    if (key === undefined) {
      const overflowIds = new Array<number>(n).fill(labels.idOf(OVERFLOW_LABEL_VALUE));
      key = idKey(overflowIds, n);
      this.overflowKeys.set(family, key);
      if (family.slotOf(key) < 0) return family.createSlot(key, overflowIds);
    }
    return family.slotOf(key);
  }

  /** Once per batch: the count for the handler's stats, and a log line at most once per interval. */
  private reportOverflow(): void {
    this.env.stats.count(EVENTS.seriesOverflow, this.overflowed);
    this.overflowed = 0;
    this.logOverflow();
  }

  /** The overflows tallied since the last line, if the log interval has passed. */
  private logOverflow(): void {
    this.overflowLog.flush(OVERFLOW_MESSAGE, { handlerCap: this.maxSeries, live: this.liveSeries() });
  }

  /** Evicts series idle for at least the TTL (Mixer's ttlCache removes entries whose deadline <= now). */
  async flush(signal: AbortSignal): Promise<void> {
    if (this.ttlMs === undefined) return;
    const cutoff = this.env.clock.now() - this.ttlMs;
    let removed = 0;
    for (const f of this.families) {
      if (signal.aborted) break;
      removed += f.evictTouchedBefore(cutoff);
    }
    // Freed label ids may be handed out again: no remembered key may outlive them.
    this.forgetKeys();
    // Overflows counted since the last line, written even if none has come since.
    this.logOverflow();
    if (removed > 0) {
      this.env.stats.count(EVENTS.expired, removed);
      this.env.logger.debug('expired idle series', { removed, live: this.liveSeries() });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.registered) {
      this.registered = false;
      this.env.exposition.unregister(this.env.name, this.source);
    }
    // A replacement holding the same families keeps them, series and all.
    for (const f of this.families) this.registry.release(f);
  }

  liveSeries(): number {
    let n = 0;
    for (const f of this.families) n += f.size;
    return n;
  }

  /** Distinct label values held: what a burst of label sets past the caps must not grow. */
  labelValuesHeld(): number {
    return this.labels.size;
  }

  private forgetKeys(): void {
    for (const plan of this.plans.values()) {
      plan.lastDims = undefined;
      plan.lastValues.fill(UNSET);
    }
    // Only when there is something to forget: clearing a Map gives it a new table, made where the
    // Map lives, so clearing this long-lived one on every batch put a table straight into the
    // old generation per Report (BENCHMARKS.md, round 13).
    if (this.overflowKeys.size > 0) this.overflowKeys.clear();
  }

  /**
   * The core may hand over an equivalent InstanceSpec object (say after a reload that kept this
   * handler); bind it by dimension names once and remember the answer.
   */
  private rebind(original: Binding, spec: InstanceSpec): Binding | string {
    let b = this.rebound.get(spec);
    if (b === undefined) {
      b = bindingFor(spec, original.family, this.plans);
      this.rebound.set(spec, b);
    }
    return b;
  }
}

/** Resolves label order, stringifiers and value conversion for one instance spec. */
function bindingFor(spec: InstanceSpec, family: MetricFamily, plans: Map<string, KeyPlan>): Binding | string {
  const names = spec.dimensions.map((d) => d.name).sort();
  if (names.join('\u0000') !== family.labelNames.join('\u0000')) {
    // parseConfig rules this out for the specs it saw; a different spec can still arrive.
    return `dimensions of instance ${spec.name} (${names.join(', ')}) do not match the labels of metric ${family.name} (${family.labelNames.join(', ')})`;
  }
  const dimIndex = family.labelNames.map((l) => spec.dimensions.findIndex((d) => d.name === l));
  const types = dimIndex.map((i) => spec.dimensions[i]?.type ?? ValueType.VALUE_TYPE_UNSPECIFIED);
  const signature = `${dimIndex.join(',')}/${types.join(',')}`;
  let plan = plans.get(signature);
  if (plan === undefined) {
    plan = {
      dimIndex,
      stringify: types.map((t) => stringifierFor(t)),
      ids: new Int32Array(dimIndex.length),
      unknown: 0,
      lastValues: new Array<unknown>(dimIndex.length).fill(UNSET),
      lastDims: undefined,
      lastKey: '',
    };
    plans.set(signature, plan);
  }
  return { spec, family, convert: valueConverterFor(spec.valueType), plan };
}

interface ExposedPromFamily extends ExposedFamily {
  readonly family: MetricFamily;
}

function exposedFamily(family: MetricFamily, buffers: ChunkBuffers): ExposedPromFamily {
  return {
    name: family.name,
    family,
    chunks: (format: ExpositionFormat) => renderFamilyChunks(family, format),
    byteChunks: (format: ExpositionFormat) => renderFamilyBytes(family, format, SERIES_PER_CHUNK, buffers),
    recycle: (chunk: Uint8Array) => buffers.give(chunk),
  };
}

interface Errors {
  failed: number;
  readonly messages: string[];
  readonly byEvent: Map<string, number>;
}

function addError(errors: Errors | undefined, event: string, message: string): Errors {
  const e = errors ?? { failed: 0, messages: [], byEvent: new Map<string, number>() };
  e.failed++;
  e.byEvent.set(event, (e.byEvent.get(event) ?? 0) + 1);
  if (e.messages.length < MAX_MESSAGES && !e.messages.includes(message)) e.messages.push(message);
  return e;
}
