/**
 * Telemux driven by a gRPC implementation nobody here wrote: Python's grpcio (gRPC C-core, the
 * core behind the C++, Python, Ruby and PHP clients). The rest of the suite talks to the server
 * with grpc-js, which shares the server's HTTP/2 and framing code; these tests check the wire
 * format against a client that shares nothing with it. Skipped without python3-grpcio.
 */
import { status } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, int, str, type AttributeSet } from '../../src/client/compressor.js';
import { formatHostPort } from '../../src/core/server/http.js';
import { CheckRequest, CheckResponse, ReportRequest } from '../../src/gen/istio/mixer/v1/mixer.js';
import { APPENDIX_A_LABELS, appendixA } from '../support/appendix-a.js';
import { HAVE_OPENSSL, issueCert, makeCa } from '../support/certs.js';
import { GRPCIO_PYTHON, grpcioCalls, type GrpcioCall } from '../support/grpcio.js';
import { startTelemux, type Running } from '../support/harness.js';
import { sampleOf } from '../support/prom-text.js';

const REPORT = '/istio.mixer.v1.Mixer/Report';
const CHECK = '/istio.mixer.v1.Mixer/Check';

const report = (req: ReportRequest, extra: Omit<GrpcioCall, 'method' | 'request'> = {}): GrpcioCall => ({ method: REPORT, request: ReportRequest.encode(req).finish(), ...extra });

function httpSet(host: string, code: number): AttributeSet {
  return {
    'context.protocol': str('http'),
    'context.reporter.kind': str('inbound'),
    'destination.service.host': str(host),
    'destination.service.name': str(host.split('.')[0]!),
    'destination.service.namespace': str('default'),
    'response.code': int(code),
    'request.size': int(10),
  };
}

function batch(host: string, n: number): ReportRequest {
  const sets: AttributeSet[] = [];
  for (let i = 0; i < n; i++) sets.push(httpSet(host, i % 4 === 0 ? 503 : 200));
  return buildReport(sets);
}

const requests = (families: Awaited<ReturnType<Running['scrape']>>, host: string, code: string): string | undefined =>
  sampleOf(families, 'istio_requests_total', { destination_service: host, response_code: code })?.value;

