/**
 * How many attribute sets a ReportRequest carries (its repeated field 1), read from the top-level
 * fields only: the sets themselves are skipped by their length. It lets the rate limit be applied
 * before a Report is decoded, so a refused Report costs next to nothing.
 *
 * Malformed bytes end the count early; the decoder rejects them afterwards with the real reason.
 */
export function countReportSets(buf: Uint8Array): number {
  let pos = 0;
  let sets = 0;
  const end = buf.length;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (pos >= end || shift > 63) return -1;
      const b = buf[pos++]!;
      // Only lengths and tags use the value; anything past 2^53 is malformed for them anyway.
      if (shift < 53) value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
      shift += 7;
    }
  };
  while (pos < end) {
    const tag = varint();
    if (tag < 0) break;
    const wireType = tag % 8;
    if (wireType === 0) {
      if (varint() < 0) break;
    } else if (wireType === 1) {
      pos += 8;
    } else if (wireType === 2) {
      const len = varint();
      if (len < 0 || len > end - pos) break;
      pos += len;
      if (Math.floor(tag / 8) === 1) sets++;
    } else if (wireType === 5) {
      pos += 4;
    } else {
      break;
    }
  }
  return sets;
}
