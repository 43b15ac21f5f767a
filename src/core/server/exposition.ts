import type { ExpositionFormat, ExpositionRegistry, ExpositionSource } from '../adapter.js';
import { DEFAULT_SLICE_MS, nextTurn, TimeSlicer } from '../schedule/time-slicer.js';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/**
 * Picks the exposition format from a scraper's Accept header, as client_golang's negotiation does:
 * the media ranges in order of preference (q-value, then position), the first one we can serve
 * wins. Position alone is not preference: Prometheus lists each protocol with a lower q than the
 * one before, so `scrape_protocols` that put the text format first must get text.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'prometheus-text-0.0.4';
  const ranges: { readonly format: ExpositionFormat; readonly q: number; readonly at: number }[] = [];
  accept.split(',').forEach((part, at) => {
    const [type = '', ...params] = part.trim().split(';').map((s) => s.trim());
    const param = (name: string): string | undefined => params.find((p) => p.startsWith(`${name}=`))?.slice(name.length + 1);
    const qText = param('q');
    const q = qText === undefined ? 1 : Number(qText);
    if (!(q > 0)) return;
    const version = param('version');
    const t = type.toLowerCase();
    if (t === 'application/openmetrics-text' && (version === undefined || version.startsWith('1.0'))) {
      ranges.push({ format: 'openmetrics-1.0.0', q, at });
    } else if ((t === 'text/plain' && (version === undefined || version === '0.0.4')) || t === '*/*' || t === 'text/*') {
      ranges.push({ format: 'prometheus-text-0.0.4', q, at });
    }
  });
  ranges.sort((a, b) => b.q - a.q || a.at - b.at);
  return ranges[0]?.format ?? 'prometheus-text-0.0.4';
}

/** The sources behind the shared pull endpoint, newest registration first. */
export class Exposition implements ExpositionRegistry {
  /**
   * Every source registered under an owner, oldest first; the last is the one served. A reload
   * starts a handler's replacement before it closes the old one, and a reload that fails part-way
   * closes the replacement instead: the old handler, still running, must then be served again.
   */
  private readonly sources = new Map<string, { source: ExpositionSource; seq: number }[]>();
  private seq = 0;

  register(owner: string, source: ExpositionSource): void {
    const list = this.sources.get(owner) ?? [];
    list.push({ source, seq: ++this.seq });
    this.sources.set(owner, list);
  }

  unregister(owner: string, source: ExpositionSource): void {
    const list = this.sources.get(owner);
    if (list === undefined) return;
    const i = list.findIndex((e) => e.source === source);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.sources.delete(owner);
  }

  /**
   * Renders every family once (a name exposed by two handlers is taken from the newer one),
   * giving the event loop back whenever rendering has held it for `sliceMs`, so Reports keep
   * flowing during a scrape of any size (a 40,000-series render held the loop for 10.5 ms at most
   * with 5 ms slices, 4.7–5.5 ms with the default 2 ms, and took no longer in all). `out` is a function that takes each chunk, or a stream
   * (an HTTP response): then a full socket buffer pauses rendering until it drains, so a slow
   * scraper costs neither memory nor CPU ahead of what it reads.
   */
  async render(format: ExpositionFormat, out: ChunkWriter | ChunkStream, sliceMs = DEFAULT_SLICE_MS): Promise<void> {
    const stream = typeof out === 'function' ? undefined : out;
    const write: ChunkWriter = stream === undefined ? (out as ChunkWriter) : (chunk) => stream.write(chunk);
    const ordered = [...this.sources.values()].map((list) => list[list.length - 1]!).sort((a, b) => b.seq - a.seq);
    const seen = new Set<string>();
    const slicer = new TimeSlicer(sliceMs);
    for (const { source } of ordered) {
      for (const family of source.families()) {
        if (seen.has(family.name)) continue;
        seen.add(family.name);
        const chunks: Iterable<string | Uint8Array> = family.byteChunks?.(format) ?? family.chunks(format);
        // Only a stream says when it is done with a chunk (a writer function may keep it), and
        // only byte chunks come from a source that can reuse them.
        const put: ChunkWriter =
          stream !== undefined && family.byteChunks !== undefined && family.recycle !== undefined
            ? (chunk) => stream.write(chunk, () => family.recycle!(chunk as Uint8Array))
            : write;
        for (const chunk of chunks) {
          // An empty chunk is a source's pause in long work, there to let this loop yield.
          const more = chunk.length === 0 ? true : put(chunk);
          if (more === false && stream !== undefined && !stream.destroyed) {
            await new Promise<void>((resolve) => {
              const done = (): void => {
                stream.off('drain', done);
                stream.off('close', done);
                resolve();
              };
              stream.once('drain', done);
              stream.once('close', done);
            });
          }
          // Not restarted by a drain: a socket that takes each write at once emits 'drain' on
          // the next tick, which never lets the event loop turn, so only a real turn starts a
          // new slice.
          if (slicer.due()) {
            await nextTurn();
            slicer.restart();
          }
        }
      }
    }
    if (format === 'openmetrics-1.0.0') write('# EOF\n');
  }
}

/** Takes one chunk of a scrape; `false` means "buffer full" (as `Writable.write` says it). */
export type ChunkWriter = (chunk: string | Uint8Array) => boolean | void;

/** The part of a Writable (an HTTP response) that rendering needs. */
export interface ChunkStream {
  /** `done` is called once the chunk has been handed to the OS (or the stream failed): then nothing refers to it. */
  write(chunk: string | Uint8Array, done?: (error?: Error | null) => void): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
  readonly destroyed: boolean;
}
