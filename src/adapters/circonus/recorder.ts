/**
 * The Report-path side of the handler: per instance, everything resolved at build time (value
 * handling, tag categories, formatters), and a cache from dimension tuple to stream-tagged name so
 * a record for a series already seen does a few Map lookups and no allocation.
 */
import { ValueType, type AttributeValue, type DimensionSpec, type InstanceSpec, type MetricInstance } from '../../core/adapter.js';
import { stringifierFor, type ValueFormatter } from '../../core/format/index.js';
import { CIRCONUS_DEFAULTS, CirconusMetricType, type CirconusMetricConfig } from './config.js';
import type { CirconusType } from './payload.js';
import type { Series, SeriesMode, SeriesStore } from './store.js';
import { MAX_METRIC_NAME_BYTES, streamTaggedName, tagCategory, type TagCategory } from './stream-tags.js';

/** Why an instance was not recorded. */
export type DropReason = 'invalid_value' | 'name_too_long';

/**
 * What `record` did: `undefined` when the instance went into its own stream, `overflow` when a
 * series limit sent it to the metric's overflow stream (recorded, but with its tags folded), or
 * why it was dropped.
 */
export type RecordOutcome = undefined | 'overflow' | DropReason;

/** What stands in for every tag value in a metric's overflow stream. */
export const OVERFLOW_TAG_VALUE = 'overflow';

/**
 * How an instance's value is applied, decided once from the metric type and the value's static
 * type:
 * - `one`: COUNTER without a value expression, +1 per instance (Mixer's behaviour for all counters);
 * - `add`: COUNTER, adds the value (INT64 as uint64 `L`, DOUBLE as double `n`); negative is invalid;
 * - `set`: GAUGE, keeps the last value (INT64 as `l`, DOUBLE as `n`);
 * - `set-seconds`: GAUGE of a DURATION, in seconds as `n`;
 * - `hist-ns`: DISTRIBUTION of a DURATION, recorded as seconds through the exact int-scale path;
 * - `hist`: DISTRIBUTION of a number, recorded as is.
 */
type Apply = 'one' | 'add' | 'set' | 'set-seconds' | 'hist-ns' | 'hist';

interface Plan {
  readonly apply: Apply;
  readonly mode: SeriesMode;
  readonly type: CirconusType;
}

function planFor(type: CirconusMetricConfig['type'], valueType: ValueType): Plan {
  switch (type) {
    case CirconusMetricType.COUNTER:
      if (valueType === ValueType.VALUE_TYPE_UNSPECIFIED) return { apply: 'one', mode: 'count', type: 'L' };
      return valueType === ValueType.INT64 ? { apply: 'add', mode: 'count', type: 'L' } : { apply: 'add', mode: 'sum', type: 'n' };
    case CirconusMetricType.GAUGE:
      if (valueType === ValueType.DURATION) return { apply: 'set-seconds', mode: 'last', type: 'n' };
      return { apply: 'set', mode: 'last', type: valueType === ValueType.INT64 ? 'l' : 'n' };
    default:
      return { apply: valueType === ValueType.DURATION ? 'hist-ns' : 'hist', mode: 'histogram', type: 'h' };
  }
}

/** A cached dimension tuple. */
class Leaf {
  /** The series in the store of `epoch`; refreshed when the store has been swapped since. */
  series: Series | undefined = undefined;
  /** Epoch of the store this leaf was last used with; also what idle leaves are swept by. */
  epoch = -1;
  /** In that store, the tuple had no room for a stream of its own: `series` is the overflow one. */
  overflow = false;

  constructor(
    /** `null`: the tagged name exceeds the broker's limit, so the tuple is never recorded. */
    readonly name: string | null,
  ) {}
}

type TrieKey = string | number | boolean;
type Trie = Map<TrieKey, Trie | Leaf>;

/** Shared by all instances of a handler: how many tuples may be cached at once. */
export interface TupleBudget {
  count: number;
  readonly max: number;
}

/** Events the recorder reports besides drops. */
export interface RecorderEvents {
  truncatedTagValues(n: number): void;
}

// Int-scale takes int64; a DURATION beyond ±2^63 ns cannot come off the wire, but stay safe.
const INT64_BOUND = 9_223_372_036_854_775_808;

