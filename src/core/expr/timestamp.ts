/** `timestamp()`: Go's time.Parse with layout time.RFC3339, to a nanosecond Timestamp. */
import { Timestamp } from '../attributes/value.js';

export const RFC3339_LAYOUT = '2006-01-02T15:04:05Z07:00';

// Go accepts a fractional second after the seconds even though the layout has none; Go 1.13 only
// after a '.'. The 'T' and 'Z' are layout literals and therefore case-sensitive. The hour is the
// layout's "15", which Go reads as one or two digits ("T1:04:05Z" parses); every other field is
// fixed-width.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysIn(month: number, year: number): number {
  return month === 2 ? (isLeap(year) ? 29 : 28) : [31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function parseRfc3339(s: string): Timestamp | undefined {
  const m = RFC3339.exec(s);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number, number, number, number, number, number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offset = 0;
  if (m[8] === undefined) {
    // Go 1.13 (Mixer 1.4) does not range-check the offset: "+24:00" and "+01:75" are accepted.
    const oh = Number(m[10]);
    const om = Number(m[11]);
    offset = (oh * 3600 + om * 60) * (m[9] === '-' ? -1 : 1);
  }
  // Digits past nanosecond precision are dropped, as Go does.
  const nanos = m[7] === undefined ? 0 : Number(m[7].slice(0, 9).padEnd(9, '0'));
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  return new Timestamp(seconds, nanos);
}
