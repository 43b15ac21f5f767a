// The adapter tests read exposition text through the shared real-parser wrapper.
import { parsePrometheusText, type ParsedSample } from '../../support/prom-text.js';

export { parsePrometheusText as parseExposition, sampleOf, type ParsedFamily, type ParsedSample } from '../../support/prom-text.js';

export interface HistogramSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly buckets: Readonly<Record<string, string>>;
  readonly sum: string | undefined;
  readonly count: string | undefined;
}

export function histogramSamples(text: string, name: string): HistogramSample[] {
  const family = parsePrometheusText(text).find((f) => f.name === name && f.type === 'HISTOGRAM');
  if (!family) throw new Error(`no histogram family ${name}`);
  return family.metrics.map((m: ParsedSample) => ({ labels: m.labels, buckets: m.buckets ?? {}, sum: m.sum, count: m.count }));
}

/** The one histogram series whose labels include every given pair. */
export function histogramOf(text: string, name: string, labels: Record<string, string> = {}): HistogramSample {
  const hits = histogramSamples(text, name).filter((h) => Object.entries(labels).every(([k, v]) => h.labels[k] === v));
  if (hits.length !== 1) throw new Error(`${hits.length} series of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]!;
}
