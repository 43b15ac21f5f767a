/** A gRPC unary server (either transport) on loopback with a plain node:http2 client session to it, for the server's own tests. */
import { connect, type ClientHttp2Session } from 'node:http2';
import { silentLogger } from '../../src/core/log.js';
import { createUnaryServer, type GrpcTransport } from '../../src/core/server/grpc/transport.js';
import type { UnaryMethod, UnaryServer, UnaryServerOptions } from '../../src/core/server/grpc/unary.js';

export interface LoopbackUnaryServer {
  readonly server: UnaryServer;
  readonly session: ClientHttp2Session;
  readonly port: number;
  /** Closes the session, then the server at once. */
  close(): Promise<void>;
}

/** `methods` served with 1 MiB windows, 100 streams and 1 MiB messages unless `options` say otherwise. */
export async function loopbackUnaryServer(
  methods: ReadonlyMap<string, UnaryMethod>,
  options: Partial<UnaryServerOptions> = {},
  transport: GrpcTransport = 'telemux',
): Promise<LoopbackUnaryServer> {
  const server = createUnaryServer({
    methods,
    maxMessageBytes: 1 << 20,
    maxConcurrentStreams: 100,
    streamWindowBytes: 1 << 20,
    connectionWindowBytes: 1 << 20,
    logger: silentLogger,
    ...options,
  }, transport);
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const session = connect(`http://127.0.0.1:${String(port)}`);
  session.on('error', () => {});
  return {
    server,
    session,
    port,
    close: async () => {
      session.close();
      await server.close(0);
    },
  };
}
