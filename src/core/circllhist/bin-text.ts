import { type Bin, NAN_KEY, ZERO_KEY, assertValidBin, keyOfBin, valOfKey, expOfKey } from './bin.js';
import { type CountInput, U64_MAX, normalizeCount } from './count.js';
import { CircllhistFormatError } from './errors.js';

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * @internal The bracketed number of the cgm form: the bin edge nearest zero as Go's `%3.1e`.
 * Built from the digits rather than `toExponential(1)`, which prints `e+0` where Go prints `e+00`;
 * the digits of a bin edge are exactly val/10, so no float formatting is involved.
 */
export function bvsEdgeOfKey(key: number): string {
  if (key === NAN_KEY) return 'NaN';
  if (key === ZERO_KEY) return '0.0e+00';
  const val = valOfKey(key);
  const exp = expOfKey(key);
  const mag = val < 0 ? -val : val;
  const digits = `${String((mag - (mag % 10)) / 10)}.${String(mag % 10)}`;
  return `${val < 0 ? '-' : ''}${digits}e${exp < 0 ? '-' : '+'}${pad(exp < 0 ? -exp : exp, 2)}`;
}

/** @internal */
export function bvsEntry(key: number, count: bigint | number): string {
  return `H[${bvsEdgeOfKey(key)}]=${count.toString()}`;
}

/**
 * One entry of the circonus-gometrics "bvs" / DecStrings form, `H[<edge %3.1e>]=<count>`, e.g.
 * `H[1.2e+00]=3`, `H[-1.2e+00]=3` for (−1.3, −1.2], `H[0.0e+00]=N`, `H[NaN]=N`.
 */
export function formatBvs(bin: Bin, count: CountInput): string {
  assertValidBin(bin);
  const c = normalizeCount(count);
  return bvsEntry(keyOfBin(bin.val, bin.exp), c);
}

/**
 * libcircllhist's `hist_bucket_to_string` form `sXXeTYYY` meaning val × 10^(exp−1), e.g.
 * `+12e+000` for 1.2 and `-23e-002` for −0.23; `0` for the zero bin and `NaN` for the NaN bin.
 */
export function binToCString(bin: Bin): string {
  assertValidBin(bin);
  const key = keyOfBin(bin.val, bin.exp);
  if (key === NAN_KEY) return 'NaN';
  if (key === ZERO_KEY) return '0';
  const e = bin.exp - 1;
  return `${bin.val < 0 ? '-' : '+'}${pad(Math.abs(bin.val), 2)}e${bin.exp >= 1 ? '+' : '-'}${pad(Math.abs(e), 3)}`;
}

/** A parsed bvs entry: the float inside the brackets and the count after `=`. */
export interface BvsEntry {
  readonly value: number;
  readonly count: bigint;
}

// strtod's decimal and named forms, without its leading-whitespace and hex-float leniency: the
// broker feeds the text to strtod, so anything accepted here must mean the same thing there.
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NAMED = /^[+-]?(?:nan|inf|infinity)$/i;
const ENTRY = /^H\[([^\]]*)\]=(\d+)$/;

/**
 * Parses one `H[<float>]=<count>` entry as the broker does. Any float is accepted inside the
 * brackets (it is binned on insert, and a printed edge always maps back to its own bin); the count
 * is an unsigned decimal up to 2^64−1. Throws CircllhistFormatError on anything else.
 */
export function parseBvs(text: string): BvsEntry {
  const m = ENTRY.exec(text);
  if (m === null) throw new CircllhistFormatError(`not a circllhist bvs entry: ${JSON.stringify(text)}`);
  const num = m[1];
  let value: number;
  if (DECIMAL.test(num)) value = Number(num);
  else if (NAMED.test(num)) {
    const body = num.replace(/^[+-]/, '').toLowerCase();
    value = body === 'nan' ? NaN : num.startsWith('-') ? -Infinity : Infinity;
  } else throw new CircllhistFormatError(`bad number in bvs entry: ${JSON.stringify(text)}`);
  const count = BigInt(m[2]);
  if (count > U64_MAX) throw new CircllhistFormatError(`count past 2^64−1 in bvs entry: ${JSON.stringify(text)}`);
  return { value, count };
}
