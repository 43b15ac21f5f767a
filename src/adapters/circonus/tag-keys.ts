/**
 * Numbers the distinct tuples of tagged dimension values, so a record finds its cached tuple by
 * a small integer (an array index) instead of hashing or walking every dimension value.
 *
 * The core hands every instance of one attribute set the same dimensions array (Istio's four HTTP
 * metrics share one), and consecutive sets mostly repeat their values. So a keyer remembers the
 * last array and the last raw values it resolved: the same array costs nothing, and only values
 * that changed (by `===`) are stringified and looked up again, then the tuple of value ids is
 * found through a hash of them. Recorders that tag the same dimensions with the same formatters
 * share one keyer, which resolves a set's tuple once for all of them.
 *
 * Values and tuples are reference-counted: a tuple lives while a recorder caches it, a value
 * while a tuple holds it, so what churns away (pods that are gone) is forgotten.
 */
import type { AttributeValue } from '../../core/adapter.js';
import type { ValueFormatter } from '../../core/format/index.js';

/** Equal to no dimension value: marks a remembered raw value as unknown. */
const UNSET: unknown = Object.freeze({});

/** Keeps hashes small integers, which V8 stores and compares unboxed. */
const HASH_MASK = 0x3fffffff;
/** Numbers whose text each position remembers (response codes, ports): past it, they are formatted each time. */
const NUMBER_TEXTS = 1024;

export class TagKeyer {
  private readonly width: number;

  // Interned value texts.
  private readonly valueIds = new Map<string, number>();
  private readonly texts: string[] = [];
  private readonly valueRefs: number[] = [];
  private readonly freeValues: number[] = [];

  // Tuples: `width` value ids each, found through an open-addressing table of (tuple id + 1, hash)
  // pairs, 0 meaning empty: a probe reads one cache line, and a row only when the hash matches.
  private slots: Int32Array = new Int32Array(2 * 64);
  private tupleValues: Int32Array = new Int32Array(0);
  private tupleHash: Int32Array = new Int32Array(0);
  private tupleRefs: Int32Array = new Int32Array(0);
  private tupleSlots = 0;
  private readonly freeTuples: number[] = [];
  private liveTuples = 0;

  // What the last `resolve` saw.
  private lastDims: readonly AttributeValue[] | undefined = undefined;
  private readonly lastRaw: unknown[];
  private readonly lastTexts: string[];
  /** −1 where the text has no id yet. */
  private readonly current: Int32Array;
  /** The tuple of `current`, −1 when it does not exist. */
  private lastTuple = -1;
  /** Per position, the text of numbers seen, so alternating numbers do not make a string each time. */
  private readonly numberTexts: Map<number, string>[];

  constructor(
    /** Positions in `MetricInstance.dimensions` that become tags, in tag-category order. */
    readonly positions: readonly number[],
    private readonly formatters: readonly ValueFormatter[],
  ) {
    const n = positions.length;
    this.width = n;
    this.lastRaw = new Array<unknown>(n).fill(UNSET);
    this.lastTexts = new Array<string>(n).fill('');
    this.current = new Int32Array(n).fill(-1);
    this.numberTexts = Array.from({ length: n }, () => new Map<number, string>());
  }

  /** Distinct values held (for tests). */
  get values(): number {
    return this.valueIds.size;
  }

  /** Tuples held (for tests). */
  get tuples(): number {
    return this.liveTuples;
  }

  /**
   * The id of the tuple of `dims`' tagged values, or −1 if there is none yet (then {@link intern}
   * makes it, if it is to be cached).
   */
  resolve(dims: readonly AttributeValue[]): number {
    if (dims === this.lastDims) return this.lastTuple;
    const positions = this.positions;
    const current = this.current;
    let changed = this.lastDims === undefined;
    let complete = true;
    for (let j = 0; j < positions.length; j++) {
      const raw = dims[positions[j] as number] ?? null;
      if (raw !== this.lastRaw[j]) {
        this.lastRaw[j] = raw;
        // A Map key cannot tell −0 from 0, whose texts may differ.
        const text = typeof raw === 'number' && !Object.is(raw, -0) ? this.numberText(j, raw) : (this.formatters[j] as ValueFormatter)(raw);
        this.lastTexts[j] = text;
        const id = this.valueIds.get(text) ?? -1;
        if (id !== current[j]) {
          current[j] = id;
          changed = true;
        }
      }
      if (current[j] === -1) complete = false;
    }
    this.lastDims = dims;
    if (!complete) this.lastTuple = -1;
    else if (changed || this.lastTuple === -1) this.lastTuple = this.find(current, hashOf(current));
    return this.lastTuple;
  }

  /** The tuple last resolved, created (with any value not held yet) if it does not exist. */
  intern(): number {
    if (this.lastTuple !== -1) return this.lastTuple;
    const current = this.current;
    for (let j = 0; j < current.length; j++) {
      if (current[j] !== -1) continue;
      const text = this.lastTexts[j] as string;
      // Two positions may carry the same new text: the first one interns it.
      let id = this.valueIds.get(text);
      if (id === undefined) {
        id = this.freeValues.pop() ?? this.texts.length;
        this.valueIds.set(text, id);
        this.texts[id] = text;
        this.valueRefs[id] = 0;
      }
      current[j] = id;
    }
    const hash = hashOf(current);
    let tuple = this.find(current, hash);
    if (tuple === -1) tuple = this.create(current, hash);
    this.lastTuple = tuple;
    return tuple;
  }

