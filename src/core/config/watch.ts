import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '../log.js';

export interface ConfigWatcherOptions {
  /** The --config file or directory. */
  readonly path: string;
  /** Quiet time after the last change before `onChange` runs. */
  readonly debounceMs: number;
  /** Upper bound on how long a stream of changes can postpone `onChange`. Default 10 × debounce. */
  readonly maxDelayMs?: number;
  /** Runs once per burst of changes; the watcher waits for it before scheduling the next. */
  readonly onChange: () => Promise<void>;
  readonly logger: Logger;
}

export const DEFAULT_WATCH_DEBOUNCE_MS = 300;

/**
 * Calls `onChange` after a burst of changes under a config path settles. Any event counts, not only
 * those naming `*.yaml` files: a Kubernetes ConfigMap volume changes by swapping its `..data`
 * symlink, and an editor's rename-over-save may report only the temporary name. Loading the config
 * again when nothing relevant changed is harmless (every handler is reused).
 */
export class ConfigWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private firstEventAt: number | undefined;
  private running: Promise<void> | undefined;
  private pendingWhileRunning = false;
  private closed = false;

  constructor(private readonly opts: ConfigWatcherOptions) {}

  async start(): Promise<void> {
    const isDir = (await stat(this.opts.path)).isDirectory();
    // A single file is watched through its directory: editors and `kubectl cp` replace the file,
    // and a watch on the old inode would go silent.
    const target = isDir ? this.opts.path : dirname(this.opts.path);
    const only = isDir ? undefined : basename(this.opts.path);
    this.watcher = watch(target, { recursive: isDir, persistent: false }, (_event, filename) => {
      // In a ConfigMap volume the file is a symlink through `..data`, and an update only swaps
      // that symlink: events name `..data` and its siblings, never the file.
      if (only !== undefined && filename !== null && filename !== only && !filename.startsWith('..')) return;
      this.changed();
    });
    this.watcher.on('error', (e) => {
      this.opts.logger.warn('config watch failed; changes to the config path are no longer picked up', { path: this.opts.path, error: e.message });
    });
  }

  private changed(): void {
    if (this.closed) return;
    if (this.running) {
      this.pendingWhileRunning = true;
      return;
    }
    const now = Date.now();
    this.firstEventAt ??= now;
    const maxDelay = this.opts.maxDelayMs ?? this.opts.debounceMs * 10;
    const delay = Math.max(0, Math.min(this.opts.debounceMs, this.firstEventAt + maxDelay - now));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.firstEventAt = undefined;
    this.running = this.opts
      .onChange()
      .catch((e: unknown) => this.opts.logger.error('config reload failed', { error: (e as Error).message }))
      .finally(() => {
        this.running = undefined;
        // Changes made while the reload was reading files may have been missed by it.
        if (this.pendingWhileRunning) {
          this.pendingWhileRunning = false;
          this.changed();
        }
      });
  }

  /** Stops watching; a reload already running is awaited. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    await this.running;
  }
}
