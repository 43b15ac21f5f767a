import { parseGoDuration } from '../core/expr/duration.js';
import { TelemuxError } from '../core/errors.js';
import { parseStatQuery, stableJson, type StatResult } from '../core/stat/query.js';
import { ADMIN_TLS_FLAG_OPTIONS, ADMIN_TLS_USAGE, adminConnection, adminRequest, adminTlsFlags, AdminApiError, type AdminConnection } from './admin-client.js';
import { parseFlags, UsageError } from './args.js';
import { renderStatTable } from './stat-table.js';

export const STAT_USAGE = `telemux stat [--by workload|service|edge] [--window 1m] [--namespace NS] [-o table|json]
             [--watch [--interval 2s]] [--server URL] [--token TOKEN] [--ca-file PEM] [--cert PEM --key PEM]
      requests, success rate, requests per second and latency p50/p95/p99 per destination workload
      (or service, or source→destination pair) over the last --window, from the built-in view
  -o json             stable JSON: sorted keys and rows, latencies in ms, success as a ratio
${ADMIN_TLS_USAGE}`;

const MIN_INTERVAL_MS = 200;

interface StatOptions {
  readonly conn: AdminConnection;
  readonly path: string;
  readonly json: boolean;
}

export async function statCommand(argv: readonly string[]): Promise<number> {
  const { flags } = parseFlags(argv, {
    by: { type: 'string' },
    window: { type: 'string', short: 'w' },
    namespace: { type: 'string', short: 'n' },
    output: { type: 'string', short: 'o' },
    watch: { type: 'boolean' },
    interval: { type: 'string' },
    server: { type: 'string' },
    token: { type: 'string' },
    ...ADMIN_TLS_FLAG_OPTIONS,
  });
  const str = (k: string): string | undefined => flags[k] as string | undefined;
  let query;
  try {
    query = parseStatQuery({ by: str('by'), window: str('window'), namespace: str('namespace') });
  } catch (e) {
    if (e instanceof TelemuxError) throw new UsageError(`--${e.message}`);
    throw e;
  }
  const output = str('output') ?? 'table';
  if (output !== 'table' && output !== 'json') throw new UsageError(`-o: expected table or json, got '${output}'`);
  const params = new URLSearchParams({ by: query.by, window: `${query.windowMs}ms` });
  if (query.namespace) params.set('namespace', query.namespace);
  const opts: StatOptions = { conn: adminConnection(str('server'), str('token'), adminTlsFlags(flags)), path: `/api/v1/stat?${params}`, json: output === 'json' };
  if (!flags['watch']) {
    if (str('interval') !== undefined) throw new UsageError('--interval needs --watch');
    return printOnce(opts);
  }
  const intervalText = str('interval') ?? '2s';
  const interval = parseGoDuration(intervalText);
  if (!interval.ok || interval.nanos / 1e6 < MIN_INTERVAL_MS) throw new UsageError(`--interval: expected a duration of at least ${MIN_INTERVAL_MS}ms, got '${intervalText}'`);
  return watch(opts, interval.nanos / 1e6);
}

async function fetchStat(opts: StatOptions): Promise<string> {
  const { body } = await adminRequest(opts.conn, opts.path);
  const result = body as StatResult;
  return opts.json ? `${stableJson(result)}\n` : renderStatTable(result);
}

async function printOnce(opts: StatOptions): Promise<number> {
  try {
    process.stdout.write(await fetchStat(opts));
    return 0;
  } catch (e) {
    if (!(e instanceof AdminApiError)) throw e;
    process.stderr.write(`telemux: ${e.message}\n`);
    return 1;
  }
}

/** Refreshes until SIGINT/SIGTERM; a terminal is redrawn in place, a pipe gets one table after another. */
async function watch(opts: StatOptions, intervalMs: number): Promise<number> {
  const tty = process.stdout.isTTY === true;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = (): void => stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let first = true;
  let running = true;
  void stopped.then(() => (running = false));
  try {
    while (running) {
      let text: string;
      try {
        text = await fetchStat(opts);
      } catch (e) {
        if (!(e instanceof AdminApiError)) throw e;
        text = `telemux: ${e.message}\n`;
      }
      if (!running) break;
      const stamp = `Every ${intervalMs / 1000}s: ${new Date().toISOString()}\n\n`;
      process.stdout.write(tty ? `\x1b[2J\x1b[H${stamp}${text}` : `${first ? '' : '\n'}${text}`);
      first = false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise((r) => (timer = setTimeout(r, intervalMs)))]);
      clearTimeout(timer);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}
