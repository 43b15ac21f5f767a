/**
 * Which HTTP/2 implementation carries the gRPC endpoint. Telemux's own is the default; node:http2
 * stays one flag away (`--grpc-transport node-http2`) in case a client meets a difference between
 * them in the field.
 */
import { H2UnaryServer } from './h2-unary-server.js';
import type { UnaryServer, UnaryServerOptions } from './unary.js';
import { NodeHttp2UnaryServer } from './unary-server.js';

export const GRPC_TRANSPORTS = ['telemux', 'node-http2'] as const;
export type GrpcTransport = (typeof GRPC_TRANSPORTS)[number];

export function createUnaryServer(opts: UnaryServerOptions, transport: GrpcTransport = 'telemux'): UnaryServer {
  return transport === 'node-http2' ? new NodeHttp2UnaryServer(opts) : new H2UnaryServer(opts);
}
