import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ExposedFamily, ExpositionFormat } from '../../../src/core/adapter.js';
import { Exposition, negotiateFormat, type ChunkStream } from '../../../src/core/server/exposition.js';

function family(name: string, chunks: readonly string[], bytes = false): ExposedFamily {
  return {
    name,
    chunks: () => chunks,
    ...(bytes ? { byteChunks: (_f: ExpositionFormat) => chunks.map((c) => Buffer.from(`${c}`)) } : {}),
  };
}

/** A stream whose buffer is "full" after every write until the test says it drained. */
class SlowStream extends EventEmitter implements ChunkStream {
  readonly written: string[] = [];
  destroyed = false;
  write(chunk: string | Uint8Array): boolean {
    this.written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return false;
  }
}

describe('the shared /metrics endpoint', () => {
  it('renders each family once, newest registration first, with # EOF for OpenMetrics', async () => {
    const e = new Exposition();
    e.register('old', { families: () => [family('a', ['a1\n']), family('b', ['b-old\n'])] });
    e.register('new', { families: () => [family('b', ['b-new\n'], true)] });
    const out: string[] = [];
    await e.render('openmetrics-1.0.0', (c) => void out.push(typeof c === 'string' ? c : Buffer.from(c).toString('utf8')));
    expect(out.join('')).toBe('b-new\na1\n# EOF\n');
  });

  it("serves a handler's previous source again when its replacement is withdrawn before the old one", async () => {
    // A reload that fails part-way closes the handlers it built; the one it would have replaced
    // keeps running and must stay on /metrics.
    const e = new Exposition();
    const old = { families: () => [family('a', ['a-old\n'])] };
    const replacement = { families: () => [family('a', ['a-new\n'])] };
    e.register('h', old);
    e.register('h', replacement);
    const render = async (): Promise<string> => {
      const out: string[] = [];
      await e.render('prometheus-text-0.0.4', (c) => void out.push(typeof c === 'string' ? c : Buffer.from(c).toString('utf8')));
      return out.join('');
    };
    expect(await render()).toBe('a-new\n');
    e.unregister('h', replacement);
    expect(await render()).toBe('a-old\n');
    // The usual order: the replacement stays once the old one is withdrawn.
    e.register('h', replacement);
    e.unregister('h', old);
    expect(await render()).toBe('a-new\n');
    e.unregister('h', replacement);
    expect(await render()).toBe('');
  });

  it("prefers a family's bytes to its strings, and writes them as they are", async () => {
    const e = new Exposition();
    e.register('h', { families: () => [family('x', ['x 1\n'], true)] });
    const out: (string | Uint8Array)[] = [];
    await e.render('prometheus-text-0.0.4', (c) => void out.push(c));
    expect(out).toHaveLength(1);
    expect(Buffer.isBuffer(out[0])).toBe(true);
  });

  it('still gives the event loop turns when a fast reader drains every write on the next tick', async () => {
    // A loopback socket read by curl takes each write at once and emits 'drain' on the next tick:
    // waiting for it never lets the event loop turn, so it must not count as a yield.
    class EagerStream extends SlowStream {
      override write(chunk: string | Uint8Array): boolean {
        super.write(chunk);
        process.nextTick(() => this.emit('drain'));
        return false;
      }
    }
    const e = new Exposition();
    const busyChunk = (): string => {
      const until = performance.now() + 1;
      while (performance.now() < until);
      return 'x 1\n';
    };
    e.register('h', { families: () => [{ name: 'x', chunks: function* () { for (let i = 0; i < 40; i++) yield busyChunk(); } }] });
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      await e.render('prometheus-text-0.0.4', new EagerStream(), 5);
    } finally {
      clearInterval(ticker);
    }
    // 40 ms of rendering in 5 ms slices: a timer gets to run between them.
    expect(turns).toBeGreaterThanOrEqual(4);
  });

  it('waits for a full stream to drain before rendering the next chunk', async () => {
    const e = new Exposition();
    e.register('h', { families: () => [family('x', ['1\n', '2\n', '3\n'])] });
    const s = new SlowStream();
    // Slices long enough never to fall due: what this test watches is the wait for 'drain', and on a
    // busy machine a 2 ms slice can fall due between two chunks and add a turn of its own.
    const done = e.render('prometheus-text-0.0.4', s, 60_000);
    await new Promise((r) => setImmediate(r));
    expect(s.written).toEqual(['1\n']);
    s.emit('drain');
    await new Promise((r) => setImmediate(r));
    expect(s.written).toEqual(['1\n', '2\n']);
    s.emit('drain');
    s.emit('drain');
    await new Promise((r) => setImmediate(r));
    s.emit('drain');
    await done;
    expect(s.written).toEqual(['1\n', '2\n', '3\n']);
  });

  it('stops waiting when the scraper goes away', async () => {
    const e = new Exposition();
    e.register('h', { families: () => [family('x', ['1\n', '2\n'])] });
    const s = new SlowStream();
    const done = e.render('prometheus-text-0.0.4', s, 60_000);
    await new Promise((r) => setImmediate(r));
    s.destroyed = true;
    s.emit('close');
    await done;
    expect(s.written).toEqual(['1\n', '2\n']);
  });

  it('gives the event loop back during a long render, so Reports are not held up', async () => {
    const e = new Exposition();
    e.register('h', { families: () => [family('x', Array.from({ length: 50 }, (_, i) => `${i}\n`))] });
    let turns = 0;
    let rendering = true;
    const spin = (): void => {
      turns++;
      if (rendering) setImmediate(spin);
    };
    setImmediate(spin);
    await e.render('prometheus-text-0.0.4', () => undefined, 0);
    rendering = false;
    expect(turns).toBeGreaterThan(10);
  });
});

describe('format negotiation', () => {
  it('serves what the scraper prefers by q-value, not by position in Accept', () => {
    // Prometheus' own default header, and the one it sends when scrape_protocols puts the text
    // format first: each entry gets a lower q than the one before.
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1')).toBe('openmetrics-1.0.0');
    expect(negotiateFormat('text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,*/*;q=0.3')).toBe('prometheus-text-0.0.4');
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0;q=0.4,text/plain;version=0.0.4;q=0.5')).toBe('prometheus-text-0.0.4');
    expect(negotiateFormat('text/plain;q=0.2,application/openmetrics-text;q=0.9')).toBe('openmetrics-1.0.0');
    // Equal q: the first listed wins.
    expect(negotiateFormat('text/plain;version=0.0.4,application/openmetrics-text;version=1.0.0')).toBe('prometheus-text-0.0.4');
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0;q=0,text/plain')).toBe('prometheus-text-0.0.4');
    expect(negotiateFormat(undefined)).toBe('prometheus-text-0.0.4');
    expect(negotiateFormat('*/*')).toBe('prometheus-text-0.0.4');
  });
});
