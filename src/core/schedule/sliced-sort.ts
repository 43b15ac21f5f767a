/**
 * Sorting that gives the event loop back: sorting tens of thousands of series (a flush payload, a
 * scrape) takes tens of milliseconds in one `Array.prototype.sort`. Runs of a few hundred items
 * are sorted natively, then merged bottom-up in steps a TimeSlicer bounds.
 */
import type { TimeSlicer } from './time-slicer.js';

/**
 * A bottom-up merge sort that runs in bounded steps. The loops live in synchronous methods: in an
 * async function every local crossing an await lives in the generator's context, which made the
 * same merge loop several times slower.
 */
export class SlicedMergeSort<T> {
  private src: T[];
  private dst: T[];
  private width: number;
  /** Next run to sort natively, then, per pass, the merge in progress. */
  private lo = 0;
  private i = 0;
  private j = 0;
  private k = 0;
  private mid = 0;
  private hi = 0;
  private merging = false;

  constructor(
    items: T[],
    private readonly compare: (a: T, b: T) => number,
    /** Sorted natively first: a few hundred items take well under a millisecond. */
    private readonly run = 256,
  ) {
    this.src = items;
    this.dst = new Array<T>(items.length);
    this.width = 0;
  }

  get sorted(): T[] {
    return this.src;
  }

  /** Works until `slicer` says the slice is used up; true once sorted. */
  step(slicer: TimeSlicer): boolean {
    const n = this.src.length;
    const compare = this.compare;
    while (this.width === 0) {
      if (this.lo >= n) {
        this.width = this.run;
        this.lo = 0;
        break;
      }
      const end = Math.min(n, this.lo + this.run);
      const part = this.src.slice(this.lo, end).sort(compare);
      for (let x = 0; x < part.length; x++) this.src[this.lo + x] = part[x] as T;
      this.lo = end;
      if (slicer.due()) return false;
    }
    while (this.width < n) {
      if (!this.merging) {
        if (this.lo >= n) {
          const t = this.src;
          this.src = this.dst;
          this.dst = t;
          this.width *= 2;
          this.lo = 0;
          continue;
        }
        this.mid = Math.min(n, this.lo + this.width);
        this.hi = Math.min(n, this.lo + 2 * this.width);
        this.i = this.lo;
        this.j = this.mid;
        this.k = this.lo;
        this.merging = true;
      }
      const src = this.src;
      const dst = this.dst;
      const mid = this.mid;
      const hi = this.hi;
      let i = this.i;
      let j = this.j;
      let k = this.k;
      let paused = false;
      while (i < mid && j < hi) {
        // Ties take the left item, which keeps the sort stable.
        dst[k++] = compare(src[j] as T, src[i] as T) < 0 ? (src[j++] as T) : (src[i++] as T);
        if ((k & 255) === 0 && slicer.due()) {
          paused = true;
          break;
        }
      }
      if (!paused) {
        while (i < mid) dst[k++] = src[i++] as T;
        while (j < hi) dst[k++] = src[j++] as T;
        this.merging = false;
        this.lo = hi;
      }
      this.i = i;
      this.j = j;
      this.k = k;
      if (paused) return false;
    }
    return true;
  }
}

/**
 * Sorts `items` (which it reorders) with `compare`, yielding between slices. Returns the sorted
 * array, which may be `items` or a new one.
 */
export async function sortInSlices<T>(items: T[], compare: (a: T, b: T) => number, slicer: TimeSlicer, signal?: AbortSignal): Promise<T[]> {
  const sort = new SlicedMergeSort(items, compare);
  while (!sort.step(slicer)) await slicer.yieldIfDue(signal);
  return sort.sorted;
}
