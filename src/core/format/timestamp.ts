import type { Timestamp } from '../attributes/value.js';

const SECONDS_PER_DAY = 86_400;

/**
 * Mixer's `serializeTime`: UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`, always six fraction digits
 * (microseconds, truncated). Computed from the epoch seconds with civil-calendar arithmetic
 * rather than `Date`, whose range is narrower than a protobuf Timestamp's.
 */
export function formatTimestampLabel(ts: Pick<Timestamp, 'seconds' | 'nanos'>): string {
  const t = utcParts(ts);
  const micros = Math.floor(t.nanos / 1000);
  return (
    `${year4(t.year)}-${two(t.month)}-${two(t.day)}T${two(t.hour)}:${two(t.minute)}:${two(t.second)}` +
    `.${String(micros).padStart(6, '0')}Z`
  );
}

interface UtcParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly nanos: number;
}

function utcParts(ts: Pick<Timestamp, 'seconds' | 'nanos'>): UtcParts {
  // Normalise a nanos field outside [0, 1e9) instead of printing garbage.
  const carry = Math.floor(ts.nanos / 1e9);
  const seconds = Math.trunc(ts.seconds) + carry;
  const nanos = Math.floor(ts.nanos - carry * 1e9);
  const days = Math.floor(seconds / SECONDS_PER_DAY);
  const sod = seconds - days * SECONDS_PER_DAY;
  const [year, month, day] = civilFromDays(days);
  return {
    year,
    month,
    day,
    hour: Math.floor(sod / 3600),
    minute: Math.floor((sod % 3600) / 60),
    second: sod % 60,
    nanos,
  };
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Go writes exactly four year digits (`(year/1000)%10` …), so years past 9999 wrap. */
function year4(year: number): string {
  if (year >= 0) return String(year % 10_000).padStart(4, '0');
  // Go's truncating `/` and `%` give negative digits here; keep its bytes rather than invent a format.
  let out = '';
  for (const div of [1000, 100, 10, 1]) out += String.fromCharCode(48 + (Math.trunc(year / div) % 10));
  return out;
}

/** Howard Hinnant's `civil_from_days`: proleptic Gregorian date for days since 1970-01-01. */
function civilFromDays(z0: number): [number, number, number] {
  const z = z0 + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return [year, month, day];
}

/**
 * Go's `time.Time.String()` for a UTC time (what `%v` prints, e.g. in StatsD name templates):
 * `2006-01-02 15:04:05.999999999 +0000 UTC`, the fraction trimmed of trailing zeros.
 */
export function formatGoTime(ts: Pick<Timestamp, 'seconds' | 'nanos'>): string {
  const t = utcParts(ts);
  const year = t.year < 0 ? `-${String(-t.year).padStart(4, '0')}` : String(t.year).padStart(4, '0');
  const frac = t.nanos === 0 ? '' : `.${String(t.nanos).padStart(9, '0').replace(/0+$/, '')}`;
  return `${year}-${two(t.month)}-${two(t.day)} ${two(t.hour)}:${two(t.minute)}:${two(t.second)}${frac} +0000 UTC`;
}
