/**
 * The HTTPTrap body of a flush: the same bytes as `encodePayload` (payload.ts), sized up front in
 * time slices and then written out as pieces of about 256 KB, each encoded only when the socket
 * wants it. A 40,000-stream payload is ~50 MB of JSON; held whole until its PUT was written, it
 * outlived two scavenges and was copied into the old generation at every flush (52–57 MB
 * promoted per flush, BENCHMARKS.md round 11), bringing on full collections.
 */
import { Circllhist } from '../../core/circllhist/index.js';
import { compareGoStrings } from '../../core/format/index.js';
import { encodeValue, goJsonString } from './payload.js';
import { sortInSlices, type TimeSlicer } from '../../core/adapter.js';
import type { Series } from './store.js';

/**
 * A payload: its size in UTF-8 bytes, and its JSON text as consecutive pieces of about 256 KB.
 * Every call of `chunks` encodes the pieces again, one at a time as they are read (a retried
 * PUT reads them again), so at most one exists at a time. Strings rather than Buffers on purpose:
 * Buffers count as external memory, which V8 answers with a full, non-incremental mark-compact;
 * the socket converts one piece at a time. The series must not change while it is in use.
 */
export interface PayloadBody {
  readonly bytes: number;
  chunks(): Iterable<string>;
}

/**
 * About this many bytes per chunk. One chunk is made per turn of the event loop: about 2 ms of
 * encoding for histogram streams, and a fraction of a millisecond to convert it to bytes.
 */
const CHUNK_BYTES = 1 << 18;
// UTF-16 order equals UTF-8 byte order unless a name holds a surrogate (U+10000 and up).
const SURROGATE = /[\ud800-\udfff]/;

const byCodeUnits = (a: Series, b: Series): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const byGoBytes = (a: Series, b: Series): number => compareGoStrings(a.name, b.name);

const TYPE_SUFFIX: Readonly<Record<string, string>> = {
  L: ',"_type":"L"}',
  l: ',"_type":"l"}',
  n: ',"_type":"n"}',
  h: ',"_type":"h"}',
};

/** Collects members and joins them into chunks of about CHUNK_BYTES. */
class ChunkWriter {
  private parts: string[] = ['{'];
  private bytesInChunk = 1;
  private members = 0;

  /**
   * Appends `key:{"_value":value,"_type":"type"}` (after a comma unless it is the first member),
   * `bytes` UTF-8 bytes long; returns a chunk once one is full. Pieces go to the chunk's join as
   * they are, so a member is copied once, not first into a string of its own.
   */
  member(key: string, value: string, type: string, bytes: number): string | undefined {
    const parts = this.parts;
    if (this.members++ > 0) {
      parts.push(',');
      this.bytesInChunk++;
    }
    parts.push(key, ':{"_value":', value, TYPE_SUFFIX[type] ?? `,"_type":"${type}"}`);
    this.bytesInChunk += bytes;
    return this.bytesInChunk >= CHUNK_BYTES ? this.seal() : undefined;
  }

  end(): string {
    this.parts.push('}');
    return this.seal();
  }

  private seal(): string {
    const chunk = this.parts.join('');
    this.parts = [];
    this.bytesInChunk = 0;
    return chunk;
  }
}

/** `"<base64>"` of a histogram; Buffer's base64 is native and identical to circllhist's own. */
function histogramText(h: Circllhist): string {
  const raw = h.serialize();
  return `"${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')}"`;
}

/** Tests the names from `from` for surrogates until the slice is used up; returns where it stopped. */
function scanSome(items: readonly Series[], from: number, slicer: TimeSlicer, found: { goOrder: boolean }): number {
  let i = from;
  while (i < items.length && !found.goOrder) {
    if (SURROGATE.test((items[i] as Series).name)) found.goOrder = true;
    i++;
    if ((i & 63) === 0 && slicer.due()) return i;
  }
  return items.length;
}

/** The `_value` JSON of a series; throws RangeError for a value its type cannot carry. */
function valueText(s: Series): string {
  const v = s.value;
  return s.type === 'h' && v instanceof Circllhist ? histogramText(v) : encodeValue(s);
}

/** UTF-8 bytes of {@link valueText}, without encoding a histogram (its base64 is ASCII, in quotes). */
function valueBytes(s: Series): number {
  const v = s.value;
  if (s.type === 'h' && v instanceof Circllhist) return 2 + 4 * Math.ceil(v.serializedByteLength / 3);
  return encodeValue(s).length;
}

/** UTF-8 bytes of a member whose key and value take `keyLength` and `valueLength` bytes. */
function memberBytes(s: Series, keyLength: number, valueLength: number): number {
  // Everything but the name is ASCII: `:{"_value":` is 11 bytes and `,"_type":"x"}` 12 + the type.
  return keyLength + 11 + valueLength + 12 + s.type.length;
}

