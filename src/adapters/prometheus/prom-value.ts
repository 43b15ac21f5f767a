import { ValueType, type AttributeValue } from '../../core/adapter.js';
import { formatGoValue } from '../../core/format/index.js';

/**
 * A sample value, or the reason there is none. A string rather than an Error object so that the
 * Report path allocates nothing when conversion succeeds and no stack trace when it fails.
 */
export type Conversion = number | string;

export type ValueConverter = (value: AttributeValue | null) => Conversion;

/**
 * Mixer's `promValue`, specialised once per instance on its static value type (INT64, DOUBLE
 * and DURATION are all plain numbers at runtime, so the type is what tells them apart):
 * numbers as they are, DURATION nanoseconds as Go's `Duration.Seconds()`, strings through
 * `strconv.ParseFloat`, anything else an error.
 */
export function valueConverterFor(type: ValueType): ValueConverter {
  switch (type) {
    case ValueType.INT64:
    case ValueType.DOUBLE:
      return (v) => (typeof v === 'number' ? v : notNumeric(v, type));
    case ValueType.DURATION:
      return (v) => (typeof v === 'number' ? goDurationSeconds(v) : notNumeric(v, type));
    case ValueType.STRING:
    case ValueType.DNS_NAME:
    case ValueType.EMAIL_ADDRESS:
    case ValueType.URI:
      return (v) => (typeof v === 'string' ? parseGoFloat(v) : notNumeric(v, type));
    default:
      return (v) => notNumeric(v, type);
  }
}

/** Whether values of this static type can ever become a sample (checked at config load). */
export function isConvertibleValueType(type: ValueType): boolean {
  switch (type) {
    case ValueType.INT64:
    case ValueType.DOUBLE:
    case ValueType.DURATION:
    case ValueType.STRING:
    case ValueType.DNS_NAME:
    case ValueType.EMAIL_ADDRESS:
    case ValueType.URI:
      return true;
    default:
      return false;
  }
}

function notNumeric(v: AttributeValue | null, type: ValueType): string {
  return `could not extract numeric value for ${formatGoValue(v, type)}`;
}

/**
 * Go's `Duration.Seconds()`: whole seconds plus the remainder divided by 1e9, which is not
 * always the same double as `ns / 1e9`.
 */
export function goDurationSeconds(ns: number): number {
  let sec = Math.trunc(ns / 1e9);
  let rem = ns - sec * 1e9;
  // The division can round across a whole second near 2^53; Go's integer `/` and `%` cannot.
  if (rem !== 0 && Math.sign(rem) !== Math.sign(ns)) {
    sec -= Math.sign(ns);
    rem = ns - sec * 1e9;
  } else if (Math.abs(rem) >= 1e9) {
    sec += Math.sign(ns);
    rem = ns - sec * 1e9;
  }
  return sec + rem / 1e9;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/;
const SPECIAL = /^([+-]?)(inf|infinity)$/i;

/**
 * Go's `strconv.ParseFloat(s, 64)`: decimal and hexadecimal (`0x1p-2`) forms, `inf`/`infinity`
 * with an optional sign and `nan`, case-insensitively. Overflow is an error, as in Go; underflow
 * quietly gives zero. Digit-separating underscores (accepted by Go only after a base prefix) are
 * not supported and are reported as invalid syntax.
 */
export function parseGoFloat(s: string): Conversion {
  if (DECIMAL.test(s)) {
    const v = Number(s);
    return Number.isFinite(v) ? v : outOfRange(s);
  }
  const special = SPECIAL.exec(s);
  if (special !== null) return special[1] === '-' ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  const hex = HEX.exec(s);
  if (hex !== null) {
    const [, sign = '', whole = '', frac = '', exp = '0'] = hex;
    if (whole.length + frac.length === 0) return invalidSyntax(s);
    const mantissa = Number(BigInt(`0x${whole}${frac}`));
    if (mantissa === 0) return sign === '-' ? -0 : 0;
    // Scale in two integer steps: 2**e alone can overflow or underflow where the product does not.
    const e = Number(exp) - 4 * frac.length;
    const e1 = Math.trunc(e / 2);
    const v = mantissa * 2 ** e1 * 2 ** (e - e1);
    if (!Number.isFinite(v)) return outOfRange(s);
    return sign === '-' ? -v : v;
  }
  return invalidSyntax(s);
}

function invalidSyntax(s: string): string {
  return `strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`;
}

function outOfRange(s: string): string {
  return `strconv.ParseFloat: parsing ${JSON.stringify(s)}: value out of range`;
}
