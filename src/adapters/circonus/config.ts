/**
 * `adapter.circonus.config.Params` (Mixer 1.4: submission_url, submission_interval, metrics) plus
 * the knobs a production submitter needs, read the way Mixer read params (jsonpb: snake_case or
 * lowerCamelCase, unknown fields rejected) and checked with Mixer's Validate rules and ours.
 * Every problem is reported with the path of the key the operator wrote; nothing is fixed up
 * silently.
 */
import {
  CountingReporter,
  describeValue as describe,
  isRecord,
  JsonpbObject,
  MAX_FLUSH_INTERVAL_MS,
  ValueType,
  type ConfigPath,
  type ConfigReporter,
  type ErrorCode,
  type InstanceSpec,
  type JsonpbFieldCodes,
} from '../../core/adapter.js';
import { parseGoDuration } from '../../core/expr/duration.js';
import { formatGoDuration } from '../../core/format/index.js';
import { CIRCONUS_CODES } from './errors.js';
import { MAX_TAG_CATEGORY_BYTES, MAX_TAGS, tagCategory } from './stream-tags.js';

const CODES = CIRCONUS_CODES;

/** `adapter.circonus.config.Params.MetricInfo.Type`, same numbers as the proto. */
export enum CirconusMetricType {
  UNKNOWN = 0,
  COUNTER = 1,
  GAUGE = 2,
  DISTRIBUTION = 3,
}

export interface CirconusMetricConfig {
  /** The instance FQN; also the Circonus metric name, as in Mixer. */
  readonly name: string;
  readonly type: CirconusMetricType.COUNTER | CirconusMetricType.GAUGE | CirconusMetricType.DISTRIBUTION;
  /** Dimensions that become stream tags: the listed ones, or all of the instance's when none are listed. */
  readonly tagDimensions: readonly string[];
  /**
   * Distinct streams this metric may hold per interval; new ones beyond go to its overflow
   * stream. Parsed configs always set it; absent means `CIRCONUS_DEFAULTS.maxSeriesPerMetric`.
   */
  readonly maxSeries?: number;
}

export interface CirconusConfig {
  /** The HTTPTrap submission URL (it embeds the check secret: log it only through {@link redactUrl}). */
  readonly submissionUrl: string;
  readonly flushIntervalMs: number;
  readonly requestTimeoutMs: number;
  /** Retries after the first attempt within one flush. */
  readonly maxRetries: number;
  /** PEM file with the CA certificates trusted for an https broker instead of the public roots. */
  readonly caFile: string | undefined;
  /** Name the broker's certificate is checked against (and sent as SNI) instead of the URL's host. */
  readonly tlsServerName: string | undefined;
  /**
   * Distinct series one interval may hold, all metrics together; instances that would add more
   * are recorded into their metric's overflow stream.
   */
  readonly maxSeries: number;
  /** Bounds on what a failed submission carries into the next one. */
  readonly maxPendingSeries: number;
  readonly maxPendingBytes: number;
  readonly metrics: readonly CirconusMetricConfig[];
}

/**
 * Defaults. Mixer's: submission_interval 10s (and submission_url "", which Validate rejects).
 * Ours: cgm's retry count; a request timeout of half the interval, at most 10 s, so a stalled
 * broker is cut off well before the next flush is due; series bounds sized for a large mesh
 * (100k streams of ~300 bytes each is ~30 MiB of JSON).
 */
export const CIRCONUS_DEFAULTS = {
  submissionInterval: '10s',
  maxRequestTimeoutMs: 10_000,
  maxRetries: 3,
  maxSeries: 100_000,
  /**
   * A quarter of the handler's streams: one metric whose tags explode (a Host header as a tag,
   * say) cannot push every other metric's new streams into overflow.
   */
  maxSeriesPerMetric: 25_000,
  maxPendingSeries: 100_000,
  maxPendingBytes: 32 * 1024 * 1024,
} as const;

/** Mixer's Validate: anything shorter floods the broker. */
export const MIN_SUBMISSION_INTERVAL_MS = 1000;
export const MAX_RETRIES_LIMIT = 10;
export const MAX_SERIES_LIMIT = 10_000_000;
/** A body is built as one string; V8 caps strings at about 512 MiB, so stay well below. */
export const MAX_PENDING_BYTES_LIMIT = 256 * 1024 * 1024;


