import { MAX_EXACT, saturatingAdd } from './count.js';

const INITIAL_CAPACITY = 8;

// Marks a slot whose count exceeds 2^53−1 and therefore lives in `big` (keyed by bin key, so it
// survives shifts of the sorted arrays). Real counts are never negative.
const IN_BIG = -1;

/**
 * Keys and counts for `capacity` bins, in one ArrayBuffer. A service holds tens of thousands of
 * histograms, and V8 sweeps every ArrayBuffer at each full collection, inside the pause when the
 * collector is single-threaded: one buffer per histogram instead of two halves that work.
 */
function binArrays(capacity: number): [Int32Array, Float64Array] {
  const buffer = new ArrayBuffer(capacity * (Float64Array.BYTES_PER_ELEMENT + Int32Array.BYTES_PER_ELEMENT));
  // Counts first: their 8-byte alignment holds at offset 0, the keys' 4-byte one after them.
  const counts = new Float64Array(buffer, 0, capacity);
  return [new Int32Array(buffer, capacity * Float64Array.BYTES_PER_ELEMENT, capacity), counts];
}

/**
 * @internal Sorted bin storage behind `Circllhist`: parallel typed arrays of bin keys (see bin.ts)
 * and counts (views of one buffer), kept in serialization order with no zero counts.
 *
 * Counts are doubles while exact (≤ 2^53−1), which keeps the insert path free of allocation once
 * a bin exists; the rare bin that outgrows that moves to a bigint side table.
 */
export class BinStore {
  private keys: Int32Array;
  private counts: Float64Array;
  private used = 0;
  private big: Map<number, bigint> | null = null;

  constructor(capacity = INITIAL_CAPACITY) {
    [this.keys, this.counts] = binArrays(capacity);
  }

  get size(): number {
    return this.used;
  }

  keyAt(i: number): number {
    return this.keys[i];
  }

  /** Count as a double, the conversion the reference's analytics apply (round to nearest). */
  countAsDouble(i: number): number {
    const c = this.counts[i];
    return c === IN_BIG ? Number(this.bigCount(this.keys[i])) : c;
  }

  /** Exact count: a number when ≤ 2^53−1, otherwise a bigint. */
  countAt(i: number): number | bigint {
    const c = this.counts[i];
    return c === IN_BIG ? this.bigCount(this.keys[i]) : c;
  }

  countBigAt(i: number): bigint {
    const c = this.counts[i];
    return c === IN_BIG ? this.bigCount(this.keys[i]) : BigInt(c);
  }

  /** Index of `key`, or −(insertion point) − 1 when absent. */
  indexOf(key: number): number {
    let lo = 0;
    let hi = this.used - 1;
    const keys = this.keys;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid];
      if (k < key) lo = mid + 1;
      else if (k > key) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  /** Makes room for `extra` more bins without further growth (e.g. a known record count). */
  reserve(extra: number): void {
    const need = this.used + extra;
    if (need <= this.keys.length) return;
    this.resize(need);
  }

  /** Adds a count (a number ≤ 2^53−1 or a bigint ≤ 2^64−1, > 0) to a bin, saturating at 2^64−1. */
  add(key: number, count: number | bigint): void {
    // Bins past the current last one (building or reading a histogram in order) skip the search.
    if (this.used === 0 || key > this.keys[this.used - 1]) {
      this.insertAt(this.used, key, count);
      return;
    }
    const i = this.indexOf(key);
    if (i >= 0) {
      const cur = this.counts[i];
      if (typeof count === 'number' && cur !== IN_BIG) {
        const s = cur + count;
        if (s <= MAX_EXACT) {
          this.counts[i] = s;
          return;
        }
      }
      this.setExact(i, saturatingAdd(this.countBigAt(i), BigInt(count)));
      return;
    }
    this.insertAt(-i - 1, key, count);
  }

