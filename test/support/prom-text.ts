// The real Prometheus text-format parser (an npm package without type declarations), typed here.
import { createRequire } from 'node:module';

export interface ParsedSample {
  readonly labels?: Record<string, string>;
  readonly value?: string;
  readonly buckets?: Record<string, string>;
  readonly count?: string;
  readonly sum?: string;
}

export interface ParsedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  readonly metrics: readonly ParsedSample[];
}

const require = createRequire(import.meta.url);
const parse = require('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

export function parsePrometheusText(text: string): ParsedFamily[] {
  return parse(text);
}

/** The sample of `family` whose labels include every given pair (exactly one must match). */
export function sampleOf(families: readonly ParsedFamily[], family: string, labels: Record<string, string> = {}): ParsedSample | undefined {
  const f = families.find((x) => x.name === family);
  const hits = (f?.metrics ?? []).filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${family} match ${JSON.stringify(labels)}`);
  return hits[0];
}
