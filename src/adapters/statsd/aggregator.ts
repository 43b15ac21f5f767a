/**
 * What accumulates between two flushes, keyed by final stat name. StatsD keeps counters,
 * gauges and timers in separate namespaces, so one name may appear in more than one table.
 *
 * A series is a slot: its number lives in a typed array (a timer's samples in a growable store
 * shared by all timers), so recording into a known series allocates nothing and hashes nothing.
 * The handler finds slots through its name cache; the by-name methods serve carry-over and tests.
 */
import { gaugeLineCount } from './line.js';
import { SeriesTable, TimerTable, type SeriesTableView, type TimerTableView } from './series-table.js';

/** What a drained aggregator hands to a flush: read only, in first-seen order per namespace. */
export interface AggregateSnapshot {
  /** Sum of the increments seen since the last flush. */
  readonly counters: SeriesTableView;
  /** Last value seen since the last flush. */
  readonly gauges: SeriesTableView;
  /** Every kept sample, in arrival order per series. */
  readonly timers: TimerTableView;
}

/** The three StatsD namespaces a name can live in. */
export type StatKind = 'count' | 'gauge' | 'timing';

export class StatsdAggregator implements AggregateSnapshot {
  counters = new SeriesTable();
  gauges = new SeriesTable();
  timers = new TimerTable();
  /** Bumped by every drain: slots remembered from an older generation no longer apply. */
  generation = 0;
  /** Tables a finished flush handed back (see recycle). */
  private spare: { readonly counters: SeriesTable; readonly gauges: SeriesTable; readonly timers: TimerTable } | undefined;

  private tableOf(kind: StatKind): SeriesTable | TimerTable {
    return kind === 'count' ? this.counters : kind === 'gauge' ? this.gauges : this.timers;
  }

  /** Whether `name` already holds a series of `kind`: recording into it adds no series. */
  has(kind: StatKind, name: string): boolean {
    return this.tableOf(kind).slotOf(name) >= 0;
  }

  /** The slot of `kind`'s series `name`, or -1. */
  slotOf(kind: StatKind, name: string): number {
    return this.tableOf(kind).slotOf(name);
  }

  /** A new, empty series (the name must not be held yet); returns its slot. */
  create(kind: StatKind, name: string): number {
    return this.tableOf(kind).create(name);
  }

  addCount(name: string, value: number): void {
    const c = this.counters;
    let slot = c.slotOf(name);
    if (slot < 0) slot = c.create(name);
    c.values[slot] += value;
  }

  setGauge(name: string, value: number): void {
    const g = this.gauges;
    let slot = g.slotOf(name);
    if (slot < 0) slot = g.create(name);
    g.values[slot] = value;
  }

  addTiming(name: string, value: number): void {
    const t = this.timers;
    let slot = t.slotOf(name);
    if (slot < 0) slot = t.create(name);
    t.add(slot, value);
  }

  /** Distinct (type, name) series held. */
  get series(): number {
    return this.counters.size + this.gauges.size + this.timers.size;
  }

  /**
   * Lines the next flush will write, as the server receives them. Walks the gauges (a negative
   * one is two lines), so it is for flushes and carry-over, not the Report path.
   */
  get pendingLines(): number {
    return this.counters.size + gaugeLines(this.gauges) + this.timers.samples;
  }

  /** Forgets a gauge, e.g. one superseded by a newer value already on its way. */
  deleteGauge(name: string): void {
    this.gauges.delete(name);
  }

  /** Nothing held. */
  get empty(): boolean {
    return this.series === 0;
  }

  /**
   * Folds in `newer`, recorded after everything held here: counters add, the newer gauge value
   * wins, timer samples are appended. Series new to this aggregator come after its own, so
   * insertion order stays oldest first.
   */
  absorbNewer(newer: AggregateSnapshot): void {
    runToEnd(this.absorbNewerInSteps(newer));
  }