export class InstanceRecorder {
  private readonly plan: Plan;
  /** Positions in `MetricInstance.dimensions` that become tags. */
  private readonly positions: readonly number[];
  private readonly formatters: readonly ValueFormatter[];
  private readonly categories: readonly TagCategory[];
  /** Depth = number of tag dimensions; with none, the single tuple is `root`'s only leaf. */
  private readonly root: Trie = new Map();
  private readonly values: string[];
  /** Every tag value replaced by OVERFLOW_TAG_VALUE; `null` if even that is too long a name. */
  private readonly overflowName: string | null;
  private readonly maxSeries: number;
  /** Streams this metric created in the store of `liveEpoch`. */
  private live = 0;
  private liveEpoch = -1;
  private overflowSeries: Series | undefined;
  private overflowEpoch = -1;

  constructor(
    readonly spec: InstanceSpec,
    metric: CirconusMetricConfig,
    private readonly budget: TupleBudget,
    private readonly events: RecorderEvents,
  ) {
    this.plan = planFor(metric.type, spec.valueType);
    const tagged = metric.tagDimensions.flatMap((name) => {
      const at = spec.dimensions.findIndex((d) => d.name === name);
      return at < 0 ? [] : [{ at, dim: spec.dimensions[at] as DimensionSpec }];
    });
    this.positions = tagged.map((t) => t.at);
    this.formatters = tagged.map((t) => stringifierFor(t.dim.type));
    this.categories = tagged.map((t) => tagCategory(t.dim.name));
    this.values = new Array<string>(this.positions.length).fill('');
    this.maxSeries = metric.maxSeries ?? CIRCONUS_DEFAULTS.maxSeriesPerMetric;
    const folded = streamTaggedName(spec.name, this.categories, this.values.map(() => OVERFLOW_TAG_VALUE)).name;
    this.overflowName = Buffer.byteLength(folded, 'utf8') > MAX_METRIC_NAME_BYTES ? null : folded;
  }

  /**
   * Records one instance into `store`. A tuple that would add a stream beyond this metric's
   * limit or the handler's `maxSeries` is recorded into the metric's overflow stream instead, so
   * totals still add up while memory stays bounded.
   */
  record(inst: MetricInstance, store: SeriesStore, maxSeries: number): RecordOutcome {
    const apply = this.plan.apply;
    const v = inst.value;
    if (apply !== 'one' && (typeof v !== 'number' || !Number.isFinite(v) || (apply === 'add' && v < 0))) return 'invalid_value';
    const leaf = this.leafFor(inst.dimensions, store, maxSeries);
    let s: Series | undefined;
    let overflow: boolean;
    if (leaf === undefined) {
      s = this.overflowIn(store);
      overflow = true;
    } else {
      if (leaf.epoch !== store.epoch) {
        leaf.epoch = store.epoch;
        leaf.overflow = false;
        if (leaf.name === null) leaf.series = undefined;
        else {
          let found = store.get(leaf.name);
          if (found === undefined && this.roomForSeries(store, maxSeries)) {
            found = store.getOrCreate(leaf.name, this.plan.mode, this.plan.type, Number.POSITIVE_INFINITY);
            this.live++;
          }
          leaf.overflow = found === undefined;
          leaf.series = found ?? this.overflowIn(store);
        }
      }
      if (leaf.name === null) return 'name_too_long';
      s = leaf.series;
      overflow = leaf.overflow;
    }
    if (s === undefined) return 'name_too_long';
    const n = v as number;
    switch (apply) {
      case 'one':
        s.addCount(1);
        break;
      case 'add':
        if (this.plan.mode === 'count') s.addCount(Math.trunc(n));
        else s.addSum(n);
        break;
      case 'set':
        s.set(n);
        break;
      case 'set-seconds':
        s.set(n / 1e9);
        break;
      case 'hist-ns':
        // Nanoseconds at scale −9 is the exact value in seconds, as cgm's RecordDuration.
        if (n > -INT64_BOUND && n < INT64_BOUND) s.insertIntScale(Math.trunc(n), -9);
        else s.insert(n / 1e9);
        break;
      case 'hist':
        s.insert(n);
        break;
    }
    return overflow ? 'overflow' : undefined;
  }

