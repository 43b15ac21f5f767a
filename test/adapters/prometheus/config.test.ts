import { describe, expect, it } from 'vitest';
import { ValueType } from '../../../src/core/adapter.js';
import { parseConfig, type PromConfig } from '../../../src/adapters/prometheus/index.js';
import { collectIssues, DEFAULT_INSTANCES, defaultHandlerParams, mustParse, routedInstances, spec, type RecordedIssue } from './fixtures.js';

const COUNT = spec('requestcount.instance.istio-system', ValueType.INT64, ['reporter', ['response_code', ValueType.INT64]]);
const DURATION = spec('requestduration.instance.istio-system', ValueType.DURATION, ['reporter']);
const INSTANCES = [COUNT, DURATION];

function counter(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'requests_total',
    instance_name: COUNT.name,
    kind: 'COUNTER',
    label_names: ['reporter', 'response_code'],
    ...extra,
  };
}

function histogram(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'request_duration_seconds', instance_name: DURATION.name, kind: 'DISTRIBUTION', label_names: ['reporter'], ...extra };
}

function issuesOf(params: unknown, instances = INSTANCES): { config: PromConfig | undefined; issues: RecordedIssue[] } {
  const r = collectIssues();
  const config = parseConfig(params, routedInstances(params, instances), r);
  return { config, issues: r.issues };
}

/** Exactly one issue, at `path` with `code`; returns its message. */
function oneIssue(params: unknown, path: readonly (string | number)[], code: string, instances = INSTANCES): string {
  const { config, issues } = issuesOf(params, instances);
  expect(issues.map((i) => ({ path: i.path, code: i.code }))).toEqual([{ path, code }]);
  expect(config).toBeUndefined();
  return issues[0]?.message ?? '';
}

