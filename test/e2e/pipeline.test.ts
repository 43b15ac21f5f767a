import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttributeSet, buildReport, dur, int, smap, str, bool } from '../../src/client/compressor.js';
import type { ReportRequest } from '../../src/gen/istio/mixer/v1/mixer.js';
import { APPENDIX_A_LABELS, appendixA } from '../support/appendix-a.js';
import { GRPC_TRANSPORTS } from '../../src/core/server/grpc/transport.js';
import { startTelemux, type Running } from '../support/harness.js';
import { sampleOf } from '../support/prom-text.js';

/** An inbound HTTP request as a 1.4 sidecar reports it, with a few knobs. */
function httpSet(o: { code?: number; durationMs?: number; reqBytes?: number; respBytes?: number; host?: string; ua?: string } = {}): AttributeSet {
  return {
    'context.protocol': str('http'),
    'context.reporter.kind': str('inbound'),
    'destination.service.host': str(o.host ?? 'reviews.default.svc.cluster.local'),
    'destination.service.name': str('reviews'),
    'destination.service.namespace': str('default'),
    'destination.namespace': str('default'),
    'response.code': int(o.code ?? 200),
    'response.duration': dur((o.durationMs ?? 10) * 1e6),
    'request.size': int(o.reqBytes ?? 100),
    'response.size': int(o.respBytes ?? 1000),
    'request.useragent': str(o.ua ?? 'curl/7.58'),
    'request.headers': smap({ ':authority': 'reviews:9080', 'user-agent': o.ua ?? 'curl/7.58' }),
    'connection.mtls': bool(true),
  };
}

