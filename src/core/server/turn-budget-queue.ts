/**
 * Bounds how much Report work one turn of the event loop does. HTTP/2 flow control lets a
 * connection deliver a whole window of Reports (about five Envoy-sized ones per connection) in a
 * single read, and the gRPC endpoint hands each to its handler at once; with a few busy connections one
 * turn then runs tens of milliseconds of decoding and dispatch while timers (flush tickers, the
 * load shedder's sampling) and other sockets (/metrics, admin) wait behind it.
 *
 * Work runs at once while the current turn has used less than its budget and nothing is queued;
 * past the budget it is queued in arrival order and run from `setImmediate` with what is left of
 * the turn's budget, a budget's worth per turn after that, so the loop turns between batches and
 * no turn runs much more than one budget of work. The queue holds work the endpoint has already
 * read (and re-opened the flow-control window for), so it is bounded in bytes: past the bound
 * `offer` refuses, and the caller answers as to any overload.
 */
import { performance } from 'node:perf_hooks';

export interface TurnBudgetQueueOptions {
  /** Work one turn may do before the rest waits for the next turn. */
  readonly budgetMs: number;
  /** Bytes of queued work beyond which `offer` refuses (a job that finds the queue empty is always taken). */
  readonly maxQueuedBytes: number;
  readonly now?: () => number;
}

/** Run-off entries at the head of the queue array before it is compacted. */
const COMPACT_AFTER = 1024;

interface Queued<J> {
  readonly job: J;
  readonly bytes: number;
}

export class TurnBudgetQueue<J> {
  private readonly queue: (Queued<J> | undefined)[] = [];
  private head = 0;
  private queuedBytes = 0;
  private spentMs = 0;
  private turnEndScheduled = false;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly now: () => number;

  constructor(
    private readonly run: (job: J) => void,
    private readonly options: TurnBudgetQueueOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Jobs waiting for a later turn. */
  get size(): number {
    return this.queue.length - this.head;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  /**
   * Runs `job` now, or queues it behind earlier work. False when the queue is full: the job was
   * neither run nor kept.
   */
  offer(job: J, bytes: number): boolean {
    if (this.size === 0 && this.spentMs < this.options.budgetMs) {
      this.runTimed(job);
      this.scheduleTurnEnd();
      return true;
    }
    if (this.size > 0 && this.queuedBytes + bytes > this.options.maxQueuedBytes) return false;
    this.queue.push({ job, bytes });
    this.queuedBytes += bytes;
    this.scheduleTurnEnd();
    return true;
  }

  /** Resolves once nothing is queued (at once when nothing is). */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private runTimed(job: J): void {
    const t0 = this.now();
    try {
      this.run(job);
    } finally {
      this.spentMs += this.now() - t0;
    }
  }

  private scheduleTurnEnd(): void {
    if (this.turnEndScheduled) return;
    this.turnEndScheduled = true;
    // Runs after this turn's I/O callbacks.
    setImmediate(this.endTurn);
  }

  /**
   * Queued work gets what the turn's I/O callbacks left of the budget, oldest first (at least one
   * job when anything is left or they ran nothing), so that one turn runs at most about one budget
   * of work in all; the rest waits for the next turn, whose budget starts afresh.
   */
  private readonly endTurn = (): void => {
    this.turnEndScheduled = false;
    const spent = this.spentMs;
    const left = this.options.budgetMs - spent;
    this.spentMs = 0;
    // A turn whose I/O ran nothing runs at least one job, whatever the budget (even 0).
    if (this.size > 0 && (left > 0 || spent === 0)) {
      do {
        const entry = this.queue[this.head]!;
        this.queue[this.head++] = undefined;
        this.queuedBytes -= entry.bytes;
        this.runTimed(entry.job);
      } while (this.size > 0 && this.spentMs < left);
      // The next turn's I/O starts with a whole budget.
      this.spentMs = 0;
    }
    if (this.size > 0) {
      // A backlog that never quite empties must not grow the array without end.
      if (this.head >= COMPACT_AFTER && this.head * 2 >= this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.scheduleTurnEnd();
      return;
    }
    this.queue.length = 0;
    this.head = 0;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  };
}
