/**
 * A gRPC server for unary methods, straight on `node:http2`: what Telemux's Mixer endpoint needs
 * (two unary methods taking and returning raw bytes) and nothing more. grpc-js's server is general
 * (streaming, interceptors, channelz, per-call deadline timers, a promise per message for
 * decompression). With nothing behind it, on the ingest bench's Envoy-sized Reports, it cost
 * 2.4 µs of CPU per attribute set and this server 0.8–0.9 µs (BENCHMARKS.md, round 8).
 *
 * Wire behaviour follows gRPC over HTTP/2 and matches grpc-js's server where the protocol leaves a
 * choice (status codes and messages for framing errors, unknown methods, compression): a content
 * type other than `application/grpc…` gets HTTP 415; an unknown path UNIMPLEMENTED; a message
 * above the limit RESOURCE_EXHAUSTED as soon as its length prefix is read; gzip and deflate
 * request messages are decompressed within the same limit. Errors are sent trailers-only, OK as
 * headers, the response message and `grpc-status: 0` trailers. `grpc-timeout` is not enforced:
 * a Report that arrived whole is processed even if its caller stopped waiting, as grpc-js does.
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
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import type { Logger } from '../../log.js';
import type { RequestMetadata } from '../../security/admission.js';
import { contextOptions, type TlsSource } from '../../security/tls.js';
import type { HostPort } from '../http.js';
import { encodeGrpcMessage } from './grpc-message.js';
import { MessageBufferPool } from './message-pool.js';
import { PendingBytes, UnaryMessageReader, type FramingError } from './message-reader.js';

/** One unary call: its request message and metadata, and the two ways to answer it. */
export interface UnaryCall {
  /**
   * The request message, decompressed: often a view of the bytes HTTP/2 received, so anything that
   * must outlive the call is copied out of it.
   */
  readonly request: Buffer;
  readonly metadata: RequestMetadata;
  /**
   * The method is done with `request`: its bytes may be reused for a later call's message, and
   * `request` is empty from now on. Whatever was decoded from it must not view it (copy first).
   * A method that never calls this leaves the buffer to the collector.
   */
  releaseRequest(): void;
  /** Answers OK with `response` as the response message. At most one answer counts. */
  ok(response: Buffer): void;
  /** Answers with a non-OK status; `details` may be any text (it is percent-encoded). */
  fail(code: Status, details: string): void;
}

export type UnaryMethod = (call: UnaryCall) => void;

export interface UnaryServerOptions {
  /** Methods by path, `/package.Service/Method`. */
  readonly methods: ReadonlyMap<string, UnaryMethod>;
  /** Largest request message accepted, compressed or decompressed. */
  readonly maxMessageBytes: number;
  /**
   * Bytes of request messages still arriving that all calls together may hold (default 64 MiB);
   * a call whose next piece would pass it is refused with UNAVAILABLE.
   */
  readonly maxPendingBytes?: number;
  /** Called for each call refused by that bound, with its path (for a counter). */
  readonly onPendingLimit?: (path: string) => void;
  readonly maxConcurrentStreams: number;
  /** HTTP/2 flow-control window per call and per connection; see http2-window.ts. */
  readonly streamWindowBytes: number;
  readonly connectionWindowBytes: number;
  /** TLS material (mutual when it has a client CA); reloads reach new connections. */
  readonly tls?: TlsSource;
  readonly logger: Logger;
}

// Frozen: node:http2 must not add to them (a shared `date` would go stale); `sendDate: false`.
const OK_HEADERS = Object.freeze({ ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': 'identity,deflate,gzip' });
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0' });
const OK_OPTIONS = Object.freeze({ waitForTrailers: true, sendDate: false });
const END_OPTIONS = Object.freeze({ endStream: true, sendDate: false });
const EMPTY_FRAME = Buffer.alloc(5);
const NO_REQUEST = Buffer.alloc(0);
const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;
const NO_VALUES: readonly string[] = Object.freeze([]);

const CALL = Symbol('unaryCall');
type StreamWithCall = ServerHttp2Stream & { [CALL]?: Http2UnaryCall };

function ignore(): void {}

function releaseCall(this: StreamWithCall): void {
  this[CALL]?.reader.release();
}

function sendOkTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers(OK_TRAILERS);
}

/** `message` behind the 5-byte gRPC frame header (uncompressed, big-endian length). */
export function grpcFrame(message: Uint8Array): Buffer {
  if (message.length === 0) return EMPTY_FRAME;
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

function answerable(stream: ServerHttp2Stream): boolean {
  return !stream.destroyed && !stream.closed && !stream.headersSent;
}

function trailersOnly(stream: ServerHttp2Stream, code: Status, details: string): void {
  if (!answerable(stream)) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) }, END_OPTIONS);
}

