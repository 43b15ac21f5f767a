import { describe, expect, it } from 'vitest';
import { ValueType } from '../../../src/core/adapter.js';
import { MetricFamily } from '../../../src/adapters/prometheus/series-store.js';
import { renderFamilyBytes, renderFamilyChunks, renderHeader } from '../../../src/adapters/prometheus/index.js';
import { instance, spec, startHandler } from './fixtures.js';

const C = spec('c.instance.ns', ValueType.INT64, ['path', ['code', ValueType.INT64]]);
const G = spec('g.instance.ns', ValueType.DOUBLE, []);
const H = spec('h.instance.ns', ValueType.DOUBLE, ['route']);

const PARAMS = {
  metrics: [
    {
      name: 'requests_total',
      instance_name: C.name,
      kind: 'COUNTER',
      description: 'Requests by "path".\nSecond line \\ backslash',
      label_names: ['path', 'code'],
    },
    { name: 'queue_depth', instance_name: G.name, kind: 'GAUGE' },
    {
      name: 'latency_seconds',
      instance_name: H.name,
      kind: 'DISTRIBUTION',
      label_names: ['route'],
      buckets: { explicit_buckets: { bounds: [0.005, 0.5, 1e6] } },
    },
  ],
};

async function fed() {
  const { handler, env } = await startHandler(PARAMS, [C, G, H]);
  handler.handleMetrics([
    instance(C, 1, { path: '/b', code: 200 }),
    instance(C, 1, { path: '/a"q', code: 200 }),
    instance(C, 2, { path: '/a"q', code: 200 }),
    instance(C, 1e6, { path: 'C:\\dir\nx', code: 500 }),
    instance(G, 7),
    instance(G, 0.1 + 0.2),
    instance(H, 0.001, { route: 'x' }),
    instance(H, 0.5, { route: 'x' }),
    instance(H, 2e6, { route: 'x' }),
  ]);
  return { handler, env };
}

