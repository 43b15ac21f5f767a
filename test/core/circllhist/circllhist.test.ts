// Worked examples from the spec and the strictness rules of the readers. The bit-exact reference
// comparison lives in vectors.test.ts; these pin down behaviour the vector format cannot express
// (rejections, argument validation, API contracts).
import { describe, expect, it } from 'vitest';
import {
  Circllhist,
  CircllhistFormatError,
  NAN_BIN,
  POWERS_OF_TEN,
  U64_MAX,
  ZERO_BIN,
  binMidpoint,
  binToCString,
  binWidth,
  compareBins,
  decodeBase64,
  doubleToBin,
  encodeBase64,
  formatBvs,
  intScaleToBin,
  parseBvs,
  powerOfTen,
} from '../../../src/core/circllhist/index.js';

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function bytes(h: string): Uint8Array {
  return Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
}

describe('power-of-ten table', () => {
  it('holds the correctly rounded decimal constants, not Math.pow results', () => {
    for (let e = -128; e <= 127; e++) expect(powerOfTen(e)).toBe(Number(`1e${String(e)}`));
    expect(POWERS_OF_TEN.length).toBe(256);
    expect(powerOfTen(-5)).toBe(0.00001);
    expect(powerOfTen(-5)).not.toBe(Math.pow(10, -5));
  });
});

describe('double → bin (§3.2)', () => {
  const cases: [number, number, number][] = [
    [0.1, 10, -1],
    [1, 10, 0],
    [10, 10, 1],
    [100, 10, 2],
    [9.99, 99, 0],
    [0.00123, 12, -3],
    [-0.00123, -12, -3],
    // The spec prose says (29, −2) here; the C vectors (fp_correction) say (29, −1), as does the bin definition.
    [0.29, 29, -1],
    [1e-128, 10, -128],
    [9.999e127, 99, 127],
  ];
  it.each(cases)('%s → (%i, %i)', (d, val, exp) => {
    expect(doubleToBin(d)).toEqual({ val, exp });
  });

  it('sends non-finite and too-large values to the NaN bin, tiny ones to zero', () => {
    for (const d of [NaN, Infinity, -Infinity, 1e128, Number.MAX_VALUE, -Number.MAX_VALUE]) {
      expect(doubleToBin(d)).toEqual(NAN_BIN);
    }
    for (const d of [0, -0, 1e-129, 5e-324, -5e-324, Number.MIN_VALUE * 1e10]) expect(doubleToBin(d)).toEqual(ZERO_BIN);
  });

  it('gives the true bin (V3 guard) where the C library returns NaN for a finite value', () => {
    // Spec §3.3: C maps this to the NaN bin because log10 rounds it up to exactly 100.
    expect(doubleToBin(9.99999999999985e99)).toEqual({ val: 99, exp: 99 });
  });
});

describe('int-scale → bin (§3.4)', () => {
  it('truncates and normalises like the reference', () => {
    expect(intScaleToBin(1_500_000, -9)).toEqual({ val: 15, exp: -3 });
    expect(intScaleToBin(250_000_000, -9)).toEqual({ val: 25, exp: -1 });
    expect(intScaleToBin(5, 0)).toEqual({ val: 50, exp: 0 });
    expect(intScaleToBin(-199, 0)).toEqual({ val: -19, exp: 2 });
    expect(intScaleToBin(0, -9)).toEqual(ZERO_BIN);
    expect(intScaleToBin(0x7fffffffffffffffn, 1)).toEqual({ val: 92, exp: 19 });
    // INT64_MIN cannot be negated in C and is clamped to −INT64_MAX.
    expect(intScaleToBin(-0x8000000000000000n, 0)).toEqual({ val: -92, exp: 18 });
    expect(intScaleToBin(-(2 ** 63), 0)).toEqual({ val: -92, exp: 18 });
    expect(intScaleToBin(1, -128)).toEqual({ val: 10, exp: -128 });
    expect(intScaleToBin(9, -129)).toEqual(ZERO_BIN);
    expect(intScaleToBin(99, 126)).toEqual({ val: 99, exp: 127 });
    expect(intScaleToBin(100, 126)).toEqual(NAN_BIN);
  });

  it('agrees between number and bigint inputs', () => {
    for (const n of [1, 9, 10, 99, 100, 12345, 9007199254740991, -9007199254740991]) {
      expect(intScaleToBin(n, -3)).toEqual(intScaleToBin(BigInt(n), -3));
    }
  });

  it('rejects values outside int64 and non-integral input', () => {
    expect(() => intScaleToBin(0x8000000000000000n, 0)).toThrow(RangeError);
    expect(() => intScaleToBin(1.5, 0)).toThrow(RangeError);
    expect(() => intScaleToBin(1, 0.5)).toThrow(RangeError);
  });
});

