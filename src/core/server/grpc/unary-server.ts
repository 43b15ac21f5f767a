/**
 * A gRPC server for unary methods on `node:http2`: the transport Telemux used before its own
 * (h2-unary-server.ts), kept selectable (`--grpc-transport node-http2`) as a fallback and as the
 * reference the bench compares with. grpc-js's server is general (streaming, interceptors,
 * channelz, per-call deadline timers, a promise per message for decompression); with nothing
 * behind it, on the ingest bench's Envoy-sized Reports, it cost 2.4 µs of CPU per attribute set
 * and this server 0.8–0.9 µs (BENCHMARKS.md, round 8). Wire behaviour: see unary.ts.
 */
import { status as Status } from '@grpc/grpc-js';
import {
  constants,
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { contextOptions } from '../../security/tls.js';
import type { HostPort } from '../http.js';
import { encodeGrpcMessage } from './grpc-message.js';
import { callEnvironment, closeGracefully, DEFAULT_PREFACE_TIMEOUT_MS, grpcFrame, listenOn, UnaryCallBase, type CallEnvironment, type UnaryMethod, type UnaryServer, type UnaryServerOptions } from './unary.js';

// Frozen: node:http2 must not add to them (a shared `date` would go stale); `sendDate: false`.
const OK_HEADERS = Object.freeze({ ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': 'identity,deflate,gzip' });
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0' });
const OK_OPTIONS = Object.freeze({ waitForTrailers: true, sendDate: false });
const END_OPTIONS = Object.freeze({ endStream: true, sendDate: false });
const NO_VALUES: readonly string[] = Object.freeze([]);

const CALL = Symbol('unaryCall');
type StreamWithCall = ServerHttp2Stream & { [CALL]?: Http2UnaryCall };

function ignore(): void {}

function releaseCall(this: StreamWithCall): void {
  this[CALL]?.reader.release();
}

// Shared by every stream (`this` is the stream), so a call costs no closures.
function receiveChunk(this: StreamWithCall, chunk: Buffer): void {
  // An early answer (a framing error) leaves the rest of the request to be read and dropped.
  this[CALL]!.receive(chunk);
}

function completeCall(this: StreamWithCall): void {
  this[CALL]!.complete();
}

function sendOkTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers(OK_TRAILERS);
}

function answerable(stream: ServerHttp2Stream): boolean {
  return !stream.destroyed && !stream.closed && !stream.headersSent;
}

function trailersOnly(stream: ServerHttp2Stream, code: Status, details: string): void {
  if (!answerable(stream)) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) }, END_OPTIONS);
}

class Http2UnaryCall extends UnaryCallBase {
  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly headers: IncomingHttpHeaders,
    method: UnaryMethod,
    path: string,
    env: CallEnvironment,
  ) {
    super(method, path, env);
  }

  protected get answerable(): boolean {
    return answerable(this.stream);
  }

  protected encoding(): string | undefined {
    const encoding = this.headers['grpc-encoding'];
    return typeof encoding === 'string' ? encoding : undefined;
  }

  get(key: string): readonly (string | Buffer)[] {
    const value = this.headers[key];
    if (value === undefined) return NO_VALUES;
    const values = Array.isArray(value) ? value : [value];
    // Binary metadata travels base64-encoded under keys ending in -bin.
    return key.endsWith('-bin') ? values.map((v) => Buffer.from(v, 'base64')) : values;
  }

  ok(response: Buffer): void {
    const s = this.stream;
    if (!answerable(s)) return;
    s.respond(OK_HEADERS, OK_OPTIONS);
    s.once('wantTrailers', sendOkTrailers);
    s.end(grpcFrame(response));
  }

  fail(code: Status, details: string): void {
    trailersOnly(this.stream, code, details);
  }
}

/** A gRPC endpoint on node:http2 serving `methods`. */
export class NodeHttp2UnaryServer implements UnaryServer {
  private server: Http2Server | Http2SecureServer | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly sessions = new Set<Http2Session>();
  private readonly env: CallEnvironment;

  constructor(private readonly opts: UnaryServerOptions) {
    this.env = callEnvironment(opts);
  }

  private readonly onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    // A client's RST_STREAM or a dropped connection surfaces here; the call just goes unanswered.
    stream.on('error', ignore);
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      stream.respond({ ':status': constants.HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE }, END_OPTIONS);
      return;
    }
    const path = headers[':path'] ?? '';
    const method = headers[':method'] === 'POST' ? this.opts.methods.get(path) : undefined;
    if (method === undefined) {
      trailersOnly(stream, Status.UNIMPLEMENTED, `The server does not implement the method ${path}`);
      stream.resume();
      return;
    }
    (stream as StreamWithCall)[CALL] = new Http2UnaryCall(stream, headers, method, path, this.env);
    stream.on('data', receiveChunk);
    stream.on('end', completeCall);
    // Every stream closes, answered or reset or with its connection: what a call still holds is
    // uncounted then, whichever way it ended.
    stream.on('close', releaseCall);
  };

  private readonly onSession = (session: Http2Session): void => {
    session.on('error', ignore);
    this.sessions.add(session);
    // The client's SETTINGS follow its preface: a session without them by the deadline is closed.
    const overdue = setTimeout(() => session.destroy(), this.opts.prefaceTimeoutMs ?? DEFAULT_PREFACE_TIMEOUT_MS);
    overdue.unref();
    session.once('remoteSettings', () => clearTimeout(overdue));
    session.once('close', () => {
      clearTimeout(overdue);
      this.sessions.delete(session);
    });
    // A session closed before its first turn cannot take a window; it needs none.
    if (!session.destroyed) session.setLocalWindowSize(this.opts.connectionWindowBytes);
  };

  // Made at listen time because TLS material is loaded (asynchronously) by then.
  private create(): Http2Server | Http2SecureServer {
    const base = {
      settings: { maxConcurrentStreams: this.opts.maxConcurrentStreams, initialWindowSize: this.opts.streamWindowBytes },
      // node:http2 refuses new streams once a session buffers more than this (MB); the load
      // shedder and the Report queue bound memory instead, as grpc-js leaves it to them.
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
    };
    const tls = this.opts.tls;
    let server: Http2Server | Http2SecureServer;
    if (tls === undefined) {
      server = createServer(base);
    } else {
      const secure = createSecureServer({ ...base, ...contextOptions(tls.material), requestCert: tls.mutual, rejectUnauthorized: tls.mutual, ALPNProtocols: ['h2'] });
      server = secure;
      this.unsubscribe = tls.subscribe((m) => secure.setSecureContext(contextOptions(m)));
    }
    server.on('stream', this.onStream);
    server.on('session', this.onSession);
    // A failed TLS handshake or a client that is not HTTP/2: that connection fails, the server goes on.
    server.on('sessionError', ignore);
    return server;
  }

  /** Bytes of request messages still arriving, held by all calls together. */
  get pendingBytes(): number {
    return this.env.pending.held;
  }

  listen(address: HostPort): Promise<HostPort> {
    return listenOn((this.server ??= this.create()), address);
  }

  close(graceMs = 2_000): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    return closeGracefully(this.server, this.sessions, graceMs, (s) => s.close(), (s) => s.destroy());
  }
}