const PARAMS_FIELDS = [
  'submission_url',
  'submission_interval',
  'metrics',
  'request_timeout',
  'ca_file',
  'tls_server_name',
  'max_retries',
  'max_series',
  'max_series_per_metric',
  'max_pending_series',
  'max_pending_bytes',
] as const;
const METRIC_FIELDS = ['name', 'type', 'dimensions', 'max_series'] as const;
const JSONPB_CODES: JsonpbFieldCodes = { unknownField: CODES.unknownField, duplicateField: CODES.duplicateField, field: CODES.fieldType };

/**
 * The URL with everything that may be secret replaced: the HTTPTrap secret is the last path
 * segment, and credentials or a query may carry tokens. What remains still tells brokers apart.
 */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : new URL(url.href);
  } catch {
    return '<invalid URL>';
  }
  const segments = u.pathname.split('/');
  for (let i = segments.length - 1; i >= 0; i--) {
    if (segments[i] !== '') {
      segments[i] = '…';
      break;
    }
  }
  return `${u.protocol}//${u.host}${segments.join('/')}${u.search === '' ? '' : '?…'}`;
}

function readString(f: JsonpbObject, field: string): string | undefined {
  const v = f.value(field);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') {
    f.issue(field, `"${f.keyOf(field)}" must be a string, got ${describe(v)}`, CODES.fieldType);
    return undefined;
  }
  return v;
}

/** jsonpb reads integers from JSON numbers or from strings holding one. */
function readInteger(f: JsonpbObject, field: string, min: number, max: number, fallback: number, unit: string): number {
  const v = f.value(field);
  if (v === undefined) return fallback;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n)) {
    f.issue(field, `"${f.keyOf(field)}" must be a whole number of ${unit}, got ${describe(v)}`, CODES.fieldType);
    return fallback;
  }
  if (n < min || n > max) {
    f.issue(field, `"${f.keyOf(field)}" must be from ${min} to ${max} ${unit}, got ${n}`, CODES.limit);
    return fallback;
  }
  return n;
}

/** A Go duration string, in milliseconds (undefined when absent or reported). */
function readDurationMs(f: JsonpbObject, field: string, code: ErrorCode): number | undefined {
  const v = f.value(field);
  if (v === undefined) return undefined;
  const key = f.keyOf(field);
  if (typeof v !== 'string') {
    f.issue(field, `"${key}" must be a duration string such as "10s" or "500ms", got ${describe(v)}`, code);
    return undefined;
  }
  const d = parseGoDuration(v);
  if (!d.ok) {
    f.issue(field, `"${key}": ${d.message} (expected e.g. "10s" or "500ms")`, code);
    return undefined;
  }
  return d.nanos / 1e6;
}

/** Where plain http is expected: a local circonus-agent. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

function readSubmissionUrl(f: JsonpbObject): string | undefined {
  const present = f.value('submission_url') !== undefined;
  const text = readString(f, 'submission_url');
  const example = 'https://<broker>:43191/module/httptrap/<check uuid>/<secret>';
  if (!present || text === '') {
    f.issue('submission_url', `"submission_url" is required: the HTTPTrap check's submission URL, e.g. ${example}`, CODES.submissionUrl);
    return undefined;
  }
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    f.issue('submission_url', `"${f.keyOf('submission_url')}" must be an absolute URL such as ${example}`, CODES.submissionUrl);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    const hint = url.protocol === 'http+unix:' ? ' (unix sockets are not supported; use the agent\'s TCP listener)' : '';
    f.issue(
      'submission_url',
      `"${f.keyOf('submission_url')}" must be an http or https URL, got scheme "${url.protocol.slice(0, -1)}"${hint}`,
      CODES.submissionUrl,
    );
    return undefined;
  }
  if (url.hostname === '') {
    f.issue('submission_url', `"${f.keyOf('submission_url')}" has no host`, CODES.submissionUrl);
    return undefined;
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    f.warn(
      'submission_url',
      `"${f.keyOf('submission_url')}" is plain http to ${url.hostname}: the check secret and the metrics cross the network unencrypted`,
      CODES.submissionUrl,
    );
  }
  return url.href;
}

const METRIC_TYPE_NAMES = 'COUNTER, GAUGE or DISTRIBUTION';

function readMetricType(f: JsonpbObject): CirconusMetricConfig['type'] | undefined {
  const v = f.value('type');
  if (v === undefined) {
    f.issue('type', `missing "type": one of ${METRIC_TYPE_NAMES}`, CODES.metricType);
    return undefined;
  }
  let t: CirconusMetricType | undefined;
  if (typeof v === 'string') {
    const byName = (CirconusMetricType as unknown as Record<string, number | undefined>)[v];
    t = typeof byName === 'number' ? byName : undefined;
  } else if (typeof v === 'number' && Number.isInteger(v) && CirconusMetricType[v] !== undefined) {
    t = v;
  }
  if (t === undefined) {
    f.issue('type', `"type" must be one of ${METRIC_TYPE_NAMES}, got ${describe(v)}`, CODES.metricType);
    return undefined;
  }
  if (t === CirconusMetricType.UNKNOWN) {
    f.issue('type', `"type" UNKNOWN cannot be submitted; use ${METRIC_TYPE_NAMES}`, CODES.metricType);
    return undefined;
  }
  return t;
}

/**
 * What each type accepts. Mixer counted every COUNTER instance as 1, sent GAUGE as int64 (anything
 * else as 0) and DISTRIBUTION as nanoseconds (anything else as 0); here the value is used as is and
 * a type it cannot mean anything for is a config error rather than a silent zero.
 */
