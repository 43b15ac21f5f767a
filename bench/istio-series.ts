/**
 * Handlers built from the default config's Prometheus handler (and a Circonus handler), fed
 * instances with Istio label sets directly: for the scrape and memory benches, which are about
 * the series store and renderer, not the Report path.
 */
import type { ExposedFamily, ExpositionRegistry, ExpositionSource, Handler, HandlerEnv, InstanceSpec, MetricInstance } from '../src/core/adapter.js';
import { ADAPTERS } from '../src/adapters/index.js';
import { defaultConfigPath } from '../src/cli/paths.js';
import { loadConfigPath } from '../src/core/config/document.js';
import { compileConfig, type HandlerPlan } from '../src/core/config/compile.js';
import { silentLogger } from '../src/core/log.js';
import { join } from 'node:path';

export const HTTP_INSTANCES = ['requestcount', 'requestduration', 'requestsize', 'responsesize'].map((n) => `${n}.instance.istio-system`);

/** The Prometheus handler plan of the Istio 1.4 default config (8 metrics, 4 of them HTTP). */
export async function defaultPrometheusPlan(): Promise<HandlerPlan> {
  const loaded = await loadConfigPath(join(defaultConfigPath(), 'istio-1.4-telemetry.yaml'));
  const snapshot = compileConfig(loaded.documents, { adapters: ADAPTERS }).snapshot;
  const plan = snapshot?.handlers.get('prometheus.handler.istio-system');
  if (!plan) throw new Error('default config has no prometheus handler');
  return plan;
}

/** A registry that keeps the last source registered, as the core's does for one handler. */
export class OneSource implements ExpositionRegistry {
  source: ExpositionSource | undefined;
  register(_owner: string, source: ExpositionSource): void {
    this.source = source;
  }
  unregister(): void {
    this.source = undefined;
  }
  families(): ExposedFamily[] {
    return [...(this.source?.families() ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

export function envFor(name: string, exposition: ExpositionRegistry): HandlerEnv {
  return { name, logger: silentLogger, clock: Date, exposition, stats: { count: () => undefined } };
}

export async function startPlan(plan: HandlerPlan, exposition: ExpositionRegistry): Promise<Handler> {
  const h = plan.adapter.createHandler(plan.config, plan.instances, envFor(plan.name, exposition));
  await h.start();
  return h;
}

const SERVICES = ['productpage', 'reviews', 'ratings', 'details', 'frontend', 'cartservice', 'checkoutservice', 'paymentservice', 'currencyservice', 'shippingservice'];

/**
 * The 20 Istio dimension values of label set `i`, in the instance's dimension order, as the
 * default instances produce them: workload/app/version fall back to "unknown" (Envoy does not
 * send them), the rest vary like a mesh of `i` distinct service hosts. Strings are built fresh
 * per call, as decoding a Report yields fresh strings.
 */
export function istioDimensions(spec: InstanceSpec, i: number): (string | number)[] {
  const svc = SERVICES[i % SERVICES.length]!;
  const src = SERVICES[(i * 7 + 3) % SERVICES.length]!;
  const ns = i % 3 === 0 ? 'bookinfo' : 'shop';
  const inbound = i % 2 === 0;
  const mtls = inbound && i % 10 !== 0;
  const values: Record<string, string | number> = {
    reporter: inbound ? 'destination' : 'source',
    source_workload: 'unknown',
    source_workload_namespace: 'unknown',
    source_principal: mtls ? `cluster.local/ns/${ns}/sa/${src}` : 'unknown',
    source_app: 'unknown',
    source_version: 'unknown',
    destination_workload: 'unknown',
    destination_workload_namespace: 'unknown',
    destination_principal: mtls ? `cluster.local/ns/${ns}/sa/${svc}` : 'unknown',
    destination_app: 'unknown',
    destination_version: 'unknown',
    destination_service: `${svc}-${String(i)}.${ns}.svc.cluster.local`,
    destination_service_name: `${svc}-${String(i)}`,
    destination_service_namespace: `${ns}`,
    request_protocol: i % 4 === 0 ? 'grpc' : 'http',
    response_code: [200, 200, 200, 404, 503][i % 5]!,
    response_flags: i % 5 === 4 ? 'UF' : '-',
    permissive_response_code: 'none',
    permissive_response_policyid: 'none',
    connection_security_policy: inbound ? (mtls ? 'mutual_tls' : 'none') : 'unknown',
  };
  return spec.dimensions.map((d) => values[d.name] ?? 'unknown');
}

export function instanceOf(spec: InstanceSpec, value: number, dims: (string | number)[]): MetricInstance {
  return { spec, value, dimensions: dims, monitoredResourceType: 'UNSPECIFIED', monitoredResourceDimensions: [] };
}

/** A sample value of the instance's kind: 1 for counts, a log-normal-ish duration or size otherwise. */
export function valueFor(spec: InstanceSpec, i: number): number {
  if (spec.name.startsWith('requestcount')) return 1;
  if (spec.name.startsWith('requestduration')) return ((i * 7919) % 400) * 1e6 + 250_000;
  return (i * 104729) % 50_000;
}
