import { SlicedMergeSort, TimeSlicer } from '../../core/adapter.js';
import { compareGoStrings } from '../../core/format/index.js';
import type { PromMetricKind } from './config.js';
import { escapeLabelValue } from './label-text.js';

/**
 * The label values of a handler's families, each distinct value stored once and named by a small
 * integer id. An Istio label set has twenty values, most shared by thousands of series
 * ("unknown", a namespace, a service); storing ids instead of strings keeps a series small and
 * makes its lookup key a few characters instead of a few hundred.
 *
 * Ids are reference-counted by series; a value no series uses any more is forgotten and its id
 * reused, except while a scrape is reading (an evicted series may still be rendered then).
 */
export class LabelValues {
  private readonly ids = new Map<string, number>();
  private readonly values: string[] = [];
  private readonly refs: number[] = [];
  /** The escaped value as UTF-8, made on first render. */
  private readonly encoded: (Buffer | undefined)[] = [];
  private readonly free: number[] = [];
  private readers = 0;
  private pending: number[] = [];
  private rankCache: Int32Array | undefined;
  /** Bumped when a value is added or dropped, so a sort in steps can tell its order went stale. */
  private version = 0;

  /** Distinct values held. */
  get size(): number {
    return this.ids.size;
  }

  /** The id of `v`, assigning one on first sight (unreferenced until a series retains it). */
  idOf(v: string): number {
    let id = this.ids.get(v);
    if (id === undefined) {
      id = this.free.pop() ?? this.values.length;
      this.ids.set(v, id);
      this.values[id] = v;
      this.refs[id] = 0;
      this.encoded[id] = undefined;
      this.rankCache = undefined;
      this.version++;
    }
    return id;
  }

  /** The id of `v`, or -1 when it is not held (nothing is added). */
  find(v: string): number {
    return this.ids.get(v) ?? -1;
  }

  value(id: number): string {
    return this.values[id] ?? '';
  }

  /** `value(id)` escaped for a label and encoded as UTF-8. */
  encodedValue(id: number): Buffer {
    let b = this.encoded[id];
    if (b === undefined) {
      b = Buffer.from(escapeLabelValue(this.values[id] ?? ''), 'utf8');
      this.encoded[id] = b;
    }
    return b;
  }

  retain(id: number): void {
    this.refs[id] = (this.refs[id] ?? 0) + 1;
  }

  release(id: number): void {
    const n = (this.refs[id] ?? 1) - 1;
    this.refs[id] = n;
    if (n > 0) return;
    if (this.readers > 0) this.pending.push(id);
    else this.drop(id);
  }

  /**
   * Each id's position among the held values in Go's (bytewise) string order; recomputed only
   * after values were added or dropped.
   */
  ranks(): Int32Array {
    this.rankCache ??= this.rankOf([...this.ids.values()].sort(this.byValue));
    return this.rankCache;
  }

  /**
   * `ranks()` computed in steps, pausing when `slicer` says the slice is used up: a first scrape
   * orders tens of thousands of values. Values added meanwhile are ranked by a final `ranks()`.
   */
  *ranksInSteps(slicer: TimeSlicer): Generator<void, Int32Array, undefined> {
    if (this.rankCache !== undefined) return this.rankCache;
    const version = this.version;
    const sort = new SlicedMergeSort([...this.ids.values()], this.byValue);
    while (!sort.step(slicer)) {
      yield;
      slicer.restart();
    }
    if (this.version === version) this.rankCache = this.rankOf(sort.sorted);
    return this.ranks();
  }

  /** Ids by their values in Go's (bytewise) string order. */
  private readonly byValue = (a: number, b: number): number => compareGoStrings(this.values[a]!, this.values[b]!);

  /** Each id's position in `sorted`, the held ids in order. */
  private rankOf(sorted: readonly number[]): Int32Array {
    const rank = new Int32Array(this.values.length);
    for (let i = 0; i < sorted.length; i++) rank[sorted[i]!] = i;
    return rank;
  }

