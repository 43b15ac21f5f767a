/**
 * A flush's lines, walked in wire order and handed to a sink piece by piece: the packer joins
 * a datagram's pieces once, so encoding makes no string per line beyond the value's digits.
 */
import { runToEnd, STEP_UNITS, type AggregateSnapshot } from './aggregator.js';
import { encodeGaugeLine, formatSampleRateSuffix, formatStatValue } from './line.js';

export interface UnitSink {
  /** The line `<name>:<value><rest>`, `bytes` long in UTF-8. */
  line(name: string, value: string, rest: string, bytes: number): void;
  /** Lines joined by `\n` that must stay together, in order (a negative gauge). */
  unit(text: string, bytes: number, lines: number): void;
}

/**
 * The wire units of `snapshot`, in order: one per counter and gauge series and per timer sample,
 * counters first, then gauges, then timers, each in first-seen order. A unit is one line, except
 * a negative gauge (see encodeGaugeLine). The walk pauses every few hundred units so a caller can
 * yield between steps. The lines are those of line.ts' encode functions.
 */
export function* encodeUnitsInSteps(snapshot: AggregateSnapshot, samplingRate: number, sink: UnitSink): Generator<void, void, void> {
  // The unit order here is what selectUnits walks: keep the two in step.
  let step = 0;
  const c = snapshot.counters;
  for (let s = 0; s < c.length; s++) {
    const name = c.nameAt(s);
    if (name === undefined) continue;
    const value = formatStatValue(c.values[s] as number);
    sink.line(name, value, '|c', name.length + extraUtf8Bytes(name) + value.length + 3);
    if (++step >= STEP_UNITS) {
      step = 0;
      yield;
    }
  }
  const g = snapshot.gauges;
  for (let s = 0; s < g.length; s++) {
    const name = g.nameAt(s);
    if (name === undefined) continue;
    const v = g.values[s] as number;
    const bytes = name.length + extraUtf8Bytes(name);
    if (v < 0) {
      const unit = encodeGaugeLine(name, v);
      sink.unit(unit, unit.length - name.length * 2 + bytes * 2, 2);
    } else {
      const value = formatStatValue(v);
      sink.line(name, value, '|g', bytes + value.length + 3);
    }
    if (++step >= STEP_UNITS) {
      step = 0;
      yield;
    }
  }
  const rest = `|ms${formatSampleRateSuffix(samplingRate)}`;
  const t = snapshot.timers;
  for (let s = 0; s < t.length; s++) {
    const name = t.nameAt(s);
    if (name === undefined) continue;
    const bytes = name.length + extraUtf8Bytes(name) + 1 + rest.length;
    for (let cell = t.headAt(s); cell >= 0; cell = t.nextCell(cell)) {
      const value = formatStatValue(t.valueAt(cell));
      sink.line(name, value, rest, bytes + value.length);
      if (++step >= STEP_UNITS) {
        step = 0;
        yield;
      }
    }
  }
}

/**
 * Bytes a name takes in UTF-8 beyond one per UTF-16 unit. Values, types and rates are ASCII, so a
 * line's byte length is its string length plus this for each time the name appears in it.
 */
function extraUtf8Bytes(name: string): number {
  for (let i = 0; i < name.length; i++) {
    if (name.charCodeAt(i) > 0x7f) return Buffer.byteLength(name) - name.length;
  }
  return 0;
}

/** Every unit of `snapshot` as a string, in {@link encodeUnitsInSteps}' order. */
export function encodeSnapshot(snapshot: AggregateSnapshot, samplingRate: number): string[] {
  const out: string[] = [];
  const sink: UnitSink = {
    line: (name, value, rest) => out.push(`${name}:${value}${rest}`),
    unit: (text) => out.push(text),
  };
  runToEnd(encodeUnitsInSteps(snapshot, samplingRate, sink));
  return out;
}
