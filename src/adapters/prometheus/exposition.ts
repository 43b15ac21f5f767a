import type { ExpositionFormat } from '../../core/adapter.js';
import { formatOpenMetricsFloat, formatPromFloat } from '../../core/format/index.js';
import type { FamilyView } from './series-store.js';

/**
 * Prometheus text 0.0.4 and OpenMetrics 1.0 rendering, byte for byte as client_golang's expfmt
 * writes a gathered family (`MetricFamilyToText` / `MetricFamilyToOpenMetrics`). The caller
 * (the core's endpoint) writes the final `# EOF` for OpenMetrics.
 *
 * Rendering writes UTF-8 straight into Buffers: an Istio series is ~700 bytes of labels repeated
 * on up to 14 lines, and building that as JS strings costs more in concatenation, flattening and
 * encoding than writing the bytes does. Each series' label block is written once and copied for
 * its other lines.
 */

/** Series per chunk: small enough for the server to yield often, big enough to amortise. */
export const SERIES_PER_CHUNK = 256;
/** Series rendered between two pauses (empty chunks) of a chunk: about 200 lines of an Istio histogram. */
const PAUSE_EVERY_HISTOGRAMS = 16;
const PAUSE_EVERY_SCALARS = 128;

/** HELP text: text 0.0.4 escapes `\` and newline only; OpenMetrics escapes `"` as well. */
export function escapeHelp(help: string, format: ExpositionFormat): string {
  const re = format === 'openmetrics-1.0.0' ? /[\\\n"]/g : /[\\\n]/g;
  return help.replace(re, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** The family header: `# HELP` and `# TYPE`, with OpenMetrics' counter naming rule. */
export function renderHeader(family: Pick<FamilyView, 'name' | 'help' | 'kind'>, format: ExpositionFormat): string {
  const om = format === 'openmetrics-1.0.0';
  let name = family.name;
  let type: string;
  switch (family.kind) {
    case 'GAUGE':
      type = 'gauge';
      break;
    case 'DISTRIBUTION':
      type = 'histogram';
      break;
    case 'COUNTER':
      type = 'counter';
      if (om) {
        // OpenMetrics names the counter family without `_total`; client_golang marks a counter
        // that lacks the suffix `unknown` rather than emit invalid output.
        if (name.endsWith('_total')) name = name.slice(0, -6);
        else type = 'unknown';
      }
      break;
  }
  return `# HELP ${name} ${escapeHelp(family.help, format)}\n# TYPE ${name} ${type}\n`;
}

/** Text 0.0.4 sample values: client_golang's writeFloat, with small integers short-cut. */
function promFloat(v: number): string {
  // Below 1e6 Go's shortest %g of an integer is its decimal digits (-0 prints as 0 either way).
  return Number.isInteger(v) && v > -1e6 && v < 1e6 ? String(v) : formatPromFloat(v);
}

function openMetricsFloat(v: number): string {
  return Number.isInteger(v) && v > -1e6 && v < 1e6 ? `${String(v)}.0` : formatOpenMetricsFloat(v);
}

function openMetricsCount(v: number): string {
  return Number.isSafeInteger(v) ? String(v) : BigInt(Math.trunc(v)).toString();
}

/**
 * Writes a sample value: small non-negative integers (almost every count) as digits straight
 * into the buffer, anything else through its formatter. `limit` is where the format stops
 * printing plain digits (text 0.0.4 switches to exponent form at 1e6).
 */
function writeNumber(sink: ByteSink, v: number, format: (v: number) => string, limit: number, suffix: string): void {
  if (v >= 0 && v < limit && Number.isInteger(v) && !Object.is(v, -0)) {
    sink.digits(v);
    if (suffix !== '') sink.ascii(suffix);
    return;
  }
  sink.ascii(format(v));
}

const NO_BYTES = Buffer.alloc(0);
const NEWLINE = 0x0a;
const CLOSE_BRACE = 0x7d;
const SPACE = 0x20;

/**
 * Chunk buffers the endpoint has finished writing, kept for the next chunks of a scrape. A chunk
 * of 256 Istio histograms is a few megabytes; a scrape of 40,000 series, allocated afresh chunk by
 * chunk, is over 250 MiB of external memory, which drives V8 into a mark-compact every few dozen
 * megabytes. With the chunks recycled, a scrape runs in a handful of buffers.
 */
export class ChunkBuffers {
  private readonly free: Buffer[] = [];

  constructor(private readonly keep = 2) {}

  /**
   * A buffer of at least `bytes`, reused when one is free. Never a slice of Node's shared pool
   * (`allocUnsafeSlow`): `give` takes back the whole memory behind a chunk, which for a pooled
   * slice would hand out bytes other Buffers still use.
   */
  take(bytes: number): Buffer {
    for (let i = this.free.length - 1; i >= 0; i--) {
      const b = this.free[i]!;
      if (b.length >= bytes) {
        this.free.splice(i, 1);
        return b;
      }
    }
    return Buffer.allocUnsafeSlow(bytes);
  }

  /** Takes back the whole buffer behind `chunk`, a view from its start of a buffer from `take`; the largest `keep` are kept. */
  give(chunk: Uint8Array): void {
    if (chunk.byteOffset !== 0) return;
    const whole = Buffer.from(chunk.buffer, 0, chunk.buffer.byteLength);
    this.free.push(whole);
    if (this.free.length > this.keep) {
      this.free.sort((a, b) => b.length - a.length);
      this.free.length = this.keep;
    }
  }

  /** Buffers held for reuse. */
  get held(): number {
    return this.free.length;
  }
}

/** A growable byte buffer; `take` hands the bytes over and starts a fresh one. */
class ByteSink {
  buf: Buffer;
  pos = 0;

  /** Nothing is allocated until the first byte is written; then at least `capacity`. */
  constructor(
    private capacity: number,
    private readonly buffers?: ChunkBuffers,
  ) {
    this.buf = NO_BYTES;
  }

  private allocate(bytes: number): Buffer {
    return this.buffers?.take(bytes) ?? Buffer.allocUnsafe(bytes);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = Math.max(this.capacity, this.buf.length * 2);
    while (cap < this.pos + n) cap *= 2;
    const next = this.allocate(cap);
    this.buf.copy(next, 0, 0, this.pos);
    // Never handed out: free for reuse at once.
    if (this.buf.length > 0) this.buffers?.give(this.buf);
    this.buf = next;
  }

  bytes(b: Uint8Array): void {
    const n = b.length;
    this.ensure(n);
    if (n <= 16) {
      // Names, separators and most label values: a loop beats the native copy's call cost.
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) buf[p++] = b[i]!;
      this.pos = p;
      return;
    }
    this.buf.set(b, this.pos);
    this.pos += n;
  }

  /**
   * A non-negative integer below 1e15 as decimal digits, written directly: most sample values
   * (counts) are, and a string per line would cost more than the digits.
   */
  digits(v: number): void {
    this.ensure(16);
    const buf = this.buf;
    if (v < 10) {
      buf[this.pos++] = 0x30 + v;
      return;
    }
    let n = 0;
    for (let x = v; x >= 1; x = Math.floor(x / 10)) n++;
    let at = this.pos + n;
    this.pos = at;
    let x = v;
    while (x >= 1) {
      const q = Math.floor(x / 10);
      buf[--at] = 0x30 + (x - q * 10);
      x = q;
    }
  }

  /** For text known to be ASCII (numbers, names): one byte per character. */
  ascii(s: string): void {
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Appends a copy of bytes already written at [start, end). */
  repeat(start: number, end: number): void {
    this.ensure(end - start);
    this.buf.copyWithin(this.pos, start, end);
    this.pos += end - start;
  }

  /** The bytes written so far; the next chunk starts in a new buffer of about the same size. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.capacity = Math.max(this.capacity, this.pos + (this.pos >>> 3));
    // The next buffer is taken when the next chunk writes its first byte: none for the last.
    this.buf = NO_BYTES;
    this.pos = 0;
    return out;
  }

  /** Gives back the buffer in use, which was never handed out; the sink is done. */
  release(): void {
    if (this.buf.length > 0) this.buffers?.give(this.buf);
    this.buf = NO_BYTES;
    this.pos = 0;
  }
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/**
 * The family in chunks of `seriesPerChunk` series, as UTF-8 bytes, the header in the first.
 * Nothing at all for a family without series (client_golang's registry drops empty families).
 * The series list is taken once, when iteration starts, and the slots and label values it names
 * stay valid until iteration ends, so a concurrent insert or eviction cannot tear a scrape.
 */

export function* renderFamilyBytes(
  family: FamilyView,
  format: ExpositionFormat,
  seriesPerChunk: number = SERIES_PER_CHUNK,
  buffers?: ChunkBuffers,
): Generator<Buffer, void, undefined> {
  family.beginRead();
  try {
    // An empty chunk between sort steps lets the endpoint give the event loop back.
    const sorting = family.sortedSlotsInSteps();
    let sorted = sorting.next();
    while (sorted.done !== true) {
      yield NO_BYTES;
      sorted = sorting.next();
    }
    const slots = sorted.value;
    if (slots.length === 0) return;
    const om = format === 'openmetrics-1.0.0';
    const float = om ? openMetricsFloat : promFloat;
    // Text 0.0.4 writes counts as floats (1e+06); OpenMetrics as integers.
    const count = om ? openMetricsCount : promFloat;
    // Below these, a non-negative integer prints as its plain digits (OpenMetrics floats add `.0`).
    const floatLimit = 1e6;
    const floatSuffix = om ? '.0' : '';
    // OpenMetrics counts are plain integers at any size; digits() stays exact well below 2^53.
    const countLimit = om ? 1e15 : 1e6;
    const names = family.labelNames;
    const nLabels = names.length;
    // `name0="`, then after each value `",nameN="`, and `"` after the last: 2n+1 pieces per set.
    const labelOpen = names.map((n, i) => utf8(`${i > 0 ? '",' : ''}${n}="`));
    const labelClose = utf8('"');
    const histogram = family.kind === 'DISTRIBUTION';
    const bounds = family.upperBounds;
    const nb = bounds.length;
    // After the label block: `,le="0.005"} ` (or `le=…` without labels), then `le="+Inf"`.
    const le = (withLabels: boolean): Buffer[] =>
      [...bounds.map((b) => float(b)), '+Inf'].map((b) => utf8(`${withLabels ? ',' : ''}le="${b}"} `));
    const leWith = histogram ? le(true) : [];
    const leWithout = histogram ? le(false) : [];
    const bucketOpen = utf8(`${family.name}_bucket{`);
    const sumOpen = utf8(`${family.name}_sum`);
    const countOpen = utf8(`${family.name}_count`);
    const scalarOpen = utf8(family.name);
    const step = Math.max(1, Math.floor(seriesPerChunk));
    const sink = new ByteSink(Math.min(1 << 20, step * (histogram ? (nb + 3) * 64 : 64) + 1024), buffers);
    // Within a chunk, a pause every few hundred lines: a chunk of histograms is megabytes and
    // takes milliseconds to render, longer than a slice, while fewer, larger writes cost the socket less.
    const pauseEvery = Math.max(1, Math.min(step, histogram ? PAUSE_EVERY_HISTOGRAMS : PAUSE_EVERY_SCALARS));
    let inChunk = 0;
    for (let start = 0; start < slots.length; start += pauseEvery) {
      if (start === 0) sink.ascii(renderHeaderAscii(family, format));
      const end = Math.min(slots.length, start + pauseEvery);
      // Read after every pause: storage may have grown (and moved) since.
      const data = family.data;
      const ids = family.labelIds;
      const stride = family.stride;
      for (let i = start; i < end; i++) {
        const slot = slots[i]!;
        const base = slot * stride;
        if (!histogram) {
          sink.bytes(scalarOpen);
          if (nLabels > 0) {
            sink.byte(0x7b /* { */);
            writeLabels(sink, family, ids, slot, nLabels, labelOpen, labelClose);
            sink.byte(CLOSE_BRACE);
          }
          sink.byte(SPACE);
          writeNumber(sink, data[base]!, float, floatLimit, floatSuffix);
          sink.byte(NEWLINE);
          continue;
        }
        // The first bucket line: `name_bucket{labels,le="…"} n`, remembering where the labels are.
        sink.bytes(bucketOpen);
        const labelsStart = sink.pos;
        if (nLabels > 0) writeLabels(sink, family, ids, slot, nLabels, labelOpen, labelClose);
        const labelsEnd = sink.pos;
        const leFor = nLabels > 0 ? leWith : leWithout;
        let cumulative = 0;
        for (let b = 0; b <= nb; b++) {
          if (b > 0) {
            sink.bytes(bucketOpen);
            sink.repeat(labelsStart, labelsEnd);
          }
          sink.bytes(leFor[b]!);
          cumulative = b < nb ? cumulative + data[base + b]! : data[base + nb + 1]!;
          writeNumber(sink, cumulative, count, countLimit, '');
          sink.byte(NEWLINE);
        }
        sink.bytes(sumOpen);
        if (nLabels > 0) {
          sink.byte(0x7b);
          sink.repeat(labelsStart, labelsEnd);
          sink.byte(CLOSE_BRACE);
        }
        sink.byte(SPACE);
        writeNumber(sink, data[base + nb]!, float, floatLimit, floatSuffix);
        sink.byte(NEWLINE);
        sink.bytes(countOpen);
        if (nLabels > 0) {
          sink.byte(0x7b);
          sink.repeat(labelsStart, labelsEnd);
          sink.byte(CLOSE_BRACE);
        }
        sink.byte(SPACE);
        writeNumber(sink, data[base + nb + 1]!, count, countLimit, '');
        sink.byte(NEWLINE);
      }
      inChunk += end - start;
      if (inChunk >= step || end === slots.length) {
        inChunk = 0;
        yield sink.take();
      } else yield NO_BYTES;
    }
    sink.release();
  } finally {
    family.endRead();
  }
}

function writeLabels(sink: ByteSink, family: FamilyView, ids: Int32Array, slot: number, n: number, labelOpen: readonly Buffer[], labelClose: Buffer): void {
  const labels = family.labels;
  const base = slot * n;
  for (let j = 0; j < n; j++) {
    sink.bytes(labelOpen[j]!);
    sink.bytes(labels.encodedValue(ids[base + j]!));
  }
  sink.bytes(labelClose);
}

/** The header as bytes-compatible text; HELP may hold any UTF-8, so it goes through `utf8`. */
function renderHeaderAscii(family: FamilyView, format: ExpositionFormat): string {
  const h = renderHeader(family, format);
  // Non-ASCII help text cannot take the latin1 path: encode it as UTF-8 first, then as latin1
  // bytes of that encoding, so ByteSink.ascii writes the UTF-8 bytes unchanged.
  return /^[\u0000-\u007f]*$/.test(h) ? h : Buffer.from(h, 'utf8').toString('latin1');
}

/** `renderFamilyBytes` as text, for callers that want strings (and for the string contract). */
export function* renderFamilyChunks(
  family: FamilyView,
  format: ExpositionFormat,
  seriesPerChunk: number = SERIES_PER_CHUNK,
): Generator<string, void, undefined> {
  for (const chunk of renderFamilyBytes(family, format, seriesPerChunk)) yield chunk.toString('utf8');
}