const ACCEPTED: Readonly<Record<CirconusMetricConfig['type'], readonly ValueType[]>> = {
  // No value expression: each instance counts 1, which is what Mixer did for every counter.
  [CirconusMetricType.COUNTER]: [ValueType.INT64, ValueType.DOUBLE, ValueType.VALUE_TYPE_UNSPECIFIED],
  [CirconusMetricType.GAUGE]: [ValueType.INT64, ValueType.DOUBLE, ValueType.DURATION],
  [CirconusMetricType.DISTRIBUTION]: [ValueType.DURATION, ValueType.INT64, ValueType.DOUBLE],
};

function checkValueType(f: JsonpbObject, type: CirconusMetricConfig['type'], spec: InstanceSpec): void {
  const accepted = ACCEPTED[type];
  if (accepted.includes(spec.valueType)) return;
  const names = accepted.map((t) => (t === ValueType.VALUE_TYPE_UNSPECIFIED ? 'no value (counts instances)' : ValueType[t]));
  const found =
    spec.valueType === ValueType.VALUE_TYPE_UNSPECIFIED ? 'no value expression' : `a ${ValueType[spec.valueType] ?? 'unknown'} value`;
  f.issue('type', `${CirconusMetricType[type]} takes ${names.join(', ')}, but instance ${spec.name} has ${found}`, CODES.valueType);
}

function readDimensions(f: JsonpbObject, spec: InstanceSpec | undefined): string[] | undefined {
  const v = f.value('dimensions');
  if (v === undefined) return undefined;
  const key = f.keyOf('dimensions');
  if (!Array.isArray(v)) {
    f.issue('dimensions', `"${key}" must be a list of dimension names, got ${describe(v)}`, CODES.fieldType);
    return undefined;
  }
  const out: string[] = [];
  const known = spec === undefined ? undefined : new Set(spec.dimensions.map((d) => d.name));
  const seen = new Set<string>();
  let ok = true;
  v.forEach((name: unknown, i) => {
    const path = [...f.pathOf('dimensions'), i];
    if (typeof name !== 'string') {
      f.issueAt(path, `dimension names are strings, got ${describe(name)}`, CODES.fieldType);
      ok = false;
      return;
    }
    if (known !== undefined && !known.has(name)) {
      const list = known.size === 0 ? 'it has none' : `it has ${[...known].join(', ')}`;
      f.issueAt(path, `"${name}" is not a dimension of instance ${spec?.name ?? ''} (${list})`, CODES.unknownDimension);
      ok = false;
      return;
    }
    if (seen.has(name)) {
      f.issueAt(path, `dimension "${name}" is listed twice`, CODES.duplicateDimension);
      ok = false;
      return;
    }
    seen.add(name);
    out.push(name);
  });
  return ok ? out : undefined;
}

