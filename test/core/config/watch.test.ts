import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigWatcher } from '../../../src/core/config/watch.js';
import { silentLogger } from '../../../src/core/log.js';

/** Lays out a directory as the kubelet's AtomicWriter does for a ConfigMap volume. */
async function configMapVolume(dir: string, version: string, content: string): Promise<void> {
  const data = join(dir, `..${version}`);
  await mkdir(data);
  await writeFile(join(data, 'telemux.yaml'), content);
  await symlink(`..${version}`, join(dir, '..data_tmp'));
  // The swap is one rename of the `..data` symlink; the user-visible symlinks never change.
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

describe('the config watcher', () => {
  let dir: string | undefined;
  let watcher: ConfigWatcher | undefined;
  afterEach(async () => {
    await watcher?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sees a single --config file in a Kubernetes ConfigMap volume change when the volume swaps its ..data symlink', async () => {
    dir = await mkdtemp(join(tmpdir(), 'telemux-cm-'));
    await configMapVolume(dir, '2024_01_01_00_00_00.1', 'v: 1\n');
    await symlink('..data/telemux.yaml', join(dir, 'telemux.yaml'));
    let changes = 0;
    watcher = new ConfigWatcher({ path: join(dir, 'telemux.yaml'), debounceMs: 30, logger: silentLogger, onChange: async () => void changes++ });
    await watcher.start();

    await configMapVolume(dir, '2024_01_01_00_01_00.2', 'v: 2\n');
    expect(await waitFor(() => changes > 0, 3000)).toBe(true);
  });

  it('still ignores other files next to a single --config file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'telemux-cm-'));
    await writeFile(join(dir, 'telemux.yaml'), 'v: 1\n');
    let changes = 0;
    watcher = new ConfigWatcher({ path: join(dir, 'telemux.yaml'), debounceMs: 30, logger: silentLogger, onChange: async () => void changes++ });
    await watcher.start();
    await writeFile(join(dir, 'other.yaml'), 'x: 1\n');
    await writeFile(join(dir, '.telemux.yaml.swp'), 'x');
    expect(await waitFor(() => changes > 0, 400)).toBe(false);
    await writeFile(join(dir, 'telemux.yaml'), 'v: 2\n');
    expect(await waitFor(() => changes > 0, 3000)).toBe(true);
  });
});
