/**
 * Overload protection for the Report path: a LoadShedder that refuses Reports, cheaply and before
 * any decoding, while the process is past its limits (Mixer's load shedding answered
 * `UNAVAILABLE: Server is currently overloaded. Please try again.`), and ReportLimits, which
 * bound how much work one Report may ask for. Envoy does not retry Reports, so a fast refusal
 * costs one batch; queueing without bound costs the process, and with it every batch.
 */
import { status as Status } from '@grpc/grpc-js';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { RecordLimitError, RecordLimits } from '../attributes/decode.js';
import { MalformedError, WIRE_LEN, WireReader } from '../attributes/wire-reader.js';
import { RateLimitedLog, type Logger } from '../log.js';

/** Mixer's message, word for word: clients and runbooks grep for it. */
export const OVERLOADED_MESSAGE = 'Server is currently overloaded. Please try again.';

/** Why a Report was shed; also the `reason` label of the shed counter. */
export type ShedReason = 'event_loop_utilization' | 'event_loop_delay' | 'memory' | 'in_flight';


/** What the Report handler answers a shed Report with. */
export interface ShedRefusal {
  readonly code: Status.UNAVAILABLE;
  readonly details: typeof OVERLOADED_MESSAGE;
  readonly reason: ShedReason;
}

const REFUSALS: Readonly<Record<ShedReason, ShedRefusal>> = {
  event_loop_utilization: { code: Status.UNAVAILABLE, details: OVERLOADED_MESSAGE, reason: 'event_loop_utilization' },
  event_loop_delay: { code: Status.UNAVAILABLE, details: OVERLOADED_MESSAGE, reason: 'event_loop_delay' },
  memory: { code: Status.UNAVAILABLE, details: OVERLOADED_MESSAGE, reason: 'memory' },
  in_flight: { code: Status.UNAVAILABLE, details: OVERLOADED_MESSAGE, reason: 'in_flight' },
};

/** What the shedder measures; tests inject fakes. */
export interface LoadSignals {
  /** Mean event-loop delay in ms since the previous call, which starts a new window. */
  eventLoopDelayMs(): number;
  /** Share of the time since the previous call that the event loop was busy, from 0 to 1. */
  eventLoopUtilization(): number;
  /** Resident set size in bytes. */
  rssBytes(): number;
  start(): void;
  stop(): void;
}

/**
 * The process's own signals: `monitorEventLoopDelay` (sampled by libuv every `resolutionMs`, so
 * it costs the Report path nothing) and `process.memoryUsage.rss()` (one syscall, no heap walk).
 */
export function processLoadSignals(resolutionMs = 10): LoadSignals {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  let count = 0;
  let sumNs = 0;
  let elu = performance.eventLoopUtilization();
  return {
    eventLoopUtilization() {
      const now = performance.eventLoopUtilization();
      const window = performance.eventLoopUtilization(now, elu);
      elu = now;
      return window.utilization;
    },
    eventLoopDelayMs() {
      // Windows are differences of the cumulative count and mean: a reset() would make the
      // histogram drop its next sample, which after a stall is the one that shows it.
      const c = histogram.count;
      const sum = c === 0 ? 0 : histogram.mean * c;
      const n = c - count;
      const windowSum = sum - sumNs;
      count = c;
      sumNs = sum;
      // Each sample is how long its `resolutionMs` timer took to fire, so the delay is what
      // exceeds the resolution. No sample at all: the loop was blocked for the whole window.
      return n > 0 ? Math.max(0, windowSum / n / 1e6 - resolutionMs) : Number.NaN;
    },
    rssBytes: () => process.memoryUsage.rss(),
    start: () => {
      histogram.enable();
      elu = performance.eventLoopUtilization();
    },
    stop: () => histogram.disable(),
  };
}

