/**
 * The contract between the core and handler adapters. Adapters import this module (and the value
 * types it re-exports) and nothing else from the core's internals; the core never imports adapters
 * except through the explicit inventory in src/adapters/index.ts.
 */
import type { AttributeValue } from './attributes/value.js';
import type { ValueType } from './attributes/value-type.js';
import type { ErrorCode } from './errors.js';
import type { Logger } from './log.js';

export { ValueType } from './attributes/value-type.js';
export { Timestamp, type AttributeValue, type StringMap } from './attributes/value.js';
export type { Logger } from './log.js';
export type { ErrorCode } from './errors.js';
export { parseGoDuration, type DurationResult } from './expr/duration.js';
export { afterPause, DEFAULT_SLICE_MS, flushPacer, nextTurn, Pacer, SliceAbortedError, TimeSlicer } from './schedule/time-slicer.js';
export { SlicedMergeSort, sortInSlices } from './schedule/sliced-sort.js';
export { CountingReporter, JsonpbObject, type JsonpbField, type JsonpbFieldCodes } from './config/jsonpb-object.js';
export type { ConfigPath } from './config/document.js';
export { camel as jsonName, describe as describeValue, isRecord } from './config/spec-reader.js';

/** The templates the core can build instances of. Only `metric` exists today. */
export type TemplateName = 'metric';

export interface DimensionSpec {
  readonly name: string;
  /** The inferred type of the dimension's expression: tells the adapter how to stringify it. */
  readonly type: ValueType;
}

/** What an adapter knows about an instance at build time (Mixer's metric.Type plus the FQN). */
export interface InstanceSpec {
  /** Fully-qualified name, `<name>.instance.<namespace>`: what adapter params refer to. */
  readonly name: string;
  readonly template: TemplateName;
  /** Inferred type of `value`; VALUE_TYPE_UNSPECIFIED when the instance has no value expression. */
  readonly valueType: ValueType;
  /** In the order written in the instance; `MetricInstance.dimensions` follows the same order. */
  readonly dimensions: readonly DimensionSpec[];
  readonly monitoredResourceDimensions: readonly DimensionSpec[];
}

/**
 * One built metric instance. Values are native (not stringified); their variant follows the
 * static type in `spec` (see AttributeValue). `null` stands for "no value expression".
 * A dimension of type INT64 may be a bigint (past 2^53 − 1, exact); `value` never is: an INT64
 * value arrives as the nearest double, since sinks take sample values as floats.
 */
export interface MetricInstance {
  readonly spec: InstanceSpec;
  readonly value: AttributeValue | null;
  /**
   * The exact INT64 value when it was a bigint (past 2^53 − 1) and `value` holds its rounding;
   * undefined otherwise. For sinks whose wire type is an integer (Circonus `l`/`L`, as cgm sends
   * Go int64/uint64), where the nearest double would be a different, even out-of-range, number.
   */
  readonly int64Value?: bigint | undefined;
  readonly dimensions: readonly AttributeValue[];
  readonly monitoredResourceType: string;
  readonly monitoredResourceDimensions: readonly AttributeValue[];
}

/**
 * Where adapters report configuration problems; the core turns paths into `file:line:col`, at the
 * value found there, or at its key when `focus` is `'key'` (the key itself is wrong: an unknown
 * field, a field given twice).
 */
export interface ConfigReporter {
  /** An error: the config is rejected. `path` is relative to the handler's `params`, e.g. `['metrics', 2, 'buckets']`. */
  issue(path: readonly (string | number)[], message: string, code?: ErrorCode, focus?: 'key'): void;
  /** Worth telling the operator, but the config still applies. */
  warn(path: readonly (string | number)[], message: string, code?: ErrorCode, focus?: 'key'): void;
}

export interface Clock {
  /** Milliseconds since the epoch. Tests inject a fake. */
  now(): number;
}

export type ExpositionFormat = 'prometheus-text-0.0.4' | 'openmetrics-1.0.0';

/** One metric family on a pull endpoint, rendered in chunks so the server can yield in between. */
export interface ExposedFamily {
  readonly name: string;
  chunks(format: ExpositionFormat): Iterable<string>;
  /**
   * The same text as UTF-8 bytes, for a source that renders bytes directly: the endpoint prefers
   * it, which saves building and encoding large strings. Must equal `chunks` byte for byte.
   */
  byteChunks?(format: ExpositionFormat): Iterable<Uint8Array>;
  /**
   * The endpoint hands back each chunk of `byteChunks` once it has been written out and nothing
   * refers to it any more, so the source may reuse its memory for a later chunk. A scrape of tens
   * of thousands of series is hundreds of megabytes; allocated afresh, each chunk is memory the
   * garbage collector must account for and reclaim in long pauses.
   */
  recycle?(chunk: Uint8Array): void;
}

