/**
 * HTTP/2 flow control on the Report endpoint. A connection starts with a 64 KiB window shared by
 * all its calls, and the sender must stop once that much is unacknowledged. A sidecar batching 50
 * KiB Reports, or a gateway carrying a thousand Reports a second on one connection, then queues
 * them in the client for seconds whenever the server is busy: there no shedder can refuse them,
 * and they arrive long after they were sent. gRPC's Go server widens its windows (BDP estimation);
 * grpc-js offers a client an option for it (`grpc-node.flow_control_window`) but a server none, so
 * Telemux widens them on the http2 servers grpc-js creates.
 *
 * The memory this allows is bounded by the kernel's socket buffers and by the shedder: data is
 * read as it arrives, and a Report is refused in microseconds once the process is past its limits.
 */
import type { Server } from '@grpc/grpc-js';
import type { Http2SecureServer, Http2Server, Http2Session } from 'node:http2';

/** Per call: the largest window HTTP/2 allows, so one call can always use the connection's whole window. */
export const STREAM_WINDOW_BYTES = 2 ** 31 - 1;
/**
 * Per connection: about five Envoy-sized (50 KiB) Reports, or a dozen smaller ones, in flight.
 * Not more: whatever the window lets in arrives in one read and is handled in one turn of the
 * event loop, so a wider window moves the queue from the client into long turns of the server's
 * loop. Measured on the ingest bench (4 connections, 70% load): event-loop delay max 21-25 ms
 * with 64 KiB, 60-170 ms with 1 MiB, 73 ms with 256 KiB; the overload test on one connection
 * refused within 9-14 ms at the median with 256 KiB or more, and after 2.7 s with 64 KiB.
 */
export const CONNECTION_WINDOW_BYTES = 256 * 1024;

/**
 * Widens the flow-control windows of every HTTP/2 server `server` has bound. Call after
 * `bindAsync` has called back. Returns false when this version of grpc-js keeps its servers
 * elsewhere (the windows then stay at 64 KiB; a test pins the version that works).
 */
export function widenFlowControlWindows(server: Server, streamBytes = STREAM_WINDOW_BYTES, connectionBytes = CONNECTION_WINDOW_BYTES): boolean {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) return false;
  for (const candidate of servers.keys()) {
    const h2 = candidate as Http2Server | Http2SecureServer;
    if (typeof h2.updateSettings !== 'function') return false;
    h2.updateSettings({ initialWindowSize: streamBytes });
    h2.on('session', (session: Http2Session) => {
      // A session closed before its first turn cannot take a window; it needs none.
      if (!session.destroyed) session.setLocalWindowSize(connectionBytes);
    });
  }
  return true;
}
