import type { Handler } from '../adapter.js';
import type { Logger } from '../log.js';

export interface FlushObserver {
  flushed(seconds: number, ok: boolean): void;
}

/**
 * How long a flush may run on after its time box before the ticker stops waiting for it. A
 * handler that ignores its AbortSignal must not hold back the next tick or, at shutdown, the
 * process's exit.
 */
const FLUSH_ABANDON_GRACE_MS = 1_000;

/**
 * Waits for `work` until `graceMs` after `signal` aborts (for as long as it takes if it never
 * does); false when it stopped waiting. A rejection of `work` is passed on. The grace timer keeps
 * no process alive.
 */
export async function settledBefore(work: Promise<unknown>, signal: AbortSignal, graceMs: number): Promise<boolean> {
  const gaveUp = Symbol('gave up');
  const abandoned = new Promise<symbol>((resolve) => {
    signal.addEventListener('abort', () => setTimeout(() => resolve(gaveUp), graceMs).unref(), { once: true });
  });
  return (await Promise.race([work, abandoned])) !== gaveUp;
}

/**
 * Drives one handler's flushes: one at a time (a tick that finds the previous flush still running
 * is skipped, not queued), each time-boxed by an AbortSignal, and one final flush on stop.
 * The core owns this timer so adapters never start their own.
 */
export class FlushTicker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly handler: Handler,
    /** Undefined: no periodic flushes, only the final one on stop. */
    private readonly intervalMs: number | undefined,
    private readonly timeoutMs: number,
    private readonly log: Logger,
    private readonly observer: FlushObserver,
  ) {}

  start(): void {
    if (this.stopped || this.timer || this.intervalMs === undefined) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private tick(): void {
    if (this.running) {
      this.log.warn('flush skipped: the previous flush is still running', { intervalMs: this.intervalMs });
      return;
    }
    this.running = this.flushOnce().finally(() => {
      this.running = undefined;
    });
  }

  /**
   * Runs one flush, aborting it after the time box, and waits for it at most a grace period
   * beyond. Never rejects.
   */
  private async flushOnce(): Promise<void> {
    const ctrl = new AbortController();
    const t0 = performance.now();
    const timeout = setTimeout(() => ctrl.abort(new Error(`flush exceeded ${this.timeoutMs} ms`)), this.timeoutMs);
    timeout.unref();
    let ok = true;
    try {
      if (!(await settledBefore(this.handler.flush(ctrl.signal), ctrl.signal, FLUSH_ABANDON_GRACE_MS))) {
        ok = false;
        this.log.error('flush ignored its time box; no longer waiting for it', { timeoutMs: this.timeoutMs, graceMs: FLUSH_ABANDON_GRACE_MS });
      }
    } catch (e) {
      ok = false;
      this.log.warn('flush failed', { error: (e as Error).message });
    } finally {
      clearTimeout(timeout);
      this.observer.flushed((performance.now() - t0) / 1000, ok);
    }
  }

  /** Stops ticking, waits for a running flush, then flushes once more. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.running) await this.running;
    await this.flushOnce();
  }
}
