import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, dur, int, str } from '../../src/client/compressor.js';
import { appendixA, APPENDIX_A_LABELS } from '../support/appendix-a.js';
import { startTelemux, type Running } from '../support/harness.js';

const HAVE_PROMETHEUS = spawnSync('prometheus', ['--version']).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

/** The real Prometheus server scraping Telemux, queried over its HTTP API. */
describe.skipIf(!HAVE_PROMETHEUS)('the real Prometheus server scraping Telemux', () => {
  let t: Running;
  let prom: ChildProcess;
  let dir: string;
  let api: string;

  async function query(q: string): Promise<PromResult[]> {
    const res = (await (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { status: string; data: { result: PromResult[] } };
    expect(res.status).toBe('success');
    return res.data.result;
  }

  async function eventually<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await f().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  beforeAll(async () => {
    t = await startTelemux();
    dir = await mkdtemp(join(tmpdir(), 'telemux-prom-'));
    const webPort = await freePort();
    api = `http://127.0.0.1:${webPort}`;
    await writeFile(
      join(dir, 'prometheus.yml'),
      `global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n- job_name: telemux\n  static_configs: [{targets: ['127.0.0.1:${t.addresses.metrics.port}']}]\n- job_name: telemux-self\n  static_configs: [{targets: ['127.0.0.1:${t.addresses.admin.port}']}]\n`,
    );
    prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`], { stdio: 'ignore' });
  }, 30_000);

  afterAll(async () => {
    prom?.kill('SIGTERM');
    await new Promise((r) => prom?.once('exit', r));
    await t?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('ingests the Appendix A series with the exact values, and both targets are up', async () => {
    expect((await t.report(appendixA())).code).toBe(0);
    const set = { 'context.protocol': str('http'), 'destination.service.host': str('promql.svc'), 'response.code': int(200), 'response.duration': dur(30e6) };
    expect((await t.report(buildReport(Array.from({ length: 100 }, () => set)))).code).toBe(0);
    const total = await eventually('istio_requests_total', async () => {
      const r = await query('istio_requests_total{destination_service="reviews.default.svc.cluster.local"}');
      return r.length > 0 ? r : undefined;
    });
    expect(total).toHaveLength(1);
    const { __name__, instance, job, ...labels } = total[0]!.metric;
    void __name__;
    void instance;
    expect(job).toBe('telemux');
    expect(labels).toEqual(APPENDIX_A_LABELS);
    expect(total[0]!.value[1]).toBe('1');
    const bucket = await query('istio_request_duration_seconds_bucket{destination_service="promql.svc",le="0.05"}');
    expect(bucket[0]?.value[1]).toBe('100');
    const below = await query('istio_request_duration_seconds_bucket{destination_service="promql.svc",le="0.025"}');
    expect(below[0]?.value[1]).toBe('0');
    const sum = await query('istio_request_duration_seconds_sum{destination_service="promql.svc"}');
    expect(Number(sum[0]?.value[1])).toBeCloseTo(3, 9);
    const up = await eventually('both targets up', async () => {
      const r = await query('up');
      return r.length === 2 ? r : undefined;
    });
    expect(up.map((u) => u.value[1])).toEqual(['1', '1']);
  }, 40_000);
});
