/**
 * Reads Prometheus text exposition (0.0.4) the way Prometheus' own parser does: a tokenizer for
 * `name{label="value",…} value [timestamp]` with the format's escapes, HELP/TYPE metadata, and
 * histogram/summary samples grouped per label set. Malformed input throws.
 *
 * The npm package `parse-prometheus-text-format` is run over the same text as a second, independent
 * reader (it must accept it), but it cannot be the reference: it merges every labelled histogram
 * series of a family into one and drops their labels, sums and counts.
 */
import { createRequire } from 'node:module';

export interface ParsedSample {
  readonly labels: Record<string, string>;
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
const thirdParty = require('parse-prometheus-text-format') as (text: string) => unknown;

interface Line {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: string;
}

function parseSampleLine(line: string, lineNo: number): Line {
  let i = 0;
  const fail = (msg: string): never => {
    throw new Error(`line ${lineNo}: ${msg}: ${line}`);
  };
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) fail('bad metric name');
  const name = nameMatch![0];
  i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const ln = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!ln) fail('bad label name');
      i += ln![0].length;
      if (line[i] !== '=' || line[i + 1] !== '"') fail('expected ="');
      i += 2;
      let v = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) fail('unterminated label value');
        if (c === '"') break;
        if (c === '\\') {
          const n = line[i + 1];
          if (n === 'n') v += '\n';
          else if (n === '\\') v += '\\';
          else if (n === '"') v += '"';
          else fail(`bad escape \\${n}`);
          i += 2;
        } else {
          v += c;
          i++;
        }
      }
      i++;
      if (ln![0] in labels) fail(`duplicate label ${ln![0]}`);
      labels[ln![0]] = v;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') fail('expected , or }');
    }
    i++;
  }
  if (line[i] !== ' ') fail('expected a space before the value');
  const rest = line.slice(i + 1).split(' ');
  const value = rest[0]!;
  if (!/^([+-]?Inf|NaN|[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)$/.test(value)) fail(`bad value ${value}`);
  if (rest.length > 2 || (rest.length === 2 && !/^-?\d+$/.test(rest[1]!))) fail('bad timestamp');
  return { name, labels, value };
}

export function parsePrometheusText(text: string): ParsedFamily[] {
  thirdParty(text);
  const families = new Map<string, { name: string; help: string; type: ParsedFamily['type']; series: Map<string, ParsedSample & Record<string, unknown>> }>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, help: '', type: 'UNTYPED', series: new Map() }));
    return f;
  };
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('exposition must end with a newline');
  let current: string | undefined;
  lines.slice(0, -1).forEach((line, idx) => {
    if (line.startsWith('# HELP ')) {
      const [, name, ...help] = line.split(' ').slice(1);
      void name;
      family(line.split(' ')[2]!).help = help.join(' ').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      const f = family(name!);
      if (f.type !== 'UNTYPED' || f.series.size > 0) throw new Error(`line ${idx + 1}: TYPE for ${name} comes too late or twice`);
      f.type = type!.toUpperCase() as ParsedFamily['type'];
      current = name;
      return;
    }
    if (line.startsWith('#') || line === '') return;
    const s = parseSampleLine(line, idx + 1);
    const f = current !== undefined && families.get(current) && s.name.startsWith(current) ? families.get(current)! : family(s.name);
    const suffix = s.name.slice(f.name.length);
    const { le, quantile, ...labels } = s.labels;
    const key = JSON.stringify(Object.entries(f.type === 'HISTOGRAM' ? { ...labels, ...(quantile !== undefined ? { quantile } : {}) } : s.labels).sort());
    let series = f.series.get(key);
    if (!series) f.series.set(key, (series = { labels: f.type === 'HISTOGRAM' ? labels : s.labels }));
    if (f.type === 'HISTOGRAM' && suffix === '_bucket') {
      if (le === undefined) throw new Error(`line ${idx + 1}: bucket without le`);
      ((series as { buckets?: Record<string, string> }).buckets ??= {})[le] = s.value;
    } else if ((f.type === 'HISTOGRAM' || f.type === 'SUMMARY') && suffix === '_sum') (series as { sum?: string }).sum = s.value;
    else if ((f.type === 'HISTOGRAM' || f.type === 'SUMMARY') && suffix === '_count') (series as { count?: string }).count = s.value;
    else if (suffix === '') (series as { value?: string }).value = s.value;
    else throw new Error(`line ${idx + 1}: sample ${s.name} does not belong to family ${f.name}`);
  });
  return [...families.values()].map((f) => ({ name: f.name, help: f.help, type: f.type, metrics: [...f.series.values()] }));
}

/** The sample of `family` whose labels include every given pair (at most one may match). */
export function sampleOf(families: readonly ParsedFamily[], family: string, labels: Record<string, string> = {}): ParsedSample | undefined {
  const f = families.find((x) => x.name === family);
  const hits = (f?.metrics ?? []).filter((m) => Object.entries(labels).every(([k, v]) => m.labels[k] === v));
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${family} match ${JSON.stringify(labels)}`);
  return hits[0];
}