describe('bin geometry and text (§4, §5)', () => {
  it('uses the minimum-relative-error midpoint', () => {
    expect(binMidpoint({ val: 10, exp: 0 })).toBe(1.0476190476190477);
    expect(binMidpoint({ val: 12, exp: 2 })).toBe(124.8);
    expect(binMidpoint(NAN_BIN)).toBeNaN();
    expect(binWidth(ZERO_BIN)).toBe(0);
  });

  it('prints the libcircllhist string form', () => {
    expect(binToCString(doubleToBin(1))).toBe('+10e-001');
    expect(binToCString(doubleToBin(12))).toBe('+12e+000');
    expect(binToCString(doubleToBin(-0.23))).toBe('-23e-002');
    expect(binToCString(doubleToBin(100))).toBe('+10e+001');
    expect(binToCString(ZERO_BIN)).toBe('0');
    expect(binToCString(NAN_BIN)).toBe('NaN');
  });

  it('prints the cgm bvs form with two-digit exponents', () => {
    expect(formatBvs({ val: 12, exp: 0 }, 3)).toBe('H[1.2e+00]=3');
    expect(formatBvs({ val: -12, exp: 0 }, 3)).toBe('H[-1.2e+00]=3');
    expect(formatBvs({ val: 99, exp: 127 }, 1)).toBe('H[9.9e+127]=1');
    expect(formatBvs({ val: 10, exp: -128 }, 7n)).toBe('H[1.0e-128]=7');
    expect(formatBvs(ZERO_BIN, 1)).toBe('H[0.0e+00]=1');
    expect(formatBvs(NAN_BIN, 2)).toBe('H[NaN]=2');
  });

  it('orders bins NaN first, then along the real axis', () => {
    const sorted = [NAN_BIN, { val: -99, exp: 5 }, { val: -10, exp: 5 }, { val: -99, exp: 4 }, ZERO_BIN, { val: 10, exp: -128 }, { val: 99, exp: 127 }];
    for (let i = 1; i < sorted.length; i++) expect(compareBins(sorted[i - 1], sorted[i])).toBeLessThan(0);
  });

  it('rejects invalid bins', () => {
    expect(() => binWidth({ val: 5, exp: 0 })).toThrow(RangeError);
    expect(() => binWidth({ val: 100, exp: 0 })).toThrow(RangeError);
    expect(() => binWidth({ val: -1, exp: 1 })).toThrow(RangeError);
    expect(() => binWidth({ val: 10, exp: 128 })).toThrow(RangeError);
  });
});

describe('bvs parsing (§5.1)', () => {
  it('parses the broker form', () => {
    expect(parseBvs('H[2.9e-01]=5')).toEqual({ value: 0.29, count: 5n });
    expect(parseBvs('H[NaN]=2').value).toBeNaN();
    expect(parseBvs('H[-inf]=1').value).toBe(-Infinity);
    expect(parseBvs('H[18446744073709551615]=18446744073709551615').count).toBe(U64_MAX);
  });

  it('rejects malformed entries', () => {
    for (const bad of ['H[1.0e+00]=', 'H[]=1', 'H[abc]=1', 'H[1.0]=-1', 'H[1.0]=1.5', 'h[1.0]=1', ' H[1.0]=1', 'H[1.0]=18446744073709551616', 'H[0x10]=1']) {
      expect(() => parseBvs(bad), bad).toThrow(CircllhistFormatError);
    }
  });

  it('ignores zero counts and re-bins any float', () => {
    const h = Circllhist.fromBvs(['H[2.9e-01]=0', 'H[0.295]=2', 'H[2.9e-01]=1']);
    expect(h.toBvs()).toEqual(['H[2.9e-01]=3']);
  });
});

