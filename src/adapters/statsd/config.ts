/**
 * `adapter.statsd.config.Params`, read the way Mixer read it (jsonpb onto a clone of the defaults:
 * snake_case or lowerCamelCase, unknown fields rejected), then checked against the instances bound
 * to the handler. Every problem is reported; nothing is fixed up silently.
 */
import type { ConfigReporter, DimensionSpec, ErrorCode, InstanceSpec, JsonpbFieldCodes } from '../../core/adapter.js';
import { CountingReporter, describeValue as describe, isRecord, JsonpbObject, MAX_FLUSH_INTERVAL_MS, parseGoDuration, ValueType } from '../../core/adapter.js';
import { formatGoDuration } from '../../core/format/index.js';
import { checkNameTemplate, parseNameTemplate, type NameTemplatePart } from './name-template.js';
import { MAX_UDP_PAYLOAD } from './packer.js';
import { describeChar, findIllegalStatNameChar } from './sanitize.js';

/** `adapter.statsd.config.Params.MetricInfo.Type`, same numbers as the proto. */
export enum StatsdMetricType {
  UNKNOWN = 0,
  COUNTER = 1,
  GAUGE = 2,
  DISTRIBUTION = 3,
}

export interface StatsdAddress {
  /** Host name or IP literal (without brackets). */
  readonly host: string;
  readonly port: number;
}

export interface StatsdMetricConfig {
  /** The instance FQN this entry is keyed by. */
  readonly instance: string;
  readonly type: StatsdMetricType;
  /** As written; `''` names the stat after the instance. */
  readonly nameTemplate: string;
  readonly parts: readonly NameTemplatePart[];
  /** Distinct stat names this metric may hold per flush interval; more go to its overflow stat. */
  readonly maxSeries: number;
}

export interface StatsdConfig {
  readonly address: StatsdAddress;
  readonly prefix: string;
  readonly flushIntervalMs: number;
  readonly flushBytes: number;
  readonly samplingRate: number;
  /** Distinct stat names the handler may hold per flush interval, all metrics together. */
  readonly maxSeries: number;
  /** Lines a failed or unconfirmed send may carry into later flushes; 0 drops them at once. */
  readonly maxPendingLines: number;
  /** Entries whose key names a bound instance. */
  readonly metrics: readonly StatsdMetricConfig[];
}

/**
 * Mixer's defaults, except `flushBytes`. Mixer's 512 fits the smallest IPv4 path but takes about
 * three times the packets; 1400 fits one unfragmented datagram on 1500-byte Ethernet over IPv4 or
 * IPv6 and on VXLAN/Geneve overlay pod networks (MTU 1450: 1422 bytes of IPv4 payload), where the
 * more common 1432 would be fragmented.
 */
export const STATSD_DEFAULTS = {
  address: 'localhost:8125',
  prefix: '',
  flushDuration: '300ms',
  flushBytes: 1400,
  samplingRate: 1,
  /**
   * Cardinality guards, per flush interval. 20,000 names is well past a large mesh's
   * `requests.<service>.<code>` set yet keeps the aggregation maps to a few MiB; one metric may
   * take half of it, so a runaway template cannot push every other metric into overflow.
   */
  maxSeries: 20_000,
  maxSeriesPerMetric: 10_000,
  /**
   * About 100 seconds of a 1,000-request/s mesh's latency samples (plus every counter series,
   * which merge instead of growing): a server restart or a short outage loses nothing, and the
   * worst case stays near 10 MiB.
   */
  maxPendingLines: 100_000,
} as const;

/** Upper bounds for the limits above: beyond them a single handler could exhaust the heap. */
export const MAX_SERIES_LIMIT = 10_000_000;
export const MAX_PENDING_LINES_LIMIT = 10_000_000;

/** Rates below this cannot be written exactly enough for the server to scale counts back. */
export const MIN_SAMPLING_RATE = 1e-6;

/** Stable codes for problems only this adapter finds. */
export const STATSD_TEMPLATE_SYNTAX: ErrorCode = 'STATSD_TEMPLATE_SYNTAX';
export const STATSD_TEMPLATE_UNKNOWN_DIMENSION: ErrorCode = 'STATSD_TEMPLATE_UNKNOWN_DIMENSION';
export const STATSD_ILLEGAL_NAME_TEXT: ErrorCode = 'STATSD_ILLEGAL_NAME_TEXT';
/** Warnings: the config still applies. */
export const STATSD_UNBOUND_METRIC: ErrorCode = 'STATSD_UNBOUND_METRIC';
export const STATSD_UNCONFIGURED_INSTANCE: ErrorCode = 'STATSD_UNCONFIGURED_INSTANCE';


