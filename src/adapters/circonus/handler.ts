/**
 * The Circonus handler: records instances in memory on the Report path and, on the core's ticker,
 * swaps the interval's state out, encodes it as one HTTPTrap payload and PUTs it. A payload that
 * does not get through is merged into the next one (bounded) instead of being dropped as cgm did.
 */
import { readFile } from 'node:fs/promises';
import type { Handler, HandleResult, HandlerEnv, InstanceSpec, MetricInstance } from '../../core/adapter.js';
import { RateLimitedLog, TallyLog } from '../../core/log.js';
import { redactUrl, type CirconusConfig } from './config.js';
import { CIRCONUS_CODES, CirconusError } from './errors.js';
import { encodeEntry } from './payload.js';
import { encodeBodyInSlices, KeyOrder, type PayloadBody } from './payload-body.js';
import { InstanceRecorder, type DropReason, type TagKeyers, type TupleBudget } from './recorder.js';
import { DEFAULT_SLICE_MS, flushPacer, SliceAbortedError, TimeSlicer } from '../../core/adapter.js';
import { SeriesStore } from './store.js';
import { HttpTrapSubmitter, type SubmitOutcome } from './submitter.js';

/** Event names counted through `HandlerEnv.stats` (exported as `telemux_handler_events_total`). */
export const CIRCONUS_EVENTS = {
  payloadsSent: 'payloads_sent',
  seriesSent: 'series_sent',
  /** Attempts beyond the first within a flush. */
  submitRetries: 'submit_retries',
  /** Flushes whose payload did not get through (kept for the next one, within bounds). */
  submitFailures: 'submit_failures',
  /** Payloads the broker refused with a 4xx; their series are dropped. */
  payloadsRejected: 'payloads_rejected',
  /** Series carried from a failed payload into the next one. */
  seriesRequeued: 'series_requeued',
  /** Series lost: beyond the pending bounds, in a rejected payload, or pending at close. */
  droppedSeries: 'dropped_series',
  /** Metrics the broker reported as filtered out by the check's metric filters. */
  brokerFiltered: 'broker_filtered',
  instancesUnconfigured: 'instances_dropped_unconfigured',
  instancesInvalidValue: 'instances_dropped_invalid_value',
  /** Instances recorded into their metric's overflow stream because a series limit was reached. */
  instancesOverflowed: 'instances_overflowed',
  instancesNameTooLong: 'instances_dropped_name_too_long',
  tagValuesTruncated: 'tag_values_truncated',
} as const;

/** Seams for tests and benches; production uses the defaults. */
export interface CirconusHandlerOptions {
  /** First retry backoff, doubling per retry. Default 1 s (cgm). */
  readonly backoffBaseMs?: number;
  /** Backoff cap. Default 5 s (cgm). */
  readonly backoffMaxMs?: number;
  /** At most one log line per concern per this interval. Default 10 s. */
  readonly logIntervalMs?: number;
  /** Reads `ca_file`; default fs.readFile. */
  readonly readFile?: (path: string) => Promise<Buffer | string>;
  /** CPU time a flush spends between turns of the event loop. Default 4 ms; 0 yields at every check. */
  readonly flushSliceMs?: number;
}

const DEFAULT_LOG_INTERVAL_MS = 10_000;

function describeDrop(reason: DropReason, inst: MetricInstance): string {
  switch (reason) {
    case 'invalid_value': {
      const v = inst.value;
      const shown = v === null ? 'no value' : typeof v === 'number' ? String(v) : typeof v;
      return `instance ${inst.spec.name} has a value circonus cannot record (${shown})`;
    }
    case 'name_too_long':
      return `a stream-tagged name of ${inst.spec.name} exceeds the broker's 4096-byte limit`;
  }
}

function isPem(ca: string): boolean {
  return ca.includes('-----BEGIN CERTIFICATE-----');
}

export class CirconusHandler implements Handler {
  readonly flushIntervalMs: number;

  private readonly recorders = new Map<string, InstanceRecorder>();
  private readonly keyers: TagKeyers = new Map();
  private readonly budget: TupleBudget;
  /** What the last flush spent in slices (sweep, merge, encoding): how fast the next one is paced. */
  private lastFlushBusyMs = 0;
  private store = new SeriesStore(0);
  /**
   * The last store whose payload was sent or rejected: nothing reads it any more, so the next
   * store reuses its series (see SeriesStore) rather than allocating a mesh's worth again.
   */
  private settled: SeriesStore | undefined;
  /** Series of payloads that failed, waiting to go out with the next one. */
  private pending: SeriesStore | undefined;
  private submitter: HttpTrapSubmitter | undefined;
  /** Flushes run one after another even if a caller overlaps them. */
  private flushChain: Promise<void> = Promise.resolve();
  private inflight: AbortController | undefined;
  private closing: Promise<void> | undefined;
  /** Set after a failed submission, so the recovery is logged once. */
  private failing = false;

