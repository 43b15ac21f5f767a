/**
 * Packs lines into datagram payloads of at most `maxBytes` (UTF-8), lines separated by `\n` and no
 * trailing newline, never splitting a line: a server reads each datagram on its own, so half a
 * line would be a bad line in one packet and garbage in the next. A line longer than `maxBytes`
 * goes alone in a datagram of its own, as Mixer's client sent it: the network may fragment that
 * datagram, but dropping the line would lose it for sure. Only a line no datagram can carry is left out.
 */
import type { UnitSink } from './encoder.js';

/** The largest payload a UDP/IPv4 datagram can carry (65535 − 8 UDP − 20 IP). */
export const MAX_UDP_PAYLOAD = 65_507;

/** Bytes an arena starts with; it doubles as a flush needs. */
const INITIAL_ARENA_BYTES = 64 * 1024;

/** Up to this many characters, copying in a loop is cheaper than Buffer#write (measured: names of ~50 characters take 56 ns with it, 82 ns in a loop). */
const SHORT_STRING = 16;

const NEWLINE = 0x0a;
const COLON = 0x3a;

export interface PackedDatagrams {
  /** Datagrams packed. */
  readonly count: number;
  /**
   * Datagram `i`'s payload: a view of the packer's arena (see {@link DatagramPacker}), valid until
   * the arena is handed to another packer.
   */
  payload(i: number): Uint8Array;
  /** Lines in each datagram, so a lost datagram can be counted in lines. */
  readonly lineCounts: readonly number[];
  /** Lines packed in total. */
  readonly lines: number;
  /** Units longer than the largest UDP payload: no datagram can carry them, so they are left out. */
  readonly oversized: number;
  /** Lines in those units. */
  readonly oversizedLines: number;
  /** Lines of units longer than `maxBytes` (but not `oversized`), each sent in a datagram of its own. */
  readonly linesAlone: number;
  /**
   * For each unit, in the order given, the index of the datagram that carries it (-1 for an
   * oversized unit), so the handler can tell which units a failed datagram held.
   */
  readonly unitDatagram: Int32Array;
  /** The bytes behind every payload, for the next flush to reuse once nothing sends from it. */
  readonly arena: Buffer;
}

/** A payload as the text a server reads from it. */
export function utf8Text(payload: Uint8Array): string {
  return Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8');
}

/** Every datagram of `packed` as text: what a server receives. */
export function datagramTexts(packed: PackedDatagrams): string[] {
  const out: string[] = [];
  for (let i = 0; i < packed.count; i++) out.push(utf8Text(packed.payload(i)));
  return out;
}

function linesIn(unit: string): number {
  let n = 1;
  for (let i = unit.indexOf('\n'); i >= 0; i = unit.indexOf('\n', i + 1)) n++;
  return n;
}

class Packed implements PackedDatagrams {
  constructor(
    readonly arena: Buffer,
    /** Where each datagram starts in the arena; one more entry, the end of the last. */
    private readonly bounds: readonly number[],
    readonly lineCounts: readonly number[],
    readonly lines: number,
    readonly oversized: number,
    readonly oversizedLines: number,
    readonly linesAlone: number,
    readonly unitDatagram: Int32Array,
  ) {}

  get count(): number {
    return this.lineCounts.length;
  }

  payload(i: number): Uint8Array {
    return this.arena.subarray(this.bounds[i], this.bounds[i + 1]);
  }
}

/**
 * Packs units one at a time, so a flush can encode and pack in slices. Units are packed greedily
 * in the order added, written as UTF-8 straight into one arena of bytes that a handler reuses
 * from flush to flush. Lines held as strings until their datagram was sent outlived two scavenges
 * on a busy server and were promoted, a few MB every flush (BENCHMARKS.md, round 12); the arena
 * makes no garbage at all once it has grown to a flush's size.
 */
export class DatagramPacker implements UnitSink {
  private arena: Buffer;
  private pos = 0;
  /** Start of each datagram in the arena. */
  private readonly bounds: number[] = [];
  private readonly lineCounts: number[] = [];
  /** Lines in the datagram being filled, which starts at the last of `bounds`. */
  private currentLines = 0;
  private lines = 0;
  private oversized = 0;
  private oversizedLines = 0;
  private linesAlone = 0;
  private unitDatagram: Int32Array;
  private units = 0;

