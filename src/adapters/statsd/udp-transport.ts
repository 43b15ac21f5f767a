/**
 * The default transport: one *connected* UDP socket per target. Connecting is what lets UDP tell
 * the handler anything about delivery: once a datagram meets a closed port, the ICMP "port
 * unreachable" that comes back is kept by the kernel on a connected socket and fails the next
 * send with ECONNREFUSED. An unconnected socket (hot-shots', which passes the address with every
 * send) never hears of it, so a stopped server looks exactly like a healthy one.
 *
 * Node also reads from a bound UDP socket, and that read path may be the one to pick the pending
 * error up (as an 'error' event, `recvmsg ECONNREFUSED`), typically between two flushes. Such a
 * refusal is handed to the next send instead, which fails without sending, exactly as when the
 * send path picks it up: the handler then sees every refusal the same way.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { DatagramTransport, TransportFactory } from './transport.js';

type Pending = readonly [payload: Uint8Array, done: (err: Error | undefined) => void];

class ConnectedUdpTransport implements DatagramTransport {
  private socket: Socket | undefined;
  private connected = false;
  /** Sends that arrived while connecting; Node cannot send on a socket mid-connect. */
  private waiting: Pending[] = [];
  private closed: Promise<void> | undefined;
  /** A refusal the read path picked up, owed to the next send. */
  private refused: Error | undefined;

  constructor(
    private readonly address: string,
    private readonly family: 4 | 6,
    private readonly port: number,
    private readonly onSocketError: (err: Error) => void,
  ) {}

  send(payload: Uint8Array, done: (err: Error | undefined) => void): void {
    if (this.closed !== undefined) {
      done(new Error('statsd socket is closed'));
      return;
    }
    const refused = this.refused;
    if (refused !== undefined) {
      this.refused = undefined;
      done(refused);
      return;
    }
    const socket = this.socket;
    if (socket !== undefined && this.connected) {
      socket.send(payload, (err) => done(err ?? undefined));
      return;
    }
    this.waiting.push([payload, done]);
    if (socket === undefined) this.connect();
  }

  /**
   * Connects a fresh socket. A failed connect (no route, say) fails what waited and leaves no
   * socket, so the next flush tries again: attempts are paced by flushes, never a tight loop.
   */
  private connect(): void {
    const socket = createSocket({ type: this.family === 6 ? 'udp6' : 'udp4' });
    socket.unref();
    socket.on('error', (err: Error) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') this.refused = err;
      else this.onSocketError(err);
    });
    this.socket = socket;
    socket.connect(this.port, this.address, (err?: Error) => {
      const waiting = this.waiting;
      this.waiting = [];
      if (err !== undefined && err !== null) {
        if (this.socket === socket) this.socket = undefined;
        socket.close();
        for (const [, done] of waiting) done(err);
        return;
      }
      if (this.closed !== undefined) {
        for (const [, done] of waiting) done(new Error('statsd socket is closed'));
        return;
      }
      this.connected = true;
      for (const [payload, done] of waiting) socket.send(payload, (e) => done(e ?? undefined));
    });
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      const socket = this.socket;
      this.socket = undefined;
      const waiting = this.waiting;
      this.waiting = [];
      for (const [, done] of waiting) done(new Error('statsd socket is closed'));
      if (socket === undefined) {
        resolve();
        return;
      }
      // dgram.close lets queued sends finish first and calls back once the handle is released.
      try {
        socket.close(() => resolve());
      } catch (e) {
        // Already closed (a failed connect): nothing left to release.
        this.onSocketError(e instanceof Error ? e : new Error(String(e)));
        resolve();
      }
    });
    return this.closed;
  }
}

export const connectedUdpTransport: TransportFactory = (target, onSocketError) =>
  new ConnectedUdpTransport(target.address, target.family, target.port, onSocketError);
