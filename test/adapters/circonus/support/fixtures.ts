/** Hand-built instances, environments and config helpers for the Circonus adapter's tests. */
import {
  ValueType,
  type AttributeValue,
  type ConfigReporter,
  type DimensionSpec,
  type ErrorCode,
  type ExpositionRegistry,
  type HandlerEnv,
  type InstanceSpec,
  type LogFields,
  type Logger,
  type MetricInstance,
} from '../../../../src/core/adapter.js';
import {
  CirconusHandler,
  parseCirconusConfig,
  type CirconusConfig,
  type CirconusHandlerOptions,
} from '../../../../src/adapters/circonus/index.js';

export function spec(name: string, valueType: ValueType, dimensions: Readonly<Record<string, ValueType>> = {}): InstanceSpec {
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
  event(name: string): number;
}

const noExposition: ExpositionRegistry = { register: () => undefined, unregister: () => undefined };

export function testEnv(name = 'circonus.handler.istio-system'): TestEnv {
  const events = new Map<string, number>();
  return {
    name,
    logger: recordingLogger(),
    clock: { now: () => Date.now() },
    exposition: noExposition,
    stats: {
      count(event, n = 1) {
        events.set(event, (events.get(event) ?? 0) + n);
      },
    },
    events,
    event: (e) => events.get(e) ?? 0,
  };
}

/** parseCirconusConfig that must succeed. */
export function mustParse(params: unknown, instances: readonly InstanceSpec[]): CirconusConfig {
  const r = collectingReporter();
  const cfg = parseCirconusConfig(params, instances, r);
  if (cfg === undefined) throw new Error(`unexpected config issues: ${JSON.stringify(r.issues, null, 2)}`);
  return cfg;
}

/** Fast retries so tests do not wait out cgm's 1 s / 2 s / 4 s schedule. */
export const FAST_RETRIES: CirconusHandlerOptions = { backoffBaseMs: 5, backoffMaxMs: 20 };

export async function startHandler(
  params: Record<string, unknown>,
  instances: readonly InstanceSpec[],
  options: CirconusHandlerOptions = FAST_RETRIES,
  env: TestEnv = testEnv(),
): Promise<{ handler: CirconusHandler; env: TestEnv }> {
  const handler = new CirconusHandler(mustParse(params, instances), instances, env, options);
  await handler.start();
  return { handler, env };
}

export function neverAborted(): AbortSignal {
  return new AbortController().signal;
}

export const REQUEST_COUNT = spec('requestcount.instance.istio-system', ValueType.INT64, {
  destination_service: ValueType.STRING,
  response_code: ValueType.INT64,
});
export const REQUEST_DURATION = spec('requestduration.instance.istio-system', ValueType.DURATION, {
  destination_service: ValueType.STRING,
  response_code: ValueType.INT64,
});
export const REQUEST_BYTES = spec('requestsize.instance.istio-system', ValueType.INT64, {
  destination_service: ValueType.STRING,
});
export const ACTIVE_CONNECTIONS = spec('connections.instance.istio-system', ValueType.INT64, {
  destination_service: ValueType.STRING,
});