describe.skipIf(GRPCIO_PYTHON === undefined)('a gRPC C-core client (python3-grpcio) against Telemux', () => {
  let t: Running;
  let target: string;
  beforeAll(async () => {
    t = await startTelemux();
    target = formatHostPort(t.addresses.grpc);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('reports the spec Appendix A request and gets exactly the series it describes', async () => {
    const [answer] = await grpcioCalls(target, [report(appendixA())]);
    expect(answer).toMatchObject({ code: 0, name: 'OK' });
    // ReportResponse is empty: zero bytes on the wire.
    expect(answer!.response).toEqual(Buffer.alloc(0));
    const families = await t.scrape();
    expect(sampleOf(families, 'istio_requests_total', APPENDIX_A_LABELS)?.value).toBe('1');
    const duration = sampleOf(families, 'istio_request_duration_seconds', APPENDIX_A_LABELS)!;
    expect(duration.count).toBe('1');
    expect(Number(duration.sum)).toBe(0.0125);
  });

  it('counts 100-set batches exactly, sent plain, gzip- and deflate-compressed', async () => {
    const host = 'interop.default.svc.cluster.local';
    const answers = await grpcioCalls(target, [report(batch(host, 100)), report(batch(host, 100), { compression: 'gzip' }), report(batch(host, 100), { compression: 'deflate' })]);
    expect(answers.map((a) => a.name)).toEqual(['OK', 'OK', 'OK']);
    const families = await t.scrape();
    expect(requests(families, host, '200')).toBe('225');
    expect(requests(families, host, '503')).toBe('75');
  });

  it('counts 200 Reports of several DATA frames each, sent all at once, exactly: through both sides\' flow control', async () => {
    const host = 'concurrent.default.svc.cluster.local';
    // Each Report is several times the 16 KiB frame size and the 200 together 40 times the
    // connection window: C-core interleaves their DATA frames and waits on the server's updates.
    const big = (): ReportRequest => {
      const sets: AttributeSet[] = [];
      for (let i = 0; i < 100; i++) sets.push({ ...httpSet(host, i % 4 === 0 ? 503 : 200), 'request.useragent': str(randomBytes(150).toString('hex')) });
      return buildReport(sets);
    };
    const calls = Array.from({ length: 200 }, () => report(big()));
    expect(Math.min(...calls.map((c) => c.request.length))).toBeGreaterThan(16 * 1024);
    const answers = await grpcioCalls(target, calls, undefined, true);
    expect(answers.filter((a) => a.name !== 'OK')).toEqual([]);
    const families = await t.scrape();
    expect(requests(families, host, '200')).toBe(String(200 * 75));
    expect(requests(families, host, '503')).toBe(String(200 * 25));
  });

  it('answers Check with OK for one minute or 10000 uses', async () => {
    const request = CheckRequest.encode(CheckRequest.fromPartial({ attributes: appendixA().attributes[0], globalWordCount: 222 })).finish();
    const [answer] = await grpcioCalls(target, [{ method: CHECK, request }]);
    expect(answer!.name).toBe('OK');
    const precondition = CheckResponse.decode(answer!.response!).precondition!;
    expect(precondition.status?.code ?? 0).toBe(0);
    expect(precondition.validUseCount).toBe(10000);
    expect(precondition.validDuration).toEqual({ seconds: 60n, nanos: 0 });
  });

  it('gets INVALID_ARGUMENT naming the record for a bad set, nothing of that Report recorded, and the next Report on the same channel goes through', async () => {
    const host = 'rejected-interop.default.svc.cluster.local';
    const bad = batch(host, 3);
    bad.attributes[1]!.strings[17] = -99;
    const [refused, next] = await grpcioCalls(target, [report(bad), report(batch(host, 1))]);
    expect(refused).toMatchObject({ code: status.INVALID_ARGUMENT, name: 'INVALID_ARGUMENT' });
    expect(refused!.details).toMatch(/^attributes\[1\]: attribute index -99 is not defined in the available dictionaries/);
    expect(next!.name).toBe('OK');
    const families = await t.scrape();
    expect(requests(families, host, '503')).toBe('1');
    expect(requests(families, host, '200')).toBeUndefined();
  });

  it('gets RESOURCE_EXHAUSTED for a message above the 1 MiB limit, and UNIMPLEMENTED for a method Mixer does not have', async () => {
    const [big, unknown] = await grpcioCalls(target, [
      { method: REPORT, request: randomBytes(1024 * 1024 + 1) },
      { method: '/istio.mixer.v1.Mixer/Quota', request: new Uint8Array(0) },
    ]);
    expect(big).toMatchObject({ code: status.RESOURCE_EXHAUSTED, name: 'RESOURCE_EXHAUSTED' });
    expect(big!.details).toMatch(/larger than max/);
    expect(unknown).toMatchObject({ code: status.UNIMPLEMENTED, name: 'UNIMPLEMENTED' });
  });
});

describe.skipIf(GRPCIO_PYTHON === undefined || !HAVE_OPENSSL)('a gRPC C-core client over mutual TLS, with a tenant bearer token', () => {
  let dir: string;
  let t: Running;
  let target: string;
  let tls: { root: string; cert: string; key: string };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'telemux-grpcio-'));
    const ca = makeCa(dir, 'ca');
    const clientCa = makeCa(dir, 'client-ca');
    const server = issueCert(dir, ca, { name: 'telemux', usage: 'server' });
    const client = issueCert(dir, clientCa, { name: 'sidecar', usage: 'client' });
    tls = { root: ca.cert, cert: client.cert, key: client.key };
    const tenantsPath = join(dir, 'tenants.yaml');
    await writeFile(tenantsPath, 'tenants:\n- name: mesh-a\n  tokens: [token-a]\n');
    t = await startTelemux({ grpcTls: { cert: server.cert, key: server.key, clientCa: clientCa.cert }, tenantsPath });
    target = formatHostPort(t.addresses.grpc);
  });
  afterAll(async () => {
    await t?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a Report carrying a valid token over a verified connection, and refuses one without a token or without a client certificate', async () => {
    const host = 'tls-interop.default.svc.cluster.local';
    const [withToken, withoutToken] = await grpcioCalls(target, [report(batch(host, 4), { metadata: [['authorization', 'Bearer token-a']] }), report(batch(host, 4))], tls);
    expect(withToken!.name).toBe('OK');
    expect(withoutToken).toMatchObject({ code: status.UNAUTHENTICATED, details: 'missing or invalid bearer token' });
    const [noCertificate] = await grpcioCalls(target, [report(batch(host, 4), { metadata: [['authorization', 'Bearer token-a']] })], { root: tls.root });
    expect(noCertificate!.name).toBe('UNAVAILABLE');
    const families = await t.scrape();
    expect(requests(families, host, '200')).toBe('3');
    expect(requests(families, host, '503')).toBe('1');
  });
});