export interface LoadShedderOptions {
  /**
   * Keep the event loop's utilization (the share of time it is busy) near this, from 0 to 1, by
   * admitting only part of the Reports while it is above. Undefined or 0: not a reason to shed.
   *
   * This is the signal that sees overload here: Reports queue in the kernel's socket buffers and
   * in HTTP/2 flow control, not in the event loop, whose turns stay short (one Report each), so
   * its delay barely moves while clients wait seconds. A loop busy all the time is the sign.
   */
  readonly maxEventLoopUtilization?: number;
  /**
   * Shed while the mean event-loop delay over a sample window is above this (ms); resume once it
   * falls below `resumeRatio` of it. Undefined or 0: not a reason to shed.
   */
  readonly maxEventLoopDelayMs?: number;
  /** The memory cap, in bytes (the container limit, or below it). Undefined: not a reason to shed. */
  readonly maxRssBytes?: number;
  /** Shed once RSS reaches this fraction of `maxRssBytes`. Default 0.9. */
  readonly memoryFraction?: number;
  /** Reports being processed at once; one more is shed. Undefined: no limit. */
  readonly maxInFlightReports?: number;
  /** Bytes of Reports being processed at once; a Report that would pass it is shed. Undefined: no limit. */
  readonly maxInFlightBytes?: number;
  /** How often the signals are sampled. Default 100 ms. */
  readonly sampleIntervalMs?: number;
  /** Hysteresis: a signal that triggered shedding must fall below this share of its limit. Default 0.8. */
  readonly resumeRatio?: number;
  readonly signals?: LoadSignals;
  readonly logger?: Logger;
  /** Milliseconds; for the log rate limit. Default Date.now. */
  readonly now?: () => number;
  /** Called for every shed Report, e.g. to count `telemux_reports_shed_total{reason}`. */
  readonly onShed?: (reason: ShedReason) => void;
}

export const LOAD_SHEDDER_DEFAULTS = {
  /** Never admit less than this share on utilization alone: some Reports always get through. */
  minAdmitRatio: 0.05,
  memoryFraction: 0.9,
  sampleIntervalMs: 100,
  resumeRatio: 0.8,
} as const;

/** What the shedder last measured and decided, for self-metrics and the admin API. */
export interface LoadState {
  /** The reason Reports are being shed now, if they are (in-flight limits are per call, not a state). */
  readonly shedding: ShedReason | undefined;
  /** Share of Reports admitted while the event loop is too busy (1 when it is not). */
  readonly admitRatio: number;
  readonly eventLoopUtilization: number;
  readonly eventLoopDelayMs: number;
  readonly rssBytes: number;
  readonly inFlightReports: number;
  readonly inFlightBytes: number;
  /** Reports shed since start, by reason. */
  readonly shed: Readonly<Record<ShedReason, number>>;
}

/**
 * Decides per Report, in a few comparisons, whether to refuse it. The signals are sampled on a
 * timer (unref'd: it never keeps the process alive), not per Report, so the decision on the hot
 * path reads a field; only the in-flight limits are checked per call.
 *
 * Usage on the Report path:
 * ```ts
 * const refusal = shedder.admit(bytes.length);
 * if (refusal) return cb({ code: refusal.code, details: refusal.details });
 * try { …decode, dispatch, answer… } finally { shedder.release(bytes.length); }
 * ```
 */
