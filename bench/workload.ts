/**
 * The traffic every ingest-side bench feeds: Reports shaped like an Istio 1.4 sidecar's
 * (spec §1.6): 100 INDEPENDENT HTTP attribute sets of about 40 attributes each, every word that
 * is not in the global dictionary in `default_words`. Seeded, so every run sends the same bytes.
 *
 * Services form a small mesh (10 services, 16 call edges, both reporters), which with response
 * codes, flags and protocols gives a few hundred distinct Istio label sets, as a real mesh of
 * that size would. Per-request values (ids, paths, trace headers, sizes, times) differ in every
 * set, so the decoder sees as many distinct words as Envoy would send it.
 */
import { readFile } from 'node:fs/promises';
import { bool, buildReport, dur, encodeReport, int, ip, smap, str, ts, type AttributeSet } from '../src/client/compressor.js';

export const SETS_PER_REPORT = 100;

/** mulberry32: a tiny seeded PRNG so every run measures the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Service {
  readonly name: string;
  readonly namespace: string;
  readonly port: number;
  readonly grpc: boolean;
}

const SERVICES: readonly Service[] = [
  { name: 'productpage', namespace: 'bookinfo', port: 9080, grpc: false },
  { name: 'reviews', namespace: 'bookinfo', port: 9080, grpc: false },
  { name: 'ratings', namespace: 'bookinfo', port: 9080, grpc: false },
  { name: 'details', namespace: 'bookinfo', port: 9080, grpc: false },
  { name: 'frontend', namespace: 'shop', port: 8080, grpc: false },
  { name: 'cartservice', namespace: 'shop', port: 7070, grpc: true },
  { name: 'checkoutservice', namespace: 'shop', port: 5050, grpc: true },
  { name: 'paymentservice', namespace: 'shop', port: 50051, grpc: true },
  { name: 'currencyservice', namespace: 'shop', port: 7000, grpc: true },
  { name: 'istio-ingressgateway', namespace: 'istio-system', port: 80, grpc: false },
];

/** Caller → callee, by index into SERVICES. */
const EDGES: readonly (readonly [number, number])[] = [
  [9, 0], [0, 1], [0, 3], [1, 2], [9, 4], [4, 5], [4, 6], [4, 8], [6, 5], [6, 7], [6, 8], [4, 1], [0, 2], [9, 1], [4, 3], [6, 3],
];

const PATHS = ['/productpage', '/reviews/', '/ratings/', '/details/', '/api/v1/products/', '/cart/', '/checkout/', '/hipstershop.PaymentService/Charge'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.97 Safari/537.36', 'python-requests/2.22.0', 'grpc-go/1.25.1', 'Go-http-client/1.1', 'curl/7.64.0'];

function hex(next: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(next() * 16)];
  return s;
}

function uuid(next: () => number): string {
  return `${hex(next, 8)}-${hex(next, 4)}-4${hex(next, 3)}-a${hex(next, 3)}-${hex(next, 12)}`;
}

function podOf(s: Service, replica: number): string {
  return `${s.name}-v1-5d9c8b7f4-${['x7k2p', 'q9w3e', 'm4n8b'][replica % 3]}`;
}

function ipOf(service: number, replica: number): string {
  return `10.44.${service}.${10 + (replica % 3)}`;
}

/** Response code and Envoy response flags: mostly 200, a few errors, as a healthy mesh looks. */
function outcome(next: () => number): [number, string] {
  const r = next();
  if (r < 0.88) return [200, '-'];
  if (r < 0.93) return [201, '-'];
  if (r < 0.96) return [404, '-'];
  if (r < 0.98) return [500, '-'];
  if (r < 0.99) return [503, 'UF'];
  return [503, 'UH'];
}

/**
 * One HTTP request as the sidecar at `reporter` reports it (inbound on the callee's sidecar,
 * outbound on the caller's), with the attributes a 1.4 proxy sends (spec §1.6): about 40.
 */