class Http2UnaryCall implements UnaryCall, RequestMetadata {
  request: Buffer = NO_REQUEST;
  readonly reader: UnaryMessageReader;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly headers: IncomingHttpHeaders,
    readonly method: UnaryMethod,
    readonly path: string,
    maxMessageBytes: number,
    pending: PendingBytes,
    pool: MessageBufferPool,
  ) {
    this.reader = new UnaryMessageReader(maxMessageBytes, path, pending, pool);
  }

  releaseRequest(): void {
    this.request = NO_REQUEST;
    this.reader.releaseMessage();
  }

  get metadata(): RequestMetadata {
    return this;
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

  /** The request message, decompressed per `grpc-encoding`, or why it cannot be had. */
  message(): Buffer | FramingError {
    const maxMessageBytes = this.reader.maxMessageBytes;
    const read = this.reader.finish();
    if (!('message' in read)) return read;
    if (!read.compressed) return read.message;
    try {
      return this.decompressed(read.message, maxMessageBytes);
    } finally {
      // The output is a buffer of its own; the compressed bytes are not read again.
      this.reader.releaseMessage();
    }
  }

  private decompressed(message: Buffer, maxMessageBytes: number): Buffer | FramingError {
    const encoding = this.headers['grpc-encoding'] ?? 'identity';
    if (encoding !== 'gzip' && encoding !== 'deflate') {
      return encoding === 'identity'
        ? { code: Status.INTERNAL, details: 'Received a message with the compressed flag set but grpc-encoding identity' }
        : { code: Status.UNIMPLEMENTED, details: `Received message compressed with unsupported encoding "${String(encoding)}"` };
    }
    try {
      // Bounded: a small bomb cannot inflate past the limit (zlib stops and throws at maxOutputLength).
      const opts = { maxOutputLength: maxMessageBytes };
      return encoding === 'gzip' ? gunzipSync(message, opts) : inflateSync(message, opts);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return { code: Status.RESOURCE_EXHAUSTED, details: `Received message that decompresses to a size larger than ${maxMessageBytes}` };
      }
      return { code: Status.INTERNAL, details: `Failed to decompress message (${encoding}): ${(e as Error).message}` };
    }
  }
}

/** A gRPC endpoint serving `methods`; `listen` once, `close` to stop. */
export class GrpcUnaryServer {
  private server: Http2Server | Http2SecureServer | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly sessions = new Set<Http2Session>();
  private readonly pending: PendingBytes;
  private readonly pool = new MessageBufferPool();
  private readonly onData: (this: StreamWithCall, chunk: Buffer) => void;
  private readonly onEnd: (this: StreamWithCall) => void;

  constructor(private readonly opts: UnaryServerOptions) {
    this.pending = new PendingBytes(opts.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES);
    const logger = opts.logger;
    const onPendingLimit = opts.onPendingLimit;
    const pendingRefusal = this.pending.refusal;
    // Shared by every stream (`this` is the stream), so a call costs no closures.
    this.onData = function (this: StreamWithCall, chunk: Buffer): void {
      const call = this[CALL]!;
      call.reader.push(chunk);
      // Answer a framing error at once (an oversized message before it is sent); the rest of the
      // request is then read and dropped.
      const error = call.reader.error;
      if (error === undefined || this.headersSent) return;
      if (error === pendingRefusal) onPendingLimit?.(call.path);
      trailersOnly(this, error.code, error.details);
    };
    this.onEnd = function (this: StreamWithCall): void {
      const call = this[CALL]!;
      const message = call.message();
      if (!Buffer.isBuffer(message)) return trailersOnly(this, message.code, message.details);
      call.request = message;
      try {
        call.method(call);
      } catch (e) {
        logger.error('gRPC method failed', { error: (e as Error).stack ?? String(e) });
        call.fail(Status.INTERNAL, `internal error: ${(e as Error).message}`);
      }
    };
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
    (stream as StreamWithCall)[CALL] = new Http2UnaryCall(stream, headers, method, path, this.opts.maxMessageBytes, this.pending, this.pool);
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    // Every stream closes, answered or reset or with its connection: what a call still holds is
    // uncounted then, whichever way it ended.
    stream.on('close', releaseCall);
  };

  private readonly onSession = (session: Http2Session): void => {
    session.on('error', ignore);
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
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
    return this.pending.held;
  }

  listen(address: HostPort): Promise<HostPort> {
    const server = (this.server ??= this.create());
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        resolve({ host: address.host, port: (server.address() as AddressInfo).port });
      });
    });
  }

  /**
   * Stops accepting connections and sends every connection GOAWAY, so calls in flight finish and
   * clients reconnect elsewhere; connections still open after `graceMs` are closed. Idempotent.
   */
  close(graceMs = 2_000): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const server = this.server;
    if (!server?.listening) return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        for (const s of this.sessions) s.destroy();
      }, graceMs);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      for (const s of this.sessions) s.close();
    });
  }
}