/**
 * Sizes members from `from` until the slice is used up (and checks each value can be encoded);
 * returns where it stopped. Synchronous on purpose: the hot loop must not live in an async
 * function (see slices.ts).
 */
function sizeSome(sorted: readonly Series[], from: number, slicer: TimeSlicer, total: { bytes: number }): number {
  for (let i = from; i < sorted.length; ) {
    const s = sorted[i] as Series;
    const bytes = memberBytes(s, Buffer.byteLength(goJsonString(s.name), 'utf8'), valueBytes(s));
    s.encodedBytes = bytes;
    total.bytes += bytes;
    i++;
    if ((i & 31) === 0 && slicer.due()) return i;
  }
  return sorted.length;
}

/** The chunks of `sorted`, encoded as they are read. */
function* chunksOf(sorted: readonly Series[]): Generator<string, void, void> {
  const out = new ChunkWriter();
  for (let i = 0; i < sorted.length; i++) {
    const s = sorted[i] as Series;
    const chunk = out.member(goJsonString(s.name), valueText(s), s.type, s.encodedBytes);
    if (chunk !== undefined) yield chunk;
  }
  yield out.end();
}

/**
 * The key order of the last payload a handler encoded, so the next one, which mostly has the same
 * names, need not sort them again: comparing 40,000 tagged names of about a kilobyte was 29% of a
 * flush. Names seen last time are placed by their old position; only new ones are sorted, then
 * each is put in by binary search.
 */
export class KeyOrder {
  private position = new Map<string, number>();
  private size = 0;
  private goOrder = false;

  /** `items` sorted by `compare` (the one for `goOrder`), reusing the last order where it holds. */
  async sort(items: Series[], goOrder: boolean, slicer: TimeSlicer, signal?: AbortSignal): Promise<Series[]> {
    const compare = goOrder ? byGoBytes : byCodeUnits;
    // A different comparison makes the old positions meaningless.
    const known = goOrder === this.goOrder ? this.position : new Map<string, number>();
    const placed: (Series | undefined)[] = new Array<Series | undefined>(known.size > 0 ? this.size : 0);
    const fresh: Series[] = [];
    for (let i = 0; i < items.length; i++) {
      const s = items[i] as Series;
      const at = known.get(s.name);
      if (at === undefined) fresh.push(s);
      else placed[at] = s;
      if ((i & 1023) === 1023) await slicer.yieldIfDue(signal);
    }
    const old: Series[] = [];
    for (const s of placed) if (s !== undefined) old.push(s);
    const added = await sortInSlices(fresh, compare, slicer, signal);
    const sorted = added.length === 0 ? old : mergeInto(old, added, compare);
    await slicer.yieldIfDue(signal);
    // Positions are recorded only once the whole order is known, so an abort leaves the old ones.
    const position = new Map<string, number>();
    for (let i = 0; i < sorted.length; i++) {
      position.set((sorted[i] as Series).name, i);
      if ((i & 1023) === 1023) await slicer.yieldIfDue(signal);
    }
    this.position = position;
    this.size = sorted.length;
    this.goOrder = goOrder;
    return sorted;
  }
}

/** `old` and `added`, both sorted by `compare`, as one sorted array; each added one found by binary search. */
function mergeInto(old: readonly Series[], added: readonly Series[], compare: (a: Series, b: Series) => number): Series[] {
  const out: Series[] = [];
  let from = 0;
  for (const a of added) {
    let lo = from;
    let hi = old.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(old[mid] as Series, a) < 0) lo = mid + 1;
      else hi = mid;
    }
    for (let i = from; i < lo; i++) out.push(old[i] as Series);
    out.push(a);
    from = lo;
  }
  for (let i = from; i < old.length; i++) out.push(old[i] as Series);
  return out;
}

/**
 * The payload of `series` (names distinct), members sorted as Go sorts map keys, each series
 * learning the size of its member (`encodedBytes`). With `order`, the last payload's key order
 * is reused. The series must not change while the body is in use. Rejects with
 * SliceAbortedError when `signal` fires between slices, and with RangeError for a value its type
 * cannot carry.
 */
export async function encodeBodyInSlices(series: Iterable<Series>, slicer: TimeSlicer, signal?: AbortSignal, order?: KeyOrder): Promise<PayloadBody> {
  const items = Array.from(series);
  const found = { goOrder: false };
  for (let i = 0; i < items.length; ) {
    i = scanSome(items, i, slicer, found);
    await slicer.yieldIfDue(signal);
  }
  const sorted = order !== undefined ? await order.sort(items, found.goOrder, slicer, signal) : await sortInSlices(items, found.goOrder ? byGoBytes : byCodeUnits, slicer, signal);
  // The braces, and a comma between members.
  const total = { bytes: 2 + Math.max(0, sorted.length - 1) };
  for (let i = 0; i < sorted.length; ) {
    i = sizeSome(sorted, i, slicer, total);
    await slicer.yieldIfDue(signal);
  }
  return { bytes: total.bytes, chunks: () => chunksOf(sorted) };
}
