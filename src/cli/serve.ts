import { createAdapterInventory } from '../adapters/index.js';
import { parseGoDuration } from '../core/expr/index.js';
import { ConfigError } from '../core/errors.js';
import { createLogger, type LogLevel } from '../core/log.js';
import { adminExposureRefusal } from '../core/server/admin-auth.js';
import { GRPC_TRANSPORTS, type GrpcTransport } from '../core/server/grpc/transport.js';
import { formatHostPort, type HostPort } from '../core/server/http.js';
import { TlsError, type TlsFiles } from '../core/security/tls.js';
import { Telemux } from '../core/server/telemux.js';
import { defaultNamespaceFlag, hostPortFlag, parseFlags, UsageError, type ParsedFlags } from './args.js';
import { OVERLOAD_FLAG_OPTIONS, OVERLOAD_USAGE, overloadSettings } from './overload-flags.js';
import { defaultConfigPath } from './paths.js';

export const SERVE_USAGE = `telemux serve [--config PATH] [--grpc-address HOST:PORT] [--metrics-address HOST:PORT]
              [--admin-address HOST:PORT] [--admin-token TOKEN] [--admin-insecure]
              [--grpc-tls-cert FILE --grpc-tls-key FILE [--grpc-tls-client-ca FILE]]
              [--http-tls-cert FILE --http-tls-key FILE [--http-tls-client-ca FILE]]
              [--tenants FILE] [--watch-config | --no-watch-config] [--config-default-namespace NS]
              [--drain-duration DURATION] [--log-level debug|info|warn|error]
              [--grpc-transport telemux|node-http2]

  --config            file or directory of operator YAML (default: the embedded Istio 1.4 default config)
  --config-default-namespace
                      the namespace of resources without one, whose rules apply to all traffic (Mixer's
                      --configDefaultNamespace; default istio-system)
  --grpc-address      Mixer v1 Report/Check endpoint (default 0.0.0.0:9091)
  --metrics-address   Prometheus /metrics of the prometheus handlers (default 0.0.0.0:42422)
  --admin-address     self-metrics, /healthz, /readyz, /version and the /api/v1 admin API (default 127.0.0.1:15014)
  --admin-token       require 'Authorization: Bearer TOKEN' on /api/v1 (default: $TELEMUX_ADMIN_TOKEN)
  --admin-insecure    allow an --admin-address beyond loopback without a token (refused otherwise)
  --grpc-tls-cert, --grpc-tls-key
                      serve the gRPC endpoint over TLS with this PEM certificate chain and key
  --grpc-tls-client-ca
                      require client certificates signed by these PEM CAs (mutual TLS)
  --http-tls-cert, --http-tls-key, --http-tls-client-ca
                      the same for the metrics and admin endpoints (HTTPS)
  --tenants           YAML file of tenants: bearer tokens, rate limits, series quotas; Reports then need a token
                      TLS files and the tenants file are reloaded when they change
  --watch-config      reload when files under --config change (default: on for a directory)
  --grpc-transport    the gRPC endpoint's HTTP/2: telemux (its own, default) or node-http2
  --drain-duration    on SIGTERM, how long /metrics keeps serving after Reports stop (default 5s)
${OVERLOAD_USAGE}
  Port 0 picks a free port; the startup log line says which ports were bound.`;