  /** {@link absorbNewer}, pausing every few hundred series so a caller can yield between steps. */
  *absorbNewerInSteps(newer: AggregateSnapshot): Generator<void, void, void> {
    let step = 0;
    const nc = newer.counters;
    for (let s = 0; s < nc.length; s++) {
      const name = nc.nameAt(s);
      if (name !== undefined) this.addCount(name, nc.values[s] as number);
      if (++step >= STEP_UNITS) {
        step = 0;
        yield;
      }
    }
    const ng = newer.gauges;
    for (let s = 0; s < ng.length; s++) {
      const name = ng.nameAt(s);
      if (name !== undefined) this.setGauge(name, ng.values[s] as number);
      if (++step >= STEP_UNITS) {
        step = 0;
        yield;
      }
    }
    const nt = newer.timers;
    const t = this.timers;
    for (let s = 0; s < nt.length; s++) {
      const name = nt.nameAt(s);
      if (name === undefined) continue;
      let slot = t.slotOf(name);
      if (slot < 0) slot = t.create(name);
      t.append(slot, nt, s);
      step += 1 + nt.countAt(s);
      if (step >= STEP_UNITS) {
        step = 0;
        yield;
      }
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
    room = this.counters.keepFirst(room);
    // A negative gauge's two lines are kept or dropped together (see encodeGaugeLine).
    room = this.gauges.keepFirst(room, gaugeLineCount);
    this.timers.keepFirstSamples(room);
    return before - this.pendingLines;
  }

  /** Hands over everything held and starts empty, in the tables last recycled when there are any. */
  drain(): StatsdAggregator {
    const snapshot = new StatsdAggregator();
    snapshot.counters = this.counters.compacted();
    snapshot.gauges = this.gauges.compacted();
    snapshot.timers = this.timers.compacted();
    const spare = this.spare;
    this.spare = undefined;
    this.counters = spare?.counters.reset() ?? new SeriesTable();
    this.gauges = spare?.gauges.reset() ?? new SeriesTable();
    this.timers = spare?.timers.reset() ?? new TimerTable();
    this.generation++;
    return snapshot;
  }

  /**
   * Takes back the tables of a drained snapshot nothing reads any more, for the next drain to
   * record into. A flush's tables live across several young collections, so tables made new for
   * every flush were promoted and left for a mark-compact: about 1 MB of typed arrays per flush
   * at 70% load, +4 MB/s of ArrayBuffer memory, and V8 starts a mark-compact for every ~64 MB of
   * that. The caller must hold no other reference to `snapshot`. Tables grown by a burst past
   * MAX_RECYCLED_UNITS are left to the collector, so a burst does not hold memory for good.
   * Returns whether the tables were taken.
   */
  recycle(snapshot: StatsdAggregator): boolean {
    if (snapshot.counters === this.counters || snapshot.gauges === this.gauges || snapshot.timers === this.timers) return false;
    if (snapshot.counters.length + snapshot.gauges.length + snapshot.timers.length + snapshot.timers.samples > MAX_RECYCLED_UNITS) return false;
    this.spare = { counters: snapshot.counters, gauges: snapshot.gauges, timers: snapshot.timers };
    return true;
  }
}

function gaugeLines(g: SeriesTableView): number {
  let lines = 0;
  for (let s = 0; s < g.length; s++) if (g.nameAt(s) !== undefined) lines += gaugeLineCount(g.values[s] as number);
  return lines;
}

/**
 * Series slots and timer samples up to which a flush's tables are kept for the next interval:
 * about 3 MB of typed arrays, several times a busy flush at 70% load (about 37,500 samples).
 */
export const MAX_RECYCLED_UNITS = 1 << 18;

/** Units of work between two pauses of the stepwise walks. */
export const STEP_UNITS = 256;

export function runToEnd(steps: Generator<void, void, void>): void {
  while (steps.next().done !== true);
}

/**
 * The units of `snapshot` (in encodeSnapshot's order) for which `keep(unitIndex)` holds,
 * as a new aggregator: what a failed send hands back for the next flush.
 */
export function selectUnits(snapshot: AggregateSnapshot, keep: (unit: number) => boolean): StatsdAggregator {
  const out = new StatsdAggregator();
  let u = 0;
  const c = snapshot.counters;
  for (let s = 0; s < c.length; s++) {
    const name = c.nameAt(s);
    if (name !== undefined && keep(u++)) out.addCount(name, c.values[s] as number);
  }
  const g = snapshot.gauges;
  for (let s = 0; s < g.length; s++) {
    const name = g.nameAt(s);
    if (name !== undefined && keep(u++)) out.setGauge(name, g.values[s] as number);
  }
  const t = snapshot.timers;
  for (let s = 0; s < t.length; s++) {
    const name = t.nameAt(s);
    if (name === undefined) continue;
    let slot = -1;
    for (let c = t.headAt(s); c >= 0; c = t.nextCell(c)) {
      if (!keep(u++)) continue;
      // Names are unique within a snapshot's table, so the series is new to `out`.
      if (slot < 0) slot = out.timers.create(name);
      out.timers.add(slot, t.valueAt(c));
    }
  }
  return out;
}
