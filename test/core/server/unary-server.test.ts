import { credentials, Metadata, status, type Client, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/log.js';
import { encodeGrpcMessage } from '../../../src/core/server/grpc/grpc-message.js';
import { UnaryMessageReader } from '../../../src/core/server/grpc/message-reader.js';
import { createUnaryServer, GRPC_TRANSPORTS } from '../../../src/core/server/grpc/transport.js';
import type { UnaryCall, UnaryMethod, UnaryServer } from '../../../src/core/server/grpc/unary.js';
import { loopbackUnaryServer } from '../../support/unary-server.js';

const MAX = 64 * 1024;

function grpcFrame(message: Buffer, compressed = false): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

interface RawAnswer {
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders | undefined;
  readonly body: Buffer;
}

/** One request over a plain node:http2 session: `chunks` are written as separate DATA frames. */
function rawCall(session: ClientHttp2Session, path: string, chunks: readonly Buffer[], headers: Record<string, string> = {}, endStream = true): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    let response: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    const body: Buffer[] = [];
    req.on('response', (h) => (response = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => resolve({ headers: response, trailers, body: Buffer.concat(body) }));
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    if (endStream) req.end();
  });
}

/** grpc-status and grpc-message of an answer, whether trailers-only or with trailers. */
function statusOf(a: RawAnswer): { code: number; message: string | undefined } {
  const source = a.trailers ?? a.headers;
  const m = source['grpc-message'];
  return { code: Number(source['grpc-status']), message: typeof m === 'string' ? decodeURIComponent(m) : undefined };
}

