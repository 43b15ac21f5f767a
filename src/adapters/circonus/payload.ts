/**
 * The HTTPTrap JSON body, byte for byte what circonus-gometrics' Go encoder writes
 * (circllhist-spec §8.1): one compact object keyed by metric name, keys in Go's byte order, each
 * value `{"_value":…,"_type":"…"}`. Pure: no I/O, no clock.
 */
import { Circllhist } from '../../core/circllhist/index.js';
import { compareGoStrings, formatGoInt } from '../../core/format/index.js';

/**
 * The broker types this adapter emits: `L` uint64 (counters), `l` int64 (integer gauges), `n`
 * double (other gauges and non-integer counters), `h` histogram (base64 circllhist). No `_ts` is
 * ever sent: it would switch the check to the broker's async mode.
 */
export type CirconusType = 'L' | 'l' | 'n' | 'h';

export interface CirconusSample {
  readonly name: string;
  readonly type: CirconusType;
  /**
   * `L`: a non-negative integer (a bigint once past 2^53); `l`: an integer; `n`: a finite
   * double; `h`: the histogram.
   */
  readonly value: number | bigint | Circllhist;
}

const NEEDS_GO_ESCAPE = /[<>&\u2028\u2029]/g;
const GO_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * A JSON string as Go's encoding/json writes it: JSON.stringify already escapes what JSON needs;
 * Go also escapes `<`, `>`, `&` and the two JavaScript line separators. The broker reads both
 * forms; matching Go keeps payloads comparable with cgm's.
 */
export function goJsonString(s: string): string {
  const json = JSON.stringify(s);
  NEEDS_GO_ESCAPE.lastIndex = 0;
  return NEEDS_GO_ESCAPE.test(json) ? json.replace(NEEDS_GO_ESCAPE, (c) => GO_ESCAPES[c] ?? c) : json;
}

function invalid(sample: CirconusSample): never {
  const v = sample.value;
  const shown = v instanceof Circllhist ? 'a histogram' : typeof v === 'bigint' ? `${v.toString()}n` : String(v);
  throw new RangeError(`metric ${JSON.stringify(sample.name)}: ${shown} is not a valid "${sample.type}" value`);
}

/** The `_value` JSON of one sample. Throws RangeError for a value its type cannot carry. */
export function encodeValue(sample: CirconusSample): string {
  const v = sample.value;
  switch (sample.type) {
    case 'h':
      if (!(v instanceof Circllhist)) return invalid(sample);
      // Base64 never needs JSON escaping.
      return `"${v.toBase64()}"`;
    case 'L':
      if (typeof v === 'bigint') return v >= 0n ? v.toString() : invalid(sample);
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return invalid(sample);
      return formatGoInt(v);
    case 'l':
      if (typeof v === 'bigint') return v.toString();
      if (typeof v !== 'number' || !Number.isInteger(v)) return invalid(sample);
      return formatGoInt(v);
    case 'n':
      if (typeof v !== 'number' || !Number.isFinite(v)) return invalid(sample);
      // Go's float64 encoding and Number#toString agree (shortest digits, exponent below 1e-6 and
      // from 1e21, no zero-padded exponent), except that Go keeps the sign of negative zero.
      return Object.is(v, -0) ? '-0' : String(v);
    default:
      return invalid(sample);
  }
}

/** One `"name":{"_value":…,"_type":"…"}` member. */
export function encodeEntry(sample: CirconusSample): string {
  return `${goJsonString(sample.name)}:{"_value":${encodeValue(sample)},"_type":"${sample.type}"}`;
}

function byCodeUnits(a: CirconusSample, b: CirconusSample): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function byGoBytes(a: CirconusSample, b: CirconusSample): number {
  return compareGoStrings(a.name, b.name);
}

// UTF-16 order equals UTF-8 byte order unless a name holds a surrogate (U+10000 and up).
const SURROGATE = /[\ud800-\udfff]/;

/** Samples in the order Go's encoding/json writes map keys. */
function sortedByName(samples: Iterable<CirconusSample>): CirconusSample[] {
  const sorted = [...samples];
  let goOrder = false;
  for (const s of sorted) {
    if (SURROGATE.test(s.name)) {
      goOrder = true;
      break;
    }
  }
  return sorted.sort(goOrder ? byGoBytes : byCodeUnits);
}

/**
 * The whole body, keys sorted as Go sorts map keys. Names must be distinct (they are map keys on
 * the broker). `{}` for no samples; callers send nothing in that case, as cgm does.
 */
export function encodePayload(samples: Iterable<CirconusSample>): string {
  const sorted = sortedByName(samples);
  const parts = new Array<string>(sorted.length);
  for (let i = 0; i < sorted.length; i++) parts[i] = encodeEntry(sorted[i] as CirconusSample);
  return `{${parts.join(',')}}`;
}

/**
 * {@link encodePayload}, awaiting `pause()` after every `chunk` entries. The samples must not
 * change until the promise settles. The handler's flush uses `encodeBodyInSlices`
 * (payload-body.ts) instead, which slices by time and never builds the body as one string.
 */
export async function encodePayloadInChunks(
  samples: Iterable<CirconusSample>,
  chunk: number,
  pause: () => Promise<void>,
): Promise<string> {
  const sorted = sortedByName(samples);
  const parts = new Array<string>(sorted.length);
  const step = Math.max(1, Math.floor(chunk));
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && i % step === 0) await pause();
    parts[i] = encodeEntry(sorted[i] as CirconusSample);
  }
  return `{${parts.join(',')}}`;
}
