/** Hand-built instance specs, instances, reporters and handler environments for adapter tests. */
import type {
  AttributeValue,
  ConfigReporter,
  DimensionSpec,
  ErrorCode,
  ExpositionRegistry,
  HandlerEnv,
  InstanceSpec,
  Logger,
  MetricInstance,
  ValueType,
} from '../../src/core/adapter.js';
import type { LogFields } from '../../src/core/log.js';

export function spec(name: string, valueType: ValueType, dimensions: Readonly<Record<string, ValueType>> = {}): InstanceSpec {
  const dims: DimensionSpec[] = Object.entries(dimensions).map(([n, t]) => ({ name: n, type: t }));
  return { name, template: 'metric', valueType, dimensions: dims, monitoredResourceDimensions: [] };
}

/** An instance of `s` with dimension values given by name (in any order). */
export function instance(s: InstanceSpec, value: AttributeValue | null, dimensions: Readonly<Record<string, AttributeValue>> = {}): MetricInstance {
  return {
    spec: s,
    value,
    dimensions: s.dimensions.map((d) => {
      const v = dimensions[d.name];
      if (v === undefined) throw new Error(`test instance of ${s.name} lacks dimension ${d.name}`);
      return v;
    }),
    monitoredResourceType: 'UNSPECIFIED',
    monitoredResourceDimensions: [],
  };
}

export interface Issue {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly code: ErrorCode | undefined;
}

export function collectingReporter(): ConfigReporter & { readonly issues: Issue[]; readonly warnings: Issue[] } {
  const issues: Issue[] = [];
  const warnings: Issue[] = [];
  return {
    issues,
    warnings,
    issue(path, message, code) {
      issues.push({ path: [...path], message, code });
    },
    warn(path, message, code) {
      warnings.push({ path: [...path], message, code });
    },
  };
}

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: LogFields | undefined;
}

export function recordingLogger(lines: LogLine[] = []): Logger & { readonly lines: LogLine[] } {
  const log = (level: LogLine['level']) => (msg: string, fields?: LogFields) => {
    lines.push({ level, msg, fields });
  };
  const logger: Logger & { readonly lines: LogLine[] } = {
    lines,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: () => logger,
  };
  return logger;
}

export interface TestEnv extends HandlerEnv {
  readonly logger: Logger & { readonly lines: LogLine[] };
  readonly events: Map<string, number>;
  /** How often `event` was counted. */
  event(name: string): number;
  /** Moves the fake clock (no effect on a real-clock env). */
  advance(ms: number): void;
}

const noExposition: ExpositionRegistry = { register: () => undefined, unregister: () => undefined };

/** A handler environment that records logs and events; a fake clock from `fakeClockStartMs`, else the real one. */
export function testEnv(name: string, fakeClockStartMs?: number): TestEnv {
  let now = fakeClockStartMs;
  const events = new Map<string, number>();
  return {
    name,
    logger: recordingLogger(),
    clock: { now: () => now ?? Date.now() },
    exposition: noExposition,
    stats: {
      count(event, n = 1) {
        events.set(event, (events.get(event) ?? 0) + n);
      },
    },
    events,
    event: (e) => events.get(e) ?? 0,
    advance(ms) {
      if (now !== undefined) now += ms;
    },
  };
}

export function neverAborted(): AbortSignal {
  return new AbortController().signal;
}