describe('exposition', () => {
  it('renders text 0.0.4 byte for byte as client_golang does', async () => {
    const { env } = await fed();
    expect(env.exposition.render('prometheus-text-0.0.4')).toBe(
      [
        '# HELP istio_latency_seconds latency_seconds',
        '# TYPE istio_latency_seconds histogram',
        'istio_latency_seconds_bucket{route="x",le="0.005"} 1',
        'istio_latency_seconds_bucket{route="x",le="0.5"} 2',
        'istio_latency_seconds_bucket{route="x",le="1e+06"} 2',
        'istio_latency_seconds_bucket{route="x",le="+Inf"} 3',
        'istio_latency_seconds_sum{route="x"} 2.000000501e+06',
        'istio_latency_seconds_count{route="x"} 3',
        '# HELP istio_queue_depth queue_depth',
        '# TYPE istio_queue_depth gauge',
        'istio_queue_depth 0.30000000000000004',
        '# HELP istio_requests_total Requests by "path".\\nSecond line \\\\ backslash',
        '# TYPE istio_requests_total counter',
        'istio_requests_total{code="200",path="/a\\"q"} 3',
        'istio_requests_total{code="200",path="/b"} 1',
        'istio_requests_total{code="500",path="C:\\\\dir\\nx"} 1e+06',
        '',
      ].join('\n'),
    );
  });

  it('renders OpenMetrics 1.0 as client_golang does, leaving # EOF to the server', async () => {
    const { env } = await fed();
    const source = [...env.exposition.sources.values()][0];
    const own = [...(source?.families() ?? [])].flatMap((f) => [...f.chunks('openmetrics-1.0.0')]).join('');
    expect(own).not.toContain('# EOF');
    expect(env.exposition.render('openmetrics-1.0.0')).toBe(
      [
        '# HELP istio_latency_seconds latency_seconds',
        '# TYPE istio_latency_seconds histogram',
        'istio_latency_seconds_bucket{route="x",le="0.005"} 1',
        'istio_latency_seconds_bucket{route="x",le="0.5"} 2',
        'istio_latency_seconds_bucket{route="x",le="1e+06"} 2',
        'istio_latency_seconds_bucket{route="x",le="+Inf"} 3',
        'istio_latency_seconds_sum{route="x"} 2.000000501e+06',
        'istio_latency_seconds_count{route="x"} 3',
        '# HELP istio_queue_depth queue_depth',
        '# TYPE istio_queue_depth gauge',
        'istio_queue_depth 0.30000000000000004',
        '# HELP istio_requests Requests by \\"path\\".\\nSecond line \\\\ backslash',
        '# TYPE istio_requests counter',
        'istio_requests_total{code="200",path="/a\\"q"} 3.0',
        'istio_requests_total{code="200",path="/b"} 1.0',
        'istio_requests_total{code="500",path="C:\\\\dir\\nx"} 1e+06',
        '# EOF',
        '',
      ].join('\n'),
    );
  });

  it('writes OpenMetrics bucket bounds as canonical floats and counts as integers', () => {
    const f = new MetricFamily('h', 'help', 'DISTRIBUTION', [], [1, 100]);
    const s = f.create('', []);
    for (const v of [0.5, 50, 500]) f.observe(s, v);
    s.counts[0] = 1e6;
    s.count = 1e6 + 2;
    const om = [...renderFamilyChunks(f, 'openmetrics-1.0.0')].join('');
    expect(om).toBe(
      [
        '# HELP h help',
        '# TYPE h histogram',
        'h_bucket{le="1.0"} 1000000',
        'h_bucket{le="100.0"} 1000001',
        'h_bucket{le="+Inf"} 1000002',
        'h_sum 550.5',
        'h_count 1000002',
        '',
      ].join('\n'),
    );
    const text = [...renderFamilyChunks(f, 'prometheus-text-0.0.4')].join('');
    expect(text).toContain('h_bucket{le="1"} 1e+06\n');
    expect(text).toContain('h_count 1.000002e+06\n');
  });

  it('marks an OpenMetrics counter without the _total suffix unknown, as client_golang does', () => {
    const f = new MetricFamily('istio_requestcount', 'x', 'COUNTER', [], []);
    expect(renderHeader(f, 'openmetrics-1.0.0')).toBe('# HELP istio_requestcount x\n# TYPE istio_requestcount unknown\n');
    expect(renderHeader(f, 'prometheus-text-0.0.4')).toBe('# HELP istio_requestcount x\n# TYPE istio_requestcount counter\n');
    f.create('', []).value = 1;
    expect([...renderFamilyChunks(f, 'openmetrics-1.0.0')].join('')).toContain('\nistio_requestcount 1.0\n');
  });

  it('sorts series by label values bytewise, whatever the arrival order', async () => {
    const s = spec('s.instance.ns', ValueType.STRING, ['b', 'a']);
    const { handler, env } = await startHandler({ metrics: [{ name: 'x', instance_name: s.name, kind: 'GAUGE', label_names: ['b', 'a'] }] }, [s]);
    handler.handleMetrics([
      instance(s, '1', { a: 'z', b: '1' }),
      instance(s, '2', { a: 'Z', b: '2' }),
      instance(s, '3', { a: 'a', b: '3' }),
      instance(s, '4', { a: 'a', b: '10' }),
      instance(s, '5', { a: '\u{1F600}', b: '0' }),
      instance(s, '6', { a: '\uFFFD', b: '0' }),
    ]);
    const lines = env.exposition.render().split('\n').filter((l) => l.startsWith('istio_x'));
    expect(lines).toEqual([
      'istio_x{a="Z",b="2"} 2',
      'istio_x{a="a",b="10"} 4',
      'istio_x{a="a",b="3"} 3',
      'istio_x{a="z",b="1"} 1',
      'istio_x{a="\uFFFD",b="0"} 6',
      'istio_x{a="\u{1F600}",b="0"} 5',
    ]);
  });

  it('renders in chunks of at most 256 series, the header only in the first', async () => {
    const s = spec('n.instance.ns', ValueType.INT64, ['i']);
    const { handler, env } = await startHandler({ metrics: [{ name: 'n_total', instance_name: s.name, kind: 'COUNTER', label_names: ['i'] }] }, [s]);
    handler.handleMetrics(Array.from({ length: 600 }, (_, i) => instance(s, 1, { i: String(i).padStart(3, '0') })));
    const family = [...([...env.exposition.sources.values()][0]?.families() ?? [])][0];
    // An empty chunk is a yield point of a time-sliced sort (it appears on a busy machine): not a chunk of series.
    const chunks = [...(family?.chunks('prometheus-text-0.0.4') ?? [])].filter((c) => c.length > 0);
    expect(chunks).toHaveLength(3);
    expect(chunks.map((c) => c.split('\n').filter((l) => l.startsWith('istio_n_total{')).length)).toEqual([256, 256, 88]);
    expect(chunks[0]?.startsWith('# HELP istio_n_total n_total\n# TYPE istio_n_total counter\n')).toBe(true);
    expect(chunks.slice(1).some((c) => c.includes('#'))).toBe(false);
    expect(chunks.join('')).toBe(env.exposition.render());
  });

  it('pauses within a chunk of histograms, and reads storage afresh after a pause in which it grew', () => {
    const family = (): MetricFamily => {
      const f = new MetricFamily('h', 'h', 'DISTRIBUTION', ['k'], [0.1, 1, 10]);
      for (let i = 0; i < 100; i++) f.observe(f.create(`k${i}`, [`k${String(i).padStart(5, '0')}`]), i % 20);
      return f;
    };
    // Series the render has not reached yet get new observations (it renders in label order).
    const update = (f: MetricFamily): void => {
      for (let i = 50; i < 100; i++) f.observe(f.get(`k${i}`)!, 0.05);
    };
    const expected = family();
    update(expected);
    const f = family();
    // Sorted beforehand, so the first pause is the render's own: on a busy machine a sort step can
    // pause before the series list is fixed, and series created then are rightly in the scrape.
    const sorting = f.sortedSlotsInSteps();
    while (sorting.next().done !== true);
    const it = renderFamilyBytes(f, 'prometheus-text-0.0.4');
    const all: Buffer[] = [];
    let r = it.next();
    while (r.done !== true && r.value.length > 0) {
      all.push(r.value);
      r = it.next();
    }
    // Paused with series still to render: thousands more series move the family's storage.
    expect(r.done).toBe(false);
    for (let i = 100; i < 5100; i++) f.create(`k${i}`, [`x${i}`]);
    update(f);
    all.push(...it);
    expect(Buffer.concat(all).toString('utf8')).toBe(Buffer.concat([...renderFamilyBytes(expected, 'prometheus-text-0.0.4')]).toString('utf8'));
    // 100 series fit one chunk, written at its end, with pauses (empty chunks) before it.
    expect(all.filter((c) => c.length > 0)).toHaveLength(1);
    expect(all.filter((c) => c.length === 0).length).toBeGreaterThanOrEqual(5);
  });

  it('keeps a scrape consistent when series change between chunks', () => {
    const f = new MetricFamily('g', 'g', 'GAUGE', ['k'], []);
    for (const k of ['a', 'b', 'c']) f.create(`k="${k}"`, [k]).value = 1;
    const it = renderFamilyChunks(f, 'prometheus-text-0.0.4', 1);
    const first = it.next().value;
    f.evictTouchedBefore(Infinity);
    f.create('k="0"', ['0']).value = 2;
    const rest = [...it];
    expect([first, ...rest].join('')).toBe('# HELP g g\n# TYPE g gauge\ng{k="a"} 1\ng{k="b"} 1\ng{k="c"} 1\n');
  });
});
