import { describe, expect, it } from 'vitest';
import { Timestamp } from '../../../src/core/attributes/value.js';
import { formatGoTime, formatTimestampLabel } from '../../../src/core/format/index.js';

describe('formatTimestampLabel (Mixer serializeTime)', () => {
  it.each<[number, number, string]>([
    [0, 0, '1970-01-01T00:00:00.000000Z'],
    [1_700_000_000, 123_456_789, '2023-11-14T22:13:20.123456Z'],
    [951_782_400, 0, '2000-02-29T00:00:00.000000Z'],
    [-1, 0, '1969-12-31T23:59:59.000000Z'],
    [-62_135_596_800, 0, '0001-01-01T00:00:00.000000Z'],
    [253_402_300_799, 999_999_999, '9999-12-31T23:59:59.999999Z'],
    [1_700_000_000, 1_500_000_000, '2023-11-14T22:13:21.500000Z'],
  ])('prints %s s + %s ns as %s', (s, ns, want) => {
    expect(formatTimestampLabel(new Timestamp(s, ns))).toBe(want);
  });

  it('agrees with Date.toISOString to the millisecond', () => {
    for (const ms of [0, 1, 86_399_999, 1_234_567_890_123, -1_234_567_890_123, 4_102_444_800_000]) {
      const iso = new Date(ms).toISOString();
      expect(formatTimestampLabel(Timestamp.fromMillis(ms))).toBe(`${iso.slice(0, 23)}000Z`);
    }
  });
});

describe('formatGoTime (time.Time.String in UTC)', () => {
  it.each<[number, number, string]>([
    [1_700_000_000, 123_456_789, '2023-11-14 22:13:20.123456789 +0000 UTC'],
    [1_700_000_000, 500_000_000, '2023-11-14 22:13:20.5 +0000 UTC'],
    [0, 0, '1970-01-01 00:00:00 +0000 UTC'],
  ])('prints %s s + %s ns as %s', (s, ns, want) => {
    expect(formatGoTime(new Timestamp(s, ns))).toBe(want);
  });
});
