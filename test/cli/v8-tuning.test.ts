import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

describe('V8 tuning at start-up', () => {
  // Telemux turns allocation-site pretenuring off from inside the process (src/cli/v8-tuning.ts).
  // A Node whose V8 no longer knows the flag would print "unrecognized flag" on every start and
  // silently lose the tuning; this catches that on upgrade.
  it('is accepted by this Node without a word on stderr', async () => {
    const run = await runCli(['version']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
