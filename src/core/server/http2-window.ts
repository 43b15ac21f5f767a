/**
 * HTTP/2 flow control on the Report endpoint. A connection starts with a 64 KiB window shared by
 * all its calls, and the sender must stop once that much is unacknowledged. A sidecar batching 50
 * KiB Reports, or a gateway carrying a thousand Reports a second on one connection, then queues
 * them in the client for seconds whenever the server is busy: there no shedder can refuse them,
 * and they arrive long after they were sent. gRPC's Go server widens its windows (BDP estimation);
 * Telemux's gRPC endpoint (grpc/unary-server.ts) opens its windows to these sizes.
 *
 * The memory this allows is bounded by the kernel's socket buffers and by the shedder: data is
 * read as it arrives, and a Report is refused in microseconds once the process is past its limits.
 */
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

/** HTTP/2 streams (calls) one connection may have open at once. */
export const MAX_CONCURRENT_STREAMS = 1024;
