import { defineAdapter, type AnyAdapter, type Handler, type HandleResult, type InstanceSpec, type MetricInstance } from '../../src/core/adapter.js';

export interface RecordingConfig {
  readonly label: string;
  readonly flushIntervalMs?: number;
  readonly throwOnHandle?: boolean;
  readonly flushDelayMs?: number;
  readonly failStart?: boolean;
  /** A misbehaving handler: its flushes ignore the AbortSignal and never finish. */
  readonly hangFlush?: boolean;
  /** A misbehaving handler: its close never finishes. */
  readonly hangClose?: boolean;
}

/** What every handler built by the recording adapter did, for tests to assert on. */
export class RecordingHandler implements Handler {
  readonly received: MetricInstance[] = [];
  flushes = 0;
  concurrentFlushes = 0;
  maxConcurrentFlushes = 0;
  started = false;
  closed = 0;
  readonly flushIntervalMs: number | undefined;

  constructor(
    readonly config: RecordingConfig,
    readonly instances: readonly InstanceSpec[],
  ) {
    this.flushIntervalMs = config.flushIntervalMs;
  }

  async start(): Promise<void> {
    if (this.config.failStart) throw new Error('cannot bind');
    this.started = true;
  }

  handleMetrics(batch: readonly MetricInstance[]): HandleResult | undefined {
    if (this.config.throwOnHandle) throw new Error('boom');
    this.received.push(...batch);
    return undefined;
  }

  async flush(signal: AbortSignal): Promise<void> {
    this.concurrentFlushes++;
    this.maxConcurrentFlushes = Math.max(this.maxConcurrentFlushes, this.concurrentFlushes);
    try {
      if (this.config.hangFlush) await new Promise<void>(() => undefined);
      if (this.config.flushDelayMs) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.config.flushDelayMs);
          signal.addEventListener('abort', () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      this.flushes++;
    } finally {
      this.concurrentFlushes--;
    }
  }

  async close(): Promise<void> {
    this.closed++;
    if (this.config.hangClose) await new Promise<void>(() => undefined);
  }

  liveSeries(): number {
    return this.received.length;
  }
}

export function recordingAdapter(): { adapter: AnyAdapter; built: RecordingHandler[] } {
  const built: RecordingHandler[] = [];
  const adapter = defineAdapter<RecordingConfig>({
    name: 'recording',
    templates: ['metric'],
    parseConfig: (params, _instances, report) => {
      const p = params as Partial<RecordingConfig>;
      if (typeof p.label !== 'string') {
        report.issue(['label'], 'label must be a string', 'RECORDING_LABEL');
        return undefined;
      }
      return p as RecordingConfig;
    },
    createHandler: (config, instances) => {
      const h = new RecordingHandler(config, instances);
      built.push(h);
      return h;
    },
  });
  return { adapter, built };
}