  beginRead(): void {
    this.readers++;
  }

  endRead(): void {
    if (--this.readers > 0) return;
    const pending = this.pending;
    this.pending = [];
    for (const id of pending) this.drop(id);
  }

  private drop(id: number): void {
    // Retained again since it was released (the value came back before a pending drop).
    if (this.refs[id] !== 0) return;
    const v = this.values[id];
    if (v === undefined || this.ids.get(v) !== id) return;
    this.ids.delete(v);
    this.values[id] = '';
    this.encoded[id] = undefined;
    this.free.push(id);
    this.rankCache = undefined;
    this.version++;
  }
}

/** Label value ids as a short string: one UTF-16 unit per id below 2^15, two above. */
export function idKey(ids: ArrayLike<number>, n: number): string {
  const codes: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (id < 0x8000) codes.push(id);
    else codes.push(0x8000 | (id >>> 15), id & 0x7fff);
  }
  return String.fromCharCode.apply(null, codes);
}

const GROWTH = 1.5;
const INITIAL_CAPACITY = 16;

/**
 * One label set's numbers, as a view on its family's storage. The Report path works on slots
 * directly; this is for code that wants an object (tests, one-off updates).
 */
export class Series {
  constructor(
    private readonly family: MetricFamily,
    readonly slot: number,
  ) {}

  /** GAUGE: the last value set; COUNTER: the running total. */
  get value(): number {
    return this.family.valueOf(this.slot);
  }
  set value(v: number) {
    this.family.setValue(this.slot, v);
  }

  /** DISTRIBUTION: non-cumulative counts per finite bucket (values above the last bound only count). */
  get counts(): Float64Array {
    return this.family.countsOf(this.slot);
  }

  get sum(): number {
    return this.family.sumOf(this.slot);
  }
  set sum(v: number) {
    this.family.setSum(this.slot, v);
  }

  get count(): number {
    return this.family.countOf(this.slot);
  }
  set count(v: number) {
    this.family.setCount(this.slot, v);
  }

  /** Clock time (ms) of the last update, for expiry. */
  get touchedAt(): number {
    return this.family.touchedAtOf(this.slot);
  }
  set touchedAt(ms: number) {
    this.family.touch(this.slot, ms);
  }

  /** Label values in label-name order. */
  get labelValues(): readonly string[] {
    return this.family.labelValuesOf(this.slot);
  }
}

/** What the renderer needs from a family. */
export interface FamilyView {
  readonly name: string;
  readonly help: string;
  readonly kind: PromMetricKind;
  /** Sorted label names (the order of each series' label values). */
  readonly labelNames: readonly string[];
  readonly upperBounds: readonly number[];
  readonly labels: LabelValues;
  /** Slots ordered as client_golang's registry orders series (by label values, bytewise). */
  sortedSlots(): Int32Array;
  /**
   * The same, sorted in steps of a few milliseconds: the generator pauses between them so that
   * its caller can give the event loop back. A first scrape sorts tens of thousands of series.
   */
  sortedSlotsInSteps(slicer?: TimeSlicer): Generator<void, Int32Array, undefined>;
  /** Pins the current slots and label values for a render; pair with `endRead`. */
  beginRead(): void;
  endRead(): void;
  /** Numbers of a slot: `data[slot * stride + i]` (see MetricFamily for the layout). */
  readonly data: Float64Array;
  readonly stride: number;
  readonly labelIds: Int32Array;
}

/**
 * The series of one exposed metric family. Series live in flat typed arrays indexed by slot, not
 * in objects: a series costs its numbers, its label ids and one map entry keyed by a short id
 * string, which is what keeps a live Istio series in a few hundred bytes.
 *
 * Layout of `data` per slot: COUNTER and GAUGE `[value]`; DISTRIBUTION `[count per finite
 * bucket…, sum, count]`. Freed slots are reused, except while a scrape is reading.
 */
