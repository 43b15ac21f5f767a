import { describe, expect, it } from 'vitest';
import { createAdapterInventory } from '../../../src/adapters/index.js';
import { compileConfig } from '../../../src/core/config/compile.js';
import { parseConfigText } from '../../../src/core/config/document.js';
import { formatConfigIssue } from '../../../src/core/errors.js';
import { ValueType } from '../../../src/core/adapter.js';
import { checkAcrossHandlers } from '../../../src/adapters/prometheus/index.js';
import { mustParse, spec } from './fixtures.js';

// Mixer's prometheus handlers share one registry (spec §7.1): these configs are checked as a whole.

function compile(yaml: string): ReturnType<typeof compileConfig> {
  const { documents, issues } = parseConfigText(yaml, 'c.yaml');
  expect(issues).toEqual([]);
  return compileConfig(documents, { adapters: createAdapterInventory().adapters });
}

function errors(yaml: string): string[] {
  return compile(yaml).issues.filter((i) => i.severity === 'error').map(formatConfigIssue);
}

/** Instance c has a's dimensions; the config puts prom-b's metrics[i] on line 32 + i. */
const INSTANCES = `apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: a, namespace: istio-system}
spec: {compiledTemplate: metric, params: {value: "1", dimensions: {reporter: '"x"', code: "200"}}}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: b, namespace: istio-system}
spec: {compiledTemplate: metric, params: {value: "1", dimensions: {reporter: '"x"', path: '"/"'}}}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: c, namespace: istio-system}
spec: {compiledTemplate: metric, params: {value: "1", dimensions: {reporter: '"x"', code: "200"}}}
`;

/** Two handlers, `prom-a` with `metricA` and `prom-b` with `metricsB`, each sent the instances its metrics name. */
function config(metricA: string, metricsB: readonly string[]): string {
  const sent = (metrics: readonly string[]): string => metrics.map((m) => /instance_name: (\w+)\./.exec(m)?.[1]).join(', ');
  return `${INSTANCES}---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: prom-a, namespace: istio-system}
spec:
  compiledAdapter: prometheus
  params:
    metrics:
    - ${metricA}
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: prom-b, namespace: istio-system}
spec:
  compiledAdapter: prometheus
  params:
    metrics:
${metricsB.map((m) => `    - ${m}\n`).join('')}---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: r, namespace: istio-system}
spec:
  actions: [{handler: prom-a, instances: [${sent([metricA])}]}, {handler: prom-b, instances: [${sent(metricsB)}]}]
`;
}

const A_COUNTER = '{name: requests_total, instance_name: a.instance.istio-system, kind: COUNTER, label_names: [reporter, code]}';
const B_COUNTER = '{name: requests_total, instance_name: b.instance.istio-system, kind: COUNTER, label_names: [reporter, path]}';

