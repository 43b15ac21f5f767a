import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const LOOPBACK_ZERO = ['--grpc-address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0'];

describe('the command line', () => {
  it('prints a command’s usage for --help or -h, on stdout, exiting 0', async () => {
    for (const [command, synopsis] of [
      ['serve', 'telemux serve [--config PATH]'],
      ['check', 'telemux check -f PATH'],
      ['apply', 'telemux apply -f FILE|DIR'],
      ['stat', 'telemux stat [--by workload|service|edge]'],
      ['loadgen', 'telemux loadgen [--target HOST:PORT]'],
    ] as const) {
      for (const flag of ['--help', '-h']) {
        const run = await runCli([command, flag]);
        expect(run.code, `${command} ${flag}: ${run.stderr}`).toBe(0);
        expect(run.stderr).toBe('');
        expect(run.stdout).toContain(synopsis);
      }
    }
    // Even after other flags: the user is asking how to use them.
    const late = await runCli(['stat', '--by', 'edge', '--help']);
    expect(late.code).toBe(0);
    expect(late.stdout).toContain('telemux stat [--by');
  });

  it('follows a usage error with that command’s usage only, so the error stays on screen', async () => {
    const run = await runCli(['stat', '--by', 'pods']);
    expect(run.code).toBe(2);
    const lines = run.stderr.split('\n');
    expect(lines[0]).toBe("telemux: --by: expected one of workload, service, edge, got 'pods'");
    expect(run.stderr).toContain('telemux stat [--by');
    expect(run.stderr).not.toContain('telemux serve');
    expect(lines.length).toBeLessThan(15);
  });

  it('refuses a --max-rss below what Node needs, such as a size given without its unit', async () => {
    const run = await runCli(['serve', ...LOOPBACK_ZERO, '--max-rss', '512']);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe('telemux: --max-rss: 512 bytes is less than Node itself needs (at least 64MiB); give a unit, e.g. 512MiB');
  });

  it('says a check of a directory without YAML files failed, as apply does, rather than ok', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'telemux-empty-'));
    try {
      const run = await runCli(['check', '-f', dir]);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`telemux: ${dir}: no *.yaml or *.yml files\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the variable when an empty admin token comes from TELEMUX_ADMIN_TOKEN', async () => {
    const run = await runCli(['serve', ...LOOPBACK_ZERO], 20_000, { TELEMUX_ADMIN_TOKEN: ' ' });
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe('telemux: TELEMUX_ADMIN_TOKEN: the token must not be empty');
  });

  it('refuses an argument that is not a flag, rather than ignoring it', async () => {
    // `serve my-config/` used to serve the embedded config, and `stat reviews-v1` every workload.
    for (const args of [['serve', 'my-config/', ...LOOPBACK_ZERO], ['stat', 'reviews-v1', '--server', 'http://127.0.0.1:1'], ['loadgen', '30s']]) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr.split('\n')[0]).toBe(`telemux: unexpected argument '${args[1]}' (flags start with --)`);
    }
  });

  it('answers a malformed HOST:PORT with a usage error naming the flag, not a stack trace', async () => {
    for (const args of [
      ['serve', ...LOOPBACK_ZERO, '--grpc-address', 'localhost'],
      ['serve', ...LOOPBACK_ZERO, '--metrics-address', '127.0.0.1:99999'],
      ['loadgen', '--target', 'telemux'],
    ]) {
      const run = await runCli(args);
      const flag = args.at(-2)!;
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr.split('\n')[0]).toBe(`telemux: ${flag}: expected HOST:PORT (e.g. 127.0.0.1:9091, port 0 picks a free one), got '${args.at(-1)}'`);
      expect(run.stderr).not.toContain('    at ');
    }
  });

  it('says which flag asked for a port that is taken, in one line, and exits 1', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const run = await runCli(['serve', ...LOOPBACK_ZERO, '--admin-address', `127.0.0.1:${port}`]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`telemux: cannot listen on --admin-address 127.0.0.1:${port}: the address is already in use (EADDRINUSE); not starting\n`);
      expect(run.stderr).not.toContain('    at ');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
