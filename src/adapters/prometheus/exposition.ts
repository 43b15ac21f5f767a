import type { ExpositionFormat } from '../../core/adapter.js';
import { formatOpenMetricsFloat, formatPromFloat } from '../../core/format/index.js';
import type { FamilyView, Series } from './series-store.js';

/**
 * Prometheus text 0.0.4 and OpenMetrics 1.0 rendering, byte for byte as client_golang's expfmt
 * writes a gathered family (`MetricFamilyToText` / `MetricFamilyToOpenMetrics`). The caller
 * (the core's endpoint) writes the final `# EOF` for OpenMetrics.
 */

/** Series per chunk: small enough for the server to yield often, big enough to amortise. */
export const SERIES_PER_CHUNK = 256;

/** HELP text: text 0.0.4 escapes `\` and newline only; OpenMetrics escapes `"` as well. */
export function escapeHelp(help: string, format: ExpositionFormat): string {
  const re = format === 'openmetrics-1.0.0' ? /[\\\n"]/g : /[\\\n]/g;
  return help.replace(re, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** The family header: `# HELP` and `# TYPE`, with OpenMetrics' counter naming rule. */
export function renderHeader(family: FamilyView, format: ExpositionFormat): string {
  const om = format === 'openmetrics-1.0.0';
  let name = family.name;
  let type: string;
  switch (family.kind) {
    case 'GAUGE':
      type = 'gauge';
      break;
    case 'DISTRIBUTION':
      type = 'histogram';
      break;
    case 'COUNTER':
      type = 'counter';
      if (om) {
        // OpenMetrics names the counter family without `_total`; client_golang marks a counter
        // that lacks the suffix `unknown` rather than emit invalid output.
        if (name.endsWith('_total')) name = name.slice(0, -6);
        else type = 'unknown';
      }
      break;
  }
  return `# HELP ${name} ${escapeHelp(family.help, format)}\n# TYPE ${name} ${type}\n`;
}

/**
 * The family in chunks of `seriesPerChunk` series, the header in the first. Nothing at all for a
 * family without series (client_golang's registry drops empty families). The series list is
 * taken once, when iteration starts, so a concurrent insert or eviction cannot tear a scrape.
 */
export function* renderFamilyChunks(
  family: FamilyView,
  format: ExpositionFormat,
  seriesPerChunk: number = SERIES_PER_CHUNK,
): Generator<string, void, undefined> {
  const series = family.sortedSeries();
  if (series.length === 0) return;
  const om = format === 'openmetrics-1.0.0';
  const float = om ? formatOpenMetricsFloat : formatPromFloat;
  // Text 0.0.4 writes counts as floats (1e+06); OpenMetrics as integers.
  const count = om ? formatCount : formatPromFloat;
  const le =
    family.kind === 'DISTRIBUTION' ? [...family.upperBounds.map((b) => `le="${float(b)}"`), 'le="+Inf"'] : [];
  const step = Math.max(1, Math.floor(seriesPerChunk));
  for (let start = 0; start < series.length; start += step) {
    let out = start === 0 ? renderHeader(family, format) : '';
    const end = Math.min(series.length, start + step);
    for (let i = start; i < end; i++) {
      const s = series[i];
      if (s === undefined) continue;
      out += family.kind === 'DISTRIBUTION' ? histogramLines(family.name, s, le, float, count) : scalarLine(family.name, s, float);
    }
    yield out;
  }
}

function scalarLine(name: string, s: Series, float: (v: number) => string): string {
  return s.labelText === '' ? `${name} ${float(s.value)}\n` : `${name}{${s.labelText}} ${float(s.value)}\n`;
}

function histogramLines(
  name: string,
  s: Series,
  le: readonly string[],
  float: (v: number) => string,
  count: (v: number) => string,
): string {
  const open = s.labelText === '' ? `${name}_bucket{` : `${name}_bucket{${s.labelText},`;
  let out = '';
  let cumulative = 0;
  for (let i = 0; i < s.counts.length; i++) {
    cumulative += s.counts[i] ?? 0;
    out += `${open}${le[i] ?? ''}} ${count(cumulative)}\n`;
  }
  out += `${open}${le[le.length - 1] ?? 'le="+Inf"'}} ${count(s.count)}\n`;
  const labels = s.labelText === '' ? '' : `{${s.labelText}}`;
  out += `${name}_sum${labels} ${float(s.sum)}\n`;
  out += `${name}_count${labels} ${count(s.count)}\n`;
  return out;
}

function formatCount(v: number): string {
  return Number.isSafeInteger(v) ? String(v) : BigInt(Math.trunc(v)).toString();
}
