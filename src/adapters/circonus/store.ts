/**
 * What one flush interval has recorded, keyed by final (stream-tagged) metric name, and how two
 * such states merge when a failed payload is carried into the next one.
 */
import { Circllhist, U64_MAX } from '../../core/circllhist/index.js';
import type { CirconusSample, CirconusType } from './payload.js';
import type { TimeSlicer } from '../../core/adapter.js';

/**
 * How a series accumulates and merges:
 * - `count`: a uint64 sum (`L`); merges by addition, saturating at 2^64−1 like cgm's uint64.
 * - `sum`: a double sum (`n`), for non-integer counters; merges by addition.
 * - `last`: a gauge; within an interval and across a merge the most recent value wins.
 * - `histogram`: a circllhist (`h`); merges bin by bin, exactly.
 */
export type SeriesMode = 'count' | 'sum' | 'last' | 'histogram';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export class Series implements CirconusSample {
  private num = 0;
  /** Set once a `count` passes 2^53−1, from then on the exact value; for `last`, an exact int64 past 2^53. */
  private big: bigint | undefined;
  private readonly hist: Circllhist | undefined;
  /** Bytes of this series' member in the last payload encoded, −1 before; what `trim` weighs. */
  encodedBytes = -1;

  constructor(
    readonly name: string,
    readonly mode: SeriesMode,
    readonly type: CirconusType,
  ) {
    this.hist = mode === 'histogram' ? new Circllhist() : undefined;
  }

  /** Back to nothing recorded, keeping the histogram's bin storage for the next interval. */
  reset(): void {
    this.num = 0;
    this.big = undefined;
    this.hist?.clear();
    this.encodedBytes = -1;
  }

  get value(): number | bigint | Circllhist {
    if (this.hist !== undefined) return this.hist;
    return this.big ?? this.num;
  }

  /** The histogram of a `histogram` series (undefined otherwise). */
  get histogram(): Circllhist | undefined {
    return this.hist;
  }

  /** `count`: adds a non-negative integer. */
  addCount(n: number): void {
    if (this.big === undefined) {
      const s = this.num + n;
      if (s <= MAX_SAFE) {
        this.num = s;
        return;
      }
      this.big = BigInt(this.num);
    }
    const s = this.big + BigInt(n);
    this.big = s > U64_MAX ? U64_MAX : s;
  }

  /** `count`: adds a non-negative integer given exactly (an INT64 past 2^53). */
  addCountExact(n: bigint): void {
    this.addBig(n);
  }

  private addBig(n: bigint): void {
    const s = (this.big ?? BigInt(this.num)) + n;
    this.big = s > U64_MAX ? U64_MAX : s;
  }

  /**
   * `sum`: adds a non-negative double, saturating at the largest double as `count` saturates at
   * 2^64−1: an Infinity cannot be encoded, and would take the whole payload down with it.
   */
  addSum(x: number): void {
    const s = this.num + x;
    this.num = s === Number.POSITIVE_INFINITY ? Number.MAX_VALUE : s;
  }

  /** `last`: replaces the value. */
  set(x: number): void {
    this.num = x;
    this.big = undefined;
  }

  /**
   * `last`: replaces the value with an int64 given exactly: an `l` gauge past 2^53 goes out as
   * that integer, where its nearest double could even be 2^63, outside int64.
   */
  setExact(x: bigint): void {
    this.num = Number(x);
    this.big = x;
  }

  /** `histogram`: records a double. */
  insert(x: number): void {
    (this.hist as Circllhist).insert(x);
  }

  /** `histogram`: records `n · 10^scale` exactly. */
  insertIntScale(n: number, scale: number): void {
    (this.hist as Circllhist).insertIntScale(n, scale);
  }

  /** Folds in `newer`, a series of the same name recorded after this one. */
  absorbNewer(newer: Series): void {
    switch (this.mode) {
      case 'count':
        if (newer.big !== undefined) this.addBig(newer.big);
        else this.addCount(newer.num);
        return;
      case 'sum':
        this.addSum(newer.num);
        return;
      case 'last':
        // Last value wins: the newer interval recorded at least one value, and it is the latest.
        this.num = newer.num;
        this.big = newer.big;
        return;
      case 'histogram':
        (this.hist as Circllhist).merge(newer.hist as Circllhist);
        return;
    }
  }
}

