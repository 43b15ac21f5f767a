import type { ExpositionFormat, ExpositionRegistry, ExpositionSource } from '../adapter.js';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** Picks the exposition format from a scraper's Accept header (Prometheus asks for OpenMetrics first). */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'prometheus-text-0.0.4';
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().split(';').map((s) => s.trim());
    if (type !== 'application/openmetrics-text') continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q && Number(q.slice(2)) === 0) continue;
    const version = params.find((p) => p.startsWith('version='))?.slice('version='.length);
    if (version === undefined || version.startsWith('1.0')) return 'openmetrics-1.0.0';
  }
  return 'prometheus-text-0.0.4';
}

/** The sources behind the shared pull endpoint, newest registration first. */
export class Exposition implements ExpositionRegistry {
  private readonly sources = new Map<string, { source: ExpositionSource; seq: number }>();
  private seq = 0;

  register(owner: string, source: ExpositionSource): void {
    this.sources.set(owner, { source, seq: ++this.seq });
  }

  unregister(owner: string, source: ExpositionSource): void {
    if (this.sources.get(owner)?.source === source) this.sources.delete(owner);
  }

  /**
   * Renders every family once (a name exposed by two handlers is taken from the newer one),
   * yielding to the event loop every `yieldEvery` chunks so Reports keep flowing during a scrape.
   */
  async render(format: ExpositionFormat, write: (chunk: string) => void, yieldEvery = 8): Promise<void> {
    const ordered = [...this.sources.values()].sort((a, b) => b.seq - a.seq);
    const seen = new Set<string>();
    let n = 0;
    for (const { source } of ordered) {
      for (const family of source.families()) {
        if (seen.has(family.name)) continue;
        seen.add(family.name);
        for (const chunk of family.chunks(format)) {
          write(chunk);
          if (++n % yieldEvery === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    }
    if (format === 'openmetrics-1.0.0') write('# EOF\n');
  }
}
