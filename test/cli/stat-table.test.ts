import { describe, expect, it } from 'vitest';
import { formatLatency, formatWindow, renderStatTable } from '../../src/cli/stat-table.js';

describe('the stat table', () => {
  it('prints latencies with about three significant digits and windows as Go durations', () => {
    expect([0.123, 4.56, 45.6, 4567.8, null].map(formatLatency)).toEqual(['0.12ms', '4.6ms', '46ms', '4568ms', '-']);
    expect([10, 60, 90, 600, 3600, 5400].map(formatWindow)).toEqual(['10s', '1m', '1m30s', '10m', '1h', '1h30m']);
  });

  it('aligns columns like conduit stat and says so when there is no traffic', () => {
    const text = renderStatTable({
      by: 'edge',
      window_seconds: 60,
      rows: [
        { source_namespace: 'default', source_workload: 'productpage-v1', destination_namespace: 'default', destination_workload: 'details-v1', requests: 1200, success: 0.995, rps: 20, latency_ms_p50: 1.74, latency_ms_p95: 3.9, latency_ms_p99: 12.2 },
        { source_namespace: 'default', source_workload: 'reviews-v2', destination_namespace: 'default', destination_workload: 'ratings-v1', requests: 7, success: 1, rps: 0.117, latency_ms_p50: 0.9, latency_ms_p95: null, latency_ms_p99: null },
      ],
    });
    expect(text).toBe(
      [
        'SOURCE                   DESTINATION          REQUESTS   SUCCESS   RPS       LATENCY_P50   LATENCY_P95   LATENCY_P99',
        'default/productpage-v1   default/details-v1   1200       99.50%    20.0rps   1.7ms         3.9ms         12ms',
        'default/reviews-v2       default/ratings-v1   7          100.00%   0.12rps   0.90ms        -             -',
        '',
      ].join('\n'),
    );
    expect(renderStatTable({ by: 'service', window_seconds: 300, rows: [] })).toBe('No traffic in the last 5m.\n');
  });
});
