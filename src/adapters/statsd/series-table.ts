/**
 * The series of one StatsD namespace, by slot: names in first-seen order, numbers in typed
 * arrays. A deleted series leaves a hole (its name becomes undefined) until the table is
 * compacted, so the slots a caller holds stay valid.
 */

/** Read-only view of a counter or gauge table. */
export interface SeriesTableView {
  /** Slots used, holes included. */
  readonly length: number;
  /** Live series. */
  readonly size: number;
  /** The name at `slot`, or undefined for a hole. */
  nameAt(slot: number): string | undefined;
  /** Indexed by slot. */
  readonly values: Float64Array;
}

/**
 * Read-only view of a timer table. A series' samples are a chain of cells, in arrival order:
 * `for (let c = headAt(slot); c >= 0; c = nextCell(c)) valueAt(c)`.
 */
export interface TimerTableView {
  readonly length: number;
  readonly size: number;
  /** Samples held, all series together. */
  readonly samples: number;
  nameAt(slot: number): string | undefined;
  countAt(slot: number): number;
  /** The series' first cell, or -1. */
  headAt(slot: number): number;
  /** The cell after `cell` in its series, or -1. */
  nextCell(cell: number): number;
  valueAt(cell: number): number;
}

const oneLine = (): number => 1;

const INITIAL_SLOTS = 16;
const INITIAL_CELLS = 64;

function grownFloat64(a: Float64Array, min: number): Float64Array {
  const out = new Float64Array(Math.max(min, a.length * 2));
  out.set(a);
  return out;
}

function grownInt32(a: Int32Array, min: number): Int32Array {
  const out = new Int32Array(Math.max(min, a.length * 2));
  out.set(a);
  return out;
}

abstract class Slots {
  protected readonly index = new Map<string, number>();
  protected names: (string | undefined)[] = [];
  protected holes = 0;

  get length(): number {
    return this.names.length;
  }

  get size(): number {
    return this.index.size;
  }

  nameAt(slot: number): string | undefined {
    return this.names[slot];
  }

  slotOf(name: string): number {
    return this.index.get(name) ?? -1;
  }

  protected claim(name: string): number {
    const slot = this.names.length;
    this.names.push(name);
    this.index.set(name, slot);
    return slot;
  }

  delete(name: string): void {
    const slot = this.index.get(name);
    if (slot === undefined) return;
    this.index.delete(name);
    this.names[slot] = undefined;
    this.holes++;
  }

  /** Drops every series, keeping the storage for the next ones. */
  protected clearSlots(): void {
    this.index.clear();
    this.names.length = 0;
    this.holes = 0;
  }

  /** Drops every series from `slot` on. */
  protected truncate(slot: number): void {
    for (let s = slot; s < this.names.length; s++) {
      const name = this.names[s];
      if (name === undefined) this.holes--;
      else this.index.delete(name);
    }
    this.names.length = slot;
  }
}

export class SeriesTable extends Slots implements SeriesTableView {
  values = new Float64Array(INITIAL_SLOTS);

  /** Empty again; `values` keeps its size, as create() zeroes a slot it reuses. */
  reset(): this {
    this.clearSlots();
    return this;
  }

  /** A new series at 0 (the name must not be held yet). */
  create(name: string): number {
    const slot = this.claim(name);
    if (slot === this.values.length) {
      const grown = new Float64Array(slot * 2);
      grown.set(this.values);
      this.values = grown;
    } else {
      this.values[slot] = 0;
    }
    return slot;
  }

  /**
   * Keeps the first series that fit in `room` lines and returns the room left; `linesOf` gives a
   * series' lines from its value. Everything from the first series that does not fit is dropped,
   * so what stays is always the oldest, and nothing after it gets the room left over.
   */
  keepFirst(room: number, linesOf: (value: number) => number = oneLine): number {
    for (let s = 0; s < this.names.length; s++) {
      if (this.names[s] === undefined) continue;
      const lines = linesOf(this.values[s] as number);
      if (lines > room) {
        this.truncate(s);
        return 0;
      }
      room -= lines;
    }
    return room;
  }

