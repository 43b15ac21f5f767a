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

export interface PackedDatagrams {
  readonly datagrams: readonly string[];
  /** Lines in each datagram, parallel to `datagrams`, so a lost datagram can be counted in lines. */
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
}

function linesIn(unit: string): number {
  let n = 1;
  for (let i = unit.indexOf('\n'); i >= 0; i = unit.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Packs units one at a time, so a flush can encode and pack in slices. Units are packed greedily
 * in the order added.
 */
export class DatagramPacker implements UnitSink {
  private readonly datagrams: string[] = [];
  private readonly lineCounts: number[] = [];
  /** The pieces of the datagram being filled, separators included. */
  private readonly current: string[] = [];
  private currentBytes = 0;
  private currentLines = 0;
  private lines = 0;
  private oversized = 0;
  private oversizedLines = 0;
  private linesAlone = 0;
  private unitDatagram: Int32Array;
  private units = 0;

  constructor(
    private readonly maxBytes: number,
    expectedUnits = 64,
  ) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
    this.unitDatagram = new Int32Array(Math.max(16, expectedUnits));
  }

  /**
   * `unit` is a line, or lines joined by `\n` that must stay together and in order (see
   * encodeGaugeLine); `bytes` is its length in UTF-8 and `lines` its line count.
   */
  add(unit: string, bytes: number, lines: number): void {
    if (this.admit(bytes, lines)) this.current.push(unit);
  }

  unit(text: string, bytes: number, lines: number): void {
    this.add(text, bytes, lines);
  }

  /** The line `<name>:<value><rest>`, without making a string of it. */
  line(name: string, value: string, rest: string, bytes: number): void {
    if (this.admit(bytes, 1)) this.current.push(name, ':', value, rest);
  }

  /** Accounts for a unit and opens a datagram if needed; false for a unit no datagram can carry. */
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
    if (bytes > this.maxBytes) {
      // Alone: the datagram now holding it is over the limit, so the next unit opens another.
      this.linesAlone += lines;
      if (this.currentLines > 0) this.close();
      this.currentBytes = bytes;
    } else if (this.currentLines === 0) {
      this.currentBytes = bytes;
    } else if (this.currentBytes + 1 + bytes <= this.maxBytes) {
      this.currentBytes += 1 + bytes;
      this.current.push('\n');
    } else {
      this.close();
      this.currentBytes = bytes;
    }
    this.currentLines += lines;
    this.lines += lines;
    this.unitDatagram[u] = this.datagrams.length;
    return true;
  }

  /**
   * Joined once rather than concatenated line by line: a join makes one flat string, where `+=`
   * would make a string per line and keep a tree of them alive until the send, garbage that
   * makes the collections during a flush slow.
   */
  private close(): void {
    this.datagrams.push(this.current.join(''));
    this.lineCounts.push(this.currentLines);
    this.current.length = 0;
    this.currentLines = 0;
  }

  /** Closes the last datagram. Call once, after the last unit. */
  finish(): PackedDatagrams {
    if (this.currentLines > 0) this.close();
    return {
      datagrams: this.datagrams,
      lineCounts: this.lineCounts,
      lines: this.lines,
      oversized: this.oversized,
      oversizedLines: this.oversizedLines,
      linesAlone: this.linesAlone,
      unitDatagram: this.unitDatagram.subarray(0, this.units),
    };
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
