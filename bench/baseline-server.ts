/**
 * The ingest bench's reference servers, both gRPC Mixer endpoints that answer every Report OK.
 *
 * - `decode` (the baseline): what a straightforward Node implementation would do first, and
 *   nothing after it. The generated ts-proto service definition decodes each Report into objects
 *   (`ReportRequest.decode`) and the handler discards them. Telemux has to beat this by doing all
 *   of its work.
 * - `transport` (the floor): the same gRPC server Telemux runs (grpc/h2-unary-server.ts on its own
 *   HTTP/2, with its limits and flow-control windows) with nothing behind it. What it costs per
 *   set is what gRPC framing and HTTP/2 cost; Telemux's CPU above it is Telemux's own.
 * - `node-http2`: the same server on node:http2 (grpc/unary-server.ts), the floor from round 8
 *   until Telemux had its own HTTP/2 (round 14).
 * - `grpc-js`: the floor as it was before round 8, a grpc-js server with Telemux's former options
 *   and raw-bytes deserialisers: what the transport Telemux replaced cost.
 * - `smooth <µs>`: the floor plus a busy wait of `<µs>` per Report, run as each Report arrives.
 *   Given what Telemux spent per Report above the floor, it is a server as busy as Telemux whose
 *   work is perfectly even: no flushes, no collector, no scrapes. Its latency at Telemux's load is
 *   what queueing on this host costs any server that busy; what Telemux adds is its unevenness.
 * - `even-work <µs>` or `even-work x<decodes>`: the floor plus, per Report, Telemux's own Report
 *   decoder run over the Report's bytes as many times as take `<µs>` (timed when the server
 *   starts), or `<decodes>` times (fractional: the remainder carries over to the next Report). Work,
 *   not a wait: when the host runs memory-heavy code slower, this server slows with it, as Telemux
 *   does, and its busy share moves with the host's speed; `smooth`'s wait takes the same wall time
 *   whatever the host does. Its listening line ends with `decodes=<n>`, the decodes per Report.
 *
 * Started by bench/ingest.ts with the mode as its argument; prints `<mode> listening <port>` on
 * stdout, exits on SIGTERM.
 */
import { performance } from 'node:perf_hooks';
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition } from '@grpc/grpc-js';
import type { Http2Session } from 'node:http2';
import { MixerService, type ReportRequest, type ReportResponse } from '../src/gen/istio/mixer/v1/mixer.js';
import { ReportDecoder } from '../src/core/attributes/decode.js';
import { silentLogger } from '../src/core/log.js';
import { createUnaryServer } from '../src/core/server/grpc/transport.js';
import type { UnaryMethod, UnaryServer } from '../src/core/server/grpc/unary.js';
import { CONNECTION_WINDOW_BYTES, MAX_CONCURRENT_STREAMS, STREAM_WINDOW_BYTES } from '../src/core/server/http2-window.js';
import { benchSnapshot } from './pipeline.js';
import { encodedReports } from './workload.js';
import { MIXER_CHECK_PATH, MIXER_REPORT_PATH } from '../src/core/server/report-service.js';

const MODES = ['decode', 'transport', 'smooth', 'even-work', 'grpc-js', 'node-http2'] as const;
const mode = MODES.find((m) => m === process.argv[2]) ?? 'decode';
const workArg = process.argv[3] ?? '';
const fixedDecodes = mode === 'even-work' && workArg.startsWith('x');
const workAmount = mode === 'smooth' || mode === 'even-work' ? Number(fixedDecodes ? workArg.slice(1) : workArg) : 0;
if (!(workAmount >= 0)) throw new Error(`${mode}: the work per Report must be a number of µs (or x<decodes>), got '${workArg}'`);
const spinMs = mode === 'smooth' ? workAmount / 1e3 : 0;
const evenWork = mode === 'even-work' ? await evenDecodes(workAmount, fixedDecodes) : undefined;
const EMPTY = Buffer.alloc(0);
let count = 0;

