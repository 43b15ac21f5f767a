import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli, serveCli } from '../support/cli.js';

const LAUNCHER = fileURLToPath(new URL('../../scripts/telemux.sh', import.meta.url));
const HAVE_TASKSET = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const NODE = { NODE: process.execPath };

/** The Node flags a `serve` started this way logs at start-up; it is stopped straight after. */
async function nodeFlags(command: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const s = await serveCli(['--drain-duration', '0s'], { command, env: { ...NODE, TELEMUX_SINGLE_THREADED_GC: '', ...env } });
  try {
    return /node_flags="([^"]*)"/.exec(s.stderr())?.[1] ?? /node_flags=(\S+)/.exec(s.stderr())?.[1] ?? '';
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
}

describe('scripts/telemux.sh, the launcher of npm start and the container image', () => {
  it.skipIf(!HAVE_TASKSET)('adds --single-threaded-gc when the process may use one CPU, and not when it may use more', async () => {
    expect(await nodeFlags(['taskset', '-c', '0', 'sh', LAUNCHER])).toBe('--initial-old-space-size=128 --single-threaded-gc');
    expect(await nodeFlags(['taskset', '-c', '0', 'sh', LAUNCHER], { OMP_NUM_THREADS: '4' })).toBe('--initial-old-space-size=128 --single-threaded-gc');
    expect(await nodeFlags(['taskset', '-c', '0', 'sh', LAUNCHER], { TELEMUX_SINGLE_THREADED_GC: '0' })).toBe('--initial-old-space-size=128');
  });

  it.skipIf(spawnSync('nproc').stdout?.toString().trim() === '1')('leaves V8 its helper threads where spare CPUs exist, unless told otherwise; adds TELEMUX_NODE_FLAGS', async () => {
    expect(await nodeFlags(['sh', LAUNCHER])).toBe('--initial-old-space-size=128');
    expect(await nodeFlags(['sh', LAUNCHER], { TELEMUX_SINGLE_THREADED_GC: '1', TELEMUX_NODE_FLAGS: '--max-semi-space-size=16' })).toBe(
      '--initial-old-space-size=128 --single-threaded-gc --max-semi-space-size=16',
    );
  });

  it('refuses an unknown TELEMUX_SINGLE_THREADED_GC value with a message that says what it takes', () => {
    const run = spawnSync('sh', [LAUNCHER, 'version'], { env: { ...process.env, ...NODE, TELEMUX_SINGLE_THREADED_GC: 'yes' }, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe("telemux: TELEMUX_SINGLE_THREADED_GC must be auto, 1 or 0, not 'yes'\n");
  });

  it('passes its arguments to the CLI', async () => {
    const direct = await runCli(['version']);
    const run = spawnSync('sh', [LAUNCHER, 'version'], { env: { ...process.env, ...NODE }, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(direct.stdout);
  });
});
