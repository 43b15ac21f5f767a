/**
 * The HTTPTrap body of a flush, encoded in time slices: the same bytes as `encodePayload`
 * (payload.ts), as pieces of about 256 KB instead of one string (a 40,000-stream payload is
 * ~50 MB of JSON, and joining and transcoding it took ~100 ms in one block).
 */
import { Circllhist } from '../../core/circllhist/index.js';
import { compareGoStrings } from '../../core/format/index.js';
import { encodeValue, goJsonString } from './payload.js';
import { sortInSlices, type TimeSlicer } from '../../core/adapter.js';
import type { Series } from './store.js';

/**
 * A payload as consecutive pieces of JSON text, each about 256 KB, sent as UTF-8. Strings
 * rather than Buffers on purpose: tens of MB of fresh Buffers count as external memory, and V8
 * answers that with a full, non-incremental mark-compact (18–25 ms measured) in the middle of
 * the flush; heap strings are collected incrementally, and the socket only ever holds the
 * piece being written.
 */
export interface PayloadBody {
  readonly chunks: readonly string[];
  /** UTF-8 bytes of all chunks. */
  readonly bytes: number;
}

/** About this many bytes per chunk: a socket write converts one chunk to bytes, a fraction of a millisecond. */
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
  private readonly chunks: string[] = [];
  private bytes = 2;
  private parts: string[] = ['{'];
  private bytesInChunk = 1;
  private members = 0;

  /**
   * Appends `key:{"_value":value,"_type":"type"}` (after a comma unless it is the first member),
   * `bytes` UTF-8 bytes long. Pieces go to the chunk's join as they are, so a member is copied
   * once, not first into a string of its own.
   */
  member(key: string, value: string, type: string, bytes: number): void {
    const parts = this.parts;
    if (this.members++ > 0) {
      parts.push(',');
      this.bytes++;
      this.bytesInChunk++;
    }
    parts.push(key, ':{"_value":', value, TYPE_SUFFIX[type] ?? `,"_type":"${type}"}`);
    this.bytes += bytes;
    this.bytesInChunk += bytes;
    if (this.bytesInChunk >= CHUNK_BYTES) this.seal();
  }

  end(): PayloadBody {
    this.parts.push('}');
    this.seal();
    return { chunks: this.chunks, bytes: this.bytes };
  }

  private seal(): void {
    this.chunks.push(this.parts.join(''));
    this.parts = [];
    this.bytesInChunk = 0;
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

/**
 * Writes members from `from` until the slice is used up; returns where it stopped. Synchronous
 * on purpose: the hot loop must not live in an async function (see slices.ts).
 */
function encodeSome(sorted: readonly Series[], from: number, out: ChunkWriter, slicer: TimeSlicer): number {
  for (let i = from; i < sorted.length; ) {
    const s = sorted[i] as Series;
    const v = s.value;
    // encodeValue also rejects what a type cannot carry.
    const value = s.type === 'h' && v instanceof Circllhist ? histogramText(v) : encodeValue(s);
    // Native JSON escaping beats any loop over the ~1 KB of a tagged name.
    const key = goJsonString(s.name);
    // Everything but the name is ASCII: `:{"_value":` is 11 bytes and `,"_type":"x"}` 13.
    const bytes = Buffer.byteLength(key, 'utf8') + 11 + value.length + 12 + s.type.length;
    s.encodedBytes = bytes;
    out.member(key, value, s.type, bytes);
    i++;
    if ((i & 7) === 0 && slicer.due()) return i;
  }
  return sorted.length;
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
 * is reused. The series must not change until the promise settles. Rejects with
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
  const out = new ChunkWriter();
  for (let i = 0; i < sorted.length; ) {
    i = encodeSome(sorted, i, out, slicer);
    await slicer.yieldIfDue(signal);
  }
  return out.end();
}
