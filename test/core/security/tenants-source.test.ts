import { Metadata } from '@grpc/grpc-js';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.js';
import { createLogger, type Logger } from '../../../src/core/log.js';
import { Admission } from '../../../src/core/security/admission.js';
import { TenantsSource } from '../../../src/core/security/tenants-source.js';

function bearer(token: string): Metadata {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the tenants file on disk', () => {
  let dir: string;
  let path: string;
  let lines: string[];
  let logger: Logger;
  const sources: TenantsSource[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'telemux-tenants-'));
    path = join(dir, 'tenants.yaml');
    lines = [];
    logger = createLogger({ level: 'debug', sink: { write: (l) => lines.push(l) } });
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  /** Replaces the file atomically, as a Secret volume or an editor's rename-over-save does. */
  async function replace(text: string): Promise<void> {
    await writeFile(`${path}.tmp`, text);
    await rename(`${path}.tmp`, path);
  }

  function start(admission: Admission, results: boolean[] = []): Promise<void> {
    const s = new TenantsSource({ path, admission, logger, clock: Date, pollIntervalMs: 50, onReload: (ok) => results.push(ok) });
    sources.push(s);
    return s.start();
  }

  it('is reloaded when it changes: a revoked token is refused and a new one admitted, without a restart', async () => {
    await replace('tenants:\n- {name: a, tokens: [old-token]}\n');
    const admission = new Admission();
    const results: boolean[] = [];
    await start(admission, results);
    expect(admission.admit(bearer('old-token'), 1, Date.now())).toEqual({ ok: true, tenant: 'a' });
    await replace('tenants:\n- {name: a, tokens: [new-token]}\n- {name: b, tokens: [b-token]}\n');
    await eventually(() => results.length > 0);
    expect(results).toEqual([true]);
    expect(admission.admit(bearer('old-token'), 1, Date.now()).ok).toBe(false);
    expect(admission.admit(bearer('new-token'), 1, Date.now())).toEqual({ ok: true, tenant: 'a' });
    expect(admission.admit(bearer('b-token'), 1, Date.now())).toEqual({ ok: true, tenant: 'b' });
    expect(lines.some((l) => l.includes('msg="tenants reloaded"') && l.includes('tenants=2'))).toBe(true);
  });

  it('keeps the previous tenants when an edit does not validate, logging each problem with its position', async () => {
    await replace('tenants:\n- {name: a, tokens: [token-a]}\n');
    const admission = new Admission();
    const results: boolean[] = [];
    await start(admission, results);
    await replace('tenants:\n- {name: a, tokens: [token-a], maxSeries: lots}\n');
    await eventually(() => results.length > 0);
    expect(results).toEqual([false]);
    expect(admission.admit(bearer('token-a'), 1, Date.now())).toEqual({ ok: true, tenant: 'a' });
    expect(lines.find((l) => l.includes('tenants file rejected'))).toContain(`${path}:2:43: tenants[0].maxSeries: expected a positive whole number`);
    // Fixed: applied.
    await replace('tenants:\n- {name: a, tokens: [token-a], maxSeries: 5}\n');
    await eventually(() => results.length > 1);
    expect(results).toEqual([false, true]);
    expect(admission.seriesCheck('a', Date.now())).toBeDefined();
  });

  it('stops startup when the file is missing or invalid', async () => {
    await expect(start(new Admission())).rejects.toThrow(ConfigError);
    await replace('tenants: nope\n');
    await expect(start(new Admission())).rejects.toThrow(/tenants\.yaml:1:10: tenants: 'tenants' must list at least one tenant/);
  });
});
