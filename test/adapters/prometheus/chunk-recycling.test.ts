/**
 * Scrape chunks are recycled once the endpoint has written them out. The risk is reusing memory a
 * socket still holds: a scrape over real HTTP, read slowly so writes queue, must still equal the
 * plain render byte for byte, and run in a few buffers instead of one per chunk.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ValueType } from '../../../src/core/adapter.js';
import { Exposition } from '../../../src/core/server/exposition.js';
import { ChunkBuffers } from '../../../src/adapters/prometheus/exposition.js';
import { instance, spec, startHandler, testEnv } from './fixtures.js';

async function scrapeSlowly(exposition: Exposition): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    void exposition.render('prometheus-text-0.0.4', res).then(() => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/metrics' }, (res) => {
        const parts: Buffer[] = [];
        // Read in small sips with pauses, so the server's socket buffer fills and writes queue.
        res.on('data', (d: Buffer) => {
          parts.push(d);
          res.pause();
          setTimeout(() => res.resume(), 1);
        });
        res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('recycled scrape chunks', () => {
  it('serve exactly the plain render over HTTP to a slow reader', async () => {
    const s = spec('d.instance.ns', ValueType.DOUBLE, ['a', 'b', 'c']);
    const env = testEnv();
    const { handler } = await startHandler(
      { metrics: [{ name: 'd_seconds', instance_name: s.name, kind: 'DISTRIBUTION', label_names: ['a', 'b', 'c'], buckets: { explicit_buckets: { bounds: [0.01, 0.1, 1, 10] } } }] },
      [s],
      env,
    );
    handler.handleMetrics(
      Array.from({ length: 3000 }, (_, i) => instance(s, (i % 97) / 10, { a: `service-${i}`, b: 'x'.repeat(i % 50), c: String(i % 7) })),
    );
    const expected = env.exposition.render();
    const exposition = new Exposition();
    for (const [owner, source] of env.exposition.sources) exposition.register(owner, source);
    // Twice: the second scrape runs on buffers the first gave back.
    expect(await scrapeSlowly(exposition)).toBe(expected);
    expect(await scrapeSlowly(exposition)).toBe(expected);
  });
});

describe('ChunkBuffers', () => {
  it('hands a given-back buffer out again when it is large enough, and keeps only the largest few', () => {
    const buffers = new ChunkBuffers(2);
    const a = buffers.take(1 << 16);
    buffers.give(a.subarray(0, 10));
    expect(buffers.held).toBe(1);
    expect(buffers.take(1 << 15).buffer).toBe(a.buffer);
    expect(buffers.take(1 << 17).buffer).not.toBe(a.buffer);
    for (const n of [1 << 14, 1 << 16, 1 << 18]) buffers.give(Buffer.allocUnsafe(n));
    expect(buffers.held).toBe(2);
    expect(buffers.take(1 << 18).length).toBe(1 << 18);
  });

  it('ignores a view that does not start its buffer (a pooled small Buffer)', () => {
    const buffers = new ChunkBuffers();
    const small = Buffer.allocUnsafe(16);
    buffers.give(small.subarray(1));
    expect(buffers.held).toBe(0);
  });

  it('takes buffers of its own even when small, so taking one back can never take a shared pool', () => {
    const buffers = new ChunkBuffers();
    const small = buffers.take(16);
    expect(small.byteOffset).toBe(0);
    expect(small.buffer.byteLength).toBe(small.length);
  });
});
