// Hand-built instance specs, instances and a fake handler environment for the prometheus tests.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import {
  ValueType,
  type AttributeValue,
  type Clock,
  type ConfigReporter,
  type DimensionSpec,
  type ErrorCode,
  type ExposedFamily,
  type ExpositionFormat,
  type ExpositionRegistry,
  type ExpositionSource,
  type Handler,
  type HandlerEnv,
  type InstanceSpec,
  type MetricInstance,
} from '../../../src/core/adapter.js';
import { silentLogger } from '../../../src/core/log.js';
import { parseConfig, prometheusAdapter, type PromConfig } from '../../../src/adapters/prometheus/index.js';

export function spec(
  name: string,
  valueType: ValueType,
  dimensions: readonly (string | [string, ValueType])[] = [],
): InstanceSpec {
  const dims: DimensionSpec[] = dimensions.map((d) =>
    typeof d === 'string' ? { name: d, type: ValueType.STRING } : { name: d[0], type: d[1] },
  );
  return { name, template: 'metric', valueType, dimensions: dims, monitoredResourceDimensions: [] };
}

/** An instance of `s` with dimension values given by name (in any order). */
export function instance(
  s: InstanceSpec,
  value: AttributeValue | null,
  dims: Readonly<Record<string, AttributeValue>> = {},
): MetricInstance {
  return {
    spec: s,
    value,
    dimensions: s.dimensions.map((d) => {
      const v = dims[d.name];
      if (v === undefined) throw new Error(`test instance of ${s.name} lacks dimension ${d.name}`);
      return v;
    }),
    monitoredResourceType: 'UNSPECIFIED',
    monitoredResourceDimensions: [],
  };
}

export interface RecordedIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly code: ErrorCode | undefined;
}

export function collectIssues(): ConfigReporter & { readonly issues: RecordedIssue[]; readonly warnings: RecordedIssue[] } {
  const issues: RecordedIssue[] = [];
  const warnings: RecordedIssue[] = [];
  return {
    issues,
    warnings,
    issue: (path, message, code) => void issues.push({ path: [...path], message, code }),
    warn: (path, message, code) => void warnings.push({ path: [...path], message, code }),
  };
}

/**
 * The instances a rule would route to a handler with these params: those its metrics name. (A bound
 * instance that no metric exports is an error of its own, tested separately.)
 */
export function routedInstances(params: unknown, candidates: readonly InstanceSpec[]): InstanceSpec[] {
  const metrics = (params as { metrics?: unknown } | null | undefined)?.metrics;
  const names = new Set<unknown>(Array.isArray(metrics) ? metrics.map((m: Record<string, unknown> | null) => m?.['instance_name'] ?? m?.['instanceName']) : []);
  return candidates.filter((c) => names.has(c.name));
}

/** parseConfig that must succeed. */
export function mustParse(params: unknown, instances: readonly InstanceSpec[]): PromConfig {
  const r = collectIssues();
  const cfg = parseConfig(params, routedInstances(params, instances), r);
  if (cfg === undefined) throw new Error(`unexpected config issues: ${JSON.stringify(r.issues, null, 2)}`);
  return cfg;
}

