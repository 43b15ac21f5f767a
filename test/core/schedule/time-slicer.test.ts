import { describe, expect, it } from 'vitest';
import { SliceAbortedError, TimeSlicer } from '../../../src/core/schedule/time-slicer.js';

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
});
