import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DEMO = fileURLToPath(new URL('../../scripts/demo.mjs', import.meta.url));

describe('npm run demo', () => {
  it('prints a non-empty stat table within 15 seconds and stops by itself', async () => {
    // dist/ is already built by the test setup; the demo would otherwise build it first.
    const child = spawn(process.execPath, [DEMO, '--duration', '6s', '--interval', '2s', '--seed', '11', '--no-build'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const t0 = Date.now();
    const firstTable = new Promise<number>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/^NAMESPACE +WORKLOAD +REQUESTS[^\n]*\ndefault +\S+-v\d +[1-9]\d* /m.test(out)) resolve(Date.now() - t0);
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const within = await Promise.race([firstTable, new Promise<number>((r) => setTimeout(() => r(Infinity), 15_000))]);
      expect(within, `no table within 15 s:\n${out}\n${err}`).toBeLessThan(15_000);
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
      expect(code, `${out}\n${err}`).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(out).toMatch(/Mixer gRPC \(Report\) +127\.0\.0\.1:\d+/);
    for (const w of ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings-v1']) expect(out).toContain(w);
    expect(out).toMatch(/loadgen: \d+ requests .* seed 11; 0 reports failed/);
    expect(out).toContain('demo: final numbers');
    expect(out.trimEnd().endsWith('demo: stopped.')).toBe(true);
  }, 40_000);
});
