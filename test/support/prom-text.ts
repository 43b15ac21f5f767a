// The real Prometheus text parser from npm (`parse-prometheus-text-format`, no type declarations),
// typed for tests, plus a way around its one gap: it folds every series of a labelled histogram
// into one label-less sample and loses _sum and _count (yunyu/parse-prometheus-text-format#13; the
// fix, PR #8, is unmerged). Histogram families are re-declared `untyped` before parsing, so the
// parser keeps `_bucket`, `_sum` and `_count` as plain labelled samples, which are regrouped here;
// names, labels, escapes and values are all still read by the package.
import { createRequire } from 'node:module';

export interface ParsedSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value?: string;
  readonly buckets?: Readonly<Record<string, string>>;
  readonly count?: string;
  readonly sum?: string;
}

export interface ParsedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  readonly metrics: readonly ParsedSample[];
}

interface RawSample {
  readonly labels?: Record<string, string>;
  readonly value?: string;
}

interface RawFamily {
  readonly name: string;
  readonly help: string;
  readonly type: ParsedFamily['type'];
  readonly metrics: readonly RawSample[];
}

const require = createRequire(import.meta.url);
const parse = require('parse-prometheus-text-format') as (text: string) => RawFamily[];

export function parsePrometheusText(text: string): ParsedFamily[] {
  const histograms = new Set<string>();
  const rewritten = text
    .split('\n')
    .map((line) => {
      const m = /^# TYPE (\S+) histogram$/.exec(line);
      if (!m) return line;
      histograms.add(m[1]!);
      return `# TYPE ${m[1]} untyped`;
    })
    .join('\n');
  const raw = parse(rewritten);
  const out: ParsedFamily[] = [];
  for (const f of raw) {
    if (histograms.has(f.name)) {
      out.push({ name: f.name, help: f.help, type: 'HISTOGRAM', metrics: regroup(raw, f.name) });
    } else if (![...histograms].some((h) => f.name === `${h}_bucket` || f.name === `${h}_sum` || f.name === `${h}_count`)) {
      out.push({ ...f, metrics: f.metrics.map((m) => ({ ...m, labels: m.labels ?? {} })) });
    }
  }
  return out;
}

function regroup(families: readonly RawFamily[], name: string): ParsedSample[] {
  const byKey = new Map<string, { labels: Record<string, string>; buckets: Record<string, string>; sum?: string; count?: string }>();
  const entry = (labels: Record<string, string>) => {
    const key = JSON.stringify(Object.entries(labels).sort());
    let e = byKey.get(key);
    if (!e) byKey.set(key, (e = { labels, buckets: {} }));
    return e;
  };
  const samples = (suffix: string) => families.filter((f) => f.name === name + suffix).flatMap((f) => f.metrics);
  for (const m of samples('_bucket')) {
    const { le, ...labels } = m.labels ?? {};
    if (le === undefined || m.value === undefined) throw new Error(`bucket sample without le or value in ${name}`);
    entry(labels).buckets[le] = m.value;
  }
  for (const m of samples('_sum')) entry({ ...m.labels }).sum = m.value;
  for (const m of samples('_count')) entry({ ...m.labels }).count = m.value;
  return [...byKey.values()];
}

/** The one sample of `family` whose labels include every given pair, or undefined if none. */
export function sampleOf(families: readonly ParsedFamily[], family: string, labels: Record<string, string> = {}): ParsedSample | undefined {
  const f = families.find((x) => x.name === family);
  const hits = (f?.metrics ?? []).filter((m) => Object.entries(labels).every(([k, v]) => m.labels[k] === v));
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${family} match ${JSON.stringify(labels)}`);
  return hits[0];
}
