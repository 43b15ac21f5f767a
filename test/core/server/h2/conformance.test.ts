/**
 * RFC 9113 conformance of the gRPC endpoint's own HTTP/2 server (H2UnaryServer), frame by frame: a
 * subset of h2spec, written with the raw client of test/support/h2-raw.ts against a server on
 * loopback. Each test opens its own connection(s); connection errors must come as GOAWAY with the
 * error code (and the socket then closed), stream errors as RST_STREAM with the connection going on.
 *
 * The first groups are the behaviour the server is specified to have (the connection preface,
 * gRPC calls however the request is framed, connection and stream errors, client resets, flow
 * control both ways, frames to ignore, graceful close). The last group holds other MUSTs of RFC
 * 9113 and RFC 7541 the specification did not list; where the RFC leaves a choice between a
 * stream and a connection error, those tests accept either.
 */
import { status } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../src/core/log.js';
import { H2UnaryServer } from '../../../../src/core/server/grpc/h2-unary-server.js';
import type { UnaryCall, UnaryMethod, UnaryServerOptions } from '../../../../src/core/server/grpc/unary.js';
import { encodeHeaderBlock } from '../../../../src/core/server/h2/hpack.js';
import {
  continuationFrame,
  dataFrame,
  DEFAULT_WINDOW,
  describeFrame,
  ErrorCode,
  errorName,
  field,
  Flags,
  frame,
  FrameType,
  frameTypeName,
  grpcMessage,
  grpcMessages,
  H2RawClient,
  headersFrame,
  hpackIndexed,
  hpackLiteral,
  hpackSizeUpdate,
  isFrame,
  literalBlock,
  MAX_WINDOW,
  parseGoaway,
  parseSettings,
  PREFACE,
  priorityFrame,
  pingFrame,
  pushPromiseFrame,
  requestFields,
  rstCode,
  rstStreamFrame,
  Setting,
  settingsAckFrame,
  settingsFrame,
  unknownFrame,
  windowIncrement,
  windowUpdateFrame,
  type ConnectOptions,
  type Frame,
  type Goaway,
  type HeaderField,
  type StreamResponse,
} from '../../../support/h2-raw.js';

const ECHO = '/test.Echo/Echo';
/** Keeps the call in `held` and answers only when a test does. */
const HOLD = '/test.Hold/Hold';
/** Answers with some of the request's metadata as JSON. */
const META = '/test.Echo/Metadata';

const STREAM_WINDOW = 1 << 20;
const CONNECTION_WINDOW = 1 << 20;
const MAX_STREAMS = 100;

const held: UnaryCall[] = [];

function metadataValues(call: UnaryCall, key: string): string[] {
  return call.metadata.get(key).map((v) => (typeof v === 'string' ? v : v.toString('base64')));
}

const methods = new Map<string, UnaryMethod>([
  // The request may be a view of the server's buffers: copied before it is answered.
  [ECHO, (call) => call.ok(Buffer.from(call.request))],
  [HOLD, (call) => void held.push(call)],
  [
    META,
    (call) => {
      const answer = { 'x-call': metadataValues(call, 'x-call'), 'x-pad': metadataValues(call, 'x-pad').map((v) => v.length), 'custom-key': metadataValues(call, 'custom-key') };
      call.ok(Buffer.from(JSON.stringify(answer)));
    },
  ],
]);

const BASE: UnaryServerOptions = {
  methods,
  maxMessageBytes: 1 << 20,
  maxConcurrentStreams: MAX_STREAMS,
  streamWindowBytes: STREAM_WINDOW,
  connectionWindowBytes: CONNECTION_WINDOW,
  logger: silentLogger,
};

let shared: H2UnaryServer;
let port: number;
const servers: H2UnaryServer[] = [];
const clients: H2RawClient[] = [];

beforeAll(async () => {
  shared = new H2UnaryServer(BASE);
  port = (await shared.listen({ host: '127.0.0.1', port: 0 })).port;
});

afterAll(async () => {
  await shared.close(0);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const call of held.splice(0)) call.fail(status.CANCELLED, 'test over');
  await Promise.all(servers.splice(0).map((s) => s.close(0)));
});

/** A server of its own for one test (closed after it), with `options` over the shared server's. */
async function startServer(options: Partial<UnaryServerOptions> = {}): Promise<{ server: H2UnaryServer; port: number }> {
  const server = new H2UnaryServer({ ...BASE, ...options });
  servers.push(server);
  return { server, port: (await server.listen({ host: '127.0.0.1', port: 0 })).port };
}

async function open(opts: ConnectOptions = {}, to = port): Promise<H2RawClient> {
  const c = await H2RawClient.connect(to, opts);
  clients.push(c);
  return c;
}

