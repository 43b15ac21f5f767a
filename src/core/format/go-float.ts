/**
 * Go `strconv.FormatFloat` layouts for float64, built on the shortest round-trip digits that
 * JavaScript already computes (ECMAScript and Go both pick the shortest digit string that parses
 * back to the same double, so the digits agree; only the layout differs).
 */

interface ShortestDigits {
  readonly neg: boolean;
  /** Significant digits without leading or trailing zeros; `''` for zero. */
  readonly digits: string;
  /** Go's `decimal.dp`: the value is `0.<digits> × 10^dp`. */
  readonly dp: number;
}

function shortestDigits(v: number): ShortestDigits {
  // Object.is catches -0, which Go prints with its sign.
  const neg = v < 0 || Object.is(v, -0);
  if (v === 0) return { neg, digits: '', dp: 0 };
  const exp = Math.abs(v).toExponential();
  const e = exp.indexOf('e');
  const mantissa = exp.slice(0, e);
  const digits = mantissa.length > 1 ? mantissa[0] + mantissa.slice(2) : mantissa;
  return { neg, digits, dp: Number(exp.slice(e + 1)) + 1 };
}

function nonFinite(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? '+Inf' : '-Inf';
}

/** Go's fmtF: all digits, no exponent, `prec` fraction digits. */
function layoutF(d: ShortestDigits, prec: number): string {
  let out = d.neg ? '-' : '';
  if (d.dp > 0) {
    const whole = Math.min(d.dp, d.digits.length);
    out += d.digits.slice(0, whole) + '0'.repeat(d.dp - whole);
  } else {
    out += '0';
  }
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) {
      const j = d.dp + i - 1;
      out += j >= 0 && j < d.digits.length ? d.digits[j] : '0';
    }
  }
  return out;
}

/** Go's fmtE with shortest precision: `d.ddde±XX`, at least two exponent digits. */
function layoutE(d: ShortestDigits): string {
  let out = d.neg ? '-' : '';
  const first = d.digits.length > 0 ? d.digits[0] : '0';
  out += first;
  if (d.digits.length > 1) out += `.${d.digits.slice(1)}`;
  const exp = d.digits.length === 0 ? 0 : d.dp - 1;
  const abs = Math.abs(exp);
  return `${out}e${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
}

/** `strconv.FormatFloat(v, 'f', -1, 64)`: shortest exact decimal without an exponent. */
export function formatGoFloatF(v: number): string {
  if (!Number.isFinite(v)) return nonFinite(v);
  const d = shortestDigits(v);
  return layoutF(d, Math.max(d.digits.length - d.dp, 0));
}

/**
 * `strconv.FormatFloat(v, 'g', -1, 64)`, which is also what `fmt` prints for `%v`: exponent form
 * when the decimal exponent is below -4 or at least 6 (the shortest-precision rule), else plain.
 */
export function formatGoFloatG(v: number): string {
  if (!Number.isFinite(v)) return nonFinite(v);
  const d = shortestDigits(v);
  const exp = d.dp - 1;
  if (d.digits.length > 0 && (exp < -4 || exp >= 6)) return layoutE(d);
  return layoutF(d, Math.max(d.digits.length - d.dp, 0));
}

/**
 * Sample values and `le` labels as client_golang's text exposition writes them (`writeFloat`):
 * `%g`-style shortest form, with `0`, `1` and `-1` hard-coded, so negative zero prints as `0`.
 */
export function formatPromFloat(v: number): string {
  if (v === 0) return '0';
  if (v === 1) return '1';
  if (v === -1) return '-1';
  return formatGoFloatG(v);
}

/**
 * The same for OpenMetrics (`writeOpenMetricsFloat`): a number that would have neither `.` nor
 * `e` gets `.0`, because OpenMetrics wants canonical floats (notably in `le`).
 */
export function formatOpenMetricsFloat(v: number): string {
  if (v === 0) return '0.0';
  if (v === 1) return '1.0';
  if (v === -1) return '-1.0';
  if (!Number.isFinite(v)) return nonFinite(v);
  const s = formatGoFloatG(v);
  return s.includes('.') || s.includes('e') ? s : `${s}.0`;
}

/** Go's `strconv.FormatInt(v, 10)` for an INT64 carried in a double. */
export function formatGoInt(v: number): string {
  if (Number.isSafeInteger(v)) return String(v);
  // Beyond 2^53 every finite double is an integer; String() would switch to exponent form.
  if (Number.isInteger(v)) return BigInt(v).toString();
  if (Number.isFinite(v)) return BigInt(Math.trunc(v)).toString();
  return nonFinite(v);
}
