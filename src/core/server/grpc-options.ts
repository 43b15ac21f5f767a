import type { ChannelOptions } from '@grpc/grpc-js';

/** The options of Telemux's gRPC server; the ingest bench's transport floor runs with the same. */
export function mixerServerOptions(maxMessageBytes: number): ChannelOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_concurrent_streams': 1024,
    // Nothing serves channelz here; tracking it costs every call a few counters and a Date.
    'grpc.enable_channelz': 0,
  };
}
