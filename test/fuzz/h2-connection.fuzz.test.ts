/**
 * The gRPC endpoint's own HTTP/2 under mangled input: valid connections (preface, SETTINGS, gRPC
 * calls with Huffman-coded and indexed headers, messages over several DATA frames) with bytes
 * flipped, cut, inserted or repeated, written in arbitrary pieces. Whatever arrives, the server
 * must answer with frames or close that connection, never throw (an exception on the socket's
 * data path would take down the process and every other client's Reports), never report an
 * internal error, and keep serving other connections.
 */
import fc from 'fast-check';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/core/log.js';
import { silentLogger } from '../../src/core/log.js';
import { H2UnaryServer } from '../../src/core/server/grpc/h2-unary-server.js';
import { grpcFrame, type UnaryMethod } from '../../src/core/server/grpc/unary.js';
import { CLIENT_PREFACE, Flag, frame, FrameType, settingsFrame, Setting } from '../../src/core/server/h2/frames.js';
import { encodeHeaderBlock } from '../../src/core/server/h2/hpack.js';
import { FUZZ_RUNS, FUZZ_TIMEOUT_MS } from './budget.js';

const internalErrors: string[] = [];
const logger: Logger = { ...silentLogger, error: (msg, fields) => internalErrors.push(`${msg} ${JSON.stringify(fields)}`) };

/** One valid connection's bytes: the preface, SETTINGS, and `calls` echo calls. */
function connectionBytes(calls: readonly { message: Buffer; huffman: boolean; index: boolean; pieces: number }[]): Buffer {
  const parts: Buffer[] = [CLIENT_PREFACE, settingsFrame([[Setting.INITIAL_WINDOW_SIZE, 1 << 20]])];
  calls.forEach((call, i) => {
    const id = 2 * i + 1;
    const block = encodeHeaderBlock(
      [
        [':method', 'POST'],
        [':scheme', 'http'],
        [':path', '/test.Echo/Echo'],
        [':authority', '127.0.0.1'],
        ['content-type', 'application/grpc'],
        ['te', 'trailers'],
        ['user-agent', `fuzz/${String(i % 3)}`],
      ],
      { huffman: call.huffman, index: call.index },
    );
    parts.push(frame(FrameType.HEADERS, Flag.END_HEADERS, id, block));
    const body = grpcFrame(call.message);
    const size = Math.ceil(body.length / call.pieces);
    for (let at = 0; at < body.length; at += size) {
      const end = Math.min(body.length, at + size);
      parts.push(frame(FrameType.DATA, end === body.length ? Flag.END_STREAM : 0, id, body.subarray(at, end)));
    }
  });
  return Buffer.concat(parts);
}

type Mutation = { kind: 'flip'; at: number; bit: number } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; bytes: Uint8Array } | { kind: 'repeat'; at: number; length: number };

function mutate(bytes: Buffer, mutations: readonly Mutation[]): Buffer {
  let out = Buffer.from(bytes);
  for (const m of mutations) {
    // Past the preface, so the mangling reaches the frame parser rather than the preface check.
    const at = CLIENT_PREFACE.length + (m.at % Math.max(1, out.length - CLIENT_PREFACE.length));
    if (m.kind === 'flip') out[at] = out[at]! ^ (1 << m.bit);
    else if (m.kind === 'cut') out = out.subarray(0, at);
    else if (m.kind === 'insert') out = Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
    else out = Buffer.concat([out.subarray(0, at + m.length), out.subarray(at, at + m.length), out.subarray(at + m.length)]);
  }
  return out;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
);

const input = fc.record({
  calls: fc.array(fc.record({ message: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), huffman: fc.boolean(), index: fc.boolean(), pieces: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 4 }),
  mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
  chunk: fc.integer({ min: 1, max: 4096 }),
});

/** Writes `bytes` in pieces of `chunk`, then waits until the server closes or goes quiet. */
async function deliver(port: number, bytes: Buffer, chunk: number): Promise<void> {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let quiet: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    const settle = (): void => {
      clearTimeout(quiet);
      quiet = setTimeout(resolve, 30);
    };
    socket.on('data', settle);
    socket.on('close', () => {
      clearTimeout(quiet);
      resolve();
    });
    settle();
  });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  for (let at = 0; at < bytes.length; at += chunk) socket.write(bytes.subarray(at, at + chunk));
  await done;
  socket.destroy();
}

/** One untouched call on a fresh connection: the server still serves. */
async function echoWorks(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const received: Buffer[] = [];
  socket.on('data', (d: Buffer) => received.push(d));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(connectionBytes([{ message: Buffer.from('still here'), huffman: true, index: true, pieces: 1 }]));
  for (let i = 0; i < 100 && !Buffer.concat(received).includes('still here'); i++) await new Promise((r) => setTimeout(r, 10));
  socket.destroy();
  return Buffer.concat(received).includes('still here');
}

describe('the HTTP/2 endpoint under mangled connections', () => {
  let server: H2UnaryServer;
  let port: number;
  beforeAll(async () => {
    const echo: UnaryMethod = (call) => call.ok(Buffer.from(call.request));
    server = new H2UnaryServer({ methods: new Map([['/test.Echo/Echo', echo]]), maxMessageBytes: 4096, maxConcurrentStreams: 8, streamWindowBytes: 1 << 16, connectionWindowBytes: 1 << 17, logger });
    port = (await server.listen({ host: '127.0.0.1', port: 0 })).port;
  });
  afterAll(async () => {
    await server.close(0);
  });

  it(
    'answers or closes every connection without an internal error, and keeps serving',
    async () => {
      expect(await echoWorks(port)).toBe(true);
      await fc.assert(
        fc.asyncProperty(input, async ({ calls, mutations, chunk }) => {
          await deliver(port, mutate(connectionBytes(calls), mutations), chunk);
          expect(internalErrors).toEqual([]);
        }),
        { numRuns: Math.max(30, Math.round(FUZZ_RUNS / 3)) },
      );
      expect(await echoWorks(port)).toBe(true);
      expect(server.pendingBytes).toBe(0);
    },
    FUZZ_TIMEOUT_MS * 2,
  );
});