/** Every tag dimension must make a category the broker keeps (§8.4 limits). */
function checkCategories(ctx: CountingReporter, path: ConfigPath, names: readonly string[], listed: boolean, instance: string): boolean {
  let ok = true;
  if (names.length > MAX_TAGS) {
    const fix = listed ? 'list fewer' : 'list the ones to keep under "dimensions"';
    ctx.issue(path, `${names.length} dimensions of ${instance} would become stream tags; the broker reads at most ${MAX_TAGS} (${fix})`, CODES.tagCategory);
    ok = false;
  }
  const byCategory = new Map<string, string>();
  names.forEach((name, i) => {
    const at = listed ? [...path, i] : path;
    const cat = tagCategory(name);
    const other = byCategory.get(cat.plain);
    if (other !== undefined && cat.plain !== '') {
      ctx.warn(
        at,
        `dimensions "${other}" and "${name}" of ${instance} both become stream-tag category "${cat.plain}"; their series carry two "${cat.plain}" tags`,
        CODES.tagCategory,
      );
    }
    byCategory.set(cat.plain, name);
    if (cat.plain === '') {
      ctx.issue(at, `dimension "${name}" of ${instance} is empty once whitespace is removed, so it cannot be a stream-tag category`, CODES.tagCategory);
      ok = false;
    } else if (cat.plainBytes > MAX_TAG_CATEGORY_BYTES) {
      ctx.issue(
        at,
        `dimension "${name}" of ${instance} is ${cat.plainBytes} bytes; a stream-tag category may have at most ${MAX_TAG_CATEGORY_BYTES}`,
        CODES.tagCategory,
      );
      ok = false;
    }
  });
  return ok;
}

/**
 * Validates `params` against the instances bound to the handler. Returns undefined when any
 * problem was reported.
 */
