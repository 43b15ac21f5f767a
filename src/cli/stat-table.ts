import type { EdgeRow, ServiceRow, StatMeasures, StatResult, WorkloadRow } from '../core/stat/query.js';

/** Space between columns, as `conduit stat` and `kubectl get` print them. */
const GAP = '   ';

const MEASURE_HEADERS = ['REQUESTS', 'SUCCESS', 'RPS', 'LATENCY_P50', 'LATENCY_P95', 'LATENCY_P99'] as const;

/** A window in seconds the way Go prints durations: 60 → 1m, 90 → 1m30s, 3600 → 1h. */
export function formatWindow(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const out = `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 || (h === 0 && m === 0) ? `${Number(s.toFixed(3))}s` : ''}`;
  return out;
}

/** Milliseconds with about three significant digits: 0.42ms, 4.2ms, 42ms, 4200ms. */
export function formatLatency(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1) return `${ms.toFixed(2)}ms`;
  if (ms < 10) return `${ms.toFixed(1)}ms`;
  return `${Math.round(ms)}ms`;
}

function measureCells(m: StatMeasures): string[] {
  return [
    String(m.requests),
    m.success === null ? '-' : `${(m.success * 100).toFixed(2)}%`,
    `${m.rps < 10 ? m.rps.toFixed(2) : m.rps.toFixed(1)}rps`,
    formatLatency(m.latency_ms_p50),
    formatLatency(m.latency_ms_p95),
    formatLatency(m.latency_ms_p99),
  ];
}

function keyCells(result: StatResult): { headers: string[]; rows: string[][] } {
  switch (result.by) {
    case 'workload':
      return { headers: ['NAMESPACE', 'WORKLOAD'], rows: result.rows.map((r: WorkloadRow) => [r.namespace, r.workload, ...measureCells(r)]) };
    case 'service':
      return { headers: ['SERVICE'], rows: result.rows.map((r: ServiceRow) => [r.service, ...measureCells(r)]) };
    case 'edge':
      return {
        headers: ['SOURCE', 'DESTINATION'],
        rows: result.rows.map((r: EdgeRow) => [`${r.source_namespace}/${r.source_workload}`, `${r.destination_namespace}/${r.destination_workload}`, ...measureCells(r)]),
      };
  }
}

/** The table `telemux stat` prints; a one-line note when the window saw no traffic. */
export function renderStatTable(result: StatResult): string {
  if (result.rows.length === 0) return `No traffic in the last ${formatWindow(result.window_seconds)}.\n`;
  const { headers, rows } = keyCells(result);
  const table = [[...headers, ...MEASURE_HEADERS], ...rows];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  return table.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join(GAP)).join('\n') + '\n';
}
