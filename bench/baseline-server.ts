/**
 * The ingest bench's reference servers, both gRPC Mixer endpoints that answer every Report OK.
 *
 * - `decode` (the baseline): what a straightforward Node implementation would do first, and
 *   nothing after it. The generated ts-proto service definition decodes each Report into objects
 *   (`ReportRequest.decode`) and the handler discards them. Telemux has to beat this by doing all
 *   of its work.
 * - `transport` (the floor): the same gRPC server Telemux runs (its options, its flow-control
 *   windows, raw-bytes deserialisers) with nothing behind it. What it costs per set is what grpc-js
 *   and HTTP/2 cost; Telemux's CPU above it is Telemux's own.
 * - `smooth <µs>`: the floor plus a busy wait of `<µs>` per Report, run as each Report arrives.
 *   Given what Telemux spent per Report above the floor, it is a server as busy as Telemux whose
 *   work is perfectly even: no flushes, no collector, no scrapes. Its latency at Telemux's load is
 *   what queueing on this host costs any server that busy; what Telemux adds is its unevenness.
 *
 * Started by bench/ingest.ts with the mode as its argument; prints `<mode> listening <port>` on
 * stdout, exits on SIGTERM.
 */
import { performance } from 'node:perf_hooks';
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { MixerService, type ReportRequest, type ReportResponse } from '../src/gen/istio/mixer/v1/mixer.js';
import { mixerServerOptions } from '../src/core/server/grpc-options.js';
import { widenFlowControlWindows } from '../src/core/server/http2-window.js';
import { RAW_MIXER_SERVICE } from '../src/core/server/report-service.js';

const MODES = ['decode', 'transport', 'smooth'] as const;
const mode = MODES.find((m) => m === process.argv[2]) ?? 'decode';
const spinMs = mode === 'smooth' ? Number(process.argv[3]) / 1e3 : 0;
if (!(spinMs >= 0)) throw new Error(`smooth: the busy wait per Report must be a number of µs, got ${String(process.argv[3])}`);
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

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

function transportServer(): Server {
  // Telemux's own server options, at its default message limit.
  const server = new Server(mixerServerOptions(1024 * 1024));
  server.addService(RAW_MIXER_SERVICE, {
    Report: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
      count += call.request.length;
      if (spinMs > 0) busyWait(spinMs);
      cb(null, EMPTY);
    },
    Check: (_call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => cb(null, EMPTY),
  });
  return server;
}

const server = mode === 'decode' ? decodeServer() : transportServer();
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  if (mode !== 'decode' && !widenFlowControlWindows(server)) throw new Error('cannot widen the flow-control windows as Telemux does');
  process.stdout.write(`${mode} listening ${String(port)}\n`);
});
process.once('SIGTERM', () => {
  process.stderr.write(mode === 'decode' ? `baseline: ${String(count)} sets decoded\n` : `${mode === 'smooth' ? 'smooth server' : 'transport floor'}: ${String(count)} Report bytes received\n`);
  server.forceShutdown();
  process.exit(0);
});
