import { credentials, type ChannelCredentials, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdapterInventory } from '../../src/adapters/index.js';
import type { AnyAdapter } from '../../src/core/adapter.js';
import { silentLogger, type Logger } from '../../src/core/log.js';
import { formatHostPort } from '../../src/core/server/http.js';
import { Telemux, type BoundAddresses, type TelemuxOptions } from '../../src/core/server/telemux.js';
import type { TlsFiles } from '../../src/core/security/tls.js';
import type { Clock } from '../../src/core/adapter.js';
import { MixerClient, type ReportRequest } from '../../src/gen/istio/mixer/v1/mixer.js';
import { defaultConfigPath } from '../../src/cli/paths.js';
import { parsePrometheusText, type ParsedFamily } from './prom-text.js';
import type { GrpcTransport } from '../../src/core/server/grpc/transport.js';

export interface RpcResult {
  readonly code: number;
  readonly details: string;
}

export interface Running {
  readonly telemux: Telemux;
  readonly addresses: BoundAddresses;
  readonly client: InstanceType<typeof MixerClient>;
  report(req: ReportRequest): Promise<RpcResult>;
  scrapeText(accept?: string): Promise<string>;
  scrape(): Promise<ParsedFamily[]>;
  /** http://127.0.0.1:PORT of the admin endpoint. */
  readonly adminUrl: string;
  admin(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** YAML text written to a temp file, or a path; default: the embedded config/. */
  readonly configYaml?: string;
  readonly configPath?: string;
  readonly drainMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly adminToken?: string;
  readonly watchConfig?: boolean;
  readonly watchDebounceMs?: number;
  readonly grpcTls?: TlsFiles;
  readonly httpTls?: TlsFiles;
  readonly tenantsPath?: string;
  readonly securityPollIntervalMs?: number;
  /** Per-Report bounds (sets, attributes per set, string bytes); default the server's. */
  readonly limits?: TelemuxOptions['limits'];
  readonly connectionWindowBytes?: number;
  readonly maxPendingBytes?: number;
  readonly reportTurnBudgetMs?: number;
  /** The gRPC endpoint's HTTP/2 (default: Telemux's own). */
  readonly grpcTransport?: GrpcTransport;
  /** Adapters besides the compiled-in ones (say the recording adapter), by name. */
  readonly extraAdapters?: readonly AnyAdapter[];
  /** For the harness's client; default insecure. `scrape` and `admin` use plain fetch, so not with httpTls. */
  readonly grpcCredentials?: ChannelCredentials;
}

const LOOPBACK = { host: '127.0.0.1', port: 0 };

/** Telemux in-process on OS-picked loopback ports, with a real gRPC client. */
export async function startTelemux(opts: StartOptions = {}): Promise<Running> {
  let dir: string | undefined;
  let configPath = opts.configPath ?? defaultConfigPath();
  if (opts.configYaml !== undefined) {
    dir = await mkdtemp(join(tmpdir(), 'telemux-test-'));
    configPath = join(dir, 'config.yaml');
    await writeFile(configPath, opts.configYaml);
  }
  const inventory = createAdapterInventory();
  const telemux = new Telemux({
    configPath,
    adapters: new Map([...inventory.adapters, ...(opts.extraAdapters ?? []).map((a) => [a.name, a] as const)]),
    statViews: inventory.statViews,
    adminToken: opts.adminToken,
    watchConfig: opts.watchConfig ?? false,
    watchDebounceMs: opts.watchDebounceMs,
    grpcTls: opts.grpcTls,
    httpTls: opts.httpTls,
    tenantsPath: opts.tenantsPath,
    securityPollIntervalMs: opts.securityPollIntervalMs,
    limits: opts.limits,
    connectionWindowBytes: opts.connectionWindowBytes,
    maxPendingBytes: opts.maxPendingBytes,
    reportTurnBudgetMs: opts.reportTurnBudgetMs,
    grpcTransport: opts.grpcTransport,
    grpcAddress: LOOPBACK,
    metricsAddress: LOOPBACK,
    adminAddress: LOOPBACK,
    drainMs: opts.drainMs ?? 0,
    logger: opts.logger ?? silentLogger,
    clock: opts.clock,
  });
  const addresses = await telemux.start();
  const client = new MixerClient(formatHostPort(addresses.grpc), opts.grpcCredentials ?? credentials.createInsecure());
  const metricsUrl = `http://${formatHostPort(addresses.metrics)}/metrics`;
  const adminUrl = `http://${formatHostPort(addresses.admin)}`;
  const running: Running = {
    telemux,
    addresses,
    client,
    report: (req) => report(client, req),
    scrapeText: async (accept) => (await fetch(metricsUrl, accept ? { headers: { accept } } : {})).text(),
    scrape: async () => parsePrometheusText(await running.scrapeText()),
    adminUrl,
    admin: (path, init) => fetch(`${adminUrl}${path}`, init),
    stop: async () => {
      client.close();
      await telemux.shutdown();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
  return running;
}

export function report(client: InstanceType<typeof MixerClient>, req: ReportRequest, metadata?: Metadata): Promise<RpcResult> {
  return new Promise((resolve) => {
    const done = (err: ServiceError | null): void => resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '' });
    if (metadata) client.report(req, metadata, done);
    else client.report(req, done);
  });
}
