import { compareGoStrings } from '../../core/format/index.js';
import type { PromMetricKind } from './config.js';
import { renderLabelText } from './label-text.js';

const NO_BUCKETS = new Float64Array(0);

/** One label set of one family: what client_golang keeps per child of a metric vector. */
export class Series {
  /** GAUGE: the last value set; COUNTER: the running total. */
  value = 0;
  /** DISTRIBUTION: non-cumulative counts per finite bucket (values above the last bound only count). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  /** Clock time (ms) of the last update, for expiry. */
  touchedAt = 0;

  constructor(
    /** Label values in label-name order. */
    readonly labelValues: readonly string[],
    /** `name="value",…` in label-name order, escaped, rendered once when the series is created. */
    readonly labelText: string,
    finiteBuckets: number,
  ) {
    this.counts = finiteBuckets > 0 ? new Float64Array(finiteBuckets) : NO_BUCKETS;
  }
}

/** What the renderer needs from a family. */
export interface FamilyView {
  readonly name: string;
  readonly help: string;
  readonly kind: PromMetricKind;
  readonly upperBounds: readonly number[];
  /** Series ordered as client_golang's registry orders them (by label values, bytewise). */
  sortedSeries(): readonly Series[];
}

/** The series of one exposed metric family, keyed by `seriesKey(labelValues)`. */
export class MetricFamily implements FamilyView {
  private readonly series = new Map<string, Series>();
  /** Replaced, never mutated, so a scrape in progress keeps a consistent list. */
  private sorted: readonly Series[] | undefined;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly kind: PromMetricKind,
    /** Sorted label names (the order of `labelValues` and `labelText`). */
    readonly labelNames: readonly string[],
    readonly upperBounds: readonly number[],
  ) {}

  get size(): number {
    return this.series.size;
  }

  get(key: string): Series | undefined {
    return this.series.get(key);
  }

  /** A new, zeroed series: after expiry a label set starts again from zero, as in Mixer. */
  create(key: string, labelValues: readonly string[]): Series {
    const labelText = renderLabelText(this.labelNames, labelValues);
    const s = new Series(labelValues, labelText, this.kind === 'DISTRIBUTION' ? this.upperBounds.length : 0);
    this.series.set(key, s);
    this.sorted = undefined;
    return s;
  }

  /** client_golang Histogram.Observe: the first bucket whose bound is >= v (NaN lands in none). */
  observe(s: Series, v: number): void {
    const bounds = this.upperBounds;
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((bounds[mid] ?? Infinity) >= v) hi = mid;
      else lo = mid + 1;
    }
    if (lo < s.counts.length) s.counts[lo] = (s.counts[lo] ?? 0) + 1;
    s.sum += v;
    s.count += 1;
  }

  /** Removes series last touched at or before `cutoff`; returns how many. */
  evictTouchedBefore(cutoff: number): number {
    let removed = 0;
    for (const [key, s] of this.series) {
      if (s.touchedAt <= cutoff) {
        this.series.delete(key);
        removed++;
      }
    }
    if (removed > 0) this.sorted = undefined;
    return removed;
  }

  sortedSeries(): readonly Series[] {
    if (this.sorted === undefined) this.sorted = [...this.series.values()].sort(compareSeries);
    return this.sorted;
  }
}

function compareSeries(a: Series, b: Series): number {
  const n = a.labelValues.length;
  for (let i = 0; i < n; i++) {
    const va = a.labelValues[i] ?? '';
    const vb = b.labelValues[i] ?? '';
    if (va !== vb) return compareGoStrings(va, vb);
  }
  return 0;
}