export function httpSet(next: () => number, edge: number, inbound: boolean, requestNo: number): AttributeSet {
  const [from, to] = EDGES[edge % EDGES.length]!;
  const src = SERVICES[from]!;
  const dst = SERVICES[to]!;
  const srcReplica = Math.floor(next() * 3);
  const dstReplica = Math.floor(next() * 3);
  const [code, flags] = outcome(next);
  const host = `${dst.name}.${dst.namespace}.svc.cluster.local`;
  const path = `${PATHS[to % PATHS.length]}${dst.grpc ? '' : Math.floor(next() * 1000)}`;
  const mtls = inbound ? next() < 0.9 : false;
  const reqSize = dst.grpc ? 40 + Math.floor(next() * 400) : Math.floor(next() * 2) * Math.floor(next() * 2000);
  const respSize = 100 + Math.floor(next() * 20000);
  const durationNs = Math.round(Math.exp(Math.log(8e6) + (next() + next() + next() - 1.5) * 1.8));
  const start = 1_700_000_000 + requestNo * 0.001;
  const startS = Math.floor(start);
  const startNs = Math.round((start - startS) * 1e9);
  const endNs = startNs + durationNs;
  const traceId = hex(next, 16);
  const reporterSvc = inbound ? dst : src;
  const reporterPod = `${podOf(reporterSvc, inbound ? dstReplica : srcReplica)}.${reporterSvc.namespace}`;
  const set: Record<string, ReturnType<typeof str>> = {
    'source.uid': str(`kubernetes://${podOf(src, srcReplica)}.${src.namespace}`),
    'source.namespace': str(src.namespace),
    'source.ip': ip(ipOf(from, srcReplica)),
    'destination.uid': str(`kubernetes://${podOf(dst, dstReplica)}.${dst.namespace}`),
    'destination.namespace': str(dst.namespace),
    'destination.ip': ip(ipOf(to, dstReplica)),
    'destination.port': int(dst.port),
    'destination.service.host': str(host),
    'destination.service.name': str(dst.name),
    'destination.service.namespace': str(dst.namespace),
    'destination.service.uid': str(`istio://${dst.namespace}/services/${dst.name}`),
    'context.reporter.uid': str(`kubernetes://${reporterPod}`),
    'context.reporter.kind': str(inbound ? 'inbound' : 'outbound'),
    'context.proxy_version': str('1.4.6'),
    'context.protocol': str(dst.grpc ? 'grpc' : 'http'),
    'context.proxy_error_code': str(flags),
    'request.headers': smap({
      ':authority': `${dst.name}:${dst.port}`,
      ':path': path,
      ':method': dst.grpc ? 'POST' : 'GET',
      'user-agent': AGENTS[from % AGENTS.length]!,
      'x-request-id': uuid(next),
      'x-forwarded-proto': 'http',
      'x-b3-traceid': traceId,
      'x-b3-spanid': hex(next, 16),
      'x-b3-parentspanid': traceId,
      'x-b3-sampled': '1',
      ...(dst.grpc ? { 'content-type': 'application/grpc', te: 'trailers' } : {}),
    }),
    'request.host': str(`${dst.name}:${dst.port}`),
    'request.method': str(dst.grpc ? 'POST' : 'GET'),
    'request.path': str(path),
    'request.url_path': str(path),
    'request.scheme': str('http'),
    'request.useragent': str(AGENTS[from % AGENTS.length]!),
    'request.query_params': smap(next() < 0.3 ? { page: String(Math.floor(next() * 20)) } : {}),
    'origin.ip': ip(ipOf(from, srcReplica)),
    'connection.mtls': bool(mtls),
    'connection.requested_server_name': str(inbound ? (mtls ? `outbound_.${dst.port}_._.${host}` : '') : ''),
    'request.time': ts(startS, startNs),
    'response.time': ts(startS + Math.floor(endNs / 1e9), endNs % 1e9),
    'response.headers': smap({
      ':status': String(code),
      'content-type': dst.grpc ? 'application/grpc' : 'application/json',
      date: 'Tue, 14 Nov 2023 22:13:20 GMT',
      server: 'istio-envoy',
      'x-envoy-upstream-service-time': String(Math.round(durationNs / 1e6)),
    }),
    'request.size': int(reqSize),
    'response.size': int(respSize),
    'request.total_size': int(reqSize + 600),
    'response.total_size': int(respSize + 200),
    'response.duration': dur(durationNs),
    'response.code': int(dst.grpc ? 200 : code),
  };
  if (mtls) {
    set['source.principal'] = str(`cluster.local/ns/${src.namespace}/sa/${src.name}`);
    set['destination.principal'] = str(`cluster.local/ns/${dst.namespace}/sa/${dst.name}`);
  }
  if (dst.grpc) set['response.grpc_status'] = str(code === 200 ? '0' : '14');
  return set;
}

/**
 * `count` encoded Reports of SETS_PER_REPORT sets each, from different seeds so the server
 * cannot cache its way through them. Each Report is one sidecar's batch: its sets share edges.
 */
