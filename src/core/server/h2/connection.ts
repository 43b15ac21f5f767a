/**
 * The server side of one HTTP/2 connection (RFC 9113) on a plain or TLS socket, for request and
 * response exchanges that are small and unary: gRPC's. It exists instead of node:http2 because
 * node:http2 gives every call native objects and external strings (each non-static header value)
 * that V8 places in the old generation; at a thousand Reports a second they made every
 * mark-compact long (BENCHMARKS.md, round 13). Here a call is a handful of young JS objects, an
 * indexed header costs nothing (the decoder hands back the string its table already holds), and
 * a response is one buffer.
 *
 * What it does not do, because a gRPC server never needs it: server push, sending PRIORITY, the
 * Upgrade from HTTP/1.1, and indexing in its own header blocks (responses are a few constant
 * fields, encoded once).
 *
 * Reading: frames are parsed straight out of the socket's chunks. A DATA payload is handed on as
 * views of those chunks, as it arrives, even when a frame spans reads; other frames that span
 * reads are gathered in a small buffer first.
 *
 * Flow control: the receive windows are opened again as data is handed on (once half of a window
 * is used, as nghttp2 does); the send windows hold back DATA, which waits per stream until a
 * WINDOW_UPDATE or SETTINGS frees room.
 */
import type { Socket } from 'node:net';
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  frame,
  goawayFrame,
  H2Error,
  headerFrames,
  MAX_FRAME_SIZE_LIMIT,
  MAX_WINDOW,
  rstStreamFrame,
  Setting,
  settingsFrame,
  windowUpdateFrame,
  writeFrameHeader,
} from './frames.js';
import { HpackDecoder, HpackError } from './hpack.js';

export interface H2ConnectionOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS: streams past it are refused (REFUSED_STREAM). */
  readonly maxConcurrentStreams: number;
  /** The receive window of each stream (SETTINGS_INITIAL_WINDOW_SIZE). */
  readonly streamWindowBytes: number;
  /** The receive window of the connection, opened by a WINDOW_UPDATE right after SETTINGS. */
  readonly connectionWindowBytes: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE; a longer request header list is refused with ENHANCE_YOUR_CALM. */
  readonly maxHeaderListBytes: number;
  /** Told of an exception while reading the connection (a defect); the connection then ends with INTERNAL_ERROR. */
  readonly onInternalError?: (error: Error) => void;
  /** How long the client may take to send its preface before the connection is closed. */
  readonly prefaceTimeoutMs: number;
}

/** What serves the requests of a connection. Every opened stream is closed exactly once. */
export interface H2RequestHandler {
  /** A new request; `headers` is flat (name, value, name, value…) and valid per RFC 9113 §8.3. */
  onRequest(stream: H2Stream, headers: string[]): void;
  /** A piece of the request body: a view of the socket's bytes, valid until this returns unless kept. */
  onData(stream: H2Stream, chunk: Buffer): void;
  /** The request is complete (END_STREAM). */
  onEnd(stream: H2Stream): void;
  /** The stream is gone: answered and ended, reset by either side, or its connection closed. */
  onClose(stream: H2Stream): void;
}

/**
 * No half-closed (local) state: a response that ends before its request does resets the stream
 * (RST_STREAM NO_ERROR) and closes it at once.
 */
const enum StreamState {
  Open = 0,
  /** The request has ended; the response has not. */
  RemoteClosed = 1,
  Closed = 2,
}

/** Ids of streams this side reset lately: frames the peer had already sent on them are ignored. */
const RECENT_RESETS = 1024;
/** SETTINGS_MAX_FRAME_SIZE is left at its default: gRPC clients send DATA frames of 16 KiB at most anyway. */
const MAX_ACCEPTED_FRAME = DEFAULT_MAX_FRAME_SIZE;
/** Largest header block accepted across HEADERS and CONTINUATION before decoding. */
const MAX_HEADER_BLOCK_BYTES = 256 * 1024;
/**
 * Bytes queued on a socket whose peer does not read, past which the connection is dropped: a
 * client that sends PINGs or SETTINGS and never reads the answers cannot grow the queue for ever.
 */
const MAX_UNREAD_OUTPUT_BYTES = 16 * 1024 * 1024;
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** One request-response exchange; `context` is the handler's. */
export class H2Stream {
  state = StreamState.Open;
  /** Request bytes received and not yet given back with a WINDOW_UPDATE. */
  recvUnacked = 0;
  recvWindow: number;
  sendWindow: number;
  /** The response's DATA still held back by flow control, and what follows it. */
  pendingData: Buffer | undefined;
  pendingTrailers: Buffer | undefined;
  headersSent = false;
  /** The request's content-length, -1 without one; and the DATA bytes received so far. */
  declaredLength = -1;
  received = 0;
  context: unknown;

