/**
 * Go's `time.Duration.String()` for a duration in nanoseconds: `1h2m3.5s`, `1.5ms`, `1µs`, `0s`.
 * Durations travel as a double of nanoseconds (exact to about 104 days), so a fractional input
 * is rounded to the nearest nanosecond first.
 */
export function formatGoDuration(ns: number): string {
  if (!Number.isFinite(ns)) return Number.isNaN(ns) ? '0s' : ns > 0 ? MAX_DURATION : MIN_DURATION;
  const rounded = Math.round(ns);
  const neg = rounded < 0;
  let u = Math.abs(rounded);
  if (u === 0) return '0s';
  let out: string;
  if (u < 1e9) {
    // Below a second Go switches to the largest unit that keeps an integer part.
    if (u < 1e3) out = `${u}ns`;
    else if (u < 1e6) out = `${fixedFraction(u, 3)}µs`;
    else out = `${fixedFraction(u, 6)}ms`;
  } else {
    const frac = u % 1e9;
    u = (u - frac) / 1e9;
    const secs = u % 60;
    out = `${secs}${fractionDigits(frac, 9)}s`;
    u = (u - secs) / 60;
    if (u > 0) {
      const mins = u % 60;
      out = `${mins}m${out}`;
      u = (u - mins) / 60;
      if (u > 0) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** Go's Duration is an int64, so the formatter never sees more than these. */
const MAX_DURATION = '2562047h47m16.854775807s';
const MIN_DURATION = '-2562047h47m16.854775808s';

/** `v / 10^prec` with the fraction's trailing zeros (and a bare point) dropped, as Go's fmtFrac. */
function fixedFraction(v: number, prec: number): string {
  const scale = 10 ** prec;
  const frac = v % scale;
  return `${(v - frac) / scale}${fractionDigits(frac, prec)}`;
}

function fractionDigits(frac: number, prec: number): string {
  if (frac === 0) return '';
  return `.${String(frac).padStart(prec, '0').replace(/0+$/, '')}`;
}