describe('binary form (§6)', () => {
  it('matches the worked examples', () => {
    const a = new Circllhist();
    a.insert(42);
    expect(hex(a.serialize())).toBe('00012a010001');
    expect(a.toBase64()).toBe('AAEqAQAB');

    const b = new Circllhist();
    b.insert(0.5, 100);
    b.insert(0.51);
    b.insert(12, 1000);
    expect(hex(b.serialize())).toBe('000332ff006433ff00010c0101e803');
    expect(b.toBase64()).toBe('AAMy/wBkM/8AAQwBAegD');

    const c = new Circllhist();
    c.insert(NaN, 2);
    for (const v of [0, 1, 2, 3]) c.insert(v);
    expect(c.toBase64()).toBe('AAX/AAACAAAAAQoAAAEUAAABHgAAAQ==');
    expect(new Circllhist().toBase64()).toBe('AAA=');
  });

  it('uses the correct minimal count width where the C table truncates', () => {
    const h = new Circllhist();
    h.insert(1, 2 ** 32); // C writes this with 4 bytes and loses the top bit
    h.insert(2, 2n ** 48n + 5n); // C writes this with 6 bytes
    h.insert(3, U64_MAX);
    expect(hex(h.serialize())).toBe('00030a00040000000001140006050000000000011e0007ffffffffffffffff');
    expect(Circllhist.deserialize(h.serialize()).bins().map((b) => b.count)).toEqual([2n ** 32n, 2n ** 48n + 5n, U64_MAX]);
  });

  it('rejects truncated and malformed input', () => {
    const bad = ['', '00', '0001', '00010a00', '00010a0001', '00010a0008000000000000000001', '00010a000001ff'];
    for (const b of bad) expect(() => Circllhist.deserialize(bytes(b)), b).toThrow(CircllhistFormatError);
    expect(Circllhist.deserialize(bytes('0000')).isEmpty).toBe(true);
  });

  it('reads a prefix and reports the bytes used', () => {
    const { histogram, bytesRead } = Circllhist.deserializePrefix(bytes('00010a000001ffee'));
    expect(bytesRead).toBe(6);
    expect(histogram.toBvs()).toEqual(['H[1.0e+00]=1']);
  });

  it('skips zero counts and invalid bins, and re-sorts and sums out-of-order records', () => {
    // records: (20,0)=1, (5,0)=1 invalid, (10,0)=0 skipped, (10,0)=2, (20,0)=3, (0,7)=1 → zero bin
    const h = Circllhist.deserialize(bytes('0006' + '14000001' + '05000001' + '0a000000' + '0a000002' + '14000003' + '00070001'));
    expect(h.toBvs()).toEqual(['H[0.0e+00]=1', 'H[1.0e+00]=2', 'H[2.0e+00]=4']);
  });

  it('saturates duplicate records at 2^64−1', () => {
    const h = Circllhist.deserialize(bytes('00020a0007ffffffffffffffff0a000002'));
    expect(h.sampleCount()).toBe(U64_MAX);
  });
});

describe('base64 (strict)', () => {
  it('round-trips every tail length', () => {
    for (let n = 0; n < 8; n++) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 97 + 13) & 0xff);
      expect(decodeBase64(encodeBase64(data))).toEqual(data);
    }
  });

  it('ignores whitespace as the C decoder does', () => {
    expect(Circllhist.fromBase64(' AAEq\nAQAB\t').toBvs()).toEqual(['H[4.2e+01]=1']);
  });

  it('rejects non-canonical or corrupt text', () => {
    for (const bad of ['AAEqAQA', 'AAEqAQAB=', 'AA=A', 'AAE-AQAB', 'AAE_AQAB', 'AAEqAQA*', 'AAB=', 'AAA==', '====', 'AAE=AAAA']) {
      expect(() => decodeBase64(bad), bad).toThrow(CircllhistFormatError);
    }
  });

  it('rejects trailing bytes after the histogram and input shorter than a header', () => {
    expect(() => Circllhist.fromBase64(encodeBase64(bytes('00010a00000100')))).toThrow(CircllhistFormatError);
    expect(() => Circllhist.fromBase64('')).toThrow(CircllhistFormatError);
    expect(() => Circllhist.fromBase64('AA==')).toThrow(CircllhistFormatError);
  });
});