const PARAMS_FIELDS = [
  'address',
  'prefix',
  'flush_duration',
  'flush_bytes',
  'sampling_rate',
  'metrics',
  'max_series',
  'max_series_per_metric',
  'max_pending_lines',
] as const;
const METRIC_FIELDS = ['type', 'name_template', 'max_series'] as const;
const JSONPB_CODES: JsonpbFieldCodes = { unknownField: 'CFG_UNKNOWN_FIELD', duplicateField: 'CFG_DUPLICATE', field: 'CFG_FIELD' };

/** Go's `net.SplitHostPort` plus a numeric port; `''` as host means this machine, as in Go. */
export function parseStatsdAddress(text: string): StatsdAddress | string {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) return `missing "]" in address ${JSON.stringify(text)}`;
    host = text.slice(1, end);
    if (text[end + 1] !== ':') return `missing port in address ${JSON.stringify(text)}`;
    portText = text.slice(end + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return `missing port in address ${JSON.stringify(text)} (expected host:port, e.g. localhost:8125)`;
    host = text.slice(0, colon);
    if (host.includes(':')) return `too many colons in address ${JSON.stringify(text)} (write an IPv6 address as [addr]:port)`;
    portText = text.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65_535) {
    return `port in address ${JSON.stringify(text)} must be a number from 1 to 65535`;
  }
  return { host: host === '' ? 'localhost' : host, port: Number(portText) };
}

function readString(r: JsonpbObject, field: string, fallback: string): string {
  const v = r.value(field);
  if (v === undefined) return fallback;
  if (typeof v !== 'string') {
    r.issue(field, `"${r.keyOf(field)}" must be a string, got ${describe(v)}`);
    return fallback;
  }
  return v;
}

/** jsonpb reads numbers from JSON numbers or from strings holding one. */
function readNumber(r: JsonpbObject, field: string): number | undefined {
  const v = r.value(field);
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) {
    r.issue(field, `"${r.keyOf(field)}" must be a number, got ${describe(v)}`);
    return undefined;
  }
  return n;
}

function readFlushIntervalMs(r: JsonpbObject): number {
  const fallback = nanosToMs(parseDurationOrThrow(STATSD_DEFAULTS.flushDuration));
  const v = r.value('flush_duration');
  if (v === undefined) return fallback;
  if (typeof v !== 'string') {
    r.issue('flush_duration', `"${r.keyOf('flush_duration')}" must be a Go duration string such as "300ms" or "1s", got ${describe(v)}`);
    return fallback;
  }
  const d = parseGoDuration(v);
  if (!d.ok) {
    r.issue('flush_duration', `"${r.keyOf('flush_duration')}": ${d.message} (expected e.g. "300ms" or "1s")`);
    return fallback;
  }
  if (d.nanos < 0) {
    r.issue('flush_duration', `"${r.keyOf('flush_duration')}" must not be negative, got ${JSON.stringify(v)}`);
    return fallback;
  }
  // 0 is proto3's "unset" after the merge; Mixer's client then used its own default.
  if (d.nanos === 0) return fallback;
  const ms = nanosToMs(d.nanos);
  if (ms > MAX_FLUSH_INTERVAL_MS) {
    r.issue(
      'flush_duration',
      `"${r.keyOf('flush_duration')}" must be at most ${formatGoDuration(MAX_FLUSH_INTERVAL_MS * 1e6)} (the longest timer Node.js keeps), got ${JSON.stringify(v)}`,
    );
    return fallback;
  }
  return ms;
}

function parseDurationOrThrow(text: string): number {
  const d = parseGoDuration(text);
  if (!d.ok) throw new Error(d.message);
  return d.nanos;
}

/** The core's ticker works in whole milliseconds; anything shorter becomes 1 ms. */
function nanosToMs(nanos: number): number {
  return Math.max(1, Math.round(nanos / 1e6));
}

function readFlushBytes(r: JsonpbObject): number {
  const n = readNumber(r, 'flush_bytes');
  if (n === undefined) return STATSD_DEFAULTS.flushBytes;
  if (!Number.isInteger(n)) {
    r.issue('flush_bytes', `"${r.keyOf('flush_bytes')}" must be a whole number of bytes, got ${n}`);
    return STATSD_DEFAULTS.flushBytes;
  }
  if (n < 0) {
    r.issue('flush_bytes', `"${r.keyOf('flush_bytes')}" must not be negative, got ${n}`);
    return STATSD_DEFAULTS.flushBytes;
  }
  if (n > MAX_UDP_PAYLOAD) {
    r.issue('flush_bytes', `"${r.keyOf('flush_bytes')}" ${n} exceeds the largest UDP payload (${MAX_UDP_PAYLOAD} bytes)`);
    return STATSD_DEFAULTS.flushBytes;
  }
  // Mixer's Build forced a non-positive value back to the default; 0 is also proto3's "unset".
  return n === 0 ? STATSD_DEFAULTS.flushBytes : n;
}

