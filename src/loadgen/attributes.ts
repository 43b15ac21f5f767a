import { bool, int, ip, smap, str, ts, dur, type AttributeSet, type TypedValue } from '../client/compressor.js';
import type { Call } from './traffic.js';
import type { Workload } from './topology.js';

const TRUST_DOMAIN = 'cluster.local';
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.88 Safari/537.36';
const INTERNAL_AGENT = 'python-requests/2.21.0';
/** Request header bytes Envoy counts in request.total_size for these GETs. */
const REQUEST_HEADER_BYTES = 712;
const RESPONSE_HEADER_BYTES = 214;

function uid(w: Workload): string {
  return `kubernetes://${w.pod}.${w.namespace}`;
}

function principal(w: Workload): string {
  return `${TRUST_DOMAIN}/ns/${w.namespace}/sa/${w.serviceAccount}`;
}

function labels(w: Workload): TypedValue {
  return smap({ app: w.app, version: w.version, 'pod-template-hash': w.pod.split('-').at(-2) ?? '' });
}

function timestamp(ms: number): TypedValue {
  const seconds = Math.floor(ms / 1000);
  return ts(seconds, Math.round((ms - seconds * 1000) * 1e6));
}

/**
 * The attributes a 1.4 sidecar reports for one HTTP call, as Mixer saw them after kubernetesenv
 * had added the workload, namespace and label attributes. `kind` chooses whose sidecar reports:
 * `outbound` is the client's (with its own network time), `inbound` the server's.
 */
export function callAttributes(call: Call, kind: 'inbound' | 'outbound'): AttributeSet {
  const { source: s, destination: d, service: svc } = call;
  const reporter = kind === 'inbound' ? d : s;
  const nanos = kind === 'inbound' ? call.serverNanos : call.clientNanos;
  const host = `${svc.name}:${svc.port}`;
  const agent = s.name === 'istio-ingressgateway' ? USER_AGENT : INTERNAL_AGENT;
  const set: Record<string, TypedValue> = {
    'context.protocol': str('http'),
    'context.reporter.kind': str(kind),
    'context.reporter.uid': str(uid(reporter)),
    'context.time': timestamp(call.startMs + nanos / 1e6),
    'connection.mtls': bool(true),
    'connection.requested_server_name': str(`outbound_.${svc.port}_._.${svc.host}`),
    'source.uid': str(uid(s)),
    'source.ip': ip(s.ip),
    'source.principal': str(principal(s)),
    'source.namespace': str(s.namespace),
    'source.name': str(s.pod),
    'source.workload.name': str(s.name),
    'source.workload.namespace': str(s.namespace),
    'source.workload.uid': str(`istio://${s.namespace}/workloads/${s.name}`),
    'source.owner': str(`kubernetes://apis/apps/v1/namespaces/${s.namespace}/deployments/${s.name}`),
    'source.serviceAccount': str(s.serviceAccount),
    'source.labels': labels(s),
    'destination.uid': str(uid(d)),
    'destination.ip': ip(d.ip),
    'destination.port': int(svc.port),
    'destination.principal': str(principal(d)),
    'destination.namespace': str(d.namespace),
    'destination.name': str(d.pod),
    'destination.workload.name': str(d.name),
    'destination.workload.namespace': str(d.namespace),
    'destination.workload.uid': str(`istio://${d.namespace}/workloads/${d.name}`),
    'destination.owner': str(`kubernetes://apis/apps/v1/namespaces/${d.namespace}/deployments/${d.name}`),
    'destination.serviceAccount': str(d.serviceAccount),
    'destination.labels': labels(d),
    'destination.container.name': str(d.app),
    'destination.service.host': str(svc.host),
    'destination.service.name': str(svc.name),
    'destination.service.namespace': str(svc.namespace),
    'destination.service.uid': str(`istio://${svc.namespace}/services/${svc.name}`),
    'request.headers': smap({ ':authority': host, ':path': call.path, ':method': call.method, 'user-agent': agent, 'x-request-id': call.requestId }),
    'request.host': str(host),
    'request.method': str(call.method),
    'request.path': str(call.path),
    'request.url_path': str(call.path.split('?')[0]!),
    'request.scheme': str('http'),
    'request.useragent': str(agent),
    'request.id': str(call.requestId),
    'request.size': int(call.requestBytes),
    'request.total_size': int(call.requestBytes + REQUEST_HEADER_BYTES),
    'request.time': timestamp(call.startMs),
    'response.code': int(call.code),
    'response.duration': dur(nanos),
    'response.size': int(call.responseBytes),
    'response.total_size': int(call.responseBytes + RESPONSE_HEADER_BYTES),
    'response.time': timestamp(call.startMs + nanos / 1e6),
    'response.headers': smap({ ':status': String(call.code), 'content-type': call.path.startsWith('/productpage') ? 'text/html; charset=utf-8' : 'application/json', server: 'istio-envoy' }),
  };
  if (call.connectFailure) {
    set['context.proxy_error_code'] = str('UF,URX');
    // No upstream answered: no server identity, no response headers.
    delete set['destination.uid'];
    delete set['response.headers'];
  }
  return set;
}

/** The reports one call produces: the client's always, the server's unless the connection failed. */
export function reportsOf(call: Call): { reporter: Workload; set: AttributeSet }[] {
  const out = [{ reporter: call.source, set: callAttributes(call, 'outbound') }];
  if (!call.connectFailure) out.push({ reporter: call.destination, set: callAttributes(call, 'inbound') });
  return out;
}
