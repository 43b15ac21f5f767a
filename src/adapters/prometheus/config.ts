import {
  CountingReporter,
  JsonpbObject,
  ValueType,
  type AcrossHandlersReporter,
  type ConfigPath,
  type ConfigReporter,
  type ErrorCode,
  type InstanceSpec,
  type JsonpbField,
  type JsonpbFieldCodes,
  type ParsedHandler,
} from '../../core/adapter.js';
import { parseGoDuration } from '../../core/adapter.js';
import { bucketBoundsProblem, resolveBuckets, type BucketsDefinition } from './buckets.js';
import {
  fullMetricName,
  helpText,
  isValidLabelName,
  isValidMetricName,
  metricNamespace,
  safeName,
  unsanitisedMetricName,
} from './naming.js';
import { isConvertibleValueType } from './prom-value.js';

/**
 * `adapter.prometheus.config.Params` (Mixer 1.4), validated against the instances bound to the
 * handler. Everything client_golang would have panicked on at registration or at runtime is a
 * config issue here, reported with the path of the key the user wrote.
 */

export type PromMetricKind = 'GAUGE' | 'COUNTER' | 'DISTRIBUTION';

export interface PromMetricConfig {
  /** Position in the handler's `metrics` list, so a check across handlers can point at the entry. */
  readonly index: number;
  readonly namespace: string;
  readonly name: string;
  readonly instanceName: string;
  readonly description: string;
  readonly kind: PromMetricKind;
  readonly buckets: BucketsDefinition | undefined;
  /** As configured (unsanitised), in configured order. */
  readonly labelNames: readonly string[];
  /** Exposed family name, e.g. `istio_requests_total`. */
  readonly fullName: string;
  readonly help: string;
  /** `safeName` of each label name, in configured order; equal as a set to the dimension names. */
  readonly labels: readonly string[];
  /** DISTRIBUTION only: finite upper bounds, strictly increasing (`+Inf` is implicit). */
  readonly upperBounds: readonly number[];
  /** Cardinality guard: past this many live series, new label sets go to the overflow series. */
  readonly maxSeries: number;
}

export interface PromExpiryPolicy {
  /** Series idle this long are removed. */
  readonly ttlNs: number;
  readonly checkIntervalNs: number;
}

export interface PromConfig {
  readonly metrics: readonly PromMetricConfig[];
  /** Cardinality guard over all the handler's metrics together. */
  readonly maxSeries: number;
  /** Absent: series live as long as the handler. */
  readonly expiry: PromExpiryPolicy | undefined;
}

/** Stable codes for the issues parseConfig reports. */
export const PROM_CONFIG_CODES = {
  type: 'PROM_FIELD_TYPE',
  unknownField: 'PROM_UNKNOWN_FIELD',
  duplicateField: 'PROM_DUPLICATE_FIELD',
  kind: 'PROM_KIND',
  buckets: 'PROM_BUCKETS',
  metricName: 'PROM_METRIC_NAME',
  nameConflict: 'PROM_NAME_CONFLICT',
  metricConflict: 'PROM_METRIC_CONFLICT',
  labelName: 'PROM_LABEL_NAME',
  labelsMismatch: 'PROM_LABELS_MISMATCH',
  unknownInstance: 'PROM_UNKNOWN_INSTANCE',
  duplicateInstance: 'PROM_DUPLICATE_INSTANCE',
  valueType: 'PROM_VALUE_TYPE',
  expiry: 'PROM_EXPIRY',
  maxSeries: 'PROM_MAX_SERIES',
} as const satisfies Record<string, ErrorCode>;

const CODES = PROM_CONFIG_CODES;
const JSONPB_CODES: JsonpbFieldCodes = { unknownField: CODES.unknownField, duplicateField: CODES.duplicateField, field: CODES.type };

/**
 * Cardinality guard defaults, sized for a small Prometheus: 10,000 series of an 11-bucket
 * histogram are ~140,000 samples; a handler with the four Istio HTTP metrics at their caps stays
 * under ~600,000 samples. Past a cap, new label sets share one overflow series per metric whose
 * label values are all OVERFLOW_LABEL_VALUE, so totals still add up.
 */
