/** Hand-built instances, environments and transports for the StatsD adapter's tests. */
import {
  ValueType,
  type AttributeValue,
  type ConfigReporter,
  type DimensionSpec,
  type ExpositionRegistry,
  type HandlerEnv,
  type InstanceSpec,
  type Logger,
  type MetricInstance,
} from '../../../../src/core/adapter.js';
import type { LogFields } from '../../../../src/core/log.js';
import type { DatagramTransport, TransportFactory, TransportTarget } from '../../../../src/adapters/statsd/index.js';

export function spec(
  name: string,
  valueType: ValueType,
  dimensions: Readonly<Record<string, ValueType>> = {},
): InstanceSpec {
  const dims: DimensionSpec[] = Object.entries(dimensions).map(([n, t]) => ({ name: n, type: t }));
  return { name, template: 'metric', valueType, dimensions: dims, monitoredResourceDimensions: [] };
}

/** An instance of `s` with dimension values given by name (in any order). */
export function instance(
  s: InstanceSpec,
  value: AttributeValue | null,
  dimensions: Readonly<Record<string, AttributeValue>> = {},
): MetricInstance {
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
  readonly code: string | undefined;
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
  /** Moves the fake clock. */
  advance(ms: number): void;
}

const noExposition: ExpositionRegistry = { register: () => undefined, unregister: () => undefined };

export function testEnv(startMs = 1_700_000_000_000): TestEnv {
  let now = startMs;
  const events = new Map<string, number>();
  return {
    name: 'statsd.handler.istio-system',
    logger: recordingLogger(),
    clock: { now: () => now },
    exposition: noExposition,
    stats: {
      count(event, n = 1) {
        events.set(event, (events.get(event) ?? 0) + n);
      },
    },
    events,
    advance(ms) {
      now += ms;
    },
  };
}

/** A transport that keeps every datagram; `fail` makes sends report an error. */
export interface MemoryTransports {
  readonly factory: TransportFactory;
  readonly created: TransportTarget[];
  readonly datagrams: string[];
  readonly closed: TransportTarget[];
  fail: Error | undefined;
  /** All lines received, in order. */
  lines(): string[];
}

export function memoryTransports(): MemoryTransports {
  const t: MemoryTransports = {
    created: [],
    datagrams: [],
    closed: [],
    fail: undefined,
    factory: (target) => {
      t.created.push(target);
      const transport: DatagramTransport = {
        send(payload, done) {
          if (t.fail !== undefined) {
            const err = t.fail;
            setImmediate(() => done(err));
            return;
          }
          t.datagrams.push(payload);
          setImmediate(() => done(undefined));
        },
        async close() {
          t.closed.push(target);
        },
      };
      return transport;
    },
    lines: () => t.datagrams.flatMap((d) => d.split('\n')),
  };
  return t;
}

export function neverAborted(): AbortSignal {
  return new AbortController().signal;
}
