/**
 * Cooperative time slicing for long synchronous work on the event loop: a flush of tens of
 * thousands of series, or a scrape, would otherwise hold every Report, timer and socket behind it
 * for tens or hundreds of milliseconds. Work runs in slices of a few milliseconds, with a turn of
 * the event loop between them (setImmediate, so that I/O callbacks, and with them Reports, run).
 *
 * Two ways to use it: a hot loop checks `due()` (one clock read) and awaits `yieldIfDue` between
 * units of work; or the work is a generator that pauses every few hundred units, which
 * `runWithinSlice` / `finish` step. The generator form keeps the hot loop in synchronous code: in
 * an async function every local that crosses an await lives in the generator's context, which
 * makes tight loops several times slower.
 */
import { performance } from 'node:perf_hooks';

/**
 * Work between two turns of the event loop. Short enough that the longest block stays near 5 ms
 * when a GC pause lands in a slice (the StatsD flush of 40,000 series measured 7 ms at most with
 * 2 ms slices); long enough that the yields (one setImmediate each) cost nothing measurable.
 */
export const DEFAULT_SLICE_MS = 2;

/** Resolves on the next turn of the event loop, after pending I/O callbacks. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The smallest share pacing goes down to: work never stretches past 20 times its own length. */
export const MIN_SHARE = 0.05;

/**
 * Paces work to a share of the time, up to a deadline after which it runs unpaced, so that pacing
 * worked out from an estimate can never push the work past the time it must be done by.
 *
 * Why pace at all: a flush that runs a slice on every turn takes about a third of a busy loop,
 * so while it runs the server is near 100% busy and Reports queue behind it. At the ingest
 * bench's 70% load, every StatsD flush left a wave of Reports 10-20 ms late (BENCHMARKS.md,
 * round 12). Spread over more of its interval, the same work leaves room for them.
 */
export class Pacer {
  /** No pacing: a turn of the event loop between slices, no more. */
  static readonly NONE = new Pacer(1, 0);

  /** `untilMs` is on the clock the work is timed with (`performance.now()`). */
  constructor(
    readonly share: number,
    readonly untilMs: number,
  ) {}

  /**
   * How long to leave the event loop to other work after a slice of `usedMs` that ended at
   * `nowMs`, so the slices take at most `share` of the time: 0 (just the next turn) when unpaced
   * or past the deadline.
   */
  pauseAfter(usedMs: number, nowMs: number): number {
    if (this.share >= 1 || nowMs >= this.untilMs) return 0;
    return Math.min(usedMs * (1 / Math.max(this.share, MIN_SHARE) - 1), this.untilMs - nowMs);
  }
}

/**
 * A periodic flush is paced to take about this share of its interval, at most
 * FLUSH_SPREAD_MAX_MS: a flush that did its work as fast as the event loop allowed took a third of
 * a busy server for tens of milliseconds, and Reports arriving meanwhile queued (BENCHMARKS.md,
 * rounds 12 and 14). How fast to go is worked out from the last flush's own cost.
 */
const FLUSH_SPREAD = 0.5;
const FLUSH_SPREAD_MAX_MS = 1_000;

/**
 * The pacing of a flush whose last run cost `lastBusyMs` of slices: a share of the event loop
 * that does that much work within FLUSH_SPREAD of `intervalMs`, and no further, so a flush with
 * more work than the last runs unpaced once that time is up, well inside its interval. No pacing
 * when the last flush fitted in one slice, or while `closing` (shutdown is not held up).
 */
export function flushPacer(lastBusyMs: number, sliceMs: number, intervalMs: number, closing: boolean, now: number = performance.now()): Pacer {
  if (lastBusyMs <= sliceMs || closing) return Pacer.NONE;
  const spread = Math.min(FLUSH_SPREAD * intervalMs, FLUSH_SPREAD_MAX_MS);
  return new Pacer(Math.min(1, lastBusyMs / spread), now + spread);
}

/** Calls `fn` after `ms`, or on the next turn when `ms` is 0. */
export function afterPause(ms: number, fn: () => void): void {
  if (ms > 0) setTimeout(fn, ms);
  else setImmediate(fn);
}

/** Thrown by `yieldIfDue` when its signal fired during the yield; stopping there loses nothing. */
export class SliceAbortedError extends Error {
  constructor(readonly reason: unknown) {
    super(reason instanceof Error ? reason.message : 'aborted');
    this.name = 'SliceAbortedError';
  }
}

export class TimeSlicer {
  private sliceStart: number;
  private busy = 0;

  /**
   * The first slice starts now. `sliceMs` 0 yields at every check, which tests use. A `pacer`
   * leaves the event loop to other work after each slice for long enough that the slices take at
   * most its share of the time (see {@link Pacer.pauseAfter}), until its deadline.
   */
  constructor(
    private readonly sliceMs: number = DEFAULT_SLICE_MS,
    private readonly now: () => number = () => performance.now(),
    private readonly pacer: Pacer = Pacer.NONE,
  ) {
    this.sliceStart = now();
  }

  /** Time spent in slices so far, the current one included: the work's own cost, without the yields. */
  get busyMs(): number {
    return this.busy + (this.now() - this.sliceStart);
  }

  /** Ends the current slice and resolves when the next may start. */
  private async yieldTurn(): Promise<void> {
    const end = this.now();
    const used = end - this.sliceStart;
    this.busy += used;
    const wait = this.pacer.pauseAfter(used, end);
    await new Promise<void>((resolve) => afterPause(wait, resolve));
    this.restart();
  }

  /** Whether the current slice has used its time: cheap enough for a hot loop. */
  due(): boolean {
    return this.now() - this.sliceStart >= this.sliceMs;
  }

  /** Starts a new slice now, e.g. after waiting for something else (a stream's drain). */
  restart(): void {
    this.sliceStart = this.now();
  }

  /**
   * Hands the event loop back if the slice has used its time. Call it between units of work small
   * enough (tens of microseconds) that a slice overshoots little. With `signal`, throws
   * SliceAbortedError once it has fired: pass it only where stopping leaves everything intact.
   */
  async yieldIfDue(signal?: AbortSignal): Promise<void> {
    if (!this.due()) return;
    await this.yieldTurn();
    if (signal?.aborted === true) throw new SliceAbortedError(signal.reason);
  }

  /** Steps `walk` while the current slice lasts; true once the walk has finished. */
  runWithinSlice(walk: Iterator<void>): boolean {
    for (;;) {
      if (walk.next().done === true) return true;
      if (this.due()) return false;
    }
  }

  /**
   * Finishes `walk`, yielding first (the current slice is used up) and between slices. Returns
   * false, with the walk unfinished, when `stop()` holds after a yield.
   */
  async finish(walk: Iterator<void>, stop: () => boolean = () => false): Promise<boolean> {
    for (;;) {
      await this.yieldTurn();
      if (stop()) return false;
      if (this.runWithinSlice(walk)) return true;
    }
  }
}
