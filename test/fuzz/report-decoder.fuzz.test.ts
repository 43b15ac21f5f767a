import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, ReportDecoder } from '../../src/core/attributes/decode.js';
import { buildReport, encodeReport, type AttributeSet } from '../../src/client/compressor.js';
import { ValueType } from '../../src/core/attributes/value-type.js';
import { Timestamp } from '../../src/core/attributes/value.js';
import { istioManifest, istioVocabulary } from '../support/vocabulary.js';
import { FUZZ_RUNS, FUZZ_TIMEOUT_MS, PER_INPUT_MS } from './budget.js';

const manifest = istioManifest();
const vocab = istioVocabulary();

/** Valid Reports to mutate: the mutations then land in realistic places. */
const report = fc
  .array(
    fc.array(fc.constantFrom(...vocab), { maxLength: 20 }).map((attrs) => {
      const set: Record<string, { type: ValueType; value: never }> = {};
      for (const a of attrs) {
        const value =
          a.type === ValueType.INT64 || a.type === ValueType.DOUBLE || a.type === ValueType.DURATION ? 7
          : a.type === ValueType.BOOL ? true
          : a.type === ValueType.TIMESTAMP ? new Timestamp(1, 2)
          : a.type === ValueType.IP_ADDRESS ? new Uint8Array([10, 0, 0, 1])
          : a.type === ValueType.STRING_MAP ? new Map([['k', 'v']])
          : 'word';
        set[a.name] = { type: a.type, value: value as never };
      }
      return set as AttributeSet;
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((sets) => encodeReport(buildReport(sets)));

function decodeOrExplain(bytes: Uint8Array): void {
  const t0 = performance.now();
  try {
    new ReportDecoder(manifest).decode(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    const err = e as DecodeError;
    expect(err.code).toMatch(/^DECODE_/);
    expect(err.message.length).toBeGreaterThan(10);
  }
  expect(performance.now() - t0).toBeLessThan(PER_INPUT_MS);
}

describe('the Report decoder under fuzzing', () => {
  it('answers random bytes with a DecodeError or a result, never a crash or hang', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), decodeOrExplain), { numRuns: FUZZ_RUNS });
  }, FUZZ_TIMEOUT_MS);

  it('answers mutated valid Reports (flipped bytes, truncation, splices) the same way', () => {
    const mutated = fc.tuple(report, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(), fc.boolean()).map(([bytes, flips, cut, truncate]) => {
      const b = Uint8Array.from(bytes);
      for (const [i, v] of flips) b[i % b.length] = v;
      return truncate ? b.subarray(0, cut % (b.length + 1)) : b;
    });
    fc.assert(fc.property(mutated, decodeOrExplain), { numRuns: FUZZ_RUNS });
  }, FUZZ_TIMEOUT_MS);

  it('rejects huge declared lengths without allocating them', () => {
    // field 1, wire type 2, length 2^31: must fail on bounds, not try to read 2 GiB.
    decodeOrExplain(Uint8Array.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00]));
  });
});
