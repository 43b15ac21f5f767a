import { describe, expect, it } from 'vitest';
import { buildReport, encodeReport, int, str } from '../../../src/client/compressor.js';
import { countReportSets } from '../../../src/core/security/report-sets.js';
import { ReportRequest } from '../../../src/gen/istio/mixer/v1/mixer.js';

describe('counting the attribute sets of a Report before decoding it', () => {
  it('counts every set, whatever else the Report carries', () => {
    const sets = Array.from({ length: 37 }, (_, i) => ({ 'request.path': str(`/p${i}`), 'response.code': int(200), 'custom.word': str(`w${i % 3}`) }));
    expect(countReportSets(encodeReport(buildReport(sets)))).toBe(37);
    expect(countReportSets(encodeReport(buildReport(sets, { semantics: 'delta' })))).toBe(37);
  });

  it('counts zero for an empty Report', () => {
    expect(countReportSets(new Uint8Array(0))).toBe(0);
    expect(countReportSets(ReportRequest.encode({ attributes: [], defaultWords: ['a', 'b'], globalWordCount: 222, repeatedAttributesSemantics: 1 }).finish())).toBe(0);
  });

  it('stops at malformed bytes instead of throwing (the decoder reports them)', () => {
    // One whole set, then a set whose length runs past the end.
    expect(countReportSets(Uint8Array.from([0x0a, 0x01, 0x00, 0x0a, 0x05, 0x00, 0x00]))).toBe(1);
    expect(countReportSets(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toBe(0);
    expect(countReportSets(Uint8Array.from([0xff, 0xff, 0xff]))).toBe(0);
    expect(countReportSets(Uint8Array.from([0x0b]))).toBe(0); // wire type 3 (groups) is not used by proto3
  });
});
