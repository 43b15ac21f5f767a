/**
 * The Report path in-process, built from the same config the ingest bench gives the real server
 * (default config + StatsD + Circonus when compiled in), for benches that time its stages
 * without the transport.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADAPTERS } from '../src/adapters/index.js';
import { defaultConfigPath } from '../src/cli/paths.js';
import { parseConfigText } from '../src/core/config/document.js';
import { compileConfig, type ConfigSnapshot } from '../src/core/config/compile.js';
import { silentLogger } from '../src/core/log.js';
import { Runtime, type ActiveConfig } from '../src/core/runtime/runtime.js';
import { Exposition } from '../src/core/server/exposition.js';
import { SelfMetrics } from '../src/core/server/self-metrics.js';
import { ReportService } from '../src/core/server/report-service.js';
import { benchConfigYaml } from './workload.js';
import { join } from 'node:path';

export interface Pipeline {
  readonly snapshot: ConfigSnapshot;
  readonly active: ActiveConfig;
  readonly runtime: Runtime;
  readonly exposition: Exposition;
  readonly service: ReportService;
  /** Runs one Report through decode → dispatch → handlers; throws unless it answers OK. */
  report(bytes: Buffer): void;
  close(): Promise<void>;
}

/** A UDP socket that swallows StatsD datagrams, so sends succeed as they would against a server. */
export function udpSink(): Promise<{ port: number; socket: Socket }> {
  const socket = createSocket('udp4');
  socket.on('message', () => undefined);
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve({ port: socket.address().port, socket })));
}

/** An HTTPTrap stand-in that accepts every submission, as a healthy broker does. */
export function trapSink(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"stats":1}'));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/module/httptrap/00000000-0000-4000-8000-000000000000/bench`, server })),
  );
}

export interface PipelineOptions {
  /** The Prometheus handler's `max_series` (default: the adapter's), to time its cardinality guard. */
  readonly prometheusMaxSeries?: number;
}

const PROMETHEUS_PARAMS = 'compiledAdapter: prometheus\n  params:\n';

/** The bench config compiled, nothing started: what a server needs to decode the bench's Reports. */
export async function benchSnapshot(): Promise<ConfigSnapshot> {
  const yaml = await benchConfigYaml({
    defaultConfigPath: join(defaultConfigPath(), 'istio-1.4-telemetry.yaml'),
    // Compiled, never started: nothing is sent to these.
    statsdPort: 9,
    circonusUrl: ADAPTERS.has('circonus') ? 'http://127.0.0.1:9/module/httptrap/00000000-0000-4000-8000-000000000000/bench' : undefined,
  });
  return compileBenchConfig(yaml);
}

function compileBenchConfig(yaml: string): ConfigSnapshot {
  const loaded = parseConfigText(yaml, 'bench.yaml');
  const compiled = compileConfig(loaded.documents, { adapters: ADAPTERS });
  const errors = [...loaded.issues, ...compiled.issues].filter((i) => i.severity === 'error');
  if (!compiled.snapshot || errors.length > 0) throw new Error(`bench config rejected: ${errors.map((e) => e.message).join('; ')}`);
  return compiled.snapshot;
}

export async function buildPipeline(opts: PipelineOptions = {}): Promise<Pipeline> {
  const sink = await udpSink();
  const trap = await trapSink();
  let yaml = await benchConfigYaml({
    defaultConfigPath: join(defaultConfigPath(), 'istio-1.4-telemetry.yaml'),
    statsdPort: sink.port,
    circonusUrl: ADAPTERS.has('circonus') ? trap.url : undefined,
  });
  if (opts.prometheusMaxSeries !== undefined) {
    if (!yaml.includes(PROMETHEUS_PARAMS)) throw new Error('bench config: no prometheus handler params to cap');
    yaml = yaml.replace(PROMETHEUS_PARAMS, `${PROMETHEUS_PARAMS}    max_series: ${String(opts.prometheusMaxSeries)}\n`);
  }
  const snapshot = compileBenchConfig(yaml);
  const exposition = new Exposition();
  let runtime: Runtime | undefined;
  const metrics = new SelfMetrics(() => runtime?.liveSeries() ?? []);
  runtime = new Runtime({ logger: silentLogger, clock: Date, exposition, metrics });
  await runtime.apply(snapshot);
  const active = runtime.active;
  if (!active) throw new Error('no active config');
  // No turn budget: callers time the work itself, run synchronously, not how it is spread over turns.
  const service = new ReportService({ runtime, metrics, logger: silentLogger, turnBudgetMs: Infinity });
  const rt = runtime;
  let failure: string | undefined;
  // One call object, its request swapped per Report: the bench times Telemux's work, not the call's.
  const call = {
    request: Buffer.alloc(0) as Buffer,
    metadata: { get: (): readonly string[] => [] },
    // The bench owns its Report bytes and reuses them.
    releaseRequest(): void {},
    ok(): void {},
    fail(_code: number, details: string): void {
      failure = details;
    },
  };
  return {
    snapshot,
    active,
    runtime: rt,
    exposition,
    service,
    report(bytes) {
      call.request = bytes;
      service.report(call);
      if (failure !== undefined) throw new Error(`Report failed: ${failure}`);
    },
    async close() {
      await rt.close();
      await new Promise<void>((resolve) => sink.socket.close(() => resolve()));
      trap.server.closeAllConnections();
      await new Promise<void>((resolve) => trap.server.close(() => resolve()));
    },
  };
}