export const DEFAULT_MAX_SERIES_PER_METRIC = 10_000;
export const DEFAULT_MAX_SERIES_PER_HANDLER = 100_000;
export const OVERFLOW_LABEL_VALUE = '__overflow__';

function seriesCap(ctx: Context, field: JsonpbField | undefined, fallback: number): number {
  if (field === undefined) return fallback;
  const n = ctx.int32(field);
  if (n === undefined) return fallback;
  if (n < 1) {
    ctx.issue(field.path, `max_series must be at least 1, found ${n}`, CODES.maxSeries);
    return fallback;
  }
  return n;
}

/** client_golang allocates every bucket up front; Mixer would let a typo allocate 2^31 of them. */
export const MAX_BUCKETS = 10_000;


const KINDS: ReadonlyMap<string | number, PromMetricKind> = new Map<string | number, PromMetricKind>([
  ['GAUGE', 'GAUGE'],
  ['COUNTER', 'COUNTER'],
  ['DISTRIBUTION', 'DISTRIBUTION'],
  [1, 'GAUGE'],
  [2, 'COUNTER'],
  [3, 'DISTRIBUTION'],
]);

export function parseConfig(
  params: unknown,
  instances: readonly InstanceSpec[],
  report: ConfigReporter,
): PromConfig | undefined {
  const ctx = new Context(report);
  const top = ctx.object(params ?? {}, [], ['metrics', 'metrics_expiration_policy', 'max_series'], 'prometheus params');
  if (top === undefined) return undefined;

  const byName = new Map(instances.map((i) => [i.name, i]));
  const parsed: ParsedMetric[] = [];
  const metricsField = top.field('metrics');
  if (metricsField !== undefined) {
    const list = ctx.array(metricsField.value, metricsField.path);
    const seenInstances = new Map<string, number>();
    list?.forEach((raw, i) => {
      const m = parseMetric(ctx, raw, [...metricsField.path, i], byName, seenInstances, i);
      if (m !== undefined) parsed.push(m);
    });
  }
  checkFamilyConflicts(ctx, parsed);
  // Counted from what was written, so a metric entry that failed for another reason does not
  // also make its instance look unexported.
  const named = new Set(seenNames(metricsField?.value));
  for (const spec of instances) {
    if (named.has(spec.name)) continue;
    const hint = [...named].filter((n) => !byName.has(n));
    ctx.issue(
      metricsField?.path ?? [],
      `instance "${spec.name}" is sent to this handler by a rule but no metric exports it (add a metric with instance_name: ${spec.name}${hint.length > 0 ? `; unmatched instance_name values: ${hint.join(', ')}` : ''})`,
      CODES.unknownInstance,
    );
  }

  let expiry: PromExpiryPolicy | undefined;
  const policy = top.field('metrics_expiration_policy');
  if (policy !== undefined && policy.value !== null) expiry = parseExpiry(ctx, policy.value, policy.path);

  const maxSeries = seriesCap(ctx, top.field('max_series'), DEFAULT_MAX_SERIES_PER_HANDLER);
  return ctx.failed ? undefined : { metrics: parsed.map((p) => p.metric), expiry, maxSeries };
}

function* seenNames(metrics: unknown): Iterable<string> {
  if (!Array.isArray(metrics)) return;
  for (const m of metrics) {
    const n = m !== null && typeof m === 'object' ? ((m as Record<string, unknown>)['instance_name'] ?? (m as Record<string, unknown>)['instanceName']) : undefined;
    if (typeof n === 'string') yield n;
  }
}

/** A valid metric and where it was written, for messages that relate two metrics. */
interface ParsedMetric {
  readonly metric: PromMetricConfig;
  readonly path: ConfigPath;
  readonly namePath: ConfigPath;
}