describe.each(GRPC_TRANSPORTS)('the Report pipeline with the embedded Istio 1.4 default config, over the %s HTTP/2', (grpcTransport) => {
  let t: Running;
  beforeAll(async () => {
    t = await startTelemux({ grpcTransport });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('turns the spec Appendix A request into exactly the series and values it describes', async () => {
    expect(await t.report(appendixA())).toEqual({ code: 0, details: '' });
    const families = await t.scrape();
    expect(sampleOf(families, 'istio_requests_total', APPENDIX_A_LABELS)?.value).toBe('1');
    const total = families.find((f) => f.name === 'istio_requests_total')!;
    expect(total.type).toBe('COUNTER');
    expect(total.metrics).toHaveLength(1);
    expect(total.metrics[0]!.labels).toEqual(APPENDIX_A_LABELS);

    const duration = sampleOf(families, 'istio_request_duration_seconds', APPENDIX_A_LABELS)!;
    expect(duration.count).toBe('1');
    expect(Number(duration.sum)).toBe(0.0125);
    expect(duration.buckets).toEqual({ '0.005': '0', '0.01': '0', '0.025': '1', '0.05': '1', '0.1': '1', '0.25': '1', '0.5': '1', '1': '1', '2.5': '1', '5': '1', '10': '1', '+Inf': '1' });

    const reqBytes = sampleOf(families, 'istio_request_bytes', APPENDIX_A_LABELS)!;
    expect(reqBytes.sum).toBe('123');
    expect(reqBytes.buckets).toEqual({ '1': '0', '10': '0', '100': '0', '1000': '1', '10000': '1', '100000': '1', '1e+06': '1', '1e+07': '1', '1e+08': '1', '+Inf': '1' });
    const respBytes = sampleOf(families, 'istio_response_bytes', APPENDIX_A_LABELS)!;
    expect(respBytes.sum).toBe('0');
    expect(respBytes.buckets?.['1']).toBe('1');
    // TCP rules do not match an HTTP request.
    expect(families.find((f) => f.name === 'istio_tcp_sent_bytes_total')?.metrics ?? []).toHaveLength(0);
  });

  it('counts 100-set INDEPENDENT batches exactly, with exact histogram buckets', async () => {
    const host = 'batch.default.svc.cluster.local';
    const sets: AttributeSet[] = [];
    for (let i = 0; i < 100; i++) sets.push(httpSet({ host, code: i % 10 === 0 ? 503 : 200, durationMs: i % 4 === 0 ? 3 : 30, reqBytes: i }));
    for (let r = 0; r < 5; r++) expect((await t.report(buildReport(sets))).code).toBe(0);
    const families = await t.scrape();
    const ok = { destination_service: host, response_code: '200' };
    const failed = { destination_service: host, response_code: '503' };
    expect(sampleOf(families, 'istio_requests_total', ok)?.value).toBe('450');
    expect(sampleOf(families, 'istio_requests_total', failed)?.value).toBe('50');
    const d = sampleOf(families, 'istio_request_duration_seconds', ok)!;
    expect(d.count).toBe('450');
    // i % 4 === 0 → 3 ms; among the 90 codes-200 per batch, i%4==0 and i%10!=0: 20 per batch.
    expect(d.buckets?.['0.005']).toBe('100');
    expect(d.buckets?.['0.025']).toBe('100');
    expect(d.buckets?.['0.05']).toBe('450');
    const rb = sampleOf(families, 'istio_request_bytes', ok)!;
    // request sizes i in 0..99 without multiples of 10, five times.
    let sum = 0;
    for (let i = 0; i < 100; i++) if (i % 10 !== 0) sum += i;
    expect(Number(rb.sum)).toBe(5 * sum);
    expect(rb.buckets?.['1']).toBe(String(5 * 1));
    expect(rb.buckets?.['10']).toBe(String(5 * 9));
  });

  it('dispatches each accumulated state of a DELTA batch, with later sets overriding and inheriting attributes', async () => {
    const host = 'delta.default.svc.cluster.local';
    const req = buildReport([httpSet({ host, code: 200 }), { 'response.code': int(404) }, { 'response.duration': dur(2e9) }, {}], { semantics: 'delta' });
    expect((await t.report(req)).code).toBe(0);
    const families = await t.scrape();
    expect(sampleOf(families, 'istio_requests_total', { destination_service: host, response_code: '200' })?.value).toBe('1');
    expect(sampleOf(families, 'istio_requests_total', { destination_service: host, response_code: '404' })?.value).toBe('3');
    const d = sampleOf(families, 'istio_request_duration_seconds', { destination_service: host, response_code: '404' })!;
    expect(d.count).toBe('3');
    expect(Number(d.sum)).toBeCloseTo(0.01 + 2 + 2, 12);
    expect(d.buckets?.['1']).toBe('1');
    expect(d.buckets?.['2.5']).toBe('3');
  });

  it('excludes kube-probe and Prometheus user agents as the default promhttp rule says', async () => {
    const host = 'probe.default.svc.cluster.local';
    await t.report(buildReport([httpSet({ host, ua: 'kube-probe/1.15' }), httpSet({ host, ua: 'Prometheus/2.1' }), httpSet({ host })]));
    expect(sampleOf(await t.scrape(), 'istio_requests_total', { destination_service: host })?.value).toBe('1');
  });

  it('answers an empty Report OK (a zero-byte message), unless it claims more global words than Mixer knows', async () => {
    const empty: ReportRequest = { attributes: [], defaultWords: [], globalWordCount: 0, repeatedAttributesSemantics: 0 };
    expect(await t.report(empty)).toEqual({ code: 0, details: '' });
    expect(await t.report({ ...empty, defaultWords: ['unused'], globalWordCount: 222, repeatedAttributesSemantics: 1 })).toEqual({ code: 0, details: '' });
    // Mixer checks global_word_count before its early return for an empty Report.
    expect(await t.report({ ...empty, globalWordCount: 223 })).toEqual({ code: 13, details: 'inconsistent global dictionary versions used: mixer knows 222 words, caller knows 223' });
  });

  describe('bad input', () => {
    const host = 'rejected.default.svc.cluster.local';
    const cases: [string, (r: ReportRequest) => void, number, RegExp][] = [
      ['an out-of-range word index', (r) => void (r.attributes[1]!.strings[17] = -99), 3, /^attributes\[1\]: attribute index -99 is not defined in the available dictionaries/],
      ['global_word_count 500', (r) => void (r.globalWordCount = 500), 13, /^inconsistent global dictionary versions used: mixer knows 222 words, caller knows 500$/],
      ['repeated_attributes_semantics 2', (r) => void (r.repeatedAttributesSemantics = 2), 3, /^unknown repeated_attributes_semantics 2 \(known: DELTA_ENCODING = 0, INDEPENDENT_ENCODING = 1\) \[DECODE_SEMANTICS\]$/],
      ['a wire type that contradicts the manifest', (r) => void (r.attributes[2]!.strings[30] = 92), 3, /^attributes\[2\]: attribute 'response.code' is declared INT64 in the attribute manifest but arrived in the 'strings' map/],
    ];
    for (const [what, mutate, code, message] of cases) {
      it(`answers ${what} with gRPC status ${code} naming the record, and records nothing of it`, async () => {
        const req = buildReport([httpSet({ host }), httpSet({ host }), httpSet({ host })]);
        mutate(req);
        const res = await t.report(req);
        expect(res.code).toBe(code);
        expect(res.details).toMatch(message);
        expect(sampleOf(await t.scrape(), 'istio_requests_total', { destination_service: host })).toBeUndefined();
        // The server keeps serving.
        expect((await t.report(buildReport([httpSet({ host: 'after.default.svc.cluster.local' })]))).code).toBe(0);
      });
    }
  });
});
