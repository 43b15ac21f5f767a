/** Go's time.ParseDuration test table (src/time/time_test.go), reproduced against parseGoDuration. */
import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../../src/core/expr/index.js';

const ns = 1;
const us = 1_000;
const msec = 1_000_000;
const s = 1_000_000_000;
const m = 60 * s;
const h = 60 * m;

const VALID: readonly (readonly [string, number])[] = [
  ['0', 0],
  ['5s', 5 * s],
  ['30s', 30 * s],
  ['1478s', 1478 * s],
  ['-5s', -5 * s],
  ['+5s', 5 * s],
  ['-0', 0],
  ['+0', 0],
  ['5.0s', 5 * s],
  ['5.6s', 5 * s + 600 * msec],
  ['5.s', 5 * s],
  ['.5s', 500 * msec],
  ['1.0s', s],
  ['1.00s', s],
  ['1.004s', s + 4 * msec],
  ['1.0040s', s + 4 * msec],
  ['100.00100s', 100 * s + msec],
  ['10ns', 10 * ns],
  ['11us', 11 * us],
  ['12µs', 12 * us],
  ['12μs', 12 * us],
  ['13ms', 13 * msec],
  ['14s', 14 * s],
  ['15m', 15 * m],
  ['16h', 16 * h],
  ['3h30m', 3 * h + 30 * m],
  ['10.5s4m', 4 * m + 10 * s + 500 * msec],
  ['-2m3.4s', -(2 * m + 3 * s + 400 * msec)],
  ['1h2m3s4ms5us6ns', h + 2 * m + 3 * s + 4 * msec + 5 * us + 6 * ns],
  ['39h9m14.425s', 39 * h + 9 * m + 14 * s + 425 * msec],
  ['2h45m30.5s', 2 * h + 45 * m + 30 * s + 500 * msec],
  ['52763797000ns', 52763797000],
  ['0.3333333333333333333h', 20 * m],
  ['0.100000000000000000000h', 6 * m],
  ['0.830103483285477580700h', 49 * m + 48 * s + 372539827],
  ['10m', 10 * m],
  ['0ms', 0],
  ['1.5s', 1.5 * s],
];

// Beyond 2^53 a double cannot hold every nanosecond count; these must still parse (to the nearest double).
const LARGE: readonly (readonly [string, bigint])[] = [
  ['9223372036854775807ns', (1n << 63n) - 1n],
  ['9223372036854775.807us', (1n << 63n) - 1n],
  ['9223372036s854ms775us807ns', (1n << 63n) - 1n],
  ['-9223372036854775808ns', -(1n << 63n)],
  ['-9223372036854775.808us', -(1n << 63n)],
  ['-9223372036s854ms775us808ns', -(1n << 63n)],
  ['-2562047h47m16.854775808s', -(1n << 63n)],
];

const INVALID: readonly (readonly [string, string])[] = [
  ['', 'time: invalid duration ""'],
  ['3', 'time: missing unit in duration "3"'],
  ['-', 'time: invalid duration "-"'],
  ['s', 'time: invalid duration "s"'],
  ['.', 'time: invalid duration "."'],
  ['-.', 'time: invalid duration "-."'],
  ['.s', 'time: invalid duration ".s"'],
  ['+.s', 'time: invalid duration "+.s"'],
  ['1d', 'time: unknown unit "d" in duration "1d"'],
  ['1h 2m', 'time: unknown unit "h " in duration "1h 2m"'],
  ['00', 'time: missing unit in duration "00"'],
  ['1.5', 'time: missing unit in duration "1.5"'],
  ['10', 'time: missing unit in duration "10"'],
  ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
  ['9223372036854775810ns', 'time: invalid duration "9223372036854775810ns"'],
  ['9223372036854775.808us', 'time: invalid duration "9223372036854775.808us"'],
  ['9223372036s854ms775us808ns', 'time: invalid duration "9223372036s854ms775us808ns"'],
  ['-9223372036854775809ns', 'time: invalid duration "-9223372036854775809ns"'],
  ['3000000h', 'time: invalid duration "3000000h"'],
];

describe('parseGoDuration', () => {
  it.each(VALID)('parses %j to %d ns', (text, nanos) => {
    expect(parseGoDuration(text)).toEqual({ ok: true, nanos });
  });

  it.each(LARGE)('parses %j to the double nearest %d ns', (text, nanos) => {
    expect(parseGoDuration(text)).toEqual({ ok: true, nanos: Number(nanos) });
  });

  it.each(INVALID)('rejects %j with Go\'s message', (text, message) => {
    expect(parseGoDuration(text)).toEqual({ ok: false, message });
  });
});