function parseMetric(
  ctx: Context,
  raw: unknown,
  path: ConfigPath,
  instances: ReadonlyMap<string, InstanceSpec>,
  seenInstances: Map<string, number>,
  index: number,
): ParsedMetric | undefined {
  const obj = ctx.object(raw, path, [
    'namespace',
    'name',
    'instance_name',
    'description',
    'kind',
    'buckets',
    'label_names',
    'max_series',
  ], 'a metrics entry');
  if (obj === undefined) return undefined;
  const before = ctx.errors;

  const namespace = ctx.string(obj.field('namespace')) ?? '';
  const name = ctx.string(obj.field('name')) ?? '';
  const instanceField = obj.field('instance_name');
  const instanceName = ctx.string(instanceField) ?? '';
  const description = ctx.string(obj.field('description')) ?? '';
  const kind = parseKind(ctx, obj.field('kind'), path);
  const labelsField = obj.field('label_names');
  // undefined when malformed: then the label checks below would only repeat that problem.
  const labelNamesOrBad = labelsField === undefined ? [] : ctx.stringArray(labelsField.value, labelsField.path);
  const labelNames = labelNamesOrBad ?? [];

  // The instance: Mixer matched instance_name literally against the FQN.
  const instancePath = instanceField?.path ?? path;
  const instance = instances.get(instanceName);
  if (instanceName === '') {
    ctx.issue(instancePath, 'instance_name is required: the FQN of the metric instance to export', CODES.unknownInstance);
  } else if (instance === undefined) {
    // As in Mixer, a metric whose instance no rule sends here is not an error (an operator may drop
    // the TCP rules and keep the default handler); it just never gets a sample. A bound instance
    // that no metric exports is the error, reported by parseConfig.
    const known = [...instances.keys()].sort();
    const list = known.length === 0 ? 'no instances are bound to it' : `bound instances: ${known.join(', ')}`;
    ctx.warn(
      instancePath,
      `instance_name "${instanceName}" is not sent to this handler by any rule (${list}); this metric will have no series`,
      CODES.unknownInstance,
    );
    seenInstances.set(instanceName, index);
    return undefined;
  } else {
    const first = seenInstances.get(instanceName);
    if (first !== undefined) {
      ctx.issue(
        instancePath,
        `instance "${instanceName}" is already exported by metrics[${first}]; each instance can feed one metric`,
        CODES.duplicateInstance,
      );
    } else {
      seenInstances.set(instanceName, index);
    }
    if (!isConvertibleValueType(instance.valueType)) {
      const what =
        instance.valueType === ValueType.VALUE_TYPE_UNSPECIFIED
          ? 'has no value expression'
          : `has a value of type ${ValueType[instance.valueType] ?? String(instance.valueType)}`;
      ctx.issue(
        instancePath,
        `instance "${instanceName}" ${what}, which can never be a sample; expected INT64, DOUBLE, DURATION or a numeric STRING`,
        CODES.valueType,
      );
    }
  }

  // The family name.
  const namePath = obj.field('name')?.path ?? instancePath;
  const fullName = fullMetricName(namespace, name, instanceName);
  if (!isValidMetricName(fullName)) {
    const ns = metricNamespace(namespace);
    const nsBad = ns !== '' && !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(ns);
    const where = nsBad ? (obj.field('namespace')?.path ?? path) : namePath;
    const shown = fullName === '' ? 'an empty name' : `"${fullName}"`;
    ctx.issue(
      where,
      `metric name ${shown} (from namespace "${namespace}" and name "${unsanitisedMetricName(name, instanceName)}" after safeName) is not a valid Prometheus metric name [a-zA-Z_:][a-zA-Z0-9_:]*`,
      CODES.metricName,
    );
  }

  // Label names.
  const labels = labelNames.map(safeName);
  const labelsPath = labelsField?.path ?? path;
  const seenLabels = new Map<string, number>();
  labels.forEach((label, j) => {
    const at = [...labelsPath, j];
    const raw = labelNames[j] ?? '';
    const shown = label === raw ? `"${raw}"` : `"${raw}" (safeName "${label}")`;
    if (!isValidLabelName(label)) {
      ctx.issue(at, `label name ${shown} is not a valid Prometheus label name [a-zA-Z_][a-zA-Z0-9_]* (and must not start with __)`, CODES.labelName);
    } else if (kind === 'DISTRIBUTION' && label === 'le') {
      ctx.issue(at, 'label name "le" is reserved for histogram buckets', CODES.labelName);
    }
    const first = seenLabels.get(label);
    if (first !== undefined) ctx.issue(at, `label name ${shown} duplicates label_names[${first}]`, CODES.labelName);
    else seenLabels.set(label, j);
  });
  if (instance !== undefined && labelNamesOrBad !== undefined) checkLabelsMatchDimensions(ctx, labels, instance, labelsPath);

  // Mixer reads buckets only for DISTRIBUTION; on other kinds only their shape is checked.
  const bucketsField = obj.field('buckets');
  const buckets = bucketsField === undefined ? undefined : parseBuckets(ctx, bucketsField.value, bucketsField.path, kind === 'DISTRIBUTION');
  let upperBounds: readonly number[] = [];
  if (kind === 'DISTRIBUTION' && ctx.errors === before) upperBounds = resolveBuckets(buckets);
  const maxSeries = seriesCap(ctx, obj.field('max_series'), DEFAULT_MAX_SERIES_PER_METRIC);

  if (kind === undefined || ctx.errors !== before) return undefined;
  const metric: PromMetricConfig = {
    index,
    namespace,
    name,
    instanceName,
    description,
    kind,
    buckets,
    labelNames,
    fullName,
    help: helpText(description, name, instanceName),
    labels,
    upperBounds,
    maxSeries,
  };
  return { metric, path, namePath };
}

