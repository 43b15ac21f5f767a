import type { Clock } from '../adapter.js';
import { TelemuxError } from '../errors.js';
import type { StatConfig } from './config.js';
import { KeyIndex } from './key-index.js';
import type { EdgeRow, ServiceRow, StatGrouping, StatMeasures, StatQuery, StatResult, StatResultFor, WorkloadRow } from './query.js';
import { RollingSeries, StatAccumulator } from './series.js';

/** Who called whom: the identity of one series. */
export interface StatKey {
  readonly sourceNamespace: string;
  readonly sourceWorkload: string;
  readonly destinationNamespace: string;
  readonly destinationWorkload: string;
  readonly destinationService: string;
}

/** Every field of the row that collects traffic for keys beyond `maxKeys`. */
export const OVERFLOW = '(overflow)';

const OVERFLOW_KEY: StatKey = {
  sourceNamespace: OVERFLOW,
  sourceWorkload: OVERFLOW,
  destinationNamespace: OVERFLOW,
  destinationWorkload: OVERFLOW,
  destinationService: OVERFLOW,
};

interface Entry {
  readonly key: StatKey;
  readonly series: RollingSeries;
}

/** Quantiles the view reports, in the order of the `latency_ms_*` fields. */
const QUANTILES = [0.5, 0.95, 0.99] as const;

/** Queries never divide by less than this, so a view a few milliseconds old shows no absurd rate. */
const MIN_RATE_SPAN_MS = 1_000;

/**
 * A query yields to the event loop after merging this many slices (a few milliseconds of work), so
 * a long window over many keys never holds up Reports; 2000 busy keys over 10 minutes measured
 * about 0.7 s of merging.
 */
const SLICES_PER_TURN = 2_000;

/**
 * Rolling request statistics per (source, destination, service): for each key a short history of
 * time slices, each with request and success counts and a circllhist of durations. Memory is
 * bounded by `maxKeys` × slices per retention × one histogram; a key is forgotten once its newest
 * slice leaves the retention, and traffic of keys beyond the cap is still counted in one overflow
 * key instead of evicting live keys, so totals stay exact.
 */
export class StatView {
  private readonly entries = new KeyIndex<Entry>();
  private readonly slices: number;
  private overflowEntry: Entry | undefined;
  private overflowCount = 0;
  readonly startedAt: number;

  constructor(
    readonly config: StatConfig,
    private readonly clock: Clock,
  ) {
    this.slices = config.retentionMs / config.sliceMs;
    this.startedAt = clock.now();
  }

  /** Requests recorded under the overflow key since the view started. */
  get overflowed(): number {
    return this.overflowCount;
  }

  get keyCount(): number {
    return this.entries.size + (this.overflowEntry ? 1 : 0);
  }

  sliceIndex(now: number): number {
    return Math.floor(now / this.config.sliceMs);
  }

  /** Records one request of the key (source namespace, source workload, destination namespace, destination workload, service). */
  record(sourceNamespace: string, sourceWorkload: string, destinationNamespace: string, destinationWorkload: string, destinationService: string, durationNanos: number, success: boolean, slice: number): void {
    let entry = this.entries.get(destinationNamespace, destinationWorkload, destinationService, sourceNamespace, sourceWorkload);
    if (entry === undefined) {
      if (this.entries.size < this.config.maxKeys) {
        entry = { key: { sourceNamespace, sourceWorkload, destinationNamespace, destinationWorkload, destinationService }, series: new RollingSeries(this.slices) };
        this.entries.set(destinationNamespace, destinationWorkload, destinationService, sourceNamespace, sourceWorkload, entry);
      } else {
        entry = this.overflowEntry ??= { key: OVERFLOW_KEY, series: new RollingSeries(this.slices) };
        this.overflowCount++;
      }
    }
    const s = entry.series.sliceFor(slice);
    s.requests++;
    if (success) s.successes++;
    // Non-negative integer nanoseconds binned exactly (no float rounding at bin edges).
    s.durations.insertIntScale(durationNanos > 0 ? Math.round(durationNanos) : 0, -9);
  }

  /** Forgets keys whose newest data is older than the retention; returns how many. */
  expire(now: number): number {
    const oldest = this.sliceIndex(now) - this.slices + 1;
    const removed = this.entries.deleteWhere((e) => e.series.newest < oldest);
    if (this.overflowEntry && this.overflowEntry.series.newest < oldest) this.overflowEntry = undefined;
    return removed;
  }

