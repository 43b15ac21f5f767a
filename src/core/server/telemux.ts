import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { AnyAdapter, Clock } from '../adapter.js';
import { compileConfig, type CompileResult } from '../config/compile.js';
import { loadConfigPath } from '../config/document.js';
import { ConfigError, formatConfigIssue } from '../errors.js';
import type { Logger } from '../log.js';
import { Runtime, type ApplySummary } from '../runtime/runtime.js';
import { Exposition, negotiateFormat, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE } from './exposition.js';
import { formatHostPort, HttpEndpoint, type HostPort } from './http.js';
import { RAW_MIXER_SERVICE, ReportService } from './report-service.js';
import { SelfMetrics } from './self-metrics.js';
import { VERSION } from '../version.js';

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
  readonly defaultNamespace?: string;
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
  private readonly reports: ReportService;
  private readonly grpc: Server;
  private readonly metricsHttp: HttpEndpoint;
  private readonly adminHttp: HttpEndpoint;
  private shuttingDown: Promise<void> | undefined;

  constructor(private readonly opts: TelemuxOptions) {
    this.metrics = new SelfMetrics(() => this.runtime.liveSeries());
    this.runtime = new Runtime({ logger: opts.logger, clock: opts.clock ?? Date, exposition: this.exposition, metrics: this.metrics });
    this.reports = new ReportService({ runtime: this.runtime, metrics: this.metrics, logger: opts.logger });
    this.grpc = new Server({
      'grpc.max_receive_message_length': opts.maxMessageBytes ?? 1024 * 1024,
      'grpc.max_concurrent_streams': 1024,
    });
    this.grpc.addService(RAW_MIXER_SERVICE, this.reports.implementation);
    const onError = (e: Error): void => opts.logger.error('http handler failed', { error: e.message });
    this.metricsHttp = new HttpEndpoint(
      new Map([
        [
          '/metrics',
          async (req, res) => {
            const format = negotiateFormat(req.headers.accept);
            res.writeHead(200, { 'content-type': format === 'openmetrics-1.0.0' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE });
            await this.exposition.render(format, (chunk) => res.write(chunk));
            res.end();
          },
        ],
      ]),
      onError,
    );
    this.adminHttp = new HttpEndpoint(
      new Map([
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
      ]),
      onError,
    );
  }

  /** Loads and validates the config without touching anything. */
  async loadConfig(path: string = this.opts.configPath): Promise<CompileResult> {
    const loaded = await loadConfigPath(path);
    const compiled = compileConfig(loaded.documents, { adapters: this.opts.adapters, defaultNamespace: this.opts.defaultNamespace });
    const issues = [...loaded.issues, ...compiled.issues];
    const snapshot = loaded.issues.some((i) => i.severity === 'error') ? undefined : compiled.snapshot;
    return { snapshot, issues };
  }

  /** Validates a loaded config and applies it atomically; throws ConfigError listing every issue. */
  async applyConfig(result: CompileResult): Promise<ApplySummary> {
    const m = this.metrics;
    m.configIssues.set({ severity: 'error' }, result.issues.filter((i) => i.severity === 'error').length);
    m.configIssues.set({ severity: 'warning' }, result.issues.filter((i) => i.severity === 'warning').length);
    if (!result.snapshot) {
      m.configApplies.inc({ result: 'rejected' });
      throw new ConfigError(result.issues.filter((i) => i.severity === 'error'));
    }
    try {
      const summary = await this.runtime.apply(result.snapshot);
      m.configApplies.inc({ result: 'applied' });
      return summary;
    } catch (e) {
      m.configApplies.inc({ result: 'rejected' });
      throw e;
    }
  }

  async start(): Promise<BoundAddresses> {
    const config = await this.loadConfig();
    for (const i of config.issues) if (i.severity === 'warning') this.opts.logger.warn('config warning', { issue: formatConfigIssue(i) });
    const summary = await this.applyConfig(config);
    this.opts.logger.info('config applied', { hash: summary.hash.slice(0, 12), handlers: summary.created.length });
    try {
      const metrics = await this.metricsHttp.listen(this.opts.metricsAddress);
      const admin = await this.adminHttp.listen(this.opts.adminAddress);
      const grpc = await this.bindGrpc(this.opts.grpcAddress);
      return { grpc, metrics, admin };
    } catch (e) {
      await this.closeAll();
      throw e;
    }
  }

  private bindGrpc(address: HostPort): Promise<HostPort> {
    return new Promise((resolve, reject) => {
      this.grpc.bindAsync(formatHostPort(address), ServerCredentials.createInsecure(), (err, port) => {
        if (err) reject(err);
        else resolve({ host: address.host, port });
      });
    });
  }

  /**
   * SIGTERM: refuse new Reports (UNAVAILABLE), keep /metrics up for the drain period, flush every
   * handler once more, then close every server. Idempotent.
   */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
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
    await this.runtime.close();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.grpc.forceShutdown();
        resolve();
      }, 2_000);
      force.unref();
      this.grpc.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await Promise.all([this.metricsHttp.close(), this.adminHttp.close()]);
  }
}