export class LoadShedder {
  private readonly maxDelayMs: number;
  private readonly maxUtilization: number;
  private readonly memoryLimit: number;
  private readonly resumeRatio: number;
  private readonly maxInFlight: number;
  private readonly maxInFlightBytes: number;
  private readonly sampleIntervalMs: number;
  private readonly signals: LoadSignals;
  private readonly log: RateLimitedLog | undefined;
  private readonly onShed: ((reason: ShedReason) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  private sheddingFor: ShedReason | undefined;
  private delayHigh = false;
  private memoryHigh = false;
  private lastDelayMs = 0;
  private lastUtilization = 0;
  /** Share of Reports admitted on utilization, and the credit that spreads admissions evenly. */
  private admitRatio = 1;
  private credit = 0;
  private lastRss = 0;
  private inFlight = 0;
  private inFlightBytes = 0;
  private readonly shedCounts: Record<ShedReason, number> = { event_loop_utilization: 0, event_loop_delay: 0, memory: 0, in_flight: 0 };

  constructor(private readonly options: LoadShedderOptions = {}) {
    this.maxDelayMs = positiveOr(options.maxEventLoopDelayMs, Number.POSITIVE_INFINITY);
    this.maxUtilization = positiveOr(options.maxEventLoopUtilization, Number.POSITIVE_INFINITY);
    if (this.maxUtilization !== Number.POSITIVE_INFINITY && this.maxUtilization > 1) {
      throw new RangeError(`maxEventLoopUtilization must be in (0, 1], got ${this.maxUtilization}`);
    }
    const fraction = options.memoryFraction ?? LOAD_SHEDDER_DEFAULTS.memoryFraction;
    if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`memoryFraction must be in (0, 1], got ${fraction}`);
    this.memoryLimit = positiveOr(options.maxRssBytes, Number.POSITIVE_INFINITY) * fraction;
    this.resumeRatio = options.resumeRatio ?? LOAD_SHEDDER_DEFAULTS.resumeRatio;
    if (!(this.resumeRatio > 0 && this.resumeRatio <= 1)) throw new RangeError(`resumeRatio must be in (0, 1], got ${this.resumeRatio}`);
    this.maxInFlight = positiveOr(options.maxInFlightReports, Number.POSITIVE_INFINITY);
    this.maxInFlightBytes = positiveOr(options.maxInFlightBytes, Number.POSITIVE_INFINITY);
    this.sampleIntervalMs = positiveOr(options.sampleIntervalMs, LOAD_SHEDDER_DEFAULTS.sampleIntervalMs);
    this.signals = options.signals ?? processLoadSignals();
    this.log = options.logger === undefined ? undefined : new RateLimitedLog(options.logger, 10_000, options.now ?? Date.now);
    this.onShed = options.onShed;
  }

  /** Whether any limit is configured; without one the shedder never refuses and need not run. */
  get enabled(): boolean {
    return (
      Number.isFinite(this.maxUtilization) ||
      Number.isFinite(this.maxDelayMs) ||
      Number.isFinite(this.memoryLimit) ||
      Number.isFinite(this.maxInFlight) ||
      Number.isFinite(this.maxInFlightBytes)
    );
  }

  /** Starts sampling. Idempotent. */
  start(): void {
    if (this.timer !== undefined || !this.enabled) return;
    this.signals.start();
    this.timer = setInterval(() => this.sample(), this.sampleIntervalMs);
    this.timer.unref();
  }

