/**
 * A minimal gRPC unary client for the ingest bench's load generator: node:http2 and the gRPC
 * wire protocol (length-prefixed messages, status in trailers), nothing else.
 *
 * Why not grpc-js here: a grpc-js call copies every message into a freshly allocated frame
 * (50 KB per Envoy-sized Report) and builds call, metadata and filter objects around it. At a few
 * hundred Reports per second that garbage made the generator's own collector pause for 30–40 ms
 * at a time, and those pauses were measured as Report latency even against a server that does
 * nothing. Here a Report is framed once, at start-up, and each call writes those same bytes.
 * The server under test still sees an ordinary gRPC client (tests use grpc-js; this is the load).
 */
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';

// The server's own framing: the load is framed exactly as Telemux frames its answers.
export { grpcFrame } from '../src/core/server/grpc/unary.js';

/** Stands in for a status code when the call failed below gRPC (no status at all). */
export const NO_STATUS = -1;

/**
 * Called once per call with the gRPC status code (0: OK; NO_STATUS when none arrived) and, when
 * it is not OK, what went wrong.
 */
export type CallDone = (code: number, error: string | undefined) => void;

const WINDOW = 16 * 1024 * 1024;

/** One HTTP/2 connection to a gRPC server, sending unary calls of already-framed messages. */
export class H2GrpcConnection {
  private readonly session: ClientHttp2Session;
  private readonly headers: OutgoingHttpHeaders;

  constructor(target: string, path: string) {
    this.session = connect(`http://${target}`, { settings: { initialWindowSize: WINDOW }, maxSessionMemory: 64 });
    this.session.on('error', () => undefined);
    this.session.on('connect', (s: ClientHttp2Session) => s.setLocalWindowSize(WINDOW));
    this.headers = {
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: path,
      [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      [constants.HTTP2_HEADER_TE]: 'trailers',
    };
  }

  /** Sends `framed` (see grpcFrame) as one unary call; `done` is called exactly once. */
  call(framed: Buffer, done: CallDone): void {
    let settled = false;
    let status: string | undefined;
    let message: string | undefined;
    const settle = (code: number, error: string | undefined): void => {
      if (settled) return;
      settled = true;
      done(code, error);
    };
    const take = (h: IncomingHttpHeaders): void => {
      const s = h['grpc-status'];
      if (typeof s === 'string') {
        status = s;
        const m = h['grpc-message'];
        message = typeof m === 'string' ? decodeURIComponent(m) : undefined;
      }
    };
    let stream;
    try {
      stream = this.session.request(this.headers);
    } catch (e) {
      settle(NO_STATUS, `request failed: ${(e as Error).message}`);
      return;
    }
    stream.on('response', (h) => {
      const code = h[constants.HTTP2_HEADER_STATUS];
      if (Number(code) !== 200) settle(NO_STATUS, `HTTP status ${String(code)}`);
      // A trailers-only answer carries its status in the headers.
      take(h);
    });
    stream.on('trailers', take);
    stream.on('error', (e: Error) => settle(NO_STATUS, `stream error: ${e.message}`));
    stream.on('close', () => {
      if (status === undefined) settle(NO_STATUS, `no grpc-status (RST code ${String(stream.rstCode)})`);
      else settle(Number(status), status === '0' ? undefined : `${status} ${message ?? ''}`);
    });
    // The answer (an empty ReportResponse) is read and dropped.
    stream.resume();
    stream.end(framed);
  }

  close(): void {
    this.session.close();
  }
}
