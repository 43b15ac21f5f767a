import { unwatchFile, watchFile, type Stats, type StatsListener } from 'node:fs';
import type { Logger } from '../log.js';

export interface FilePollerOptions {
  readonly paths: readonly string[];
  /** How often each file is stat'ed. */
  readonly intervalMs: number;
  /**
   * Quiet time after the last change before `onChange` runs, so that a certificate and its key
   * replaced one after the other are read as a pair. Default: `intervalMs`.
   */
  readonly settleMs?: number;
  /** Runs once per burst of changes; never concurrently with itself. It handles its own errors. */
  readonly onChange: () => Promise<void>;
  readonly logger: Logger;
}

/** Default poll interval for certificates and the tenants file: cheap, and rotation is not urgent. */
export const DEFAULT_SECURITY_POLL_MS = 2_000;

/**
 * Calls `onChange` when any of a few files changes, by polling `stat` (fs.watchFile). Polling
 * rather than inotify because these files are usually Kubernetes Secret volumes: they change by
 * an atomic symlink swap that an inotify watch on the old file never reports, whereas `stat`
 * follows the link and sees the new inode. The polls never keep the process alive.
 */
export class FilePoller {
  private readonly listeners = new Map<string, StatsListener>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private pendingWhileRunning = false;
  private closed = false;

  constructor(private readonly opts: FilePollerOptions) {}

  start(): void {
    for (const path of new Set(this.opts.paths)) {
      const listener = (curr: Stats, prev: Stats): void => {
        if (curr.mtimeMs === prev.mtimeMs && curr.ino === prev.ino && curr.size === prev.size) return;
        this.changed();
      };
      watchFile(path, { persistent: false, interval: this.opts.intervalMs }, listener);
      this.listeners.set(path, listener);
    }
  }

  private changed(): void {
    if (this.closed) return;
    if (this.running) {
      this.pendingWhileRunning = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), this.opts.settleMs ?? this.opts.intervalMs);
    this.timer.unref();
  }

  private run(): void {
    this.timer = undefined;
    if (this.closed) return;
    this.running = this.opts
      .onChange()
      .catch((e: unknown) => this.opts.logger.error('reloading a watched file failed', { paths: this.opts.paths.join(','), error: (e as Error).message }))
      .finally(() => {
        this.running = undefined;
        if (this.pendingWhileRunning) {
          this.pendingWhileRunning = false;
          this.changed();
        }
      });
  }

  /** Stops polling and waits for a reload in progress. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [path, listener] of this.listeners) unwatchFile(path, listener);
    this.listeners.clear();
    await this.running;
  }
}
