import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/log.js';
import { loadTlsMaterial, TlsError, TlsSource, type TlsMaterial } from '../../../src/core/security/tls.js';
import { HAVE_OPENSSL, issueCert, makeCa, type CertFiles } from '../../support/certs.js';

async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!HAVE_OPENSSL)('TLS material from files', () => {
  let dir: string;
  let ca: CertFiles;
  let server: CertFiles;
  const sources: TlsSource[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'telemux-tls-'));
    ca = makeCa(dir, 'ca');
    server = issueCert(dir, ca, { name: 'server', usage: 'server' });
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a certificate, its key and a client CA bundle', async () => {
    const m = await loadTlsMaterial({ cert: server.cert, key: server.key, clientCa: ca.cert });
    expect(m.leaf.serialNumber).toBe(server.serial);
    expect(m.ca?.equals(ca.pem)).toBe(true);
  });

  it('names the file it cannot read', async () => {
    const missing = join(dir, 'nope.crt');
    const e = await loadTlsMaterial({ cert: missing, key: server.key }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TlsError);
    expect(e).toMatchObject({ code: 'TLS_READ' });
    expect((e as Error).message).toContain(`certificate ${missing}: cannot read it`);
  });

  it('refuses a key that does not belong to the certificate, a non-PEM certificate, and a CA file without certificates', async () => {
    const other = issueCert(dir, ca, { name: 'other', usage: 'server' });
    await expect(loadTlsMaterial({ cert: server.cert, key: other.key })).rejects.toMatchObject({ code: 'TLS_INVALID', message: expect.stringContaining(`private key ${other.key}: unusable with certificate ${server.cert}`) });
    const junk = join(dir, 'junk.pem');
    await writeFile(junk, 'not a certificate\n');
    await expect(loadTlsMaterial({ cert: junk, key: server.key })).rejects.toMatchObject({ code: 'TLS_INVALID', message: expect.stringContaining(`certificate ${junk}: not a PEM certificate`) });
    await expect(loadTlsMaterial({ cert: server.cert, key: server.key, clientCa: junk })).rejects.toMatchObject({ code: 'TLS_INVALID', message: `client CA bundle ${junk}: no PEM certificate in it` });
  });

  it('publishes replaced files to subscribers, and keeps the last good material when a replacement is unusable', async () => {
    const results: boolean[] = [];
    const source = new TlsSource({ files: { cert: server.cert, key: server.key }, endpoint: 'test', logger: silentLogger, pollIntervalMs: 50, onReload: (ok) => results.push(ok) });
    sources.push(source);
    await source.start();
    const seen: TlsMaterial[] = [];
    source.subscribe((m) => seen.push(m));

    const rotated = issueCert(dir, ca, { name: 'server', usage: 'server' });
    await eventually(() => seen.length === 1);
    expect(seen[0]!.leaf.serialNumber).toBe(rotated.serial);
    expect(source.material.leaf.serialNumber).toBe(rotated.serial);

    await writeFile(server.key, 'garbage');
    await eventually(() => results.length === 2);
    expect(results).toEqual([true, false]);
    expect(seen).toHaveLength(1);
    expect(source.material.leaf.serialNumber).toBe(rotated.serial);
  });

  it('stops watching when closed', async () => {
    const source = new TlsSource({ files: { cert: server.cert, key: server.key }, endpoint: 'test', logger: silentLogger, pollIntervalMs: 20 });
    await source.start();
    const seen: TlsMaterial[] = [];
    source.subscribe((m) => seen.push(m));
    await source.close();
    issueCert(dir, ca, { name: 'server', usage: 'server' });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([]);
  });
});
