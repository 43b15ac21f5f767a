import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttributeSet, buildReport, dur, int, smap, str } from '../../src/client/compressor.js';
import { ReportRequest } from '../../src/gen/istio/mixer/v1/mixer.js';
import { startTelemux, type Running } from '../support/harness.js';
import { sampleOf } from '../support/prom-text.js';

const REPORTS = 40;
const SETS = 100;

/** A 1.4 sidecar's inbound request to `host`, with headers long enough to make the Report span many DATA frames. */
function set(host: string, i: number): AttributeSet {
  return {
    'context.protocol': str('http'),
    'context.reporter.kind': str('inbound'),
    'destination.service.host': str(host),
    'destination.service.name': str(host.split('.')[0]!),
    'destination.service.namespace': str('default'),
    'response.code': int(200),
    'response.duration': dur(5e6),
    'request.size': int(i),
    'request.headers': smap({ ':authority': host, 'x-request-id': `${host}-${String(i)}`, cookie: `${host}:${String(i)}:`.repeat(40) }),
  };
}

describe('Reports joined from many DATA frames into reused buffers', () => {
  let t: Running;
  beforeAll(async () => {
    // A zero budget queues every Report that arrives while another runs, so buffers are released
    // and reused while later Reports are still arriving and waiting.
    t = await startTelemux({ reportTurnBudgetMs: 0 });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('are each counted exactly, under their own labels, while many arrive and wait at once', async () => {
    const hosts = Array.from({ length: REPORTS }, (_, k) => `pooled${String(k)}.default.svc.cluster.local`);
    const reports = hosts.map((host) => buildReport(Array.from({ length: SETS }, (_, i) => set(host, i))));
    // Larger than the pool's smallest class and than many 16 KiB frames: joined, not a view.
    expect(ReportRequest.encode(reports[0]!).finish().length).toBeGreaterThan(64 * 1024);
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(reports.map((r) => t.report(r)));
      expect(answers.filter((a) => a.code !== 0)).toEqual([]);
    }
    const families = await t.scrape();
    for (const host of hosts) {
      expect(sampleOf(families, 'istio_requests_total', { destination_service: host })?.value, host).toBe(String(3 * SETS));
      const size = sampleOf(families, 'istio_request_bytes', { destination_service: host })!;
      expect(Number(size.sum), host).toBe((3 * SETS * (SETS - 1)) / 2);
    }
  });
});
