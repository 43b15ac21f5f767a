import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

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
});