describe('prometheus metrics across handlers', () => {
  it('rejects a metric name exported by two handlers with different label names, at the later handler\'s metric', () => {
    const { snapshot, issues } = compile(config(A_COUNTER, [B_COUNTER]));
    expect(snapshot).toBeUndefined();
    expect(issues.map(formatConfigIssue)).toEqual([
      "c.yaml:32:14: spec.params.metrics[0].name: metric istio_requests_total is also exported by handler 'prom-a.handler.istio-system' (its metrics[0]) with label names [code, reporter]; here [path, reporter]: a metric name must have one definition across prometheus handlers [PROM_METRIC_CONFLICT]",
    ]);
  });

  it('points at the conflicting entry among the later handler\'s metrics, and names a differing kind', () => {
    const other = '{name: other_total, instance_name: b.instance.istio-system, kind: COUNTER, label_names: [reporter, path]}';
    const gauge = '{name: requests_total, instance_name: c.instance.istio-system, kind: GAUGE, label_names: [reporter, code]}';
    expect(errors(config(A_COUNTER, [other, gauge]))).toEqual([
      "c.yaml:33:14: spec.params.metrics[1].name: metric istio_requests_total is also exported by handler 'prom-a.handler.istio-system' (its metrics[0]) with kind COUNTER; here GAUGE: a metric name must have one definition across prometheus handlers [PROM_METRIC_CONFLICT]",
    ]);
  });

  it('rejects a metric named like the _count series of a histogram of another handler', () => {
    const hist = '{name: latency, instance_name: a.instance.istio-system, kind: DISTRIBUTION, label_names: [reporter, code]}';
    const count = '{name: latency_count, instance_name: b.instance.istio-system, kind: GAUGE, label_names: [reporter, path]}';
    expect(errors(config(hist, [count]))).toEqual([
      "c.yaml:32:14: spec.params.metrics[0].name: metric istio_latency_count has the name of the _count series of histogram istio_latency exported by handler 'prom-a.handler.istio-system' (its metrics[0]): the two cannot both be exposed (their samples would share one name: promtool rejects such an exposition, and Prometheus drops one of two samples with the same labels); rename one [PROM_METRIC_CONFLICT]",
    ]);
  });

  it('rejects different bucket upper bounds, and lists every difference at once', () => {
    const hist = (extra: string): string =>
      `{name: size, instance_name: a.instance.istio-system, kind: DISTRIBUTION, label_names: [reporter, code]${extra}}`;
    const histB = (extra: string): string => hist(extra).replace('a.instance', 'b.instance').replace('[reporter, code]', '[reporter, path]');
    expect(errors(config(hist(', buckets: {explicit_buckets: {bounds: [1, 10]}}'), [histB(', buckets: {explicit_buckets: {bounds: [1, 100]}}')]))).toEqual([
      "c.yaml:32:14: spec.params.metrics[0].name: metric istio_size is also exported by handler 'prom-a.handler.istio-system' (its metrics[0]) with label names [code, reporter] and bucket upper bounds [1, 10]; here label names [path, reporter] and bucket upper bounds [1, 100]: a metric name must have one definition across prometheus handlers [PROM_METRIC_CONFLICT]",
    ]);
    const described = errors(config(hist(''), [histB(', description: sizes')]));
    expect(described).toHaveLength(1);
    expect(described[0]).toContain('help "size"');
    expect(described[0]).toContain('here label names [path, reporter] and help "sizes"');
  });

  it('compiles identical definitions across handlers without an issue (they share one family)', () => {
    const same = (instance: string): string =>
      `{name: requests_total, instance_name: ${instance}.instance.istio-system, kind: DISTRIBUTION, label_names: [code, reporter], buckets: {linear_buckets: {num_finite_buckets: 3, width: 1, offset: 0}}}`;
    // Same label set in another order, and the same bounds written another way: one descriptor.
    const explicit = same('c').replace('[code, reporter]', '[reporter, code]').replace('{linear_buckets: {num_finite_buckets: 3, width: 1, offset: 0}}', '{explicit_buckets: {bounds: [0, 1, 2, 3]}}');
    const { snapshot, issues } = compile(config(same('a'), [explicit]));
    expect(issues).toEqual([]);
    expect([...snapshot!.handlers.keys()]).toEqual(['prom-a.handler.istio-system', 'prom-b.handler.istio-system']);
  });

  it('leaves a handler that failed on its own params out of the comparison', () => {
    const broken = '{name: requests_total, instance_name: b.instance.istio-system, kind: HISTOGRAM, label_names: [reporter, path]}';
    const found = errors(config(A_COUNTER, [broken]));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/HISTOGRAM.*\[PROM_KIND\]$/);
  });

  it('names only the differing labels of long label lists', () => {
    const labels = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8', 'l9'];
    const parsed = (instance: string, last: string) => {
      const s = spec(instance, ValueType.INT64, [...labels, last]);
      return mustParse({ metrics: [{ name: 'hits', instance_name: instance, kind: 'COUNTER', label_names: [...labels, last] }] }, [s]);
    };
    const reports: unknown[][] = [];
    checkAcrossHandlers(
      [
        { name: 'p.handler.ns', config: parsed('a.instance.ns', 'x') },
        { name: 'q.handler.ns', config: parsed('b.instance.ns', 'y') },
      ],
      (...args) => void reports.push(args),
    );
    expect(reports).toEqual([
      [
        1,
        ['metrics', 0, 'name'],
        "metric istio_hits is also exported by handler 'p.handler.ns' (its metrics[0]) with label names [10 names, with x]; here [10 names, with y]: a metric name must have one definition across prometheus handlers",
        'PROM_METRIC_CONFLICT',
      ],
    ]);
  });
});
