/**
 * Reassembles the single length-prefixed message of a unary gRPC request from the DATA chunks
 * HTTP/2 delivers (gRPC over HTTP/2: a 1-byte compressed flag, a 4-byte big-endian length, the
 * message). A message that arrives within one chunk is handed on as a view of it, without a copy;
 * otherwise its pieces are joined, once the last of them arrives, into a buffer from the server's
 * pool, which goes back to it when the method is done ({@link UnaryMessageReader.releaseMessage}).
 * A declared length above the limit is refused as soon as its prefix is read, before any of the
 * message is held.
 */
import { status as Status } from '@grpc/grpc-js';
import { MessageBufferPool } from './message-pool.js';

const PREFIX_BYTES = 5;

/**
 * The bytes of messages still arriving that all calls of a server may hold together. A client
 * that starts many calls and never finishes their messages then costs the server a bounded amount
 * of memory, not a megabyte per call; the calls past the bound are refused as overload.
 */
export class PendingBytes {
  held = 0;
  /** What a call past the bound is answered; one object, so a refusal is told by identity. */
  readonly refusal: FramingError;

  constructor(readonly limit: number) {
    this.refusal = { code: Status.UNAVAILABLE, details: `Server is holding too many partly received requests (${String(limit)} bytes); try again` };
  }
}

/** Why a request's bytes are not one acceptable message; answered as a gRPC status. */
export interface FramingError {
  readonly code: Status;
  readonly details: string;
}

export class UnaryMessageReader {
  private prefixRead = 0;
  private compressedFlag = 0;
  private length = 0;
  private body: Buffer | undefined;
  /** Whether `body` came from the pool (and goes back to it). */
  private pooled = false;
  /** The pieces so far of a message spanning chunks, until it is whole; their `bodyRead` bytes count in `pending`. */
  private parts: Buffer[] | undefined;
  private bodyRead = 0;
  private complete = false;
  /** Set once the bytes cannot be a valid request; later chunks are ignored. */
  error: FramingError | undefined;

  constructor(
    readonly maxMessageBytes: number,
    private readonly method: string,
    private readonly pending: PendingBytes = new PendingBytes(Number.POSITIVE_INFINITY),
    private readonly pool: MessageBufferPool = new MessageBufferPool(),
  ) {}

  /**
   * Hands a joined message's buffer back to the pool, for a later message to reuse: nothing may
   * read the message, or anything viewing it, afterwards. Safe to call more than once, and a no-op
   * for a message that was a view of its chunk.
   */
  releaseMessage(): void {
    if (!this.pooled) return;
    this.pooled = false;
    this.pool.release(this.body!);
    this.body = undefined;
  }

  /**
   * Stops counting what this call holds against the server's bound and drops it. Called when the
   * call's stream closes, whatever state it is in; safe to call more than once.
   */
  release(): void {
    if (this.parts === undefined) return;
    this.pending.held -= this.bodyRead;
    this.parts = undefined;
  }

  /** Takes the next DATA chunk. */
  push(chunk: Buffer): void {
    if (this.error !== undefined) return;
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      if (this.complete) {
        this.error = { code: Status.UNIMPLEMENTED, details: `Received a second request message for unary method ${this.method}` };
        return;
      }
      if (this.prefixRead < PREFIX_BYTES) {
        // The common case: the whole prefix and the whole message in this chunk.
        if (this.prefixRead === 0 && n - pos >= PREFIX_BYTES) {
          this.compressedFlag = chunk[pos]!;
          this.length = chunk.readUInt32BE(pos + 1);
          this.prefixRead = PREFIX_BYTES;
          pos += PREFIX_BYTES;
        } else {
          const b = chunk[pos++]!;
          if (this.prefixRead === 0) this.compressedFlag = b;
          // Unsigned: `* 256` rather than `<< 8`, which would go negative past 2^31.
          else this.length = this.length * 256 + b;
          this.prefixRead++;
        }
        if (this.prefixRead < PREFIX_BYTES) continue;
        if (this.length > this.maxMessageBytes) {
          this.error = { code: Status.RESOURCE_EXHAUSTED, details: `Received message larger than max (${this.length} vs. ${this.maxMessageBytes})` };
          return;
        }
        if (this.length <= n - pos) {
          this.body = chunk.subarray(pos, pos + this.length);
          this.bodyRead = this.length;
          pos += this.length;
          this.complete = true;
          continue;
        }
        this.parts = [];
        this.bodyRead = 0;
      }
      // Views of the chunks as they come, joined once the message is whole: memory grows with the
      // bytes that arrive, never with what a length prefix declares (a client sending only
      // prefixes on many calls would otherwise make the server allocate a megabyte per call).
      const take = Math.min(this.length - this.bodyRead, n - pos);
      if (this.pending.held + take > this.pending.limit) {
        this.error = this.pending.refusal;
        this.release();
        return;
      }
      this.pending.held += take;
      this.parts!.push(chunk.subarray(pos, pos + take));
      this.bodyRead += take;
      pos += take;
      if (this.bodyRead === this.length) {
        this.body = this.join(this.parts!);
        this.pooled = true;
        // Whole: the message is now the method's, bounded by its own limits (the Report queue).
        this.release();
        this.complete = true;
      }
    }
  }

  private join(parts: readonly Buffer[]): Buffer {
    const body = this.pool.acquire(this.length);
    let at = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      body.set(part, at);
      at += part.length;
    }
    return body;
  }

  /**
   * At the end of the request: the message and whether its compressed flag is set, or the framing
   * error. Exactly one whole message is a valid unary request.
   */
  finish(): { readonly message: Buffer; readonly compressed: boolean } | FramingError {
    if (this.error !== undefined) return this.error;
    if (!this.complete) {
      if (this.prefixRead === 0) return { code: Status.UNIMPLEMENTED, details: `Received no request message for unary method ${this.method}` };
      const details =
        this.prefixRead < PREFIX_BYTES
          ? `Request ended inside a message prefix: ${String(this.prefixRead)} of 5 bytes received`
          : `Request ended inside a message: ${String(this.bodyRead)} of ${String(this.length)} bytes received`;
      return { code: Status.INTERNAL, details };
    }
    return { message: this.body!, compressed: this.compressedFlag !== 0 };
  }
}