export function encodedReports(count: number, seed = 0x1e57a11): Uint8Array[] {
  const next = rng(seed);
  const out: Uint8Array[] = [];
  let requestNo = 0;
  for (let r = 0; r < count; r++) {
    const sets: AttributeSet[] = [];
    const edgeBase = Math.floor(next() * EDGES.length);
    for (let i = 0; i < SETS_PER_REPORT; i++) {
      const edge = edgeBase + Math.floor(next() * 3);
      sets.push(httpSet(next, edge, next() < 0.5, requestNo++));
    }
    out.push(encodeReport(buildReport(sets)));
  }
  return out;
}

/**
 * Reports that create `labelSets` new label sets (one per set, each with its own service host),
 * to fill the series store the way a large mesh would before a scrape.
 */
export function seedingReports(labelSets: number, seed = 0x5eed): Uint8Array[] {
  const next = rng(seed);
  const out: Uint8Array[] = [];
  for (let start = 0; start < labelSets; start += SETS_PER_REPORT) {
    const sets: AttributeSet[] = [];
    for (let i = start; i < Math.min(labelSets, start + SETS_PER_REPORT); i++) {
      const s = httpSet(next, i, true, i);
      sets.push({ ...s, 'destination.service.host': str(`svc-${i}.seeded.svc.cluster.local`), 'response.code': int(200), 'context.proxy_error_code': str('-') });
    }
    out.push(encodeReport(buildReport(sets)));
  }
  return out;
}

export interface BenchConfigOptions {
  /** The 1.4 default telemetry config (Prometheus handler, 8 instances, 4 rules). */
  readonly defaultConfigPath: string;
  readonly statsdPort: number;
  /** HTTPTrap sink; the Circonus handler is configured only when the adapter is compiled in. */
  readonly circonusUrl: string | undefined;
}

/** The StatsD (and Circonus) handlers and rules added to the default config for the ingest bench. */
export function extraHandlersYaml(opts: BenchConfigOptions): string {
  const http = `(context.protocol == "http" || context.protocol == "grpc") && (match((request.useragent | "-"), "kube-probe*") == false) && (match((request.useragent | "-"), "Prometheus*") == false)`;
  let yaml = `---
apiVersion: "config.istio.io/v1alpha2"
kind: handler
metadata:
  name: statsd
  namespace: istio-system
spec:
  compiledAdapter: statsd
  params:
    address: "127.0.0.1:${opts.statsdPort}"
    prefix: istio
    metrics:
      requestcount.instance.istio-system:
        type: COUNTER
        name_template: 'requests.{{.destination_service}}.{{.response_code}}'
      requestduration.instance.istio-system:
        type: DISTRIBUTION
        name_template: 'latency.{{.destination_service}}'
      requestsize.instance.istio-system:
        type: COUNTER
        name_template: 'request_bytes.{{.destination_service}}'
      responsesize.instance.istio-system:
        type: COUNTER
        name_template: 'response_bytes.{{.destination_service}}'
---
apiVersion: "config.istio.io/v1alpha2"
kind: rule
metadata:
  name: statsdhttp
  namespace: istio-system
spec:
  match: ${JSON.stringify(http)}
  actions:
  - handler: statsd
    instances: [requestcount, requestduration, requestsize, responsesize]
`;
  if (opts.circonusUrl !== undefined) {
    yaml += `---
apiVersion: "config.istio.io/v1alpha2"
kind: handler
metadata:
  name: circonus
  namespace: istio-system
spec:
  compiledAdapter: circonus
  params:
    submission_url: ${JSON.stringify(opts.circonusUrl)}
    submission_interval: 10s
    metrics:
    - name: requestcount.instance.istio-system
      type: COUNTER
    - name: requestduration.instance.istio-system
      type: DISTRIBUTION
    - name: requestsize.instance.istio-system
      type: GAUGE
    - name: responsesize.instance.istio-system
      type: GAUGE
---
apiVersion: "config.istio.io/v1alpha2"
kind: rule
metadata:
  name: circonushttp
  namespace: istio-system
spec:
  match: ${JSON.stringify(http)}
  actions:
  - handler: circonus
    instances: [requestcount, requestduration, requestsize, responsesize]
`;
  }
  return yaml;
}

/** The default config followed by the extra handlers, as one YAML stream. */
export async function benchConfigYaml(opts: BenchConfigOptions): Promise<string> {
  const base = await readFile(opts.defaultConfigPath, 'utf8');
  return `${base.trimEnd()}\n${extraHandlersYaml(opts)}`;
}