describe('prometheus config', () => {
  it('accepts the Istio 1.4 default handler params', () => {
    const cfg = mustParse(defaultHandlerParams(), DEFAULT_INSTANCES);
    expect(cfg.metrics.map((m) => m.fullName)).toEqual([
      'istio_requests_total',
      'istio_request_duration_seconds',
      'istio_request_bytes',
      'istio_response_bytes',
      'istio_tcp_sent_bytes_total',
      'istio_tcp_received_bytes_total',
      'istio_tcp_connections_opened_total',
      'istio_tcp_connections_closed_total',
    ]);
    expect(cfg.metrics[1]?.upperBounds).toEqual([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    expect(cfg.metrics[2]?.upperBounds).toEqual([1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8]);
    expect(cfg.expiry).toEqual({ ttlNs: 600e9, checkIntervalNs: 300e9 });
  });

  it('accepts lowerCamelCase and snake_case keys alike, as jsonpb does', () => {
    const snake = mustParse(
      {
        metrics_expiration_policy: { metrics_expiry_duration: '10m', expiry_check_interval_duration: '1m' },
        metrics: [histogram({ buckets: { exponential_buckets: { num_finite_buckets: 3, growth_factor: 2, scale: 0.5 } } })],
      },
      INSTANCES,
    );
    const camel = mustParse(
      {
        metricsExpirationPolicy: { metricsExpiryDuration: '10m', expiryCheckIntervalDuration: '1m' },
        metrics: [
          {
            name: 'request_duration_seconds',
            instanceName: DURATION.name,
            kind: 'DISTRIBUTION',
            labelNames: ['reporter'],
            buckets: { exponentialBuckets: { numFiniteBuckets: 3, growthFactor: 2, scale: 0.5 } },
          },
        ],
      },
      INSTANCES,
    );
    expect(camel).toEqual(snake);
    expect(camel.metrics[0]?.upperBounds).toEqual([0.5, 1, 2, 4]);
    expect(camel.expiry).toEqual({ ttlNs: 600e9, checkIntervalNs: 60e9 });
  });

  it('treats empty or null params as no metrics and no expiry', () => {
    expect(mustParse(null, INSTANCES)).toEqual({ metrics: [], expiry: undefined, maxSeries: 100_000 });
    expect(mustParse({}, INSTANCES)).toEqual({ metrics: [], expiry: undefined, maxSeries: 100_000 });
  });

  it('names a metric without a name after its instance and uses the name as HELP', () => {
    const cfg = mustParse({ metrics: [counter({ name: '' })] }, INSTANCES);
    expect(cfg.metrics[0]?.fullName).toBe('istio_requestcount_instance_istiosystem');
    expect(cfg.metrics[0]?.help).toBe('requestcount.instance.istio-system');
    const described = mustParse({ metrics: [counter({ namespace: 'my-mesh', description: 'All requests.' })] }, INSTANCES);
    expect(described.metrics[0]?.fullName).toBe('mymesh_requests_total');
    expect(described.metrics[0]?.help).toBe('All requests.');
  });

  it('accepts kinds given by enum number', () => {
    const cfg = mustParse({ metrics: [counter({ kind: 2 }), histogram({ kind: 3 })] }, INSTANCES);
    expect(cfg.metrics.map((m) => m.kind)).toEqual(['COUNTER', 'DISTRIBUTION']);
  });

  it('lets two instances feed one family when the definitions are identical', () => {
    const other = spec('requestcount2.instance.istio-system', ValueType.INT64, ['reporter', ['response_code', ValueType.INT64]]);
    const cfg = mustParse({ metrics: [counter(), counter({ instance_name: other.name })] }, [...INSTANCES, other]);
    expect(cfg.metrics.map((m) => m.fullName)).toEqual(['istio_requests_total', 'istio_requests_total']);
  });

  describe('reports', () => {
    it('a params value that is not a mapping', () => {
      oneIssue(['metrics'], [], 'PROM_FIELD_TYPE');
    });

    it('an unknown field at its path', () => {
      const msg = oneIssue({ metrics: [counter({ colour: 'red' })] }, ['metrics', 0, 'colour'], 'PROM_UNKNOWN_FIELD');
      expect(msg).toContain('colour');
    });

    it('an unknown top-level field', () => {
      oneIssue({ metrics: [], expiry: '10m' }, ['expiry'], 'PROM_UNKNOWN_FIELD');
    });

    it('the same field given in both spellings', () => {
      oneIssue({ metrics: [counter({ instanceName: COUNT.name })] }, ['metrics', 0, 'instanceName'], 'PROM_DUPLICATE_FIELD');
    });

    it('a field of the wrong type', () => {
      oneIssue({ metrics: [counter({ name: 42 })] }, ['metrics', 0, 'name'], 'PROM_FIELD_TYPE');
      oneIssue({ metrics: [counter({ label_names: ['reporter', 7] })] }, ['metrics', 0, 'label_names', 1], 'PROM_FIELD_TYPE');
      oneIssue({ metrics: { first: counter() } }, ['metrics'], 'PROM_FIELD_TYPE');
    });

    it('a missing kind at the metric', () => {
      const m = counter();
      delete m.kind;
      oneIssue({ metrics: [m] }, ['metrics', 0], 'PROM_KIND');
    });

    it('an unsupported kind at the kind', () => {
      oneIssue({ metrics: [counter({ kind: 'HISTOGRAM' })] }, ['metrics', 0, 'kind'], 'PROM_KIND');
      oneIssue({ metrics: [counter({ kind: 'UNSPECIFIED' })] }, ['metrics', 0, 'kind'], 'PROM_KIND');
      oneIssue({ metrics: [counter({ kind: 0 })] }, ['metrics', 0, 'kind'], 'PROM_KIND');
      oneIssue({ metrics: [counter({ kind: 'counter' })] }, ['metrics', 0, 'kind'], 'PROM_KIND');
    });

    it('an instance routed here that no metric exports, naming the instance_name values that matched nothing', () => {
      const r = collectIssues();
      const config = parseConfig({ metrics: [counter({ instance_name: 'requestcount' })] }, [COUNT], r);
      expect(config).toBeUndefined();
      expect(r.issues.map((i) => [i.path, i.code])).toEqual([[['metrics'], 'PROM_UNKNOWN_INSTANCE']]);
      expect(r.issues[0]!.message).toContain('"requestcount.instance.istio-system" is sent to this handler by a rule but no metric exports it');
      expect(r.issues[0]!.message).toContain('unmatched instance_name values: requestcount');
      // The metric itself only earns a warning: as in Mixer, an unrouted metric just has no series.
      expect(r.warnings.map((w) => [w.path, w.code])).toEqual([[['metrics', 0, 'instance_name'], 'PROM_UNKNOWN_INSTANCE']]);
    });

    it('no error, only a warning, for a metric whose instance no rule sends here', () => {
      const r = collectIssues();
      const config = parseConfig({ metrics: [counter(), histogram()] }, [COUNT], r);
      expect(r.issues).toEqual([]);
      expect(config?.metrics.map((m) => m.fullName)).toEqual(['istio_requests_total']);
      expect(r.warnings[0]!.message).toContain('"requestduration.instance.istio-system" is not sent to this handler by any rule');
    });

    it('a missing instance_name', () => {
      const m = counter();
      delete m.instance_name;
      oneIssue({ metrics: [m] }, ['metrics', 0], 'PROM_UNKNOWN_INSTANCE');
    });

    it('one instance exported by two metrics', () => {
      oneIssue({ metrics: [counter(), counter({ name: 'again_total' })] }, ['metrics', 1, 'instance_name'], 'PROM_DUPLICATE_INSTANCE');
    });

    it('an instance whose value can never be a number', () => {
      const flag = spec('flag.instance.istio-system', ValueType.BOOL, []);
      const msg = oneIssue(
        { metrics: [{ name: 'flag', instance_name: flag.name, kind: 'GAUGE' }] },
        ['metrics', 0, 'instance_name'],
        'PROM_VALUE_TYPE',
        [flag],
      );
      expect(msg).toContain('BOOL');
    });

    it('labels that do not match the dimensions, naming the missing and extra ones', () => {
      const msg = oneIssue(
        { metrics: [counter({ label_names: ['reporter', 'source_app'] })] },
        ['metrics', 0, 'label_names'],
        'PROM_LABELS_MISMATCH',
      );
      expect(msg).toContain('dimensions without a label: response_code');
      expect(msg).toContain('labels without a dimension: source_app');
    });

    it('a dimension that safeName would rewrite, so no label can ever match it', () => {
      const dashed = spec('dashed.instance.istio-system', ValueType.INT64, ['source-app']);
      const msg = oneIssue(
        { metrics: [{ name: 'dashed', instance_name: dashed.name, kind: 'COUNTER', label_names: ['source-app'] }] },
        ['metrics', 0, 'label_names'],
        'PROM_LABELS_MISMATCH',
        [dashed],
      );
      expect(msg).toContain('labels without a dimension: sourceapp');
      expect(msg).toContain('safeName');
    });

    it('an invalid or reserved label name at its index', () => {
      const s = spec('x.instance.ns', ValueType.INT64, ['9lives']);
      oneIssue({ metrics: [{ name: 'x', instance_name: s.name, kind: 'GAUGE', label_names: ['9lives'] }] }, ['metrics', 0, 'label_names', 0], 'PROM_LABEL_NAME', [s]);
      const r = spec('r.instance.ns', ValueType.INT64, ['__name']);
      oneIssue({ metrics: [{ name: 'r', instance_name: r.name, kind: 'GAUGE', label_names: ['__name'] }] }, ['metrics', 0, 'label_names', 0], 'PROM_LABEL_NAME', [r]);
      const h = spec('h.instance.ns', ValueType.DOUBLE, ['le']);
      oneIssue({ metrics: [{ name: 'h', instance_name: h.name, kind: 'DISTRIBUTION', label_names: ['le'] }] }, ['metrics', 0, 'label_names', 0], 'PROM_LABEL_NAME', [h]);
    });

    it('label names that collide after safeName', () => {
      const s = spec('x.instance.ns', ValueType.INT64, ['ab']);
      const { issues } = issuesOf({ metrics: [{ name: 'x', instance_name: s.name, kind: 'GAUGE', label_names: ['ab', 'a-b'] }] }, [s]);
      expect(issues.map((i) => [i.path, i.code])).toContainEqual([['metrics', 0, 'label_names', 1], 'PROM_LABEL_NAME']);
    });

    it('an invalid metric name at the name or the namespace', () => {
      oneIssue({ metrics: [counter({ name: 'requests:total!' })] }, ['metrics', 0, 'name'], 'PROM_METRIC_NAME');
      oneIssue({ metrics: [counter({ namespace: '9mesh' })] }, ['metrics', 0, 'namespace'], 'PROM_METRIC_NAME');
    });

    it('two different metrics with the same name', () => {
      const other = spec('other.instance.istio-system', ValueType.INT64, ['reporter', ['response_code', ValueType.INT64]]);
      const msg = oneIssue(
        { metrics: [counter(), counter({ instance_name: other.name, kind: 'GAUGE' })] },
        ['metrics', 1, 'name'],
        'PROM_NAME_CONFLICT',
        [...INSTANCES, other],
      );
      expect(msg).toContain('metrics[0]');
      expect(msg).toContain('with kind COUNTER; here GAUGE');
    });

    it('a histogram and a metric named like its _bucket, _sum or _count series, at the later of the two', () => {
      const other = spec('other.instance.istio-system', ValueType.INT64, ['reporter', ['response_code', ValueType.INT64]]);
      const instances = [...INSTANCES, other];
      const named = (name: string) => counter({ name, instance_name: other.name, kind: 'GAUGE' });
      // Exposed side by side, `istio_request_duration_seconds_count 3` would follow the histogram's own _count line.
      const after = oneIssue({ metrics: [histogram(), named('request_duration_seconds_count')] }, ['metrics', 1, 'name'], 'PROM_NAME_CONFLICT', instances);
      expect(after).toBe(
        'metric "istio_request_duration_seconds_count" has the name of the _count series of histogram "istio_request_duration_seconds" defined by metrics[0]: the two cannot both be exposed (their samples would share one name: promtool rejects such an exposition, and Prometheus drops one of two samples with the same labels); rename one',
      );
      const before = oneIssue({ metrics: [named('request_duration_seconds_bucket'), histogram()] }, ['metrics', 1, 'name'], 'PROM_NAME_CONFLICT', instances);
      expect(before).toContain('metric "istio_request_duration_seconds" is a histogram whose _bucket series has the name of metric "istio_request_duration_seconds_bucket" defined by metrics[0]');
      oneIssue({ metrics: [histogram(), named('request_duration_seconds_sum')] }, ['metrics', 1, 'name'], 'PROM_NAME_CONFLICT', instances);
      // Only a histogram's series clash: a gauge or counter may be named like another metric plus _count.
      mustParse({ metrics: [counter({ name: 'requests' }), named('requests_count')] }, instances);
      mustParse({ metrics: [histogram(), named('request_duration_seconds_total')] }, instances);
    });

    it('explicit bounds that are not strictly increasing', () => {
      const msg = oneIssue(
        { metrics: [histogram({ buckets: { explicit_buckets: { bounds: [0.1, 0.5, 0.5, 1] } } })] },
        ['metrics', 0, 'buckets', 'explicit_buckets', 'bounds'],
        'PROM_BUCKETS',
      );
      expect(msg).toContain('strictly increasing');
      oneIssue(
        { metrics: [histogram({ buckets: { explicitBuckets: { bounds: [1, 'two'] } } })] },
        ['metrics', 0, 'buckets', 'explicitBuckets', 'bounds', 1],
        'PROM_FIELD_TYPE',
      );
    });

    it('more than one bucket definition', () => {
      oneIssue(
        {
          metrics: [
            histogram({
              buckets: {
                linear_buckets: { num_finite_buckets: 2, width: 1, offset: 0 },
                explicit_buckets: { bounds: [1] },
              },
            }),
          ],
        },
        ['metrics', 0, 'buckets'],
        'PROM_BUCKETS',
      );
    });

    it('unusable linear and exponential parameters at the offending field', () => {
      const at = (kind: string, field: string): (string | number)[] => ['metrics', 0, 'buckets', kind, field];
      oneIssue({ metrics: [histogram({ buckets: { linear_buckets: { num_finite_buckets: 3, width: 0, offset: 1 } } })] }, at('linear_buckets', 'width'), 'PROM_BUCKETS');
      oneIssue({ metrics: [histogram({ buckets: { linear_buckets: { num_finite_buckets: -1, width: 1 } } })] }, at('linear_buckets', 'num_finite_buckets'), 'PROM_BUCKETS');
      oneIssue({ metrics: [histogram({ buckets: { exponential_buckets: { num_finite_buckets: 3, growth_factor: 1, scale: 1 } } })] }, at('exponential_buckets', 'growth_factor'), 'PROM_BUCKETS');
      oneIssue({ metrics: [histogram({ buckets: { exponential_buckets: { num_finite_buckets: 3, growth_factor: 2, scale: 0 } } })] }, at('exponential_buckets', 'scale'), 'PROM_BUCKETS');
      oneIssue({ metrics: [histogram({ buckets: { exponential_buckets: { num_finite_buckets: 1e6, growth_factor: 2, scale: 1 } } })] }, at('exponential_buckets', 'num_finite_buckets'), 'PROM_BUCKETS');
      oneIssue({ metrics: [histogram({ buckets: { linear_buckets: { num_finite_buckets: 1.5, width: 1 } } })] }, at('linear_buckets', 'num_finite_buckets'), 'PROM_FIELD_TYPE');
      oneIssue({ metrics: [histogram({ buckets: { linear_buckets: { num_finite_buckets: 2, width: 1, slope: 2 } } })] }, at('linear_buckets', 'slope'), 'PROM_UNKNOWN_FIELD');
    });

    it('exponential bounds that overflow to infinity', () => {
      oneIssue(
        { metrics: [histogram({ buckets: { exponential_buckets: { num_finite_buckets: 5, growth_factor: 1e100, scale: 1e100 } } })] },
        ['metrics', 0, 'buckets', 'exponential_buckets'],
        'PROM_BUCKETS',
      );
    });

    it('a zero, negative or malformed expiry duration', () => {
      const policy = (p: Record<string, unknown>): unknown => ({ metricsExpirationPolicy: p, metrics: [] });
      oneIssue(policy({ metricsExpiryDuration: '0s' }), ['metricsExpirationPolicy', 'metricsExpiryDuration'], 'PROM_EXPIRY');
      oneIssue(policy({ metricsExpiryDuration: '-1m' }), ['metricsExpirationPolicy', 'metricsExpiryDuration'], 'PROM_EXPIRY');
      const msg = oneIssue(policy({ metricsExpiryDuration: '10 minutes' }), ['metricsExpirationPolicy', 'metricsExpiryDuration'], 'PROM_EXPIRY');
      expect(msg).toContain('10 minutes');
      oneIssue(policy({ metricsExpiryDuration: 600 }), ['metricsExpirationPolicy', 'metricsExpiryDuration'], 'PROM_FIELD_TYPE');
      oneIssue(policy({}), ['metricsExpirationPolicy'], 'PROM_EXPIRY');
      oneIssue(
        policy({ metricsExpiryDuration: '10m', expiryCheckIntervalDuration: '-1s' }),
        ['metricsExpirationPolicy', 'expiryCheckIntervalDuration'],
        'PROM_EXPIRY',
      );
    });

    it('every problem, not just the first', () => {
      const { issues } = issuesOf({
        metrics: [counter({ kind: 'BOGUS' }), histogram({ label_names: [] }), counter({ instance_name: 'nope', name: 'n_total' })],
        metricsExpirationPolicy: { metricsExpiryDuration: '0s' },
      });
      expect(issues.map((i) => i.code)).toEqual(['PROM_KIND', 'PROM_LABELS_MISMATCH', 'PROM_EXPIRY']);
    });
  });

  it('ignores bucket arithmetic on metrics that are not distributions, as Mixer did', () => {
    const cfg = mustParse({ metrics: [counter({ buckets: { linear_buckets: { num_finite_buckets: 3, width: 0 } } })] }, INSTANCES);
    expect(cfg.metrics[0]?.upperBounds).toEqual([]);
  });
});

describe('prometheus cardinality caps', () => {
  it('default to 10,000 series per metric and 100,000 per handler, and can be set per metric and per handler', () => {
    const defaults = mustParse({ metrics: [counter()] }, INSTANCES);
    expect(defaults.maxSeries).toBe(100_000);
    expect(defaults.metrics[0]?.maxSeries).toBe(10_000);
    const set = mustParse({ max_series: 500, metrics: [counter({ maxSeries: 50 })] }, INSTANCES);
    expect(set.maxSeries).toBe(500);
    expect(set.metrics[0]?.maxSeries).toBe(50);
  });

  it('reject a cap below 1 at its path', () => {
    oneIssue({ metrics: [counter({ max_series: 0 })] }, ['metrics', 0, 'max_series'], 'PROM_MAX_SERIES');
  });
});