  /** This metric's overflow stream in `store`, created past every limit (one per metric at most). */
  private overflowIn(store: SeriesStore): Series | undefined {
    if (this.overflowName === null) return undefined;
    if (this.overflowEpoch !== store.epoch || this.overflowSeries === undefined) {
      this.overflowEpoch = store.epoch;
      this.overflowSeries = store.getOrCreate(this.overflowName, this.plan.mode, this.plan.type, Number.POSITIVE_INFINITY);
    }
    return this.overflowSeries;
  }

  /** Streams this metric created in `store` so far. */
  private liveIn(store: SeriesStore): number {
    if (this.liveEpoch !== store.epoch) {
      this.liveEpoch = store.epoch;
      this.live = 0;
    }
    return this.live;
  }

  private roomForSeries(store: SeriesStore, maxSeries: number): boolean {
    return store.size < maxSeries && this.liveIn(store) < this.maxSeries;
  }

  /** The cached tuple, created on a miss while there is room; undefined when there is none. */
  private leafFor(dims: readonly AttributeValue[], store: SeriesStore, maxSeries: number): Leaf | undefined {
    const positions = this.positions;
    const depth = positions.length;
    let node = this.root;
    let key: TrieKey = 0;
    for (let i = 0; i < depth; i++) {
      key = this.keyAt(i, dims);
      if (i === depth - 1) break;
      let next = node.get(key);
      if (next === undefined) {
        if (!this.roomForNewTuple(store, maxSeries)) return undefined;
        next = new Map();
        node.set(key, next);
      }
      node = next as Trie;
    }
    const found = node.get(key);
    if (found !== undefined) return found as Leaf;
    if (!this.roomForNewTuple(store, maxSeries)) return undefined;
    const leaf = new Leaf(this.nameFor(dims));
    node.set(key, leaf);
    this.budget.count++;
    return leaf;
  }

  /**
   * A new tuple is cached only when it could still become a series: past a limit it would only
   * overflow, and caching it would let a cardinality burst grow memory without bound.
   */
  private roomForNewTuple(store: SeriesStore, maxSeries: number): boolean {
    return this.roomForSeries(store, maxSeries) && this.budget.count < this.budget.max;
  }

  /** Primitive values key the trie as they are; object-shaped ones by their text. */
  private keyAt(i: number, dims: readonly AttributeValue[]): TrieKey {
    const v = dims[this.positions[i] as number] as AttributeValue;
    return typeof v === 'object' ? (this.formatters[i] as ValueFormatter)(v) : v;
  }

  private nameFor(dims: readonly AttributeValue[]): string | null {
    const values = this.values;
    for (let i = 0; i < this.positions.length; i++) {
      values[i] = (this.formatters[i] as ValueFormatter)(dims[this.positions[i] as number] ?? null);
    }
    const tagged = streamTaggedName(this.spec.name, this.categories, values);
    if (tagged.truncatedValues > 0) this.events.truncatedTagValues(tagged.truncatedValues);
    return Buffer.byteLength(tagged.name, 'utf8') > MAX_METRIC_NAME_BYTES ? null : tagged.name;
  }

  /**
   * Forgets tuples not used since before `epoch`, so dimension values that stop arriving (pods
   * that are gone) do not stay cached forever. Runs at flush, off the Report path.
   */
  sweep(epoch: number): void {
    if (this.positions.length === 0) {
      const leaf = this.root.get(0);
      if (leaf instanceof Leaf && leaf.epoch < epoch) {
        this.root.delete(0);
        this.budget.count--;
      }
      return;
    }
    this.sweepNode(this.root, this.positions.length, epoch);
  }

  private sweepNode(node: Trie, depth: number, epoch: number): void {
    for (const [key, child] of node) {
      if (depth === 1) {
        if ((child as Leaf).epoch < epoch) {
          node.delete(key);
          this.budget.count--;
        }
        continue;
      }
      const sub = child as Trie;
      this.sweepNode(sub, depth - 1, epoch);
      if (sub.size === 0) node.delete(key);
    }
  }

  /** Tuples currently cached (for tests). */
  cachedTuples(): number {
    let n = 0;
    const count = (node: Trie, depth: number): void => {
      if (depth <= 1) {
        n += node.size;
        return;
      }
      for (const child of node.values()) count(child as Trie, depth - 1);
    };
    count(this.root, this.positions.length);
    return n;
  }
}
