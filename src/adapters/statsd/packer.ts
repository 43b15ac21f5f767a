/**
 * Packs lines into datagram payloads of at most `maxBytes` (UTF-8), lines separated by `\n` and no
 * trailing newline, never splitting a line: a server reads each datagram on its own, so half a
 * line would be a bad line in one packet and garbage in the next.
 */

/** The largest payload a UDP/IPv4 datagram can carry (65535 − 8 UDP − 20 IP). */
export const MAX_UDP_PAYLOAD = 65_507;

export interface PackedDatagrams {
  readonly datagrams: readonly string[];
  /** Lines in each datagram, parallel to `datagrams`, so a lost datagram can be counted in lines. */
  readonly lineCounts: readonly number[];
  /** Lines packed in total. */
  readonly lines: number;
  /** Units longer than `maxBytes` on their own; they cannot be sent without breaking the limit. */
  readonly oversized: number;
  /** Lines in those units. */
  readonly oversizedLines: number;
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
 * `units` are lines, or groups of lines joined by `\n` that must stay together and in order
 * (see encodeGaugeLine). Units are packed greedily in the order given.
 */
export function packLines(units: readonly string[], maxBytes: number): PackedDatagrams {
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
  const datagrams: string[] = [];
  const lineCounts: number[] = [];
  let current = '';
  let currentBytes = 0;
  let currentLines = 0;
  let lines = 0;
  let oversized = 0;
  let oversizedLines = 0;
  const unitDatagram = new Int32Array(units.length);
  for (let u = 0; u < units.length; u++) {
    const unit = units[u] as string;
    const bytes = Buffer.byteLength(unit);
    const n = linesIn(unit);
    if (bytes > maxBytes) {
      oversized++;
      oversizedLines += n;
      unitDatagram[u] = -1;
      continue;
    }
    if (currentLines === 0) {
      current = unit;
      currentBytes = bytes;
    } else if (currentBytes + 1 + bytes <= maxBytes) {
      current += `\n${unit}`;
      currentBytes += 1 + bytes;
    } else {
      datagrams.push(current);
      lineCounts.push(currentLines);
      current = unit;
      currentBytes = bytes;
      currentLines = 0;
    }
    currentLines += n;
    lines += n;
    unitDatagram[u] = datagrams.length;
  }
  if (currentLines > 0) {
    datagrams.push(current);
    lineCounts.push(currentLines);
  }
  return { datagrams, lineCounts, lines, oversized, oversizedLines, unitDatagram };
}
