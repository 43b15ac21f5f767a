import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatGoFloatF } from '../../../src/core/format/index.js';
import {
  encodeCounterLine,
  encodeGaugeLine,
  encodeSnapshot,
  encodeTimingLine,
  formatSampleRateSuffix,
  formatStatValue,
  StatsdAggregator,
} from '../../../src/adapters/statsd/index.js';

describe('statsd lines', () => {
  it('are name:value|type', () => {
    expect(encodeCounterLine('mesh.requests', 42)).toBe('mesh.requests:42|c');
    expect(encodeGaugeLine('mesh.load', 0.75)).toBe('mesh.load:0.75|g');
    expect(encodeTimingLine('mesh.latency', 12.5, '')).toBe('mesh.latency:12.5|ms');
  });

  it('carry the sample rate only when below 1, as the shortest exact decimal', () => {
    expect(formatSampleRateSuffix(1)).toBe('');
    expect(formatSampleRateSuffix(0.5)).toBe('|@0.5');
    expect(formatSampleRateSuffix(1e-6)).toBe('|@0.000001');
    expect(encodeTimingLine('t', 3, formatSampleRateSuffix(0.1))).toBe('t:3|ms|@0.1');
  });

  it('write numbers without an exponent', () => {
    expect(formatStatValue(1e21)).toBe('1000000000000000000000');
    expect(formatStatValue(1e-7)).toBe('0.0000001');
    expect(formatStatValue(0.000001)).toBe('0.000001');
    expect(formatStatValue(-0)).toBe('0');
    expect(formatStatValue(2 ** 60)).toBe('1152921504606847000');
    expect(formatStatValue(12_345_678)).toBe('12345678');
  });

  it('send a negative gauge as a reset then a delta, since a sign on the wire means adjust-by', () => {
    expect(encodeGaugeLine('g', -5)).toBe('g:0|g\ng:-5|g');
    expect(encodeGaugeLine('g', -0)).toBe('g:0|g');
  });
});

describe('the aggregator', () => {
  it('sums counters, keeps the last gauge and every timer sample, per name, until drained', () => {
    const agg = new StatsdAggregator();
    agg.addCount('c', 1);
    agg.addCount('c', 2);
    agg.addCount('d', 5);
    agg.setGauge('g', 3);
    agg.setGauge('g', 7);
    agg.addTiming('t', 1.5);
    agg.addTiming('t', 2);
    // The same name may be both a counter and a timer: StatsD keeps them apart.
    agg.addTiming('c', 9);
    expect(agg.series).toBe(5);
    expect(agg.pendingLines).toBe(6);
    const snapshot = agg.drain();
    expect(agg.series).toBe(0);
    expect(encodeSnapshot(snapshot, 1)).toEqual(['c:3|c', 'd:5|c', 'g:7|g', 't:1.5|ms', 't:2|ms', 'c:9|ms']);
    expect(encodeSnapshot(snapshot, 0.25)).toContain('t:2|ms|@0.25');
    expect(encodeSnapshot(agg.drain(), 1)).toEqual([]);
  });
});

describe('stat values', () => {
  it('print exactly as Go strconv.FormatFloat(v, f, -1) would, on either side of the fast path', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const want = v === 0 ? '0' : formatGoFloatF(v);
        expect(formatStatValue(v)).toBe(want);
      }),
    );
    for (const v of [1e-6, 9.99e-7, 1e21, 1e21 - 65536, 123.457, 0.1 + 0.2]) expect(formatStatValue(v)).toBe(formatGoFloatF(v));
  });
});