function parseKind(ctx: Context, field: JsonpbField | undefined, metricPath: ConfigPath): PromMetricKind | undefined {
  const expected = 'expected GAUGE, COUNTER or DISTRIBUTION';
  if (field === undefined || field.value === null) {
    ctx.issue(metricPath, `kind is required (${expected})`, CODES.kind);
    return undefined;
  }
  const v = field.value;
  const kind = typeof v === 'string' || typeof v === 'number' ? KINDS.get(v) : undefined;
  if (kind === undefined) ctx.issue(field.path, `kind ${JSON.stringify(v)} is not supported (${expected})`, CODES.kind);
  return kind;
}

/** client_golang panics (Mixer: a dispatch error) when the dimension names differ from the labels. */
function checkLabelsMatchDimensions(ctx: Context, labels: readonly string[], instance: InstanceSpec, path: ConfigPath): void {
  const dims = instance.dimensions.map((d) => d.name);
  const labelSet = new Set(labels);
  const dimSet = new Set(dims);
  const missing = dims.filter((d) => !labelSet.has(d));
  const extra = labels.filter((l) => !dimSet.has(l));
  if (missing.length === 0 && extra.length === 0) return;
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`dimensions without a label: ${missing.join(', ')}`);
  if (extra.length > 0) parts.push(`labels without a dimension: ${extra.join(', ')}`);
  const unmatchable = missing.filter((d) => safeName(d) !== d);
  if (unmatchable.length > 0) {
    parts.push(`dimension names ${unmatchable.join(', ')} can never match because safeName rewrites them; rename the dimensions`);
  }
  ctx.issue(
    path,
    `label_names must name exactly the dimensions of instance "${instance.name}" (after safeName): ${parts.join('; ')}`,
    CODES.labelsMismatch,
  );
}