describe('counts', () => {
  it('saturates at 2^64−1 on insert and merge', () => {
    const h = new Circllhist();
    h.insert(1, U64_MAX - 1n);
    h.insert(1, 5);
    expect(h.countNearby(1.05)).toBe(U64_MAX);
    const m = h.clone().merge(h);
    expect(m.sampleCount()).toBe(U64_MAX);
  });

  it('is exact across 2^53', () => {
    const h = new Circllhist();
    h.insert(7, Number.MAX_SAFE_INTEGER);
    h.insert(7, 2);
    expect(h.countNearby(7)).toBe(2n ** 53n + 1n);
    expect(h.toBvs()).toEqual(['H[7.0e+00]=9007199254740993']);
  });

  it('treats count 0 as a no-op and rejects invalid counts', () => {
    const h = new Circllhist();
    h.insert(1, 0);
    h.insert(2, 0n);
    expect(h.isEmpty).toBe(true);
    for (const c of [-1, 1.5, NaN, Infinity, 2 ** 64, -1n, U64_MAX + 1n]) {
      expect(() => h.insert(1, c), String(c)).toThrow(RangeError);
    }
  });

  it('sample_count includes the NaN bin, non_nan_count does not', () => {
    const h = new Circllhist();
    h.insert(NaN, 2);
    h.insert(1);
    expect(h.sampleCount()).toBe(3n);
    expect(h.nonNanCount()).toBe(1n);
    expect(h.countAboveInclusive(1000)).toBe(2n);
  });
});

describe('quantiles (§7.2)', () => {
  const build = (...vals: number[]): Circllhist => {
    const h = new Circllhist();
    for (const v of vals) h.insert(v);
    return h;
  };

  it('reproduces the C unit-test values', () => {
    expect(build(1).quantiles([0, 0.25, 0.5, 1])).toEqual([1.05, 1.05, 1.05, 1.05]);
    expect(build(1, 1).quantile(0.75, 1)).toBe(1 + 0.1 * (2 / 3));
    expect(build(1, 1).quantile(0.75, 7)).toBe(1 + (1 / 3) * 0.1);
    expect(build(10, 100).quantile(0.501, 1)).toBe(105);
    expect(build(10, 100).quantile(0.501, 7)).toBe(10.5);
    expect(build(0, 1).quantile(0)).toBe(0);
  });

  it('is NaN without non-NaN samples and validates q', () => {
    expect(build(NaN).quantiles([0, 0.5])).toEqual([NaN, NaN]);
    expect(() => build(1).quantiles([0.5, 0.4])).toThrow(RangeError);
    expect(() => build(1).quantile(1.5)).toThrow(RangeError);
    expect(() => build(1).quantile(NaN)).toThrow(RangeError);
  });

  it('computes moment(k) as Σ m^k·c / N^k over non-NaN bins (§7.3, C divides by N^k)', () => {
    const h = new Circllhist();
    h.insert(1, 2);
    h.insert(2);
    h.insert(NaN, 5);
    const m1 = binMidpoint({ val: 10, exp: 0 });
    const m2 = binMidpoint({ val: 20, exp: 0 });
    expect(h.approxMoment(0)).toBe(3);
    expect(h.approxMoment(1)).toBe(h.approxMean());
    expect(h.approxMoment(1)).toBe((m1 * 2 + m2) / 3);
    expect(h.approxMoment(2)).toBe((m1 * m1 * 2 + m2 * m2) / 9);
    expect(new Circllhist().approxMoment(2)).toBeNaN();
    expect(build(NaN).approxMoment(1)).toBeNaN();
  });

  it('reports mean NaN and sum 0 when empty', () => {
    const h = new Circllhist();
    expect(h.approxMean()).toBeNaN();
    expect(h.approxSum()).toBe(0);
    expect(h.approxStddev()).toBeNaN();
  });
});