  constructor(
    readonly id: number,
    readonly connection: H2ServerConnection,
    recvWindow: number,
    sendWindow: number,
  ) {
    this.recvWindow = recvWindow;
    this.sendWindow = sendWindow;
  }

  /** Whether the response has not started (nothing sent, not reset). */
  get answerable(): boolean {
    return (this.state === StreamState.Open || this.state === StreamState.RemoteClosed) && !this.headersSent;
  }

  /**
   * The whole response: `headerBlock` (HPACK), then `body` as DATA, then `trailerBlock` ending the
   * stream. Sent at once when the windows allow, the common case, in one buffer.
   */
  respond(headerBlock: Buffer, body: Buffer, trailerBlock: Buffer): void {
    this.connection.respond(this, headerBlock, body, trailerBlock);
  }

  /** A response of headers alone, ending the stream (gRPC's trailers-only answer). */
  respondHeadersOnly(headerBlock: Buffer): void {
    this.connection.respondHeadersOnly(this, headerBlock);
  }
}

export class H2ServerConnection {
  private readonly streams = new Map<number, H2Stream>();
  private readonly decoder: HpackDecoder;
  private readonly headerScratch: string[] = [];
  private prefaceRead = 0;
  private prefaceTimer: NodeJS.Timeout | undefined;
  private settingsSeen = false;
  private lastStreamId = 0;
  private closing = false;
  private dead = false;
  private readonly recentResets = new Int32Array(RECENT_RESETS);
  private recentResetAt = 0;

  // Receiving.
  private recvWindow = DEFAULT_WINDOW;
  private recvUnacked = 0;
  /** A frame (or its first bytes) that spans socket reads. */
  private carry: Buffer | undefined;
  /** The DATA frame whose payload is being read: its stream (undefined when it is dropped), bytes of data and of padding left. */
  private dataStream: H2Stream | undefined;
  private dataLeft = 0;
  private padLeft = 0;
  private dataEndsStream = false;
  /** A header block waiting for CONTINUATION frames. */
  private blockStream = 0;
  private blockFlags = 0;
  private blockParts: Buffer[] | undefined;
  private blockBytes = 0;

  // Sending.
  private sendWindow = DEFAULT_WINDOW;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private readonly blocked = new Set<H2Stream>();
  private corked = false;