function parseBuckets(ctx: Context, raw: unknown, path: ConfigPath, used: boolean): BucketsDefinition | undefined {
  const obj = ctx.object(raw, path, ['linear_buckets', 'exponential_buckets', 'explicit_buckets'], 'buckets');
  if (obj === undefined) return undefined;
  const present = obj.fields.filter((f) => f.value !== null);
  if (present.length > 1) {
    ctx.issue(
      path,
      `buckets is a oneof: give only one of linear_buckets, exponential_buckets, explicit_buckets (found ${present.map((f) => f.key).join(', ')})`,
      CODES.buckets,
    );
    return undefined;
  }
  const f = present[0];
  if (f === undefined) return undefined;
  if (f.name === 'explicit_buckets') {
    const eb = ctx.object(f.value, f.path, ['bounds'], 'explicit_buckets');
    const boundsField = eb?.field('bounds');
    const bounds = boundsField === undefined ? [] : ctx.numberArray(boundsField.value, boundsField.path);
    if (bounds === undefined) return undefined;
    if (used) {
      const problem = bucketBoundsProblem(bounds);
      if (problem !== undefined) ctx.issue(boundsField?.path ?? f.path, `explicit bounds: ${problem}`, CODES.buckets);
      else if (bounds.length > MAX_BUCKETS) ctx.issue(boundsField?.path ?? f.path, `at most ${MAX_BUCKETS} bounds are supported`, CODES.buckets);
    }
    return { type: 'explicit', bounds };
  }
  if (f.name === 'linear_buckets') {
    const lb = ctx.object(f.value, f.path, ['num_finite_buckets', 'width', 'offset'], 'linear_buckets');
    if (lb === undefined) return undefined;
    const n = ctx.int32(lb.field('num_finite_buckets')) ?? 0;
    const width = ctx.double(lb.field('width')) ?? 0;
    const offset = ctx.double(lb.field('offset')) ?? 0;
    const def: BucketsDefinition = { type: 'linear', numFiniteBuckets: n, width, offset };
    if (used) checkComputedBuckets(ctx, def, lb, f.path);
    return def;
  }
  const xb = ctx.object(f.value, f.path, ['num_finite_buckets', 'growth_factor', 'scale'], 'exponential_buckets');
  if (xb === undefined) return undefined;
  const n = ctx.int32(xb.field('num_finite_buckets')) ?? 0;
  const growthFactor = ctx.double(xb.field('growth_factor')) ?? 0;
  const scale = ctx.double(xb.field('scale')) ?? 0;
  const def: BucketsDefinition = { type: 'exponential', numFiniteBuckets: n, growthFactor, scale };
  if (used) checkComputedBuckets(ctx, def, xb, f.path);
  return def;
}

function checkComputedBuckets(ctx: Context, def: BucketsDefinition, obj: JsonpbObject, path: ConfigPath): void {
  if (def.type === 'explicit') return;
  const nPath = obj.field('num_finite_buckets')?.path ?? path;
  if (def.numFiniteBuckets < 0) {
    ctx.issue(nPath, `num_finite_buckets must be >= 0, found ${def.numFiniteBuckets}`, CODES.buckets);
    return;
  }
  if (def.numFiniteBuckets + 1 > MAX_BUCKETS) {
    ctx.issue(nPath, `num_finite_buckets must be < ${MAX_BUCKETS}, found ${def.numFiniteBuckets}`, CODES.buckets);
    return;
  }
  if (def.type === 'exponential') {
    // client_golang's ExponentialBuckets panics on these whatever the count.
    if (!(def.scale > 0)) {
      ctx.issue(obj.field('scale')?.path ?? path, `scale must be > 0, found ${def.scale}`, CODES.buckets);
      return;
    }
    if (!(def.growthFactor > 1)) {
      ctx.issue(obj.field('growth_factor')?.path ?? path, `growth_factor must be > 1, found ${def.growthFactor}`, CODES.buckets);
      return;
    }
  } else if (def.numFiniteBuckets > 0 && !(def.width > 0)) {
    ctx.issue(obj.field('width')?.path ?? path, `width must be > 0, found ${def.width}`, CODES.buckets);
    return;
  }
  const problem = bucketBoundsProblem(resolveBuckets(def));
  if (problem !== undefined) ctx.issue(path, `computed bounds are unusable: ${problem}`, CODES.buckets);
}

/**
 * Two metrics may share a family only as client_golang's registry allowed it: an identical
 * descriptor (name, help, label names) reuses the collector. Mixer then type-asserted the shared
 * collector per metric kind and panicked on a mismatch; here the definitions must agree in full.
 */
