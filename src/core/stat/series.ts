import { Circllhist } from '../circllhist/index.js';

/** What one key saw during one time slice. */
export interface Slice {
  /** floor(time / sliceMs). */
  index: number;
  requests: number;
  successes: number;
  /** Request durations in seconds, recorded exactly from nanoseconds. */
  readonly durations: Circllhist;
}

/** Sums over a range of slices, possibly across several keys. */
export class StatAccumulator {
  requests = 0;
  successes = 0;
  readonly durations = new Circllhist();

  add(s: Slice): void {
    this.requests += s.requests;
    this.successes += s.successes;
    this.durations.merge(s.durations);
  }
}

/**
 * One key's recent history: slices in ascending order, only those that saw a request (an idle key
 * costs nothing per slice). Slices older than the retention are recycled for new ones, so a busy
 * key settles at `retention / slice` histograms and stops allocating.
 */
export class RollingSeries {
  private readonly slices: Slice[] = [];

  constructor(private readonly maxSlices: number) {}

  /** Index of the newest slice with data, or -Infinity when none. */
  get newest(): number {
    return this.slices.length === 0 ? -Infinity : this.slices[this.slices.length - 1]!.index;
  }

  /** The slice for `index`, creating it when the newest slice is older. */
  sliceFor(index: number): Slice {
    const last = this.slices[this.slices.length - 1];
    if (last && last.index === index) return last;
    if (last && last.index > index) {
      // A clock step backwards: fold into the newest slice rather than reorder history.
      return last;
    }
    const first = this.slices[0];
    let slice: Slice;
    if (first && (first.index <= index - this.maxSlices || this.slices.length >= this.maxSlices)) {
      this.slices.shift();
      first.index = index;
      first.requests = 0;
      first.successes = 0;
      first.durations.clear();
      slice = first;
    } else {
      slice = { index, requests: 0, successes: 0, durations: new Circllhist() };
    }
    this.slices.push(slice);
    return slice;
  }

  /** Adds every slice with `from <= index <= to` to `acc`; returns how many. */
  collect(from: number, to: number, acc: StatAccumulator): number {
    let n = 0;
    for (let i = this.slices.length - 1; i >= 0; i--) {
      const s = this.slices[i]!;
      if (s.index < from) break;
      if (s.index <= to) {
        acc.add(s);
        n++;
      }
    }
    return n;
  }
}