  /** Adds every bin of `other` into this store; a linear merge when new bins are needed. */
  addAll(other: BinStore): void {
    if (other === this) {
      // Doubling in place: snapshot first, since the loop below would read what it just wrote.
      this.addAll(other.clone());
      return;
    }
    let missing = 0;
    for (let j = 0; j < other.used; j++) if (this.indexOf(other.keys[j]) < 0) missing++;
    if (missing === 0) {
      for (let j = 0; j < other.used; j++) this.add(other.keys[j], other.countAt(j));
      return;
    }
    this.mergeGrow(other, this.used + missing);
  }

  private mergeGrow(other: BinStore, total: number): void {
    const [keys, counts] = binArrays(Math.max(total, INITIAL_CAPACITY));
    const oldKeys = this.keys;
    const oldCounts = this.counts;
    const oldUsed = this.used;
    let a = 0;
    let b = 0;
    let n = 0;
    // Counts stay in place (IN_BIG markers included, as the side table is keyed by bin key); only
    // bins present in both stores need an addition, done after the arrays are swapped in.
    const shared: number[] = [];
    while (a < oldUsed || b < other.used) {
      const ka = a < oldUsed ? oldKeys[a] : Infinity;
      const kb = b < other.used ? other.keys[b] : Infinity;
      if (ka < kb) {
        keys[n] = ka;
        counts[n++] = oldCounts[a++];
      } else if (kb < ka) {
        keys[n] = kb;
        const c = other.countAt(b++);
        if (typeof c === 'number') counts[n++] = c;
        else {
          counts[n++] = IN_BIG;
          this.bigTable().set(kb, c);
        }
      } else {
        keys[n] = ka;
        counts[n] = oldCounts[a++];
        shared.push(n++, b++);
      }
    }
    this.keys = keys;
    this.counts = counts;
    this.used = n;
    for (let s = 0; s < shared.length; s += 2) {
      const i = shared[s];
      const c = other.countAt(shared[s + 1]);
      const cur = this.counts[i];
      if (typeof c === 'number' && cur !== IN_BIG && cur + c <= MAX_EXACT) this.counts[i] = cur + c;
      else this.setExact(i, saturatingAdd(this.countBigAt(i), BigInt(c)));
    }
  }

  clear(): void {
    this.used = 0;
    this.big = null;
  }

  clone(): BinStore {
    const copy = new BinStore(Math.max(this.used, INITIAL_CAPACITY));
    copy.keys.set(this.keys.subarray(0, this.used));
    copy.counts.set(this.counts.subarray(0, this.used));
    copy.used = this.used;
    if (this.big !== null) copy.big = new Map(this.big);
    return copy;
  }

  private insertAt(pos: number, key: number, count: number | bigint): void {
    if (this.used === this.keys.length) this.grow();
    const keys = this.keys;
    const counts = this.counts;
    if (pos < this.used) {
      keys.copyWithin(pos + 1, pos, this.used);
      counts.copyWithin(pos + 1, pos, this.used);
    }
    keys[pos] = key;
    this.used++;
    if (typeof count === 'number') counts[pos] = count;
    else this.setExact(pos, count);
  }

  private grow(): void {
    this.resize(this.keys.length * 2);
  }

  private resize(capacity: number): void {
    const [keys, counts] = binArrays(capacity);
    keys.set(this.keys.subarray(0, this.used));
    counts.set(this.counts.subarray(0, this.used));
    this.keys = keys;
    this.counts = counts;
  }

  private setExact(i: number, count: bigint): void {
    const key = this.keys[i];
    if (count <= BigInt(MAX_EXACT)) {
      this.counts[i] = Number(count);
      this.big?.delete(key);
    } else {
      this.counts[i] = IN_BIG;
      this.bigTable().set(key, count);
    }
  }

  private bigTable(): Map<number, bigint> {
    if (this.big === null) this.big = new Map();
    return this.big;
  }

  private bigCount(key: number): bigint {
    const c = this.big?.get(key);
    if (c === undefined) throw new Error('circllhist: bin store lost a wide count');
    return c;
  }
}
