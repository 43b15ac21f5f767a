/**
 * Sends a flush's datagrams with a bounded number in flight. Handing thousands of datagrams to the
 * socket at once only moves the queue into libuv and the kernel, where a burst overflows the
 * receiver's buffer and is lost without a trace; a window keeps the burst small and lets an abort
 * stop the flush between datagrams.
 */
import { performance } from 'node:perf_hooks';
import { afterPause, DEFAULT_SLICE_MS, Pacer } from '../../core/adapter.js';
import type { PackedDatagrams } from './packer.js';
import type { DatagramTransport } from './transport.js';

/** What {@link sendWindowed} sends: datagram payloads by index, and the lines each carries. */
export type DatagramSource = Pick<PackedDatagrams, 'count' | 'payload' | 'lineCounts'>;

/** What became of one datagram (values of `SendOutcome.results`). */
export const SEND_RESULT = {
  /** Never handed to the socket: the flush was aborted first. */
  notSent: 0,
  /** The socket took it. On UDP that is not delivery; see the handler's confirmation rule. */
  ok: 1,
  /** The send failed: the datagram did not leave. */
  failed: 2,
  /** Handed over, but the flush was aborted before the socket answered. */
  unconfirmed: 3,
} as const;

export interface SendOutcome {
  readonly datagramsSent: number;
  readonly linesSent: number;
  readonly datagramsFailed: number;
  readonly linesFailed: number;
  /** Not sent, or not confirmed, when the signal was aborted. */
  readonly linesAborted: number;
  /** The first send error, if any. */
  readonly firstError: Error | undefined;
  /** Per datagram, in send order: a {@link SEND_RESULT} value. */
  readonly results: Uint8Array;
  /**
   * Sends the transport still holds (an abort settles without waiting for them): until they call
   * back, the payloads' bytes must not be written over.
   */
  readonly stillSending: boolean;
  /** Time spent sending, without the turns left to other work in between. */
  readonly busyMs: number;
}

/**
 * A socket that takes a datagram synchronously completes the send on the next tick, so each
 * completion starts the next send before the event loop gets a turn: thousands of sends (about
 * 10 µs each) would run as one block. After `sliceMs` of sending, the window waits for a turn,
 * or longer with a `pacer`, so that sending takes at most its share of the time.
 */
export function sendWindowed(
  transport: DatagramTransport,
  datagrams: DatagramSource,
  signal: AbortSignal,
  maxInFlight: number,
  sliceMs: number = DEFAULT_SLICE_MS,
  pacer: Pacer = Pacer.NONE,
): Promise<SendOutcome> {
  return new Promise((resolve) => {
    let next = 0;
    let inFlight = 0;
    let inFlightLines = 0;
    let datagramsSent = 0;
    let linesSent = 0;
    let datagramsFailed = 0;
    let linesFailed = 0;
    let firstError: Error | undefined;
    let pumping = false;
    let again = false;
    let settled = false;
    let yielding = false;
    let sliceStart = performance.now();
    let busyMs = 0;
    const count = datagrams.count;
    const lineCounts = datagrams.lineCounts;
    const results = new Uint8Array(count);

    const settle = (): void => {
      settled = true;
      signal.removeEventListener('abort', onAbort);
      let linesAborted = inFlightLines;
      for (let i = next; i < count; i++) linesAborted += lineCounts[i] ?? 0;
      // Snapshot: callbacks arriving after an abort must not change what the caller was told.
      resolve({ datagramsSent, linesSent, datagramsFailed, linesFailed, linesAborted, firstError, results: results.slice(), stillSending: inFlight > 0, busyMs });
    };
    const finishIfDone = (): void => {
      if (!settled && inFlight === 0 && (next >= count || signal.aborted)) settle();
    };
    // An abort settles at once, even with sends unconfirmed: the core is waiting on this flush.
    const onAbort = (): void => {
      if (!settled) settle();
    };
    signal.addEventListener('abort', onAbort, { once: true });

    const resume = (): void => {
      yielding = false;
      sliceStart = performance.now();
      pump();
    };
    // A transport may call back synchronously; the flags turn that recursion into a loop.
    const pump = (): void => {
      if (settled || yielding) return;
      if (pumping) {
        again = true;
        return;
      }
      pumping = true;
      const entered = performance.now();
      do {
        again = false;
        while (inFlight < maxInFlight && next < count && !signal.aborted) {
          const i = next++;
          const lines = lineCounts[i] ?? 0;
          inFlight++;
          inFlightLines += lines;
          results[i] = SEND_RESULT.unconfirmed;
          let called = false;
          const done = (err: Error | undefined): void => {
            if (called) return;
            called = true;
            inFlight--;
            inFlightLines -= lines;
            if (settled) return;
            if (err === undefined) {
              datagramsSent++;
              linesSent += lines;
              results[i] = SEND_RESULT.ok;
            } else {
              datagramsFailed++;
              linesFailed += lines;
              firstError ??= err;
              results[i] = SEND_RESULT.failed;
            }
            pump();
          };
          try {
            transport.send(datagrams.payload(i), done);
          } catch (err) {
            // A transport that throws instead of calling back must not wedge the flush.
            done(err instanceof Error ? err : new Error(String(err)));
          }
          const end = performance.now();
          const used = end - sliceStart;
          if (next < count && used >= sliceMs) {
            yielding = true;
            afterPause(pacer.pauseAfter(used, end), resume);
            break;
          }
        }
      } while (again && !yielding);
      pumping = false;
      busyMs += performance.now() - entered;
      finishIfDone();
    };
    pump();
  });
}