  constructor(
    private readonly socket: Socket,
    private readonly opts: H2ConnectionOptions,
    private readonly handler: H2RequestHandler,
    private readonly onGone: (connection: H2ServerConnection) => void,
  ) {
    this.decoder = new HpackDecoder();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.teardown());
    socket.on('close', () => this.teardown());
    socket.on('end', () => this.teardown());
    this.prefaceTimer = setTimeout(this.prefaceOverdue, opts.prefaceTimeoutMs);
    this.prefaceTimer.unref();
    this.write(
      settingsFrame([
        [Setting.MAX_CONCURRENT_STREAMS, opts.maxConcurrentStreams],
        [Setting.INITIAL_WINDOW_SIZE, opts.streamWindowBytes],
        [Setting.MAX_HEADER_LIST_SIZE, opts.maxHeaderListBytes],
      ]),
    );
    if (opts.connectionWindowBytes > DEFAULT_WINDOW) {
      this.write(windowUpdateFrame(0, opts.connectionWindowBytes - DEFAULT_WINDOW));
      this.recvWindow = opts.connectionWindowBytes;
    }
  }

  /**
   * Sends GOAWAY: streams already started are served, later ones ignored (the client retries them
   * elsewhere); the socket ends once the last stream closes.
   */
  shutdown(): void {
    if (this.dead || this.closing) return;
    this.closing = true;
    this.write(goawayFrame(this.lastStreamId, H2Error.NO_ERROR));
    if (this.streams.size === 0) this.end();
  }

  /** Closes the socket now; streams still open are closed unanswered. */
  destroy(): void {
    this.socket.destroy();
    this.teardown();
  }

  // ---- receiving -------------------------------------------------------------------------

  private receive(chunk: Buffer): void {
    if (this.dead) return;
    try {
      let pos = 0;
      if (this.prefaceRead < CLIENT_PREFACE.length) {
        pos = this.readPreface(chunk);
        if (pos < 0) return;
      }
      if (this.carry !== undefined) pos = this.completeCarry(chunk, pos);
      if (pos < chunk.length && !this.dead) this.parse(chunk, pos);
      this.afterRead();
    } catch (e) {
      // A defect here must cost one connection, not the process and every other client's data.
      this.opts.onInternalError?.(e as Error);
      this.connectionError(H2Error.INTERNAL_ERROR, 'internal error');
    }
  }

  /**
   * Completes the frame that spans reads from as few of `chunk`'s bytes as it needs (for DATA,
   * only its header and pad length: the payload is read from the chunk itself) and parses it.
   * Returns where the chunk's unread bytes start.
   */
  private completeCarry(chunk: Buffer, pos: number): number {
    let carried = this.carry!;
    this.carry = undefined;
    const gather = (upTo: number): boolean => {
      if (carried.length >= upTo) return true;
      const take = Math.min(upTo - carried.length, chunk.length - pos);
      carried = Buffer.concat([carried, chunk.subarray(pos, pos + take)]);
      pos += take;
      return carried.length >= upTo;
    };
    if (gather(FRAME_HEADER_BYTES)) {
      const length = (carried[0]! << 16) | (carried[1]! << 8) | carried[2]!;
      const need =
        carried[3] === FrameType.DATA
          ? FRAME_HEADER_BYTES + ((carried[4]! & Flag.PADDED) !== 0 ? 1 : 0)
          : FRAME_HEADER_BYTES + (length > MAX_ACCEPTED_FRAME ? 0 : length);
      if (gather(need)) {
        this.parse(carried, 0);
        return pos;
      }
    }
    this.carry = carried;
    return chunk.length;
  }

  private readPreface(buf: Buffer): number {
    let pos = 0;
    while (this.prefaceRead < CLIENT_PREFACE.length && pos < buf.length) {
      if (buf[pos] !== CLIENT_PREFACE[this.prefaceRead]) {
        this.connectionError(H2Error.PROTOCOL_ERROR, 'not an HTTP/2 client preface');
        return -1;
      }
      pos++;
      this.prefaceRead++;
    }
    if (this.prefaceRead === CLIENT_PREFACE.length) this.stopPrefaceTimer();
    return pos;
  }

  private readonly prefaceOverdue = (): void => {
    this.prefaceTimer = undefined;
    this.connectionError(H2Error.PROTOCOL_ERROR, `no client preface within ${String(this.opts.prefaceTimeoutMs)} ms`);
  };

  private stopPrefaceTimer(): void {
    if (this.prefaceTimer === undefined) return;
    clearTimeout(this.prefaceTimer);
    this.prefaceTimer = undefined;
  }

  /** Parses frames from `buf` at `pos` until its end; returns where it stopped (the end, or a DATA payload's start). */
  private parse(buf: Buffer, pos: number): number {
    const end = buf.length;
    while (pos < end && !this.dead) {
      // Inside a DATA frame's payload (a frame with none is finished as soon as it starts).
      if (this.dataLeft > 0 || this.padLeft > 0) {
        pos = this.readDataPayload(buf, pos, end);
        continue;
      }
      if (end - pos < FRAME_HEADER_BYTES) {
        this.carry = Buffer.from(buf.subarray(pos, end));
        return end;
      }
      const length = (buf[pos]! << 16) | (buf[pos + 1]! << 8) | buf[pos + 2]!;
      const type = buf[pos + 3]!;
      const flags = buf[pos + 4]!;
      const streamId = buf.readUInt32BE(pos + 5) & MAX_WINDOW;
      if (length > MAX_ACCEPTED_FRAME) {
        this.connectionError(H2Error.FRAME_SIZE_ERROR, `frame of ${String(length)} bytes is over SETTINGS_MAX_FRAME_SIZE`);
        return end;
      }
      if (this.blockParts !== undefined && (type !== FrameType.CONTINUATION || streamId !== this.blockStream)) {
        this.connectionError(H2Error.PROTOCOL_ERROR, 'expected CONTINUATION of the header block');
        return end;
      }
      if (!this.settingsSeen && type !== FrameType.SETTINGS) {
        this.connectionError(H2Error.PROTOCOL_ERROR, 'the first frame must be SETTINGS');
        return end;
      }
      if (type === FrameType.DATA) {
        const padded = (flags & Flag.PADDED) !== 0;
        const headerBytes = FRAME_HEADER_BYTES + (padded ? 1 : 0);
        if (end - pos < headerBytes) {
          this.carry = Buffer.from(buf.subarray(pos, end));
          return end;
        }
        this.startData(length, flags, streamId, padded ? buf[pos + FRAME_HEADER_BYTES]! : -1);
        pos += headerBytes;
        continue;
      }
      if (end - pos < FRAME_HEADER_BYTES + length) {
        this.carry = Buffer.from(buf.subarray(pos, end));
        return end;
      }
      this.controlFrame(type, flags, streamId, buf, pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + length);
      pos += FRAME_HEADER_BYTES + length;
    }
    return pos;
  }

  private afterRead(): void {
    if (this.dead) return;
    // Give the connection's window back once half of it is used, in one frame per read at most.
    if (this.recvUnacked > 0 && this.recvUnacked >= this.opts.connectionWindowBytes / 2) {
      this.write(windowUpdateFrame(0, this.recvUnacked));
      this.recvWindow += this.recvUnacked;
      this.recvUnacked = 0;
    }
    if (this.socket.writableLength > MAX_UNREAD_OUTPUT_BYTES) {
      this.connectionError(H2Error.ENHANCE_YOUR_CALM, 'the client does not read what it is sent');
    }
  }

  // ---- DATA --------------------------------------------------------------------------------

  private startData(length: number, flags: number, streamId: number, padLength: number): void {
    if (streamId === 0) return this.connectionError(H2Error.PROTOCOL_ERROR, 'DATA on stream 0');
    if (streamId > this.lastStreamId) return this.connectionError(H2Error.PROTOCOL_ERROR, `DATA on idle stream ${String(streamId)}`);
    const dataBytes = padLength < 0 ? length : length - 1 - padLength;
    if (dataBytes < 0) return this.connectionError(H2Error.PROTOCOL_ERROR, 'DATA padding longer than its frame');
    // The whole frame counts against both windows, padding included (RFC 9113 §6.9.1).
    this.recvWindow -= length;
    if (this.recvWindow < 0) return this.connectionError(H2Error.FLOW_CONTROL_ERROR, 'DATA past the connection window');
    this.recvUnacked += length;
    let stream = this.streams.get(streamId);
    if (stream !== undefined) {
      if (!this.streamTakes(stream, length, dataBytes, (flags & Flag.END_STREAM) !== 0)) stream = undefined;
    } else if (!this.wasResetHere(streamId)) {
      // A stream that closed normally: frames on it are a protocol breach (RFC 9113 §5.1).
      return this.connectionError(H2Error.STREAM_CLOSED, `DATA on closed stream ${String(streamId)}`);
    }
    this.dataStream = stream;
    this.dataLeft = dataBytes;
    this.padLeft = padLength < 0 ? 0 : padLength;
    this.dataEndsStream = (flags & Flag.END_STREAM) !== 0;
    this.finishDataIfEmpty();
  }

  /**
   * Counts a DATA frame of `length` bytes (`dataBytes` of them data) against the stream; false
   * when the stream is reset for it instead (its payload is then dropped).
   */
  private streamTakes(stream: H2Stream, length: number, dataBytes: number, endsStream: boolean): boolean {
    if (stream.state !== StreamState.Open) {
      this.streamError(stream, H2Error.STREAM_CLOSED);
      return false;
    }
    stream.recvWindow -= length;
    if (stream.recvWindow < 0) {
      this.streamError(stream, H2Error.FLOW_CONTROL_ERROR);
      return false;
    }
    stream.received += dataBytes;
    if (stream.declaredLength >= 0 && stream.received > stream.declaredLength) {
      this.streamError(stream, H2Error.PROTOCOL_ERROR);
      return false;
    }
    stream.recvUnacked += length;
    if (stream.recvUnacked >= this.opts.streamWindowBytes / 2 && !endsStream) {
      this.write(windowUpdateFrame(stream.id, stream.recvUnacked));
      stream.recvWindow += stream.recvUnacked;
      stream.recvUnacked = 0;
    }
    return true;
  }

  private finishDataIfEmpty(): void {
    if (this.dataLeft === 0 && this.padLeft === 0) this.finishData();
  }

  private readDataPayload(buf: Buffer, pos: number, end: number): number {
    if (this.dataLeft > 0) {
      const take = Math.min(this.dataLeft, end - pos);
      const stream = this.dataStream;
      if (stream !== undefined && stream.state === StreamState.Open) this.handler.onData(stream, buf.subarray(pos, pos + take));
      this.dataLeft -= take;
      pos += take;
    }
    if (this.dataLeft === 0 && this.padLeft > 0) {
      const skip = Math.min(this.padLeft, end - pos);
      this.padLeft -= skip;
      pos += skip;
    }
    this.finishDataIfEmpty();
    return pos;
  }

  private finishData(): void {
    const stream = this.dataStream;
    this.dataStream = undefined;
    if (this.dataEndsStream && stream !== undefined && stream.state === StreamState.Open && this.lengthAsDeclared(stream)) this.remoteEnded(stream);
  }

  /** At the request's end: whether its DATA added up to its content-length, if it had one (RFC 9113 §8.1.1). */
  private lengthAsDeclared(stream: H2Stream): boolean {
    if (stream.declaredLength < 0 || stream.declaredLength === stream.received) return true;
    this.streamError(stream, H2Error.PROTOCOL_ERROR);
    return false;
  }

  // ---- everything else -----------------------------------------------------------------------

  private controlFrame(type: number, flags: number, streamId: number, buf: Buffer, start: number, end: number): void {
    switch (type) {
      case FrameType.HEADERS:
        return this.headersFrame(flags, streamId, buf, start, end);
      case FrameType.CONTINUATION:
        return this.continuationFrame(flags, streamId, buf, start, end);
      case FrameType.SETTINGS:
        return this.settingsFrame(flags, streamId, buf, start, end);
      case FrameType.WINDOW_UPDATE:
        return this.windowUpdateFrame(streamId, buf, start, end);
      case FrameType.PING:
        if (end - start !== 8) return this.connectionError(H2Error.FRAME_SIZE_ERROR, 'PING payload is not 8 bytes');
        if (streamId !== 0) return this.connectionError(H2Error.PROTOCOL_ERROR, 'PING on a stream');
        if ((flags & Flag.ACK) === 0) this.write(frame(FrameType.PING, Flag.ACK, 0, buf.subarray(start, end)));
        return;
      case FrameType.RST_STREAM:
        return this.rstStreamFrame(streamId, start, end);
      case FrameType.PRIORITY:
        if (streamId === 0) return this.connectionError(H2Error.PROTOCOL_ERROR, 'PRIORITY on stream 0');
        if (end - start !== 5) {
          const stream = this.streams.get(streamId);
          if (stream !== undefined) this.streamError(stream, H2Error.FRAME_SIZE_ERROR);
          else this.write(rstStreamFrame(streamId, H2Error.FRAME_SIZE_ERROR));
        }
        return;
      case FrameType.GOAWAY:
        if (streamId !== 0) return this.connectionError(H2Error.PROTOCOL_ERROR, 'GOAWAY on a stream');
        // The client opens no more streams here; the ones it has are served, then it closes.
        this.closing = true;
        if (this.streams.size === 0) this.end();
        return;
      case FrameType.PUSH_PROMISE:
        return this.connectionError(H2Error.PROTOCOL_ERROR, 'a client cannot push');
      case FrameType.DATA:
        return;
      default:
        // Unknown frame types are ignored (RFC 9113 §4.1, §5.5).
        return;
    }
  }

  private headersFrame(flags: number, streamId: number, buf: Buffer, start: number, end: number): void {
    if (streamId === 0) return this.connectionError(H2Error.PROTOCOL_ERROR, 'HEADERS on stream 0');
    let at = start;
    let padLength = 0;
    if ((flags & Flag.PADDED) !== 0) {
      if (end - at < 1) return this.connectionError(H2Error.FRAME_SIZE_ERROR, 'HEADERS too short for its pad length');
      padLength = buf[at++]!;
    }
    if ((flags & Flag.PRIORITY) !== 0) {
      if (end - at < 5) return this.connectionError(H2Error.FRAME_SIZE_ERROR, 'HEADERS too short for its priority');
      const dependency = buf.readUInt32BE(at) & MAX_WINDOW;
      at += 5;
      // A stream error by RFC 9113 §5.3.1; as a connection error it needs no half-decoded block kept.
      if (dependency === streamId) return this.connectionError(H2Error.PROTOCOL_ERROR, 'a stream cannot depend on itself');
    }
    if (padLength > end - at) return this.connectionError(H2Error.PROTOCOL_ERROR, 'HEADERS padding longer than its frame');
    const blockEnd = end - padLength;
    if ((flags & Flag.END_HEADERS) !== 0) return this.headerBlock(streamId, flags, buf, at, blockEnd);
    this.blockStream = streamId;
    this.blockFlags = flags;
    this.blockParts = [Buffer.from(buf.subarray(at, blockEnd))];
    this.blockBytes = blockEnd - at;
  }

  private continuationFrame(flags: number, streamId: number, buf: Buffer, start: number, end: number): void {
    if (this.blockParts === undefined || streamId !== this.blockStream) {
      return this.connectionError(H2Error.PROTOCOL_ERROR, 'CONTINUATION without a header block to continue');
    }
    this.blockBytes += end - start;
    if (this.blockBytes > MAX_HEADER_BLOCK_BYTES) return this.connectionError(H2Error.ENHANCE_YOUR_CALM, 'header block too large');
    this.blockParts.push(Buffer.from(buf.subarray(start, end)));
    if ((flags & Flag.END_HEADERS) === 0) return;
    const block = Buffer.concat(this.blockParts);
    this.blockParts = undefined;
    this.headerBlock(streamId, this.blockFlags, block, 0, block.length);
  }

  private decodeBlock(buf: Buffer, start: number, end: number, out: string[]): number {
    try {
      return this.decoder.decode(buf, start, end, out, this.opts.maxHeaderListBytes);
    } catch (e) {
      if (e instanceof HpackError) {
        this.connectionError(H2Error.COMPRESSION_ERROR, e.message);
        return -1;
      }
      throw e;
    }
  }

  private headerBlock(streamId: number, flags: number, buf: Buffer, start: number, end: number): void {
    const endStream = (flags & Flag.END_STREAM) !== 0;
    const existing = this.streams.get(streamId);
    if (existing !== undefined || streamId <= this.lastStreamId) {
      // Trailers of a request (or of one this side reset): decoded for the table, otherwise unused.
      const scratch = this.headerScratch;
      const size = this.decodeBlock(buf, start, end, scratch);
      const pseudo = hasPseudoHeader(scratch);
      scratch.length = 0;
      if (size < 0) return;
      if (existing === undefined) {
        // Ids below the last are closed whether they were used or skipped; a client reusing or
        // going back to one breaks RFC 9113 §5.1.1 either way.
        if (!this.wasResetHere(streamId)) this.connectionError(H2Error.PROTOCOL_ERROR, `HEADERS on closed stream ${String(streamId)}`);
        return;
      }
      if (existing.state !== StreamState.Open) return this.streamError(existing, H2Error.STREAM_CLOSED);
      // Trailers end the request and carry no pseudo-header fields (RFC 9113 §8.1).
      if (!endStream || pseudo) return this.streamError(existing, H2Error.PROTOCOL_ERROR);
      if (!this.lengthAsDeclared(existing)) return;
      return this.remoteEnded(existing);
    }
    if (streamId % 2 === 0) return this.connectionError(H2Error.PROTOCOL_ERROR, `client stream ids are odd, not ${String(streamId)}`);
    this.lastStreamId = streamId;
    const headers: string[] = [];
    const size = this.decodeBlock(buf, start, end, headers);
    if (size < 0) return;
    // After GOAWAY: refused unprocessed, so the client may safely retry it on another connection.
    if (this.closing) return this.resetHere(streamId, H2Error.REFUSED_STREAM);
    if (size > this.opts.maxHeaderListBytes) return this.resetHere(streamId, H2Error.ENHANCE_YOUR_CALM);
    if (!wellFormedRequest(headers)) return this.resetHere(streamId, H2Error.PROTOCOL_ERROR);
    if (this.streams.size >= this.opts.maxConcurrentStreams) return this.resetHere(streamId, H2Error.REFUSED_STREAM);
    const stream = new H2Stream(streamId, this, this.opts.streamWindowBytes, this.peerInitialWindow);
    stream.declaredLength = declaredContentLength(headers);
    if (stream.declaredLength === -2) return this.resetHere(streamId, H2Error.PROTOCOL_ERROR);
    this.streams.set(streamId, stream);
    this.handler.onRequest(stream, headers);
    if (endStream && stream.state === StreamState.Open && this.lengthAsDeclared(stream)) this.remoteEnded(stream);
  }

  private settingsFrame(flags: number, streamId: number, buf: Buffer, start: number, end: number): void {
    if (streamId !== 0) return this.connectionError(H2Error.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if ((flags & Flag.ACK) !== 0) {
      if (end !== start) this.connectionError(H2Error.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
      return;
    }
    if ((end - start) % 6 !== 0) return this.connectionError(H2Error.FRAME_SIZE_ERROR, 'SETTINGS payload is not a multiple of 6');
    this.settingsSeen = true;
    for (let at = start; at < end; at += 6) {
      const id = buf.readUInt16BE(at);
      const value = buf.readUInt32BE(at + 2);
      switch (id) {
        case Setting.ENABLE_PUSH:
          if (value > 1) return this.connectionError(H2Error.PROTOCOL_ERROR, 'SETTINGS_ENABLE_PUSH is not 0 or 1');
          break;
        case Setting.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW) return this.connectionError(H2Error.FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1');
          const delta = value - this.peerInitialWindow;
          this.peerInitialWindow = value;
          for (const stream of this.streams.values()) {
            stream.sendWindow += delta;
            if (stream.sendWindow > MAX_WINDOW) return this.connectionError(H2Error.FLOW_CONTROL_ERROR, 'a stream window over 2^31-1');
          }
          break;
        }
        case Setting.MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_FRAME_SIZE_LIMIT) return this.connectionError(H2Error.PROTOCOL_ERROR, 'SETTINGS_MAX_FRAME_SIZE out of range');
          this.peerMaxFrameSize = value;
          break;
        default:
          // HEADER_TABLE_SIZE: responses never index, so the peer's table size does not matter.
          // Unknown settings are ignored (RFC 9113 §6.5.2).
          break;
      }
    }
    this.write(frame(FrameType.SETTINGS, Flag.ACK, 0));
    this.flushBlocked();
  }

  private windowUpdateFrame(streamId: number, buf: Buffer, start: number, end: number): void {
    if (end - start !== 4) return this.connectionError(H2Error.FRAME_SIZE_ERROR, 'WINDOW_UPDATE payload is not 4 bytes');
    const increment = buf.readUInt32BE(start) & MAX_WINDOW;
    if (streamId === 0) {
      if (increment === 0) return this.connectionError(H2Error.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW) return this.connectionError(H2Error.FLOW_CONTROL_ERROR, 'connection window over 2^31-1');
      return this.flushBlocked();
    }
    if (streamId > this.lastStreamId) return this.connectionError(H2Error.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${String(streamId)}`);
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    if (increment === 0) return this.streamError(stream, H2Error.PROTOCOL_ERROR);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW) return this.streamError(stream, H2Error.FLOW_CONTROL_ERROR);
    if (stream.pendingData !== undefined || stream.pendingTrailers !== undefined) this.flush(stream);
  }

  private rstStreamFrame(streamId: number, start: number, end: number): void {
    if (end - start !== 4) return this.connectionError(H2Error.FRAME_SIZE_ERROR, 'RST_STREAM payload is not 4 bytes');
    if (streamId === 0) return this.connectionError(H2Error.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
    if (streamId > this.lastStreamId) return this.connectionError(H2Error.PROTOCOL_ERROR, `RST_STREAM on idle stream ${String(streamId)}`);
    const stream = this.streams.get(streamId);
    if (stream !== undefined) this.close(stream);
  }

  // ---- stream and connection lifecycle ---------------------------------------------------------

  private remoteEnded(stream: H2Stream): void {
    stream.state = StreamState.RemoteClosed;
    this.handler.onEnd(stream);
  }

  private localEnded(stream: H2Stream): void {
    if (stream.state === StreamState.RemoteClosed) return this.close(stream);
    if (stream.state !== StreamState.Open) return;
    // Answered before the request ended (an error): ask the client to stop sending it, without
    // error (RFC 9113 §8.1); anything it sent meanwhile is ignored.
    this.resetHere(stream.id, H2Error.NO_ERROR);
    this.close(stream);
  }

  private close(stream: H2Stream): void {
    if (stream.state === StreamState.Closed) return;
    stream.state = StreamState.Closed;
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    stream.pendingData = undefined;
    stream.pendingTrailers = undefined;
    this.handler.onClose(stream);
    if (this.closing && this.streams.size === 0) this.end();
  }

  private streamError(stream: H2Stream, code: H2Error): void {
    this.resetHere(stream.id, code);
    this.close(stream);
  }

  private resetHere(streamId: number, code: H2Error): void {
    this.write(rstStreamFrame(streamId, code));
    this.recentResets[this.recentResetAt] = streamId;
    this.recentResetAt = (this.recentResetAt + 1) % RECENT_RESETS;
  }

  private wasResetHere(streamId: number): boolean {
    return this.recentResets.includes(streamId);
  }

  private connectionError(code: H2Error, reason: string): void {
    if (this.dead) return;
    this.write(goawayFrame(this.lastStreamId, code, reason));
    this.end();
    this.teardown();
  }

  private end(): void {
    if (this.socket.writable) this.socket.end();
    // A peer that never reads does not keep the socket: it is destroyed after a grace period.
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }

  private teardown(): void {
    if (this.dead) return;
    this.dead = true;
    this.stopPrefaceTimer();
    this.carry = undefined;
    this.blockParts = undefined;
    for (const stream of [...this.streams.values()]) this.close(stream);
    this.onGone(this);
  }

  // ---- sending ---------------------------------------------------------------------------------

  respond(stream: H2Stream, headerBlock: Buffer, body: Buffer, trailerBlock: Buffer): void {
    if (this.dead || !stream.answerable) return;
    stream.headersSent = true;
    const n = body.length;
    const maxFrame = this.peerMaxFrameSize;
    if (n <= this.sendWindow && n <= stream.sendWindow && n <= maxFrame && headerBlock.length <= maxFrame && trailerBlock.length <= maxFrame) {
      // The common case: all three frames in one buffer.
      const out = Buffer.allocUnsafe(3 * FRAME_HEADER_BYTES + headerBlock.length + n + trailerBlock.length);
      let at = 0;
      writeFrameHeader(out, at, headerBlock.length, FrameType.HEADERS, Flag.END_HEADERS, stream.id);
      at += FRAME_HEADER_BYTES;
      headerBlock.copy(out, at);
      at += headerBlock.length;
      writeFrameHeader(out, at, n, FrameType.DATA, 0, stream.id);
      at += FRAME_HEADER_BYTES;
      body.copy(out, at);
      at += n;
      writeFrameHeader(out, at, trailerBlock.length, FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, stream.id);
      trailerBlock.copy(out, at + FRAME_HEADER_BYTES);
      this.sendWindow -= n;
      stream.sendWindow -= n;
      this.write(out);
      return this.localEnded(stream);
    }
    this.write(headerFrames(stream.id, headerBlock, false, maxFrame));
    stream.pendingData = body;
    stream.pendingTrailers = trailerBlock;
    this.flush(stream);
  }

  respondHeadersOnly(stream: H2Stream, headerBlock: Buffer): void {
    if (this.dead || !stream.answerable) return;
    stream.headersSent = true;
    this.write(headerFrames(stream.id, headerBlock, true, this.peerMaxFrameSize));
    this.localEnded(stream);
  }

  /** Sends what flow control lets through of a stream's held-back response. */
  private flush(stream: H2Stream): void {
    let data = stream.pendingData;
    while (data !== undefined && data.length > 0) {
      const n = Math.min(data.length, this.sendWindow, stream.sendWindow, this.peerMaxFrameSize);
      if (n <= 0) {
        this.blocked.add(stream);
        stream.pendingData = data;
        return;
      }
      this.write(frame(FrameType.DATA, 0, stream.id, data.subarray(0, n)));
      this.sendWindow -= n;
      stream.sendWindow -= n;
      data = n === data.length ? undefined : data.subarray(n);
    }
    stream.pendingData = undefined;
    this.blocked.delete(stream);
    const trailers = stream.pendingTrailers;
    if (trailers === undefined) return;
    stream.pendingTrailers = undefined;
    this.write(headerFrames(stream.id, trailers, true, this.peerMaxFrameSize));
    this.localEnded(stream);
  }

  private flushBlocked(): void {
    for (const stream of [...this.blocked]) {
      if (this.sendWindow <= 0) return;
      this.flush(stream);
    }
  }

  private write(bytes: Buffer): void {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return;
    // Frames written in one turn leave in one write to the kernel.
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(this.uncork);
    }
    socket.write(bytes);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };
}

function hasPseudoHeader(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.charCodeAt(0) === 0x3a) return true;
  return false;
}

/** The request's content-length: -1 without one, -2 when it is not one number (malformed). */
function declaredContentLength(headers: readonly string[]): number {
  let length = -1;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'content-length') continue;
    const value = headers[i + 1]!;
    if (!/^[0-9]{1,15}$/.test(value) || (length >= 0 && Number(value) !== length)) return -2;
    length = Number(value);
  }
  return length;
}

/**
 * RFC 9113 §8.3 for requests: pseudo-header fields first, only the request ones and each once,
 * `:method`, `:scheme` and `:path` present, names in lowercase, no connection-specific fields,
 * `te` only as `trailers`.
 */
function wellFormedRequest(headers: readonly string[]): boolean {
  let regularSeen = false;
  let method = false;
  let scheme = false;
  let path = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 0) return false;
    if (name.charCodeAt(0) === 0x3a) {
      if (regularSeen) return false;
      if (name === ':method') {
        if (method) return false;
        method = true;
      } else if (name === ':scheme') {
        if (scheme) return false;
        scheme = true;
      } else if (name === ':path') {
        if (path || headers[i + 1]!.length === 0) return false;
        path = true;
      } else if (name !== ':authority') {
        return false;
      }
      continue;
    }
    regularSeen = true;
    for (let c = 0; c < name.length; c++) {
      const code = name.charCodeAt(c);
      if (code >= 0x41 && code <= 0x5a) return false;
    }
    if (CONNECTION_SPECIFIC.has(name)) return false;
    if (name === 'te' && headers[i + 1] !== 'trailers') return false;
  }
  return method && scheme && path;
}
