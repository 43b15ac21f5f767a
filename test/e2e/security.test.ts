import { credentials, Metadata, status, type ChannelCredentials } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildReport, int, str } from '../../src/client/compressor.js';
import { defaultConfigPath } from '../../src/cli/paths.js';
import { formatHostPort } from '../../src/core/server/http.js';
import { MixerClient, type ReportRequest } from '../../src/gen/istio/mixer/v1/mixer.js';
import { HAVE_OPENSSL, issueCert, makeCa, type CertFiles } from '../support/certs.js';
import { runCli, serveCli } from '../support/cli.js';
import { report, startTelemux, type Running } from '../support/harness.js';
import { parsePrometheusText, sampleOf } from '../support/prom-text.js';

const REPORT = buildReport([{ 'context.protocol': str('http'), 'response.code': int(200), 'destination.service.host': str('tls.default.svc.cluster.local') }]);

/** Serial numbers as both sides print them, without leading zeros. */
const serialOf = (s: string): string => s.toUpperCase().replace(/^0+/, '');

interface TlsClient {
  readonly client: InstanceType<typeof MixerClient>;
  /** Serial of the server certificate of each handshake this client made. */
  readonly serials: string[];
  report(req?: ReportRequest, metadata?: Metadata): Promise<{ code: number; details: string }>;
  close(): void;
}

function grpcCredentials(ca: Buffer, serials: string[], identity?: CertFiles & { keyPem: Buffer }): ChannelCredentials {
  return credentials.createSsl(ca, identity?.keyPem ?? null, identity?.pem ?? null, {
    checkServerIdentity: (host: string, cert: PeerCertificate) => {
      serials.push(serialOf(cert.serialNumber));
      return checkServerIdentity(host, cert);
    },
  });
}

const clients: TlsClient[] = [];

function tlsClient(address: string, ca: Buffer, identity?: CertFiles & { keyPem: Buffer }): TlsClient {
  const serials: string[] = [];
  const client = new MixerClient(address, grpcCredentials(ca, serials, identity));
  const c: TlsClient = {
    client,
    serials,
    report: (req = REPORT, metadata) =>
      new Promise((resolve) => {
        const md = metadata ?? new Metadata();
        client.report(req, md, { deadline: Date.now() + 5_000 }, (err) => resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '' }));
      }),
    close: () => client.close(),
  };
  clients.push(c);
  return c;
}

function plaintextReport(address: string): Promise<number> {
  const client = new MixerClient(address, credentials.createInsecure());
  return new Promise((resolve) => {
    client.report(REPORT, new Metadata(), { deadline: Date.now() + 5_000 }, (err) => {
      client.close();
      resolve(err ? err.code : 0);
    });
  });
}

interface HttpsResult {
  readonly status: number;
  readonly body: string;
  readonly serial: string;
}

