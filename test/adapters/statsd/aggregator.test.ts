import { describe, expect, it } from 'vitest';
import { encodeSnapshot, MAX_RECYCLED_UNITS, selectUnits, StatsdAggregator } from '../../../src/adapters/statsd/index.js';

function filled(): StatsdAggregator {
  const agg = new StatsdAggregator();
  // Timer samples of several series arrive interleaved; each series keeps its own order.
  for (let i = 0; i < 12; i++) agg.addTiming(`t${i % 3}`, i);
  agg.addCount('c0', 1);
  agg.addCount('c1', 2);
  agg.setGauge('g0', -4);
  agg.setGauge('g1', 5);
  return agg;
}

describe('the aggregator', () => {
  it('encodes each series once, counters, gauges then timers, samples in arrival order', () => {
    expect(encodeSnapshot(filled().drain(), 1)).toEqual([
      'c0:1|c',
      'c1:2|c',
      'g0:0|g\ng0:-4|g',
      'g1:5|g',
      ...[0, 3, 6, 9].map((v) => `t0:${v}|ms`),
      ...[1, 4, 7, 10].map((v) => `t1:${v}|ms`),
      ...[2, 5, 8, 11].map((v) => `t2:${v}|ms`),
    ]);
  });

  it('selects units by their index in that order', () => {
    const snapshot = filled().drain();
    const all = encodeSnapshot(snapshot, 1);
    const odd = selectUnits(snapshot, (u) => u % 2 === 1);
    expect(encodeSnapshot(odd.drain(), 1)).toEqual(all.filter((_, u) => u % 2 === 1));
  });

  it('merges newer lines: counters add, the newer gauge wins, samples append', () => {
    const older = filled();
    const newer = new StatsdAggregator();
    newer.addCount('c1', 3);
    newer.addCount('c9', 1);
    newer.setGauge('g0', 6);
    newer.addTiming('t1', 99);
    newer.addTiming('t7', 1);
    older.absorbNewer(newer.drain());
    const lines = encodeSnapshot(older.drain(), 1);
    expect(lines.slice(0, 5)).toEqual(['c0:1|c', 'c1:5|c', 'c9:1|c', 'g0:6|g', 'g1:5|g']);
    expect(lines.filter((l) => l.startsWith('t1:'))).toEqual([1, 4, 7, 10, 99].map((v) => `t1:${v}|ms`));
    expect(lines.at(-1)).toBe('t7:1|ms');
  });

  it('trims the newest lines first: timer samples from the end, then the last series', () => {
    const agg = filled();
    // The negative gauge is two lines on the wire, and counts as two.
    expect(agg.pendingLines).toBe(17);
    expect(agg.trimTo(10)).toBe(7);
    expect(encodeSnapshot(agg.drain(), 1)).toEqual(['c0:1|c', 'c1:2|c', 'g0:0|g\ng0:-4|g', 'g1:5|g', 't0:0|ms', 't0:3|ms', 't0:6|ms', 't0:9|ms', 't1:1|ms']);
    const small = filled();
    expect(small.trimTo(4)).toBe(13);
    expect(encodeSnapshot(small.drain(), 1)).toEqual(['c0:1|c', 'c1:2|c', 'g0:0|g\ng0:-4|g']);
  });

  it('keeps or drops a negative gauge whole, and drops what came after it too', () => {
    const agg = filled();
    // Room for one line after the counters: half the pair would make the server see a bare reset.
    expect(agg.trimTo(3)).toBe(15);
    expect(agg.pendingLines).toBe(2);
    expect(encodeSnapshot(agg.drain(), 1)).toEqual(['c0:1|c', 'c1:2|c']);
  });

  it('forgets a deleted gauge, keeping the order of the rest, and records after a trim', () => {
    const agg = filled();
    agg.deleteGauge('g0');
    agg.trimTo(5);
    agg.addTiming('t0', 42);
    agg.addTiming('t5', 1);
    agg.setGauge('g0', 1);
    expect(agg.series).toBe(6);
    expect(encodeSnapshot(agg.drain(), 1)).toEqual(['c0:1|c', 'c1:2|c', 'g1:5|g', 'g0:1|g', 't0:0|ms', 't0:3|ms', 't0:42|ms', 't5:1|ms']);
  });

  it('records into tables recycled from an old snapshot as if they were new', () => {
    const agg = filled();
    const first = agg.drain();
    agg.recycle(first);
    agg.addCount('c9', 7);
    encodeSnapshot(agg.drain(), 1);
    // Now recording into the first interval's tables: fewer series and samples than they held.
    agg.addTiming('t2', 99);
    agg.addCount('c1', 3);
    agg.setGauge('g1', 8);
    expect(agg.series).toBe(3);
    expect(agg.pendingLines).toBe(3);
    expect(encodeSnapshot(agg.drain(), 1)).toEqual(['c1:3|c', 'g1:8|g', 't2:99|ms']);
  });

  it('leaves tables a burst grew past MAX_RECYCLED_UNITS to the collector', () => {
    const small = new StatsdAggregator();
    small.addTiming('t', 1);
    expect(small.recycle(small.drain())).toBe(true);
    const burst = new StatsdAggregator();
    for (let i = 0; i <= MAX_RECYCLED_UNITS; i++) burst.addTiming('t', i);
    expect(burst.recycle(burst.drain())).toBe(false);
  });

  it('does not take back tables it is still recording into', () => {
    const agg = new StatsdAggregator();
    agg.addCount('c', 1);
    agg.addTiming('t', 2);
    expect(agg.recycle(agg)).toBe(false);
    const snapshot = agg.drain();
    agg.addCount('d', 2);
    agg.addTiming('u', 3);
    expect(encodeSnapshot(snapshot, 1)).toEqual(['c:1|c', 't:2|ms']);
  });
});
