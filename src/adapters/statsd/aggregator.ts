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

export class StatsdAggregator {
  private counters = new Map<string, number>();
  private gauges = new Map<string, number>();
  private timers = new Map<string, number[]>();
  private timerSamples = 0;

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

  /** Hands over everything held and starts empty: instances arriving during a flush go to the next one. */
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
  const out: string[] = [];
  for (const [name, sum] of snapshot.counters) out.push(encodeCounterLine(name, sum));
  for (const [name, last] of snapshot.gauges) out.push(encodeGaugeLine(name, last));
  const suffix = formatSampleRateSuffix(samplingRate);
  for (const [name, samples] of snapshot.timers) {
    for (const v of samples) out.push(encodeTimingLine(name, v, suffix));
  }
  return out;
}
