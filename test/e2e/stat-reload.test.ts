import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfigPath } from '../../src/cli/paths.js';
import { buildReport, dur, int, str, type AttributeSet } from '../../src/client/compressor.js';
import { startTelemux, type Running } from '../support/harness.js';

const INBOUND: AttributeSet = {
  'context.protocol': str('http'),
  'context.reporter.kind': str('inbound'),
  'source.workload.name': str('productpage-v1'),
  'source.workload.namespace': str('default'),
  'destination.workload.name': str('details-v1'),
  'destination.workload.namespace': str('default'),
  'destination.service.host': str('details.default.svc.cluster.local'),
  'response.code': int(200),
  'response.duration': dur(2_000_000),
};

describe('the stat view across a reload that keeps its handler', () => {
  let t: Running;
  beforeAll(async () => {
    t = await startTelemux();
  });
  afterAll(async () => {
    await t.stop();
  });

  const requests = async (): Promise<number> => {
    const body = (await (await t.admin('/api/v1/stat')).json()) as { rows: { workload: string; requests: number }[] };
    return body.rows.find((r) => r.workload === 'details-v1')?.requests ?? 0;
  };

  it('keeps recording: an unchanged telemuxstat handler is reused, and Reports after the apply count', async () => {
    expect((await t.report(buildReport([INBOUND]))).code).toBe(0);
    expect(await requests()).toBe(1);

    // `telemux apply` of the same config (or of an edit to another handler): the stat handler is
    // reused with the new config's instances.
    const dir = defaultConfigPath();
    const files = await Promise.all(['istio-1.4-telemetry.yaml', 'telemux-stat.yaml'].map(async (name) => ({ name, content: await readFile(join(dir, name), 'utf8') })));
    const applied = (await (await t.admin('/api/v1/config', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ files }) })).json()) as {
      applied: boolean;
      summary: { unchanged: string[] };
    };
    expect(applied.applied).toBe(true);
    expect(applied.summary.unchanged).toContain('stat.handler.istio-system');

    // Used to answer UNKNOWN ("instance(s) without a duration value") and record nothing.
    const after = await t.report(buildReport([INBOUND, INBOUND]));
    expect(after).toEqual({ code: 0, details: '' });
    expect(await requests()).toBe(3);
  });
});