  /** Stops sampling; Reports are admitted from then on (in-flight limits still apply). Idempotent. */
  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.signals.stop();
    this.sheddingFor = undefined;
    this.delayHigh = false;
    this.memoryHigh = false;
    this.admitRatio = 1;
  }

  /**
   * Reads the signals and updates the shedding state. Runs on the timer; public so that tests
   * (and a caller with its own schedule) can drive it.
   */
  sample(): void {
    const delay = this.signals.eventLoopDelayMs();
    // A window with no sample at all means the loop was blocked throughout: as bad as it gets.
    this.lastDelayMs = Number.isNaN(delay) ? this.sampleIntervalMs : delay;
    this.lastRss = this.signals.rssBytes();
    this.lastUtilization = this.signals.eventLoopUtilization();
    this.adjustAdmitRatio();
    this.delayHigh = this.delayHigh ? this.lastDelayMs >= this.maxDelayMs * this.resumeRatio : this.lastDelayMs > this.maxDelayMs;
    this.memoryHigh = this.memoryHigh ? this.lastRss >= this.memoryLimit * this.resumeRatio : this.lastRss >= this.memoryLimit;
    // Memory first: it is the one that ends with the process killed.
    const next: ShedReason | undefined = this.memoryHigh ? 'memory' : this.delayHigh ? 'event_loop_delay' : undefined;
    if (next === this.sheddingFor) return;
    const was = this.sheddingFor;
    this.sheddingFor = next;
    if (next !== undefined) {
      this.log?.warn('overloaded: refusing Reports with UNAVAILABLE until load drops', {
        reason: next,
        event_loop_delay_ms: round(this.lastDelayMs),
        max_event_loop_delay_ms: finiteOrUndefined(this.maxDelayMs),
        rss_bytes: this.lastRss,
        rss_limit_bytes: finiteOrUndefined(Math.round(this.memoryLimit)),
      });
    } else {
      this.options.logger?.info('load back under the limits; accepting Reports again', {
        was,
        event_loop_delay_ms: round(this.lastDelayMs),
        rss_bytes: this.lastRss,
        shed_total: this.shedCounts.event_loop_utilization + this.shedCounts.event_loop_delay + this.shedCounts.memory + this.shedCounts.in_flight,
      });
    }
  }

  /**
   * A controller, not a switch: while the loop is busier than the target the admitted share
   * shrinks by a fifth per sample, and once it is clearly below, grows back by a twentieth. A
   * switch would alternate between a saturated loop and an idle one and deliver about half the
   * capacity; the controller settles where the loop is just under the target, so queues drain,
   * accepted Reports are answered quickly, and the excess is refused at the cost of a refusal.
   */
  private adjustAdmitRatio(): void {
    const target = this.maxUtilization;
    if (!Number.isFinite(target)) return;
    const before = this.admitRatio;
    if (this.lastUtilization > target) this.admitRatio = Math.max(LOAD_SHEDDER_DEFAULTS.minAdmitRatio, this.admitRatio * 0.8);
    else if (this.lastUtilization < target - 0.1) this.admitRatio = Math.min(1, this.admitRatio + 0.05);
    if (before === 1 && this.admitRatio < 1) {
      this.log?.warn('overloaded: refusing part of the Reports with UNAVAILABLE until load drops', {
        reason: 'event_loop_utilization',
        event_loop_utilization: round(this.lastUtilization),
        max_event_loop_utilization: target,
      });
    } else if (before < 1 && this.admitRatio === 1) {
      this.options.logger?.info('event loop back under its utilization target; accepting every Report', {
        event_loop_utilization: round(this.lastUtilization),
        shed_total: this.shedCounts.event_loop_utilization,
      });
    }
  }

  /**
   * Admits a Report of `bytes`, or says why not. An admitted Report must be `release`d with the
   * same size once answered.
   */
  admit(bytes: number): ShedRefusal | undefined {
    const state = this.sheddingFor;
    if (state !== undefined) return this.shed(state);
    if (this.admitRatio < 1) {
      // Deterministic thinning: every Report adds the ratio, and one is admitted per whole unit.
      this.credit += this.admitRatio;
      if (this.credit < 1) return this.shed('event_loop_utilization');
      this.credit -= 1;
    }
    // A Report larger than the whole byte budget is still admitted when nothing else is in
    // flight, or it could never get in.
    const overBytes = this.inFlight > 0 && this.inFlightBytes + bytes > this.maxInFlightBytes;
    if (overBytes || this.inFlight >= this.maxInFlight) return this.shed('in_flight');
    this.inFlight++;
    this.inFlightBytes += bytes;
    return undefined;
  }

  release(bytes: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.inFlightBytes = Math.max(0, this.inFlightBytes - bytes);
  }

  get state(): LoadState {
    return {
      shedding: this.sheddingFor ?? (this.admitRatio < 1 ? 'event_loop_utilization' : undefined),
      admitRatio: this.admitRatio,
      eventLoopUtilization: this.lastUtilization,
      eventLoopDelayMs: this.lastDelayMs,
      rssBytes: this.lastRss,
      inFlightReports: this.inFlight,
      inFlightBytes: this.inFlightBytes,
      shed: { ...this.shedCounts },
    };
  }

  private shed(reason: ShedReason): ShedRefusal {
    this.shedCounts[reason]++;
    this.onShed?.(reason);
    return REFUSALS[reason];
  }
}

function positiveOr(v: number | undefined, fallback: number): number {
  return v === undefined || !(v > 0) ? fallback : v;
}

