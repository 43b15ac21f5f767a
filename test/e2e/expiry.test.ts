import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildReport, int, str } from '../../src/client/compressor.js';
import { defaultConfigPath } from '../../src/cli/paths.js';
import { startTelemux } from '../support/harness.js';
import { sampleOf } from '../support/prom-text.js';

const DEFAULT = readFileSync(`${defaultConfigPath()}/istio-1.4-telemetry.yaml`, 'utf8');

function withPolicy(policy: string): string {
  const replaced = DEFAULT.replace(/ {4}metricsExpirationPolicy:\n {6}metricsExpiryDuration: "10m"\n/, policy);
  if (replaced === DEFAULT) throw new Error('default config no longer has the expected expiration policy');
  return replaced;
}

const set = (host: string) => ({
  'context.protocol': str('http'),
  'destination.service.host': str(host),
  'response.code': int(200),
});

const idle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('metrics expiration', () => {
  it('removes a series idle longer than metricsExpiryDuration, while a busy one stays', async () => {
    const t = await startTelemux({
      configYaml: withPolicy('    metricsExpirationPolicy:\n      metricsExpiryDuration: "400ms"\n      expiryCheckIntervalDuration: "50ms"\n'),
    });
    try {
      await t.report(buildReport([set('idle.svc'), set('busy.svc')]));
      const labelsOf = (h: string) => ({ destination_service: h });
      expect(sampleOf(await t.scrape(), 'istio_requests_total', labelsOf('idle.svc'))?.value).toBe('1');
      for (let i = 0; i < 8; i++) {
        await idle(100);
        await t.report(buildReport([set('busy.svc')]));
      }
      const families = await t.scrape();
      expect(sampleOf(families, 'istio_requests_total', labelsOf('idle.svc'))).toBeUndefined();
      expect(sampleOf(families, 'istio_requests_total', labelsOf('busy.svc'))?.value).toBe('9');
      // A later observation recreates the series from zero.
      await t.report(buildReport([set('idle.svc')]));
      expect(sampleOf(await t.scrape(), 'istio_requests_total', labelsOf('idle.svc'))?.value).toBe('1');
    } finally {
      await t.stop();
    }
  });

  it('keeps every series when expiry is switched off (no metricsExpirationPolicy)', async () => {
    const t = await startTelemux({ configYaml: withPolicy('') });
    try {
      await t.report(buildReport([set('kept.svc')]));
      await idle(600);
      expect(sampleOf(await t.scrape(), 'istio_requests_total', { destination_service: 'kept.svc' })?.value).toBe('1');
    } finally {
      await t.stop();
    }
  });
});
