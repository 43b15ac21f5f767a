import { createAdapterInventory } from '../adapters/index.js';
import { parseGoDuration } from '../core/expr/index.js';
import { ConfigError } from '../core/errors.js';
import { createLogger, type LogLevel } from '../core/log.js';
import { formatHostPort, parseHostPort } from '../core/server/http.js';
import { Telemux } from '../core/server/telemux.js';
import { parseFlags, UsageError } from './args.js';
import { defaultConfigPath } from './paths.js';

export const SERVE_USAGE = `telemux serve [--config PATH] [--grpc-address HOST:PORT] [--metrics-address HOST:PORT]
              [--admin-address HOST:PORT] [--admin-token TOKEN] [--watch-config | --no-watch-config]
              [--drain-duration DURATION] [--log-level debug|info|warn|error]

  --config            file or directory of operator YAML (default: the embedded Istio 1.4 default config)
  --grpc-address      Mixer v1 Report/Check endpoint (default 0.0.0.0:9091)
  --metrics-address   Prometheus /metrics of the prometheus handlers (default 0.0.0.0:42422)
  --admin-address     self-metrics, /healthz, /readyz, /version and the /api/v1 admin API (default 127.0.0.1:15014)
  --admin-token       require 'Authorization: Bearer TOKEN' on /api/v1 (default: $TELEMUX_ADMIN_TOKEN)
  --watch-config      reload when files under --config change (default: on for a directory)
  --drain-duration    on SIGTERM, how long /metrics keeps serving after Reports stop (default 5s)
  Port 0 picks a free port; the startup log line says which ports were bound.`;

export async function serveCommand(argv: readonly string[]): Promise<number> {
  const { flags } = parseFlags(argv, {
    config: { type: 'string', short: 'c' },
    'grpc-address': { type: 'string' },
    'metrics-address': { type: 'string' },
    'admin-address': { type: 'string' },
    'admin-token': { type: 'string' },
    'watch-config': { type: 'boolean' },
    'no-watch-config': { type: 'boolean' },
    'drain-duration': { type: 'string' },
    'log-level': { type: 'string' },
  });
  if (flags['watch-config'] && flags['no-watch-config']) throw new UsageError('--watch-config and --no-watch-config contradict each other');
  const watchConfig = flags['watch-config'] ? true : flags['no-watch-config'] ? false : undefined;
  const adminToken = (flags['admin-token'] as string | undefined) ?? process.env['TELEMUX_ADMIN_TOKEN'];
  if (adminToken !== undefined && adminToken.trim() === '') throw new UsageError('--admin-token: the token must not be empty');
  const level = (flags['log-level'] as string | undefined) ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level: unknown level '${level}'`);
  const logger = createLogger({ level: level as LogLevel });
  const drainText = (flags['drain-duration'] as string | undefined) ?? '5s';
  const drain = parseGoDuration(drainText);
  if (!drain.ok || drain.nanos < 0) throw new UsageError(`--drain-duration: expected a duration like 5s, got '${drainText}'`);
  const inventory = createAdapterInventory();
  const telemux = new Telemux({
    configPath: (flags['config'] as string | undefined) ?? defaultConfigPath(),
    adapters: inventory.adapters,
    statViews: inventory.statViews,
    adminToken,
    watchConfig,
    grpcAddress: parseHostPort((flags['grpc-address'] as string | undefined) ?? '0.0.0.0:9091', '--grpc-address'),
    metricsAddress: parseHostPort((flags['metrics-address'] as string | undefined) ?? '0.0.0.0:42422', '--metrics-address'),
    adminAddress: parseHostPort((flags['admin-address'] as string | undefined) ?? '127.0.0.1:15014', '--admin-address'),
    drainMs: drain.nanos / 1e6,
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
    throw e;
  }
  logger.info('telemux started', { grpc: formatHostPort(bound.grpc), metrics: formatHostPort(bound.metrics), admin: formatHostPort(bound.admin) });
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
