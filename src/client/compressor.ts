import { GLOBAL_DICTIONARY } from '../core/attributes/global-dictionary.js';
import { Timestamp, type AttributeValue } from '../core/attributes/value.js';
import { ValueType } from '../core/attributes/value-type.js';
import type { CompressedAttributes, StringMap } from '../gen/istio/mixer/v1/attributes.js';
import { ReportRequest, ReportRequest_RepeatedAttributesSemantics } from '../gen/istio/mixer/v1/mixer.js';

/** An attribute value with the type that decides which wire map carries it. */
export interface TypedValue {
  readonly type: ValueType;
  readonly value: AttributeValue;
}

export type AttributeSet = Readonly<Record<string, TypedValue>>;

export const str = (value: string): TypedValue => ({ type: ValueType.STRING, value });
/** An INT64: a number (a safe integer) or, for the rest of the int64 range, a bigint. */
export const int = (value: number | bigint): TypedValue => ({ type: ValueType.INT64, value });
export const dbl = (value: number): TypedValue => ({ type: ValueType.DOUBLE, value });
export const bool = (value: boolean): TypedValue => ({ type: ValueType.BOOL, value });
/** A duration in nanoseconds. */
export const dur = (nanos: number): TypedValue => ({ type: ValueType.DURATION, value: nanos });
export const ts = (seconds: number, nanos = 0): TypedValue => ({ type: ValueType.TIMESTAMP, value: new Timestamp(seconds, nanos) });
export const ip = (text: string): TypedValue => ({ type: ValueType.IP_ADDRESS, value: Uint8Array.from(text.split('.').map(Number)) });
export const smap = (entries: Record<string, string>): TypedValue => ({
  type: ValueType.STRING_MAP,
  value: new Map(Object.entries(entries)),
});

/**
 * Encodes words the way Envoy's MessageDictionary does: a word among the first `globalWordCount`
 * global words is sent as its global index, any other word goes into the message dictionary.
 */
class MessageDictionary {
  readonly words: string[] = [];
  private readonly index = new Map<string, number>();

  constructor(private readonly global: ReadonlyMap<string, number>) {}

  indexOf(word: string): number {
    const g = this.global.get(word);
    if (g !== undefined) return g;
    let slot = this.index.get(word);
    if (slot === undefined) {
      slot = this.words.length;
      this.words.push(word);
      this.index.set(word, slot);
    }
    return -(slot + 1);
  }
}

function globalIndex(count: number): ReadonlyMap<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < count; i++) m.set(GLOBAL_DICTIONARY[i]!, i);
  return m;
}

const FULL_GLOBAL = globalIndex(GLOBAL_DICTIONARY.length);

function emptyCompressed(): CompressedAttributes {
  return { words: [], strings: {}, int64s: {}, doubles: {}, bools: {}, timestamps: {}, durations: {}, bytes: {}, stringMaps: {} };
}

function compressInto(set: AttributeSet, dict: MessageDictionary): CompressedAttributes {
  const out = emptyCompressed();
  for (const [name, { type, value }] of Object.entries(set)) {
    const k = dict.indexOf(name);
    switch (type) {
      case ValueType.STRING:
      case ValueType.DNS_NAME:
      case ValueType.EMAIL_ADDRESS:
      case ValueType.URI:
        out.strings[k] = dict.indexOf(value as string);
        break;
      case ValueType.INT64:
        out.int64s[k] = BigInt(value as number | bigint);
        break;
      case ValueType.DOUBLE:
        out.doubles[k] = value as number;
        break;
      case ValueType.BOOL:
        out.bools[k] = value as boolean;
        break;
      case ValueType.TIMESTAMP: {
        const t = value as Timestamp;
        out.timestamps[k] = { seconds: BigInt(t.seconds), nanos: t.nanos };
        break;
      }
      case ValueType.DURATION: {
        const ns = value as number;
        const seconds = Math.trunc(ns / 1e9);
        out.durations[k] = { seconds: BigInt(seconds), nanos: Math.round(ns - seconds * 1e9) };
        break;
      }
      case ValueType.IP_ADDRESS:
        out.bytes[k] = Buffer.from(value as Uint8Array);
        break;
      case ValueType.STRING_MAP: {
        const sm: StringMap = { entries: {} };
        for (const [mk, mv] of value as ReadonlyMap<string, string>) sm.entries[dict.indexOf(mk)] = dict.indexOf(mv);
        out.stringMaps[k] = sm;
        break;
      }
      default:
        throw new Error(`cannot encode attribute ${name} of type ${String(type)}`);
    }
  }
  return out;
}

export interface BuildReportOptions {
  readonly semantics?: 'independent' | 'delta';
  /** How many global words the client claims to know (default 222). */
  readonly globalWordCount?: number;
}

/**
 * Builds a ReportRequest as an Envoy 1.x sidecar does for INDEPENDENT batches (every non-global
 * word in `default_words`), or as Mixer's Go client does for DELTA (each later set carries only
 * what changed; here the caller passes exactly those deltas).
 */
export function buildReport(sets: readonly AttributeSet[], opts: BuildReportOptions = {}): ReportRequest {
  const gwc = opts.globalWordCount ?? GLOBAL_DICTIONARY.length;
  const dict = new MessageDictionary(gwc === GLOBAL_DICTIONARY.length ? FULL_GLOBAL : globalIndex(gwc));
  const attributes = sets.map((s) => compressInto(s, dict));
  return {
    attributes,
    defaultWords: dict.words,
    globalWordCount: gwc,
    repeatedAttributesSemantics:
      opts.semantics === 'delta'
        ? ReportRequest_RepeatedAttributesSemantics.DELTA_ENCODING
        : ReportRequest_RepeatedAttributesSemantics.INDEPENDENT_ENCODING,
  };
}

export function encodeReport(req: ReportRequest): Uint8Array {
  return ReportRequest.encode(req).finish();
}