function checkFamilyConflicts(ctx: Context, metrics: readonly ParsedMetric[]): void {
  const first = new Map<string, ParsedMetric>();
  for (const m of metrics) {
    const prev = first.get(m.metric.fullName);
    if (prev === undefined) {
      first.set(m.metric.fullName, m);
      const clash = seriesClash(m.metric, (name) => first.get(name)?.metric, JSON.stringify);
      if (clash !== undefined) {
        const other = first.get(clash.other.fullName)!;
        ctx.issue(m.namePath, `metric "${m.metric.fullName}" ${clash.text} defined by ${formatPath(other.path)}: ${CLASH_CONSEQUENCE}`, CODES.nameConflict);
      }
      continue;
    }
    const diff = familyDifference(prev.metric, m.metric);
    if (diff !== undefined) {
      ctx.issue(
        m.namePath,
        `metric "${m.metric.fullName}" is also defined by ${formatPath(prev.path)} with ${diff}: two metrics may share a name only with identical definitions`,
        CODES.nameConflict,
      );
    }
  }
}

/**
 * Mixer's builder is a process-wide singleton: every prometheus handler registers into one
 * registry. An identical descriptor reuses the collector (the handlers' samples add up); a
 * conflicting one failed registration and Mixer discarded the whole later handler. Telemux rejects
 * the config instead, pointing at the later handler's metric, so nothing is half-applied and
 * /metrics never serves one handler's definition while silently dropping the other's.
 */
export function checkAcrossHandlers(handlers: readonly ParsedHandler<PromConfig>[], report: AcrossHandlersReporter): void {
  const first = new Map<string, { readonly handler: number; readonly metric: PromMetricConfig }>();
  handlers.forEach(({ config }, h) => {
    // One report per family and handler: parseConfig has made a handler's same-named metrics identical.
    const reported = new Set<string>();
    for (const metric of config.metrics) {
      const prev = first.get(metric.fullName);
      if (prev === undefined) {
        first.set(metric.fullName, { handler: h, metric });
        // Within one handler, parseConfig has reported it.
        const clash = seriesClash(metric, (name) => (first.get(name)?.handler === h ? undefined : first.get(name)?.metric), (n) => n);
        if (clash !== undefined) {
          const other = first.get(clash.other.fullName)!;
          report(
            h,
            metric.name === '' ? ['metrics', metric.index] : ['metrics', metric.index, 'name'],
            `metric ${metric.fullName} ${clash.text} exported by handler '${handlers[other.handler]?.name ?? '?'}' (its metrics[${other.metric.index}]): ${CLASH_CONSEQUENCE}`,
            CODES.metricConflict,
          );
        }
        continue;
      }
      if (prev.handler === h || reported.has(metric.fullName)) continue;
      const diff = familyDifference(prev.metric, metric);
      if (diff === undefined) continue;
      reported.add(metric.fullName);
      const other = handlers[prev.handler]?.name ?? '?';
      report(
        h,
        // Without a name the family is named after instance_name; the entry itself is the best place.
        metric.name === '' ? ['metrics', metric.index] : ['metrics', metric.index, 'name'],
        `metric ${metric.fullName} is also exported by handler '${other}' (its metrics[${prev.metric.index}]) with ${diff}: a metric name must have one definition across prometheus handlers`,
        CODES.metricConflict,
      );
    }
  });
}

/** The series a histogram adds to its name, which no other family may be named. */
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

const CLASH_CONSEQUENCE =
  'the two cannot both be exposed (their samples would share one name: promtool rejects such an exposition, and Prometheus drops one of two samples with the same labels); rename one';

/**
 * A metric, among those `known` by full name, whose exposed series would clash with `m`'s although
 * the names differ: a histogram `x` and any family named `x_bucket`, `x_sum` or `x_count` (either
 * way round). client_golang's registry refused the later one at every scrape (`checkSuffixCollisions`).
 */
function seriesClash(
  m: PromMetricConfig,
  known: (fullName: string) => PromMetricConfig | undefined,
  quote: (name: string) => string,
): { readonly other: PromMetricConfig; readonly text: string } | undefined {
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (m.kind === 'DISTRIBUTION') {
      const other = known(m.fullName + suffix);
      if (other !== undefined) return { other, text: `is a histogram whose ${suffix} series has the name of metric ${quote(other.fullName)}` };
    }
    if (m.fullName.endsWith(suffix)) {
      const other = known(m.fullName.slice(0, -suffix.length));
      if (other?.kind === 'DISTRIBUTION') return { other, text: `has the name of the ${suffix} series of histogram ${quote(other.fullName)}` };
    }
  }
  return undefined;
}

