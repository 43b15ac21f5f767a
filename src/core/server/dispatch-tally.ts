import { Counter, Histogram, type MetricValueWithName, type Registry } from 'prom-client';
import { pushHistogramValues, renderedMetric, type RenderedMetric } from './prom-values.js';

/** What the tally reads of a dispatch destination (a routing Destination). */
export interface DispatchTarget {
  readonly name: string;
  readonly adapter: string;
  /** The handler's name as Mixer printed it in its self-metrics. */
  readonly mixerName: string;
}

/** One handler's Report batches that succeeded, or that failed, counted in plain numbers. */
export class DispatchCell {
  instances = 0;
  dispatches = 0;
  /** Seconds, summed over dispatches. */
  sum = 0;
  /** Dispatches per bucket, not cumulative; past the last bound only `dispatches` counts them. */
  readonly buckets: Float64Array;

  constructor(
    readonly handler: string,
    readonly mixerHandler: string,
    readonly adapter: string,
    readonly failed: boolean,
    bucketCount: number,
  ) {
    this.buckets = new Float64Array(bucketCount);
  }
}

/**
 * Handler dispatches (instances handed over, batches, their duration), counted per handler and
 * outcome in plain numbers and rendered when the self-metrics are scraped.
 *
 * Recording them through prom-client cost 5–6 µs per Report: four labelled calls per handler, each
 * turning its label object into a string key and probing for it. Here a Report costs a WeakMap
 * probe and a few additions per handler. Cells are kept by label values, not by destination, so
 * the counts carry on across config reloads as prom-client's label sets did.
 */
export class DispatchTally {
  private readonly cells = new Map<string, DispatchCell>();
  private readonly byTarget = new WeakMap<DispatchTarget, [DispatchCell | undefined, DispatchCell | undefined]>();

  /** `bounds`: the histogram's upper bounds, ascending. */
  constructor(readonly bounds: readonly number[]) {}

  record(target: DispatchTarget, instances: number, seconds: number, failed: boolean): void {
    let pair = this.byTarget.get(target);
    if (pair === undefined) {
      pair = [undefined, undefined];
      this.byTarget.set(target, pair);
    }
    const i = failed ? 1 : 0;
    const cell = (pair[i] ??= this.cellFor(target, failed));
    cell.instances += instances;
    cell.dispatches++;
    cell.sum += seconds;
    const bounds = this.bounds;
    let b = 0;
    while (b < bounds.length && seconds > bounds[b]!) b++;
    if (b < bounds.length) cell.buckets[b]!++;
  }

  /** Every cell, in the order first recorded. */
  all(): IterableIterator<DispatchCell> {
    return this.cells.values();
  }

  private cellFor(t: DispatchTarget, failed: boolean): DispatchCell {
    const key = `${t.name}\u0000${t.mixerName}\u0000${t.adapter}\u0000${failed ? 1 : 0}`;
    let cell = this.cells.get(key);
    if (cell === undefined) {
      cell = new DispatchCell(t.name, t.mixerName, t.adapter, failed, this.bounds.length);
      this.cells.set(key, cell);
    }
    return cell;
  }
}

export interface TalliedMetricOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  /** The cell's labels; cells with equal labels are added together. */
  readonly labelsOf: (cell: DispatchCell) => Record<L, string>;
}

/** Cells grouped by their labels (in `labelNames` order), in the order first recorded. */
function groupCells<L extends string>(tally: DispatchTally, opts: TalliedMetricOptions<L>): Map<string, { labels: Record<L, string>; cells: DispatchCell[] }> {
  const groups = new Map<string, { labels: Record<L, string>; cells: DispatchCell[] }>();
  for (const cell of tally.all()) {
    const labels = opts.labelsOf(cell);
    const key = opts.labelNames.map((n) => labels[n]).join('\u0000');
    const g = groups.get(key);
    if (g === undefined) groups.set(key, { labels, cells: [cell] });
    else g.cells.push(cell);
  }
  return groups;
}

/** A counter whose value per label set is a sum over a DispatchTally's cells. */
export class TalliedCounter<L extends string> extends Counter<L> {
  constructor(
    registry: Registry,
    private readonly tally: DispatchTally,
    private readonly opts: TalliedMetricOptions<L> & { readonly valueOf: (cell: DispatchCell) => number },
  ) {
    super({ name: opts.name, help: opts.help, labelNames: opts.labelNames, registers: [registry] });
  }

  override async get(): Promise<RenderedMetric> {
    const values: MetricValueWithName<string>[] = [];
    for (const { labels, cells } of groupCells(this.tally, this.opts).values()) {
      let value = 0;
      for (const c of cells) value += this.opts.valueOf(c);
      values.push({ labels, value });
    }
    return renderedMetric(this.opts.name, this.opts.help, 'counter', values);
  }
}

/** A histogram of dispatch durations per label set, summed over a DispatchTally's cells. */
export class TalliedHistogram<L extends string> extends Histogram<L> {
  constructor(
    registry: Registry,
    private readonly tally: DispatchTally,
    private readonly opts: TalliedMetricOptions<L>,
  ) {
    super({ name: opts.name, help: opts.help, labelNames: opts.labelNames, buckets: [...tally.bounds], registers: [registry] });
  }

  override async get(): Promise<RenderedMetric> {
    return this.getForPromString();
  }

  /** What the registry renders (prom-client's Histogram has this method, and the registry prefers it to get). */
  async getForPromString(): Promise<RenderedMetric> {
    const bounds = this.tally.bounds;
    const values: MetricValueWithName<string>[] = [];
    const cumulative = new Float64Array(bounds.length);
    for (const { labels, cells } of groupCells(this.tally, this.opts).values()) {
      let count = 0;
      let sum = 0;
      for (const c of cells) {
        count += c.dispatches;
        sum += c.sum;
      }
      let acc = 0;
      for (let b = 0; b < bounds.length; b++) {
        for (const c of cells) acc += c.buckets[b]!;
        cumulative[b] = acc;
      }
      pushHistogramValues(values, this.opts.name, bounds, cumulative, count, sum, labels);
    }
    return renderedMetric(this.opts.name, this.opts.help, 'histogram', values);
  }
}
