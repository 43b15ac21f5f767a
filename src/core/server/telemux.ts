import { stat } from 'node:fs/promises';
import type { AnyAdapter, Clock } from '../adapter.js';
import { ConfigWatcher, DEFAULT_WATCH_DEBOUNCE_MS } from '../config/watch.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { ConfigReloader, pathSource, type ApplyOutcome } from '../runtime/reload.js';
import { Runtime } from '../runtime/runtime.js';
import { Admission } from '../security/admission.js';
import { TenantsSource } from '../security/tenants-source.js';
import { describeCertificate, TlsSource, type TlsFiles, type TlsMaterial } from '../security/tls.js';
import type { StatViews } from '../stat/registry.js';
import { adminApiRoutes } from './admin-api.js';
import { Exposition, negotiateFormat, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE } from './exposition.js';
import { createUnaryServer, type GrpcTransport } from './grpc/transport.js';
import type { UnaryServer } from './grpc/unary.js';
import { formatHostPort, HttpEndpoint, isLoopback, type HostPort, type Route } from './http.js';
import { CONNECTION_WINDOW_BYTES, MAX_CONCURRENT_STREAMS, STREAM_WINDOW_BYTES } from './http2-window.js';
import { LoadShedder, ReportLimits, type LoadShedderOptions, type ReportLimitsOptions } from './overload.js';
import { ReportService } from './report-service.js';
import { SelfMetrics } from './self-metrics.js';
import { VERSION } from '../version.js';

/** gRPC's (and Mixer's) default largest request message. */
const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

export interface TelemuxOptions {
  readonly configPath: string;
  readonly adapters: ReadonlyMap<string, AnyAdapter>;
  readonly grpcAddress: HostPort;
  readonly metricsAddress: HostPort;
  readonly adminAddress: HostPort;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** How long /metrics keeps serving after Reports stop being accepted, so a last scrape sees all. */
  readonly drainMs?: number;
  /** gRPC max receive message size; Mixer's default is 1 MiB. */
  readonly maxMessageBytes?: number;
  /** Bytes of Reports still arriving that all calls together may hold (default 64 MiB); see grpc/unary-server.ts. */
  readonly maxPendingBytes?: number;
  /** The gRPC endpoint's HTTP/2: Telemux's own (default) or node:http2; see grpc/transport.ts. */
  readonly grpcTransport?: GrpcTransport;
  /** HTTP/2 bytes one connection may have in flight on the Report endpoint; see http2-window.ts. */
  readonly connectionWindowBytes?: number;
  /** Report work one event-loop turn may do before later Reports wait a turn (default 5 ms); see turn-budget-queue.ts. */
  readonly reportTurnBudgetMs?: number;
  /** Load shedding (UNAVAILABLE while past these) and per-Report bounds; see overload.ts. */
  readonly overload?: Omit<LoadShedderOptions, 'logger' | 'onShed'>;
  readonly limits?: Omit<ReportLimitsOptions, 'maxMessageBytes'>;
  readonly defaultNamespace?: string;
  /** Requires `Authorization: Bearer <token>` on the admin API (`/api/…`). */
  readonly adminToken?: string;
  /** Reload when files under the config path change. Default: on when it is a directory. */
  readonly watchConfig?: boolean;
  readonly watchDebounceMs?: number;
  /** Where the built-in stat handlers publish their views; the admin API queries them. */
  readonly statViews?: StatViews;
  /** TLS on the gRPC endpoint; with `clientCa`, mutual TLS. */
  readonly grpcTls?: TlsFiles;
  /** TLS on the metrics and admin HTTP endpoints; with `clientCa`, mutual TLS. */
  readonly httpTls?: TlsFiles;
  /** A tenants file: Reports then need a bearer token it lists (see src/core/security/tenants.ts). */
  readonly tenantsPath?: string;
  /** How often the TLS files and the tenants file are checked for changes. Default 2 s. */
  readonly securityPollIntervalMs?: number;
}

export interface BoundAddresses {
  readonly grpc: HostPort;
  readonly metrics: HostPort;
  readonly admin: HostPort;
}

/**
 * One Telemux process: the Mixer gRPC endpoint, the shared Prometheus pull endpoint, the admin
 * endpoint, and the runtime that owns the handlers. `start` refuses a config with any error before
 * binding a port; `shutdown` drains, flushes every handler once more and closes everything.
 */
