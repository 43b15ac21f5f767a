/**
 * The stat view's query and its answer. Row fields are snake_case because they are the JSON wire
 * format of `GET /api/v1/stat` and `telemux stat -o json`, which scripts depend on: names and units
 * never change meaning (latencies in milliseconds, success as a ratio in [0, 1], rate per second).
 */
import { TelemuxError } from '../errors.js';
import { parseGoDuration } from '../expr/duration.js';

export type StatGrouping = 'workload' | 'service' | 'edge';

export const STAT_GROUPINGS: readonly StatGrouping[] = ['workload', 'service', 'edge'];

export interface StatQuery<B extends StatGrouping = StatGrouping> {
  readonly by: B;
  readonly windowMs: number;
  /** Only traffic whose destination workload is in this namespace. */
  readonly namespace?: string;
}

export const DEFAULT_STAT_WINDOW_MS = 60_000;

export interface StatMeasures {
  /** Requests in the window, exact. */
  readonly requests: number;
  /** Share of requests answered below 500 (null without requests). */
  readonly success: number | null;
  /** Requests per second over the time the window covers, rounded to 0.001. */
  readonly rps: number;
  /** Latency quantiles in milliseconds, rounded to 0.001 (null without samples). */
  readonly latency_ms_p50: number | null;
  readonly latency_ms_p95: number | null;
  readonly latency_ms_p99: number | null;
}

export interface WorkloadRow extends StatMeasures {
  readonly namespace: string;
  readonly workload: string;
}

export interface ServiceRow extends StatMeasures {
  readonly service: string;
}

export interface EdgeRow extends StatMeasures {
  readonly source_namespace: string;
  readonly source_workload: string;
  readonly destination_namespace: string;
  readonly destination_workload: string;
}

export type StatRow = WorkloadRow | ServiceRow | EdgeRow;

export type StatResult =
  | { readonly by: 'workload'; readonly window_seconds: number; readonly rows: readonly WorkloadRow[] }
  | { readonly by: 'service'; readonly window_seconds: number; readonly rows: readonly ServiceRow[] }
  | { readonly by: 'edge'; readonly window_seconds: number; readonly rows: readonly EdgeRow[] };

/** The result of a query grouped by `B`. */
export type StatResultFor<B extends StatGrouping> = Extract<StatResult, { readonly by: B }>;

/** The identity columns of each grouping, in sort order. */
export const STAT_KEY_COLUMNS: Readonly<Record<StatGrouping, readonly string[]>> = {
  workload: ['namespace', 'workload'],
  service: ['service'],
  edge: ['source_namespace', 'source_workload', 'destination_namespace', 'destination_workload'],
};

/** Reads `by`, `window` and `namespace` as the admin API and the CLI receive them. */
export function parseStatQuery(params: { by?: string | null; window?: string | null; namespace?: string | null }): StatQuery {
  const by = params.by ?? 'workload';
  if (!(STAT_GROUPINGS as readonly string[]).includes(by)) {
    throw new TelemuxError('STAT_BAD_QUERY', `by: expected one of ${STAT_GROUPINGS.join(', ')}, got '${by}'`);
  }
  let windowMs = DEFAULT_STAT_WINDOW_MS;
  if (params.window) {
    const d = parseGoDuration(params.window);
    if (!d.ok || d.nanos <= 0) throw new TelemuxError('STAT_BAD_QUERY', `window: expected a positive duration like 1m or 30s, got '${params.window}'`);
    windowMs = d.nanos / 1e6;
  }
  const namespace = params.namespace || undefined;
  return { by: by as StatGrouping, windowMs, ...(namespace ? { namespace } : {}) };
}

/** JSON with keys sorted at every level, two-space indented: equal results print identically. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return v;
}
