// Algebraic properties of the implementation, checked on random histograms: lossless round trips,
// merge laws, count aggregation, and agreement of the int-scale and double insert paths.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Circllhist,
  CircllhistFormatError,
  U64_MAX,
  type CountInput,
  decodeBase64,
  doubleToBin,
  encodeBase64,
  intScaleToBin,
} from '../../../src/core/circllhist/index.js';

// Exactly representable decimal bin edges (the inputs most likely to expose rounding slips),
// everything else the double type can hold, and latency-shaped values.
const binEdge = fc
  .tuple(fc.integer({ min: 10, max: 99 }), fc.integer({ min: -128, max: 127 }), fc.boolean())
  .map(([v, e, neg]) => Number(`${neg ? '-' : ''}${String(v)}e${String(e - 1)}`));
const value = fc.oneof(
  { arbitrary: fc.double(), weight: 3 },
  { arbitrary: fc.double({ min: 1e-6, max: 1e5, noNaN: true }), weight: 3 },
  { arbitrary: fc.integer({ min: -1000, max: 1000 }), weight: 2 },
  { arbitrary: binEdge, weight: 2 },
);
const count: fc.Arbitrary<CountInput> = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 1000 }), weight: 6 },
  { arbitrary: fc.constantFrom(2 ** 32, 2 ** 48, Number.MAX_SAFE_INTEGER, 2 ** 53, 2 ** 60), weight: 1 },
  { arbitrary: fc.bigInt({ min: 0n, max: U64_MAX }), weight: 2 },
);
const entries = fc.array(fc.tuple(value, count), { maxLength: 40 });

function build(es: readonly (readonly [number, CountInput])[]): Circllhist {
  const h = new Circllhist();
  for (const [v, c] of es) h.insert(v, c);
  return h;
}

const histogram = entries.map(build);

function expectSame(a: Circllhist, b: Circllhist): void {
  expect(a.toBvs()).toEqual(b.toBvs());
  expect(a.equals(b)).toBe(true);
}

describe('serialization round trips', () => {
  it('binary: parse(serialize(h)) == h and re-serializes to the same bytes, of the announced length', () => {
    fc.assert(
      fc.property(histogram, (h) => {
        const bytes = h.serialize();
        // What an HTTPTrap body's Content-Length is worked out from before anything is encoded.
        expect(h.serializedByteLength).toBe(bytes.length);
        const back = Circllhist.deserialize(bytes);
        expectSame(back, h);
        expect(back.serialize()).toEqual(bytes);
      }),
    );
  });

  it('base64: fromBase64(toBase64(h)) == h', () => {
    fc.assert(
      fc.property(histogram, (h) => {
        const text = h.toBase64();
        expect(text).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
        expectSame(Circllhist.fromBase64(text), h);
      }),
    );
  });

  it('bvs: re-binning the printed edges reproduces the histogram', () => {
    fc.assert(fc.property(histogram, (h) => expectSame(Circllhist.fromBvs(h.toBvs()), h)));
  });

  it('arbitrary bytes either fail as format errors or parse to a canonical histogram', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        let h: Circllhist;
        try {
          h = Circllhist.deserialize(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(CircllhistFormatError);
          return;
        }
        expectSame(Circllhist.deserialize(h.serialize()), h);
      }),
    );
  });

  it('base64 codec: decode(encode(b)) == b, and decoding accepts only canonical text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(decodeBase64(encodeBase64(b))).toEqual(b);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'AQgw+/=a \n'.split('')), maxLength: 16 }), (s) => {
        let decoded: Uint8Array;
        try {
          decoded = decodeBase64(s);
        } catch (err) {
          expect(err).toBeInstanceOf(CircllhistFormatError);
          return;
        }
        expect(encodeBase64(decoded)).toBe(s.replace(/\s/g, ''));
      }),
    );
  });
});