/** A whole number within [min, max]; jsonpb also reads it from a string holding one. */
function readCount(r: JsonpbObject, field: string, min: number, max: number, fallback: number): number {
  const n = readNumber(r, field);
  if (n === undefined) return fallback;
  if (!Number.isInteger(n) || n < min || n > max) {
    r.issue(field, `"${r.keyOf(field)}" must be a whole number from ${min} to ${max}, got ${n}`);
    return fallback;
  }
  return n;
}

function readSamplingRate(r: JsonpbObject): number {
  const n = readNumber(r, 'sampling_rate');
  if (n === undefined) return STATSD_DEFAULTS.samplingRate;
  if (n < MIN_SAMPLING_RATE || n > 1) {
    const why =
      n === 0 ? '; 0 would drop every timer sample (leave it out for the default 1)' : n > 1 ? '; it is a fraction, e.g. 0.1 for 10%' : '';
    r.issue('sampling_rate', `"${r.keyOf('sampling_rate')}" must be between ${MIN_SAMPLING_RATE} and 1, got ${n}${why}`);
    return STATSD_DEFAULTS.samplingRate;
  }
  return n;
}

type SendableType = Exclude<StatsdMetricType, StatsdMetricType.UNKNOWN>;

function readMetricType(r: JsonpbObject): SendableType | undefined {
  const v = r.value('type');
  const names = 'COUNTER, GAUGE or DISTRIBUTION';
  if (v === undefined) {
    r.issue('type', `missing "type": one of ${names}`);
    return undefined;
  }
  let t: StatsdMetricType | undefined;
  if (typeof v === 'string') {
    const byName = (StatsdMetricType as unknown as Record<string, number | undefined>)[v];
    t = typeof byName === 'number' ? byName : undefined;
  } else if (typeof v === 'number' && Number.isInteger(v) && StatsdMetricType[v] !== undefined) {
    t = v;
  }
  if (t === undefined) {
    r.issue('type', `"type" must be one of ${names}, got ${describe(v)}`);
    return undefined;
  }
  if (t === StatsdMetricType.UNKNOWN) {
    r.issue('type', `"type" UNKNOWN cannot be sent; use ${names}`);
    return undefined;
  }
  return t;
}

/**
 * Which value types each kind accepts. Mixer took only INT64 for counters and gauges and failed
 * every report otherwise; a DOUBLE is just as meaningful to StatsD, so it is accepted. A mismatch
 * is found here, at config time, rather than as a failure on every report.
 */
const ACCEPTED: Readonly<Record<SendableType, readonly ValueType[]>> = {
  [StatsdMetricType.COUNTER]: [ValueType.INT64, ValueType.DOUBLE],
  [StatsdMetricType.GAUGE]: [ValueType.INT64, ValueType.DOUBLE],
  [StatsdMetricType.DISTRIBUTION]: [ValueType.DURATION, ValueType.INT64, ValueType.DOUBLE],
};

function checkValueType(r: JsonpbObject, type: SendableType, spec: InstanceSpec): void {
  const accepted = ACCEPTED[type];
  if (accepted.includes(spec.valueType)) return;
  const found =
    spec.valueType === ValueType.VALUE_TYPE_UNSPECIFIED ? 'no value expression' : `a ${ValueType[spec.valueType]} value`;
  const hint = spec.valueType === ValueType.DURATION ? ' (send durations as DISTRIBUTION: timers in milliseconds)' : '';
  r.issue(
    'type',
    `${StatsdMetricType[type]} needs ${accepted.map((t) => ValueType[t]).join(' or ')}, but instance ${spec.name} has ${found}${hint}`,
    'CFG_VALUE_TYPE',
  );
}

function readNameTemplate(r: JsonpbObject, dimensions: readonly DimensionSpec[]): [string, NameTemplatePart[]] | undefined {
  const text = readString(r, 'name_template', '');
  const parsed = parseNameTemplate(text);
  if (!parsed.ok) {
    r.issue('name_template', `column ${parsed.problem.column} of "${r.keyOf('name_template')}": ${parsed.problem.message}`, STATSD_TEMPLATE_SYNTAX);
    return undefined;
  }
  const problems = checkNameTemplate(parsed.parts, dimensions);
  for (const p of problems) {
    const code = p.kind === 'unknown-dimension' ? STATSD_TEMPLATE_UNKNOWN_DIMENSION : STATSD_ILLEGAL_NAME_TEXT;
    r.issue('name_template', `column ${p.column} of "${r.keyOf('name_template')}": ${p.message}`, code);
  }
  return problems.length === 0 ? [text, [...parsed.parts]] : undefined;
}

