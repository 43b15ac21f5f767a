/**
 * Report limits over gRPC: a Report past a bound is refused whole with a status that says which
 * bound, by how much and where, is counted under its code, and records nothing.
 */
import { status as Status } from '@grpc/grpc-js';
import { connect, constants } from 'node:http2';
import { formatHostPort } from '../../src/core/server/http.js';
import { ReportRequest } from '../../src/gen/istio/mixer/v1/mixer.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, int, str, type AttributeSet } from '../../src/client/compressor.js';
import { startTelemux, type Running } from '../support/harness.js';
import { parsePrometheusText } from '../support/prom-text.js';

function httpSet(extra: AttributeSet = {}): AttributeSet {
  return {
    'context.protocol': str('http'),
    'context.reporter.kind': str('inbound'),
    'destination.service.host': str('reviews.default.svc.cluster.local'),
    'response.code': int(200),
    ...extra,
  };
}

/** Twelve more attributes than the set carries: past a limit of 10 with the four above. */
const WIDE: AttributeSet = Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`custom.a${k}`, str('v')]));

describe('a Telemux with tight Report limits', () => {
  let t: Running;
  beforeAll(async () => {
    t = await startTelemux({ limits: { maxSetsPerReport: 5, maxAttributesPerSet: 10, maxStringBytes: 100 } });
  });
  afterAll(async () => {
    await t.stop();
  });

  const requests = async (): Promise<number> => {
    const family = (await t.scrape()).find((f) => f.name === 'istio_requests_total');
    return (family?.metrics ?? []).reduce((n, m) => n + Number(m.value), 0);
  };

  it('accepts Reports within the limits', async () => {
    expect(await t.report(buildReport([httpSet(), httpSet()]))).toEqual({ code: Status.OK, details: '' });
    expect(await requests()).toBe(2);
  });

  it('refuses a set with too many attributes with INVALID_ARGUMENT naming the record, and records none of the Report', async () => {
    const before = await requests();
    const answer = await t.report(buildReport([httpSet(), httpSet(), httpSet(WIDE), httpSet()]));
    expect(answer).toEqual({ code: Status.INVALID_ARGUMENT, details: 'attributes[2]: 12 attributes; at most 10 are accepted per attribute set [REPORT_TOO_MANY_ATTRIBUTES]' });
    expect(await requests()).toBe(before);
  });

  it('refuses an overlong value and too many sets, and counts each refusal under its code', async () => {
    const before = await requests();
    const long = await t.report(buildReport([httpSet(), httpSet({ 'request.path': str(`/${'x'.repeat(200)}`) })]));
    expect(long.code).toBe(Status.INVALID_ARGUMENT);
    expect(long.details).toMatch(/^default_words\[\d+\] is 201 bytes; at most 100 are accepted \[REPORT_STRING_TOO_LONG\]$/);
    const many = await t.report(buildReport(Array.from({ length: 6 }, () => httpSet())));
    expect(many).toEqual({ code: Status.RESOURCE_EXHAUSTED, details: 'Report has 6 attribute sets; at most 5 are accepted per Report [REPORT_TOO_MANY_SETS]' });
    expect(await requests()).toBe(before);

    const self = parsePrometheusText(await (await t.admin('/metrics')).text());
    const rejections = self.find((f) => f.name === 'telemux_report_rejections_total')?.metrics ?? [];
    const byCode = Object.fromEntries(rejections.map((m) => [m.labels?.code, Number(m.value)]));
    expect(byCode).toMatchObject({ REPORT_TOO_MANY_ATTRIBUTES: 1, REPORT_STRING_TOO_LONG: 1, REPORT_TOO_MANY_SETS: 1 });
  });
});

describe('a Telemux holding Reports that are still arriving', () => {
  it('refuses the one that would pass its bound with UNAVAILABLE, counts it as shed, and serves the rest', async () => {
    const t = await startTelemux({ maxPendingBytes: 64 * 1024 });
    const session = connect(`http://${formatHostPort(t.addresses.grpc)}`);
    session.on('error', () => {});
    try {
      // A Report of about 60 KiB, framed; calls send only part of it and stop.
      const sets = Array.from({ length: 40 }, (_, i) => httpSet({ 'request.path': str(`/${'x'.repeat(1400)}${String(i)}`) }));
      const bytes = Buffer.from(ReportRequest.encode(buildReport(sets)).finish());
      const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), bytes]);
      framed.writeUInt32BE(bytes.length, 1);
      expect(bytes.length).toBeGreaterThan(50 * 1024);
      const call = (): ReturnType<typeof session.request> => {
        const req = session.request({ ':method': 'POST', ':path': '/istio.mixer.v1.Mixer/Report', 'content-type': 'application/grpc' });
        req.on('error', () => {});
        return req;
      };
      const stalled = call();
      stalled.write(framed.subarray(0, 45 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const refused = call();
      const status = new Promise<string | undefined>((resolve) => refused.on('response', (h) => resolve(h['grpc-status'] as string | undefined)));
      refused.write(framed.subarray(0, 30 * 1024));
      expect(await status).toBe(String(Status.UNAVAILABLE));

      const self = await (await t.admin('/metrics')).text();
      expect(self).toMatch(/^telemux_reports_shed_total\{reason="pending_bytes"\} 1$/m);
      expect(self).toMatch(/^telemux_reports_total\{code="UNAVAILABLE"\} 1$/m);
      // Once the stalled call is reset, a whole Report goes through.
      stalled.close(constants.NGHTTP2_CANCEL);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await t.report(buildReport(sets))).toEqual({ code: Status.OK, details: '' });
    } finally {
      session.close();
      await t.stop();
    }
  });
});
