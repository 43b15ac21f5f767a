import { describe, expect, it } from 'vitest';
import { buildReport, encodeReport, int, str } from '../../../src/client/compressor.js';
import { ReportLimits } from '../../../src/core/server/overload.js';
import { ReportRequest } from '../../../src/gen/istio/mixer/v1/mixer.js';

const limits = new ReportLimits();
const setsOf = (bytes: Uint8Array): number => limits.scan(bytes).sets;

describe('the pre-decode scan counting the attribute sets of a Report (for the rate limit)', () => {
  it('counts every set, whatever else the Report carries', () => {
    const sets = Array.from({ length: 37 }, (_, i) => ({ 'request.path': str(`/p${i}`), 'response.code': int(200), 'custom.word': str(`w${i % 3}`) }));
    expect(limits.scan(encodeReport(buildReport(sets)))).toEqual({ sets: 37, violation: undefined });
    expect(setsOf(encodeReport(buildReport(sets, { semantics: 'delta' })))).toBe(37);
  });

  it('counts zero for an empty Report', () => {
    expect(setsOf(new Uint8Array(0))).toBe(0);
    expect(setsOf(ReportRequest.encode({ attributes: [], defaultWords: ['a', 'b'], globalWordCount: 222, repeatedAttributesSemantics: 1 }).finish())).toBe(0);
  });

  it('stops at the first bytes it cannot parse instead of throwing (the decoder reports them)', () => {
    // A whole set, then a set whose length runs past the end.
    expect(limits.scan(Uint8Array.from([0x0a, 0x02, 0x08, 0x01, 0x0a, 0x05, 0x00, 0x00]))).toEqual({ sets: 1, violation: undefined });
    expect(setsOf(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toBe(0);
    expect(setsOf(Uint8Array.from([0xff, 0xff, 0xff]))).toBe(0);
    expect(setsOf(Uint8Array.from([0x0b]))).toBe(0); // wire type 3 (groups) is not used by proto3
  });
});