  private readonly submitLog: RateLimitedLog;
  private readonly dropLog: RateLimitedLog;
  private readonly reportLog: RateLimitedLog;
  private readonly brokerLog: RateLimitedLog;
  private readonly tagLog: RateLimitedLog;
  private readonly overflowLog: TallyLog;
  /** The last payload's key order: the next flush mostly has the same names. */
  private readonly keyOrder = new KeyOrder();
  /** Instances each metric sent to its overflow stream since the last flush (off the hot path's maps). */
  private readonly overflowed = new Map<InstanceRecorder, number>();

  constructor(
    private readonly config: CirconusConfig,
    instances: readonly InstanceSpec[],
    private readonly env: HandlerEnv,
    private readonly options: CirconusHandlerOptions = {},
  ) {
    this.flushIntervalMs = config.flushIntervalMs;
    const now = (): number => env.clock.now();
    const every = options.logIntervalMs ?? DEFAULT_LOG_INTERVAL_MS;
    this.submitLog = new RateLimitedLog(env.logger, every, now);
    this.dropLog = new RateLimitedLog(env.logger, every, now);
    this.reportLog = new RateLimitedLog(env.logger, every, now);
    this.brokerLog = new RateLimitedLog(env.logger, every, now);
    this.tagLog = new RateLimitedLog(env.logger, every, now);
    this.overflowLog = new TallyLog(env.logger, every, now);
    // Live tuples are those of the current and the previous interval, each bounded by max_series.
    this.budget = { count: 0, max: 2 * config.maxSeries };

    const specs = new Map(instances.map((i) => [i.name, i] as const));
    const events = {
      truncatedTagValues: (n: number) => {
        env.stats.count(CIRCONUS_EVENTS.tagValuesTruncated, n);
        this.tagLog.warn('stream-tag values shortened to fit the broker\'s 256-byte tag limit', { values: n });
      },
    };
    // Recorders tagging the same dimensions share a keyer: the instances of one attribute set
    // share their dimensions array, so the set's tuple is resolved once for all of them.
    for (const m of config.metrics) {
      const spec = specs.get(m.name);
      if (spec !== undefined) this.recorders.set(m.name, new InstanceRecorder(spec, m, this.budget, events, this.keyers));
    }
    if (config.caFile === undefined) this.submitter = this.newSubmitter(undefined);
  }

