import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExpositionFormat } from '../../../src/core/adapter.js';
import { compareGoStrings, formatOpenMetricsFloat, formatPromFloat } from '../../../src/core/format/index.js';
import { renderFamilyBytes, renderFamilyChunks, renderHeader, renderLabelText } from '../../../src/adapters/prometheus/index.js';
import { LabelValues, MetricFamily } from '../../../src/adapters/prometheus/series-store.js';
import type { PromMetricKind } from '../../../src/adapters/prometheus/index.js';
import { instance, spec, startHandler } from './fixtures.js';
import { TimeSlicer, ValueType } from '../../../src/core/adapter.js';

interface RefSeries {
  readonly labels: readonly string[];
  value: number;
  counts: number[];
  sum: number;
  count: number;
}

/**
 * The exposition as client_golang writes it, straight from label values with strings: the
 * obviously-correct renderer the slot store and byte renderer must agree with.
 */
function referenceRender(name: string, help: string, kind: PromMetricKind, labelNames: readonly string[], bounds: readonly number[], series: readonly RefSeries[], format: ExpositionFormat): string {
  if (series.length === 0) return '';
  const om = format === 'openmetrics-1.0.0';
  const float = om ? formatOpenMetricsFloat : formatPromFloat;
  const count = om ? (v: number) => (Number.isSafeInteger(v) ? String(v) : BigInt(Math.trunc(v)).toString()) : formatPromFloat;
  const sorted = [...series].sort((a, b) => {
    for (let i = 0; i < labelNames.length; i++) if (a.labels[i] !== b.labels[i]) return compareGoStrings(a.labels[i]!, b.labels[i]!);
    return 0;
  });
  let out = renderHeader({ name, help, kind }, format);
  for (const s of sorted) {
    const text = renderLabelText(labelNames, s.labels);
    if (kind !== 'DISTRIBUTION') {
      out += text === '' ? `${name} ${float(s.value)}\n` : `${name}{${text}} ${float(s.value)}\n`;
      continue;
    }
    const open = text === '' ? `${name}_bucket{` : `${name}_bucket{${text},`;
    let cumulative = 0;
    bounds.forEach((b, i) => {
      cumulative += s.counts[i] ?? 0;
      out += `${open}le="${float(b)}"} ${count(cumulative)}\n`;
    });
    out += `${open}le="+Inf"} ${count(s.count)}\n`;
    const labels = text === '' ? '' : `{${text}}`;
    out += `${name}_sum${labels} ${float(s.sum)}\n${name}_count${labels} ${count(s.count)}\n`;
  }
  return out;
}

const labelValue = fc.oneof(
  fc.constantFrom('unknown', 'reviews.default.svc.cluster.local', '200', '-', '', 'a"b', 'back\\slash', 'new\nline', '\u{1F600}', '\uFFFD', 'Z', 'z'),
  fc.string({ maxLength: 6 }),
);