export class Telemux {
  readonly metrics: SelfMetrics;
  readonly runtime: Runtime;
  readonly exposition = new Exposition();
  /** Every config change (startup, admin API, watcher) goes through this. */
  readonly reloader: ConfigReloader;
  /** Authentication, rate limits and series quotas of the Report path (open without a tenants file). */
  readonly admission: Admission;
  private readonly shedder: LoadShedder;
  private readonly reports: ReportService;
  private readonly grpcTls: TlsSource | undefined;
  private readonly httpTls: TlsSource | undefined;
  private readonly tenants: TenantsSource | undefined;
  private watcher: ConfigWatcher | undefined;
  private readonly grpc: UnaryServer;
  private readonly metricsHttp: HttpEndpoint;
  private readonly adminHttp: HttpEndpoint;
  private shuttingDown: Promise<void> | undefined;

  constructor(private readonly opts: TelemuxOptions) {
    this.metrics = new SelfMetrics(
      () => this.runtime.liveSeries(),
      () => this.admission.seriesUsage(),
      () => (this.shedder.enabled ? this.shedder.state : undefined),
    );
    this.admission = new Admission({ observer: { refused: (tenant, reason) => this.metrics.admissionRefusals.inc({ tenant: tenant ?? '', reason }) } });
    this.grpcTls = opts.grpcTls && this.tlsSource(opts.grpcTls, 'grpc');
    this.httpTls = opts.httpTls && this.tlsSource(opts.httpTls, 'http');
    this.tenants =
      opts.tenantsPath === undefined
        ? undefined
        : new TenantsSource({
            path: opts.tenantsPath,
            admission: this.admission,
            logger: opts.logger,
            clock: opts.clock ?? Date,
            pollIntervalMs: opts.securityPollIntervalMs,
            onReload: (ok) => this.metrics.securityReloads.inc({ source: 'tenants', result: ok ? 'applied' : 'rejected' }),
          });
    this.runtime = new Runtime({ logger: opts.logger, clock: opts.clock ?? Date, exposition: this.exposition, metrics: this.metrics });
    this.reloader = new ConfigReloader({ runtime: this.runtime, adapters: opts.adapters, defaultNamespace: opts.defaultNamespace, metrics: this.metrics, logger: opts.logger, clock: opts.clock ?? Date });
    const maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.shedder = new LoadShedder({ ...opts.overload, logger: opts.logger, onShed: (reason) => this.metrics.reportsShed.inc({ reason }) });
    this.reports = new ReportService({
      runtime: this.runtime,
      metrics: this.metrics,
      logger: opts.logger,
      admission: this.admission,
      clock: opts.clock ?? Date,
      shedder: this.shedder,
      limits: new ReportLimits({ ...opts.limits, maxMessageBytes }),
      turnBudgetMs: opts.reportTurnBudgetMs,
    });
    this.grpc = createUnaryServer({
      methods: this.reports.methods,
      maxMessageBytes,
      maxPendingBytes: opts.maxPendingBytes,
      maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
      streamWindowBytes: STREAM_WINDOW_BYTES,
      connectionWindowBytes: opts.connectionWindowBytes ?? CONNECTION_WINDOW_BYTES,
      tls: this.grpcTls,
      logger: opts.logger,
      onPendingLimit: (path) => this.reports.refusedWhileArriving(path),
    }, opts.grpcTransport);
    const onError = (e: Error): void => opts.logger.error('http handler failed', { error: e.message });
    this.metricsHttp = new HttpEndpoint(
      new Map([
        [
          '/metrics',
          async (req, res) => {
            const format = negotiateFormat(req.headers.accept);
            res.writeHead(200, { 'content-type': format === 'openmetrics-1.0.0' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE });
            await this.exposition.render(format, res);
            res.end();
          },
        ],
      ]),
      onError,
      this.httpTls,
    );
    this.adminHttp = new HttpEndpoint(
      new Map<string, Route>([
        [
          '/metrics',
          async (_req, res) => {
            const body = await this.metrics.registry.metrics();
            res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(body);
          },
        ],
        ['/healthz', (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')],
        [
          '/readyz',
          (_req, res) => {
            const ready = this.runtime.active !== undefined && !this.reports.isDraining;
            res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : this.reports.isDraining ? 'draining\n' : 'no config\n');
          },
        ],
        [
          '/version',
          (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify({ name: 'telemux', version: VERSION, node: process.version })}\n`),
        ],
        ...adminApiRoutes({ reloader: this.reloader, statViews: opts.statViews, token: opts.adminToken }),
      ]),
      onError,
      this.httpTls,
    );
  }

  private tlsSource(files: TlsFiles, endpoint: 'grpc' | 'http'): TlsSource {
    return new TlsSource({
      files,
      endpoint,
      logger: this.opts.logger,
      pollIntervalMs: this.opts.securityPollIntervalMs,
      onReload: (ok, m) => {
        this.metrics.securityReloads.inc({ source: `${endpoint}-tls`, result: ok ? 'applied' : 'rejected' });
        this.recordExpiry(endpoint, m);
      },
    });
  }

  private recordExpiry(endpoint: 'grpc' | 'http', m: TlsMaterial): void {
    this.metrics.tlsNotAfter.set({ endpoint }, Date.parse(m.leaf.validTo) / 1000);
  }

  /** Loads TLS material and the tenants file; any problem stops startup before a port is bound. */
  private async startSecurity(): Promise<void> {
    for (const [source, endpoint] of [
      [this.grpcTls, 'grpc'],
      [this.httpTls, 'http'],
    ] as const) {
      if (!source) continue;
      await source.start();
      const m = source.material;
      this.recordExpiry(endpoint, m);
      this.opts.logger.info('TLS enabled', { endpoint, mutual: source.mutual, ...describeCertificate(m.leaf) });
    }
    await this.tenants?.start();
    if (this.tenants && !this.grpcTls && !isLoopback(this.opts.grpcAddress.host)) {
      this.opts.logger.warn('bearer tokens reach the gRPC endpoint in the clear; serve it with --grpc-tls-cert/--grpc-tls-key', { grpc: formatHostPort(this.opts.grpcAddress) });
    }
  }

  /** Loads the --config path again and applies it, keeping the running config on any error. */
  private reloadConfigPath(): Promise<ApplyOutcome> {
    return this.reloader.apply(pathSource(this.opts.configPath), 'watch');
  }

  async start(): Promise<BoundAddresses> {
    // TLS material and tenants first: a problem there should not start (then stop) every handler.
    try {
      await this.startSecurity();
    } catch (e) {
      await this.closeSecurity();
      throw e;
    }
    const outcome = await this.reloader.apply(pathSource(this.opts.configPath), 'startup');
    if (!outcome.applied) {
      await this.closeSecurity();
      throw new ConfigError(outcome.issues.filter((i) => i.severity === 'error'));
    }
    try {
      const metrics = await this.metricsHttp.listen(this.opts.metricsAddress);
      const admin = await this.adminHttp.listen(this.opts.adminAddress);
      const grpc = await this.bindGrpc(this.opts.grpcAddress);
      if (!this.opts.adminToken && !isLoopback(admin.host)) {
        this.opts.logger.warn('the admin API is reachable from the network without a token; set --admin-token', { admin: formatHostPort(admin) });
      }
      await this.startWatching();
      this.shedder.start();
      return { grpc, metrics, admin };
    } catch (e) {
      await this.closeAll();
      throw e;
    }
  }

  private async startWatching(): Promise<void> {
    const path = this.opts.configPath;
    const watch = this.opts.watchConfig ?? (await stat(path)).isDirectory();
    if (!watch) return;
    const watcher = new ConfigWatcher({
      path,
      debounceMs: this.opts.watchDebounceMs ?? DEFAULT_WATCH_DEBOUNCE_MS,
      onChange: async () => {
        await this.reloadConfigPath();
      },
      logger: this.opts.logger,
    });
    try {
      await watcher.start();
      this.watcher = watcher;
      this.opts.logger.info('watching config', { path });
    } catch (e) {
      this.opts.logger.warn('cannot watch the config path; reload it with `telemux apply`', { path, error: (e as Error).message });
    }
  }

  private bindGrpc(address: HostPort): Promise<HostPort> {
    return this.grpc.listen(address);
  }

  /** Reports received and waiting for a later turn of the event loop (see turn-budget-queue.ts). */
  get queuedReports(): number {
    return this.reports.queuedReports;
  }

  /**
   * SIGTERM: refuse new Reports (UNAVAILABLE), keep /metrics up for the drain period, flush every
   * handler once more, then close every server. Idempotent.
   */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      await this.watcher?.close();
      this.reports.startDraining();
      const drainMs = this.opts.drainMs ?? 5_000;
      this.opts.logger.info('draining', { drainMs });
      await new Promise((resolve) => setTimeout(resolve, drainMs));
      await this.closeAll();
      this.opts.logger.info('stopped');
    })();
    return this.shuttingDown;
  }

  private async closeAll(): Promise<void> {
    this.reports.startDraining();
    this.shedder.stop();
    await this.watcher?.close();
    await this.reloader.close();
    // Reports received before draining and still waiting for a turn are recorded before the
    // handlers' final flush.
    await this.reports.settled();
    await this.runtime.close();
    await this.grpc.close(2_000);
    await Promise.all([this.metricsHttp.close(), this.adminHttp.close()]);
    await this.closeSecurity();
  }

  private async closeSecurity(): Promise<void> {
    await Promise.all([this.grpcTls?.close(), this.httpTls?.close(), this.tenants?.close()]);
  }
}
