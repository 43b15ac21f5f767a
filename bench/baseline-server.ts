/**
 * The ingest bench's baseline: a gRPC Mixer endpoint that does what a straightforward Node
 * implementation would do first, and nothing after it. The generated ts-proto service definition
 * decodes each Report into objects (`ReportRequest.decode`), the handler discards them and
 * answers OK. Telemux has to beat this by doing all of its work.
 *
 * Started by bench/ingest.ts; prints `baseline listening <port>` on stdout, exits on SIGTERM.
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { MixerService, type ReportRequest, type ReportResponse } from '../src/gen/istio/mixer/v1/mixer.js';

let sets = 0;
const server = new Server({ 'grpc.max_receive_message_length': 1024 * 1024, 'grpc.max_concurrent_streams': 1024 });
server.addService(MixerService, {
  report: (call: ServerUnaryCall<ReportRequest, ReportResponse>, cb: sendUnaryData<ReportResponse>) => {
    // Counting keeps the decoded message observably used, so nothing can elide the decode.
    sets += call.request.attributes.length;
    cb(null, {});
  },
  check: (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => cb(null, {}),
});
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`baseline listening ${String(port)}\n`);
});
process.once('SIGTERM', () => {
  process.stderr.write(`baseline: ${String(sets)} sets decoded\n`);
  server.forceShutdown();
  process.exit(0);
});
