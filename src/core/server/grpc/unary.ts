/**
 * What a unary gRPC method and the servers that carry it share, whichever HTTP/2 transport is
 * under them (h2-unary-server.ts, Telemux's own; unary-server.ts, node:http2's): the call, the
 * options, gRPC's 5-byte message framing, and request decompression.
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
import type { AddressInfo, Server } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import type { Logger } from '../../log.js';
import type { RequestMetadata } from '../../security/admission.js';
import type { TlsSource } from '../../security/tls.js';
import type { HostPort } from '../http.js';
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
  /**
   * How long a new connection may take to send the HTTP/2 client preface (default
   * DEFAULT_PREFACE_TIMEOUT_MS); one that has not by then is closed. Without it, a peer that
   * connects and sends nothing, or not HTTP/2, would hold its socket for good.
   */
  readonly prefaceTimeoutMs?: number;
  readonly logger: Logger;
}

/** See UnaryServerOptions.prefaceTimeoutMs; gRPC clients send the preface at once. */
export const DEFAULT_PREFACE_TIMEOUT_MS = 10_000;

/** A gRPC endpoint serving unary methods; `listen` once, `close` to stop. */
export interface UnaryServer {
  listen(address: HostPort): Promise<HostPort>;
  /**
   * Stops accepting connections and sends every connection GOAWAY, so calls in flight finish and
   * clients reconnect elsewhere; connections still open after `graceMs` are closed. Idempotent.
   */
  close(graceMs?: number): Promise<void>;
  /** Bytes of request messages still arriving, held by all calls together. */
  readonly pendingBytes: number;
}

const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;
const NO_REQUEST = Buffer.alloc(0);
const EMPTY_FRAME = Buffer.alloc(5);

/** `message` behind the 5-byte gRPC frame header (uncompressed, big-endian length). */
export function grpcFrame(message: Uint8Array): Buffer {
  if (message.length === 0) return EMPTY_FRAME;
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** The request message `reader` gathered, decompressed per `grpc-encoding`, or why it cannot be had. */
function requestMessage(reader: UnaryMessageReader, encoding: string | undefined): Buffer | FramingError {
  const maxMessageBytes = reader.maxMessageBytes;
  const read = reader.finish();
  if (!('message' in read)) return read;
  if (!read.compressed) return read.message;
  try {
    return decompressed(read.message, encoding ?? 'identity', maxMessageBytes);
  } finally {
    // The output is a buffer of its own; the compressed bytes are not read again.
    reader.releaseMessage();
  }
}

function decompressed(message: Buffer, encoding: string, maxMessageBytes: number): Buffer | FramingError {
  if (encoding !== 'gzip' && encoding !== 'deflate') {
    return encoding === 'identity'
      ? { code: Status.INTERNAL, details: 'Received a message with the compressed flag set but grpc-encoding identity' }
      : { code: Status.UNIMPLEMENTED, details: `Received message compressed with unsupported encoding "${encoding}"` };
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

/** Binds `server` (a TCP, TLS or HTTP/2 server) to `address`; the port is the one bound. */
export function listenOn(server: Server, address: HostPort): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve({ host: address.host, port: (server.address() as AddressInfo).port });
    });
  });
}

/**
 * Stops `server` accepting connections and asks each open one to finish (`goAway`); those still
 * open after `graceMs` are ended (`destroy`). Resolves once the last connection is gone.
 */
export function closeGracefully<C>(server: Server | undefined, connections: Iterable<C>, graceMs: number, goAway: (c: C) => void, destroy: (c: C) => void): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      for (const c of connections) destroy(c);
    }, graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    for (const c of connections) goAway(c);
  });
}

/** What every call of one server shares: its limits, its buffers and where it reports. */
export interface CallEnvironment {
  readonly maxMessageBytes: number;
  readonly pending: PendingBytes;
  readonly pool: MessageBufferPool;
  readonly logger: Logger;
  readonly onPendingLimit: ((path: string) => void) | undefined;
}

/** The environment of a server's calls, from its options. */
export function callEnvironment(opts: UnaryServerOptions): CallEnvironment {
  return {
    maxMessageBytes: opts.maxMessageBytes,
    pending: new PendingBytes(opts.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES),
    pool: new MessageBufferPool(),
    logger: opts.logger,
    onPendingLimit: opts.onPendingLimit,
  };
}

/**
 * A call on either transport but for how it reads metadata, answers and names its request's
 * encoding: its request message as it arrives, the method run once it is whole, and the
 * message's buffer handed back.
 */
export abstract class UnaryCallBase implements UnaryCall, RequestMetadata {
  request: Buffer = NO_REQUEST;
  readonly reader: UnaryMessageReader;

  constructor(
    readonly method: UnaryMethod,
    readonly path: string,
    private readonly env: CallEnvironment,
  ) {
    this.reader = new UnaryMessageReader(env.maxMessageBytes, path, env.pending, env.pool);
  }

  releaseRequest(): void {
    this.request = NO_REQUEST;
    this.reader.releaseMessage();
  }

  get metadata(): RequestMetadata {
    return this;
  }

  /**
   * Takes the next DATA chunk. A framing error (an oversized message, the server's bound on
   * bytes still arriving) is answered at once, before the rest of the request is read.
   */
  receive(chunk: Buffer): void {
    this.reader.push(chunk);
    const error = this.reader.error;
    if (error === undefined || !this.answerable) return;
    if (error === this.env.pending.refusal) this.env.onPendingLimit?.(this.path);
    this.fail(error.code, error.details);
  }

  /** The request has ended: the method runs with its message, or why there is none is answered. */
  complete(): void {
    if (!this.answerable) return;
    const message = requestMessage(this.reader, this.encoding());
    if (!Buffer.isBuffer(message)) return this.fail(message.code, message.details);
    this.request = message;
    try {
      this.method(this);
    } catch (e) {
      this.env.logger.error('gRPC method failed', { error: (e as Error).stack ?? String(e) });
      this.fail(Status.INTERNAL, `internal error: ${(e as Error).message}`);
    }
  }

  /** Whether nothing has been answered yet (and the stream can still take an answer). */
  protected abstract get answerable(): boolean;
  /** The request's `grpc-encoding`, if it named one. */
  protected abstract encoding(): string | undefined;
  abstract get(key: string): readonly (string | Buffer)[];
  abstract ok(response: Buffer): void;
  abstract fail(code: Status, details: string): void;
}
