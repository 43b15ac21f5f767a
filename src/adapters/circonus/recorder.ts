/**
 * The Report-path side of the handler: per instance, everything resolved at build time (value
 * handling, tag categories, formatters), and a cache from dimension tuple (keyed by interned value
 * ids, see tag-keys.ts) to stream-tagged name, so a record for a series already seen does one
 * short-key Map lookup and no allocation.
 */
import { ValueType, type AttributeValue, type DimensionSpec, type InstanceSpec, type MetricInstance } from '../../core/adapter.js';
import { stringifierFor } from '../../core/format/index.js';
import { CIRCONUS_DEFAULTS, CirconusMetricType, type CirconusMetricConfig } from './config.js';
import type { CirconusType } from './payload.js';
import type { Series, SeriesMode, SeriesStore } from './store.js';
import { MAX_METRIC_NAME_BYTES, streamTaggedName, tagCategory, type TagCategory } from './stream-tags.js';
import type { TimeSlicer } from '../../core/adapter.js';
import { TagKeyer } from './tag-keys.js';

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

/**
 * Keyers by what they key (tagged positions and their types), shared by a handler's recorders so
 * instances of one attribute set resolve their tuple once.
 */
export type TagKeyers = Map<string, TagKeyer>;

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
  private readonly categories: readonly TagCategory[];
  private readonly keyer: TagKeyer;
  /** Cached tuples by their keyer tuple id. */
  private readonly leaves: (Leaf | undefined)[] = [];
  private cached = 0;
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
    /** Shared with the handler's other recorders; a recorder of its own otherwise (tests). */
    keyers: TagKeyers = new Map(),
  ) {
    this.plan = planFor(metric.type, spec.valueType);
    const tagged = metric.tagDimensions.flatMap((name) => {
      const at = spec.dimensions.findIndex((d) => d.name === name);
      return at < 0 ? [] : [{ at, dim: spec.dimensions[at] as DimensionSpec }];
    });
    const positions = tagged.map((t) => t.at);
    const signature = `${positions.join(',')}/${tagged.map((t) => String(t.dim.type)).join(',')}`;
    let keyer = keyers.get(signature);
    if (keyer === undefined) {
      keyer = new TagKeyer(
        positions,
        tagged.map((t) => stringifierFor(t.dim.type)),
      );
      keyers.set(signature, keyer);
    }
    this.keyer = keyer;
    this.categories = tagged.map((t) => tagCategory(t.dim.name));
    this.maxSeries = metric.maxSeries ?? CIRCONUS_DEFAULTS.maxSeriesPerMetric;
    const folded = streamTaggedName(spec.name, this.categories, positions.map(() => OVERFLOW_TAG_VALUE)).name;
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
    if (apply !== 'one') {
      if (typeof v !== 'number') return 'invalid_value';
      // Non-finite counters and gauges cannot be encoded (Go's encoder fails the whole flush on
      // one); a histogram holds NaN and ±Infinity in its NaN bin, as cgm and libcircllhist do.
      if (!Number.isFinite(v) && apply !== 'hist' && apply !== 'hist-ns') return 'invalid_value';
      if (apply === 'add' && v < 0) return 'invalid_value';
    }
    const leaf = this.leafFor(inst.dimensions, store, maxSeries);
    let s: Series | undefined;
    let overflow: boolean;
    if (leaf === undefined) {
      s = this.overflowIn(store);
      overflow = true;
    } else {
      if (leaf.epoch !== store.epoch) this.refresh(leaf, store, maxSeries);
      if (leaf.name === null) return 'name_too_long';
      s = leaf.series;
      overflow = leaf.overflow;
    }
    if (s === undefined) return 'name_too_long';
    const n = v as number;
    // An INT64 past 2^53 arrives rounded in `value`; `L` and `l` are integers on the wire (cgm
    // sends Go uint64/int64 exactly), so they take the exact one.
    const exact = inst.int64Value;
    switch (apply) {
      case 'one':
        s.addCount(1);
        break;
      case 'add':
        if (this.plan.mode !== 'count') s.addSum(n);
        else if (exact !== undefined) s.addCountExact(exact);
        else s.addCount(Math.trunc(n));
        break;
      case 'set':
        if (exact !== undefined && this.plan.type === 'l') s.setExact(exact);
        else s.set(n);
        break;
      case 'set-seconds':
        s.set(n / 1e9);
        break;
      case 'hist-ns':
        // Nanoseconds at scale −9 is the exact value in seconds, as cgm's RecordDuration.
        // Anything else (beyond int64 ns, or non-finite) goes in as a double: the NaN bin for NaN/±Inf.
        if (n > -INT64_BOUND && n < INT64_BOUND) s.insertIntScale(Math.trunc(n), -9);
        else s.insert(n / 1e9);
        break;
      case 'hist':
        s.insert(n);
        break;
    }
    return overflow ? 'overflow' : undefined;
  }

  /** Points a leaf last used with an older store at its series in `store` (or the overflow one). */
  private refresh(leaf: Leaf, store: SeriesStore, maxSeries: number): void {
    leaf.epoch = store.epoch;
    leaf.overflow = false;
    if (leaf.name === null) {
      leaf.series = undefined;
      return;
    }
    let found = store.get(leaf.name);
    if (found === undefined && this.roomForSeries(store, maxSeries)) {
      found = store.getOrCreate(leaf.name, this.plan.mode, this.plan.type, Number.POSITIVE_INFINITY);
      this.live++;
    }
    leaf.overflow = found === undefined;
    leaf.series = found ?? this.overflowIn(store);
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
    const keyer = this.keyer;
    const tuple = keyer.resolve(dims);
    if (tuple !== -1) {
      const found = this.leaves[tuple];
      if (found !== undefined) return found;
    }
    // Values and tuples are interned only for a tuple that gets cached, so a burst past the
    // limits grows nothing: it all goes to the overflow stream.
    if (!this.roomForNewTuple(store, maxSeries)) return undefined;
    const id = tuple !== -1 ? tuple : keyer.intern();
    const leaf = new Leaf(this.nameFor(keyer.currentTexts()));
    this.leaves[id] = leaf;
    keyer.retain(id);
    this.cached++;
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

  private nameFor(values: readonly string[]): string | null {
    const tagged = streamTaggedName(this.spec.name, this.categories, values);
    if (tagged.truncatedValues > 0) this.events.truncatedTagValues(tagged.truncatedValues);
    return Buffer.byteLength(tagged.name, 'utf8') > MAX_METRIC_NAME_BYTES ? null : tagged.name;
  }

  /**
   * Forgets tuples not used since before `epoch`, so dimension values that stop arriving (pods
   * that are gone) do not stay cached forever. Runs at flush, off the Report path.
   */
  sweep(epoch: number): void {
    this.sweepSome(epoch, 0, undefined);
  }

  /**
   * {@link sweep} in slices, for a flush: Reports may record between slices. A tuple they use
   * gets the new epoch and is kept; one they create in a slot already passed waits for the next
   * sweep.
   */
  async sweepInSlices(epoch: number, slicer: TimeSlicer): Promise<void> {
    let at = 0;
    while ((at = this.sweepSome(epoch, at, slicer)) < this.leaves.length) await slicer.yieldIfDue();
  }

  /** Sweeps from slot `from` until the slice runs out; returns where it stopped. */
  private sweepSome(epoch: number, from: number, slicer: TimeSlicer | undefined): number {
    const leaves = this.leaves;
    let i = from;
    while (i < leaves.length) {
      const leaf = leaves[i];
      if (leaf !== undefined && leaf.epoch < epoch) {
        leaves[i] = undefined;
        this.keyer.release(i);
        this.cached--;
        this.budget.count--;
      }
      i++;
      if ((i & 255) === 0 && slicer?.due() === true) return i;
    }
    return i;
  }

  /** Tuples currently cached (for tests). */
  cachedTuples(): number {
    return this.cached;
  }
}
