/**
 * A raw HTTP/2 client for frame-level tests of the gRPC endpoint's HTTP/2 server (RFC 9113), in the
 * spirit of h2spec: frames are built byte for byte, valid or deliberately not, and written as they
 * are (or in chunks as small as one byte); everything the server sends is parsed back into frames,
 * kept in order, and awaited with `nextFrame`.
 *
 * Requests are hand-encoded HPACK (literals without indexing unless a test builds its own block),
 * so sending does not depend on the HPACK encoder under test. Responses are decoded with one
 * `HpackDecoder` per connection, in the order the field blocks arrive, without assuming the server
 * indexes anything. By default the client behaves as a well-mannered peer: it ACKs the server's
 * SETTINGS and PINGs, respects the server's flow-control windows and frame size when it sends DATA
 * through `sendData`/`call`, and gives back its own receive windows as response DATA arrives.
 */
import { connect, type Socket } from 'node:net';
import { HpackDecoder } from '../../src/core/server/h2/hpack.js';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flags = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

export const DEFAULT_WINDOW = 65_535;
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const MAX_WINDOW = 2 ** 31 - 1;
const DEFAULT_TIMEOUT_MS = 2_000;
const MAX_RESPONSE_HEADER_LIST = 1 << 20;
const EMPTY = Buffer.alloc(0);

export type HeaderField = readonly [name: string, value: string];
export type SettingPair = readonly [id: number, value: number];

/** One frame as received. */
export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  /** The whole payload, padding and priority fields included. */
  readonly payload: Buffer;
  /**
   * HEADERS and PUSH_PROMISE: the decoded field block (with the CONTINUATION frames that followed).
   * A frame carrying a block is handed out only once the block is complete.
   */
  fields?: HeaderField[];
  /** Why that field block could not be decoded. */
  hpackError?: string;
}

export interface Goaway {
  readonly lastStreamId: number;
  readonly errorCode: number;
  readonly debug: string;
}

/** What the server sent on one stream, up to the frame that ended it, and what it adds up to. */
export interface StreamResponse {
  readonly streamId: number;
  /** Every frame on the stream up to and including the one with END_STREAM (or the RST_STREAM). */
  readonly frames: readonly Frame[];
  /** The first field block (response headers, or the whole trailers-only response). */
  readonly headers: readonly HeaderField[] | undefined;
  /** The second field block, if any. */
  readonly trailers: readonly HeaderField[] | undefined;
  /** The DATA frames' data, padding removed. */
  readonly data: Buffer;
  /** The code of a RST_STREAM from the server. */
  readonly rstCode: number | undefined;
}

export function errorName(code: number): string {
  for (const [name, value] of Object.entries(ErrorCode)) if (value === code) return name;
  return `0x${code.toString(16)}`;
}

export function frameTypeName(type: number): string {
  for (const [name, value] of Object.entries(FrameType)) if (value === type) return name;
  return `UNKNOWN(0x${type.toString(16)})`;
}

// ---------------------------------------------------------------------------------------------
// Frame builders. Lengths and fields are written as given: a test may build any frame, valid or not.

/** A frame: 9-byte header (24-bit length, type, flags, reserved bit + 31-bit stream id) and payload. */
export function frame(type: number, flags: number, streamId: number, payload: Uint8Array = EMPTY): Buffer {
  const out = Buffer.allocUnsafe(9 + payload.length);
  out.writeUIntBE(payload.length, 0, 3);
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(streamId >>> 0, 5);
  out.set(payload, 9);
  return out;
}

/** A frame of a type RFC 9113 does not define (receivers must ignore it). */
export function unknownFrame(type: number, flags: number, streamId: number, payload: Uint8Array = EMPTY): Buffer {
  return frame(type, flags, streamId, payload);
}

/** The Pad Length octet, `body`, and `padLength` zero octets. */
function withPadding(body: Uint8Array, padLength: number | undefined): Buffer {
  if (padLength === undefined) return Buffer.from(body);
  return Buffer.concat([Buffer.from([padLength]), body, Buffer.alloc(padLength)]);
}

export interface Priority {
  readonly dependency: number;
  /** The weight octet as sent (the weight is this plus one). */
  readonly weight: number;
  readonly exclusive?: boolean;
}

