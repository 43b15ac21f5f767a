/**
 * Runs the real Etsy StatsD server (the `statsd` package) as a child process on free loopback
 * ports, with a backend that reports every flush back over IPC, and keeps running totals.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface FlushMessage {
  readonly type: 'flush';
  readonly counters: Record<string, number>;
  readonly timers: Record<string, number[]>;
  readonly timerCounters: Record<string, number>;
  readonly gauges: Record<string, number>;
}

export interface StatsdTotals {
  /** Counter totals over every flush, without the server's own `statsd.*` counters. */
  readonly counters: Map<string, number>;
  /** Every timer sample received, per name, over every flush. */
  readonly timers: Map<string, number[]>;
  /** Sum of the server's sample-rate-scaled timer counts. */
  readonly timerCounts: Map<string, number>;
  /** Latest gauge values. */
  readonly gauges: Map<string, number>;
  /** Lines the server parsed (its `statsd.metrics_received`), including bad ones. */
  metricsReceived: number;
  badLines: number;
  packetsReceived: number;
  flushes: number;
}

export interface StatsdServer {
  readonly port: number;
  readonly totals: StatsdTotals;
  /** Resolves once `predicate` holds after some flush, or rejects after `timeoutMs`. */
  waitFor(predicate: (t: StatsdTotals) => boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const SERVER_PREFIX = 'statsd.';

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function freeTcpPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no TCP port');
  return addr.port;
}

export interface StatsdServerOptions {
  readonly flushIntervalMs?: number;
  /** A fixed UDP port, e.g. to start a server again where a stopped one was. Default: a free one. */
  readonly port?: number;
  /**
   * Whether to zero the totals once the startup probe is through (the default). Without it only
   * the probe's own counter is removed, so lines a client sends while the server starts count.
   */
  readonly resetAfterProbe?: boolean;
}

export async function startStatsdServer(opts: StatsdServerOptions = {}): Promise<StatsdServer> {
  const require = createRequire(import.meta.url);
  const statsdMain = join(dirname(require.resolve('statsd/package.json')), 'stats.js');
  const backend = fileURLToPath(new URL('../fixtures/capture-backend.cjs', import.meta.url));
  const dir = await mkdtemp(join(tmpdir(), 'telemux-statsd-'));
  const port = opts.port ?? (await freeUdpPort());
  const config = {
    port,
    address: '127.0.0.1',
    mgmt_port: await freeTcpPort(),
    mgmt_address: '127.0.0.1',
    flushInterval: opts.flushIntervalMs ?? 100,
    backends: [backend],
    deleteIdleStats: true,
    // Must not write to the test's output.
    log: { backend: 'stdout', level: 'LOG_CRIT' },
  };
  const configFile = join(dir, 'config.js');
  await writeFile(configFile, JSON.stringify(config));

  const receiveBuffer = fileURLToPath(new URL('../fixtures/udp-receive-buffer.cjs', import.meta.url));
  const child: ChildProcess = fork(statsdMain, [configFile], { cwd: dir, execArgv: ['--require', receiveBuffer], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });

  const totals: StatsdTotals = {
    counters: new Map(),
    timers: new Map(),
    timerCounts: new Map(),
    gauges: new Map(),
    metricsReceived: 0,
    badLines: 0,
    packetsReceived: 0,
    flushes: 0,
  };
  const listeners = new Set<() => void>();
  child.on('message', (raw) => {
    const msg = raw as FlushMessage | { type: 'ready' };
    if (msg.type !== 'flush') return;
    totals.flushes++;
    for (const [k, v] of Object.entries(msg.counters)) {
      if (k === `${SERVER_PREFIX}metrics_received`) totals.metricsReceived += v;
      else if (k === `${SERVER_PREFIX}bad_lines_seen`) totals.badLines += v;
      else if (k === `${SERVER_PREFIX}packets_received`) totals.packetsReceived += v;
      else totals.counters.set(k, (totals.counters.get(k) ?? 0) + v);
    }
    for (const [k, v] of Object.entries(msg.timers)) totals.timers.set(k, [...(totals.timers.get(k) ?? []), ...v]);
    for (const [k, v] of Object.entries(msg.timerCounters)) totals.timerCounts.set(k, (totals.timerCounts.get(k) ?? 0) + v);
    for (const [k, v] of Object.entries(msg.gauges)) if (!k.startsWith(SERVER_PREFIX)) totals.gauges.set(k, v);
    for (const l of listeners) l();
  });

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      if ((m as { type?: string }).type === 'ready') {
        child.off('message', onMessage);
        resolve();
      }
    };
    child.on('message', onMessage);
    void exited.then(() => reject(new Error(`statsd server exited before it was ready: ${stderr}`)));
  });

  const waitFor = (predicate: (t: StatsdTotals) => boolean, timeoutMs = 10_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(totals)) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`statsd server never got there: ${JSON.stringify({ ...totals, counters: totals.counters.size })}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });

  // The UDP socket binds asynchronously after the backends load: probe until a line comes through.
  const probe = createSocket('udp4');
  let probing = true;
  const sendProbe = (): void => {
    if (probing) probe.send('telemux.probe:1|c', port, '127.0.0.1');
  };
  sendProbe();
  const interval = setInterval(sendProbe, 50);
  try {
    await waitFor((t) => t.counters.has('telemux.probe'));
  } finally {
    probing = false;
    clearInterval(interval);
    probe.close();
  }
  // One more flush so every probe line is behind us, then start counting from zero.
  const flushesSoFar = totals.flushes;
  await waitFor((t) => t.flushes >= flushesSoFar + 2);
  if (opts.resetAfterProbe === false) {
    totals.counters.delete('telemux.probe');
    return { port, totals, waitFor, stop: stopper(child, exited, dir) };
  }
  totals.counters.clear();
  totals.timers.clear();
  totals.timerCounts.clear();
  totals.gauges.clear();
  totals.metricsReceived = 0;
  totals.badLines = 0;
  totals.packetsReceived = 0;

  return { port, totals, waitFor, stop: stopper(child, exited, dir) };
}

function stopper(child: ChildProcess, exited: Promise<void>, dir: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
}
