import { Timestamp, type AttributeValue, type StringMap } from '../attributes/value.js';
import { ValueType } from '../attributes/value-type.js';
import { formatGoDuration } from './go-duration.js';
import { formatGoFloatF, formatGoFloatG, formatGoInt } from './go-float.js';
import { formatIp } from './ip.js';
import { compareGoStrings } from './go-string.js';
import { formatGoTime, formatTimestampLabel } from './timestamp.js';

/** Turns one attribute value into text; chosen once per dimension so the hot path does not switch. */
export type ValueFormatter = (value: AttributeValue | null) => string;

/**
 * Mixer's `adapter.Stringify` (how Prometheus label values are made): strings as is, INT64 in
 * decimal, DOUBLE as Go `'f', -1`, BOOL as `true`/`false`, TIMESTAMP as
 * `YYYY-MM-DDTHH:MM:SS.ffffffZ`, DURATION as Go `Duration.String()`, IP_ADDRESS as `net.IP`
 * text, STRING_MAP as `k=v&k=v`, null as `""`.
 *
 * STRING_MAP entries are sorted by key. Mixer ranged over a Go map, whose order is random, so
 * the same map could produce different series from one report to the next; sorting keeps one.
 */
export function stringifyValue(value: AttributeValue | null, type: ValueType): string {
  return stringifierFor(type)(value);
}

/** The `stringifyValue` function specialised for one static type. */
export function stringifierFor(type: ValueType): ValueFormatter {
  switch (type) {
    case ValueType.STRING:
    case ValueType.DNS_NAME:
    case ValueType.EMAIL_ADDRESS:
    case ValueType.URI:
      return (v) => (typeof v === 'string' ? v : stringifyByShape(v));
    case ValueType.INT64:
      // Past 2^53 − 1 an INT64 is a bigint (int64.ts), printed exactly by stringifyByShape.
      return (v) => (typeof v === 'number' ? formatGoInt(v) : stringifyByShape(v));
    case ValueType.DOUBLE:
      return (v) => (typeof v === 'number' ? formatGoFloatF(v) : stringifyByShape(v));
    case ValueType.DURATION:
      return (v) => (typeof v === 'number' ? formatGoDuration(v) : stringifyByShape(v));
    default:
      // BOOL, TIMESTAMP, IP_ADDRESS and STRING_MAP have a distinct runtime shape, and an
      // unspecified type can only be told from the value.
      return stringifyByShape;
  }
}

/** Stringify when the static type does not say more than the runtime shape does. */
function stringifyByShape(v: AttributeValue | null): string {
  // undefined cannot happen by type, but a label must never throw on the Report path.
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? formatGoInt(v) : formatGoFloatF(v);
  if (typeof v === 'bigint') return v.toString(); // an INT64 past 2^53 (int64.ts): exact decimal, as Go's FormatInt
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Timestamp) return formatTimestampLabel(v);
  if (v instanceof Uint8Array) return formatIp(v);
  if (v instanceof Map) return joinMap(v, '=', '&');
  return String(v);
}

/**
 * Go's `fmt` `%v` for the same values (what a Go `text/template` prints, e.g. StatsD name
 * templates): INT64 in decimal, DOUBLE as `%g` shortest, DURATION as `1.5s`, TIMESTAMP as
 * `time.Time.String()`, IP bytes as a byte slice `[10 0 0 1]`, STRING_MAP as `map[k:v k:v]`
 * sorted by key (as fmt sorts maps), null as `<nil>`.
 */
export function formatGoValue(value: AttributeValue | null, type: ValueType): string {
  return goValueFormatterFor(type)(value);
}

/** The `formatGoValue` function specialised for one static type. */
export function goValueFormatterFor(type: ValueType): ValueFormatter {
  switch (type) {
    case ValueType.STRING:
    case ValueType.DNS_NAME:
    case ValueType.EMAIL_ADDRESS:
    case ValueType.URI:
      return (v) => (typeof v === 'string' ? v : goValueByShape(v));
    case ValueType.INT64:
      return (v) => (typeof v === 'number' ? formatGoInt(v) : goValueByShape(v));
    case ValueType.DOUBLE:
      return (v) => (typeof v === 'number' ? formatGoFloatG(v) : goValueByShape(v));
    case ValueType.DURATION:
      return (v) => (typeof v === 'number' ? formatGoDuration(v) : goValueByShape(v));
    default:
      return goValueByShape;
  }
}

function goValueByShape(v: AttributeValue | null): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? formatGoInt(v) : formatGoFloatG(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Timestamp) return formatGoTime(v);
  if (v instanceof Uint8Array) return `[${v.join(' ')}]`;
  if (v instanceof Map) return `map[${joinMap(v, ':', ' ')}]`;
  return String(v);
}

function joinMap(m: StringMap, kv: string, sep: string): string {
  const keys = [...m.keys()].sort(compareGoStrings);
  let out = '';
  for (const k of keys) {
    if (out.length > 0) out += sep;
    out += k + kv + (m.get(k) ?? '');
  }
  return out;
}