  /** `arena`: the bytes of an earlier flush whose sends have all completed, to write over. */
  constructor(
    private readonly maxBytes: number,
    expectedUnits = 64,
    arena?: Buffer,
  ) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
    this.unitDatagram = new Int32Array(Math.max(16, expectedUnits));
    this.arena = arena ?? Buffer.allocUnsafeSlow(INITIAL_ARENA_BYTES);
  }

  /**
   * `unit` is a line, or lines joined by `\n` that must stay together and in order (see
   * encodeGaugeLine); `bytes` is its length in UTF-8 and `lines` its line count.
   */
  add(unit: string, bytes: number, lines: number): void {
    if (!this.admit(bytes, lines)) return;
    this.write(unit, bytes);
  }

  unit(text: string, bytes: number, lines: number): void {
    this.add(text, bytes, lines);
  }

  /** The line `<name>:<value><rest>`; `value` and `rest` are ASCII. */
  line(name: string, value: string, rest: string, bytes: number): void {
    if (!this.admit(bytes, 1)) return;
    const nameBytes = bytes - 1 - value.length - rest.length;
    this.write(name, nameBytes);
    this.arena[this.pos++] = COLON;
    this.writeAscii(value);
    this.writeAscii(rest);
  }

  /** Accounts for a unit, opens a datagram if needed and makes room; false for a unit no datagram can carry. */
  private admit(bytes: number, lines: number): boolean {
    const u = this.units++;
    if (u === this.unitDatagram.length) {
      const grown = new Int32Array(u * 2);
      grown.set(this.unitDatagram);
      this.unitDatagram = grown;
    }
    if (bytes > MAX_UDP_PAYLOAD) {
      this.oversized++;
      this.oversizedLines += lines;
      this.unitDatagram[u] = -1;
      return false;
    }
    this.reserve(bytes + 1);
    if (bytes > this.maxBytes) {
      // Alone: the datagram now holding it is over the limit, so the next unit opens another.
      this.linesAlone += lines;
      this.open();
    } else if (this.currentLines > 0 && this.pos - this.bounds[this.bounds.length - 1]! + 1 + bytes <= this.maxBytes) {
      this.arena[this.pos++] = NEWLINE;
    } else {
      this.open();
    }
    this.currentLines += lines;
    this.lines += lines;
    this.unitDatagram[u] = this.bounds.length - 1;
    return true;
  }

  /** Closes the datagram being filled, if any, and starts the next at the write position. */
  private open(): void {
    if (this.currentLines > 0) this.lineCounts.push(this.currentLines);
    this.currentLines = 0;
    this.bounds.push(this.pos);
  }

  private reserve(bytes: number): void {
    const need = this.pos + bytes;
    if (need <= this.arena.length) return;
    let size = this.arena.length * 2;
    while (size < need) size *= 2;
    const grown = Buffer.allocUnsafeSlow(size);
    this.arena.copy(grown, 0, 0, this.pos);
    this.arena = grown;
  }

  /** `s`, `bytes` long in UTF-8. */
  private write(s: string, bytes: number): void {
    if (bytes !== s.length) this.pos += this.arena.write(s, this.pos, bytes, 'utf8');
    // ASCII: a byte per character, which latin1 copies without encoding.
    else if (s.length > SHORT_STRING) this.pos += this.arena.write(s, this.pos, bytes, 'latin1');
    else this.writeAscii(s);
  }

  /** A string of ASCII characters, a byte each: for the short strings (values, suffixes) a loop beats a call into C++. */
  private writeAscii(s: string): void {
    const a = this.arena;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) a[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Closes the last datagram. Call once, after the last unit. */
  finish(): PackedDatagrams {
    if (this.currentLines > 0) this.lineCounts.push(this.currentLines);
    this.currentLines = 0;
    // Every datagram opened holds a line, so the starts and line counts pair up; one more entry
    // ends the last.
    const bounds = this.bounds;
    bounds.push(this.pos);
    return new Packed(this.arena, bounds, this.lineCounts, this.lines, this.oversized, this.oversizedLines, this.linesAlone, this.unitDatagram.subarray(0, this.units));
  }
}

/**
 * `units` are lines, or groups of lines joined by `\n` that must stay together and in order
 * (see encodeGaugeLine). Units are packed greedily in the order given.
 */
export function packLines(units: readonly string[], maxBytes: number): PackedDatagrams {
  const packer = new DatagramPacker(maxBytes, units.length);
  for (const unit of units) packer.add(unit, Buffer.byteLength(unit), linesIn(unit));
  return packer.finish();
}