function priorityFields(p: Priority): Buffer {
  const out = Buffer.allocUnsafe(5);
  out.writeUInt32BE(((p.exclusive === true ? 0x8000_0000 : 0) | p.dependency) >>> 0, 0);
  out[4] = p.weight;
  return out;
}

export function settingsFrame(settings: readonly SettingPair[] = [], streamId = 0): Buffer {
  const payload = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value >>> 0, 6 * i + 2);
  });
  return frame(FrameType.SETTINGS, 0, streamId, payload);
}

export function settingsAckFrame(payload: Uint8Array = EMPTY): Buffer {
  return frame(FrameType.SETTINGS, Flags.ACK, 0, payload);
}

export interface HeadersOptions {
  readonly endStream?: boolean;
  /** Default true; false leaves the block to CONTINUATION frames. */
  readonly endHeaders?: boolean;
  /** Sets PADDED with this many octets of padding. */
  readonly padLength?: number;
  /** Sets PRIORITY with these fields. */
  readonly priority?: Priority;
}

export function headersFrame(streamId: number, block: Uint8Array, opts: HeadersOptions = {}): Buffer {
  let flags = 0;
  if (opts.endStream === true) flags |= Flags.END_STREAM;
  if (opts.endHeaders !== false) flags |= Flags.END_HEADERS;
  const parts: Uint8Array[] = [];
  if (opts.priority !== undefined) {
    flags |= Flags.PRIORITY;
    parts.push(priorityFields(opts.priority));
  }
  parts.push(block);
  let payload: Buffer = Buffer.concat(parts);
  if (opts.padLength !== undefined) {
    flags |= Flags.PADDED;
    payload = withPadding(payload, opts.padLength);
  }
  return frame(FrameType.HEADERS, flags, streamId, payload);
}

export function continuationFrame(streamId: number, block: Uint8Array, endHeaders = true): Buffer {
  return frame(FrameType.CONTINUATION, endHeaders ? Flags.END_HEADERS : 0, streamId, block);
}

export interface DataOptions {
  readonly endStream?: boolean;
  /** Sets PADDED with this many octets of padding. */
  readonly padLength?: number;
}

export function dataFrame(streamId: number, data: Uint8Array = EMPTY, opts: DataOptions = {}): Buffer {
  let flags = opts.endStream === true ? Flags.END_STREAM : 0;
  if (opts.padLength !== undefined) flags |= Flags.PADDED;
  return frame(FrameType.DATA, flags, streamId, withPadding(data, opts.padLength));
}

export function pingFrame(data: Uint8Array = Buffer.alloc(8), ack = false, streamId = 0): Buffer {
  return frame(FrameType.PING, ack ? Flags.ACK : 0, streamId, data);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment >>> 0, 0);
  return frame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(code >>> 0, 0);
  return frame(FrameType.RST_STREAM, 0, streamId, payload);
}

export function goawayFrame(lastStreamId: number, code: number, debug = ''): Buffer {
  const payload = Buffer.alloc(8 + Buffer.byteLength(debug));
  payload.writeUInt32BE(lastStreamId >>> 0, 0);
  payload.writeUInt32BE(code >>> 0, 4);
  payload.write(debug, 8, 'utf8');
  return frame(FrameType.GOAWAY, 0, 0, payload);
}

export function priorityFrame(streamId: number, p: Priority): Buffer {
  return frame(FrameType.PRIORITY, 0, streamId, priorityFields(p));
}

export function pushPromiseFrame(streamId: number, promisedStreamId: number, block: Uint8Array): Buffer {
  const id = Buffer.allocUnsafe(4);
  id.writeUInt32BE(promisedStreamId >>> 0, 0);
  return frame(FrameType.PUSH_PROMISE, Flags.END_HEADERS, streamId, Buffer.concat([id, block]));
}

// ---------------------------------------------------------------------------------------------
// Frame readers.

export function parseGoaway(f: Frame): Goaway {
  return {
    lastStreamId: f.payload.readUInt32BE(0) & 0x7fff_ffff,
    errorCode: f.payload.readUInt32BE(4),
    debug: f.payload.subarray(8).toString('utf8'),
  };
}

export function rstCode(f: Frame): number {
  return f.payload.readUInt32BE(0);
}

export function windowIncrement(f: Frame): number {
  return f.payload.readUInt32BE(0) & 0x7fff_ffff;
}

