import { randomInt } from 'node:crypto';
import { parseGoDuration } from '../core/expr/duration.js';
import { formatHostPort } from '../core/server/http.js';
import { grpcSender, runLoad, type LoadSummary } from '../loadgen/index.js';
import { hostPortFlag, parseFlags, UsageError } from './args.js';

export const LOADGEN_USAGE = `telemux loadgen [--target HOST:PORT] [--rate RPS] [--duration 30s] [--seed N] [--quiet]
      a simulated Bookinfo mesh (gateway → productpage → details, reviews v1/v2/v3 → ratings):
      every call reported by both sidecars, in per-sidecar batches of ≤100 sets or 1 s
  --target            Mixer gRPC endpoint (default 127.0.0.1:9091)
  --rate              user requests per second into productpage (default 20; each makes ~3.5 calls)
  --duration          how long to run, at most 24h (default 30s); Ctrl-C stops early
  --seed              the same seed gives the same requests, codes and latencies (default: random, printed)`;

const MAX_DURATION_MS = 24 * 3600 * 1000;
const MAX_RATE = 10_000;

export async function loadgenCommand(argv: readonly string[]): Promise<number> {
  const { flags } = parseFlags(argv, {
    target: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    seed: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  const str = (k: string): string | undefined => flags[k] as string | undefined;
  const target = formatHostPort(hostPortFlag(str('target') ?? '127.0.0.1:9091', '--target'));
  const rate = Number(str('rate') ?? '20');
  if (!Number.isFinite(rate) || rate <= 0 || rate > MAX_RATE) throw new UsageError(`--rate: expected a number of requests per second in (0, ${MAX_RATE}], got '${str('rate')}'`);
  const durationText = str('duration') ?? '30s';
  const d = parseGoDuration(durationText);
  if (!d.ok || d.nanos <= 0 || d.nanos / 1e6 > MAX_DURATION_MS) throw new UsageError(`--duration: expected a duration from 1ms to 24h, like 30s or 5m, got '${durationText}'`);
  const seedText = str('seed');
  const seed = seedText === undefined ? randomInt(1, 2 ** 31) : Number(seedText);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new UsageError(`--seed: expected an integer from 0 to 4294967295, got '${seedText}'`);
  const quiet = flags['quiet'] === true;

  const log = (line: string): void => void (quiet || process.stderr.write(`loadgen: ${line}\n`));
  log(`sending to ${target} at ${rate} requests/s for ${durationText} (seed ${seed})`);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  // `on`, not `once`: Ctrl-C reaches a child of `npm run demo` twice (terminal and parent), and a
  // second signal must not kill it before it reports what it sent.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const { send, close } = grpcSender(target);
  let summary: LoadSummary;
  try {
    summary = await runLoad({
      ratePerSecond: rate,
      durationMs: d.nanos / 1e6,
      seed,
      send,
      signal: stop.signal,
      onProgress: (p) => log(`${(p.elapsedMs / 1000).toFixed(0)}s: ${p.userRequests} requests, ${p.attributeSets} attribute sets in ${p.reports} reports (${p.reportsFailed} failed, ${p.reportsRetried} retried)`),
    });
  } finally {
    close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const failed = Object.entries(summary.failures)
    .map(([code, n]) => `${n}× ${code === 'error' ? 'error' : `code ${code}`}`)
    .join(', ');
  process.stdout.write(
    `loadgen: ${summary.userRequests} requests (${summary.calls} calls, ${summary.attributeSets} attribute sets in ${summary.reports} reports) ` +
      `in ${(summary.elapsedMs / 1000).toFixed(1)}s to ${target}, seed ${seed}; ${summary.reportsFailed} reports failed${failed ? ` (${failed})` : ''}` +
      `${summary.reportsRetried > 0 ? `, ${summary.reportsRetried} retried after UNAVAILABLE` : ''}\n`,
  );
  return summary.reports > 0 && summary.reportsFailed === summary.reports ? 1 : 0;
}
