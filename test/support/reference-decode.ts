import { GLOBAL_DICTIONARY } from '../../src/core/attributes/global-dictionary.js';
import { int64FromBigInt } from '../../src/core/attributes/int64.js';
import type { AttributeManifest } from '../../src/core/attributes/manifest.js';
import { Timestamp, type AttributeValue } from '../../src/core/attributes/value.js';
import type { CompressedAttributes } from '../../src/gen/istio/mixer/v1/attributes.js';
import { ReportRequest, ReportRequest_RepeatedAttributesSemantics } from '../../src/gen/istio/mixer/v1/mixer.js';

/**
 * The slow, obviously-correct path: decode with the generated ts-proto decoder into objects, then
 * resolve words as spec §1.3–1.4 says. The hand-written decoder must agree with it.
 */
export function referenceDecode(buf: Uint8Array, manifest: AttributeManifest): Map<string, AttributeValue>[] {
  const req = ReportRequest.decode(buf);
  const delta = req.repeatedAttributesSemantics !== ReportRequest_RepeatedAttributesSemantics.INDEPENDENT_ENCODING;
  const out: Map<string, AttributeValue>[] = [];
  let prev = new Map<string, AttributeValue>();
  for (const el of req.attributes) {
    const words = el.words.length > 0 ? el.words : req.defaultWords;
    const bag = delta ? new Map(prev) : new Map<string, AttributeValue>();
    decodeElement(el, words, manifest, bag);
    out.push(bag);
    prev = bag;
  }
  return out;
}

function word(i: number, words: readonly string[]): string {
  const w = i >= 0 ? GLOBAL_DICTIONARY[i] : words[-i - 1];
  if (w === undefined) throw new Error(`bad index ${i}`);
  return w;
}

function decodeElement(el: CompressedAttributes, words: readonly string[], manifest: AttributeManifest, bag: Map<string, AttributeValue>): void {
  const put = (k: string, v: AttributeValue): void => {
    const name = word(Number(k), words);
    if (manifest.slotOf(name) >= 0) bag.set(name, v);
  };
  for (const [k, v] of Object.entries(el.strings)) put(k, word(v, words));
  // ts-proto runs with forceLong=bigint: int64s arrive exact, and take the canonical INT64 form.
  for (const [k, v] of Object.entries(el.int64s)) put(k, int64FromBigInt(v));
  for (const [k, v] of Object.entries(el.doubles)) put(k, v);
  for (const [k, v] of Object.entries(el.bools)) put(k, v);
  for (const [k, v] of Object.entries(el.timestamps)) put(k, new Timestamp(Number(v.seconds), v.nanos));
  for (const [k, v] of Object.entries(el.durations)) put(k, Number(v.seconds) * 1e9 + v.nanos);
  for (const [k, v] of Object.entries(el.bytes)) put(k, new Uint8Array(v));
  for (const [k, v] of Object.entries(el.stringMaps)) {
    const m = new Map<string, string>();
    for (const [mk, mv] of Object.entries(v.entries)) m.set(word(Number(mk), words), word(mv, words));
    put(k, m);
  }
}