/**
 * One interval's series. Stores are swapped out whole at flush, never drained in place.
 *
 * A store may be given a donor: an earlier store whose payload is settled and which nothing else
 * reads any more. A series created here takes the donor's series of the same name, emptied,
 * instead of a new one. A mesh's streams are mostly the same from one interval to the next, and a
 * new series (its histogram's bins grown again from 8, in fresh buffers each time) lived a whole
 * interval, long enough to be copied into the old generation. With 10,000 histogram streams
 * recorded every interval, taking them over made recording about 20% faster and halved the
 * longest event-loop block of a flush (BENCHMARKS.md, round 11).
 */
export class SeriesStore {
  private readonly byName = new Map<string, Series>();

  /** Distinguishes stores so cached series references can tell they are stale. */
  constructor(
    readonly epoch: number,
    private donor?: SeriesStore,
  ) {}

  /** Stops taking series from the donor (at the swap), so stores never chain to older ones. */
  releaseDonor(): void {
    this.donor = undefined;
  }

  get size(): number {
    return this.byName.size;
  }

  get(name: string): Series | undefined {
    return this.byName.get(name);
  }

  /** The series called `name`, created if there is room for one more (undefined if not). */
  getOrCreate(name: string, mode: SeriesMode, type: CirconusType, maxSeries: number): Series | undefined {
    let s = this.byName.get(name);
    if (s === undefined) {
      if (this.byName.size >= maxSeries) return undefined;
      s = this.donor?.giveAway(name, mode, type) ?? new Series(name, mode, type);
      this.byName.set(name, s);
    }
    return s;
  }

  /**
   * This (settled) store's series `name`, emptied for the store that asks; undefined if there is
   * none of that kind. A donor serves one store, which asks once per name (it keeps what it got),
   * so no series is given twice. The entry stays in the map: a delete could make V8 shrink the
   * table, which allocates, and the donor is dropped whole at the next swap.
   */
  private giveAway(name: string, mode: SeriesMode, type: CirconusType): Series | undefined {
    const s = this.byName.get(name);
    if (s === undefined || s.mode !== mode || s.type !== type) return undefined;
    s.reset();
    return s;
  }

  /** In insertion order: the series that first appeared earliest come first. */
  values(): IterableIterator<Series> {
    return this.byName.values();
  }

  /**
   * Merges `newer` (recorded after this store) into this one: counters and histograms add up
   * exactly, gauges take the newer value. Series new in `newer` are moved over, not copied, so
   * `newer` must not be used afterwards.
   */
  absorbNewer(newer: SeriesStore): void {
    for (const s of newer.byName.values()) this.absorbOne(s);
  }

  /** `s`, from a newer store, added to this one's series of its name, or taken as it is. */
  private absorbOne(s: Series): void {
    const mine = this.byName.get(s.name);
    if (mine === undefined) this.byName.set(s.name, s);
    else mine.absorbNewer(s);
  }

  /**
   * {@link absorbNewer} in time slices, for the flush (merging histograms of tens of thousands of
   * series is tens of milliseconds). Both stores must be off the Report path. Never stops half
   * way, so nothing of `newer` is lost.
   */
  async absorbNewerInSlices(newer: SeriesStore, slicer: TimeSlicer): Promise<void> {
    let n = 0;
    for (const s of newer.byName.values()) {
      this.absorbOne(s);
      if ((++n & 31) === 0) await slicer.yieldIfDue();
    }
  }

  /**
   * Keeps the longest run of series, in insertion order, that fits `maxSeries` and `maxBytes`
   * of JSON body (each series measured by `bytesOf`), and deletes the rest: the series that appeared most recently go first, so
   * long-standing streams stay continuous. Returns how many series were deleted.
   */
  trim(maxSeries: number, maxBytes: number, bytesOf: (s: Series) => number): number {
    let kept = 0;
    // The braces of the JSON object.
    let bytes = 2;
    let dropped = 0;
    let full = false;
    for (const [name, s] of this.byName) {
      if (!full) {
        const size = bytesOf(s) + (kept > 0 ? 1 : 0);
        if (kept < maxSeries && bytes + size <= maxBytes) {
          kept++;
          bytes += size;
          continue;
        }
        full = true;
      }
      this.byName.delete(name);
      dropped++;
    }
    return dropped;
  }
}