/**
 * What keeps `b` from sharing `a`'s family, as `<a's values>; here <b's values>`, or undefined when
 * the definitions are identical. Label names compare as a set, as client_golang's descriptors do.
 */
function familyDifference(a: PromMetricConfig, b: PromMetricConfig): string | undefined {
  const diffs: { readonly aspect: string; readonly theirs: string; readonly ours: string }[] = [];
  if (a.kind !== b.kind) diffs.push({ aspect: 'kind', theirs: a.kind, ours: b.kind });
  const la = [...a.labels].sort();
  const lb = [...b.labels].sort();
  if (la.join(',') !== lb.join(',')) diffs.push({ aspect: 'label names', ...labelsText(la, lb) });
  // Bounds only mean something for a DISTRIBUTION; across kinds the kind already says it.
  if (a.kind === b.kind && a.upperBounds.join(',') !== b.upperBounds.join(',')) {
    diffs.push({ aspect: 'bucket upper bounds', theirs: boundsText(a.upperBounds), ours: boundsText(b.upperBounds) });
  }
  if (a.help !== b.help) diffs.push({ aspect: 'help', theirs: JSON.stringify(a.help), ours: JSON.stringify(b.help) });
  const [only] = diffs;
  if (only === undefined) return undefined;
  if (diffs.length === 1) return `${only.aspect} ${only.theirs}; here ${only.ours}`;
  const side = (pick: 'theirs' | 'ours'): string => diffs.map((d) => `${d.aspect} ${d[pick]}`).join(' and ');
  return `${side('theirs')}; here ${side('ours')}`;
}

/**
 * Both sorted label lists in full while they are short; Istio's metrics carry 20 labels, and two
 * such lists side by side hide the one name that differs, so long lists show only what differs.
 */
function labelsText(a: readonly string[], b: readonly string[]): { theirs: string; ours: string } {
  if (a.length <= 8 && b.length <= 8) return { theirs: `[${a.join(', ')}]`, ours: `[${b.join(', ')}]` };
  const side = (mine: readonly string[], other: readonly string[]): string => {
    const only = mine.filter((l) => !other.includes(l));
    return `[${mine.length} names${only.length > 0 ? `, with ${only.join(', ')}` : ''}]`;
  };
  return { theirs: side(a, b), ours: side(b, a) };
}

/** A long bucket list is cut short so the message stays one readable line. */
function boundsText(bounds: readonly number[]): string {
  if (bounds.length <= 20) return `[${bounds.join(', ')}]`;
  return `[${bounds.slice(0, 10).join(', ')}, …, ${bounds.at(-1)}] (${bounds.length} bounds)`;
}

function formatPath(path: ConfigPath): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
}

function parseExpiry(ctx: Context, raw: unknown, path: ConfigPath): PromExpiryPolicy | undefined {
  const obj = ctx.object(raw, path, ['metrics_expiry_duration', 'expiry_check_interval_duration'], 'metrics_expiration_policy');
  if (obj === undefined) return undefined;
  const ttlField = obj.field('metrics_expiry_duration');
  const ttl = ctx.duration(ttlField);
  if (ttlField === undefined || ttl === undefined) {
    if (ttlField === undefined) {
      ctx.issue(path, 'metrics_expiry_duration is required when metrics_expiration_policy is set (e.g. "10m")', CODES.expiry);
    }
    return undefined;
  }
  if (ttl <= 0) {
    ctx.issue(ttlField.path, `metrics_expiry_duration must be > 0, found ${JSON.stringify(ttlField.value)}`, CODES.expiry);
    return undefined;
  }
  const intervalField = obj.field('expiry_check_interval_duration');
  const interval = intervalField === undefined ? 0 : ctx.duration(intervalField);
  if (interval === undefined) return undefined;
  if (interval < 0) {
    ctx.issue(intervalField?.path ?? path, `expiry_check_interval_duration must be >= 0, found ${JSON.stringify(intervalField?.value)}`, CODES.expiry);
    return undefined;
  }
  // Go's Duration / 2 truncates to whole nanoseconds.
  return { ttlNs: ttl, checkIntervalNs: interval > 0 ? interval : Math.trunc(ttl / 2) };
}