export interface ExpositionSource {
  families(): Iterable<ExposedFamily>;
}

/**
 * The shared pull endpoint (the core serves it on --metrics-address). Several handlers may
 * register. A family exposed by several of them is rendered once, from the most recently
 * registered: handlers sharing a family expose the same one, and during a reload a rebuilt
 * handler's family replaces its predecessor's.
 */
export interface ExpositionRegistry {
  /** Registers or replaces `owner`'s source. */
  register(owner: string, source: ExpositionSource): void;
  /** Removes `owner`'s source if it is still `source` (a replacement is left alone). */
  unregister(owner: string, source: ExpositionSource): void;
}

/** Counters the core exports per handler as `telemux_handler_events_total{handler,event}`. */
export interface HandlerStats {
  count(event: string, n?: number): void;
}

export interface HandlerEnv {
  /** Handler FQN, e.g. `prometheus.handler.istio-system`. */
  readonly name: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly exposition: ExpositionRegistry;
  readonly stats: HandlerStats;
}

/** What went wrong in one handleMetrics call; absent when everything was recorded. */
export interface HandleResult {
  readonly failed: number;
  readonly message: string;
}

/**
 * The longest `flushIntervalMs` the core's ticker can keep: Node runs a timer of more than
 * 2^31 − 1 ms (596h31m23.647s) after 1 ms instead, which would flush on every millisecond.
 * Adapters reject longer intervals at config time.
 */
export const MAX_FLUSH_INTERVAL_MS = 2_147_483_647;

/**
 * Lifecycle: createHandler (no I/O) → start → handleMetrics / flush → close.
 * The core owns time: it calls `flush` from a per-handler ticker every `flushIntervalMs` (never
 * overlapping, with an abort signal when the flush overruns), and once more before `close` on
 * shutdown or replacement. Adapters never start timers of their own.
 */
export interface Handler {
  /** Absent: the handler has nothing to do periodically. */
  readonly flushIntervalMs?: number;
  /** Binds sockets or registers exposition sources. */
  start(): Promise<void>;
  /**
   * Synchronous and in memory only: it runs on the Report path. The core reuses the `batch` array
   * once the call returns: keep instances (they are immutable), never the array. A handler kept
   * across a reload is given the new config's InstanceSpec objects, equal in content to those it
   * was created with but not the same objects: know instances by `spec.name`, not by identity.
   */
  handleMetrics(batch: readonly MetricInstance[]): HandleResult | undefined;
  flush(signal: AbortSignal): Promise<void>;
  /** Releases resources. Idempotent; safe when start was never called. */
  close(): Promise<void>;
  /** Number of live series/aggregation keys held, for self-monitoring. */
  liveSeries?(): number;
}

/** One handler of an adapter whose params parsed, as `checkAcrossHandlers` sees it. */
export interface ParsedHandler<C> {
  /** Handler FQN, e.g. `prometheus.handler.istio-system`. */
  readonly name: string;
  readonly config: C;
}

/**
 * A config error about `handlers[handlerIndex]`; `path` is relative to that handler's `params`.
 * The core turns it into `file:line:col` in that handler's YAML and rejects the config.
 */
export type AcrossHandlersReporter = (handlerIndex: number, path: readonly (string | number)[], message: string, code?: ErrorCode) => void;

export interface Adapter<C> {
  /** The `compiledAdapter` name written in YAML. */
  readonly name: string;
  readonly templates: readonly TemplateName[];
  /** Validates params (plain data from YAML) against the bound instances, reporting every problem. */
  parseConfig(params: unknown, instances: readonly InstanceSpec[], report: ConfigReporter): C | undefined;
  /**
   * Checks what no single handler's params can show: handlers of one adapter that share a
   * process-wide resource (Mixer's one Prometheus registry) and disagree about it. Called once per
   * config with every handler of this adapter that parsed, in the order the handlers are written,
   * so "the later one" is stable and is what a report should point at.
   */
  checkAcrossHandlers?(handlers: readonly ParsedHandler<C>[], report: AcrossHandlersReporter): void;
  createHandler(config: C, instances: readonly InstanceSpec[], env: HandlerEnv): Handler;
}

/** Type-erased adapter, as held by the inventory. */
export type AnyAdapter = Adapter<unknown>;

export function defineAdapter<C>(adapter: Adapter<C>): AnyAdapter {
  return adapter as unknown as AnyAdapter;
}