export function parseCirconusConfig(
  params: unknown,
  instances: readonly InstanceSpec[],
  report: ConfigReporter,
): CirconusConfig | undefined {
  const ctx = new CountingReporter(report);
  const raw = params === undefined || params === null ? {} : params;
  if (!isRecord(raw)) {
    ctx.issue([], `circonus params must be a map, got ${describe(raw)}`, CODES.fieldType);
    return undefined;
  }
  const f = new JsonpbObject(raw, [], PARAMS_FIELDS, 'circonus params', JSONPB_CODES, ctx);

  const submissionUrl = readSubmissionUrl(f);
  const https = submissionUrl?.startsWith('https:') ?? false;

  const defaultInterval = parseGoDuration(CIRCONUS_DEFAULTS.submissionInterval);
  let flushIntervalMs = defaultInterval.ok ? defaultInterval.nanos / 1e6 : 10_000;
  const interval = readDurationMs(f, 'submission_interval', CODES.submissionInterval);
  if (interval !== undefined) {
    if (interval < MIN_SUBMISSION_INTERVAL_MS) {
      f.issue('submission_interval', `"${f.keyOf('submission_interval')}" must be at least 1s, got ${JSON.stringify(f.value('submission_interval'))}`, CODES.submissionInterval);
    } else if (Math.round(interval) > MAX_FLUSH_INTERVAL_MS) {
      f.issue(
        'submission_interval',
        `"${f.keyOf('submission_interval')}" must be at most ${formatGoDuration(MAX_FLUSH_INTERVAL_MS * 1e6)} (the longest timer Node.js keeps), got ${JSON.stringify(f.value('submission_interval'))}`,
        CODES.submissionInterval,
      );
    } else {
      flushIntervalMs = Math.round(interval);
    }
  }

  let requestTimeoutMs = Math.min(CIRCONUS_DEFAULTS.maxRequestTimeoutMs, Math.floor(flushIntervalMs / 2));
  const timeout = readDurationMs(f, 'request_timeout', CODES.requestTimeout);
  if (timeout !== undefined) {
    const key = f.keyOf('request_timeout');
    if (timeout < 1) {
      f.issue('request_timeout', `"${key}" must be at least 1ms, got ${JSON.stringify(f.value('request_timeout'))}`, CODES.requestTimeout);
    } else if (timeout >= flushIntervalMs) {
      f.issue(
        'request_timeout',
        `"${key}" (${JSON.stringify(f.value('request_timeout'))}) must be shorter than the submission interval (${flushIntervalMs} ms), so a stalled broker is cut off before the next flush is due`,
        CODES.requestTimeout,
      );
    } else {
      requestTimeoutMs = Math.round(timeout);
    }
  }

  const caFile = readString(f, 'ca_file');
  if (caFile === '') f.issue('ca_file', `"${f.keyOf('ca_file')}" is empty; leave it out to use the public CAs`, CODES.tls);
  const tlsServerName = readString(f, 'tls_server_name');
  if (tlsServerName === '') {
    f.issue('tls_server_name', `"${f.keyOf('tls_server_name')}" is empty; leave it out to check the URL's host`, CODES.tls);
  }
  if (submissionUrl !== undefined && !https) {
    for (const field of ['ca_file', 'tls_server_name'] as const) {
      if (f.value(field) !== undefined) f.issue(field, `"${f.keyOf(field)}" only applies to an https submission_url`, CODES.tls);
    }
  }

  const maxRetries = readInteger(f, 'max_retries', 0, MAX_RETRIES_LIMIT, CIRCONUS_DEFAULTS.maxRetries, 'retries');
  const maxSeries = readInteger(f, 'max_series', 1, MAX_SERIES_LIMIT, CIRCONUS_DEFAULTS.maxSeries, 'series');
  const maxSeriesPerMetric = readInteger(f, 'max_series_per_metric', 1, MAX_SERIES_LIMIT, CIRCONUS_DEFAULTS.maxSeriesPerMetric, 'series');
  const maxPendingSeries = readInteger(f, 'max_pending_series', 0, MAX_SERIES_LIMIT, CIRCONUS_DEFAULTS.maxPendingSeries, 'series');
  const maxPendingBytes = readInteger(f, 'max_pending_bytes', 0, MAX_PENDING_BYTES_LIMIT, CIRCONUS_DEFAULTS.maxPendingBytes, 'bytes');

  const byName = new Map(instances.map((i) => [i.name, i] as const));
  const metrics: CirconusMetricConfig[] = [];
  const seen = new Map<string, number>();
  const metricsRaw = f.value('metrics');
  const metricsPath = f.pathOf('metrics');
  if (metricsRaw !== undefined && !Array.isArray(metricsRaw)) {
    f.issue('metrics', `"${f.keyOf('metrics')}" must be a list of {name, type} entries, got ${describe(metricsRaw)}`, CODES.fieldType);
  } else if (metricsRaw !== undefined) {
    (metricsRaw as unknown[]).forEach((entry, i) => {
      const path = [...metricsPath, i];
      if (!isRecord(entry)) {
        ctx.issue(path, `a metrics entry must be a map with "name" and "type", got ${describe(entry)}`, CODES.fieldType);
        return;
      }
      const m = new JsonpbObject(entry, path, METRIC_FIELDS, 'a metrics entry', JSONPB_CODES, ctx);
      const name = readString(m, 'name');
      const type = readMetricType(m);
      let spec: InstanceSpec | undefined;
      if (m.value('name') === undefined || name === '') {
        m.issue('name', 'missing "name": the full name of a bound instance, <name>.instance.<namespace>', CODES.unknownInstance);
      } else if (name === undefined) {
        // Not a string: already reported.
      } else if ((spec = byName.get(name)) === undefined) {
        const known = [...byName.keys()].sort();
        const list = known.length === 0 ? 'no instances are bound to it' : `bound instances: ${known.join(', ')}`;
        m.issue(
          'name',
          `"${name}" is not an instance bound to this handler (${list}); it must be the full name <name>.instance.<namespace>`,
          CODES.unknownInstance,
        );
      } else if (seen.has(name)) {
        m.issue('name', `instance "${name}" already has an entry at metrics[${String(seen.get(name))}]`, CODES.duplicateMetric);
        spec = undefined;
      } else {
        seen.set(name, i);
      }
      const listed = readDimensions(m, spec ?? (name === undefined ? undefined : byName.get(name)));
      const metricMaxSeries = readInteger(m, 'max_series', 1, MAX_SERIES_LIMIT, maxSeriesPerMetric, 'series');
      if (spec === undefined || type === undefined) return;
      checkValueType(m, type, spec);
      if (m.value('dimensions') !== undefined && listed === undefined) return;
      const tagDimensions = listed ?? spec.dimensions.map((d) => d.name);
      if (!checkCategories(ctx, listed === undefined ? path : m.pathOf('dimensions'), tagDimensions, listed !== undefined, spec.name)) return;
      metrics.push({ name: spec.name, type, tagDimensions, maxSeries: metricMaxSeries });
    });
  }
  for (const spec of instances) {
    if (seen.has(spec.name)) continue;
    ctx.issue(
      metricsPath,
      `instance ${spec.name} is bound to this handler but has no metrics entry; add {name: ${spec.name}, type: COUNTER|GAUGE|DISTRIBUTION}`,
      CODES.missingMetric,
    );
  }

  if (ctx.failed || submissionUrl === undefined) return undefined;
  return {
    submissionUrl,
    flushIntervalMs,
    requestTimeoutMs,
    maxRetries,
    caFile,
    tlsServerName,
    maxSeries,
    maxPendingSeries,
    maxPendingBytes,
    metrics,
  };
}
