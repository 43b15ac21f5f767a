import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MessageBufferPool } from '../../../src/core/server/grpc/message-pool.js';
import { UnaryMessageReader } from '../../../src/core/server/grpc/message-reader.js';
import type { UnaryCall, UnaryMethod } from '../../../src/core/server/grpc/unary-server.js';
import { loopbackUnaryServer } from '../../support/unary-server.js';

function framed(message: Buffer): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

/** `bytes` cut into pieces of `size`, as HTTP/2 DATA chunks would arrive. */
function pieces(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

describe('the message buffer pool', () => {
  it('hands out buffers of the asked length and reuses a released one for the next message of its size class', () => {
    const pool = new MessageBufferPool();
    const a = pool.acquire(50_000);
    expect(a.length).toBe(50_000);
    pool.release(a);
    expect(pool.idleByteCount).toBe(64 * 1024);
    const b = pool.acquire(60_000);
    expect(b.length).toBe(60_000);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.idleByteCount).toBe(0);
    // Another size class gets a buffer of its own.
    const c = pool.acquire(100_000);
    expect(c.buffer).not.toBe(a.buffer);
    expect(c.buffer.byteLength).toBe(128 * 1024);
  });

  it('never lends one buffer twice: a second release, or a buffer it did not lend, is ignored', () => {
    const pool = new MessageBufferPool();
    const a = pool.acquire(1000);
    pool.release(a);
    pool.release(a);
    pool.release(Buffer.alloc(64 * 1024));
    expect(pool.idleByteCount).toBe(64 * 1024);
    const x = pool.acquire(1000);
    const y = pool.acquire(1000);
    expect(x.buffer).toBe(a.buffer);
    expect(y.buffer).not.toBe(x.buffer);
  });

  it('gives messages above its largest class a buffer of their own, and keeps no more idle bytes than its bound', () => {
    const pool = new MessageBufferPool({ maxPooledBytes: 128 * 1024, maxIdleBytes: 128 * 1024 });
    const big = pool.acquire(200_000);
    pool.release(big);
    expect(pool.idleByteCount).toBe(0);
    const held = [pool.acquire(70_000), pool.acquire(70_000)];
    for (const h of held) pool.release(h);
    expect(pool.idleByteCount).toBe(128 * 1024);
  });
});

describe('messages joined from several chunks', () => {
  it('are joined byte for byte into a pooled buffer, which goes back once released', () => {
    const pool = new MessageBufferPool();
    const message = randomBytes(70_000);
    const reader = new UnaryMessageReader(1 << 20, '/test', undefined, pool);
    for (const p of pieces(framed(message), 16_384)) reader.push(p);
    const read = reader.finish();
    if (!('message' in read)) throw new Error(read.details);
    expect(read.message.equals(message)).toBe(true);
    expect(pool.idleByteCount).toBe(0);
    reader.releaseMessage();
    reader.releaseMessage();
    expect(pool.idleByteCount).toBe(128 * 1024);
  });

  it('but a message within one chunk is a view of it, which never enters the pool', () => {
    const pool = new MessageBufferPool();
    const chunk = framed(randomBytes(1000));
    const reader = new UnaryMessageReader(1 << 20, '/test', undefined, pool);
    reader.push(chunk);
    const read = reader.finish();
    if (!('message' in read)) throw new Error(read.details);
    expect(read.message.buffer).toBe(chunk.buffer);
    reader.releaseMessage();
    expect(pool.idleByteCount).toBe(0);
  });

  it('stay intact over a real connection while calls hold them, and are reused only after the method releases them', async () => {
    const parked: UnaryCall[] = [];
    let arrived: () => void = () => {};
    const { session, close } = await loopbackUnaryServer(
      new Map<string, UnaryMethod>([
        [
          '/test.Park/Park',
          (call) => {
            parked.push(call);
            arrived();
          },
        ],
      ]),
    );
    const send = (message: Buffer): void => {
      const req = session.request({ ':method': 'POST', ':path': '/test.Park/Park', 'content-type': 'application/grpc' });
      req.on('error', () => {});
      req.resume();
      for (const p of pieces(framed(message), 10_000)) req.write(p);
      req.end();
    };
    const parkedCount = (n: number): Promise<void> =>
      new Promise((resolve) => {
        arrived = () => {
          if (parked.length >= n) resolve();
        };
        arrived();
      });
    try {
      const first = [randomBytes(90_000), randomBytes(90_000), randomBytes(90_000)];
      for (const m of first) send(m);
      await parkedCount(3);
      // Held by three calls at once: three buffers, each still its own message.
      const held = parked.map((c) => c.request.buffer);
      expect(new Set(held).size).toBe(3);
      for (const m of first) expect(parked.some((c) => c.request.equals(m))).toBe(true);

      for (const c of parked) c.releaseRequest();
      for (const c of parked) expect(c.request.length).toBe(0);
      const next = randomBytes(80_000);
      send(next);
      await parkedCount(4);
      const last = parked[3]!;
      expect(last.request.equals(next)).toBe(true);
      expect(held).toContain(last.request.buffer);
      for (const c of parked) c.ok(Buffer.alloc(0));
    } finally {
      await close();
    }
  });
});