// ---------------------------------------------------------------------------------------------
// jsonpb-style reading: snake_case or lowerCamelCase keys, unknown keys rejected, every problem
// reported at the path of the key as written (so the core can point at its line).

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Reports and counts problems, and reads the shapes params are made of. */
class Context extends CountingReporter {
  object(raw: unknown, path: ConfigPath, names: readonly string[], what: string): JsonpbObject | undefined {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      this.issue(path, `expected a mapping, found ${describe(raw)}`, CODES.type);
      return undefined;
    }
    return new JsonpbObject(raw as Record<string, unknown>, path, names, what, JSONPB_CODES, this);
  }

  array(raw: unknown, path: ConfigPath): readonly unknown[] | undefined {
    if (raw === null) return [];
    if (!Array.isArray(raw)) {
      this.issue(path, `expected a list, found ${describe(raw)}`, CODES.type);
      return undefined;
    }
    return raw;
  }

  string(field: JsonpbField | undefined): string | undefined {
    if (field === undefined || field.value === null) return undefined;
    if (typeof field.value !== 'string') {
      this.issue(field.path, `expected a string, found ${describe(field.value)}`, CODES.type);
      return undefined;
    }
    return field.value;
  }

  stringArray(raw: unknown, path: ConfigPath): string[] | undefined {
    const list = this.array(raw, path);
    if (list === undefined) return undefined;
    const out: string[] = [];
    let ok = true;
    list.forEach((v, i) => {
      if (typeof v === 'string') out.push(v);
      else {
        ok = false;
        this.issue([...path, i], `expected a string, found ${describe(v)}`, CODES.type);
      }
    });
    return ok ? out : undefined;
  }

  /** jsonpb doubles: a number, or a string holding one (including "NaN" and "Infinity"). */
  double(field: JsonpbField | undefined): number | undefined {
    if (field === undefined || field.value === null) return undefined;
    return this.doubleValue(field.value, field.path);
  }

  numberArray(raw: unknown, path: ConfigPath): number[] | undefined {
    const list = this.array(raw, path);
    if (list === undefined) return undefined;
    const out: number[] = [];
    let ok = true;
    list.forEach((v, i) => {
      const n = this.doubleValue(v, [...path, i]);
      if (n === undefined) ok = false;
      else out.push(n);
    });
    return ok ? out : undefined;
  }

  private doubleValue(v: unknown, path: ConfigPath): number | undefined {
    if (typeof v === 'number') return v;
    if (typeof v === 'string') {
      const t = v.trim();
      if (t === 'NaN') return NaN;
      if (t === 'Infinity') return Infinity;
      if (t === '-Infinity') return -Infinity;
      if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) return Number(t);
    }
    this.issue(path, `expected a number, found ${describe(v)}`, CODES.type);
    return undefined;
  }

  /** jsonpb int32: an integer number or a string holding one, within int32 range. */
  int32(field: JsonpbField | undefined): number | undefined {
    if (field === undefined || field.value === null) return undefined;
    const v = field.value;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^[+-]?\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) {
      this.issue(field.path, `expected a 32-bit integer, found ${describe(v)}`, CODES.type);
      return undefined;
    }
    return n;
  }

  /** A Go duration string (`"10m"`, `"1.5s"`), in nanoseconds. */
  duration(field: JsonpbField | undefined): number | undefined {
    if (field === undefined || field.value === null) return undefined;
    const v = field.value;
    if (typeof v !== 'string') {
      this.issue(field.path, `expected a duration string such as "10m" or "30s", found ${describe(v)}`, CODES.type);
      return undefined;
    }
    const parsed = parseGoDuration(v);
    if (!parsed.ok) {
      this.issue(field.path, parsed.message, CODES.expiry);
      return undefined;
    }
    return parsed.nanos;
  }
}
