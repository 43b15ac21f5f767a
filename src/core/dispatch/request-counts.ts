/**
 * Per attribute set ("request"), how many instance groups matched and how many instances were
 * built: Mixer's `mixer_dispatcher_destinations_per_request` and `..._instances_per_request`
 * (spec §8.5), observed once per set in its Report dispatch (spec §8.2). The Report path only
 * increments a slot per set; buckets are summed when the self-metrics are scraped.
 */
export class CountDistribution {
  /** counts[v] = observations of value v, for v ≤ maxExact. */
  readonly counts: Float64Array;
  /** Observations above maxExact, and their sum. */
  over = 0;
  overSum = 0;

  constructor(readonly maxExact: number) {
    this.counts = new Float64Array(maxExact + 1);
  }

  add(v: number): void {
    if (v <= this.maxExact) this.counts[v]!++;
    else {
      this.over++;
      this.overSum += v;
    }
  }

  /** Cumulative count of observations ≤ each bound (bounds ascending, integers), then the total and sum. */
  cumulative(bounds: readonly number[]): { readonly buckets: number[]; readonly count: number; readonly sum: number } {
    const buckets: number[] = [];
    let acc = 0;
    let sum = this.overSum;
    let v = 0;
    for (const b of bounds) {
      for (; v <= b && v <= this.maxExact; v++) {
        acc += this.counts[v]!;
        sum += v * this.counts[v]!;
      }
      buckets.push(acc);
    }
    for (; v <= this.maxExact; v++) {
      acc += this.counts[v]!;
      sum += v * this.counts[v]!;
    }
    return { buckets, count: acc + this.over, sum };
  }
}

/** Mixer's per-request count buckets (spec §8.5). */
export const REQUEST_COUNT_BUCKETS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 15, 20];

/** The two per-set distributions the dispatcher feeds. */
export class RequestCounts {
  readonly destinations = new CountDistribution(REQUEST_COUNT_BUCKETS.at(-1)!);
  readonly instances = new CountDistribution(REQUEST_COUNT_BUCKETS.at(-1)!);

  record(destinations: number, instances: number): void {
    this.destinations.add(destinations);
    this.instances.add(instances);
  }
}
