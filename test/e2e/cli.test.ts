import { credentials } from '@grpc/grpc-js';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildReport, dur, int, str } from '../../src/client/compressor.js';
import { MixerClient } from '../../src/gen/istio/mixer/v1/mixer.js';
import { report } from '../support/harness.js';
import { parsePrometheusText, sampleOf } from '../support/prom-text.js';
import { runCli, serveCli } from '../support/cli.js';
import { SHARED_DATA } from '../support/vocabulary.js';

const BROKEN = fileURLToPath(new URL('../fixtures/broken/broken.yaml', import.meta.url));

describe('the telemux command', () => {
  it('check lists every error of a broken config and exits 1', async () => {
    const run = await runCli(['check', '-f', BROKEN]);
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines.at(-1)).toBe(`${BROKEN}: 5 error(s)`);
    const errors = lines.slice(0, -1).filter((l) => !l.includes(': warning: '));
    expect(errors).toHaveLength(5);
    for (const e of errors) expect(e).toMatch(/^.+:\d+:\d+: .+ \[[A-Z_]+\]$/);
  });

  it('check accepts the embedded default config', async () => {
    const run = await runCli(['check', '-f', 'config']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // Istio's 8 instances, 1 handler and 4 rules, plus the built-in stat view's instance, handler and rule.
    expect(run.stdout).toMatch(/ok \(\d+ attributes, 9 instances, 2 handlers, 5 rules\)/);
  });

  it('serve with a broken config exits non-zero before binding any port', async () => {
    const run = await runCli(['serve', '--config', BROKEN, '--grpc-address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('[CFG_VALUE_TYPE]');
    expect(run.stderr).toContain('not starting');
    expect(run.stderr).not.toContain('telemux started');
  });

  it('rejects unknown flags with a usage error', async () => {
    const run = await runCli(['serve', '--nope']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Unknown option '--nope'");
  });

  it('rejects an HTTP/2 connection window narrower than the protocol default, naming the flag', async () => {
    const run = await runCli(['serve', '--grpc-connection-window', '1KiB']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--grpc-connection-window: expected a size from 64KiB to 2GiB, got 1024 bytes');
  });

  it('rejects an unknown gRPC transport, naming the flag and the choices', async () => {
    const run = await runCli(['serve', '--grpc-transport', 'h3']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--grpc-transport: expected telemux or node-http2, got 'h3'");
  });

  it('rejects a Report turn budget that is not a duration, naming the flag', async () => {
    const run = await runCli(['serve', '--report-turn-budget', 'soon']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--report-turn-budget: expected a duration like 5ms, got 'soon'");
  });

  it('--config-default-namespace puts resources without a namespace there and applies its rules to all traffic, in serve and check alike', async () => {
    // The 1.4 default config as helm renders it for a release in istio-control, namespaces left out.
    const defaults = await readFile(`${SHARED_DATA}mixer-default-telemetry-config-1.4.yaml`, 'utf8');
    const config = defaults.replace(/^ +namespace: istio-system\n/gm, '').replaceAll('.instance.istio-system', '.instance.istio-control');
    expect(config).not.toMatch(/namespace: istio-system|\.istio-system/);
    const dir = await mkdtemp(join(tmpdir(), 'telemux-ns-'));
    const file = join(dir, 'telemetry.yaml');
    await writeFile(file, config);
    try {
      const checked = await runCli(['check', '-f', file, '--config-default-namespace', 'istio-control']);
      expect(checked.stderr).toBe('');
      expect(checked.stdout).toContain('ok (');
      // Without the flag the handler's instance_names name no instance of its own namespace.
      expect((await runCli(['check', '-f', file])).code).toBe(1);
      expect((await runCli(['check', '-f', file, '--config-default-namespace', ''])).code).toBe(2);

      const served = await serveCli(['--config', file, '--config-default-namespace', 'istio-control']);
      const client = new MixerClient(served.grpc, credentials.createInsecure());
      try {
        const set = (ns: string) => ({
          'context.protocol': str('http'),
          'context.reporter.kind': str('inbound'),
          'destination.namespace': str(ns),
          'destination.service.host': str(`web.${ns}.svc.cluster.local`),
          'response.code': int(200),
        });
        expect(await report(client, buildReport([set('default'), set('shop'), set('shop')]))).toEqual({ code: 0, details: '' });
        const families = parsePrometheusText(await (await fetch(`http://${served.metrics}/metrics`)).text());
        expect(sampleOf(families, 'istio_requests_total', { destination_service: 'web.default.svc.cluster.local' })?.value).toBe('1');
        expect(sampleOf(families, 'istio_requests_total', { destination_service: 'web.shop.svc.cluster.local' })?.value).toBe('2');
      } finally {
        client.close();
        served.child.kill('SIGTERM');
        await served.exited;
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('on SIGTERM under load: refuses new Reports, keeps /metrics for the drain period with every acknowledged Report, exits 0', async () => {
    const drainMs = 1500;
    const served = await serveCli(['--drain-duration', `${drainMs}ms`]);
    const client = new MixerClient(served.grpc, credentials.createInsecure());
    const set = {
      'context.protocol': str('http'),
      'context.reporter.kind': str('inbound'),
      'destination.service.host': str('drain.default.svc.cluster.local'),
      'response.code': int(200),
      'response.duration': dur(5e6),
    };
    const req = buildReport(Array.from({ length: 10 }, () => set));
    let acked = 0;
    let refused = 0;
    let shed = 0;
    let other = 0;
    let stop = false;
    // Four concurrent senders keep Reports in flight while the signal arrives.
    const sender = async (): Promise<void> => {
      while (!stop) {
        const r = await report(client, req);
        if (r.code === 0) acked++;
        else if (r.code === 14 && r.details.includes('shutting down')) refused++;
        else if (r.code === 14 && r.details.includes('overloaded')) shed++;
        else other++;
      }
    };
    const senders = [sender(), sender(), sender(), sender()];
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    served.child.kill('SIGTERM');
    // Keep sending until refusals show the server stopped accepting, then scrape during the drain.
    while (refused === 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await Promise.all(senders);
    const text = await (await fetch(`http://${served.metrics}/metrics`)).text();
    const code = await served.exited;
    const elapsed = Date.now() - t0;
    client.close();

    expect(refused).toBeGreaterThan(0);
    expect(other).toBe(0);
    // Load shedding may refuse some Reports under this saturating load; those were never acknowledged.
    expect(shed).toBeGreaterThanOrEqual(0);
    expect(acked).toBeGreaterThan(0);
    expect(sampleOf(parsePrometheusText(text), 'istio_requests_total', { destination_service: 'drain.default.svc.cluster.local' })?.value).toBe(String(acked * 10));
    expect(code).toBe(0);
    expect(elapsed).toBeLessThan(drainMs + 5000);
  });
});
