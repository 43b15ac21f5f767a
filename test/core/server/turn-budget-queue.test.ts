import { describe, expect, it } from 'vitest';
import { TurnBudgetQueue } from '../../../src/core/server/turn-budget-queue.js';

/** A clock that each job advances by the job's cost, so budgets are exact. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A queue with a 5 ms budget whose jobs each cost `costMs` on a fake clock, recording what ran. */
function recordingQueue<J>(costMs: number, maxQueuedBytes = 1 << 20): { q: TurnBudgetQueue<J>; ran: J[] } {
  const clock = fakeClock();
  const ran: J[] = [];
  const q = new TurnBudgetQueue<J>(
    (job) => {
      ran.push(job);
      clock.advance(costMs);
    },
    { budgetMs: 5, maxQueuedBytes, now: clock.now },
  );
  return { q, ran };
}

describe('TurnBudgetQueue', () => {
  it('runs work at once while the turn has budget left, then queues it in arrival order', async () => {
    const { q, ran } = recordingQueue<number>(2);
    for (let i = 0; i < 10; i++) expect(q.offer(i, 100)).toBe(true);
    // 2 ms each: three fit the 5 ms budget (the third starts at 4 ms), the other seven wait.
    expect(ran).toEqual([0, 1, 2]);
    expect(q.size).toBe(7);
    expect(q.bytes).toBe(700);
    // This turn's work already spent its budget (6 ms of 5): the queue waits for the next turn.
    await nextTurn();
    expect(ran).toEqual([0, 1, 2]);
    await nextTurn();
    expect(ran).toEqual([0, 1, 2, 3, 4, 5]);
    // Work offered while some is queued goes behind it, whatever the budget.
    q.offer(10, 100);
    await q.idle();
    expect(ran).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(q.size).toBe(0);
    expect(q.bytes).toBe(0);
  });

  it('keeps arrival order through a long backlog (the queue compacts itself as it drains)', async () => {
    const { q, ran } = recordingQueue<number>(1, 1 << 30);
    let next = 0;
    for (; next < 3000; next++) q.offer(next, 1);
    // Keep adding while it drains, so the queue is never empty when it compacts.
    while (q.size > 0) {
      await nextTurn();
      for (let k = 0; k < 3 && next < 5000; k++) q.offer(next++, 1);
    }
    expect(ran).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it('runs no more than one budget in a turn: work queued behind a full turn waits for the next', async () => {
    const { q, ran } = recordingQueue<number>(2);
    q.offer(0, 1);
    q.offer(1, 1);
    q.offer(2, 1); // starts at 4 ms, within the budget, and ends the turn at 6
    q.offer(3, 1);
    q.offer(4, 1);
    expect(ran).toEqual([0, 1, 2]);
    await nextTurn();
    // Nothing was left, so the turn ends without running any; the next turn runs the two waiting.
    expect(ran).toEqual([0, 1, 2]);
    await nextTurn();
    expect(ran).toEqual([0, 1, 2, 3, 4]);

    const two = recordingQueue<number>(1);
    two.q.offer(0, 1);
    for (let i = 1; i < 5; i++) two.q.offer(i, 1); // 5 ms: the budget is spent exactly
    for (let i = 5; i < 12; i++) two.q.offer(i, 1);
    expect(two.ran).toEqual([0, 1, 2, 3, 4]);
    await nextTurn();
    expect(two.ran).toEqual([0, 1, 2, 3, 4]);
    await nextTurn();
    expect(two.ran).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('gives every turn a fresh budget', async () => {
    const { q, ran } = recordingQueue<number>(4);
    q.offer(1, 1);
    q.offer(2, 1);
    expect(ran).toEqual([1, 2]);
    q.offer(3, 1);
    expect(ran).toEqual([1, 2]);
    await q.idle();
    await nextTurn();
    // The turn after the queue emptied runs work synchronously again.
    q.offer(4, 1);
    expect(ran).toEqual([1, 2, 3, 4]);
  });

  it('refuses work past the queued-bytes bound, and takes it again once there is room', async () => {
    const { q, ran } = recordingQueue<string>(10, 250);
    expect(q.offer('a', 100)).toBe(true); // runs, spends the budget
    expect(q.offer('b', 100)).toBe(true); // queued (100)
    expect(q.offer('c', 100)).toBe(true); // queued (200)
    expect(q.offer('d', 100)).toBe(false); // 300 > 250: refused, not kept
    expect(q.size).toBe(2);
    await q.idle();
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(q.offer('e', 100)).toBe(true);
  });

  it('takes a job larger than the bound when nothing waits', () => {
    const clock = fakeClock();
    const q = new TurnBudgetQueue<string>(() => clock.advance(10), { budgetMs: 5, maxQueuedBytes: 10, now: clock.now });
    expect(q.offer('first', 1)).toBe(true);
    expect(q.offer('huge', 1000)).toBe(true);
    expect(q.size).toBe(1);
  });

  it('runs one job a turn with a zero budget', async () => {
    const clock = fakeClock();
    const ran: number[] = [];
    const q = new TurnBudgetQueue<number>((job) => ran.push(job), { budgetMs: 0, maxQueuedBytes: 100, now: clock.now });
    for (let i = 0; i < 3; i++) q.offer(i, 1);
    expect(ran).toEqual([]);
    await nextTurn();
    expect(ran).toEqual([0]);
    await q.idle();
    expect(ran).toEqual([0, 1, 2]);
  });

  it('idle() resolves at once when nothing is queued', async () => {
    const q = new TurnBudgetQueue<number>(() => undefined, { budgetMs: 5, maxQueuedBytes: 1 });
    await expect(q.idle()).resolves.toBeUndefined();
  });
});
