import { describe, expect, it } from 'vitest';
import { MIN_SHARE, Pacer, SliceAbortedError, TimeSlicer } from '../../../src/core/schedule/time-slicer.js';

/** A walk of `n` units that records each unit, and what else ran, in `log`. */
function* walk(n: number, log: string[]): Generator<void> {
  for (let i = 0; i < n; i++) {
    log.push(`unit ${i}`);
    yield;
  }
}

describe('the time slicer', () => {
  it('runs a walk within the current slice while the clock allows, then lets other work run between slices', async () => {
    let now = 0;
    const slicer = new TimeSlicer(3, () => now);
    const log: string[] = [];
    const w = walk(6, log);
    // Each unit takes 1 ms of the fake clock: three fit in a slice.
    const timed: Iterator<void> = { next: () => ((now += 1), w.next()) };
    expect(slicer.runWithinSlice(timed)).toBe(false);
    expect(log).toEqual(['unit 0', 'unit 1', 'unit 2']);
    setImmediate(() => log.push('other work'));
    expect(await slicer.finish(timed)).toBe(true);
    expect(log).toEqual(['unit 0', 'unit 1', 'unit 2', 'other work', 'unit 3', 'unit 4', 'unit 5']);
  });

  it('stops a walk between slices when asked, leaving it unfinished', async () => {
    const log: string[] = [];
    const slicer = new TimeSlicer(0);
    const w = walk(5, log);
    expect(slicer.runWithinSlice(w)).toBe(false);
    let stop = false;
    setImmediate(() => (stop = true));
    expect(await slicer.finish(w, () => stop)).toBe(false);
    expect(log).toEqual(['unit 0']);
  });

  it('yields only once a slice is used up, and reports an abort that came in meanwhile', async () => {
    let now = 0;
    const slicer = new TimeSlicer(5, () => now);
    let ran = false;
    setImmediate(() => (ran = true));
    await slicer.yieldIfDue();
    expect(ran).toBe(false);
    now = 5;
    await slicer.yieldIfDue();
    expect(ran).toBe(true);
    const aborter = new AbortController();
    now = 10;
    setImmediate(() => aborter.abort(new Error('flush timed out')));
    await expect(slicer.yieldIfDue(aborter.signal)).rejects.toThrow(SliceAbortedError);
  });

  it('paced to a share of the time, leaves the event loop to other work between slices, and counts only its own time as busy', async () => {
    let now = 0;
    const slicer = new TimeSlicer(2, () => now, new Pacer(0.25, Number.POSITIVE_INFINITY));
    const log: string[] = [];
    const w = walk(6, log);
    const timed: Iterator<void> = {
      next: () => {
        const r = w.next();
        if (r.done !== true) now += 1;
        return r;
      },
    };
    // Other work that takes a turn whenever it can: unpaced, it would get one turn per yield.
    let turns = 0;
    let spinning = true;
    const spin = (): void => {
      turns++;
      log.push('other work');
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const t0 = performance.now();
    expect(await slicer.finish(timed)).toBe(true);
    const elapsed = performance.now() - t0;
    spinning = false;
    // Three slices of 2 ms: after each (the first included, which finish starts by yielding), 6 ms for other work.
    expect(elapsed).toBeGreaterThanOrEqual(3 * 6 * 0.8);
    const between = log.join(',').split(/unit \d/).slice(1, -1).map((gap) => gap.split('other work').length - 1);
    expect(between.filter((n) => n > 1).length).toBeGreaterThan(0);
    expect(turns).toBeGreaterThan(3);
    expect(log.filter((l) => l.startsWith('unit'))).toHaveLength(6);
    expect(slicer.busyMs).toBe(6);
  });

  it('works out the pause that keeps paced work to its share', () => {
    const unbounded = (share: number): Pacer => new Pacer(share, Number.POSITIVE_INFINITY);
    expect(unbounded(1).pauseAfter(2, 0)).toBe(0);
    expect(unbounded(0.25).pauseAfter(2, 0)).toBe(6);
    expect(unbounded(0.5).pauseAfter(2, 0)).toBe(2);
    // Never stretched past 1 / MIN_SHARE times its own length.
    expect(unbounded(0.0001).pauseAfter(1, 0)).toBeCloseTo(1 / MIN_SHARE - 1, 9);
    // A pacer never waits past its deadline, and runs unpaced after it.
    const pacer = new Pacer(0.25, 100);
    expect(pacer.pauseAfter(2, 90)).toBe(6);
    expect(pacer.pauseAfter(2, 97)).toBe(3);
    expect(pacer.pauseAfter(2, 100)).toBe(0);
    expect(Pacer.NONE.pauseAfter(2, 0)).toBe(0);
  });
});