describe('merge', () => {
  it('is commutative', () => {
    fc.assert(fc.property(histogram, histogram, (a, b) => expectSame(a.clone().merge(b), b.clone().merge(a))));
  });

  it('is associative', () => {
    fc.assert(
      fc.property(histogram, histogram, histogram, (a, b, c) =>
        expectSame(a.clone().merge(b).merge(c), a.clone().merge(b.clone().merge(c))),
      ),
    );
  });

  it('has the empty histogram as identity and equals inserting everything into one', () => {
    fc.assert(
      fc.property(entries, entries, (x, y) => {
        const a = build(x);
        expectSame(a.clone().merge(new Circllhist()), a);
        expectSame(new Circllhist().merge(a), a);
        expectSame(build(x).merge(build(y)), build([...x, ...y]));
      }),
    );
  });

  it('merging a histogram into itself doubles every count', () => {
    fc.assert(
      fc.property(histogram, (h) => {
        const doubled = h.clone();
        doubled.merge(doubled);
        const expected = Circllhist.fromBins(h.bins().map((b) => ({ ...b, count: b.count * 2n > U64_MAX ? U64_MAX : b.count * 2n })));
        expectSame(doubled, expected);
      }),
    );
  });
});

describe('counts', () => {
  it('inserting one by one equals inserting with a count', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(value, fc.integer({ min: 0, max: 30 })), { maxLength: 20 }), (es) => {
        const single = new Circllhist();
        for (const [v, c] of es) for (let i = 0; i < c; i++) single.insert(v);
        expectSame(single, build(es));
      }),
    );
  });

  it('number and bigint counts are interchangeable', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(value, fc.bigInt({ min: 0n, max: U64_MAX })), { maxLength: 20 }), (es) => {
        const asNumber = es.map(([v, c]): [number, CountInput] => [v, c <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(c) : c]);
        expectSame(build(es), build(asNumber));
      }),
    );
  });

  it('sample count is the saturated sum of the bins and splits around every threshold', () => {
    fc.assert(
      fc.property(histogram, value, (h, t) => {
        const total = h.bins().reduce((s, b) => s + b.count, 0n);
        const sat = total > U64_MAX ? U64_MAX : total;
        expect(h.sampleCount()).toBe(sat);
        if (total <= U64_MAX) {
          expect(h.countBelowInclusive(t) + h.countAboveExclusive(t)).toBe(total);
          expect(h.countBelowExclusive(t) + h.countAboveInclusive(t)).toBe(total);
        }
      }),
    );
  });
});

describe('quantiles', () => {
  it('are non-decreasing in q and stay inside the occupied range', () => {
    const qs = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1];
    fc.assert(
      fc.property(histogram, fc.constantFrom<1 | 7>(1, 7), (h, type) => {
        const out = h.quantiles(qs, type);
        if (h.nonNanCount() === 0n) {
          expect(out.every(Number.isNaN)).toBe(true);
          return;
        }
        for (let i = 1; i < out.length; i++) expect(out[i]).toBeGreaterThanOrEqual(out[i - 1]);
      }),
    );
  });
});

describe('int-scale and double paths', () => {
  // The int path bins the exact decimal n·10^scale by truncation; the double path bins the
  // correctly rounded double of the same decimal and lifts values within ~1e−13 below an edge.
  // They must agree whenever the decimal is not within that window below a bin edge, which is
  // guaranteed for up to 13 significant digits (the gap below an edge is then ≥ 1e−11 relative).
  it('agree for values with up to 13 significant digits, across the whole exponent range', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(10 ** 13 - 1), max: 10 ** 13 - 1 }), fc.integer({ min: -350, max: 330 }), (n, scale) => {
        const d = Number(`${String(n)}e${String(scale)}`);
        expect(intScaleToBin(n, scale)).toEqual(doubleToBin(d));
      }),
      { numRuns: 2000 },
    );
  });

  it('agree on every exact bin edge, including int64-sized mantissas', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 99 }), fc.integer({ min: 0, max: 17 }), fc.integer({ min: -150, max: 150 }), fc.boolean(), (m, j, scale, neg) => {
        const n = BigInt(neg ? -m : m) * 10n ** BigInt(j);
        // 93·10^17 and up no longer fit in int64.
        fc.pre(n <= 0x7fffffffffffffffn && n >= -0x7fffffffffffffffn);
        const d = Number(`${n.toString()}e${String(scale)}`);
        expect(intScaleToBin(n, scale)).toEqual(doubleToBin(d));
      }),
      { numRuns: 2000 },
    );
  });

  it('insertIntScale and insert build the same histogram for durations in ns', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10 ** 12 }), { maxLength: 50 }), (ns) => {
        const a = new Circllhist();
        const b = new Circllhist();
        for (const n of ns) {
          a.insertIntScale(n, -9);
          b.insert(Number(`${String(n)}e-9`));
        }
        expectSame(a, b);
      }),
    );
  });
});
