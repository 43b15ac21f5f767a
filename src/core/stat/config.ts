/**
 * Params of the built-in `telemuxstat` handler, and the shape its instances must have. The view is
 * only useful with exactly these dimensions, so anything else is a config error with its position
 * rather than a view that silently shows "unknown".
 */
import type { ConfigReporter, InstanceSpec } from '../adapter.js';
import { ValueType, valueTypeName } from '../attributes/value-type.js';
import { parseGoDuration } from '../expr/duration.js';
import { camel, describe, isRecord } from '../config/spec-reader.js';

export interface StatConfig {
  /** Width of one time slice; windows are whole slices. */
  readonly sliceMs: number;
  /** How far back slices are kept: the longest window a query may ask for. */
  readonly retentionMs: number;
  /** Distinct (source, destination, service) keys kept; more go to one overflow row. */
  readonly maxKeys: number;
}

export const STAT_DEFAULTS = { sliceDuration: '10s', retention: '10m', maxKeys: 2000 } as const;

/** Bounds that keep a slice ring short enough to scan on every query. */
export const STAT_LIMITS = { minSliceMs: 1_000, maxSlices: 360, maxKeys: 100_000 } as const;

/** The dimension each role is read from. Instances must define all of them, with these types. */
export const STAT_DIMENSIONS = {
  sourceWorkload: { name: 'source_workload', type: ValueType.STRING },
  sourceNamespace: { name: 'source_workload_namespace', type: ValueType.STRING },
  destinationWorkload: { name: 'destination_workload', type: ValueType.STRING },
  destinationNamespace: { name: 'destination_workload_namespace', type: ValueType.STRING },
  destinationService: { name: 'destination_service', type: ValueType.STRING },
  responseCode: { name: 'response_code', type: ValueType.INT64 },
} as const;

export type StatRole = keyof typeof STAT_DIMENSIONS;

const FIELDS = ['slice_duration', 'retention', 'max_keys'] as const;

type Path = readonly (string | number)[];

export function parseStatConfig(params: unknown, instances: readonly InstanceSpec[], report: ConfigReporter): StatConfig | undefined {
  let errors = 0;
  const issue = (path: Path, message: string): void => {
    errors++;
    report.issue(path, message, 'ADAPTER_CONFIG');
  };
  const p = params ?? {};
  if (!isRecord(p)) {
    issue([], `params must be a map, got ${describe(p)}`);
    return undefined;
  }
  const known = new Set<string>(FIELDS.flatMap((f) => [f, camel(f)]));
  for (const k of Object.keys(p)) {
    if (!known.has(k)) {
      errors++;
      report.issue([k], `unknown field '${k}' in telemuxstat params (known: ${FIELDS.map(camel).join(', ')})`, 'CFG_UNKNOWN_FIELD', 'key');
    }
  }
  const keyOf = (f: string): string => (f in p ? f : camel(f));
  const duration = (field: string, fallback: string): number | undefined => {
    const key = keyOf(field);
    const raw = p[key] ?? fallback;
    if (typeof raw !== 'string') {
      issue([key], `'${camel(field)}' must be a duration string like "${fallback}", got ${describe(raw)}`);
      return undefined;
    }
    const d = parseGoDuration(raw);
    if (!d.ok) {
      issue([key], `'${camel(field)}': ${d.message}`);
      return undefined;
    }
    return d.nanos / 1e6;
  };
  const sliceMs = duration('slice_duration', STAT_DEFAULTS.sliceDuration);
  const retentionMs = duration('retention', STAT_DEFAULTS.retention);
  const maxKeysKey = keyOf('max_keys');
  const maxKeysRaw = p[maxKeysKey] ?? STAT_DEFAULTS.maxKeys;
  let maxKeys: number | undefined;
  if (typeof maxKeysRaw !== 'number' || !Number.isInteger(maxKeysRaw) || maxKeysRaw < 1 || maxKeysRaw > STAT_LIMITS.maxKeys) {
    issue([maxKeysKey], `'maxKeys' must be an integer from 1 to ${STAT_LIMITS.maxKeys}, got ${describe(maxKeysRaw)}`);
  } else {
    maxKeys = maxKeysRaw;
  }
  if (sliceMs !== undefined && (sliceMs < STAT_LIMITS.minSliceMs || !Number.isInteger(sliceMs))) {
    issue([keyOf('slice_duration')], `'sliceDuration' must be a whole number of milliseconds, at least 1s, got ${sliceMs} ms`);
  }
  if (sliceMs !== undefined && retentionMs !== undefined && sliceMs >= STAT_LIMITS.minSliceMs) {
    const slices = retentionMs / sliceMs;
    if (!Number.isInteger(slices) || slices < 1) {
      issue([keyOf('retention')], `'retention' must be a whole multiple of 'sliceDuration' (${sliceMs / 1000}s), got ${retentionMs / 1000}s`);
    } else if (slices > STAT_LIMITS.maxSlices) {
      issue([keyOf('retention')], `'retention' / 'sliceDuration' must be at most ${STAT_LIMITS.maxSlices} slices, got ${slices}`);
    }
  }
  checkInstances(instances, report, issue);
  if (errors > 0 || sliceMs === undefined || retentionMs === undefined || maxKeys === undefined) return undefined;
  return { sliceMs, retentionMs, maxKeys };
}

function checkInstances(instances: readonly InstanceSpec[], report: ConfigReporter, issue: (path: Path, message: string) => void): void {
  const wanted = Object.values(STAT_DIMENSIONS);
  for (const spec of instances) {
    if (spec.valueType !== ValueType.DURATION) {
      issue([], `instance '${spec.name}': its value must be a DURATION (e.g. response.duration | "0ms"), got ${valueTypeName(spec.valueType)}`);
    }
    for (const w of wanted) {
      const d = spec.dimensions.find((x) => x.name === w.name);
      if (!d) issue([], `instance '${spec.name}' has no dimension '${w.name}' (telemuxstat needs ${wanted.map((x) => x.name).join(', ')})`);
      else if (d.type !== w.type && d.type !== ValueType.VALUE_TYPE_UNSPECIFIED) {
        issue([], `instance '${spec.name}': dimension '${w.name}' must be ${valueTypeName(w.type)}, got ${valueTypeName(d.type)}`);
      }
    }
    const extra = spec.dimensions.filter((d) => !wanted.some((w) => w.name === d.name)).map((d) => d.name);
    if (extra.length > 0) report.warn([], `instance '${spec.name}': dimensions ${extra.join(', ')} are not used by telemuxstat`, 'ADAPTER_CONFIG');
  }
}
