/**
 * Sends packed datagrams. The handler does the packing (so it can guarantee the size limit and
 * never split a line); the transport only carries one payload per datagram.
 */
import StatsD from 'hot-shots';
import { utf8Text } from './packer.js';

export interface TransportTarget {
  /** IP literal. */
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
}

export interface DatagramTransport {
  /**
   * Sends one datagram; `done` is called once, with the error if the send failed. The payload's
   * bytes stay untouched until then, so a transport may send from them without a copy.
   */
  send(payload: Uint8Array, done: (err: Error | undefined) => void): void;
  /** Waits for sends under way (briefly), then releases the socket. */
  close(): Promise<void>;
}

/** `onSocketError` receives errors that belong to no particular send. */
export type TransportFactory = (target: TransportTarget, onSocketError: (err: Error) => void) => DatagramTransport;

/**
 * hot-shots sends a pre-built payload as one datagram through `sendMessage`, the method its own
 * buffering uses. It is not in the type declarations, so it is checked once at construction:
 * an upgrade that drops it fails loudly at start, not silently on the first flush.
 */
interface RawSender {
  sendMessage(message: string, callback: (err?: Error | null) => void): void;
  close(callback?: (err?: Error) => void): void;
}

function isRawSender(client: object): client is RawSender {
  return typeof (client as Partial<RawSender>).sendMessage === 'function';
}

/**
 * Not the default (that is connectedUdpTransport): hot-shots sends with the address on every
 * call and cannot connect its socket, so it never hears that a server refused a datagram. Kept
 * for the bench's comparison.
 *
 * hot-shots over UDP, unbuffered (each `send` is one datagram), with every feature that could
 * change the bytes switched off: no Datadog tags or telemetry (hot-shots would otherwise pick
 * them up from DD_* environment variables), no client-side aggregation, no prefix.
 * Its own DNS cache is not used: the target is always an IP literal resolved by the handler.
 */
export const hotShotsTransport: TransportFactory = (target, onSocketError) => {
  const client = new StatsD({
    host: target.address,
    port: target.port,
    protocol: 'udp',
    maxBufferSize: 0,
    cacheDns: false,
    datadog: false,
    telegraf: false,
    includeDataDogTags: false,
    includeDatadogTelemetry: false,
    aggregation: false,
    udpSocketOptions: { type: target.family === 6 ? 'udp6' : 'udp4' },
    // Bounds how long close() waits for sends under way (11 ticks).
    closingFlushInterval: 10,
    errorHandler: onSocketError,
  });
  if (!isRawSender(client)) {
    client.close();
    throw new Error('hot-shots has no sendMessage(); the StatsD transport needs a version that does');
  }
  let closed: Promise<void> | undefined;
  return {
    send(payload, done) {
      // hot-shots takes text; the copy is this comparison transport's, not the handler's.
      client.sendMessage(utf8Text(payload), (err) => done(err ?? undefined));
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        client.close((err) => {
          // The socket is released either way; the error is still worth reporting.
          if (err) onSocketError(err);
          resolve();
        });
      });
      return closed;
    },
  };
};