describe('the prometheus series store', () => {
  it('renders exactly what a string renderer of the same label values renders, in both formats and in any chunking', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<PromMetricKind>('COUNTER', 'GAUGE', 'DISTRIBUTION'),
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.double({ min: 0.001, max: 1e7, noNaN: true }), { maxLength: 5 }),
        fc.array(fc.tuple(fc.array(labelValue, { minLength: 4, maxLength: 4 }), fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 4 })), { maxLength: 30 }),
        fc.integer({ min: 1, max: 7 }),
        (kind, nLabels, rawBounds, updates, perChunk) => {
          const labelNames = ['alpha', 'beta', 'gamma', 'delta'].slice(0, nLabels).sort();
          const bounds = [...new Set(rawBounds)].sort((a, b) => a - b);
          const f = new MetricFamily('istio_x', 'help "text"\\ here', kind, labelNames, bounds, new LabelValues());
          const ref = new Map<string, RefSeries>();
          for (const [values, observations] of updates) {
            const labels = values.slice(0, nLabels);
            const key = JSON.stringify(labels);
            let r = ref.get(key);
            const s = f.get(key) ?? f.create(key, labels);
            if (r === undefined) ref.set(key, (r = { labels, value: 0, counts: bounds.map(() => 0), sum: 0, count: 0 }));
            for (const v of observations) {
              if (kind === 'GAUGE') {
                s.value = v;
                r.value = v;
              } else if (kind === 'COUNTER') {
                s.value += Math.abs(v);
                r.value += Math.abs(v);
              } else {
                f.observe(s, v);
                const i = bounds.findIndex((b) => b >= v);
                if (i >= 0) r.counts[i]! += 1;
                r.sum += v;
                r.count += 1;
              }
            }
          }
          for (const format of ['prometheus-text-0.0.4', 'openmetrics-1.0.0'] as const) {
            const want = referenceRender('istio_x', 'help "text"\\ here', kind, labelNames, bounds, [...ref.values()], format);
            expect([...renderFamilyChunks(f, format, perChunk)].join('')).toBe(want);
            expect(Buffer.concat([...renderFamilyBytes(f, format, perChunk)]).toString('utf8')).toBe(want);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('stores each label value once across families and forgets it when no series uses it', () => {
    const labels = new LabelValues();
    const a = new MetricFamily('a', 'a', 'COUNTER', ['k', 'v'], [], labels);
    const b = new MetricFamily('b', 'b', 'DISTRIBUTION', ['k', 'v'], [1], labels);
    a.create('1', ['shared', 'x']).touchedAt = 1;
    b.create('1', ['shared', 'x']).touchedAt = 1;
    a.create('2', ['shared', 'y']).touchedAt = 2;
    expect(labels.size).toBe(3);
    expect(a.evictTouchedBefore(1)).toBe(1);
    expect(labels.size).toBe(3);
    expect(b.evictTouchedBefore(1)).toBe(1);
    expect(labels.size).toBe(2);
    expect(a.get('2')?.labelValues).toEqual(['shared', 'y']);
  });

  it('sorts a large family in steps, in the same order as at once, and never caches an order a change overtook', () => {
    const labels = new LabelValues();
    const f = new MetricFamily('g', 'g', 'GAUGE', ['a', 'b'], [], labels);
    for (let i = 0; i < 2000; i++) f.create(`k${i}`, [`v${(i * 7919) % 2000}`, `w${i % 3}`]).value = i;
    const atOnce = Array.from(f.sortedSlots());
    // A fresh family with the same series, sorted with a slicer that pauses at every check.
    const gLabels = new LabelValues();
    const g = new MetricFamily('g', 'g', 'GAUGE', ['a', 'b'], [], gLabels);
    for (let i = 0; i < 2000; i++) g.create(`k${i}`, [`v${(i * 7919) % 2000}`, `w${i % 3}`]).value = i;
    // Label values ranked beforehand, so every pause below is the slot sort's.
    gLabels.ranks();
    const steps = g.sortedSlotsInSteps(new TimeSlicer(0));
    let pauses = 0;
    let r = steps.next();
    while (r.done !== true) {
      pauses++;
      if (pauses === 3) g.create('late', ['v0', 'w9']).value = -1;
      r = steps.next();
    }
    expect(pauses).toBeGreaterThan(3);
    const labelsOf = (fam: MetricFamily, slots: Iterable<number>): string[] => Array.from(slots, (s) => fam.labelValuesOf(s).join(','));
    // The series added while sorting is not in this render's order, and the next sort has it.
    expect(labelsOf(g, r.value)).toEqual(labelsOf(f, atOnce));
    expect(labelsOf(g, g.sortedSlots())).toContain('v0,w9');
    expect(g.sortedSlots()).toHaveLength(2001);
  });

  it('ranks label values in steps, in the same order as at once, and ranks a value added meanwhile', () => {
    const values = Array.from({ length: 3000 }, (_, i) => `v${(i * 7919) % 3000}`);
    const atOnce = new LabelValues();
    for (const v of values) atOnce.idOf(v);
    const inSteps = new LabelValues();
    for (const v of values) inSteps.idOf(v);
    const steps = inSteps.ranksInSteps(new TimeSlicer(0));
    let pauses = 0;
    let r = steps.next();
    while (r.done !== true) {
      if (++pauses === 3) inSteps.idOf('late');
      r = steps.next();
    }
    expect(pauses).toBeGreaterThan(3);
    const order = (labels: LabelValues, rank: Int32Array): string[] =>
      [...values, 'late'].filter((v) => labels.find(v) >= 0).sort((a, b) => rank[labels.find(a)]! - rank[labels.find(b)]!);
    expect(order(inSteps, r.value)).toEqual([...order(atOnce, atOnce.ranks()), 'late'].sort());
    expect(r.value).toBe(inSteps.ranks());
  });

  it('keeps series and label values a scrape has started on, even when they are evicted and replaced meanwhile', () => {
    const labels = new LabelValues();
    const f = new MetricFamily('g', 'g', 'GAUGE', ['k'], [], labels);
    for (const k of ['a', 'b', 'c']) f.create(k, [k]).value = 1;
    const it = renderFamilyChunks(f, 'prometheus-text-0.0.4', 1);
    const first = it.next().value;
    f.evictTouchedBefore(Infinity);
    // New values while the scrape is reading: they must not take the evicted ones' ids or slots.
    for (const k of ['d', 'e', 'f']) f.create(k, [k]).value = 2;
    const rest = [...it];
    expect([first, ...rest].join('')).toBe('# HELP g g\n# TYPE g gauge\ng{k="a"} 1\ng{k="b"} 1\ng{k="c"} 1\n');
    expect([...renderFamilyChunks(f, 'prometheus-text-0.0.4')].join('')).toBe('# HELP g g\n# TYPE g gauge\ng{k="d"} 2\ng{k="e"} 2\ng{k="f"} 2\n');
    // Once the scrape is over, what was evicted is really gone.
    expect(labels.size).toBe(3);
  });

  it('records the same series whether instances share one dimensions array or each bring their own', async () => {
    const c = spec('c.instance.ns', ValueType.INT64, ['a', 'b']);
    const h = spec('h.instance.ns', ValueType.DOUBLE, ['a', 'b']);
    const params = {
      metrics: [
        { name: 'c_total', instance_name: c.name, kind: 'COUNTER', label_names: ['b', 'a'] },
        { name: 'h', instance_name: h.name, kind: 'DISTRIBUTION', label_names: ['a', 'b'], buckets: { explicit_buckets: { bounds: [1, 10] } } },
      ],
    };
    const shared = await startHandler(params, [c, h]);
    const separate = await startHandler(params, [c, h]);
    for (let i = 0; i < 40; i++) {
      const dims = { a: `x${i % 7}`, b: `y${i % 3}` };
      const one = instance(c, 1, dims);
      shared.handler.handleMetrics([one, { ...instance(h, i, dims), dimensions: one.dimensions }]);
      separate.handler.handleMetrics([instance(c, 1, dims), instance(h, i, dims)]);
    }
    expect(shared.env.exposition.render()).toBe(separate.env.exposition.render());
    expect(shared.handler.liveSeries()).toBe(42);
  });
});