/** One HTTPS request on a fresh connection (no agent), so each sees the certificate served now. */
function httpsGet(url: string, opts: { ca: Buffer; cert?: Buffer; key?: Buffer; headers?: Record<string, string> }): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca: opts.ca, cert: opts.cert, key: opts.key, headers: opts.headers, agent: false }, (res) => {
      const serial = serialOf((res.socket as TLSSocket).getPeerCertificate().serialNumber);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 8_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Pki {
  readonly dir: string;
  readonly ca: CertFiles;
  readonly server: CertFiles;
  readonly clientCa: CertFiles;
  readonly client: CertFiles & { keyPem: Buffer };
  /** A client certificate from a CA the server does not trust. */
  readonly stranger: CertFiles & { keyPem: Buffer };
}

async function makePki(): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), 'telemux-pki-'));
  const ca = makeCa(dir, 'server-ca');
  const clientCa = makeCa(dir, 'client-ca');
  const otherCa = makeCa(dir, 'other-ca');
  const server = issueCert(dir, ca, { name: 'telemux', usage: 'server' });
  const withKey = (c: CertFiles): CertFiles & { keyPem: Buffer } => ({ ...c, keyPem: readFileSync(c.key) });
  return {
    dir,
    ca,
    server,
    clientCa,
    client: withKey(issueCert(dir, clientCa, { name: 'sidecar', usage: 'client' })),
    stranger: withKey(issueCert(dir, otherCa, { name: 'stranger', usage: 'client' })),
  };
}

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe.skipIf(!HAVE_OPENSSL)('TLS on the gRPC endpoint', () => {
  let pki: Pki;
  beforeAll(async () => {
    pki = await makePki();
  });
  afterAll(async () => {
    await rm(pki.dir, { recursive: true, force: true });
  });

  it('accepts a Report from a client that trusts the CA, and refuses a plaintext client', async () => {
    const t = await startTelemux({ grpcTls: { cert: pki.server.cert, key: pki.server.key } });
    try {
      const address = formatHostPort(t.addresses.grpc);
      const c = tlsClient(address, pki.ca.pem);
      expect(await c.report()).toEqual({ code: 0, details: '' });
      expect(c.serials).toEqual([serialOf(pki.server.serial)]);
      expect(await plaintextReport(address)).toBe(status.UNAVAILABLE);
      // A client that does not trust the server's CA refuses the handshake itself.
      const distrustful = tlsClient(address, pki.clientCa.pem);
      expect((await distrustful.report()).code).toBe(status.UNAVAILABLE);
    } finally {
      await t.stop();
    }
  });

  it('with a client CA (mutual TLS): refuses a client without a certificate or with one from another CA, and accepts one signed by the client CA', async () => {
    const t = await startTelemux({ grpcTls: { cert: pki.server.cert, key: pki.server.key, clientCa: pki.clientCa.cert } });
    try {
      const address = formatHostPort(t.addresses.grpc);
      expect((await tlsClient(address, pki.ca.pem).report()).code).toBe(status.UNAVAILABLE);
      expect((await tlsClient(address, pki.ca.pem, pki.stranger).report()).code).toBe(status.UNAVAILABLE);
      expect(await tlsClient(address, pki.ca.pem, pki.client).report()).toEqual({ code: 0, details: '' });
      expect(await plaintextReport(address)).toBe(status.UNAVAILABLE);
    } finally {
      await t.stop();
    }
  });

  it('serves a replaced certificate to new connections without a restart, while open connections keep working', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'telemux-rotate-'));
    const first = issueCert(dir, pki.ca, { name: 'telemux', usage: 'server' });
    const t = await startTelemux({ grpcTls: { cert: first.cert, key: first.key }, securityPollIntervalMs: 50 });
    try {
      const address = formatHostPort(t.addresses.grpc);
      const before = tlsClient(address, pki.ca.pem);
      expect((await before.report()).code).toBe(0);
      expect(before.serials).toEqual([serialOf(first.serial)]);

      const second = issueCert(dir, pki.ca, { name: 'telemux', usage: 'server' });
      expect(second.serial).not.toBe(first.serial);
      const seen = await eventually(
        async () => {
          const c = tlsClient(address, pki.ca.pem);
          const r = await c.report();
          c.close();
          return { code: r.code, serial: c.serials[0] };
        },
        (v) => v.serial === serialOf(second.serial),
      );
      expect(seen).toEqual({ code: 0, serial: serialOf(second.serial) });
      // The connection made before the rotation was not torn down.
      expect((await before.report()).code).toBe(0);
      expect(before.serials).toEqual([serialOf(first.serial)]);
    } finally {
      await t.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!HAVE_OPENSSL)('TLS on the HTTP endpoints', () => {
  let pki: Pki;
  beforeAll(async () => {
    pki = await makePki();
  });
  afterAll(async () => {
    await rm(pki.dir, { recursive: true, force: true });
  });

  it('serves /metrics and the admin API over HTTPS, and still asks the admin token', async () => {
    const t = await startTelemux({ httpTls: { cert: pki.server.cert, key: pki.server.key }, adminToken: 'admin-secret' });
    try {
      expect((await t.report(REPORT)).code).toBe(0);
      const metrics = await httpsGet(`https://${formatHostPort(t.addresses.metrics)}/metrics`, { ca: pki.ca.pem });
      expect(metrics.status).toBe(200);
      expect(metrics.serial).toBe(serialOf(pki.server.serial));
      expect(metrics.body).toContain('istio_requests_total');
      const admin = `https://${formatHostPort(t.addresses.admin)}`;
      expect((await httpsGet(`${admin}/healthz`, { ca: pki.ca.pem })).body).toBe('ok\n');
      expect((await httpsGet(`${admin}/api/v1/config`, { ca: pki.ca.pem })).status).toBe(401);
      const config = await httpsGet(`${admin}/api/v1/config`, { ca: pki.ca.pem, headers: { authorization: 'Bearer admin-secret' } });
      expect(config.status).toBe(200);
      expect(JSON.parse(config.body)).toMatchObject({ hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      const self = parsePrometheusText((await httpsGet(`${admin}/metrics`, { ca: pki.ca.pem })).body);
      expect(Number(sampleOf(self, 'telemux_tls_certificate_expiry_timestamp_seconds', { endpoint: 'http' })?.value)).toBeGreaterThan(Date.now() / 1000);
      // Plain HTTP on the HTTPS port gets no answer.
      await expect(fetch(`http://${formatHostPort(t.addresses.metrics)}/metrics`)).rejects.toThrow();
    } finally {
      await t.stop();
    }
  });

  it('with a client CA, answers only clients with a certificate signed by it', async () => {
    const t = await startTelemux({ httpTls: { cert: pki.server.cert, key: pki.server.key, clientCa: pki.clientCa.cert } });
    try {
      const url = `https://${formatHostPort(t.addresses.metrics)}/metrics`;
      await expect(httpsGet(url, { ca: pki.ca.pem })).rejects.toThrow();
      await expect(httpsGet(url, { ca: pki.ca.pem, cert: pki.stranger.pem, key: pki.stranger.keyPem })).rejects.toThrow();
      expect((await httpsGet(url, { ca: pki.ca.pem, cert: pki.client.pem, key: pki.client.keyPem })).status).toBe(200);
      const admin = `https://${formatHostPort(t.addresses.admin)}/healthz`;
      expect((await httpsGet(admin, { ca: pki.ca.pem, cert: pki.client.pem, key: pki.client.keyPem })).status).toBe(200);
    } finally {
      await t.stop();
    }
  });

  it('lets telemux apply and stat reach an admin API that asks for a client certificate, through --ca-file, --cert and --key', async () => {
    const t = await startTelemux({ httpTls: { cert: pki.server.cert, key: pki.server.key, clientCa: pki.clientCa.cert }, adminToken: 'admin-secret' });
    try {
      const server = `https://${formatHostPort(t.addresses.admin)}`;
      const tls = ['--ca-file', pki.ca.cert, '--cert', pki.client.cert, '--key', pki.client.key];
      const stat = await runCli(['stat', '-o', 'json', '--server', server, '--token', 'admin-secret', ...tls]);
      expect(stat.stderr).toBe('');
      expect(stat.code).toBe(0);
      expect(JSON.parse(stat.stdout)).toMatchObject({ by: 'workload' });
      const apply = await runCli(['apply', '-f', defaultConfigPath(), '--server', server, '--token', 'admin-secret', ...tls]);
      expect(apply.stderr).toBe('');
      expect(apply.code).toBe(0);
      // Without the client certificate the handshake fails, and the message says which flags matter.
      const bare = await runCli(['stat', '--server', server, '--token', 'admin-secret', '--ca-file', pki.ca.cert]);
      expect(bare.code).toBe(1);
      expect(bare.stderr).toContain('--ca-file, --cert/--key');
      // A missing file is a usage error naming its flag.
      const missing = await runCli(['stat', '--server', server, '--ca-file', join(pki.dir, 'nope.crt')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('--ca-file: cannot read');
    } finally {
      await t.stop();
    }
  });

  it('serves a replaced certificate to new connections without a restart, and keeps the old one while a replacement is unusable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'telemux-rotate-'));
    const first = issueCert(dir, pki.ca, { name: 'telemux', usage: 'server' });
    const t = await startTelemux({ httpTls: { cert: first.cert, key: first.key }, securityPollIntervalMs: 50 });
    try {
      const url = `https://${formatHostPort(t.addresses.metrics)}/metrics`;
      const selfUrl = `https://${formatHostPort(t.addresses.admin)}/metrics`;
      expect((await httpsGet(url, { ca: pki.ca.pem })).serial).toBe(serialOf(first.serial));

      const second = issueCert(dir, pki.ca, { name: 'telemux', usage: 'server' });
      const rotated = await eventually(
        () => httpsGet(url, { ca: pki.ca.pem }),
        (r) => r.serial === serialOf(second.serial),
      );
      expect(rotated).toMatchObject({ status: 200, serial: serialOf(second.serial) });

      // A certificate whose key is not on disk yet (written in the wrong order) is not taken.
      const mismatched = issueCert(dir, pki.ca, { name: 'next', usage: 'server' });
      await writeFile(`${first.cert}.tmp`, mismatched.pem);
      await rename(`${first.cert}.tmp`, first.cert);
      const rejected = await eventually(
        async () => parsePrometheusText((await httpsGet(selfUrl, { ca: pki.ca.pem })).body),
        (f) => sampleOf(f, 'telemux_security_reloads_total', { source: 'http-tls', result: 'rejected' }) !== undefined,
      );
      expect(sampleOf(rejected, 'telemux_security_reloads_total', { source: 'http-tls', result: 'rejected' })?.value).not.toBeUndefined();
      expect((await httpsGet(url, { ca: pki.ca.pem })).serial).toBe(serialOf(second.serial));

      // Its key arrives: both are taken together.
      await writeFile(`${first.key}.tmp`, await readFile(mismatched.key));
      await rename(`${first.key}.tmp`, first.key);
      const fixed = await eventually(
        () => httpsGet(url, { ca: pki.ca.pem }),
        (r) => r.serial === serialOf(mismatched.serial),
      );
      expect(fixed.serial).toBe(serialOf(mismatched.serial));
    } finally {
      await t.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!HAVE_OPENSSL)('the serve command with TLS', () => {
  let pki: Pki;
  beforeAll(async () => {
    pki = await makePki();
  });
  afterAll(async () => {
    await rm(pki.dir, { recursive: true, force: true });
  });

  it('serves gRPC and HTTP over mutual TLS as its flags say', async () => {
    const served = await serveCli([
      '--grpc-tls-cert', pki.server.cert, '--grpc-tls-key', pki.server.key, '--grpc-tls-client-ca', pki.clientCa.cert,
      '--http-tls-cert', pki.server.cert, '--http-tls-key', pki.server.key,
      '--drain-duration', '0s',
    ]);
    try {
      expect(served.stderr()).toMatch(/msg="telemux started" .* grpc_tls=mutual http_tls=on/);
      expect((await tlsClient(served.grpc, pki.ca.pem, pki.client).report()).code).toBe(0);
      expect((await tlsClient(served.grpc, pki.ca.pem).report()).code).toBe(status.UNAVAILABLE);
      expect((await httpsGet(`https://${served.metrics}/metrics`, { ca: pki.ca.pem })).status).toBe(200);
    } finally {
      served.child.kill('SIGTERM');
      await served.exited;
    }
  });

  it('does not start when a TLS file cannot be used, and says which', async () => {
    const missing = join(pki.dir, 'missing.key');
    const run = await runCli(['serve', '--grpc-address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0', '--grpc-tls-cert', pki.server.cert, '--grpc-tls-key', missing]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`grpc endpoint TLS: private key ${missing}: cannot read it`);
    expect(run.stderr).toContain('[TLS_READ]; not starting');
    expect(run.stderr).not.toContain('telemux started');
  });
});

const LOOPBACK_FLAGS = ['--grpc-address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0'];

describe('the serve command refuses unsafe or incomplete security flags', () => {
  it('refuses to expose the admin API beyond loopback without a token (exit 2), before binding anything', async () => {
    const run = await runCli(['serve', '--grpc-address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0', '--admin-address', '0.0.0.0:0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the admin API would listen on 0.0.0.0, beyond loopback, without a token');
    expect(run.stderr).toContain('--admin-insecure');
    expect(run.stderr).not.toContain('telemux started');
  });

  it('needs both the certificate and the key of an endpoint, and a certificate before a client CA', async () => {
    const a = await runCli(['serve', ...LOOPBACK_FLAGS, '--grpc-tls-cert', 'server.crt']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--grpc-tls-cert and --grpc-tls-key go together; the key is missing');
    const b = await runCli(['serve', ...LOOPBACK_FLAGS, '--http-tls-client-ca', 'ca.crt']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--http-tls-client-ca needs --http-tls-cert and --http-tls-key');
  });

  it('does not start with an invalid tenants file, listing each problem with its position', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'telemux-tenants-'));
    try {
      const path = join(dir, 'tenants.yaml');
      await writeFile(path, 'tenants:\n- {name: a, tokens: [t], maxSeries: 0}\n');
      const run = await runCli(['serve', '--grpc-address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0', '--tenants', path]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${path}:2:37: tenants[0].maxSeries: expected a positive whole number, got number 0 [TENANTS_FIELD]`);
      expect(run.stderr).not.toContain('telemux started');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Tenants on the Report path. These need the Report handler to call Telemux.admission (see the
// integration note in the security hand-over).
// ---------------------------------------------------------------------------------------------

const HITS_CONFIG = `
apiVersion: config.istio.io/v1alpha2
kind: attributemanifest
metadata: {name: attrs, namespace: istio-system}
spec:
  attributes:
    request.path: {valueType: STRING}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: hits, namespace: istio-system}
spec:
  compiledTemplate: metric
  params: {value: "1", dimensions: {tenant: context.tenant | "none", path: request.path | "none"}}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: ahits, namespace: istio-system}
spec:
  compiledTemplate: metric
  params: {value: "1", dimensions: {path: request.path | "none"}}
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: prom, namespace: istio-system}
spec:
  compiledAdapter: prometheus
  params:
    metrics:
    - {name: hits_total, instance_name: hits.instance.istio-system, kind: COUNTER, label_names: [tenant, path]}
    - {name: a_hits_total, instance_name: ahits.instance.istio-system, kind: COUNTER, label_names: [path]}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: all, namespace: istio-system}
spec:
  actions: [{handler: prom, instances: [hits]}]
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: only-a, namespace: istio-system}
spec:
  match: context.tenant == "team-a"
  actions: [{handler: prom, instances: [ahits]}]
`;

const TENANTS = `
tenants:
- name: team-a
  tokens: [token-a]
  rateLimit: {setsPerSecond: 1, burst: 5}
  maxSeries: 2
- name: team-b
  tokens: [token-b]
`;

function bearer(token: string): Metadata {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

const paths = (...ps: string[]): ReportRequest => buildReport(ps.map((p) => ({ 'request.path': str(p) })));

describe('tenants on the Report path (needs the Report handler wired to Telemux.admission)', () => {
  let dir: string;
  let tenantsPath: string;
  let t: Running;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'telemux-tenants-'));
    tenantsPath = join(dir, 'tenants.yaml');
    await writeFile(tenantsPath, TENANTS);
    t = await startTelemux({ configYaml: HITS_CONFIG, tenantsPath, securityPollIntervalMs: 50 });
  });
  afterEach(async () => {
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a Report without a valid bearer token with UNAUTHENTICATED, and records nothing of it', async () => {
    expect(await report(t.client, paths('/x'))).toEqual({ code: status.UNAUTHENTICATED, details: 'missing or invalid bearer token' });
    expect(await report(t.client, paths('/x'), bearer('token-c'))).toEqual({ code: status.UNAUTHENTICATED, details: 'missing or invalid bearer token' });
    // Over the sets limit too: without a valid token, nothing about the Report is judged.
    expect(await report(t.client, paths(...new Array<string>(1001).fill('/z')))).toEqual({ code: status.UNAUTHENTICATED, details: 'missing or invalid bearer token' });
    expect(await report(t.client, paths('/y'), bearer('token-b'))).toEqual({ code: 0, details: '' });
    const families = await t.scrape();
    expect(sampleOf(families, 'istio_hits_total', { path: '/x' })).toBeUndefined();
    expect(sampleOf(families, 'istio_hits_total', { tenant: 'team-b', path: '/y' })?.value).toBe('1');
    const self = parsePrometheusText(await (await t.admin('/metrics')).text());
    expect(sampleOf(self, 'telemux_reports_total', { code: 'UNAUTHENTICATED' })?.value).toBe('3');
    expect(sampleOf(self, 'telemux_admission_refusals_total', { tenant: '', reason: 'unauthenticated' })?.value).toBe('3');
  });

  it('refuses a tenant over its rate limit with RESOURCE_EXHAUSTED while another tenant keeps flowing', async () => {
    expect((await report(t.client, paths('/1', '/1', '/1', '/1', '/1'), bearer('token-a'))).code).toBe(0);
    const over = await report(t.client, paths('/1', '/1'), bearer('token-a'));
    expect(over).toEqual({ code: status.RESOURCE_EXHAUSTED, details: 'tenant "team-a" exceeded its rate limit of 1 sets/s' });
    for (let i = 0; i < 20; i++) expect((await report(t.client, paths('/b', '/b', '/b'), bearer('token-b'))).code).toBe(0);
    const families = await t.scrape();
    expect(sampleOf(families, 'istio_hits_total', { tenant: 'team-a', path: '/1' })?.value).toBe('5');
    expect(sampleOf(families, 'istio_hits_total', { tenant: 'team-b', path: '/b' })?.value).toBe('60');
    const self = parsePrometheusText(await (await t.admin('/metrics')).text());
    expect(sampleOf(self, 'telemux_admission_refusals_total', { tenant: 'team-a', reason: 'rate_limited' })?.value).toBe('1');
  });

  it('refuses a Report that would take a tenant past its series quota, records none of it, and keeps known series and other tenants flowing', async () => {
    // team-a: maxSeries 2, over hits{tenant,path} and a_hits{path}: '/1' alone is already two series.
    expect((await report(t.client, paths('/1'), bearer('token-a'))).code).toBe(0);
    const refused = await report(t.client, paths('/1', '/2'), bearer('token-a'));
    expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused.details).toContain('tenant "team-a" exceeded its series quota of 2');
    expect((await report(t.client, paths('/1'), bearer('token-a'))).code).toBe(0);
    expect((await report(t.client, paths('/2', '/3', '/4'), bearer('token-b'))).code).toBe(0);
    const families = await t.scrape();
    expect(sampleOf(families, 'istio_hits_total', { tenant: 'team-a', path: '/1' })?.value).toBe('2');
    expect(sampleOf(families, 'istio_a_hits_total', { path: '/1' })?.value).toBe('2');
    expect(sampleOf(families, 'istio_hits_total', { tenant: 'team-a', path: '/2' })).toBeUndefined();
    expect(sampleOf(families, 'istio_a_hits_total', { path: '/2' })).toBeUndefined();
    expect(sampleOf(families, 'istio_hits_total', { tenant: 'team-b', path: '/2' })?.value).toBe('1');
    const self = parsePrometheusText(await (await t.admin('/metrics')).text());
    expect(sampleOf(self, 'telemux_admission_refusals_total', { tenant: 'team-a', reason: 'series_quota' })?.value).toBe('1');
    expect(sampleOf(self, 'telemux_tenant_series', { tenant: 'team-a' })?.value).toBe('2');
  });

  it('gives expressions the tenant as context.tenant, whatever the sidecar claims', async () => {
    const forged = buildReport([{ 'request.path': str('/f'), 'context.tenant': str('team-a') }]);
    expect((await report(t.client, forged, bearer('token-b'))).code).toBe(0);
    expect((await report(t.client, paths('/a'), bearer('token-a'))).code).toBe(0);
    const families = await t.scrape();
    expect(sampleOf(families, 'istio_hits_total', { tenant: 'team-b', path: '/f' })?.value).toBe('1');
    expect(sampleOf(families, 'istio_hits_total', { tenant: 'team-a', path: '/f' })).toBeUndefined();
    // The rule matching context.tenant == "team-a" saw team-a's Report only.
    expect(sampleOf(families, 'istio_a_hits_total', { path: '/a' })?.value).toBe('1');
    expect(sampleOf(families, 'istio_a_hits_total', { path: '/f' })).toBeUndefined();
  });

  it('applies an edited tenants file without a restart: a revoked token is refused, a new one admitted', async () => {
    expect((await report(t.client, paths('/1'), bearer('token-b'))).code).toBe(0);
    await writeFile(`${tenantsPath}.tmp`, 'tenants:\n- {name: team-b, tokens: [token-b2]}\n');
    await rename(`${tenantsPath}.tmp`, tenantsPath);
    const revoked = await eventually(
      () => report(t.client, paths('/1'), bearer('token-b')),
      (r) => r.code === status.UNAUTHENTICATED,
    );
    expect(revoked.code).toBe(status.UNAUTHENTICATED);
    expect((await report(t.client, paths('/1'), bearer('token-b2'))).code).toBe(0);
  });
});

describe('context.tenant without a tenants file (needs the Report handler wired to Telemux.admission)', () => {
  it('is absent, even when a sidecar sends it', async () => {
    const t = await startTelemux({ configYaml: HITS_CONFIG });
    try {
      const forged = buildReport([{ 'request.path': str('/f'), 'context.tenant': str('team-a') }]);
      expect((await report(t.client, forged)).code).toBe(0);
      const families = await t.scrape();
      expect(sampleOf(families, 'istio_hits_total', { tenant: 'none', path: '/f' })?.value).toBe('1');
      expect(sampleOf(families, 'istio_a_hits_total', { path: '/f' })).toBeUndefined();
    } finally {
      await t.stop();
    }
  });
});