  /**
   * The window is rounded up to whole slices and includes the slice in progress, so it never
   * misses a request just recorded; the rate divides by the time those slices actually cover (or
   * the time since the view started, if shorter).
   */
  async query<B extends StatGrouping>(q: StatQuery<B>): Promise<StatResultFor<B>> {
    return (await this.queryAny(q)) as StatResultFor<B>;
  }

  private async queryAny(q: StatQuery): Promise<StatResult> {
    const n = Math.ceil(q.windowMs / this.config.sliceMs - 1e-9);
    if (n > this.slices) {
      throw new TelemuxError('STAT_BAD_QUERY', `window: at most ${this.config.retentionMs / 1000}s of history is kept (the telemuxstat handler's retention), asked for ${q.windowMs / 1000}s`);
    }
    const now = this.clock.now();
    const to = this.sliceIndex(now);
    const from = to - n + 1;
    const spanStart = Math.max(from * this.config.sliceMs, this.startedAt);
    const spanSeconds = Math.max(now - spanStart, MIN_RATE_SPAN_MS) / 1000;
    const window_seconds = (n * this.config.sliceMs) / 1000;

    const groups = new Map<string, { key: StatKey; acc: StatAccumulator }>();
    let merged = 0;
    const group = async (e: Entry): Promise<void> => {
      if (q.namespace !== undefined && e.key.destinationNamespace !== q.namespace) return;
      const k = e.key;
      const gid =
        q.by === 'workload'
          ? `${k.destinationNamespace}\u0000${k.destinationWorkload}`
          : q.by === 'service'
            ? k.destinationService
            : `${k.sourceNamespace}\u0000${k.sourceWorkload}\u0000${k.destinationNamespace}\u0000${k.destinationWorkload}`;
      let g = groups.get(gid);
      if (!g) groups.set(gid, (g = { key: k, acc: new StatAccumulator() }));
      merged += e.series.collect(from, to, g.acc);
      if (merged >= SLICES_PER_TURN) {
        merged = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    // Records that arrive while the query yields may or may not be included; `now` stays fixed.
    for (const e of [...this.entries.values()]) await group(e);
    if (this.overflowEntry) await group(this.overflowEntry);

    const measured: { key: StatKey; m: StatMeasures }[] = [];
    for (const { key, acc } of groups.values()) {
      if (acc.requests === 0) continue;
      measured.push({ key, m: measures(acc, spanSeconds) });
    }
    switch (q.by) {
      case 'workload': {
        const rows: WorkloadRow[] = measured.map(({ key, m }) => ({ namespace: key.destinationNamespace, workload: key.destinationWorkload, ...m }));
        return { by: 'workload', window_seconds, rows: rows.sort(byFields('namespace', 'workload')) };
      }
      case 'service': {
        const rows: ServiceRow[] = measured.map(({ key, m }) => ({ service: key.destinationService, ...m }));
        return { by: 'service', window_seconds, rows: rows.sort(byFields('service')) };
      }
      case 'edge': {
        const rows: EdgeRow[] = measured.map(({ key, m }) => ({
          source_namespace: key.sourceNamespace,
          source_workload: key.sourceWorkload,
          destination_namespace: key.destinationNamespace,
          destination_workload: key.destinationWorkload,
          ...m,
        }));
        return { by: 'edge', window_seconds, rows: rows.sort(byFields('source_namespace', 'source_workload', 'destination_namespace', 'destination_workload')) };
      }
    }
  }
}

function measures(acc: StatAccumulator, spanSeconds: number): StatMeasures {
  const hasSamples = acc.durations.nonNanCount() > 0n;
  const [p50, p95, p99] = hasSamples ? acc.durations.quantiles(QUANTILES) : [NaN, NaN, NaN];
  const ms = (seconds: number | undefined): number | null => (seconds === undefined || Number.isNaN(seconds) ? null : round3(seconds * 1000));
  return {
    requests: acc.requests,
    success: acc.requests === 0 ? null : acc.successes / acc.requests,
    rps: round3(acc.requests / spanSeconds),
    latency_ms_p50: ms(p50),
    latency_ms_p95: ms(p95),
    latency_ms_p99: ms(p99),
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function byFields<K extends string>(...fields: K[]): (a: Record<K, string>, b: Record<K, string>) => number {
  return (a, b) => {
    for (const f of fields) {
      if (a[f] !== b[f]) return a[f] < b[f] ? -1 : 1;
    }
    return 0;
  };
}