export class MetricFamily implements FamilyView {
  private readonly index = new Map<string, number>();
  readonly stride: number;
  data: Float64Array;
  labelIds: Int32Array;
  private touched: Float64Array;
  /** Slot → key, undefined when free. */
  private keys: (string | undefined)[] = [];
  private capacity = 0;
  private used = 0;
  private readonly free: number[] = [];
  private pendingFree: number[] = [];
  private readers = 0;
  /** Replaced, never mutated, so a scrape in progress keeps a consistent list. */
  private sorted: Int32Array | undefined;
  /** Bumped whenever the set of series changes, so a sort that straddled a change is not cached. */
  private version = 0;
  private readonly buckets: number;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly kind: PromMetricKind,
    /** Sorted label names (the order of label values). */
    readonly labelNames: readonly string[],
    readonly upperBounds: readonly number[],
    /** Shared with the handler's other families, so a value is stored once for all of them. */
    readonly labels: LabelValues = new LabelValues(),
  ) {
    this.buckets = kind === 'DISTRIBUTION' ? upperBounds.length : 0;
    this.stride = kind === 'DISTRIBUTION' ? this.buckets + 2 : 1;
    this.data = new Float64Array(0);
    this.labelIds = new Int32Array(0);
    this.touched = new Float64Array(0);
  }

  get size(): number {
    return this.index.size;
  }

  /** The slot of the series with this key, or -1. */
  slotOf(key: string): number {
    return this.index.get(key) ?? -1;
  }

  /**
   * A new, zeroed series for label value ids `ids` (retained here): after expiry a label set
   * starts again from zero, as in Mixer.
   */
  createSlot(key: string, ids: ArrayLike<number>): number {
    const slot = this.allocate();
    this.index.set(key, slot);
    this.keys[slot] = key;
    const n = this.labelNames.length;
    const base = slot * n;
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      this.labelIds[base + i] = id;
      this.labels.retain(id);
    }
    this.data.fill(0, slot * this.stride, (slot + 1) * this.stride);
    this.touched[slot] = 0;
    this.sorted = undefined;
    this.version++;
    return slot;
  }

  /** The series for `key`, if any. */
  get(key: string): Series | undefined {
    const slot = this.index.get(key);
    return slot === undefined ? undefined : new Series(this, slot);
  }

  /** A new, zeroed series with these label values (in label-name order) under `key`. */
  create(key: string, labelValues: readonly string[]): Series {
    const ids = labelValues.map((v) => this.labels.idOf(v));
    return new Series(this, this.createSlot(key, ids));
  }

  add(slot: number, v: number): void {
    this.data[slot] = this.data[slot]! + v;
  }

  setValue(slot: number, v: number): void {
    this.data[slot * this.stride] = v;
  }

  valueOf(slot: number): number {
    return this.data[slot * this.stride]!;
  }

  /** client_golang Histogram.Observe: the first bucket whose bound is >= v (NaN lands in none). */
  observeSlot(slot: number, v: number): void {
    const bounds = this.upperBounds;
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bounds[mid]! >= v) hi = mid;
      else lo = mid + 1;
    }
    const base = slot * this.stride;
    const d = this.data;
    if (lo < this.buckets) d[base + lo] = d[base + lo]! + 1;
    d[base + this.buckets] = d[base + this.buckets]! + v;
    d[base + this.buckets + 1] = d[base + this.buckets + 1]! + 1;
  }

  observe(s: Series, v: number): void {
    this.observeSlot(s.slot, v);
  }

  countsOf(slot: number): Float64Array {
    const base = slot * this.stride;
    return this.data.subarray(base, base + this.buckets);
  }

  sumOf(slot: number): number {
    return this.kind === 'DISTRIBUTION' ? this.data[slot * this.stride + this.buckets]! : 0;
  }

  setSum(slot: number, v: number): void {
    if (this.kind === 'DISTRIBUTION') this.data[slot * this.stride + this.buckets] = v;
  }

  countOf(slot: number): number {
    return this.kind === 'DISTRIBUTION' ? this.data[slot * this.stride + this.buckets + 1]! : 0;
  }

  setCount(slot: number, v: number): void {
    if (this.kind === 'DISTRIBUTION') this.data[slot * this.stride + this.buckets + 1] = v;
  }

  touch(slot: number, ms: number): void {
    this.touched[slot] = ms;
  }

  touchedAtOf(slot: number): number {
    return this.touched[slot]!;
  }

  labelValuesOf(slot: number): string[] {
    const n = this.labelNames.length;
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = this.labels.value(this.labelIds[slot * n + i]!);
    return out;
  }

  /** Removes series last touched at or before `cutoff`; returns how many. */
  evictTouchedBefore(cutoff: number): number {
    let removed = 0;
    const n = this.labelNames.length;
    for (let slot = 0; slot < this.used; slot++) {
      const key = this.keys[slot];
      if (key === undefined || this.touched[slot]! > cutoff) continue;
      this.index.delete(key);
      this.keys[slot] = undefined;
      for (let i = 0; i < n; i++) this.labels.release(this.labelIds[slot * n + i]!);
      if (this.readers > 0) this.pendingFree.push(slot);
      else this.free.push(slot);
      removed++;
    }
    if (removed > 0) {
      this.sorted = undefined;
      this.version++;
    }
    return removed;
  }

  /** Removes every series, releasing its label values. */
  clear(): number {
    return this.evictTouchedBefore(Number.POSITIVE_INFINITY);
  }

  sortedSlots(): Int32Array {
    if (this.sorted === undefined) {
      const slots = new Int32Array(this.index.size);
      let i = 0;
      for (const slot of this.index.values()) slots[i++] = slot;
      this.sorted = slots.sort(this.slotOrder());
    }
    return this.sorted;
  }

  *sortedSlotsInSteps(slicer: TimeSlicer = new TimeSlicer()): Generator<void, Int32Array, undefined> {
    if (this.sorted !== undefined) return this.sorted;
    // Ranked first, in steps of its own; slotOrder then takes the (cached) ranks.
    yield* this.labels.ranksInSteps(slicer);
    const version = this.version;
    const sort = new SlicedMergeSort([...this.index.values()], this.slotOrder());
    while (!sort.step(slicer)) {
      yield;
      slicer.restart();
    }
    const sorted = Int32Array.from(sort.sorted);
    // Series added or removed while sorting are not in `sorted`: it serves this render only.
    if (this.version === version) this.sorted = sorted;
    return sorted;
  }

  /**
   * Compares integer ranks, not strings: the distinct values are far fewer than the series and are
   * put in order once; the slot sort then never touches a string. Taken when a sort starts, so a
   * sort in steps keeps one consistent order while values come and go.
   */
  private slotOrder(): (a: number, b: number) => number {
    const n = this.labelNames.length;
    const ids = this.labelIds;
    const rank = this.labels.ranks();
    return (a, b) => {
      const ba = a * n;
      const bb = b * n;
      for (let j = 0; j < n; j++) {
        const d = rank[ids[ba + j]!]! - rank[ids[bb + j]!]!;
        if (d !== 0) return d;
      }
      return 0;
    };
  }

  beginRead(): void {
    this.readers++;
    this.labels.beginRead();
  }

  endRead(): void {
    this.labels.endRead();
    if (--this.readers > 0) return;
    for (const slot of this.pendingFree) this.free.push(slot);
    this.pendingFree = [];
  }

  private allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.used === this.capacity) this.grow();
    return this.used++;
  }

  private grow(): void {
    const cap = Math.max(INITIAL_CAPACITY, Math.ceil(this.capacity * GROWTH));
    const data = new Float64Array(cap * this.stride);
    data.set(this.data);
    const ids = new Int32Array(cap * this.labelNames.length);
    ids.set(this.labelIds);
    const touched = new Float64Array(cap);
    touched.set(this.touched);
    this.data = data;
    this.labelIds = ids;
    this.touched = touched;
    this.capacity = cap;
  }
}
