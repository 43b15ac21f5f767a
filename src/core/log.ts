export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LogSink {
  write(line: string): void;
}

/** logfmt-ish lines: `ts=… level=… msg="…" key=value`, one per event, to stderr by default. */
export function createLogger(
  opts: { level?: LogLevel; sink?: LogSink; fields?: LogFields; now?: () => number } = {},
): Logger {
  const min = RANK[opts.level ?? 'info'];
  const sink = opts.sink ?? { write: (line: string) => process.stderr.write(line) };
  const now = opts.now ?? Date.now;
  const base = opts.fields ?? {};
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[level] < min) return;
    let line = `ts=${new Date(now()).toISOString()} level=${level} msg=${quote(msg)}`;
    for (const src of [base, fields ?? {}]) {
      for (const [k, v] of Object.entries(src)) if (v !== undefined) line += ` ${k}=${quote(String(v))}`;
    }
    sink.write(`${line}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...opts, fields: { ...base, ...fields } }),
  };
}

function quote(s: string): string {
  return /^[A-Za-z0-9_.:/@+-]+$/.test(s) ? s : JSON.stringify(s);
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/**
 * Lets at most one message through per `intervalMs` and counts the rest, so a failing backend
 * cannot flood the log. The suppressed count is reported with the next message let through.
 */
export class RateLimitedLog {
  private last = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  warn(msg: string, fields?: LogFields): void {
    const t = this.now();
    if (t - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.last = t;
    const extra = this.suppressed > 0 ? { suppressed: this.suppressed } : {};
    this.suppressed = 0;
    this.log.warn(msg, { ...fields, ...extra });
  }
}

/**
 * Sums counts per key (a metric, a reason) and writes them as one line at most once per
 * `intervalMs`, with the totals since the line before. For events that can happen thousands of
 * times a second (series overflowing a limit) where the operator needs how many and where, not
 * one line per event.
 */
export class TallyLog {
  private last = -Infinity;
  private readonly tally = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  add(key: string, n = 1): void {
    if (n > 0) this.tally.set(key, (this.tally.get(key) ?? 0) + n);
  }

  /**
   * Writes `msg` with `total` and `by` (`key=count` pairs, largest first) if anything was added
   * and the interval has passed since the last line; otherwise keeps adding up.
   */
  flush(msg: string, fields?: LogFields): void {
    if (this.tally.size === 0) return;
    const t = this.now();
    if (t - this.last < this.intervalMs) return;
    this.last = t;
    const entries = [...this.tally].sort((a, b) => b[1] - a[1]);
    this.tally.clear();
    let total = 0;
    for (const [, n] of entries) total += n;
    this.log.warn(msg, { ...fields, total, by: entries.map(([k, n]) => `${k}=${n}`).join(',') });
  }
}
