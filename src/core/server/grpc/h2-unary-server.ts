/**
 * The gRPC server for unary methods on Telemux's own HTTP/2 (../h2/connection.ts): Telemux's
 * default transport. A call costs a few young objects and, for the OK answer, one buffer; the
 * response's header blocks are encoded once, here. Wire behaviour: see unary.ts.
 */
import { status as Status } from '@grpc/grpc-js';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { contextOptions } from '../../security/tls.js';
import { H2ServerConnection, type H2RequestHandler, type H2Stream } from '../h2/connection.js';
import { encodeHeaderBlock } from '../h2/hpack.js';
import type { HostPort } from '../http.js';
import { encodeGrpcMessage } from './grpc-message.js';
import { callEnvironment, closeGracefully, DEFAULT_PREFACE_TIMEOUT_MS, grpcFrame, listenOn, UnaryCallBase, type CallEnvironment, type UnaryMethod, type UnaryServer, type UnaryServerOptions } from './unary.js';

/** gRPC's own default for metadata a client may send (grpc-go, grpc-js: 8–16 KiB); generous. */
const MAX_HEADER_LIST_BYTES = 64 * 1024;
const OK_HEADERS = encodeHeaderBlock([
  [':status', '200'],
  ['content-type', 'application/grpc'],
  ['grpc-accept-encoding', 'identity,deflate,gzip'],
]);
const OK_TRAILERS = encodeHeaderBlock([['grpc-status', '0']]);
const UNSUPPORTED_MEDIA_TYPE = encodeHeaderBlock([[':status', '415']]);
const NO_VALUES: readonly string[] = Object.freeze([]);

function trailersOnly(stream: H2Stream, code: Status, details: string): void {
  if (!stream.answerable) return;
  stream.respondHeadersOnly(
    encodeHeaderBlock([
      [':status', '200'],
      ['content-type', 'application/grpc'],
      ['grpc-status', String(code)],
      ['grpc-message', encodeGrpcMessage(details)],
    ]),
  );
}

/** The value of header `name` in a flat (name, value, …) list; undefined when it is absent. */
function headerValue(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

class H2UnaryCall extends UnaryCallBase {
  constructor(
    private readonly stream: H2Stream,
    private readonly headers: readonly string[],
    method: UnaryMethod,
    path: string,
    env: CallEnvironment,
  ) {
    super(method, path, env);
  }

  protected get answerable(): boolean {
    return this.stream.answerable;
  }

  protected encoding(): string | undefined {
    return headerValue(this.headers, 'grpc-encoding');
  }

  get(key: string): readonly (string | Buffer)[] {
    const headers = this.headers;
    let values: (string | Buffer)[] | undefined;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i] !== key) continue;
      const value = headers[i + 1]!;
      // Binary metadata travels base64-encoded under keys ending in -bin.
      (values ??= []).push(key.endsWith('-bin') ? Buffer.from(value, 'base64') : value);
    }
    return values ?? NO_VALUES;
  }

  ok(response: Buffer): void {
    this.stream.respond(OK_HEADERS, grpcFrame(response), OK_TRAILERS);
  }

  fail(code: Status, details: string): void {
    trailersOnly(this.stream, code, details);
  }
}

/** A gRPC endpoint on Telemux's own HTTP/2 serving `methods`. */
export class H2UnaryServer implements UnaryServer, H2RequestHandler {
  private server: TcpServer | TlsServer | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly connections = new Set<H2ServerConnection>();
  private readonly env: CallEnvironment;
  private readonly connectionOptions;

  constructor(private readonly opts: UnaryServerOptions) {
    this.env = callEnvironment(opts);
    this.connectionOptions = {
      maxConcurrentStreams: opts.maxConcurrentStreams,
      streamWindowBytes: opts.streamWindowBytes,
      connectionWindowBytes: opts.connectionWindowBytes,
      maxHeaderListBytes: MAX_HEADER_LIST_BYTES,
      onInternalError: (e: Error) => opts.logger.error('HTTP/2 connection failed', { error: e.stack ?? String(e) }),
      prefaceTimeoutMs: opts.prefaceTimeoutMs ?? DEFAULT_PREFACE_TIMEOUT_MS,
    };
  }

  get pendingBytes(): number {
    return this.env.pending.held;
  }

  onRequest(stream: H2Stream, headers: string[]): void {
    const contentType = headerValue(headers, 'content-type');
    if (contentType === undefined || !contentType.startsWith('application/grpc')) {
      stream.respondHeadersOnly(UNSUPPORTED_MEDIA_TYPE);
      return;
    }
    const path = headerValue(headers, ':path') ?? '';
    const method = headerValue(headers, ':method') === 'POST' ? this.opts.methods.get(path) : undefined;
    if (method === undefined) {
      trailersOnly(stream, Status.UNIMPLEMENTED, `The server does not implement the method ${path}`);
      return;
    }
    stream.context = new H2UnaryCall(stream, headers, method, path, this.env);
  }

  onData(stream: H2Stream, chunk: Buffer): void {
    // An early answer (a framing error) makes the connection ask the client to stop sending.
    (stream.context as H2UnaryCall | undefined)?.receive(chunk);
  }

  onEnd(stream: H2Stream): void {
    (stream.context as H2UnaryCall | undefined)?.complete();
  }

  onClose(stream: H2Stream): void {
    // Every stream closes, answered or reset or with its connection: what a call still holds is
    // uncounted then, whichever way it ended.
    (stream.context as H2UnaryCall | undefined)?.reader.release();
  }

  private readonly accept = (socket: Socket | TLSSocket): void => {
    if (this.server === undefined || !this.server.listening) {
      socket.destroy();
      return;
    }
    const connection = new H2ServerConnection(socket, this.connectionOptions, this, (c) => this.connections.delete(c));
    this.connections.add(connection);
  };

  // Made at listen time because TLS material is loaded (asynchronously) by then.
  private create(): TcpServer | TlsServer {
    const tls = this.opts.tls;
    if (tls === undefined) return createTcpServer(this.accept);
    const server = createTlsServer({ ...contextOptions(tls.material), requestCert: tls.mutual, rejectUnauthorized: tls.mutual, ALPNProtocols: ['h2'] }, this.accept);
    this.unsubscribe = tls.subscribe((m) => server.setSecureContext(contextOptions(m)));
    // A failed TLS handshake: that connection fails, the server goes on.
    server.on('tlsClientError', (_e, socket) => socket.destroy());
    return server;
  }

  listen(address: HostPort): Promise<HostPort> {
    return listenOn((this.server ??= this.create()), address);
  }

  close(graceMs = 2_000): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    return closeGracefully(this.server, this.connections, graceMs, (c) => c.shutdown(), (c) => c.destroy());
  }
}