export async function serveCommand(argv: readonly string[]): Promise<number> {
  const { flags } = parseFlags(argv, {
    config: { type: 'string', short: 'c' },
    'grpc-address': { type: 'string' },
    'metrics-address': { type: 'string' },
    'admin-address': { type: 'string' },
    'admin-token': { type: 'string' },
    'admin-insecure': { type: 'boolean' },
    'grpc-tls-cert': { type: 'string' },
    'grpc-tls-key': { type: 'string' },
    'grpc-tls-client-ca': { type: 'string' },
    'http-tls-cert': { type: 'string' },
    'http-tls-key': { type: 'string' },
    'http-tls-client-ca': { type: 'string' },
    tenants: { type: 'string' },
    'watch-config': { type: 'boolean' },
    'no-watch-config': { type: 'boolean' },
    'config-default-namespace': { type: 'string' },
    'drain-duration': { type: 'string' },
    'log-level': { type: 'string' },
    'grpc-transport': { type: 'string' },
    ...OVERLOAD_FLAG_OPTIONS,
  });
  const { overload, limits, maxMessageBytes, connectionWindowBytes, reportTurnBudgetMs } = overloadSettings(flags);
  if (flags['watch-config'] && flags['no-watch-config']) throw new UsageError('--watch-config and --no-watch-config contradict each other');
  const watchConfig = flags['watch-config'] ? true : flags['no-watch-config'] ? false : undefined;
  const defaultNamespace = defaultNamespaceFlag(flags);
  const adminToken = (flags['admin-token'] as string | undefined) ?? process.env['TELEMUX_ADMIN_TOKEN'];
  if (adminToken !== undefined && adminToken.trim() === '') {
    throw new UsageError(`${flags['admin-token'] !== undefined ? '--admin-token' : 'TELEMUX_ADMIN_TOKEN'}: the token must not be empty`);
  }
  const level = (flags['log-level'] as string | undefined) ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level: unknown level '${level}'`);
  const logger = createLogger({ level: level as LogLevel });
  const drainText = (flags['drain-duration'] as string | undefined) ?? '5s';
  const drain = parseGoDuration(drainText);
  if (!drain.ok || drain.nanos < 0) throw new UsageError(`--drain-duration: expected a duration like 5s, got '${drainText}'`);
  const grpcTransport = (flags['grpc-transport'] as string | undefined) ?? 'telemux';
  if (!(GRPC_TRANSPORTS as readonly string[]).includes(grpcTransport)) {
    throw new UsageError(`--grpc-transport: expected ${GRPC_TRANSPORTS.join(' or ')}, got '${grpcTransport}'`);
  }
  const grpcTls = tlsFlags(flags, 'grpc');
  const httpTls = tlsFlags(flags, 'http');
  const tenantsPath = flags['tenants'] as string | undefined;
  if (tenantsPath === '') throw new UsageError('--tenants: expected a file');
  const adminAddress = hostPortFlag((flags['admin-address'] as string | undefined) ?? '127.0.0.1:15014', '--admin-address');
  const exposure = adminExposureRefusal(adminAddress.host, adminToken !== undefined, flags['admin-insecure'] === true);
  if (exposure) {
    process.stderr.write(`telemux: ${exposure}\n`);
    return 2;
  }
  const grpcAddress = hostPortFlag((flags['grpc-address'] as string | undefined) ?? '0.0.0.0:9091', '--grpc-address');
  const metricsAddress = hostPortFlag((flags['metrics-address'] as string | undefined) ?? '0.0.0.0:42422', '--metrics-address');
  const inventory = createAdapterInventory();
  const telemux = new Telemux({
    configPath: (flags['config'] as string | undefined) ?? defaultConfigPath(),
    adapters: inventory.adapters,
    statViews: inventory.statViews,
    adminToken,
    watchConfig,
    defaultNamespace,
    grpcAddress,
    metricsAddress,
    adminAddress,
    grpcTls,
    httpTls,
    tenantsPath,
    drainMs: drain.nanos / 1e6,
    overload,
    limits,
    maxMessageBytes,
    connectionWindowBytes,
    reportTurnBudgetMs,
    grpcTransport: grpcTransport as GrpcTransport,
    logger,
  });
  let bound;
  try {
    bound = await telemux.start();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.stderr.write(`telemux: configuration has ${e.issues.length} error(s); not starting\n`);
      return 1;
    }
    if (e instanceof TlsError) {
      process.stderr.write(`telemux: ${e.message} [${e.code}]; not starting\n`);
      return 1;
    }
    const listen = listenFailure(e, { '--grpc-address': grpcAddress, '--metrics-address': metricsAddress, '--admin-address': adminAddress });
    if (listen !== undefined) {
      process.stderr.write(`telemux: ${listen}; not starting\n`);
      return 1;
    }
    throw e;
  }
  logger.info('telemux started', {
    grpc: formatHostPort(bound.grpc),
    metrics: formatHostPort(bound.metrics),
    admin: formatHostPort(bound.admin),
    grpc_tls: grpcTls ? (grpcTls.clientCa ? 'mutual' : 'on') : undefined,
    http_tls: httpTls ? (httpTls.clientCa ? 'mutual' : 'on') : undefined,
    tenants: tenantsPath,
    // What V8 runs with (scripts/telemux.sh chooses the collector's threading by the CPUs allowed).
    node_flags: process.execArgv.length > 0 ? process.execArgv.join(' ') : undefined,
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info('signal received', { signal });
      telemux.shutdown().then(resolve, (e: unknown) => {
        logger.error('shutdown failed', { error: (e as Error).message });
        resolve();
      });
    };
    // A repeated signal (Ctrl-C reaches both `npm run demo` and its children) must not cut the
    // final flush short; shutdown is idempotent.
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

/** `--<endpoint>-tls-cert/-key/-client-ca` as TlsFiles; undefined when TLS is off for the endpoint. */
function tlsFlags(flags: ParsedFlags, endpoint: 'grpc' | 'http'): TlsFiles | undefined {
  const flag = (name: string): string | undefined => {
    const v = flags[`${endpoint}-tls-${name}`] as string | undefined;
    if (v === '') throw new UsageError(`--${endpoint}-tls-${name}: expected a file`);
    return v;
  };
  const cert = flag('cert');
  const key = flag('key');
  const clientCa = flag('client-ca');
  if (cert === undefined && key === undefined) {
    if (clientCa !== undefined) throw new UsageError(`--${endpoint}-tls-client-ca needs --${endpoint}-tls-cert and --${endpoint}-tls-key (mutual TLS is TLS first)`);
    return undefined;
  }
  if (cert === undefined || key === undefined) throw new UsageError(`--${endpoint}-tls-cert and --${endpoint}-tls-key go together; ${cert === undefined ? 'the certificate' : 'the key'} is missing`);
  return clientCa === undefined ? { cert, key } : { cert, key, clientCa };
}

/**
 * A port that cannot be bound (taken, privileged, no such local address) is the user's to fix, so
 * it gets one line naming the flag that asked for it rather than a stack trace.
 */
function listenFailure(e: unknown, addresses: Readonly<Record<string, HostPort>>): string | undefined {
  const err = e as { syscall?: unknown; code?: unknown; address?: unknown; port?: unknown; message?: unknown };
  if (err === null || typeof err !== 'object' || err.syscall !== 'listen' || typeof err.code !== 'string') return undefined;
  const flags = Object.entries(addresses)
    // Node leaves the port out of the error when it was 0.
    .filter(([, a]) => a.host === err.address && a.port === (err.port ?? 0))
    .map(([flag, a]) => `${flag} ${formatHostPort(a)}`);
  const what =
    err.code === 'EADDRINUSE'
      ? 'the address is already in use'
      : err.code === 'EACCES'
        ? 'permission denied (ports below 1024 need privileges)'
        : String(err.message).replace(/^listen \w+: /, '');
  return `cannot listen on ${flags.length > 0 ? flags.join(', ') : 'a port'}: ${what} (${err.code})`;
}
