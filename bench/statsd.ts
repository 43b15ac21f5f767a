/**
 * StatsD adapter bench: one 200,000-instance flush interval, recorded through handleMetrics and
 * flushed over loopback UDP to a counting receiver. Reports lines per second and packets per flush,
 * compares with what Mixer's one-line-per-instance, 512-byte client would have sent, and compares
 * the hot-shots transport with a bare dgram socket (is the maintained client the bottleneck?).
 *
 * Run: npx tsc -p . && node dist/bench/statsd.js
 */
import { createSocket } from 'node:dgram';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ValueType, type HandlerEnv, type InstanceSpec, type MetricInstance } from '../src/core/adapter.js';
import { silentLogger } from '../src/core/log.js';
import {
  hotShotsTransport,
  packLines,
  parseStatsdConfig,
  STATSD_EVENTS,
  sendWindowed,
  StatsdHandler,
  type StatsdConfig,
  type TransportFactory,
} from '../src/adapters/statsd/index.js';

const INSTANCES = 200_000;
const ROUNDS = 5;

const requests: InstanceSpec = {
  name: 'requestcount.instance.istio-system',
  template: 'metric',
  valueType: ValueType.INT64,
  dimensions: [
    { name: 'destination_service', type: ValueType.STRING },
    { name: 'source_workload', type: ValueType.STRING },
    { name: 'response_code', type: ValueType.INT64 },
  ],
  monitoredResourceDimensions: [],
};
const duration: InstanceSpec = {
  name: 'requestduration.instance.istio-system',
  template: 'metric',
  valueType: ValueType.DURATION,
  dimensions: [{ name: 'destination_service', type: ValueType.STRING }],
  monitoredResourceDimensions: [],
};

function inst(spec: InstanceSpec, value: number, dims: (string | number)[]): MetricInstance {
  return { spec, value, dimensions: dims, monitoredResourceType: 'UNSPECIFIED', monitoredResourceDimensions: [] };
}

interface Scenario {
  readonly name: string;
  readonly describe: string;
  readonly batches: readonly MetricInstance[][];
}

/** Half request counts over 2,000 series, half latencies over 200 series: a mesh's usual shape. */
function meshMix(): Scenario {
  const all: MetricInstance[] = [];
  for (let i = 0; i < INSTANCES / 2; i++) {
    const svc = `svc-${i % 200}.ns-${i % 7}.svc.cluster.local`;
    all.push(inst(requests, 1, [svc, `client-${i % 5}-v1`, i % 50 === 0 ? 503 : i % 5 === 0 ? 404 : 200]));
    all.push(inst(duration, ((i % 997) + 1) * 123_457, [svc]));
  }
  return { name: 'mesh-mix', describe: '100k counters over 2k series + 100k timer samples', batches: chunk(all, 100) };
}

/** Every instance a different counter series: the most lines 200k instances can make. */
function allDistinct(): Scenario {
  const all: MetricInstance[] = [];
  for (let i = 0; i < INSTANCES; i++) all.push(inst(requests, 1, [`svc-${i}.ns-${i % 7}.svc.cluster.local`, `client-${i % 5}-v1`, 200]));
  return { name: 'all-distinct', describe: '200k counter instances, each its own series', batches: chunk(all, 100) };
}

function chunk<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