  /** The text of each tagged position as last resolved, in position order. */
  currentTexts(): readonly string[] {
    return this.lastTexts;
  }

  /** A recorder now caches `tuple`. */
  retain(tuple: number): void {
    this.tupleRefs[tuple]++;
  }

  /**
   * A recorder forgot `tuple`; one no recorder caches any more is dropped with the values only it
   * held, and its id may be reused. Also drops what `resolve` remembers, which may name it.
   */
  release(tuple: number): void {
    this.forget();
    if (--this.tupleRefs[tuple]! > 0) return;
    this.unlink(tuple);
    const base = tuple * this.width;
    for (let j = 0; j < this.width; j++) {
      const id = this.tupleValues[base + j]!;
      const n = (this.valueRefs[id] ?? 1) - 1;
      this.valueRefs[id] = n;
      if (n > 0) continue;
      this.valueIds.delete(this.texts[id] as string);
      this.texts[id] = '';
      this.freeValues.push(id);
    }
    this.freeTuples.push(tuple);
    this.liveTuples--;
  }

  /**
   * Stops trusting the identity of the last dimensions array (a new batch may come from code that
   * reuses arrays); values are still compared one by one, so this costs a few lookups at most.
   */
  newBatch(): void {
    this.lastDims = undefined;
  }

  /** Drops what `resolve` remembers, so the next call looks every value up again. */
  forget(): void {
    this.lastDims = undefined;
    this.lastTuple = -1;
    this.lastRaw.fill(UNSET);
    this.current.fill(-1);
  }

  private numberText(position: number, n: number): string {
    const texts = this.numberTexts[position] as Map<number, string>;
    let text = texts.get(n);
    if (text === undefined) {
      text = (this.formatters[position] as ValueFormatter)(n);
      if (texts.size < NUMBER_TEXTS) texts.set(n, text);
    }
    return text;
  }

  private find(ids: Int32Array, hash: number): number {
    const width = this.width;
    const values = this.tupleValues;
    const slots = this.slots;
    const mask = (slots.length >>> 1) - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const slot = slots[2 * i]!;
      if (slot === 0) return -1;
      if (slots[2 * i + 1] !== hash) continue;
      const t = slot - 1;
      const base = t * width;
      let j = 0;
      while (j < width && values[base + j] === ids[j]) j++;
      if (j === width) return t;
    }
  }

  private create(ids: Int32Array, hash: number): number {
    let t = this.freeTuples.pop();
    if (t === undefined) {
      t = this.tupleSlots++;
      if (t >= this.tupleRefs.length) this.grow();
    }
    this.tupleValues.set(ids, t * this.width);
    for (let j = 0; j < ids.length; j++) this.valueRefs[ids[j]!]!++;
    this.tupleRefs[t] = 0;
    this.tupleHash[t] = hash;
    this.liveTuples++;
    // At most half full, so probes stay short.
    if (this.liveTuples * 4 > this.slots.length) this.rehash(this.slots.length * 2);
    this.place(t);
    return t;
  }

  private place(t: number): void {
    const slots = this.slots;
    const mask = (slots.length >>> 1) - 1;
    const hash = this.tupleHash[t]!;
    let i = hash & mask;
    while (slots[2 * i] !== 0) i = (i + 1) & mask;
    slots[2 * i] = t + 1;
    slots[2 * i + 1] = hash;
  }

  private rehash(size: number): void {
    const old = this.slots;
    this.slots = new Int32Array(size);
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) this.place(old[i]! - 1);
  }

  /** Removes `tuple` from the table, shifting later entries of its probe run back (no tombstones). */
  private unlink(tuple: number): void {
    const slots = this.slots;
    const mask = (slots.length >>> 1) - 1;
    let i = this.tupleHash[tuple]! & mask;
    while (slots[2 * i] !== tuple + 1) {
      if (slots[2 * i] === 0) return;
      i = (i + 1) & mask;
    }
    slots[2 * i] = 0;
    for (let j = (i + 1) & mask; slots[2 * j] !== 0; j = (j + 1) & mask) {
      const home = slots[2 * j + 1]! & mask;
      // An entry whose home lies cyclically in (i, j] is still reachable; any other moves to i.
      const reachable = i <= j ? i < home && home <= j : i < home || home <= j;
      if (reachable) continue;
      slots[2 * i] = slots[2 * j]!;
      slots[2 * i + 1] = slots[2 * j + 1]!;
      slots[2 * j] = 0;
      i = j;
    }
  }

  private grow(): void {
    const capacity = Math.max(16, this.tupleRefs.length * 2);
    const values = new Int32Array(capacity * this.width);
    values.set(this.tupleValues);
    this.tupleValues = values;
    this.tupleHash = resized(this.tupleHash, capacity);
    this.tupleRefs = resized(this.tupleRefs, capacity);
  }
}

function resized(a: Int32Array, capacity: number): Int32Array {
  const b = new Int32Array(capacity);
  b.set(a);
  return b;
}

/** FNV-style mix of the value ids. */
function hashOf(ids: Int32Array): number {
  let h = 0x811c9dc5;
  for (let j = 0; j < ids.length; j++) h = Math.imul(h ^ ids[j]!, 0x01000193);
  return (h ^ (h >>> 15)) & HASH_MASK;
}