function finiteOrUndefined(v: number): number | undefined {
  return Number.isFinite(v) ? v : undefined;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

// ---------------------------------------------------------------------------------------------
// Limits on one Report

/** Stable codes of a Report refused for its size or shape. */
export const REPORT_LIMIT_CODES = {
  tooLarge: 'REPORT_TOO_LARGE',
  tooManySets: 'REPORT_TOO_MANY_SETS',
  tooManyAttributes: 'REPORT_TOO_MANY_ATTRIBUTES',
  stringTooLong: 'REPORT_STRING_TOO_LONG',
} as const;

export type ReportLimitCode = (typeof REPORT_LIMIT_CODES)[keyof typeof REPORT_LIMIT_CODES];

export interface ReportLimitsOptions {
  /** Bytes of one serialized Report. Default 1 MiB, Mixer's gRPC limit. */
  readonly maxMessageBytes?: number;
  /** Attribute sets (reported requests) in one Report. Default 1000. */
  readonly maxSetsPerReport?: number;
  /** Attributes in one set. Default 512. */
  readonly maxAttributesPerSet?: number;
  /** Bytes of one word (string attribute values and names travel as words) or bytes value. Default 64 KiB. */
  readonly maxStringBytes?: number;
}

/**
 * Defaults, generous for real traffic: Envoy batches at most 100 sets (1000 is ten times that); an
 * Istio 1.4 sidecar sends about 40 attributes per set (512 leaves room for custom ones); the
 * longest real values are paths and user agents, well under 64 KiB.
 */
export const REPORT_LIMIT_DEFAULTS = {
  maxMessageBytes: 1024 * 1024,
  maxSetsPerReport: 1000,
  maxAttributesPerSet: 512,
  maxStringBytes: 64 * 1024,
} as const satisfies Required<ReportLimitsOptions>;

/** What one scan of a Report found. */
export interface ReportShape {
  readonly sets: number;
  readonly violation: LimitViolation | undefined;
}

/** A Report over a limit, ready to be answered. */
export interface LimitViolation {
  readonly code: ReportLimitCode;
  /**
   * RESOURCE_EXHAUSTED for the Report's overall size (message bytes, sets), as gRPC answers an
   * oversized message; INVALID_ARGUMENT for one record's shape (attributes, string length),
   * as for a record that does not decode. Either way, nothing of the Report is recorded.
   */
  readonly grpcCode: Status.RESOURCE_EXHAUSTED | Status.INVALID_ARGUMENT;
  /** Index of the offending attribute set, if the violation is in one. */
  readonly record: number | undefined;
  readonly limit: number;
  readonly found: number;
  /** E.g. `attributes[3]: 600 attributes; at most 512 per attribute set`. */
  readonly message: string;
  /** `message [code]`: the gRPC status details, in the form decode errors use. */
  readonly details: string;
}

// Field numbers of ReportRequest and CompressedAttributes.
const REPORT_ATTRIBUTES = 1;
const REPORT_DEFAULT_WORDS = 2;

/**
 * Bounds one Report: message size, sets, attributes per set, string length. `scan` checks the
 * envelope (message size, number of sets, default_words) on the raw `ReportRequest` bytes, reading
 * one tag per set, so an oversized Report is turned away before it costs anything and the rate
 * limit learns the set count before decoding. The per-set bounds are enforced by the decoder as it
 * reads each set (the limits are its `RecordLimits`), which saves a second pass over every byte;
 * `violationOf` words what it finds. Bytes `scan` cannot parse pass: the decoder then reports them
 * as malformed, with its own precise message.
 */
export class ReportLimits implements RecordLimits {
  readonly maxMessageBytes: number;
  readonly maxSetsPerReport: number;
  readonly maxAttributesPerSet: number;
  readonly maxStringBytes: number;
  // Reused across Reports: the Report path is synchronous, one scan at a time.
  private readonly top = new WireReader(new Uint8Array(0));

  constructor(options: ReportLimitsOptions = {}) {
    this.maxMessageBytes = limit('maxMessageBytes', options.maxMessageBytes, REPORT_LIMIT_DEFAULTS.maxMessageBytes);
    this.maxSetsPerReport = limit('maxSetsPerReport', options.maxSetsPerReport, REPORT_LIMIT_DEFAULTS.maxSetsPerReport);
    this.maxAttributesPerSet = limit('maxAttributesPerSet', options.maxAttributesPerSet, REPORT_LIMIT_DEFAULTS.maxAttributesPerSet);
    this.maxStringBytes = limit('maxStringBytes', options.maxStringBytes, REPORT_LIMIT_DEFAULTS.maxStringBytes);
  }

  /** The first envelope limit `bytes` (a serialized `istio.mixer.v1.ReportRequest`) passes, if any. */
  check(bytes: Uint8Array): LimitViolation | undefined {
    return this.scan(bytes).violation;
  }

  /**
   * Scans a Report's envelope once: the first limit it passes, and how many attribute sets it
   * carries. Bytes it cannot parse pass, with the sets counted so far.
   */
  scan(bytes: Uint8Array): ReportShape {
    if (bytes.length > this.maxMessageBytes) {
      return { sets: 0, violation: violation(REPORT_LIMIT_CODES.tooLarge, undefined, this.maxMessageBytes, bytes.length, `Report is ${bytes.length} bytes; at most ${this.maxMessageBytes} are accepted`) };
    }
    const r = this.top;
    r.reset(bytes);
    let sets = 0;
    let defaultWord = 0;
    try {
      while (r.pos < r.end) {
        const tag = r.uint32();
        const field = tag >>> 3;
        const wire = tag & 7;
        if (field === REPORT_ATTRIBUTES && wire === WIRE_LEN) {
          r.pos = r.delimited();
          sets++;
        } else if (field === REPORT_DEFAULT_WORDS && wire === WIRE_LEN) {
          const end = r.delimited();
          const len = end - r.pos;
          if (len > this.maxStringBytes) return { sets, violation: this.longString(undefined, `default_words[${defaultWord}]`, len) };
          r.pos = end;
          defaultWord++;
        } else {
          r.skip(wire);
        }
      }
    } catch (e) {
      if (!(e instanceof MalformedError)) throw e;
    }
    return { sets, violation: this.checkSets(sets) };
  }

  /** The answer to a set the decoder found past one of these limits. */
  violationOf(e: RecordLimitError): LimitViolation {
    const record = e.record ?? 0;
    return e.limit === 'attributes' ? this.tooManyAttributes(record, e.found) : this.longString(record, e.what, e.found);
  }

  /** For a caller that counts sets itself. */
  checkSets(sets: number): LimitViolation | undefined {
    if (sets <= this.maxSetsPerReport) return undefined;
    return violation(REPORT_LIMIT_CODES.tooManySets, undefined, this.maxSetsPerReport, sets, `Report has ${sets} attribute sets; at most ${this.maxSetsPerReport} are accepted per Report`);
  }

  private tooManyAttributes(record: number, attributes: number): LimitViolation {
    return violation(
      REPORT_LIMIT_CODES.tooManyAttributes,
      record,
      this.maxAttributesPerSet,
      attributes,
      `attributes[${record}]: ${attributes} attributes; at most ${this.maxAttributesPerSet} are accepted per attribute set`,
    );
  }

  private longString(record: number | undefined, what: string, bytes: number): LimitViolation {
    const where = record === undefined ? what : `attributes[${record}]: ${what}`;
    return violation(REPORT_LIMIT_CODES.stringTooLong, record, this.maxStringBytes, bytes, `${where} is ${bytes} bytes; at most ${this.maxStringBytes} are accepted`);
  }
}

function limit(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive whole number, got ${v}`);
  return v;
}

function violation(code: ReportLimitCode, record: number | undefined, limitValue: number, found: number, message: string): LimitViolation {
  const grpcCode = code === REPORT_LIMIT_CODES.tooLarge || code === REPORT_LIMIT_CODES.tooManySets ? Status.RESOURCE_EXHAUSTED : Status.INVALID_ARGUMENT;
  return { code, grpcCode, record, limit: limitValue, found, message, details: `${message} [${code}]` };
}

// ---------------------------------------------------------------------------------------------
// Flag values

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB|Ki|Mi|Gi|K|M|G)?$/;
const UNIT: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
};

/**
 * A byte size as operators write it for flags such as `--max-rss`: `512MiB`, `1Gi` (Kubernetes
 * style), `1.5GB`, `1048576`. Undefined when it is not one.
 */
export function parseByteSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (m === null) return undefined;
  const n = Number(m[1]) * (UNIT[m[2] ?? 'B'] ?? 1);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : undefined;
}
