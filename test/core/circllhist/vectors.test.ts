// Runs every case of the libcircllhist reference vectors (spec §9) bit for bit. The file is chosen
// by CIRCLLHIST_VECTORS (default ../shared/data/circllhist-vectors.json), resolved against the repo
// root so the suite reads the same file whatever directory vitest is started from.
//
// The runner is deliberately closed-world: an unknown op, input key, expected field or bin field
// fails the case instead of being skipped, because held-back cases in the same format must not
// pass by being silently ignored.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  Circllhist,
  binLower,
  binMidpoint,
  binToCString,
  binToDouble,
  binUpper,
  binWidth,
  formatBvs,
  type Bin,
} from '../../../src/core/circllhist/index.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEFAULT_VECTORS = '../shared/data/circllhist-vectors.json';

function vectorsPath(): string {
  const fromEnv = process.env.CIRCLLHIST_VECTORS;
  const p = fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_VECTORS;
  return isAbsolute(p) ? p : resolve(REPO_ROOT, p);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

class VectorFormatError extends Error {}

function fail(msg: string): never {
  throw new VectorFormatError(msg);
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asArray(v: Json | undefined, what: string): Json[] {
  if (!Array.isArray(v)) fail(`${what}: expected an array`);
  return v;
}

function asObject(v: Json | undefined, what: string): JsonObject {
  if (!isObject(v)) fail(`${what}: expected an object`);
  return v;
}

function asString(v: Json | undefined, what: string): string {
  if (typeof v !== 'string') fail(`${what}: expected a string`);
  return v;
}

function asInt(v: Json | undefined, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(`${what}: expected a safe integer`);
  return v;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A float field: a JSON number, or one of the non-finite strings (or a decimal string). */
function asFloat(v: Json | undefined, what: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'string' && DECIMAL.test(v)) return Number(v);
  return fail(`${what}: expected a float, got ${JSON.stringify(v)}`);
}

/** An exact integer: a JSON number, or a decimal string when the magnitude exceeds 2^53−1. */
function asBigInt(v: Json | undefined, what: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  return fail(`${what}: expected an integer, got ${JSON.stringify(v)}`);
}

function checkKeys(obj: JsonObject, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) fail(`${what}: unknown field(s) ${unknown.join(', ')} — the runner does not know them`);
}

/** Bit-exact equality for doubles as the vectors define it: === after JSON.parse, NaN equals NaN. */
function sameFloat(actual: number, expected: number): boolean {
  return Number.isNaN(expected) ? Number.isNaN(actual) : actual === expected;
}

interface Mismatch {
  readonly field: string;
  readonly expected: string;
  readonly actual: string;
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v.toString()}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------
// Building the histogram for one case

function insertPairs(h: Circllhist, pairs: Json | undefined, what: string): void {
  for (const [i, p] of asArray(pairs, what).entries()) {
    const pair = asArray(p, `${what}[${String(i)}]`);
    if (pair.length !== 2) fail(`${what}[${String(i)}]: expected [value, count]`);
    h.insert(asFloat(pair[0], `${what}[${String(i)}][0]`), asBigInt(pair[1], `${what}[${String(i)}][1]`));
  }
}

const OPS: Record<string, { readonly inputKey: string; build(c: JsonObject): Circllhist }> = {
  insert: {
    inputKey: 'inputs',
    build(c) {
      const h = new Circllhist();
      insertPairs(h, c.inputs, 'inputs');
      return h;
    },
  },
  merge: {
    inputKey: 'input_sets',
    build(c) {
      const target = new Circllhist();
      for (const [i, set] of asArray(c.input_sets, 'input_sets').entries()) {
        const h = new Circllhist();
        insertPairs(h, set, `input_sets[${String(i)}]`);
        target.merge(h);
      }
      return target;
    },
  },
  intscale: {
    inputKey: 'int_inputs',
    build(c) {
      const h = new Circllhist();
      for (const [i, t] of asArray(c.int_inputs, 'int_inputs').entries()) {
        const what = `int_inputs[${String(i)}]`;
        const triple = asArray(t, what);
        if (triple.length !== 3) fail(`${what}: expected [int, scale, count]`);
        h.insertIntScale(asBigInt(triple[0], `${what}[0]`), asInt(triple[1], `${what}[1]`), asBigInt(triple[2], `${what}[2]`));
      }
      return h;
    },
  },
};

// ---------------------------------------------------------------------------------------------
// Checking the expected fields

interface Context {
  readonly h: Circllhist;
  readonly quantileQ: readonly number[];
  readonly thresholds: readonly number[];
  readonly out: Mismatch[];
}

function eqFloat(ctx: Context, field: string, actual: number, expected: Json | undefined): void {
  const e = asFloat(expected, field);
  if (!sameFloat(actual, e)) ctx.out.push({ field, expected: show(e), actual: show(actual) });
}

function eqInt(ctx: Context, field: string, actual: bigint | number, expected: Json | undefined): void {
  const e = asBigInt(expected, field);
  if (BigInt(actual) !== e) ctx.out.push({ field, expected: show(e), actual: show(BigInt(actual)) });
}

function eqString(ctx: Context, field: string, actual: string, expected: Json | undefined): void {
  const e = asString(expected, field);
  if (actual !== e) ctx.out.push({ field, expected: show(e), actual: show(actual) });
}

function eqFloatList(ctx: Context, field: string, actual: readonly number[], expected: Json | undefined): void {
  const e = asArray(expected, field);
  if (e.length !== actual.length) fail(`${field}: ${String(e.length)} values for ${String(actual.length)} inputs`);
  e.forEach((v, i) => eqFloat(ctx, `${field}[${String(i)}]`, actual[i], v));
}

function eqIntList(ctx: Context, field: string, actual: readonly bigint[], expected: Json | undefined): void {
  const e = asArray(expected, field);
  if (e.length !== actual.length) fail(`${field}: ${String(e.length)} values for ${String(actual.length)} inputs`);
  e.forEach((v, i) => eqInt(ctx, `${field}[${String(i)}]`, actual[i], v));
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function fromHex(text: string, what: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) fail(`${what}: not a hex string`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const BIN_FIELDS: Record<string, (ctx: Context, f: string, bin: Bin, count: bigint, e: Json | undefined) => void> = {
  val: () => undefined, // matched positionally before the field checks run
  exp: () => undefined,
  count: (ctx, f, _b, count, e) => eqInt(ctx, f, count, e),
  bvs: (ctx, f, b, count, e) => eqString(ctx, f, formatBvs(b, count), e),
  c_string: (ctx, f, b, _c, e) => eqString(ctx, f, binToCString(b), e),
  edge: (ctx, f, b, _c, e) => eqFloat(ctx, f, binToDouble(b), e),
  width: (ctx, f, b, _c, e) => eqFloat(ctx, f, binWidth(b), e),
  lower: (ctx, f, b, _c, e) => eqFloat(ctx, f, binLower(b), e),
  upper: (ctx, f, b, _c, e) => eqFloat(ctx, f, binUpper(b), e),
  midpoint: (ctx, f, b, _c, e) => eqFloat(ctx, f, binMidpoint(b), e),
};

const EXPECTED_FIELDS: Record<string, (ctx: Context, e: Json | undefined) => void> = {
  bins(ctx, e) {
    const expected = asArray(e, 'bins');
    const actual = ctx.h.bins();
    if (expected.length !== actual.length) {
      ctx.out.push({
        field: 'bins.length',
        expected: String(expected.length),
        actual: `${String(actual.length)} ${JSON.stringify(actual.map((b) => [b.val, b.exp]))}`,
      });
    }
    expected.forEach((eb, i) => {
      const what = `bins[${String(i)}]`;
      const o = asObject(eb, what);
      checkKeys(o, Object.keys(BIN_FIELDS), what);
      const bin: Bin = { val: asInt(o.val, `${what}.val`), exp: asInt(o.exp, `${what}.exp`) };
      const a = actual[i] as (typeof actual)[number] | undefined;
      if (a === undefined || a.val !== bin.val || a.exp !== bin.exp) {
        ctx.out.push({ field: `${what}.bin`, expected: show([bin.val, bin.exp]), actual: show(a ? [a.val, a.exp] : null) });
      }
      // Geometry and text forms are checked on the expected bin so that one wrong bin does not
      // cascade; the count is the histogram's count for that bin.
      const count = ctx.h.countOfBin(bin);
      for (const [k, v] of Object.entries(o)) BIN_FIELDS[k](ctx, `${what}.${k}`, bin, count, v);
    });
  },
  bvs(ctx, e) {
    const expected = asArray(e, 'bvs').map((v, i) => asString(v, `bvs[${String(i)}]`));
    const actual = ctx.h.toBvs();
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      ctx.out.push({ field: 'bvs', expected: show(expected), actual: show(actual) });
    }
    // The broker ingests this form by re-binning each printed edge; that must reproduce the bins.
    const reparsed = Circllhist.fromBvs(expected);
    if (!reparsed.equals(ctx.h)) ctx.out.push({ field: 'bvs(parse)', expected: 'same bins', actual: show(reparsed.toBvs()) });
  },
  serialized_hex(ctx, e) {
    const expected = asString(e, 'serialized_hex').toLowerCase();
    eqString(ctx, 'serialized_hex', hex(ctx.h.serialize()), expected);
    const parsed = Circllhist.deserialize(fromHex(expected, 'serialized_hex'));
    if (!parsed.equals(ctx.h)) ctx.out.push({ field: 'serialized_hex(parse)', expected: 'same bins', actual: show(parsed.toBvs()) });
  },
  serialized_b64(ctx, e) {
    const expected = asString(e, 'serialized_b64');
    eqString(ctx, 'serialized_b64', ctx.h.toBase64(), expected);
    const parsed = Circllhist.fromBase64(expected);
    if (!parsed.equals(ctx.h)) ctx.out.push({ field: 'serialized_b64(parse)', expected: 'same bins', actual: show(parsed.toBvs()) });
  },
  bin_count: (ctx, e) => eqInt(ctx, 'bin_count', ctx.h.binCount, e),
  sample_count: (ctx, e) => eqInt(ctx, 'sample_count', ctx.h.sampleCount(), e),
  non_nan_count: (ctx, e) => eqInt(ctx, 'non_nan_count', ctx.h.nonNanCount(), e),
  quantile_type1: (ctx, e) => eqFloatList(ctx, 'quantile_type1', ctx.h.quantiles(ctx.quantileQ, 1), e),
  quantile_type7: (ctx, e) => eqFloatList(ctx, 'quantile_type7', ctx.h.quantiles(ctx.quantileQ, 7), e),
  approx_mean: (ctx, e) => eqFloat(ctx, 'approx_mean', ctx.h.approxMean(), e),
  approx_sum: (ctx, e) => eqFloat(ctx, 'approx_sum', ctx.h.approxSum(), e),
  approx_stddev: (ctx, e) => eqFloat(ctx, 'approx_stddev', ctx.h.approxStddev(), e),
  count_below_inclusive: (ctx, e) =>
    eqIntList(ctx, 'count_below_inclusive', ctx.thresholds.map((t) => ctx.h.countBelowInclusive(t)), e),
  count_below_exclusive: (ctx, e) =>
    eqIntList(ctx, 'count_below_exclusive', ctx.thresholds.map((t) => ctx.h.countBelowExclusive(t)), e),
  count_above_inclusive: (ctx, e) =>
    eqIntList(ctx, 'count_above_inclusive', ctx.thresholds.map((t) => ctx.h.countAboveInclusive(t)), e),
  count_above_exclusive: (ctx, e) =>
    eqIntList(ctx, 'count_above_exclusive', ctx.thresholds.map((t) => ctx.h.countAboveExclusive(t)), e),
};

// `go_reference` is informational (what the Go port produces); per the spec it is not checked.
const CASE_FIELDS = ['name', 'description', 'op', 'expected', 'go_reference', 'quantile_q', 'count_thresholds'];

function floatList(v: Json | undefined, what: string): number[] {
  return asArray(v, what).map((x, i) => asFloat(x, `${what}[${String(i)}]`));
}

function runCase(c: JsonObject, top: JsonObject): Mismatch[] {
  const opName = asString(c.op, 'op');
  const op = Object.hasOwn(OPS, opName) ? OPS[opName] : fail(`op ${JSON.stringify(opName)} is not supported by this runner`);
  checkKeys(c, [...CASE_FIELDS, op.inputKey], 'case');
  const expected = asObject(c.expected, 'expected');
  checkKeys(expected, Object.keys(EXPECTED_FIELDS), 'expected');
  if (Object.keys(expected).length === 0) fail('expected: nothing to check');
  const ctx: Context = {
    h: op.build(c),
    // A case may carry its own evaluation points; the file-level ones apply otherwise.
    quantileQ: floatList(c.quantile_q ?? top.quantile_q, 'quantile_q'),
    thresholds: floatList(c.count_thresholds ?? top.count_thresholds, 'count_thresholds'),
    out: [],
  };
  for (const [k, v] of Object.entries(expected)) EXPECTED_FIELDS[k](ctx, v);
  return ctx.out;
}

// ---------------------------------------------------------------------------------------------

const path = vectorsPath();
let loaded: { top: JsonObject; cases: JsonObject[] } | Error;
try {
  const top = asObject(JSON.parse(readFileSync(path, 'utf8')) as Json, 'vector file');
  const cases = asArray(top.cases, 'cases').map((c, i) => asObject(c, `cases[${String(i)}]`));
  loaded = { top, cases };
} catch (err) {
  loaded = err instanceof Error ? err : new Error(String(err));
}

describe(`circllhist reference vectors (${path})`, () => {
  if (loaded instanceof Error) {
    const err = loaded;
    it('loads the vector file', () => {
      throw err;
    });
    return;
  }
  const { top, cases } = loaded;

  // Top-level keys other than these are metadata (source, notes, set, …) and may vary between
  // vector sets; a change in meaning is signalled by format_version, which must stay 1.
  it('file format is understood', () => {
    if (top.format_version !== undefined) expect(top.format_version).toBe(1);
    floatList(top.quantile_q, 'quantile_q');
    floatList(top.count_thresholds, 'count_thresholds');
    expect(cases.length).toBeGreaterThan(0);
  });

  const seen = new Map<string, number>();
  cases.forEach((c, i) => {
    const base = typeof c.name === 'string' ? c.name : `case #${String(i)}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const title = n === 1 ? base : `${base} (#${String(n)})`;
    it(title, () => {
      const mismatches = runCase(c, top);
      const report = mismatches.map((m) => `${m.field}: expected ${m.expected}, got ${m.actual}`);
      expect(report, `case ${title}`).toEqual([]);
    });
  });
});
