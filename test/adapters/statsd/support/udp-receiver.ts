/** A loopback UDP receiver that keeps every datagram, for tests that check what reached the wire. */
import { createSocket, type Socket } from 'node:dgram';

export interface UdpReceiver {
  readonly port: number;
  readonly datagrams: Buffer[];
  /** Resolves once `predicate` holds for what was received, or rejects after `timeoutMs`. */
  waitFor(predicate: (datagrams: readonly Buffer[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startUdpReceiver(): Promise<UdpReceiver> {
  // A large receive buffer, so a burst is not lost before the event loop gets to it.
  const socket: Socket = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
  const datagrams: Buffer[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (msg) => {
    datagrams.push(msg);
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  return {
    port: socket.address().port,
    datagrams,
    waitFor(predicate, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!predicate(datagrams)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out with ${datagrams.length} datagrams received`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
