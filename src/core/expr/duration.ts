/**
 * Go's `time.ParseDuration`, reproduced exactly: CEXL decides whether a string literal is a DURATION
 * constant by trying it, and config fields such as `metricsExpiryDuration: "10m"` use the same syntax.
 */

export type DurationResult =
  | { readonly ok: true; /** Nanoseconds; exact up to ±2^53 (~104 days). */ readonly nanos: number }
  | { readonly ok: false; readonly message: string };

// BigInt, because Go's overflow checks are against 2^63 and a double cannot hold that boundary.
const UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['µs', 1_000n], // U+00B5 micro sign
  ['μs', 1_000n], // U+03BC Greek mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

const MAX_MAGNITUDE = 1n << 63n;
const MAX_INT64 = MAX_MAGNITUDE - 1n;

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function invalid(orig: string): DurationResult {
  return { ok: false, message: `time: invalid duration ${goQuote(orig)}` };
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Parses `[-+]?([0-9]*(\.[0-9]*)?[a-zµμ]+)+` or a bare `0`, with Go's error messages. */
export function parseGoDuration(text: string): DurationResult {
  let s = text;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  // Go's special case: a bare "0" needs no unit.
  if (s === '0') return { ok: true, nanos: 0 };
  if (s === '') return invalid(text);

  let total = 0n;
  let i = 0;
  while (i < s.length) {
    if (!(s[i] === '.' || isDigit(s[i]))) return invalid(text);

    // Integer part, up to 2^63 (the magnitude of the most negative duration).
    const intStart = i;
    let whole = 0n;
    while (isDigit(s[i])) {
      whole = whole * 10n + BigInt(s.charCodeAt(i) - 48);
      if (whole > MAX_MAGNITUDE) return invalid(text);
      i++;
    }
    const pre = i !== intStart;

    // Fraction: digits past int64 precision are consumed but ignored, as in Go's leadingFraction.
    let frac = 0n;
    let scale = 1;
    let post = false;
    if (s[i] === '.') {
      i++;
      const fracStart = i;
      let overflow = false;
      while (isDigit(s[i])) {
        if (!overflow) {
          const next = frac * 10n + BigInt(s.charCodeAt(i) - 48);
          if (frac > MAX_INT64 / 10n || next > MAX_MAGNITUDE) {
            overflow = true;
          } else {
            frac = next;
            scale *= 10;
          }
        }
        i++;
      }
      post = i !== fracStart;
    }
    if (!pre && !post) return invalid(text);

    const unitStart = i;
    while (i < s.length && s[i] !== '.' && !isDigit(s[i])) i++;
    if (i === unitStart) return { ok: false, message: `time: missing unit in duration ${goQuote(text)}` };
    const unitText = s.slice(unitStart, i);
    const unit = UNITS.get(unitText);
    if (unit === undefined) {
      return { ok: false, message: `time: unknown unit ${goQuote(unitText)} in duration ${goQuote(text)}` };
    }

    if (whole > MAX_MAGNITUDE / unit) return invalid(text);
    let v = whole * unit;
    if (frac > 0n) {
      // Go computes the fractional part in float64 and truncates; do the same for identical results.
      v += BigInt(Math.trunc(Number(frac) * (Number(unit) / scale)));
      if (v > MAX_MAGNITUDE) return invalid(text);
    }
    total += v;
    if (total > MAX_MAGNITUDE) return invalid(text);
  }
  if (!neg && total > MAX_INT64) return invalid(text);
  return { ok: true, nanos: Number(neg ? -total : total) };
}