// Both HTTP/2 transports serve the same gRPC behaviour; each is held to all of it.
describe.each(GRPC_TRANSPORTS)('on the %s transport', (transport) => {
  describe('the gRPC unary server', () => {
    const seen: UnaryCall[] = [];
    let server: UnaryServer;
    let target: string;
    let session: ClientHttp2Session;
    const methods = new Map<string, UnaryMethod>([
      [
        '/test.Echo/Echo',
        (call) => {
          seen.push(call);
          call.ok(call.request);
        },
      ],
      ['/test.Echo/Empty', (call) => call.ok(Buffer.alloc(0))],
      ['/test.Echo/Fail', (call) => call.fail(status.FAILED_PRECONDITION, call.request.toString('utf8'))],
      [
        '/test.Echo/Throw',
        () => {
          throw new Error('handler bug');
        },
      ],
      [
        '/test.Echo/Metadata',
        (call) => {
          const token = call.metadata.get('authorization');
          const bin = call.metadata.get('trace-bin');
          call.ok(Buffer.from(JSON.stringify({ token, bin: bin.map((b) => (Buffer.isBuffer(b) ? [...b] : b)), missing: call.metadata.get('x-missing') })));
        },
      ],
    ]);

    beforeAll(async () => {
      server = createUnaryServer({ methods, maxMessageBytes: MAX, maxConcurrentStreams: 100, streamWindowBytes: 1 << 20, connectionWindowBytes: 1 << 20, logger: silentLogger }, transport);
      const a = await server.listen({ host: '127.0.0.1', port: 0 });
      target = `127.0.0.1:${String(a.port)}`;
      session = connect(`http://${target}`);
    });
    afterAll(async () => {
      session.close();
      await server.close(0);
    });
    afterEach(() => {
      seen.length = 0;
    });

    it('answers OK with headers, the one response message, and grpc-status 0 trailers', async () => {
      const message = Buffer.from('hello, mixer');
      const a = await rawCall(session, '/test.Echo/Echo', [grpcFrame(message)]);
      expect(a.headers[':status']).toBe(200);
      expect(a.headers['content-type']).toBe('application/grpc');
      expect(a.body).toEqual(grpcFrame(message));
      expect(a.trailers?.['grpc-status']).toBe('0');
      // An empty response is still one (zero-length) message: unary clients require exactly one.
      expect((await rawCall(session, '/test.Echo/Empty', [grpcFrame(Buffer.alloc(0))])).body).toEqual(Buffer.alloc(5));
    });

    it('reassembles a message however HTTP/2 splits it, down to one byte per DATA frame', async () => {
      const message = randomBytes(3000);
      const framed = grpcFrame(message);
      const bytes = [...framed].map((b) => Buffer.from([b]));
      const a = await rawCall(session, '/test.Echo/Echo', bytes);
      expect(statusOf(a).code).toBe(0);
      expect(seen[0]!.request).toEqual(message);
    });

    it('answers a framing error with the status grpc-js gives it, trailers-only', async () => {
      const one = grpcFrame(Buffer.from('a'));
      const cases: [string, Buffer[], number, string][] = [
        ['no message', [], status.UNIMPLEMENTED, 'Received no request message for unary method /test.Echo/Echo'],
        ['two messages', [one, one], status.UNIMPLEMENTED, 'Received a second request message for unary method /test.Echo/Echo'],
        ['half a prefix', [one.subarray(0, 3)], status.INTERNAL, 'Request ended inside a message prefix: 3 of 5 bytes received'],
        ['half a message', [grpcFrame(Buffer.alloc(10)).subarray(0, 9)], status.INTERNAL, 'Request ended inside a message: 4 of 10 bytes received'],
      ];
      for (const [what, chunks, code, message] of cases) {
        const a = await rawCall(session, '/test.Echo/Echo', chunks);
        expect({ what, ...statusOf(a), trailers: a.trailers }).toEqual({ what, code, message, trailers: undefined });
        expect(a.headers['content-type']).toBe('application/grpc');
      }
      expect(seen).toHaveLength(0);
    });

    it('refuses a message above the limit as soon as its length prefix arrives, without waiting for the body', async () => {
      const prefix = Buffer.from([0, 0, 0x10, 0, 0]); // 1 MiB declared, nothing of it sent
      const a = await rawCall(session, '/test.Echo/Echo', [prefix], {}, false);
      expect(statusOf(a)).toEqual({ code: status.RESOURCE_EXHAUSTED, message: `Received message larger than max (1048576 vs. ${String(MAX)})` });
      // The connection goes on serving.
      expect(statusOf(await rawCall(session, '/test.Echo/Echo', [grpcFrame(Buffer.from('x'))])).code).toBe(0);
    });

    it('decompresses gzip and deflate messages within the limit, and refuses other encodings and bombs', async () => {
      const message = Buffer.from('compressible '.repeat(100));
      const gz = await rawCall(session, '/test.Echo/Echo', [grpcFrame(gzipSync(message), true)], { 'grpc-encoding': 'gzip' });
      const df = await rawCall(session, '/test.Echo/Echo', [grpcFrame(deflateSync(message), true)], { 'grpc-encoding': 'deflate' });
      expect([statusOf(gz).code, statusOf(df).code]).toEqual([0, 0]);
      expect(seen.map((c) => c.request.toString())).toEqual([message.toString(), message.toString()]);
      // An uncompressed message under a grpc-encoding header is fine: the flag says per message.
      expect(statusOf(await rawCall(session, '/test.Echo/Echo', [grpcFrame(message)], { 'grpc-encoding': 'gzip' })).code).toBe(0);

      const snappy = await rawCall(session, '/test.Echo/Echo', [grpcFrame(message, true)], { 'grpc-encoding': 'snappy' });
      expect(statusOf(snappy)).toEqual({ code: status.UNIMPLEMENTED, message: 'Received message compressed with unsupported encoding "snappy"' });
      const flagged = await rawCall(session, '/test.Echo/Echo', [grpcFrame(message, true)]);
      expect(statusOf(flagged).code).toBe(status.INTERNAL);
      const bomb = await rawCall(session, '/test.Echo/Echo', [grpcFrame(gzipSync(Buffer.alloc(MAX + 1)), true)], { 'grpc-encoding': 'gzip' });
      expect(statusOf(bomb)).toEqual({ code: status.RESOURCE_EXHAUSTED, message: `Received message that decompresses to a size larger than ${String(MAX)}` });
      const garbage = await rawCall(session, '/test.Echo/Echo', [grpcFrame(Buffer.from('not gzip'), true)], { 'grpc-encoding': 'gzip' });
      expect(statusOf(garbage).code).toBe(status.INTERNAL);
      expect(statusOf(garbage).message).toMatch(/^Failed to decompress message \(gzip\)/);
    });

    it('answers HTTP 415 to a request that is not gRPC, and UNIMPLEMENTED to an unknown method or a GET', async () => {
      const notGrpc = await rawCall(session, '/test.Echo/Echo', [Buffer.from('{}')], { 'content-type': 'application/json' });
      expect(notGrpc.headers[':status']).toBe(constants.HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE);
      const unknown = await rawCall(session, '/test.Echo/Nope', [grpcFrame(Buffer.from('x'))]);
      expect(statusOf(unknown)).toEqual({ code: status.UNIMPLEMENTED, message: 'The server does not implement the method /test.Echo/Nope' });
      const get = await rawCall(session, '/test.Echo/Echo', [], { ':method': 'GET' });
      expect(statusOf(get).code).toBe(status.UNIMPLEMENTED);
    });

    it('answers INTERNAL when a method throws, and goes on serving', async () => {
      const a = await rawCall(session, '/test.Echo/Throw', [grpcFrame(Buffer.alloc(0))]);
      expect(statusOf(a)).toEqual({ code: status.INTERNAL, message: 'internal error: handler bug' });
      expect(statusOf(await rawCall(session, '/test.Echo/Echo', [grpcFrame(Buffer.from('x'))])).code).toBe(0);
    });

    it('gives a grpc-js client the status details byte for byte, non-ASCII and % included, and its metadata', async () => {
      const Generic = makeGenericClientConstructor(
        {
          Fail: { path: '/test.Echo/Fail', requestStream: false, responseStream: false, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b },
          Metadata: { path: '/test.Echo/Metadata', requestStream: false, responseStream: false, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b },
        },
        'Echo',
      );
      const client = new Generic(target, credentials.createInsecure()) as Client & Record<string, (req: Buffer, md: Metadata, cb: (e: ServiceError | null, r?: Buffer) => void) => void>;
      try {
        const details = 'rule "größe" at 100% — line 1\ttab';
        const err = await new Promise<ServiceError | null>((resolve) => client.Fail!(Buffer.from(details), new Metadata(), (e) => resolve(e)));
        expect({ code: err?.code, details: err?.details }).toEqual({ code: status.FAILED_PRECONDITION, details });

        const md = new Metadata();
        md.set('authorization', 'Bearer t0k3n');
        md.set('trace-bin', Buffer.from([0, 1, 254, 255]));
        const body = await new Promise<Buffer | undefined>((resolve) => client.Metadata!(Buffer.alloc(0), md, (_e, r) => resolve(r)));
        expect(JSON.parse(body!.toString())).toEqual({ token: ['Bearer t0k3n'], bin: [[0, 1, 254, 255]], missing: [] });
      } finally {
        client.close();
      }
    });

    it('ignores an answer to a call whose client has gone', async () => {
      let parked: UnaryCall | undefined;
      const arrived = new Promise<void>((resolve) => {
        methods.set('/test.Echo/Park', (call) => {
          parked = call;
          resolve();
        });
      });
      const req = session.request({ ':method': 'POST', ':path': '/test.Echo/Park', 'content-type': 'application/grpc' });
      req.on('error', () => {});
      req.end(grpcFrame(Buffer.from('x')));
      await arrived;
      req.close(constants.NGHTTP2_CANCEL);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(() => parked!.ok(Buffer.from('late'))).not.toThrow();
      expect(statusOf(await rawCall(session, '/test.Echo/Echo', [grpcFrame(Buffer.from('x'))])).code).toBe(0);
    });
  });

  describe('the bound on request bytes still arriving', () => {
    it('refuses the call whose next piece would pass it, and counts nothing of calls once they are whole, reset or cut off', async () => {
      const { server, session, port, close } = await loopbackUnaryServer(new Map<string, UnaryMethod>([['/test.Echo/Echo', (call) => call.ok(call.request)]]), {
        maxMessageBytes: MAX,
        maxPendingBytes: 100 * 1024,
      }, transport);
      try {
        const message = randomBytes(60 * 1024);
        const framed = grpcFrame(message);
        const part = (n: number): Buffer => framed.subarray(0, 5 + n);
        const open = (): ReturnType<ClientHttp2Session['request']> => {
          const req = session.request({ ':method': 'POST', ':path': '/test.Echo/Echo', 'content-type': 'application/grpc' });
          req.on('error', () => {});
          return req;
        };
        const until = async (what: () => boolean): Promise<void> => {
          for (let i = 0; i < 200 && !what(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
          expect(what()).toBe(true);
        };

        // Two calls hold 40 KiB each of their 60 KiB messages: 80 of the 100 KiB.
        const first = open();
        first.write(part(40 * 1024));
        const second = open();
        const secondAnswer = new Promise<RawAnswer>((resolve) => {
          let trailers: IncomingHttpHeaders | undefined;
          const body: Buffer[] = [];
          second.on('trailers', (t) => (trailers = t));
          second.on('data', (c: Buffer) => body.push(c));
          second.on('end', () => resolve({ headers: {}, trailers, body: Buffer.concat(body) }));
        });
        second.write(part(40 * 1024));
        await until(() => server.pendingBytes === 80 * 1024);
        // A third would hold 120 KiB: refused at once, without waiting for its end.
        const third = await rawCall(session, '/test.Echo/Echo', [part(40 * 1024)], {}, false);
        expect(statusOf(third)).toEqual({ code: status.UNAVAILABLE, message: `Server is holding too many partly received requests (${String(100 * 1024)} bytes); try again` });
        await until(() => server.pendingBytes === 80 * 1024);
        // A reset call gives its share back...
        first.close(constants.NGHTTP2_CANCEL);
        await until(() => server.pendingBytes === 40 * 1024);
        // ...and a call whose message is whole holds nothing against the bound.
        second.end(framed.subarray(5 + 40 * 1024));
        const a = await secondAnswer;
        expect(a.trailers?.['grpc-status']).toBe('0');
        expect(a.body).toEqual(framed);
        await until(() => server.pendingBytes === 0);
        // So does a call cut off with its connection.
        const cut = connect(`http://127.0.0.1:${String(port)}`);
        cut.on('error', () => {});
        const doomed = cut.request({ ':method': 'POST', ':path': '/test.Echo/Echo', 'content-type': 'application/grpc' });
        doomed.on('error', () => {});
        doomed.write(part(30 * 1024));
        await until(() => server.pendingBytes === 30 * 1024);
        cut.destroy();
        await until(() => server.pendingBytes === 0);
      } finally {
        await close();
      }
    });
  });

  describe('a connection that sends no HTTP/2 preface', () => {
    it('is closed after prefaceTimeoutMs, while one that sent it stays open and served', async () => {
      const server = createUnaryServer(
        {
          methods: new Map<string, UnaryMethod>([['/test.Echo/Echo', (call) => call.ok(Buffer.from(call.request))]]),
          maxMessageBytes: MAX,
          maxConcurrentStreams: 10,
          streamWindowBytes: 65535,
          connectionWindowBytes: 65535,
          prefaceTimeoutMs: 150,
          logger: silentLogger,
        },
        transport,
      );
      const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
      try {
        const silent = createConnection({ host: '127.0.0.1', port });
        silent.on('error', () => undefined);
        silent.resume();
        const closedAfter = await new Promise<number>((resolve, reject) => {
          const t0 = Date.now();
          const guard = setTimeout(() => reject(new Error('the silent connection was not closed')), 5_000);
          silent.once('close', () => {
            clearTimeout(guard);
            resolve(Date.now() - t0);
          });
        });
        expect(closedAfter).toBeGreaterThanOrEqual(100);

        const session = connect(`http://127.0.0.1:${String(port)}`);
        session.on('error', () => {});
        await new Promise((resolve) => setTimeout(resolve, 400));
        expect(session.closed || session.destroyed).toBe(false);
        const a = await rawCall(session, '/test.Echo/Echo', [grpcFrame(Buffer.from('still here'))]);
        expect(a.body).toEqual(grpcFrame(Buffer.from('still here')));
        session.close();
      } finally {
        await server.close(0);
      }
    });
  });

  describe('closing the gRPC unary server', () => {
    it('lets a call in flight finish, then refuses new connections', async () => {
      let release!: () => void;
      const started = new Promise<void>((resolve) => {
        release = resolve;
      });
      let answer: (() => void) | undefined;
      const server = createUnaryServer({
        methods: new Map<string, UnaryMethod>([
          [
            '/test.Slow/Slow',
            (call) => {
              answer = () => call.ok(Buffer.from('done'));
              release();
            },
          ],
        ]),
        maxMessageBytes: MAX,
        maxConcurrentStreams: 10,
        streamWindowBytes: 65535,
        connectionWindowBytes: 65535,
        logger: silentLogger,
      }, transport);
      const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
      const session = connect(`http://127.0.0.1:${String(port)}`);
      session.on('error', () => {});
      const inFlight = rawCall(session, '/test.Slow/Slow', [grpcFrame(Buffer.from('x'))]);
      await started;
      const closed = server.close(5_000);
      answer!();
      const a = await inFlight;
      expect(a.body).toEqual(grpcFrame(Buffer.from('done')));
      expect(a.trailers?.['grpc-status']).toBe('0');
      await closed;
      const refused = await new Promise<string>((resolve) => {
        const s = connect(`http://127.0.0.1:${String(port)}`);
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
      expect(refused).toBe('ECONNREFUSED');
    });
  });
});

describe('UnaryMessageReader', () => {
  it('reads the same message for every way of cutting its frame into chunks', () => {
    for (let trial = 0; trial < 200; trial++) {
      const message = randomBytes(trial % 7 === 0 ? 0 : 1 + Math.floor(Math.random() * 300));
      const framed = grpcFrame(message);
      const reader = new UnaryMessageReader(1024, '/m');
      let pos = 0;
      while (pos < framed.length) {
        const next = Math.min(framed.length, pos + 1 + Math.floor(Math.random() * 12));
        reader.push(framed.subarray(pos, next));
        pos = next;
      }
      const read = reader.finish();
      expect('message' in read && read.message.equals(message)).toBe(true);
    }
  });

  it('hands on a message that arrives in one chunk as a view, not a copy', () => {
    const framed = grpcFrame(Buffer.from('view me'));
    const reader = new UnaryMessageReader(1024, '/m');
    reader.push(framed);
    const read = reader.finish();
    expect('message' in read && read.message.buffer).toBe(framed.buffer);
  });

  it('holds only the bytes that arrived, not what a length prefix declares', () => {
    // 200 calls each declaring a 1 MiB message and sending 10 bytes of it: a reader that allocated
    // the declared length up front would hold 200 MiB here.
    const before = process.memoryUsage().arrayBuffers;
    const readers: UnaryMessageReader[] = [];
    for (let i = 0; i < 200; i++) {
      const reader = new UnaryMessageReader(2 * 1024 * 1024, '/m');
      reader.push(Buffer.concat([Buffer.from([0, 0, 0x10, 0, 0]), Buffer.alloc(10)]));
      readers.push(reader);
    }
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
    expect(readers.map((r) => r.finish())[0]).toEqual({ code: status.INTERNAL, details: 'Request ended inside a message: 10 of 1048576 bytes received' });
  });

  it('reads a length above 2^31 as the large unsigned number it is', () => {
    const reader = new UnaryMessageReader(1024, '/m');
    for (const b of [0, 0xff, 0xff, 0xff, 0xff]) reader.push(Buffer.from([b]));
    expect(reader.error?.details).toBe('Received message larger than max (4294967295 vs. 1024)');
  });
});

describe('encodeGrpcMessage', () => {
  it('passes printable ASCII through and percent-encodes the rest as UTF-8, % included', () => {
    expect(encodeGrpcMessage('attributes[1]: index -99 is not defined')).toBe('attributes[1]: index -99 is not defined');
    expect(encodeGrpcMessage('100%\n')).toBe('100%25%0A');
    expect(encodeGrpcMessage('größe')).toBe('gr%C3%B6%C3%9Fe');
    expect(decodeURIComponent(encodeGrpcMessage('a–b "c" 😀'))).toBe('a–b "c" 😀');
  });
});