async function until(condition: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const echoBlock = (): Buffer => literalBlock(requestFields(ECHO));

/** Sends a request (HEADERS, then the message as DATA ending the stream) without waiting for the answer. */
async function start(c: H2RawClient, streamId: number, path: string, message: Uint8Array): Promise<void> {
  c.sendHeaders(streamId, literalBlock(requestFields(path)));
  await c.sendData(streamId, grpcMessage(message), { endStream: true });
}

/** HEADERS and part of a message on `streamId` to HOLD: the stream stays open, the method not called. */
function openStream(c: H2RawClient, streamId: number): void {
  c.send(headersFrame(streamId, literalBlock(requestFields(HOLD))), dataFrame(streamId, grpcMessage(Buffer.alloc(100)).subarray(0, 20)));
}

/** A PING answered: the server has read everything sent before it. */
async function roundTrip(c: H2RawClient): Promise<void> {
  const data = randomBytes(8);
  c.send(pingFrame(data));
  await c.nextFrame((f) => f.type === FrameType.PING && (f.flags & Flags.ACK) !== 0 && f.payload.equals(data));
}

function hasGoaway(c: H2RawClient): boolean {
  return c.frames.some(isFrame(FrameType.GOAWAY));
}

function shapeOf(frames: readonly Frame[]): string {
  return frames.map((f) => `${frameTypeName(f.type)}:0x${f.flags.toString(16)}`).join(' ');
}

/**
 * An OK answer, frame by frame: HEADERS, DATA with the message, trailers ending the stream (the
 * server's WINDOW_UPDATEs for the request may come between them).
 */
function expectOk(r: StreamResponse, message: Uint8Array): void {
  const frames = r.frames.filter((f) => f.type !== FrameType.WINDOW_UPDATE);
  const shape = shapeOf(r.frames);
  expect(r.rstCode, `stream ${String(r.streamId)} reset: ${shape}`).toBeUndefined();
  expect(frames.length, shape).toBeGreaterThanOrEqual(3);
  const first = frames[0]!;
  const last = frames[frames.length - 1]!;
  expect(first.type, shape).toBe(FrameType.HEADERS);
  expect(first.flags & Flags.END_STREAM, shape).toBe(0);
  expect(field(r.headers, ':status')).toBe('200');
  expect(field(r.headers, 'content-type')).toBe('application/grpc');
  for (const f of frames.slice(1, -1)) {
    expect(f.type, shape).toBe(FrameType.DATA);
    expect(f.flags & Flags.END_STREAM, shape).toBe(0);
  }
  expect(last.type, shape).toBe(FrameType.HEADERS);
  expect(last.flags & (Flags.END_STREAM | Flags.END_HEADERS), shape).toBe(Flags.END_STREAM | Flags.END_HEADERS);
  expect(field(r.trailers, 'grpc-status')).toBe('0');
  expect(r.data.equals(grpcMessage(message)), `response body of ${String(r.data.length)} bytes`).toBe(true);
}

/**
 * A trailers-only answer: one HEADERS frame with END_STREAM. It may be followed by RST_STREAM
 * NO_ERROR, asking the client to stop sending a request the answer did not need (RFC 9113 §8.1).
 */
function expectTrailersOnly(c: H2RawClient, r: StreamResponse): readonly HeaderField[] {
  const shape = shapeOf(c.streamFrames(r.streamId));
  const frames = r.frames.filter((f) => f.type !== FrameType.WINDOW_UPDATE);
  expect(frames.length, shape).toBe(1);
  expect(frames[0]!.type, shape).toBe(FrameType.HEADERS);
  expect(frames[0]!.flags & Flags.END_STREAM, shape).toBe(Flags.END_STREAM);
  const after = c.streamFrames(r.streamId).slice(c.streamFrames(r.streamId).indexOf(frames[0]!) + 1);
  for (const f of after) {
    expect(frameTypeName(f.type), shape).toBe('RST_STREAM');
    expect(errorName(rstCode(f)), shape).toBe('NO_ERROR');
  }
  expect(r.headers).toBeDefined();
  return r.headers!;
}

/** A call on `streamId` succeeds: the connection is still good. */
async function expectAlive(c: H2RawClient, streamId: number): Promise<void> {
  const message = randomBytes(64);
  expectOk(await c.call(streamId, ECHO, message), message);
  expect(hasGoaway(c), c.summary()).toBe(false);
}

/** GOAWAY with `code` (and `lastStreamId`, when given), then the server closes the connection. */
async function expectConnectionError(c: H2RawClient, code: number, lastStreamId?: number): Promise<Goaway> {
  const f = await c.nextFrame(isFrame(FrameType.GOAWAY));
  expect(f.streamId).toBe(0);
  const g = parseGoaway(f);
  expect(errorName(g.errorCode), c.summary()).toBe(errorName(code));
  if (lastStreamId !== undefined) expect(g.lastStreamId, 'GOAWAY last-stream-id').toBe(lastStreamId);
  await c.waitClosed();
  return g;
}

/** RST_STREAM with `code` on `streamId`, and no GOAWAY. */
async function expectStreamError(c: H2RawClient, streamId: number, code: number): Promise<void> {
  const f = await c.nextFrame((g) => isFrame(FrameType.RST_STREAM, streamId)(g) || g.type === FrameType.GOAWAY);
  expect(frameTypeName(f.type), c.summary()).toBe('RST_STREAM');
  expect(errorName(rstCode(f)), c.summary()).toBe(errorName(code));
}

/** Where RFC 9113 allows either: RST_STREAM on `streamId` or GOAWAY, with one of `codes`. */
async function expectStreamOrConnectionError(c: H2RawClient, streamId: number, ...codes: number[]): Promise<'stream' | 'connection'> {
  const f = await c.nextFrame((g) => isFrame(FrameType.RST_STREAM, streamId)(g) || g.type === FrameType.GOAWAY);
  const code = f.type === FrameType.GOAWAY ? parseGoaway(f).errorCode : rstCode(f);
  expect(codes.map(errorName), c.summary()).toContain(errorName(code));
  if (f.type === FrameType.RST_STREAM) return 'stream';
  await c.waitClosed();
  return 'connection';
}

/** `fields` with `extra` inserted at `at`. */
function withField(fields: readonly HeaderField[], at: number, extra: HeaderField): HeaderField[] {
  return [...fields.slice(0, at), extra, ...fields.slice(at)];
}

/** A header block of `size` bytes exactly: an echo request with a filler field. */
function blockOfSize(size: number): Buffer {
  const base = echoBlock();
  for (let n = Math.max(0, size - base.length - 16); ; n++) {
    const block = Buffer.concat([base, hpackLiteral('x-filler', 'f'.repeat(n))]);
    if (block.length === size) return block;
    if (block.length > size) throw new Error(`no filler makes a block of ${String(size)} bytes`);
  }
}

describe('connection preface and SETTINGS', () => {
  it('sends SETTINGS first, with MAX_CONCURRENT_STREAMS and INITIAL_WINDOW_SIZE, then WINDOW_UPDATE opening the connection window', async () => {
    const c = await open({ handshake: false });
    c.send(PREFACE, settingsFrame());
    const first = await c.nextFrame();
    expect(frameTypeName(first.type), c.summary()).toBe('SETTINGS');
    expect(first.flags & Flags.ACK).toBe(0);
    expect(first.streamId).toBe(0);
    expect(first.payload.length % 6).toBe(0);
    const settings = new Map(parseSettings(first));
    expect(settings.get(Setting.MAX_CONCURRENT_STREAMS)).toBe(MAX_STREAMS);
    expect(settings.get(Setting.INITIAL_WINDOW_SIZE)).toBe(STREAM_WINDOW);
    const update = await c.nextFrame(isFrame(FrameType.WINDOW_UPDATE, 0));
    expect(windowIncrement(update)).toBe(CONNECTION_WINDOW - DEFAULT_WINDOW);
  });

  it('sends no WINDOW_UPDATE on the connection when connectionWindowBytes is not above 65535', async () => {
    const small = await startServer({ connectionWindowBytes: DEFAULT_WINDOW });
    const c = await open({}, small.port);
    await roundTrip(c);
    expect(c.frames.filter(isFrame(FrameType.WINDOW_UPDATE, 0))).toEqual([]);
    await expectAlive(c, 1);
  });

  it('closes a connection that sends no preface within prefaceTimeoutMs, with GOAWAY PROTOCOL_ERROR', async () => {
    const quick = await startServer({ prefaceTimeoutMs: 150 });
    const c = await open({ handshake: false, autoAck: false }, quick.port);
    // Part of the preface, then nothing.
    c.send(PREFACE.subarray(0, 10));
    const goaway = await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
    expect(goaway.debug).toContain('no client preface within 150 ms');
  });

  it('keeps a connection whose preface came in time, however long it then stays idle', async () => {
    const quick = await startServer({ prefaceTimeoutMs: 150 });
    const c = await open({}, quick.port);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(c.closed).toBe(false);
    await expectAlive(c, 1);
  });

  it('acknowledges each client SETTINGS with an empty SETTINGS ACK', async () => {
    const c = await open({ handshake: false });
    c.send(PREFACE, settingsFrame([[Setting.INITIAL_WINDOW_SIZE, 100_000], [Setting.MAX_FRAME_SIZE, 32_768]]));
    const isAck = (f: Frame): boolean => f.type === FrameType.SETTINGS && (f.flags & Flags.ACK) !== 0;
    const ack = await c.nextFrame(isAck);
    expect(ack.streamId).toBe(0);
    expect(ack.payload.length).toBe(0);
    c.send(settingsFrame([[Setting.HEADER_TABLE_SIZE, 4096]]));
    const again = await c.nextFrame(isAck);
    expect(again.payload.length).toBe(0);
    // An empty SETTINGS is acknowledged too.
    c.send(settingsFrame());
    expect((await c.nextFrame(isAck)).payload.length).toBe(0);
    await expectAlive(c, 1);
  });

  it('answers PING with a PING ACK carrying the same 8 bytes', async () => {
    const c = await open();
    const data = randomBytes(8);
    c.send(pingFrame(data));
    const pong = await c.nextFrame(isFrame(FrameType.PING));
    expect(pong.flags & Flags.ACK).toBe(Flags.ACK);
    expect(pong.streamId).toBe(0);
    expect(pong.payload).toEqual(data);
  });
});

describe('gRPC calls', () => {
  it('answers a call with HEADERS, DATA holding the prefixed message, and grpc-status 0 trailers', async () => {
    const c = await open();
    const message = Buffer.from('hello, frames');
    expectOk(await c.call(1, ECHO, message), message);
    // An empty message is still one message.
    expectOk(await c.call(3, ECHO, Buffer.alloc(0)), Buffer.alloc(0));
  });

  it('answers an unknown path UNIMPLEMENTED in one HEADERS with END_STREAM', async () => {
    const c = await open();
    const fields = expectTrailersOnly(c, await c.call(1, '/test.Echo/Nope', Buffer.from('x')));
    expect(field(fields, ':status')).toBe('200');
    expect(field(fields, 'content-type')).toBe('application/grpc');
    expect(field(fields, 'grpc-status')).toBe(String(status.UNIMPLEMENTED));
    await expectAlive(c, 3);
  });

  it('answers a content-type other than application/grpc with HTTP 415 in one HEADERS with END_STREAM', async () => {
    const c = await open();
    const fields = requestFields(ECHO).map(([n, v]): HeaderField => [n, n === 'content-type' ? 'application/json' : v]);
    const answer = expectTrailersOnly(c, await c.call(1, ECHO, Buffer.from('{}'), { fields }));
    expect(field(answer, ':status')).toBe('415');
    await expectAlive(c, 3);
  });

  it('takes padded DATA frames', async () => {
    const c = await open();
    for (const [i, padLength] of [0, 17, 255].entries()) {
      const message = randomBytes(300);
      expectOk(await c.call(1 + 2 * i, ECHO, message, { padLength, frameSize: 100 }), message);
    }
  });

  it('takes padded HEADERS frames', async () => {
    const c = await open();
    for (const [i, padLength] of [0, 32, 255].entries()) {
      const message = randomBytes(10);
      expectOk(await c.call(1 + 2 * i, ECHO, message, { headers: { padLength } }), message);
    }
  });

  it('takes HEADERS with the PRIORITY flag, padded or not', async () => {
    const c = await open();
    const message = randomBytes(10);
    expectOk(await c.call(1, ECHO, message, { headers: { priority: { dependency: 0, weight: 15 } } }), message);
    expectOk(await c.call(3, ECHO, message, { headers: { priority: { dependency: 1, weight: 255, exclusive: true }, padLength: 8 } }), message);
  });

  it('reassembles a header block split over HEADERS and several CONTINUATION frames', async () => {
    const c = await open();
    const block = literalBlock(requestFields(ECHO, [['x-filler', 'f'.repeat(300)]]));
    // Cut inside field representations, with a one-byte and an empty fragment among them.
    const cuts = [0, 7, 7, 100, 101, 250, block.length];
    const pieces = cuts.slice(1).map((end, i) => block.subarray(cuts[i], end));
    const message = randomBytes(50);
    c.send(
      headersFrame(1, pieces[0]!, { endHeaders: false }),
      ...pieces.slice(1).map((p, i) => continuationFrame(1, p, i === pieces.length - 2)),
      dataFrame(1, grpcMessage(message), { endStream: true }),
    );
    expectOk(await c.response(1), message);
  });

  it('reads a connection written one byte per socket write', async () => {
    const c = await open({ handshake: false });
    const message = randomBytes(200);
    const bytes = Buffer.concat([PREFACE, settingsFrame(), headersFrame(1, echoBlock()), dataFrame(1, grpcMessage(message), { endStream: true })]);
    await c.writeChunked(bytes, 1);
    expectOk(await c.response(1), message);
    await expectAlive(c, 3);
  });

  it('reassembles a message split over many DATA frames, the prefix itself split, with an empty frame among them', async () => {
    const c = await open();
    const message = randomBytes(3000);
    const framed = grpcMessage(message);
    const frames = [dataFrame(1, framed.subarray(0, 2)), dataFrame(1, framed.subarray(2, 5)), dataFrame(1)];
    for (let at = 5; at < framed.length; at += 97) frames.push(dataFrame(1, framed.subarray(at, at + 97), { endStream: at + 97 >= framed.length }));
    c.send(headersFrame(1, echoBlock()), ...frames);
    expectOk(await c.response(1), message);
  });

  it('decodes Huffman-coded, incrementally indexed request headers over several calls on one connection', async () => {
    const c = await open();
    // 700-byte values: the 4096-byte dynamic table evicts as the calls go on.
    for (let i = 0; i < 8; i++) {
      const fields = requestFields(META, [
        ['x-call', String(i)],
        ['x-pad', String(i % 10).repeat(700)],
      ]);
      const block = encodeHeaderBlock(
        fields.map(([n, v]): [string, string] => [n, v]),
        { huffman: true, index: true },
      );
      const r = await c.call(1 + 2 * i, META, Buffer.alloc(0), { block });
      expect(field(r.trailers, 'grpc-status'), c.summary()).toBe('0');
      const [answer] = grpcMessages(r.data);
      expect(JSON.parse(answer!.toString('utf8'))).toEqual({ 'x-call': [String(i)], 'x-pad': [700], 'custom-key': [] });
    }
  });

  it('resolves static and dynamic table references, Huffman strings and table size updates (RFC 7541 C.4 strings)', async () => {
    const c = await open();
    const limit = c.serverSettings.get(Setting.HEADER_TABLE_SIZE) ?? 4096;
    expect(limit, 'the server leaves room in its dynamic table for five entries').toBeGreaterThanOrEqual(300);
    const authority = { huffman: Buffer.from('f1e3c2e5f23a6ba0ab90f4ff', 'hex') }; // "www.example.com"
    const customKey = { huffman: Buffer.from('25a849e95ba97d7f', 'hex') }; // "custom-key"
    const customValue = { huffman: Buffer.from('25a849e95bb8e8b4bf', 'hex') }; // "custom-value"
    const ask = async (streamId: number, block: Buffer): Promise<unknown> => {
      const r = await c.call(streamId, META, Buffer.alloc(0), { block });
      expect(field(r.trailers, 'grpc-status'), c.summary()).toBe('0');
      return JSON.parse(grpcMessages(r.data)[0]!.toString('utf8'));
    };
    const first = Buffer.concat([
      hpackIndexed(3), // :method POST
      hpackIndexed(6), // :scheme http
      hpackLiteral(4, META, 'incremental'), // :path
      hpackLiteral(1, authority, 'incremental'), // :authority
      hpackLiteral(31, 'application/grpc', 'incremental'), // content-type
      hpackLiteral('te', 'trailers', 'incremental'),
      hpackLiteral(customKey, customValue, 'incremental'),
    ]);
    expect(await ask(1, first)).toEqual({ 'x-call': [], 'x-pad': [], 'custom-key': ['custom-value'] });
    // Newest first: 62 custom-key, 63 te, 64 content-type, 65 :authority, 66 :path.
    const second = Buffer.concat([hpackIndexed(3), hpackIndexed(6), hpackIndexed(66), hpackIndexed(65), hpackIndexed(64), hpackIndexed(63), hpackIndexed(62)]);
    expect(await ask(3, second)).toEqual({ 'x-call': [], 'x-pad': [], 'custom-key': ['custom-value'] });
    // Two size updates (empty the table, then back to the limit), a name from the static table, never-indexed.
    const third = Buffer.concat([
      hpackSizeUpdate(0),
      hpackSizeUpdate(limit),
      hpackIndexed(3),
      hpackIndexed(6),
      hpackLiteral(4, META, 'without'),
      hpackLiteral(1, '127.0.0.1', 'without'),
      hpackLiteral(31, 'application/grpc', 'never'),
      hpackLiteral('te', 'trailers'),
      hpackLiteral('custom-key', 'again', 'incremental'),
    ]);
    expect(await ask(5, third)).toEqual({ 'x-call': [], 'x-pad': [], 'custom-key': ['again'] });
    // The table now holds only custom-key: again, at 62; a literal with its name indexed from there.
    const fourth = Buffer.concat([hpackIndexed(3), hpackIndexed(6), hpackLiteral(4, META), hpackLiteral(1, '127.0.0.1'), hpackLiteral(31, 'application/grpc'), hpackLiteral('te', 'trailers'), hpackIndexed(62), hpackLiteral(62, 'more')]);
    expect(await ask(7, fourth)).toEqual({ 'x-call': [], 'x-pad': [], 'custom-key': ['again', 'more'] });
  });

  it('serves interleaved streams', async () => {
    const c = await open();
    const a = grpcMessage(randomBytes(1000));
    const b = grpcMessage(randomBytes(1500));
    c.send(
      headersFrame(1, echoBlock()),
      headersFrame(3, echoBlock()),
      dataFrame(1, a.subarray(0, 300)),
      dataFrame(3, b.subarray(0, 700)),
      dataFrame(1, a.subarray(300), { endStream: true }),
      dataFrame(3, b.subarray(700), { endStream: true }),
    );
    const [r1, r3] = await Promise.all([c.response(1), c.response(3)]);
    expectOk(r1, a.subarray(5));
    expectOk(r3, b.subarray(5));
  });

  it('takes an empty DATA frame with END_STREAM after the message', async () => {
    const c = await open();
    const message = randomBytes(100);
    c.send(headersFrame(1, echoBlock()), dataFrame(1, grpcMessage(message)), dataFrame(1, Buffer.alloc(0), { endStream: true }));
    expectOk(await c.response(1), message);
  });
});

describe('connection errors: GOAWAY with the code, then the socket closes', () => {
  it('answers a bad connection preface with PROTOCOL_ERROR', async () => {
    const c = await open({ handshake: false });
    c.send(Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n', 'latin1'), settingsFrame());
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR, 0);
  });

  it.each(['GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n', 'GET / HTTP/1.0\r\n\r\n'])('closes a connection that opens with an HTTP/1 request (%j), not leaving it hanging', async (request) => {
    const c = await open({ handshake: false });
    c.send(Buffer.from(request, 'latin1'));
    await c.waitClosed();
  });

  it.each([
    ['PING', () => pingFrame()],
    ['HEADERS', () => headersFrame(1, echoBlock(), { endStream: true })],
    ['WINDOW_UPDATE', () => windowUpdateFrame(0, 1000)],
  ])('answers a first frame that is not SETTINGS (%s) with PROTOCOL_ERROR', async (_, first) => {
    const c = await open({ handshake: false });
    c.send(PREFACE, first());
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR, 0);
  });

  it('answers a HEADERS frame longer than SETTINGS_MAX_FRAME_SIZE with FRAME_SIZE_ERROR', async () => {
    const c = await open();
    c.send(headersFrame(1, blockOfSize(c.maxFrameSize + 1), { endStream: true }));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('answers a frame of unknown type on stream 0 longer than SETTINGS_MAX_FRAME_SIZE with FRAME_SIZE_ERROR', async () => {
    const c = await open();
    c.send(unknownFrame(0x42, 0, 0, Buffer.alloc(c.maxFrameSize + 1)));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('answers a DATA frame longer than SETTINGS_MAX_FRAME_SIZE with FRAME_SIZE_ERROR (stream or connection)', async () => {
    const c = await open();
    c.send(headersFrame(1, echoBlock()), dataFrame(1, Buffer.alloc(c.maxFrameSize + 1), { endStream: true }));
    await expectStreamOrConnectionError(c, 1, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('answers HEADERS on an even stream id with PROTOCOL_ERROR; last-stream-id is the last call', async () => {
    const c = await open();
    await expectAlive(c, 1);
    c.send(headersFrame(2, echoBlock(), { endStream: true }));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR, 1);
  });

  it('answers HEADERS on a stream id lower than a previous one with PROTOCOL_ERROR', async () => {
    const c = await open();
    await expectAlive(c, 5);
    c.send(headersFrame(3, echoBlock(), { endStream: true }));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR, 5);
  });

  it('answers HEADERS reusing the id of a finished stream with PROTOCOL_ERROR or STREAM_CLOSED', async () => {
    const c = await open();
    await expectAlive(c, 1);
    c.send(headersFrame(1, echoBlock(), { endStream: true }));
    const f = await c.nextFrame((g) => g.type === FrameType.GOAWAY || isFrame(FrameType.RST_STREAM, 1)(g));
    // RFC 9113 §5.1 (closed) allows a stream error STREAM_CLOSED too; §5.1.1 reads as a connection error.
    const code = f.type === FrameType.GOAWAY ? parseGoaway(f).errorCode : rstCode(f);
    expect([ErrorCode.PROTOCOL_ERROR, ErrorCode.STREAM_CLOSED].map(errorName), c.summary()).toContain(errorName(code));
  });

  it.each([
    ['PING', () => [pingFrame()]],
    ['DATA on the same stream', () => [dataFrame(1, grpcMessage(Buffer.from('x')), { endStream: true })]],
    ['HEADERS on another stream', () => [headersFrame(3, echoBlock(), { endStream: true })]],
    ['CONTINUATION on another stream', () => [continuationFrame(3, echoBlock().subarray(10))]],
  ])('answers %s where a CONTINUATION was expected with PROTOCOL_ERROR', async (_, after) => {
    const c = await open();
    c.send(headersFrame(1, echoBlock().subarray(0, 10), { endHeaders: false }), ...after());
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('answers CONTINUATION without a HEADERS before it with PROTOCOL_ERROR', async () => {
    const c = await open();
    c.send(continuationFrame(1, echoBlock()));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR, 0);
  });

  it('answers CONTINUATION after a HEADERS that had END_HEADERS with PROTOCOL_ERROR', async () => {
    const c = await open();
    c.send(headersFrame(1, echoBlock()), continuationFrame(1, literalBlock([['x-more', '1']])));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  const valid = (): Buffer => Buffer.concat([hpackIndexed(3), hpackIndexed(6)]);
  const huffmanValue = (octets: number[]): Buffer => Buffer.concat([valid(), hpackLiteral('x-h', { huffman: Buffer.from(octets) })]);
  it.each<[string, (limit: number) => Buffer]>([
    ['index 0', () => Buffer.concat([valid(), hpackIndexed(0)])],
    ['an index past the static table with the dynamic table empty', () => Buffer.concat([valid(), hpackIndexed(62)])],
    ['a far index', () => Buffer.concat([valid(), hpackIndexed(100_000)])],
    ['a literal naming an index past the tables', () => Buffer.concat([valid(), hpackLiteral(70, 'x')])],
    ['a string longer than the block', () => Buffer.concat([valid(), Buffer.from([0x00, 0x05, 0x61])])],
    ['an integer cut off', () => Buffer.concat([valid(), Buffer.from([0xff, 0xff, 0xff])])],
    ['an integer past 2^53', () => Buffer.concat([valid(), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])])],
    ['a table size update above SETTINGS_HEADER_TABLE_SIZE', (limit) => Buffer.concat([hpackSizeUpdate(limit + 1), valid()])],
    ['a table size update after a field', () => Buffer.concat([valid(), hpackSizeUpdate(0)])],
    ['Huffman padding longer than 7 bits', () => huffmanValue([0x1f, 0xff])],
    ['Huffman padding that is not the EOS prefix', () => huffmanValue([0x18])],
    ['a Huffman string holding EOS', () => huffmanValue([0xff, 0xff, 0xff, 0xff])],
  ])('answers an undecodable header block (%s) with COMPRESSION_ERROR', async (_, block) => {
    const c = await open();
    c.send(headersFrame(1, block(c.serverSettings.get(Setting.HEADER_TABLE_SIZE) ?? 4096), { endStream: true }));
    await expectConnectionError(c, ErrorCode.COMPRESSION_ERROR);
  });

  it('answers a reference to a dynamic table entry a size update evicted with COMPRESSION_ERROR', async () => {
    const c = await open();
    const indexing = Buffer.concat([literalBlock(requestFields(META)), hpackLiteral('custom-key', 'v', 'incremental')]);
    const r = await c.call(1, META, Buffer.alloc(0), { block: indexing });
    expect(field(r.trailers, 'grpc-status')).toBe('0');
    c.send(headersFrame(3, Buffer.concat([hpackSizeUpdate(0), literalBlock(requestFields(META)), hpackIndexed(62)]), { endStream: true }));
    await expectConnectionError(c, ErrorCode.COMPRESSION_ERROR);
  });

  it('answers DATA on stream 0 with PROTOCOL_ERROR', async () => {
    const c = await open();
    c.send(dataFrame(0, Buffer.from('x')));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR, 0);
  });

  it('answers DATA on an idle stream with PROTOCOL_ERROR', async () => {
    const c = await open();
    c.send(dataFrame(1, grpcMessage(Buffer.from('x')), { endStream: true }));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR, 0);
    const d = await open();
    await expectAlive(d, 1);
    d.send(dataFrame(5, grpcMessage(Buffer.from('x')), { endStream: true }));
    await expectConnectionError(d, ErrorCode.PROTOCOL_ERROR, 1);
  });

  it('answers DATA past the connection window with FLOW_CONTROL_ERROR', async () => {
    // A 65535-byte connection window (the initial one: connectionWindowBytes no more than that),
    // streams far wider, and a message declared 2 MiB long to a method that never answers.
    const small = await startServer({ connectionWindowBytes: DEFAULT_WINDOW, streamWindowBytes: 1 << 22, maxMessageBytes: 1 << 22 });
    const c = await open({}, small.port);
    const bytes = grpcMessage(Buffer.alloc(1 << 21));
    c.sendHeaders(1, literalBlock(requestFields(HOLD)));
    // Some of the window used, within it; once the PING is answered, every WINDOW_UPDATE the server
    // sent for it has arrived, so the client knows what is left of the window as the server sees it.
    await c.sendData(1, bytes.subarray(0, 30_000));
    await roundTrip(c);
    const left = c.connectionSendWindow;
    // Then one byte more than that, in one write (of less than 64 KiB: one read for the server).
    const frames: Buffer[] = [];
    let at = 30_000;
    for (let sent = 0; sent <= left; ) {
      const size = Math.min(c.maxFrameSize, left + 1 - sent);
      frames.push(dataFrame(1, bytes.subarray(at, at + size)));
      at += size;
      sent += size;
    }
    c.send(...frames);
    await expectConnectionError(c, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('answers WINDOW_UPDATE with increment 0 on stream 0 with PROTOCOL_ERROR', async () => {
    const c = await open();
    c.send(windowUpdateFrame(0, 0));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR, 0);
  });

  it('answers a WINDOW_UPDATE taking the connection send window past 2^31-1 with FLOW_CONTROL_ERROR', async () => {
    const c = await open();
    // The server's window for what it sends starts at 65535: the first brings it to 2^31-1 exactly.
    c.send(windowUpdateFrame(0, MAX_WINDOW - DEFAULT_WINDOW), windowUpdateFrame(0, 1));
    await expectConnectionError(c, ErrorCode.FLOW_CONTROL_ERROR, 0);
  });

  it.each<[string, Buffer, number]>([
    ['INITIAL_WINDOW_SIZE above 2^31-1', settingsFrame([[Setting.INITIAL_WINDOW_SIZE, 2 ** 31]]), ErrorCode.FLOW_CONTROL_ERROR],
    ['MAX_FRAME_SIZE below 16384', settingsFrame([[Setting.MAX_FRAME_SIZE, 16_383]]), ErrorCode.PROTOCOL_ERROR],
    ['MAX_FRAME_SIZE above 2^24-1', settingsFrame([[Setting.MAX_FRAME_SIZE, 2 ** 24]]), ErrorCode.PROTOCOL_ERROR],
    ['a payload of 7 bytes', frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(7)), ErrorCode.FRAME_SIZE_ERROR],
    ['a payload of 3 bytes', frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(3)), ErrorCode.FRAME_SIZE_ERROR],
    ['an ACK with a payload', settingsAckFrame(Buffer.alloc(6)), ErrorCode.FRAME_SIZE_ERROR],
    ['stream 1', settingsFrame([], 1), ErrorCode.PROTOCOL_ERROR],
  ])('answers SETTINGS with %s with its error code', async (_, settings, code) => {
    const c = await open();
    c.send(settings);
    await expectConnectionError(c, code, 0);
  });

  it.each([7, 9, 0])('answers a PING of %i bytes with FRAME_SIZE_ERROR', async (length) => {
    const c = await open();
    c.send(pingFrame(Buffer.alloc(length)));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR, 0);
  });

  it('answers PUSH_PROMISE from the client with PROTOCOL_ERROR', async () => {
    const c = await open();
    openStream(c, 1);
    c.send(pushPromiseFrame(1, 2, echoBlock()));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });
});

describe('stream errors: RST_STREAM with the code, the connection goes on', () => {
  it('refuses a stream beyond SETTINGS_MAX_CONCURRENT_STREAMS with REFUSED_STREAM', async () => {
    const two = await startServer({ maxConcurrentStreams: 2 });
    const c = await open({}, two.port);
    expect(c.serverSettings.get(Setting.MAX_CONCURRENT_STREAMS)).toBe(2);
    await start(c, 1, HOLD, Buffer.from('one'));
    await start(c, 3, HOLD, Buffer.from('two'));
    await until(() => held.length === 2, 'two held calls');
    // Its DATA follows at once: the server must ignore DATA on the stream it has just reset.
    await start(c, 5, ECHO, Buffer.from('three'));
    await expectStreamError(c, 5, ErrorCode.REFUSED_STREAM);
    held.shift()!.ok(Buffer.from('first answer'));
    expectOk(await c.response(1), Buffer.from('first answer'));
    await expectAlive(c, 7);
    held.shift()!.ok(Buffer.from('second answer'));
    expectOk(await c.response(3), Buffer.from('second answer'));
  });

  it('answers WINDOW_UPDATE with increment 0 on an open stream with PROTOCOL_ERROR', async () => {
    const c = await open();
    openStream(c, 1);
    c.send(windowUpdateFrame(1, 0));
    await expectStreamError(c, 1, ErrorCode.PROTOCOL_ERROR);
    await expectAlive(c, 3);
  });

  it.each<[string, () => HeaderField[]]>([
    ['an uppercase field name', () => requestFields(ECHO, [['X-Upper', '1']])],
    ['no :path', () => requestFields(ECHO).filter(([n]) => n !== ':path')],
    ['a pseudo-header after a regular field', () => [...requestFields(ECHO).filter(([n]) => n !== ':authority'), [':authority', '127.0.0.1']]],
    ['an unknown pseudo-header', () => withField(requestFields(ECHO), 2, [':foo', 'bar'])],
  ])('answers a request with %s with PROTOCOL_ERROR', async (_, fields) => {
    const c = await open();
    // The DATA that follows arrives after the reset and must be ignored.
    c.send(headersFrame(1, literalBlock(fields())), dataFrame(1, grpcMessage(Buffer.from('x')), { endStream: true }));
    await expectStreamError(c, 1, ErrorCode.PROTOCOL_ERROR);
    await expectAlive(c, 3);
  });

  it('answers a second HEADERS (trailers) without END_STREAM with PROTOCOL_ERROR', async () => {
    const c = await open();
    c.send(headersFrame(1, echoBlock()), dataFrame(1, grpcMessage(Buffer.from('x'))), headersFrame(1, literalBlock([['x-trailer', '1']])));
    await expectStreamError(c, 1, ErrorCode.PROTOCOL_ERROR);
    await expectAlive(c, 3);
  });
});

describe('RST_STREAM from the client', () => {
  it('drops a call reset while its message is arriving; other calls go on', async () => {
    const c = await open();
    openStream(c, 1);
    c.send(rstStreamFrame(1, ErrorCode.CANCEL));
    await expectAlive(c, 3);
    expect(held).toHaveLength(0);
    expect(c.streamFrames(1).map((f) => frameTypeName(f.type))).toEqual([]);
  });

  it('sends nothing for a call reset after its method took it', async () => {
    const c = await open();
    await start(c, 1, HOLD, Buffer.from('held'));
    await until(() => held.length === 1, 'the held call');
    c.send(rstStreamFrame(1, ErrorCode.CANCEL));
    await roundTrip(c);
    held.shift()!.ok(Buffer.from('too late'));
    await expectAlive(c, 3);
    await roundTrip(c);
    expect(c.streamFrames(1).map((f) => frameTypeName(f.type))).toEqual([]);
  });
});

describe('flow control of responses', () => {
  it('sends response HEADERS but no DATA until the client opens the stream window', async () => {
    const c = await open({ settings: [[Setting.INITIAL_WINDOW_SIZE, 0]], autoWindow: false });
    const message = randomBytes(100);
    const framed = grpcMessage(message);
    await start(c, 1, ECHO, message);
    const headers = await c.nextFrame(isFrame(FrameType.HEADERS, 1));
    expect(field(headers.fields, ':status')).toBe('200');
    expect(headers.flags & Flags.END_STREAM).toBe(0);
    expect(await c.pollFrame(isFrame(FrameType.DATA, 1), 200), c.summary()).toBeUndefined();
    // A window of 3: at most 3 bytes (the server may also wait for more).
    c.send(windowUpdateFrame(1, 3));
    await roundTrip(c);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const early = c.streamFrames(1).filter(isFrame(FrameType.DATA));
    expect(early.reduce((n, f) => n + f.payload.length, 0), c.summary()).toBeLessThanOrEqual(3);
    expect(c.streamFrames(1).filter((f) => (f.flags & Flags.END_STREAM) !== 0)).toEqual([]);
    c.send(windowUpdateFrame(1, framed.length - 3));
    expectOk(await c.response(1), message);
  });

  it('keeps DATA frames within the client SETTINGS_MAX_FRAME_SIZE: a 40 KB answer comes in 3 or more', async () => {
    const c = await open();
    const message = randomBytes(40 * 1024);
    const r = await c.call(1, ECHO, message);
    expectOk(r, message);
    const data = r.frames.filter(isFrame(FrameType.DATA));
    expect(data.length).toBeGreaterThanOrEqual(3);
    for (const f of data) expect(f.payload.length).toBeLessThanOrEqual(16_384);
  });
});

describe('the connection receive window', () => {
  it('is given back: calls totalling several connection windows succeed on one connection', async () => {
    const window = 128 * 1024;
    const replenishing = await startServer({ connectionWindowBytes: window, streamWindowBytes: 64 * 1024 });
    const c = await open({}, replenishing.port);
    const messages = Array.from({ length: 16 }, () => randomBytes(48 * 1024));
    for (let i = 0; i < messages.length; i += 4) {
      const batch = messages.slice(i, i + 4);
      const answers = await Promise.all(batch.map((m, j) => c.call(1 + 2 * (i + j), ECHO, m)));
      answers.forEach((r, j) => expectOk(r, batch[j]!));
    }
    const updates = c.frames.filter(isFrame(FrameType.WINDOW_UPDATE, 0));
    // The first opens the window; the rest give back what was read.
    expect(updates.length, c.summary()).toBeGreaterThanOrEqual(2);
    const sent = messages.reduce((n, m) => n + m.length + 5, 0);
    expect(DEFAULT_WINDOW + updates.reduce((n, f) => n + windowIncrement(f), 0)).toBeGreaterThanOrEqual(sent);
  });
});

describe('frames to ignore', () => {
  it('ignores frames of unknown types and PRIORITY frames', async () => {
    const c = await open();
    c.send(unknownFrame(0x42, 0xff, 0, Buffer.from('ignore me')), priorityFrame(1, { dependency: 0, weight: 16 }));
    c.send(headersFrame(1, echoBlock()), unknownFrame(0xfa, 0, 1, Buffer.alloc(100)), priorityFrame(1, { dependency: 0, weight: 200, exclusive: true }));
    // PRIORITY on an idle stream does not open it, nor close the idle streams below it.
    c.send(priorityFrame(9, { dependency: 1, weight: 1 }), unknownFrame(0xee, 0, 13, Buffer.alloc(3)));
    const message = randomBytes(50);
    await c.sendData(1, grpcMessage(message), { endStream: true });
    expectOk(await c.response(1), message);
    // PRIORITY on a closed stream.
    c.send(priorityFrame(1, { dependency: 0, weight: 7 }));
    await roundTrip(c);
    await expectAlive(c, 3);
    expect(c.frames.filter((f) => f.type === FrameType.RST_STREAM || f.type === FrameType.GOAWAY).map(describeFrame), c.summary()).toEqual([]);
  });
});

describe('graceful close', () => {
  it('sends GOAWAY NO_ERROR, lets the call in flight finish, then closes the connection', async () => {
    const { server, port: own } = await startServer();
    const c = await open({}, own);
    await start(c, 1, HOLD, Buffer.from('in flight'));
    await until(() => held.length === 1, 'the held call');
    const closing = server.close(2_000);
    const goaway = parseGoaway(await c.nextFrame(isFrame(FrameType.GOAWAY)));
    expect(errorName(goaway.errorCode)).toBe('NO_ERROR');
    expect(goaway.lastStreamId).toBeGreaterThanOrEqual(1);
    expect(c.closed).toBe(false);
    held.shift()!.ok(Buffer.from('finished'));
    expectOk(await c.response(1), Buffer.from('finished'));
    await c.waitClosed();
    await closing;
  });
});

describe('other requirements of RFC 9113 and RFC 7541', () => {
  it('answers padding as long as the DATA payload with PROTOCOL_ERROR', async () => {
    const c = await open();
    c.send(headersFrame(1, echoBlock()), frame(FrameType.DATA, Flags.PADDED | Flags.END_STREAM, 1, Buffer.from([4, 1, 2, 3])));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('answers padding longer than the HEADERS payload with PROTOCOL_ERROR', async () => {
    const c = await open();
    const block = echoBlock();
    c.send(frame(FrameType.HEADERS, Flags.PADDED | Flags.END_HEADERS | Flags.END_STREAM, 1, Buffer.concat([Buffer.from([block.length + 1]), block])));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it('ignores SETTINGS it does not know', async () => {
    const c = await open();
    c.send(settingsFrame([[0x99, 7], [0x4242, 0xffff_ffff]]));
    const ack = await c.nextFrame((f) => f.type === FrameType.SETTINGS && (f.flags & Flags.ACK) !== 0);
    expect(ack.payload.length).toBe(0);
    await expectAlive(c, 1);
  });

  it('answers SETTINGS_ENABLE_PUSH other than 0 or 1 with PROTOCOL_ERROR', async () => {
    const c = await open();
    c.send(settingsFrame([[Setting.ENABLE_PUSH, 2]]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR, 0);
  });

  it('answers a SETTINGS_INITIAL_WINDOW_SIZE that takes an open stream window past 2^31-1 with FLOW_CONTROL_ERROR', async () => {
    const c = await open();
    openStream(c, 1);
    // The server's window for sending on stream 1: 65535 + this = 2^31-1, the most allowed.
    c.send(windowUpdateFrame(1, MAX_WINDOW - DEFAULT_WINDOW));
    await roundTrip(c);
    c.send(settingsFrame([[Setting.INITIAL_WINDOW_SIZE, DEFAULT_WINDOW + 1]]));
    await expectConnectionError(c, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('answers PING on a stream other than 0 with PROTOCOL_ERROR', async () => {
    const c = await open();
    c.send(pingFrame(Buffer.alloc(8), false, 1));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR, 0);
  });

  it('does not answer a PING ACK', async () => {
    const c = await open();
    const unsolicited = Buffer.from('unasked!');
    const asked = Buffer.from('asked...');
    c.send(pingFrame(unsolicited, true), pingFrame(asked));
    const pong = await c.nextFrame(isFrame(FrameType.PING));
    expect(pong.payload.toString('latin1')).toBe('asked...');
    expect(await c.pollFrame(isFrame(FrameType.PING), 100)).toBeUndefined();
  });

  it.each<[string, (c: H2RawClient) => void, number]>([
    ['on an idle stream', (c) => c.send(rstStreamFrame(1, ErrorCode.CANCEL)), ErrorCode.PROTOCOL_ERROR],
    ['on stream 0', (c) => c.send(rstStreamFrame(0, ErrorCode.CANCEL)), ErrorCode.PROTOCOL_ERROR],
    [
      'of 3 bytes',
      (c) => {
        openStream(c, 1);
        c.send(frame(FrameType.RST_STREAM, 0, 1, Buffer.alloc(3)));
      },
      ErrorCode.FRAME_SIZE_ERROR,
    ],
  ])('answers RST_STREAM %s with its error code', async (_, send, code) => {
    const c = await open();
    send(c);
    await expectConnectionError(c, code);
  });

  it('answers WINDOW_UPDATE of 3 bytes with FRAME_SIZE_ERROR', async () => {
    const c = await open();
    c.send(frame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.from([0, 0, 1])));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR, 0);
  });

  it('answers a WINDOW_UPDATE taking a stream send window past 2^31-1 with RST_STREAM FLOW_CONTROL_ERROR', async () => {
    const c = await open();
    openStream(c, 1);
    c.send(windowUpdateFrame(1, MAX_WINDOW));
    await expectStreamError(c, 1, ErrorCode.FLOW_CONTROL_ERROR);
    await expectAlive(c, 3);
  });

  it('answers HEADERS on stream 0 with PROTOCOL_ERROR', async () => {
    const c = await open();
    c.send(headersFrame(0, echoBlock(), { endStream: true }));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR, 0);
  });

  it('answers a PRIORITY frame of 4 bytes with FRAME_SIZE_ERROR', async () => {
    const c = await open();
    openStream(c, 1);
    c.send(frame(FrameType.PRIORITY, 0, 1, Buffer.alloc(4)));
    // §6.3: a stream error.
    await expectStreamError(c, 1, ErrorCode.FRAME_SIZE_ERROR);
  });

  it('answers DATA on a half-closed (remote) stream with STREAM_CLOSED', async () => {
    const c = await open();
    await start(c, 1, HOLD, Buffer.from('held'));
    await until(() => held.length === 1, 'the held call');
    c.send(dataFrame(1, Buffer.from('more')));
    await expectStreamOrConnectionError(c, 1, ErrorCode.STREAM_CLOSED);
  });

  it('answers DATA past the stream window with FLOW_CONTROL_ERROR', async () => {
    const narrow = await startServer({ streamWindowBytes: 1000 });
    const c = await open({}, narrow.port);
    expect(c.streamSendWindow(1)).toBe(1000);
    c.send(headersFrame(1, echoBlock()), dataFrame(1, grpcMessage(Buffer.alloc(1200)), { endStream: true }));
    await expectStreamOrConnectionError(c, 1, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('sends response DATA only within the connection window', async () => {
    const c = await open({ settings: [[Setting.INITIAL_WINDOW_SIZE, 1 << 20]], autoWindow: false });
    const message = randomBytes(100_000);
    await start(c, 1, ECHO, message);
    let received = 0;
    for (let f = await c.pollFrame(isFrame(FrameType.DATA, 1), 300); f !== undefined; f = await c.pollFrame(isFrame(FrameType.DATA, 1), 200)) received += f.payload.length;
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThanOrEqual(DEFAULT_WINDOW);
    expect(c.streamFrames(1).filter((f) => (f.flags & Flags.END_STREAM) !== 0)).toEqual([]);
    c.send(windowUpdateFrame(0, 1 << 20));
    expectOk(await c.response(1), message);
  });

  it('takes request trailers that end the stream', async () => {
    const c = await open();
    const message = randomBytes(30);
    c.send(headersFrame(1, echoBlock()), dataFrame(1, grpcMessage(message)), headersFrame(1, literalBlock([['x-trailer', '1']]), { endStream: true }));
    expectOk(await c.response(1), message);
  });

  it.each<[string, () => { fields: HeaderField[]; trailers?: HeaderField[] }]>([
    ['a connection-specific field', () => ({ fields: requestFields(ECHO, [['connection', 'keep-alive']]) })],
    ['te other than trailers', () => ({ fields: requestFields(ECHO).map(([n, v]): HeaderField => [n, n === 'te' ? 'gzip' : v]) })],
    ['no :method', () => ({ fields: requestFields(ECHO).filter(([n]) => n !== ':method') })],
    ['no :scheme', () => ({ fields: requestFields(ECHO).filter(([n]) => n !== ':scheme') })],
    ['two :path', () => ({ fields: withField(requestFields(ECHO), 3, [':path', ECHO]) })],
    ['an empty :path', () => ({ fields: requestFields(ECHO).map(([n, v]): HeaderField => [n, n === ':path' ? '' : v]) })],
    ['a response pseudo-header', () => ({ fields: withField(requestFields(ECHO), 1, [':status', '200']) })],
    ['a content-length unlike the DATA', () => ({ fields: requestFields(ECHO, [['content-length', '3']]) })],
    ['a pseudo-header in trailers', () => ({ fields: requestFields(ECHO), trailers: [[':path', ECHO]] })],
  ])('answers a malformed request (%s) with RST_STREAM PROTOCOL_ERROR', async (_, request) => {
    const c = await open();
    const { fields, trailers } = request();
    const message = grpcMessage(Buffer.from('0123456789'));
    if (trailers === undefined) c.send(headersFrame(1, literalBlock(fields)), dataFrame(1, message, { endStream: true }));
    else c.send(headersFrame(1, literalBlock(fields)), dataFrame(1, message), headersFrame(1, literalBlock(trailers), { endStream: true }));
    await expectStreamError(c, 1, ErrorCode.PROTOCOL_ERROR);
    await expectAlive(c, 3);
  });
});