function decodeServer(): Server {
  const server = new Server({ 'grpc.max_receive_message_length': 1024 * 1024, 'grpc.max_concurrent_streams': 1024 });
  server.addService(MixerService, {
    report: (call: ServerUnaryCall<ReportRequest, ReportResponse>, cb: sendUnaryData<ReportResponse>) => {
      // Counting keeps the decoded message observably used, so nothing can elide the decode.
      count += call.request.attributes.length;
      cb(null, {});
    },
    check: (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => cb(null, {}),
  });
  return server;
}

interface EvenWork {
  readonly decoder: ReportDecoder;
  /** Decodes per Report, fractional: the remainder is carried from Report to Report. */
  readonly perReport: number;
}

/**
 * Telemux's decoder on the bench config, run `amount` times per Report when `fixed`, else as many
 * times as take `amount` µs of a bench Report.
 */
async function evenDecodes(amount: number, fixed: boolean): Promise<EvenWork> {
  const snapshot = await benchSnapshot();
  const decoder = new ReportDecoder(snapshot.manifest, snapshot.referenced);
  if (fixed) return { decoder, perReport: amount };
  const reports = encodedReports(64);
  // For `ms`, decoding the bench's Reports in turn; µs per decode.
  const decodeFor = (ms: number): number => {
    const t0 = performance.now();
    let n = 0;
    for (const untilMs = t0 + ms; performance.now() < untilMs; n++) decoder.decode(reports[n % reports.length]!);
    return ((performance.now() - t0) * 1e3) / n;
  };
  // Warmed first, then timed: a few hundred ms on a quiet server.
  decodeFor(300);
  const decodeUs = decodeFor(300);
  process.stderr.write(`even-work: one decode of a bench Report takes ${decodeUs.toFixed(0)} µs\n`);
  return { decoder, perReport: amount / decodeUs };
}

let owedDecodes = 0;

function decodeEvenly(w: EvenWork, bytes: Uint8Array): void {
  owedDecodes += w.perReport;
  for (; owedDecodes >= 1; owedDecodes--) count += w.decoder.decode(bytes).bags.length;
}

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

function transportServer(): UnaryServer {
  const report: UnaryMethod = (call) => {
    count += call.request.length;
    if (evenWork !== undefined) decodeEvenly(evenWork, call.request);
    // Done with the bytes, as Telemux's Report service is: the floor reuses message buffers too.
    call.releaseRequest();
    if (spinMs > 0) busyWait(spinMs);
    call.ok(EMPTY);
  };
  return createUnaryServer({
    methods: new Map<string, UnaryMethod>([
      [MIXER_REPORT_PATH, report],
      [MIXER_CHECK_PATH, (call) => call.ok(EMPTY)],
    ]),
    maxMessageBytes: 1024 * 1024,
    maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
    streamWindowBytes: STREAM_WINDOW_BYTES,
    connectionWindowBytes: CONNECTION_WINDOW_BYTES,
    logger: silentLogger,
  }, mode === 'node-http2' ? 'node-http2' : 'telemux');
}

const identity = (b: Buffer): Buffer => b;
const rawMethod = (path: string): ServiceDefinition[string] => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});

/** The floor before round 8: grpc-js with the options and windows Telemux then gave it. */
function grpcJsServer(): Server {
  const server = new Server({ 'grpc.max_receive_message_length': 1024 * 1024, 'grpc.max_concurrent_streams': MAX_CONCURRENT_STREAMS, 'grpc.enable_channelz': 0 });
  server.addService({ Report: rawMethod(MIXER_REPORT_PATH), Check: rawMethod(MIXER_CHECK_PATH) }, {
    Report: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
      count += call.request.length;
      cb(null, EMPTY);
    },
    Check: (_call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => cb(null, EMPTY),
  });
  return server;
}

/** grpc-js keeps its http2 servers in a private map; the windows are widened there, as Telemux did. */
function widenGrpcJsWindows(server: Server): void {
  const servers = (server as unknown as { http2Servers?: Map<{ updateSettings(s: object): void; on(e: 'session', f: (s: Http2Session) => void): void }, unknown> }).http2Servers;
  if (!(servers instanceof Map)) throw new Error('this grpc-js keeps its http2 servers elsewhere; cannot widen its windows');
  for (const h2 of servers.keys()) {
    h2.updateSettings({ initialWindowSize: STREAM_WINDOW_BYTES });
    h2.on('session', (session) => {
      if (!session.destroyed) session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    });
  }
}

function listening(port: number): void {
  const extra = evenWork === undefined ? '' : ` decodes=${evenWork.perReport.toFixed(3)}`;
  process.stdout.write(`${mode} listening ${String(port)}${extra}\n`);
}

let stop: () => void;
if (mode === 'transport' || mode === 'smooth' || mode === 'even-work' || mode === 'node-http2') {
  const server = transportServer();
  void server.listen({ host: '127.0.0.1', port: 0 }).then((a) => listening(a.port));
  stop = () => void server.close(0);
} else {
  const server = mode === 'decode' ? decodeServer() : grpcJsServer();
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    if (mode === 'grpc-js') widenGrpcJsWindows(server);
    listening(port);
  });
  stop = () => server.forceShutdown();
}
process.once('SIGTERM', () => {
  const what = mode === 'decode' ? 'baseline' : mode === 'smooth' ? 'smooth server' : mode === 'even-work' ? 'even-work server' : mode === 'grpc-js' ? 'grpc-js floor' : mode === 'node-http2' ? 'node:http2 floor' : 'transport floor';
  process.stderr.write(mode === 'decode' ? `${what}: ${String(count)} sets decoded\n` : `${what}: ${String(count)} Report bytes received\n`);
  stop();
  process.exit(0);
});