/** A SETTINGS frame's parameters, in order. */
export function parseSettings(f: Frame): SettingPair[] {
  const out: SettingPair[] = [];
  for (let i = 0; i + 6 <= f.payload.length; i += 6) out.push([f.payload.readUInt16BE(i), f.payload.readUInt32BE(i + 2)]);
  return out;
}

/** DATA: the data without the Pad Length octet and padding. */
export function dataOf(f: Frame): Buffer {
  if ((f.flags & Flags.PADDED) === 0) return f.payload;
  const pad = f.payload[0] ?? 0;
  return f.payload.subarray(1, f.payload.length - pad);
}

/** HEADERS: the field block fragment without padding and priority fields. */
function headerFragment(f: Frame): Buffer {
  let start = 0;
  let end = f.payload.length;
  if ((f.flags & Flags.PADDED) !== 0) {
    start = 1;
    end -= f.payload[0] ?? 0;
  }
  if (f.type === FrameType.HEADERS && (f.flags & Flags.PRIORITY) !== 0) start += 5;
  if (f.type === FrameType.PUSH_PROMISE) start += 4;
  return f.payload.subarray(start, Math.max(start, end));
}

export function describeFrame(f: Frame): string {
  const base = `${frameTypeName(f.type)}(stream ${String(f.streamId)}, flags 0x${f.flags.toString(16)}, ${String(f.payload.length)} B)`;
  switch (f.type) {
    case FrameType.GOAWAY: {
      if (f.payload.length < 8) return base;
      const g = parseGoaway(f);
      return `${base} last=${String(g.lastStreamId)} ${errorName(g.errorCode)}${g.debug === '' ? '' : ` "${g.debug}"`}`;
    }
    case FrameType.RST_STREAM:
      return f.payload.length === 4 ? `${base} ${errorName(rstCode(f))}` : base;
    case FrameType.WINDOW_UPDATE:
      return f.payload.length === 4 ? `${base} +${String(windowIncrement(f))}` : base;
    case FrameType.SETTINGS:
      return `${base} ${JSON.stringify(parseSettings(f))}`;
    case FrameType.HEADERS:
      return `${base} ${f.hpackError !== undefined ? `hpack error: ${f.hpackError}` : JSON.stringify(f.fields ?? [])}`;
    default:
      return base;
  }
}

export function isFrame(type: number, streamId?: number): (f: Frame) => boolean {
  return (f) => f.type === type && (streamId === undefined || f.streamId === streamId);
}

// ---------------------------------------------------------------------------------------------
// Hand-made HPACK (RFC 7541) for requests: each representation on its own, so a test can build any
// block, valid or not. Strings are raw octets unless given already Huffman-coded.

/** A string literal: raw text, or octets already Huffman-coded (e.g. from RFC 7541 Appendix C). */
export type HpackString = string | { readonly huffman: Uint8Array };