const rawDgramTransport: TransportFactory = (target) => {
  const socket = createSocket(target.family === 6 ? 'udp6' : 'udp4');
  socket.unref();
  return {
    send(payload, done) {
      socket.send(payload, target.port, target.address, (err) => done(err ?? undefined));
    },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
};

interface Receiver {
  readonly port: number;
  /** Lines received so far (asks the receiver's thread). */
  lines(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The receiver runs on its own thread, as a StatsD server would in its own process: reading on the
 * bench's event loop would both slow the sender and lose datagrams the loop was too busy to read.
 */
const RECEIVER = `
const { parentPort } = require('node:worker_threads');
const dgram = require('node:dgram');
const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 16 * 1024 * 1024 });
let lines = 0;
socket.on('message', (msg) => {
  lines++;
  for (let i = msg.indexOf(10); i >= 0; i = msg.indexOf(10, i + 1)) lines++;
});
socket.bind(0, '127.0.0.1', () => parentPort.postMessage({ port: socket.address().port }));
parentPort.on('message', (m) => {
  if (m === 'lines') parentPort.postMessage({ lines });
  else socket.close(() => parentPort.close());
});
`;

async function startReceiver(): Promise<Receiver> {
  const worker = new Worker(RECEIVER, { eval: true });
  const next = (): Promise<{ port?: number; lines?: number }> =>
    new Promise((resolve) => worker.once('message', (m: { port?: number; lines?: number }) => resolve(m)));
  const { port } = await next();
  if (port === undefined) throw new Error('receiver did not start');
  return {
    port,
    async lines() {
      const reply = next();
      worker.postMessage('lines');
      return (await reply).lines ?? 0;
    },
    async close() {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('close');
      await exited;
    },
  };
}

function configFor(port: number, flushBytes: number): StatsdConfig {
  const issues: string[] = [];
  const config = parseStatsdConfig(
    {
      address: `127.0.0.1:${port}`,
      prefix: 'istio',
      flushBytes,
      // Above the instance count: the all-distinct scenario measures every instance as its own
      // series, which the default limits would fold into overflow stats.
      maxSeries: 1_000_000,
      maxSeriesPerMetric: 1_000_000,
      metrics: {
        [requests.name]: { type: 'COUNTER', nameTemplate: 'requests.{{.destination_service}}.{{.source_workload}}.{{.response_code}}' },
        [duration.name]: { type: 'DISTRIBUTION', nameTemplate: 'latency.{{.destination_service}}' },
      },
    },
    [requests, duration],
    { issue: (path, message) => issues.push(`${path.join('.')}: ${message}`), warn: () => undefined },
  );
  if (config === undefined) throw new Error(`bench config rejected: ${issues.join('; ')}`);
  return config;
}

interface Run {
  readonly recordMs: number;
  readonly flushMs: number;
  readonly lines: number;
  readonly datagrams: number;
  readonly received: number;
}

async function runOnce(scenario: Scenario, transport: TransportFactory, flushBytes: number, receiver: Receiver): Promise<Run> {
  const events = new Map<string, number>();
  let now = 0;
  const env: HandlerEnv = {
    name: 'statsd.handler.bench',
    logger: silentLogger,
    clock: { now: () => now++ },
    exposition: { register: () => undefined, unregister: () => undefined },
    stats: { count: (e, n = 1) => events.set(e, (events.get(e) ?? 0) + n) },
  };
  const handler = new StatsdHandler(configFor(receiver.port, flushBytes), [requests, duration], env, { transport });
  await handler.start();
  const before = await receiver.lines();
  const t0 = performance.now();
  for (const b of scenario.batches) handler.handleMetrics(b);
  const t1 = performance.now();
  await handler.flush(new AbortController().signal);
  const t2 = performance.now();
  await handler.close();
  const lines = events.get(STATSD_EVENTS.linesSent) ?? 0;
  // Let the receiver drain its socket.
  let received = (await receiver.lines()) - before;
  for (let i = 0; i < 100 && received < lines; i++) {
    await new Promise((r) => setTimeout(r, 10));
    received = (await receiver.lines()) - before;
  }
  return { recordMs: t1 - t0, flushMs: t2 - t1, lines, datagrams: events.get(STATSD_EVENTS.datagramsSent) ?? 0, received };
}

/**
 * What Mixer would have sent for the same instances: one line per instance (every counter
 * instance in these scenarios is an increment of 1), packed by its client, which queued a buffer
 * before it reached flush_bytes (512), i.e. at most 511 bytes.
 */
async function mixerPackets(scenario: Scenario): Promise<{ lines: number; packets: number }> {
  const datagrams: string[] = [];
  const capture: TransportFactory = () => ({
    send(payload, done) {
      datagrams.push(Buffer.from(payload).toString('utf8'));
      done(undefined);
    },
    close: async () => undefined,
  });
  const env: HandlerEnv = {
    name: 'statsd.handler.bench',
    logger: silentLogger,
    clock: { now: () => 0 },
    exposition: { register: () => undefined, unregister: () => undefined },
    stats: { count: () => undefined },
  };
  const handler = new StatsdHandler(configFor(8125, 1400), [requests, duration], env, { transport: capture });
  await handler.start();
  for (const b of scenario.batches) handler.handleMetrics(b);
  await handler.flush(new AbortController().signal);
  await handler.close();
  const perInstance: string[] = [];
  for (const line of datagrams.flatMap((d) => d.split('\n'))) {
    const m = /^(.*):(\d+)\|c$/.exec(line);
    if (m === null) perInstance.push(line);
    else for (let i = 0; i < Number(m[2]); i++) perInstance.push(`${m[1]}:1|c`);
  }
  const packed = packLines(perInstance, 511);
  return { lines: packed.lines, packets: packed.count };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function measure(scenario: Scenario, transport: TransportFactory, flushBytes: number, receiver: Receiver) {
  await runOnce(scenario, transport, flushBytes, receiver); // warm-up
  const runs: Run[] = [];
  for (let i = 0; i < ROUNDS; i++) runs.push(await runOnce(scenario, transport, flushBytes, receiver));
  const last = runs[runs.length - 1] as Run;
  const flushMs = median(runs.map((r) => r.flushMs));
  const recordMs = median(runs.map((r) => r.recordMs));
  return {
    lines: last.lines,
    datagrams: last.datagrams,
    received: Math.min(...runs.map((r) => r.received)),
    flushMs,
    recordMs,
    linesPerSec: last.lines / (flushMs / 1000),
    instancesPerSec: INSTANCES / (recordMs / 1000),
  };
}

/**
 * The transports alone: the same 10,000 full datagrams through each, alternating, so the
 * difference is the client's own cost per datagram rather than encoding, packing or GC timing.
 */
async function transportOnly(receiver: Receiver): Promise<{ hotUs: number; rawUs: number; bytes: number }> {
  const N = 10_000;
  const payload = `${'istio.requests.svc-1.ns-1.svc.cluster.local.client-1-v1.200:1|c\n'.repeat(21)}x:1|c`;
  const bytes = Buffer.from(payload);
  const datagrams = { count: N, payload: (): Uint8Array => bytes, lineCounts: new Array<number>(N).fill(22) };
  const time = async (factory: TransportFactory): Promise<number> => {
    const t = factory({ address: '127.0.0.1', family: 4, port: receiver.port }, () => undefined);
    const t0 = performance.now();
    await sendWindowed(t, datagrams, new AbortController().signal, 64);
    const ms = performance.now() - t0;
    await t.close();
    return ms;
  };
  const hot: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < ROUNDS + 1; i++) {
    hot.push(await time(hotShotsTransport));
    raw.push(await time(rawDgramTransport));
  }
  // The first pair warms up.
  return { hotUs: (median(hot.slice(1)) * 1000) / N, rawUs: (median(raw.slice(1)) * 1000) / N, bytes: Buffer.byteLength(payload) };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export async function run(): Promise<void> {
  const receiver = await startReceiver();
  const summary: string[] = [];
  try {
    console.log(`statsd bench: ${INSTANCES.toLocaleString('en-US')} instances per flush, median of ${ROUNDS}, loopback UDP`);
    for (const scenario of [meshMix(), allDistinct()]) {
      console.log(`\n${scenario.name}: ${scenario.describe}`);
      const hot = await measure(scenario, hotShotsTransport, 1400, receiver);
      const raw = await measure(scenario, rawDgramTransport, 1400, receiver);
      const at512 = await measure(scenario, hotShotsTransport, 512, receiver);
      const mixer = await mixerPackets(scenario);
      console.log(`  record (handleMetrics): ${fmt(hot.recordMs)} ms, ${fmt(hot.instancesPerSec)} instances/s`);
      console.log(
        `  flush via hot-shots, flushBytes 1400: ${fmt(hot.flushMs)} ms, ${fmt(hot.linesPerSec)} lines/s, ` +
          `${fmt(hot.lines)} lines in ${fmt(hot.datagrams)} packets per flush (${(hot.lines / hot.datagrams).toFixed(1)} lines/packet), ` +
          `receiver got ${fmt(hot.received)} lines`,
      );
      console.log(
        `  flush via bare dgram,  flushBytes 1400: ${fmt(raw.flushMs)} ms, ${fmt(raw.linesPerSec)} lines/s, ${fmt(raw.datagrams)} packets`,
      );
      console.log(`  flush via hot-shots, flushBytes 512:  ${fmt(at512.flushMs)} ms, ${fmt(at512.datagrams)} packets per flush`);
      console.log(`  Mixer for the same instances: ${fmt(mixer.lines)} lines in ${fmt(mixer.packets)} packets (512-byte buffer)`);
      summary.push(
        `${scenario.name} ${fmt(hot.linesPerSec)} lines/s, ${fmt(hot.datagrams)} packets/flush for ${fmt(hot.lines)} lines ` +
          `(Mixer ${fmt(mixer.packets)} packets for ${fmt(mixer.lines)} lines; bare dgram ${fmt(raw.linesPerSec)} lines/s)`,
      );
    }
    const t = await transportOnly(receiver);
    console.log(
      `\ntransport alone, 10,000 datagrams of ${t.bytes} bytes: hot-shots ${t.hotUs.toFixed(1)} µs/datagram, ` +
        `bare dgram ${t.rawUs.toFixed(1)} µs/datagram`,
    );
    summary.push(`transport hot-shots ${t.hotUs.toFixed(1)} vs dgram ${t.rawUs.toFixed(1)} us/datagram`);
  } finally {
    await receiver.close();
  }
  console.log(`\nsummary: ${summary.join('; ')}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