export class FakeClock implements Clock {
  constructor(public ms = 1_700_000_000_000) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export class FakeRegistry implements ExpositionRegistry {
  readonly sources = new Map<string, ExpositionSource>();
  register(owner: string, source: ExpositionSource): void {
    this.sources.set(owner, source);
  }
  unregister(owner: string, source: ExpositionSource): void {
    if (this.sources.get(owner) === source) this.sources.delete(owner);
  }
  /** What the core's endpoint would serve (families sorted by name, `# EOF` for OpenMetrics). */
  render(format: ExpositionFormat = 'prometheus-text-0.0.4'): string {
    const families: ExposedFamily[] = [];
    for (const s of this.sources.values()) families.push(...s.families());
    families.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let out = '';
    for (const f of families) for (const chunk of f.chunks(format)) out += chunk;
    return format === 'openmetrics-1.0.0' ? `${out}# EOF\n` : out;
  }
}

export interface TestEnv extends HandlerEnv {
  readonly clock: FakeClock;
  readonly exposition: FakeRegistry;
  readonly events: Map<string, number>;
}

export function testEnv(name = 'prometheus.handler.istio-system'): TestEnv {
  const events = new Map<string, number>();
  return {
    name,
    logger: silentLogger,
    clock: new FakeClock(),
    exposition: new FakeRegistry(),
    stats: { count: (event, n = 1) => void events.set(event, (events.get(event) ?? 0) + n) },
    events,
  };
}

/** parseConfig + createHandler + start, as the core would do it. */
export async function startHandler(
  params: unknown,
  instances: readonly InstanceSpec[],
  env: TestEnv = testEnv(),
): Promise<{ handler: Handler; env: TestEnv }> {
  const cfg = prometheusAdapter.parseConfig(params, instances, collectIssues());
  if (cfg === undefined) {
    const r = collectIssues();
    prometheusAdapter.parseConfig(params, instances, r);
    throw new Error(`unexpected config issues: ${JSON.stringify(r.issues, null, 2)}`);
  }
  const handler = prometheusAdapter.createHandler(cfg, instances, env);
  await handler.start();
  return { handler, env };
}

// --- the Istio 1.4 default telemetry config -------------------------------------------------

const HTTP_DIMS = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'request_protocol',
  ['response_code', ValueType.INT64],
  'response_flags',
  'permissive_response_code',
  'permissive_response_policyid',
  'connection_security_policy',
] as const satisfies readonly (string | [string, ValueType])[];

const TCP_DIMS = [
  ...HTTP_DIMS.slice(0, 11),
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'connection_security_policy',
  'response_flags',
] as const;

const NS = 'istio-system';

/** The eight metric instances of Istio 1.4's default config, as the core would infer them. */
export const DEFAULT_INSTANCES: readonly InstanceSpec[] = [
  spec(`requestcount.instance.${NS}`, ValueType.INT64, HTTP_DIMS),
  spec(`requestduration.instance.${NS}`, ValueType.DURATION, HTTP_DIMS),
  spec(`requestsize.instance.${NS}`, ValueType.INT64, HTTP_DIMS),
  spec(`responsesize.instance.${NS}`, ValueType.INT64, HTTP_DIMS),
  spec(`tcpbytesent.instance.${NS}`, ValueType.INT64, TCP_DIMS),
  spec(`tcpbytereceived.instance.${NS}`, ValueType.INT64, TCP_DIMS),
  spec(`tcpconnectionsopened.instance.${NS}`, ValueType.INT64, TCP_DIMS),
  spec(`tcpconnectionsclosed.instance.${NS}`, ValueType.INT64, TCP_DIMS),
];

/** The `params` of the default prometheus handler, read from the embedded config/. */
export function defaultHandlerParams(): unknown {
  const text = readFileSync(new URL('../../../config/istio-1.4-telemetry.yaml', import.meta.url), 'utf8');
  for (const doc of parseAllDocuments(text)) {
    const v = doc.toJS() as { kind?: string; spec?: { compiledAdapter?: string; params?: unknown } } | null;
    if (v?.kind === 'handler' && v.spec?.compiledAdapter === 'prometheus') return v.spec.params;
  }
  throw new Error('no prometheus handler in config/istio-1.4-telemetry.yaml');
}

/** Dimension values of one inbound HTTP request (Appendix A of the spec). */
export function httpDims(overrides: Readonly<Record<string, AttributeValue>> = {}): Record<string, AttributeValue> {
  return {
    reporter: 'destination',
    source_workload: 'unknown',
    source_workload_namespace: 'unknown',
    source_principal: 'unknown',
    source_app: 'unknown',
    source_version: 'unknown',
    destination_workload: 'unknown',
    destination_workload_namespace: 'unknown',
    destination_principal: 'unknown',
    destination_app: 'unknown',
    destination_version: 'unknown',
    destination_service: 'reviews.default.svc.cluster.local',
    destination_service_name: 'unknown',
    destination_service_namespace: 'unknown',
    request_protocol: 'http',
    response_code: 200,
    response_flags: '-',
    permissive_response_code: 'none',
    permissive_response_policyid: 'none',
    connection_security_policy: 'mutual_tls',
    ...overrides,
  };
}