/** An integer with an N-bit prefix (RFC 7541 §5.1); `pattern` holds the bits above the prefix. */
export function hpackInt(value: number, prefixBits: number, pattern = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([pattern | value]);
  const out = [pattern | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

export function hpackString(s: HpackString): Buffer {
  if (typeof s === 'string') {
    const raw = Buffer.from(s, 'latin1');
    return Buffer.concat([hpackInt(raw.length, 7, 0x00), raw]);
  }
  return Buffer.concat([hpackInt(s.huffman.length, 7, 0x80), s.huffman]);
}

/** Indexed header field (§6.1): an index into the static (1–61) or dynamic (62…) table. */
export function hpackIndexed(index: number): Buffer {
  return hpackInt(index, 7, 0x80);
}

export type LiteralMode = 'incremental' | 'without' | 'never';

/**
 * Literal header field (§6.2): `name` a table index or a literal; `incremental` adds the field to
 * the dynamic table, `without` does not, `never` does not and marks it never-indexed.
 */
export function hpackLiteral(name: number | HpackString, value: HpackString, mode: LiteralMode = 'without'): Buffer {
  const [bits, pattern] = mode === 'incremental' ? [6, 0x40] : mode === 'never' ? [4, 0x10] : [4, 0x00];
  const head = typeof name === 'number' ? hpackInt(name, bits, pattern) : Buffer.concat([Buffer.from([pattern]), hpackString(name)]);
  return Buffer.concat([head, hpackString(value)]);
}

/** Dynamic table size update (§6.3). */
export function hpackSizeUpdate(size: number): Buffer {
  return hpackInt(size, 5, 0x20);
}

/** A header block of literals without indexing with literal names: no Huffman, no table state. */
export function literalBlock(fields: readonly HeaderField[]): Buffer {
  return Buffer.concat(fields.map(([name, value]) => hpackLiteral(name, value, 'without')));
}

// ---------------------------------------------------------------------------------------------
// gRPC over HTTP/2.

/** A gRPC request's fields: pseudo-headers first, then content-type, te and `extra`. */
export function requestFields(path: string, extra: readonly HeaderField[] = []): HeaderField[] {
  return [
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', path],
    [':authority', '127.0.0.1'],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
    ...extra,
  ];
}

/** `message` behind the 5-byte gRPC prefix (compressed flag, 32-bit big-endian length). */
export function grpcMessage(message: Uint8Array, compressed = false): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** The messages in a gRPC body; throws if it does not end on a message boundary. */
export function grpcMessages(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 5) throw new Error(`gRPC body ends inside a message prefix (${String(body.length - at)} bytes left)`);
    const length = body.readUInt32BE(at + 1);
    if (body.length - at - 5 < length) throw new Error(`gRPC message of ${String(length)} bytes cut short`);
    out.push(body.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return out;
}

/** The value of the first field named `name`. */
export function field(fields: readonly HeaderField[] | undefined, name: string): string | undefined {
  return fields?.find(([n]) => n === name)?.[1];
}

// ---------------------------------------------------------------------------------------------
// The client.

export interface ConnectOptions {
  /**
   * Default true: send the preface and a SETTINGS frame of `settings`, then wait for the server's
   * SETTINGS and for its ACK of ours. With false the connection is left untouched (nothing sent).
   */
  readonly handshake?: boolean;
  /** The client's SETTINGS (sent by the handshake; also what `autoWindow` takes as its windows). */
  readonly settings?: readonly SettingPair[];
  /** Default true: ACK the server's SETTINGS and answer its PINGs. */
  readonly autoAck?: boolean;
  /** Default true: send WINDOW_UPDATEs as response DATA arrives (once half a window is used). */
  readonly autoWindow?: boolean;
  readonly timeoutMs?: number;
}

export interface SendDataOptions {
  readonly endStream?: boolean;
  /** At most this many data octets per DATA frame (never more than the server's MAX_FRAME_SIZE allows). */
  readonly frameSize?: number;
  /** Pad every DATA frame with this many octets (they count against the windows). */
  readonly padLength?: number;
  readonly timeoutMs?: number;
}

export interface CallOptions extends SendDataOptions {
  /** The request's fields (default `requestFields(path, extraFields)`), sent as literals. */
  readonly fields?: readonly HeaderField[];
  readonly extraFields?: readonly HeaderField[];
  /** A ready header block instead (e.g. from the HPACK encoder, or hand-made). */
  readonly block?: Buffer;
  /** Options of the HEADERS frame (padding, priority). */
  readonly headers?: Pick<HeadersOptions, 'padLength' | 'priority'>;
}

interface FrameWaiter {
  readonly predicate: (f: Frame) => boolean;
  readonly resolve: (f: Frame) => void;
  readonly reject: (e: Error) => void;
}

interface StreamRecord {
  readonly frames: Frame[];
  ended: boolean;
  readonly waiters: (() => void)[];
  /** Receive window octets used and not yet given back (autoWindow). */
  unacked: number;
}

interface PendingBlock {
  readonly first: Frame;
  readonly parts: Buffer[];
  readonly continuations: Frame[];
}

export class H2RawClient {
  /** Every frame received, in order. */
  readonly frames: Frame[] = [];
  /** Everything received, before framing (for a peer that does not speak HTTP/2). */
  readonly raw: Buffer[] = [];
  /** The parameters of every SETTINGS frame the server sent, the last value of each. */
  readonly serverSettings = new Map<number, number>();
  /** Things the server did wrong that the client noticed while parsing (not frames a test asked about). */
  readonly violations: string[] = [];
  /** The server's windows for what this client sends: connection, and per stream the change from the initial size. */
  connectionSendWindow = DEFAULT_WINDOW;
  private readonly streamSendDelta = new Map<number, number>();
  private readonly queue: Frame[] = [];
  private readonly frameWaiters: FrameWaiter[] = [];
  private readonly streams = new Map<number, StreamRecord>();
  private readonly windowWaiters: (() => void)[] = [];
  private readonly closeWaiters: (() => void)[] = [];
  private readonly decoder = new HpackDecoder();
  private readonly localInitialWindow: number;
  private readonly autoAck: boolean;
  private readonly autoWindow: boolean;
  private readonly timeoutMs: number;
  private pendingBlock: PendingBlock | undefined;
  private buffered: Buffer = EMPTY;
  private connectionUnacked = 0;
  /** While `writeChunked` runs, what the client writes on its own waits here (so frames are not cut in two). */
  private deferred: Buffer[] | undefined;
  private isClosed = false;
  /** Set when the socket failed (e.g. ECONNRESET) rather than closing cleanly. */
  socketError: Error | undefined;

  private constructor(
    readonly socket: Socket,
    opts: ConnectOptions,
  ) {
    this.autoAck = opts.autoAck ?? true;
    this.autoWindow = opts.autoWindow ?? true;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.localInitialWindow = opts.settings?.find(([id]) => id === Setting.INITIAL_WINDOW_SIZE)?.[1] ?? DEFAULT_WINDOW;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => (this.socketError = e));
    socket.on('close', () => this.onClose());
  }

  /** Connects to 127.0.0.1:`port` and, unless `opts.handshake` is false, completes the HTTP/2 handshake. */
  static async connect(port: number, opts: ConnectOptions = {}): Promise<H2RawClient> {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    const client = new H2RawClient(socket, opts);
    if (opts.handshake !== false) await client.handshake(opts.settings ?? []);
    return client;
  }

  /** Preface and SETTINGS; waits for the server's SETTINGS (ACKed by autoAck) and its ACK of ours. */
  async handshake(settings: readonly SettingPair[] = []): Promise<void> {
    this.send(PREFACE, settingsFrame(settings));
    await this.nextFrame((f) => f.type === FrameType.SETTINGS && (f.flags & Flags.ACK) === 0);
    if (!this.autoAck) this.send(settingsAckFrame());
    await this.nextFrame((f) => f.type === FrameType.SETTINGS && (f.flags & Flags.ACK) !== 0);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The server's MAX_FRAME_SIZE for what this client sends. */
  get maxFrameSize(): number {
    return this.serverSettings.get(Setting.MAX_FRAME_SIZE) ?? DEFAULT_MAX_FRAME_SIZE;
  }

  /** The server's window for what this client sends on `streamId`. */
  streamSendWindow(streamId: number): number {
    return (this.serverSettings.get(Setting.INITIAL_WINDOW_SIZE) ?? DEFAULT_WINDOW) + (this.streamSendDelta.get(streamId) ?? 0);
  }

  /** Writes `chunks` as they are, in one write. */
  send(...chunks: Uint8Array[]): void {
    if (this.socket.destroyed) return;
    this.socket.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  }

  /**
   * Writes `bytes` `chunkSize` octets per socket write, with a turn of the event loop between
   * writes, so the server reads them in as many pieces. What the client sends on its own meanwhile
   * (ACKs, WINDOW_UPDATEs) waits until the last piece is written.
   */
  async writeChunked(bytes: Uint8Array, chunkSize = 1): Promise<void> {
    this.deferred = [];
    try {
      for (let at = 0; at < bytes.length && !this.socket.destroyed; at += chunkSize) {
        this.socket.write(bytes.subarray(at, at + chunkSize));
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      const deferred = this.deferred;
      this.deferred = undefined;
      if (deferred.length > 0) this.send(...deferred);
    }
  }

  /**
   * The first frame received (and not yet taken) that matches `predicate` (any frame without one),
   * taken out of the queue; frames that do not match stay for later calls.
   */
  nextFrame(predicate: (f: Frame) => boolean = () => true, timeoutMs = this.timeoutMs): Promise<Frame> {
    const at = this.queue.findIndex(predicate);
    if (at >= 0) return Promise.resolve(this.queue.splice(at, 1)[0]!);
    if (this.isClosed) return Promise.reject(new Error(`connection closed, no frame matching; received: ${this.summary()}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        remove();
        reject(new Error(`no frame matching within ${String(timeoutMs)} ms; received: ${this.summary()}`));
      }, timeoutMs);
      const waiter: FrameWaiter = {
        predicate,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const remove = (): void => {
        const i = this.frameWaiters.indexOf(waiter);
        if (i >= 0) this.frameWaiters.splice(i, 1);
      };
      this.frameWaiters.push(waiter);
    });
  }

  /** Like `nextFrame`, but undefined if no such frame arrives within `ms` (or the connection closes). */
  async pollFrame(predicate: (f: Frame) => boolean, ms: number): Promise<Frame | undefined> {
    try {
      return await this.nextFrame(predicate, ms);
    } catch {
      return undefined;
    }
  }

  /** Resolves once the server has closed the connection (FIN or reset). */
  waitClosed(timeoutMs = this.timeoutMs): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connection still open after ${String(timeoutMs)} ms; received: ${this.summary()}`)), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Sends `data` on `streamId` as DATA frames within the server's windows and frame size, waiting
   * for WINDOW_UPDATEs when a window is used up. Empty data with `endStream` is one empty DATA frame.
   */
  async sendData(streamId: number, data: Uint8Array, opts: SendDataOptions = {}): Promise<void> {
    const pad = opts.padLength === undefined ? 0 : opts.padLength + 1;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    let at = 0;
    do {
      let room = Math.min(this.connectionSendWindow, this.streamSendWindow(streamId)) - pad;
      while (room <= 0 && at < data.length) {
        await this.windowChange(timeoutMs, streamId);
        room = Math.min(this.connectionSendWindow, this.streamSendWindow(streamId)) - pad;
      }
      const size = Math.max(0, Math.min(data.length - at, room, opts.frameSize ?? Infinity, this.maxFrameSize - pad));
      const last = at + size >= data.length;
      const dataOpts: DataOptions = { endStream: last && opts.endStream === true, ...(opts.padLength === undefined ? {} : { padLength: opts.padLength }) };
      this.send(dataFrame(streamId, data.subarray(at, at + size), dataOpts));
      this.connectionSendWindow -= size + pad;
      this.streamSendDelta.set(streamId, (this.streamSendDelta.get(streamId) ?? 0) - size - pad);
      at += size;
    } while (at < data.length);
  }

  /** HEADERS for `block`, split into CONTINUATION frames where it is longer than the server's frame size. */
  sendHeaders(streamId: number, block: Buffer, opts: HeadersOptions = {}): void {
    const max = this.maxFrameSize - (opts.padLength === undefined ? 0 : opts.padLength + 1) - (opts.priority === undefined ? 0 : 5);
    if (block.length <= max) {
      this.send(headersFrame(streamId, block, opts));
      return;
    }
    const out = [headersFrame(streamId, block.subarray(0, max), { ...opts, endHeaders: false })];
    for (let at = max; at < block.length; at += this.maxFrameSize) {
      out.push(continuationFrame(streamId, block.subarray(at, at + this.maxFrameSize), at + this.maxFrameSize >= block.length));
    }
    this.send(...out);
  }

  /** A unary gRPC call: HEADERS, then the message with its 5-byte prefix as DATA ending the stream. */
  async call(streamId: number, path: string, message: Uint8Array, opts: CallOptions = {}): Promise<StreamResponse> {
    const block = opts.block ?? literalBlock(opts.fields ?? requestFields(path, opts.extraFields));
    this.sendHeaders(streamId, block, opts.headers ?? {});
    await this.sendData(streamId, grpcMessage(message), { ...opts, endStream: true });
    return this.response(streamId, opts.timeoutMs);
  }

  /** The frames the server sent on `streamId`, once it ended the stream (END_STREAM or RST_STREAM). */
  async response(streamId: number, timeoutMs = this.timeoutMs): Promise<StreamResponse> {
    const record = this.stream(streamId);
    if (!record.ended) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`stream ${String(streamId)} not ended within ${String(timeoutMs)} ms; received: ${this.summary()}`)), timeoutMs);
        record.waiters.push(() => {
          clearTimeout(timer);
          if (record.ended) resolve();
          else reject(new Error(`connection closed before stream ${String(streamId)} ended; received: ${this.summary()}`));
        });
      });
    }
    return responseOf(streamId, record.frames);
  }

  /** The frames received on `streamId` so far. */
  streamFrames(streamId: number): readonly Frame[] {
    return this.streams.get(streamId)?.frames ?? [];
  }

  /** One line per frame received, for failure messages. */
  summary(): string {
    const lines = this.frames.map(describeFrame);
    if (this.frames.length === 0 && this.raw.length > 0) lines.push(JSON.stringify(Buffer.concat(this.raw).subarray(0, 200).toString('latin1')));
    if (this.isClosed) lines.push('(closed)');
    return lines.length === 0 ? '(nothing)' : `\n  ${lines.join('\n  ')}`;
  }

  /** Closes the socket at once (idempotent). */
  close(): void {
    this.socket.destroy();
  }

  private stream(streamId: number): StreamRecord {
    let r = this.streams.get(streamId);
    if (r === undefined) {
      r = { frames: [], ended: false, waiters: [], unacked: 0 };
      this.streams.set(streamId, r);
    }
    return r;
  }

  private windowChange(timeoutMs: number, streamId: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.isClosed) {
        reject(new Error(`connection closed while stream ${String(streamId)} waited for send window`));
        return;
      }
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no WINDOW_UPDATE within ${String(timeoutMs)} ms (connection window ${String(this.connectionSendWindow)}, stream ${String(streamId)} window ${String(this.streamSendWindow(streamId))}); received: ${this.summary()}`,
            ),
          ),
        timeoutMs,
      );
      this.windowWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private notifyWindow(): void {
    for (const w of this.windowWaiters.splice(0)) w();
  }

  /** What the client writes on its own: held back while a chunked write runs. */
  private reply(buf: Buffer): void {
    if (this.deferred !== undefined) this.deferred.push(buf);
    else this.send(buf);
  }

  private onData(chunk: Buffer): void {
    this.raw.push(chunk);
    const buf = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let at = 0;
    while (buf.length - at >= 9) {
      const length = buf.readUIntBE(at, 3);
      if (buf.length - at < 9 + length) break;
      const f: Frame = {
        type: buf[at + 3]!,
        flags: buf[at + 4]!,
        streamId: buf.readUInt32BE(at + 5) & 0x7fff_ffff,
        payload: Buffer.from(buf.subarray(at + 9, at + 9 + length)),
      };
      at += 9 + length;
      this.receive(f);
    }
    this.buffered = at === buf.length ? EMPTY : Buffer.from(buf.subarray(at));
  }

  private receive(f: Frame): void {
    const pending = this.pendingBlock;
    if (pending !== undefined) {
      if (f.type !== FrameType.CONTINUATION || f.streamId !== pending.first.streamId) {
        this.violations.push(`${describeFrame(f)} while a field block on stream ${String(pending.first.streamId)} awaited CONTINUATION`);
        this.pendingBlock = undefined;
        this.deliver(pending.first);
        for (const c of pending.continuations) this.deliver(c);
      } else {
        pending.parts.push(f.payload);
        pending.continuations.push(f);
        if ((f.flags & Flags.END_HEADERS) !== 0) {
          this.pendingBlock = undefined;
          this.decodeInto(pending.first, Buffer.concat(pending.parts));
          this.deliver(pending.first);
          for (const c of pending.continuations) this.deliver(c);
        }
        return;
      }
    }
    switch (f.type) {
      case FrameType.HEADERS:
      case FrameType.PUSH_PROMISE:
        if ((f.flags & Flags.END_HEADERS) === 0) {
          this.pendingBlock = { first: f, parts: [headerFragment(f)], continuations: [] };
          return;
        }
        this.decodeInto(f, headerFragment(f));
        break;
      case FrameType.CONTINUATION:
        this.violations.push(`${describeFrame(f)} without a field block to continue`);
        break;
      case FrameType.SETTINGS:
        if ((f.flags & Flags.ACK) === 0) this.applySettings(f);
        break;
      case FrameType.PING:
        if ((f.flags & Flags.ACK) === 0 && this.autoAck && f.payload.length === 8) this.reply(pingFrame(f.payload, true));
        break;
      case FrameType.WINDOW_UPDATE:
        if (f.payload.length === 4) {
          const increment = windowIncrement(f);
          if (f.streamId === 0) this.connectionSendWindow += increment;
          else this.streamSendDelta.set(f.streamId, (this.streamSendDelta.get(f.streamId) ?? 0) + increment);
          this.notifyWindow();
        }
        break;
      case FrameType.DATA:
        this.consumed(f);
        break;
      default:
        break;
    }
    this.deliver(f);
  }

  private applySettings(f: Frame): void {
    if (f.payload.length % 6 !== 0) this.violations.push(`${describeFrame(f)}: length not a multiple of 6`);
    for (const [id, value] of parseSettings(f)) this.serverSettings.set(id, value);
    this.notifyWindow();
    if (this.autoAck) this.reply(settingsAckFrame());
  }

  /** Receive-side flow control: gives back windows once half of them is used. */
  private consumed(f: Frame): void {
    if (!this.autoWindow || f.payload.length === 0) return;
    this.connectionUnacked += f.payload.length;
    if (this.connectionUnacked >= DEFAULT_WINDOW / 2) {
      this.reply(windowUpdateFrame(0, this.connectionUnacked));
      this.connectionUnacked = 0;
    }
    const record = this.stream(f.streamId);
    record.unacked += f.payload.length;
    if ((f.flags & Flags.END_STREAM) === 0 && record.unacked >= Math.max(1, this.localInitialWindow / 2)) {
      this.reply(windowUpdateFrame(f.streamId, record.unacked));
      record.unacked = 0;
    }
  }

  private decodeInto(f: Frame, block: Buffer): void {
    const out: string[] = [];
    try {
      const result: unknown = this.decoder.decode(block, 0, block.length, out, MAX_RESPONSE_HEADER_LIST);
      if (typeof result === 'number' && result < 0) throw new Error(`decode returned ${String(result)}`);
    } catch (e) {
      f.hpackError = (e as Error).message;
      this.violations.push(`undecodable field block on stream ${String(f.streamId)}: ${f.hpackError}`);
      return;
    }
    const fields: HeaderField[] = [];
    for (let i = 0; i + 1 < out.length; i += 2) fields.push([out[i]!, out[i + 1]!]);
    f.fields = fields;
  }

  private deliver(f: Frame): void {
    this.frames.push(f);
    if (f.streamId !== 0) {
      const record = this.stream(f.streamId);
      record.frames.push(f);
      if (endsStream(f) && !record.ended) {
        record.ended = true;
        for (const w of record.waiters.splice(0)) w();
      }
    }
    const i = this.frameWaiters.findIndex((w) => w.predicate(f));
    if (i >= 0) this.frameWaiters.splice(i, 1)[0]!.resolve(f);
    else this.queue.push(f);
  }

  private onClose(): void {
    if (this.buffered.length > 0) this.violations.push(`connection closed inside a frame (${String(this.buffered.length)} bytes left over)`);
    if (this.pendingBlock !== undefined) this.violations.push(`connection closed inside a field block on stream ${String(this.pendingBlock.first.streamId)}`);
    this.isClosed = true;
    for (const w of this.closeWaiters.splice(0)) w();
    const error = new Error(`connection closed; received: ${this.summary()}`);
    for (const w of this.frameWaiters.splice(0)) w.reject(error);
    for (const r of this.streams.values()) for (const w of r.waiters.splice(0)) w();
    this.notifyWindow();
  }
}

function endsStream(f: Frame): boolean {
  return f.type === FrameType.RST_STREAM || ((f.type === FrameType.DATA || f.type === FrameType.HEADERS) && (f.flags & Flags.END_STREAM) !== 0);
}

/** The stream's frames up to the one that ended it (what follows, e.g. a RST_STREAM NO_ERROR, is left out). */
function responseOf(streamId: number, all: readonly Frame[]): StreamResponse {
  const end = all.findIndex(endsStream);
  const frames = end < 0 ? all : all.slice(0, end + 1);
  const blocks = frames.filter((f) => f.type === FrameType.HEADERS);
  const rst = frames.find((f) => f.type === FrameType.RST_STREAM);
  return {
    streamId,
    frames: [...frames],
    headers: blocks[0]?.fields,
    trailers: blocks[1]?.fields,
    data: Buffer.concat(frames.filter((f) => f.type === FrameType.DATA).map(dataOf)),
    rstCode: rst === undefined ? undefined : rstCode(rst),
  };
}