  /** The same series without holes (this table when it has none). */
  compacted(): SeriesTable {
    if (this.holes === 0) return this;
    const out = new SeriesTable();
    for (let s = 0; s < this.names.length; s++) {
      const name = this.names[s];
      if (name !== undefined) out.values[out.create(name)] = this.values[s] as number;
    }
    return out;
  }
}

/**
 * Timer samples live in one store shared by all series, each series a chain of cells: a sample
 * costs 12 bytes and a series no object of its own. (A buffer per series would cost an object
 * per series, most of them holding a sample or two per interval, and all of it for the garbage
 * collector to copy.)
 */
export class TimerTable extends Slots implements TimerTableView {
  private values: Float64Array = new Float64Array(INITIAL_CELLS);
  /** Per cell: the next cell of the same series, or -1. */
  private links: Int32Array = new Int32Array(INITIAL_CELLS);
  private cells = 0;
  private heads: Int32Array = new Int32Array(INITIAL_SLOTS);
  private tails: Int32Array = new Int32Array(INITIAL_SLOTS);
  private counts: Int32Array = new Int32Array(INITIAL_SLOTS);
  private total = 0;

  get samples(): number {
    return this.total;
  }

  /** Empty again; the cell store and the per-slot arrays keep their size (create and add overwrite). */
  reset(): this {
    this.clearSlots();
    this.cells = 0;
    this.total = 0;
    return this;
  }

  countAt(slot: number): number {
    return this.counts[slot] as number;
  }

  headAt(slot: number): number {
    return this.heads[slot] as number;
  }

  nextCell(cell: number): number {
    return this.links[cell] as number;
  }

  valueAt(cell: number): number {
    return this.values[cell] as number;
  }

  /** A new series without samples (the name must not be held yet). */
  create(name: string): number {
    const slot = this.claim(name);
    if (slot === this.heads.length) {
      this.heads = grownInt32(this.heads, slot + 1);
      this.tails = grownInt32(this.tails, slot + 1);
      this.counts = grownInt32(this.counts, slot + 1);
    }
    this.heads[slot] = -1;
    this.tails[slot] = -1;
    this.counts[slot] = 0;
    return slot;
  }

  add(slot: number, value: number): void {
    const cell = this.cells++;
    if (cell === this.values.length) {
      this.values = grownFloat64(this.values, cell + 1);
      this.links = grownInt32(this.links, cell + 1);
    }
    this.values[cell] = value;
    this.links[cell] = -1;
    const tail = this.tails[slot] as number;
    if (tail < 0) this.heads[slot] = cell;
    else this.links[tail] = cell;
    this.tails[slot] = cell;
    this.counts[slot]++;
    this.total++;
  }

  /** Appends the samples of `from`'s series at `fromSlot` to the series at `slot`. */
  append(slot: number, from: TimerTableView, fromSlot: number): void {
    for (let c = from.headAt(fromSlot); c >= 0; c = from.nextCell(c)) this.add(slot, from.valueAt(c));
  }

  override delete(name: string): void {
    const slot = this.index.get(name);
    if (slot === undefined) return;
    this.total -= this.counts[slot] as number;
    this.counts[slot] = 0;
    this.heads[slot] = -1;
    this.tails[slot] = -1;
    super.delete(name);
  }

  /** Keeps the first `room` samples, series by series in first-seen order. */
  keepFirstSamples(room: number): void {
    let total = 0;
    for (let s = 0; s < this.names.length; s++) {
      if (this.names[s] === undefined) continue;
      if (room === 0) {
        this.truncate(s);
        break;
      }
      const n = this.counts[s] as number;
      if (n > room) {
        // Cut the chain after its room-th cell; the cells after it are left unused.
        let cell = this.heads[s] as number;
        for (let k = 1; k < room; k++) cell = this.links[cell] as number;
        this.links[cell] = -1;
        this.tails[s] = cell;
        this.counts[s] = room;
      }
      const kept = this.counts[s] as number;
      room -= kept;
      total += kept;
    }
    this.total = total;
  }

  compacted(): TimerTable {
    if (this.holes === 0) return this;
    const out = new TimerTable();
    for (let s = 0; s < this.names.length; s++) {
      const name = this.names[s];
      if (name !== undefined) out.append(out.create(name), this, s);
    }
    return out;
  }
}