/**
 * Validates `params` against the instances bound to the handler. Returns undefined when any
 * problem was reported (each one through `report`, with its path).
 */
export function parseStatsdConfig(
  params: unknown,
  instances: readonly InstanceSpec[],
  report: ConfigReporter,
): StatsdConfig | undefined {
  const reporter = new CountingReporter(report);
  const raw = params === undefined || params === null ? {} : params;
  if (!isRecord(raw)) {
    reporter.issue([], `statsd params must be a map, got ${describe(raw)}`, 'CFG_FIELD');
    return undefined;
  }
  const r = new JsonpbObject(raw, [], PARAMS_FIELDS, 'statsd params', JSONPB_CODES, reporter);

  const addressText = readString(r, 'address', STATSD_DEFAULTS.address);
  const address = parseStatsdAddress(addressText);
  if (typeof address === 'string') r.issue('address', address);

  const prefix = readString(r, 'prefix', STATSD_DEFAULTS.prefix);
  const badPrefix = findIllegalStatNameChar(prefix);
  if (badPrefix >= 0) {
    r.issue(
      'prefix',
      `"prefix" contains ${describeChar(prefix[badPrefix] as string)} at column ${badPrefix + 1}, which StatsD cannot carry in a name`,
      STATSD_ILLEGAL_NAME_TEXT,
    );
  }

  const flushIntervalMs = readFlushIntervalMs(r);
  const flushBytes = readFlushBytes(r);
  const samplingRate = readSamplingRate(r);
  const maxSeries = readCount(r, 'max_series', 1, MAX_SERIES_LIMIT, STATSD_DEFAULTS.maxSeries);
  const maxSeriesPerMetric = readCount(r, 'max_series_per_metric', 1, MAX_SERIES_LIMIT, STATSD_DEFAULTS.maxSeriesPerMetric);
  const maxPendingLines = readCount(r, 'max_pending_lines', 0, MAX_PENDING_LINES_LIMIT, STATSD_DEFAULTS.maxPendingLines);

  const byName = new Map(instances.map((i) => [i.name, i] as const));
  const metrics: StatsdMetricConfig[] = [];
  const metricsRaw = r.value('metrics');
  if (metricsRaw !== undefined && !isRecord(metricsRaw)) {
    r.issue('metrics', `"metrics" must be a map keyed by instance name, got ${describe(metricsRaw)}`);
  } else if (metricsRaw !== undefined) {
    for (const [key, entry] of Object.entries(metricsRaw)) {
      const path = [...r.pathOf('metrics'), key];
      if (!isRecord(entry)) {
        reporter.issue(path, `metric "${key}" must be a map with "type" and "nameTemplate", got ${describe(entry)}`, 'CFG_FIELD');
        continue;
      }
      const m = new JsonpbObject(entry, path, METRIC_FIELDS, `metric "${key}"`, JSONPB_CODES, reporter);
      const type = readMetricType(m);
      const spec = byName.get(key);
      if (spec === undefined) {
        // Mixer logged and skipped such keys: a shared handler may list instances other rules
        // bind. Still checked for shape, so a typo'd key does not hide a broken entry.
        readString(m, 'name_template', '');
        readCount(m, 'max_series', 1, MAX_SERIES_LIMIT, maxSeriesPerMetric);
        reporter.warn(path, `no instance named "${key}" is bound to this handler; entry skipped`, STATSD_UNBOUND_METRIC, 'key');
        continue;
      }
      if (type !== undefined) checkValueType(m, type, spec);
      const template = readNameTemplate(m, spec.dimensions);
      const metricMaxSeries = readCount(m, 'max_series', 1, MAX_SERIES_LIMIT, maxSeriesPerMetric);
      if (type === undefined || template === undefined) continue;
      metrics.push({ instance: key, type, nameTemplate: template[0], parts: template[1], maxSeries: metricMaxSeries });
    }
  }

  const configured = new Set(metrics.map((m) => m.instance));
  const metricsKeys = new Set(isRecord(metricsRaw) ? Object.keys(metricsRaw) : []);
  for (const spec of instances) {
    // A key that is present but broken has had its own issue reported already.
    if (configured.has(spec.name) || metricsKeys.has(spec.name)) continue;
    reporter.warn(
      r.pathOf('metrics'),
      `instance ${spec.name} is bound to this handler but has no entry in "metrics"; its instances will be dropped`,
      STATSD_UNCONFIGURED_INSTANCE,
    );
  }

  if (reporter.failed || typeof address === 'string') return undefined;
  return { address, prefix, flushIntervalMs, flushBytes, samplingRate, maxSeries, maxPendingLines, metrics };
}