  /** Reads `ca_file`, if any: the only I/O before the first flush, so a bad path fails the build. */
  async start(): Promise<void> {
    if (this.submitter !== undefined || this.config.caFile === undefined) return;
    const path = this.config.caFile;
    let ca: string;
    try {
      ca = (await (this.options.readFile ?? readFile)(path)).toString();
    } catch (e) {
      throw new CirconusError(CIRCONUS_CODES.tls, `cannot read ca_file ${path}: ${(e as Error).message}`);
    }
    if (!isPem(ca)) throw new CirconusError(CIRCONUS_CODES.tls, `ca_file ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    this.submitter = this.newSubmitter(ca);
  }

  handleMetrics(batch: readonly MetricInstance[]): HandleResult | undefined {
    const store = this.store;
    const maxSeries = this.config.maxSeries;
    let unconfigured = 0;
    let invalid = 0;
    let overflowed = 0;
    let tooLong = 0;
    let message: string | undefined;
    for (const k of this.keyers.values()) k.newBatch();
    for (let i = 0; i < batch.length; i++) {
      const inst = batch[i] as MetricInstance;
      const recorder = this.recorders.get(inst.spec.name);
      if (recorder === undefined) {
        unconfigured++;
        message ??= `no circonus metric is configured for instance ${inst.spec.name}`;
        continue;
      }
      const outcome = recorder.record(inst, store, maxSeries);
      if (outcome === undefined) continue;
      if (outcome === 'overflow') {
        overflowed++;
        this.overflowed.set(recorder, (this.overflowed.get(recorder) ?? 0) + 1);
        continue;
      }
      if (outcome === 'invalid_value') invalid++;
      else tooLong++;
      message ??= describeDrop(outcome, inst);
    }
    const stats = this.env.stats;
    // Not a failure of the Report: the data is kept, only its tags are folded.
    if (overflowed > 0) stats.count(CIRCONUS_EVENTS.instancesOverflowed, overflowed);
    const failed = unconfigured + invalid + tooLong;
    if (failed === 0) return undefined;
    if (unconfigured > 0) stats.count(CIRCONUS_EVENTS.instancesUnconfigured, unconfigured);
    if (invalid > 0) stats.count(CIRCONUS_EVENTS.instancesInvalidValue, invalid);
    if (tooLong > 0) stats.count(CIRCONUS_EVENTS.instancesNameTooLong, tooLong);
    const reason = message ?? 'instances dropped';
    this.reportLog.warn('circonus handler dropped instances', { failed, reason });
    return { failed, message: reason };
  }

  flush(signal: AbortSignal): Promise<void> {
    const run = this.flushChain.then(() => this.flushOnce(signal));
    this.flushChain = run.catch(() => undefined);
    return run;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  liveSeries(): number {
    return this.store.size + (this.pending?.size ?? 0);
  }

  private newSubmitter(ca: string | undefined): HttpTrapSubmitter {
    const c = this.config;
    return new HttpTrapSubmitter({
      url: c.submissionUrl,
      requestTimeoutMs: c.requestTimeoutMs,
      maxRetries: c.maxRetries,
      ...(ca !== undefined ? { ca } : {}),
      ...(c.tlsServerName !== undefined ? { tlsServerName: c.tlsServerName } : {}),
      ...(this.options.backoffBaseMs !== undefined ? { backoffBaseMs: this.options.backoffBaseMs } : {}),
      ...(this.options.backoffMaxMs !== undefined ? { backoffMaxMs: this.options.backoffMaxMs } : {}),
      now: () => this.env.clock.now(),
    });
  }

  private async flushOnce(signal: AbortSignal): Promise<void> {
    // Swap first, synchronously: Reports arriving from here on (while this flush merges, encodes
    // in slices or PUTs) go to the new store.
    const snapshot = this.store;
    snapshot.releaseDonor();
    this.store = new SeriesStore(snapshot.epoch + 1, this.settled);
    this.settled = undefined;
    this.reportOverflow();

    const sliceMs = this.options.flushSliceMs ?? DEFAULT_SLICE_MS;
    // Paced like the StatsD flush: a submission's sweep and encoding, run as fast as the event
    // loop allows, held a 70% busy server near 100% for their length and Reports queued
    // (BENCHMARKS.md, round 14). The PUT itself is I/O and is not paced.
    const slicer = new TimeSlicer(sliceMs, undefined, flushPacer(this.lastFlushBusyMs, sliceMs, this.flushIntervalMs, this.closing !== undefined));
    for (const r of this.recorders.values()) await r.sweepInSlices(snapshot.epoch, slicer);
    let batch = this.pending;
    this.pending = undefined;
    if (batch === undefined) batch = snapshot;
    else await batch.absorbNewerInSlices(snapshot, slicer);
    if (batch.size === 0) return;

    if (this.closing !== undefined) {
      this.drop(batch.size, 'circonus handler flushed after close; series dropped');
      return;
    }
    const submitter = this.submitter;
    if (submitter === undefined) {
      this.requeue(batch, undefined, 'circonus handler not started yet; series kept for the next submission');
      return;
    }

    let body: PayloadBody;
    try {
      // `batch` is detached from the Report path, so it cannot change while encoding yields.
      body = await encodeBodyInSlices(batch.values(), slicer, signal, this.keyOrder);
      this.lastFlushBusyMs = slicer.busyMs;
    } catch (e) {
      if (e instanceof SliceAbortedError) {
        // What a PUT aborted before its first attempt gives: the payload is kept. Its size is
        // unknown, so only max_pending_series applies until the next encoding.
        this.settle({ kind: 'aborted', attempts: 0, message: `aborted: ${e.message}` }, batch, undefined, submitter.redactedUrl);
        return;
      }
      // The store only holds encodable values; reaching this is a bug, so say so loudly.
      this.env.logger.error('circonus payload could not be encoded; series dropped', { error: (e as Error).message });
      this.drop(batch.size);
      return;
    }

    const ctrl = new AbortController();
    const onAbort = (): void => ctrl.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    this.inflight = ctrl;
    let outcome: SubmitOutcome;
    try {
      outcome = await submitter.submit(body, ctrl.signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.inflight = undefined;
    }
    this.settle(outcome, batch, body.bytes, submitter.redactedUrl);
  }

  private settle(outcome: SubmitOutcome, batch: SeriesStore, bodyBytes: number | undefined, url: string): void {
    const stats = this.env.stats;
    if (outcome.attempts > 1) stats.count(CIRCONUS_EVENTS.submitRetries, outcome.attempts - 1);
    switch (outcome.kind) {
      case 'sent': {
        this.settled = batch;
        stats.count(CIRCONUS_EVENTS.payloadsSent);
        stats.count(CIRCONUS_EVENTS.seriesSent, batch.size);
        const receipt = outcome.receipt;
        if (receipt?.filtered !== undefined && receipt.filtered > 0) stats.count(CIRCONUS_EVENTS.brokerFiltered, receipt.filtered);
        if (receipt?.error !== undefined) {
          this.brokerLog.warn('circonus broker accepted the payload with an error', { url, error: receipt.error });
        }
        if (this.failing) {
          this.failing = false;
          this.env.logger.info('circonus submissions recovered', { url, series: batch.size, attempts: outcome.attempts });
        } else {
          this.env.logger.debug('circonus payload sent', { url, series: batch.size, bytes: bodyBytes, stats: receipt?.stats });
        }
        return;
      }
      case 'rejected':
        this.settled = batch;
        stats.count(CIRCONUS_EVENTS.payloadsRejected);
        this.failing = true;
        this.submitLog.warn('circonus broker rejected the payload; its series are dropped (a 4xx is not retried)', {
          url,
          status: outcome.status,
          error: outcome.message,
        });
        this.drop(batch.size);
        return;
      case 'failed':
      case 'aborted':
        stats.count(CIRCONUS_EVENTS.submitFailures);
        this.failing = true;
        this.submitLog.warn('circonus submission failed; its series go out with the next one', {
          url,
          attempts: outcome.attempts,
          error: outcome.message,
          series: batch.size,
        });
        this.requeue(batch, bodyBytes);
        return;
    }
  }

  /**
   * Keeps `batch` for the next flush, trimmed to max_pending_series / max_pending_bytes. It is
   * the oldest state there is (anything recorded since is in `this.store`), and it merges with
   * the next snapshot exactly: counters and histograms add up, gauges take the newer value.
   */
  private requeue(batch: SeriesStore, bodyBytes: number | undefined, note?: string): void {
    const c = this.config;
    let dropped = 0;
    if (bodyBytes !== undefined && bodyBytes > c.maxPendingBytes) {
      // Sizes come from the encoding that just failed; the batch has not changed since.
      dropped = batch.trim(c.maxPendingSeries, c.maxPendingBytes, (s) => (s.encodedBytes >= 0 ? s.encodedBytes : Buffer.byteLength(encodeEntry(s), 'utf8')));
    } else if (batch.size > c.maxPendingSeries) {
      dropped = batch.trim(c.maxPendingSeries, Number.POSITIVE_INFINITY, () => 0);
    }
    if (dropped > 0) {
      this.drop(dropped, 'circonus pending submissions exceed max_pending_series / max_pending_bytes; newest series dropped');
    }
    if (note !== undefined) this.submitLog.warn(note, { series: batch.size });
    if (batch.size === 0) return;
    this.env.stats.count(CIRCONUS_EVENTS.seriesRequeued, batch.size);
    this.pending = batch;
  }

  /** One line per log interval at most, however many intervals overflowed, with the totals. */
  private reportOverflow(): void {
    for (const [recorder, n] of this.overflowed) this.overflowLog.add(recorder.spec.name, n);
    this.overflowed.clear();
    this.overflowLog.flush("circonus series limit reached; new streams were recorded into their metric's overflow stream", {
      maxSeries: this.config.maxSeries,
    });
  }

  private drop(series: number, why?: string): void {
    this.env.stats.count(CIRCONUS_EVENTS.droppedSeries, series);
    if (why !== undefined) this.dropLog.warn(why, { series });
  }

  private async shutdown(): Promise<void> {
    // Normally the core's final flush has finished by now; if not, cut it short.
    this.inflight?.abort(new Error('circonus handler closed'));
    await this.flushChain;
    const left = this.pending;
    this.pending = undefined;
    if (left !== undefined && left.size > 0) {
      this.env.stats.count(CIRCONUS_EVENTS.droppedSeries, left.size);
      this.env.logger.warn('circonus handler closed with unsent series; they are dropped', {
        series: left.size,
        url: redactUrl(this.config.submissionUrl),
      });
    }
  }
}
