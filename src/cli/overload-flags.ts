import { parseGoDuration } from '../core/expr/index.js';
import { parseByteSize, type LoadShedderOptions, type ReportLimitsOptions } from '../core/server/overload.js';
import { UsageError, type ParsedFlags } from './args.js';

/** Flags of `serve` that bound load and Report size; defaults favour protecting the process. */
export const OVERLOAD_FLAG_OPTIONS = {
  'max-rss': { type: 'string' },
  'shed-event-loop-utilization': { type: 'string' },
  'shed-event-loop-delay': { type: 'string' },
  'max-reports-in-flight': { type: 'string' },
  'max-message-bytes': { type: 'string' },
  'max-sets-per-report': { type: 'string' },
  'max-attributes-per-set': { type: 'string' },
  'max-string-bytes': { type: 'string' },
  'grpc-connection-window': { type: 'string' },
  'report-turn-budget': { type: 'string' },
} as const;

export const OVERLOAD_USAGE = `  --max-rss SIZE                   shed Reports (UNAVAILABLE) once RSS reaches 90% of SIZE, e.g. 512MiB (default: off)
  --shed-event-loop-utilization R  admit only part of the Reports while the event loop is busier than R (default 0.95; 0: off)
  --shed-event-loop-delay DURATION shed while the mean event-loop delay is above it (default 100ms; 0: off)
  --max-reports-in-flight N        (default: off)
  --max-message-bytes SIZE         largest Report accepted (default 1MiB, as Mixer)
  --max-sets-per-report N          (default 1000)     --max-attributes-per-set N  (default 512)
  --max-string-bytes SIZE          longest word or bytes value (default 64KiB)
  --grpc-connection-window SIZE    HTTP/2 bytes a connection may have in flight (default 256KiB, at least 64KiB)
  --report-turn-budget DURATION    Report work per event-loop turn before the rest waits a turn (default 5ms)`;

export interface OverloadSettings {
  readonly overload: Omit<LoadShedderOptions, 'logger' | 'onShed'>;
  readonly limits: Omit<ReportLimitsOptions, 'maxMessageBytes'>;
  readonly maxMessageBytes: number;
  readonly connectionWindowBytes: number | undefined;
  readonly reportTurnBudgetMs: number;
}

const MIN_MAX_RSS_BYTES = 64 * 1024 * 1024;

export function overloadSettings(flags: ParsedFlags): OverloadSettings {
  const text = (name: string): string | undefined => flags[name] as string | undefined;
  const size = (name: string, fallback: number | undefined): number | undefined => {
    const t = text(name);
    if (t === undefined) return fallback;
    const n = parseByteSize(t);
    if (n === undefined || n <= 0) throw new UsageError(`--${name}: expected a size like 512MiB, got '${t}'`);
    return n;
  };
  const count = (name: string): number | undefined => {
    const t = text(name);
    if (t === undefined) return undefined;
    const n = Number(t);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name}: expected a positive whole number, got '${t}'`);
    return n;
  };
  const maxRss = size('max-rss', undefined);
  // Below what Node itself occupies every Report would be shed: a size without its unit
  // (`--max-rss 512`, bytes) is the likely mistake.
  if (maxRss !== undefined && maxRss < MIN_MAX_RSS_BYTES) {
    throw new UsageError(`--max-rss: ${String(maxRss)} bytes is less than Node itself needs (at least 64MiB); give a unit, e.g. 512MiB`);
  }
  const utilText = text('shed-event-loop-utilization') ?? '0.95';
  const utilization = Number(utilText);
  if (!Number.isFinite(utilization) || utilization < 0 || utilization > 1) throw new UsageError(`--shed-event-loop-utilization: expected a ratio from 0 to 1, got '${utilText}'`);
  const budgetText = text('report-turn-budget') ?? '5ms';
  const budget = parseGoDuration(budgetText);
  if (!budget.ok || budget.nanos < 0) throw new UsageError(`--report-turn-budget: expected a duration like 5ms, got '${budgetText}'`);
  const delayText = text('shed-event-loop-delay') ?? '100ms';
  const delay = parseGoDuration(delayText);
  if (!delay.ok || delay.nanos < 0) throw new UsageError(`--shed-event-loop-delay: expected a duration like 100ms, got '${delayText}'`);
  return {
    overload: {
      maxRssBytes: maxRss,
      maxEventLoopUtilization: utilization,
      maxEventLoopDelayMs: delay.nanos / 1e6,
      maxInFlightReports: count('max-reports-in-flight'),
    },
    limits: {
      maxSetsPerReport: count('max-sets-per-report'),
      maxAttributesPerSet: count('max-attributes-per-set'),
      maxStringBytes: size('max-string-bytes', undefined),
    },
    maxMessageBytes: size('max-message-bytes', 1024 * 1024)!,
    connectionWindowBytes: connectionWindow(size('grpc-connection-window', undefined)),
    reportTurnBudgetMs: budget.nanos / 1e6,
  };
}

/** HTTP/2's own default is the floor: a narrower window would only slow every client down. */
function connectionWindow(bytes: number | undefined): number | undefined {
  if (bytes === undefined) return undefined;
  if (bytes < 65_535 || bytes > 2 ** 31 - 1) throw new UsageError(`--grpc-connection-window: expected a size from 64KiB to 2GiB, got ${bytes} bytes`);
  return bytes;
}
