/**
 * What accumulates between two flushes, keyed by final stat name. StatsD keeps counters,
 * gauges and timers in separate namespaces, so one name may appear in more than one map.
 */
import { encodeCounterLine, encodeGaugeLine, encodeTimingLine, formatSampleRateSuffix } from './line.js';

export interface AggregateSnapshot {
  /** Sum of the increments seen since the last flush. */
  readonly counters: ReadonlyMap<string, number>;
  /** Last value seen since the last flush. */
  readonly gauges: ReadonlyMap<string, number>;
  /** Every kept sample, in arrival order. */
  readonly timers: ReadonlyMap<string, readonly number[]>;
}

/** The three StatsD namespaces a name can live in. */
export type StatKind = 'count' | 'gauge' | 'timing';

export class StatsdAggregator {
  private counters = new Map<string, number>();
  private gauges = new Map<string, number>();
  private timers = new Map<string, number[]>();
  private timerSamples = 0;

  /** Whether `name` already holds a series of `kind`: recording into it adds no series. */
  has(kind: StatKind, name: string): boolean {
    return (kind === 'count' ? this.counters : kind === 'gauge' ? this.gauges : this.timers).has(name);
  }

  addCount(name: string, value: number): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + value);
  }

  setGauge(name: string, value: number): void {
    this.gauges.set(name, value);
  }

  addTiming(name: string, value: number): void {
    const samples = this.timers.get(name);
    if (samples === undefined) this.timers.set(name, [value]);
    else samples.push(value);
    this.timerSamples++;
  }

  /** Distinct (type, name) series held. */
  get series(): number {
    return this.counters.size + this.gauges.size + this.timers.size;
  }

  /** Lines the next flush will produce (before packing). */
  get pendingLines(): number {
    return this.counters.size + this.gauges.size + this.timerSamples;
  }

  /** Forgets a gauge, e.g. one superseded by a newer value already on its way. */
  deleteGauge(name: string): void {
    this.gauges.delete(name);
  }

  /** Nothing held. */
  get empty(): boolean {
    return this.counters.size === 0 && this.gauges.size === 0 && this.timers.size === 0;
  }

  /**
   * Folds in `newer`, recorded after everything held here: counters add, the newer gauge value
   * wins, timer samples are appended. Series new to this aggregator come after its own, so
   * insertion order stays oldest first.
   */
  absorbNewer(newer: AggregateSnapshot): void {
    for (const [name, sum] of newer.counters) this.addCount(name, sum);
    for (const [name, last] of newer.gauges) this.setGauge(name, last);
    for (const [name, samples] of newer.timers) {
      const mine = this.timers.get(name);
      if (mine === undefined) this.timers.set(name, [...samples]);
      else for (const v of samples) mine.push(v);
      this.timerSamples += samples.length;
    }
  }

  /**
   * Keeps at most `maxLines` lines and returns how many were dropped. The newest go first: timer
   * samples from the end, then counter and gauge series that appeared last. Counters and gauges
   * are kept before timer samples because each is one line that stands for any number of
   * instances, while samples are one line each.
   */
  trimTo(maxLines: number): number {
    const before = this.pendingLines;
    if (before <= maxLines) return 0;
    let room = Math.max(0, maxLines);
    const keepSeries = (m: Map<string, unknown>): void => {
      for (const name of m.keys()) {
        if (room > 0) room--;
        else m.delete(name);
      }
    };
    keepSeries(this.counters);
    keepSeries(this.gauges);
    let samples = 0;
    for (const [name, list] of this.timers) {
      if (room >= list.length) {
        room -= list.length;
        samples += list.length;
      } else if (room > 0) {
        list.length = room;
        samples += room;
        room = 0;
      } else {
        this.timers.delete(name);
      }
    }
    this.timerSamples = samples;
    return before - this.pendingLines;
  }

  drain(): AggregateSnapshot {
    const snapshot: AggregateSnapshot = { counters: this.counters, gauges: this.gauges, timers: this.timers };
    this.counters = new Map();
    this.gauges = new Map();
    this.timers = new Map();
    this.timerSamples = 0;
    return snapshot;
  }
}

/**
 * One wire unit per counter and gauge series and per timer sample: counters first, then gauges,
 * then timers, each in first-seen order. A unit is one line, except a negative gauge (two).
 */
export function encodeSnapshot(snapshot: AggregateSnapshot, samplingRate: number): string[] {
  // The unit order here is what selectUnits walks: keep the two in step.
  const out: string[] = [];
  for (const [name, sum] of snapshot.counters) out.push(encodeCounterLine(name, sum));
  for (const [name, last] of snapshot.gauges) out.push(encodeGaugeLine(name, last));
  const suffix = formatSampleRateSuffix(samplingRate);
  for (const [name, samples] of snapshot.timers) {
    for (const v of samples) out.push(encodeTimingLine(name, v, suffix));
  }
  return out;
}

/**
 * The units of `snapshot` (in {@link encodeSnapshot}'s order) for which `keep(unitIndex)` holds,
 * as a new aggregator: what a failed send hands back for the next flush.
 */
export function selectUnits(snapshot: AggregateSnapshot, keep: (unit: number) => boolean): StatsdAggregator {
  const out = new StatsdAggregator();
  let u = 0;
  for (const [name, sum] of snapshot.counters) if (keep(u++)) out.addCount(name, sum);
  for (const [name, last] of snapshot.gauges) if (keep(u++)) out.setGauge(name, last);
  for (const [name, samples] of snapshot.timers) {
    for (const v of samples) if (keep(u++)) out.addTiming(name, v);
  }
  return out;
}

