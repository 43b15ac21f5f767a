import { describe, expect, it } from 'vitest';
import { ValueType } from '../../../src/core/adapter.js';
import {
  CIRCONUS_CODES,
  CIRCONUS_DEFAULTS,
  CirconusMetricType,
  parseCirconusConfig,
  redactUrl,
} from '../../../src/adapters/circonus/index.js';
import { collectingReporter, mustParse, REQUEST_COUNT, REQUEST_DURATION, spec } from './support/fixtures.js';

const URL_OK = 'https://broker.example:43191/module/httptrap/3f5c2a4e-0000-4000-8000-0123456789ab/s3cr3t';
const instances = [REQUEST_COUNT, REQUEST_DURATION];
const bothMetrics = [
  { name: REQUEST_COUNT.name, type: 'COUNTER' },
  { name: REQUEST_DURATION.name, type: 'DISTRIBUTION' },
];

function parse(params: unknown, bound = instances) {
  const report = collectingReporter();
  const config = parseCirconusConfig(params, bound, report);
  return { config, issues: report.issues, warnings: report.warnings };
}

describe('circonus params', () => {
  it("accept Mixer's params in snake_case and lowerCamelCase alike", () => {
    const snake = mustParse({ submission_url: URL_OK, submission_interval: '30s', metrics: bothMetrics }, instances);
    const camel = mustParse({ submissionUrl: URL_OK, submissionInterval: '30s', metrics: bothMetrics }, instances);
    expect(camel).toEqual(snake);
    expect(snake).toMatchObject({
      submissionUrl: URL_OK,
      flushIntervalMs: 30_000,
      requestTimeoutMs: 10_000,
      maxRetries: 3,
      caFile: undefined,
      tlsServerName: undefined,
    });
    expect(snake.metrics).toEqual([
      { name: REQUEST_COUNT.name, type: CirconusMetricType.COUNTER, tagDimensions: ['destination_service', 'response_code'], maxSeries: 25_000 },
      {
        name: REQUEST_DURATION.name,
        type: CirconusMetricType.DISTRIBUTION,
        tagDimensions: ['destination_service', 'response_code'],
        maxSeries: 25_000,
      },
    ]);
  });

  it("default to Mixer's 10s interval, a request timeout of half of it, and cgm's three retries", () => {
    const c = mustParse({ submission_url: URL_OK, metrics: bothMetrics }, instances);
    expect(CIRCONUS_DEFAULTS.submissionInterval).toBe('10s');
    expect(c.flushIntervalMs).toBe(10_000);
    expect(c.requestTimeoutMs).toBe(5_000);
    expect(c.maxRetries).toBe(3);
    expect(c.maxSeries).toBe(100_000);
    expect(c.maxPendingSeries).toBe(100_000);
    expect(c.maxPendingBytes).toBe(32 * 1024 * 1024);
  });

  it('accept every extension knob, in either spelling, numbers also as strings', () => {
    const c = mustParse(
      {
        submissionUrl: URL_OK,
        submission_interval: '1m',
        requestTimeout: '2.5s',
        ca_file: '/etc/circonus/ca.pem',
        tlsServerName: 'broker-1.example',
        max_retries: '5',
        maxSeries: 50,
        max_series_per_metric: '20',
        max_pending_series: 0,
        maxPendingBytes: 1024,
        metrics: [
          { name: REQUEST_COUNT.name, type: 1, dimensions: ['response_code'], maxSeries: 5 },
          { name: REQUEST_DURATION.name, type: 3, dimensions: [] },
        ],
      },
      instances,
    );
    expect(c).toMatchObject({
      flushIntervalMs: 60_000,
      requestTimeoutMs: 2_500,
      caFile: '/etc/circonus/ca.pem',
      tlsServerName: 'broker-1.example',
      maxRetries: 5,
      maxSeries: 50,
      maxPendingSeries: 0,
      maxPendingBytes: 1024,
    });
    expect(c.metrics.map((m) => m.tagDimensions)).toEqual([['response_code'], []]);
    expect(c.metrics.map((m) => m.maxSeries)).toEqual([5, 20]);
  });

  it('report a missing, relative or non-http submission_url at its path', () => {
    expect(parse({ metrics: bothMetrics }).issues).toEqual([
      expect.objectContaining({ path: ['submission_url'], code: CIRCONUS_CODES.submissionUrl }),
    ]);
    expect(parse({ submission_url: '', metrics: bothMetrics }).issues[0]?.message).toMatch(/required/);
    const relative = parse({ submissionUrl: '/module/httptrap/x/y', metrics: bothMetrics });
    expect(relative.config).toBeUndefined();
    expect(relative.issues).toEqual([
      expect.objectContaining({ path: ['submissionUrl'], code: CIRCONUS_CODES.submissionUrl, message: expect.stringMatching(/absolute URL/) }),
    ]);
    const unix = parse({ submission_url: 'http+unix:///var/run/agent.sock/write/app', metrics: bothMetrics });
    expect(unix.issues[0]?.message).toMatch(/unix sockets are not supported/);
    expect(parse({ submission_url: 'ftp://broker/x', metrics: bothMetrics }).issues[0]?.message).toMatch(/http or https/);
    expect(parse({ submission_url: 42, metrics: bothMetrics }).issues[0]).toMatchObject({
      path: ['submission_url'],
      code: CIRCONUS_CODES.fieldType,
    });
  });

  it('reject a submission_interval under one second, as Mixer did', () => {
    const { issues } = parse({ submission_url: URL_OK, submission_interval: '500ms', metrics: bothMetrics });
    expect(issues).toEqual([
      expect.objectContaining({ path: ['submission_interval'], code: CIRCONUS_CODES.submissionInterval, message: expect.stringMatching(/at least 1s/) }),
    ]);
    expect(parse({ submission_url: URL_OK, submissionInterval: '0s', metrics: bothMetrics }).issues[0]?.path).toEqual(['submissionInterval']);
    expect(parse({ submission_url: URL_OK, submission_interval: '10', metrics: bothMetrics }).issues[0]?.message).toMatch(/missing unit/);
    expect(parse({ submission_url: URL_OK, submission_interval: 10, metrics: bothMetrics }).issues[0]?.message).toMatch(/duration string/);
  });

  it('reject a submission_interval longer than a Node.js timer can run, which would flush every millisecond instead', () => {
    expect(mustParse({ submission_url: URL_OK, submission_interval: '596h31m23.647s', metrics: bothMetrics }, instances).flushIntervalMs).toBe(2_147_483_647);
    for (const submission_interval of ['596h31m23.648s', '720h']) {
      expect(parse({ submission_url: URL_OK, submission_interval, metrics: bothMetrics }).issues).toEqual([
        expect.objectContaining({
          path: ['submission_interval'],
          code: CIRCONUS_CODES.submissionInterval,
          message: expect.stringContaining('at most 596h31m23.647s'),
        }),
      ]);
    }
  });

  it('require the request timeout to be shorter than the interval', () => {
    const { issues } = parse({ submission_url: URL_OK, submission_interval: '5s', request_timeout: '5s', metrics: bothMetrics });
    expect(issues).toEqual([
      expect.objectContaining({ path: ['request_timeout'], code: CIRCONUS_CODES.requestTimeout, message: expect.stringMatching(/shorter than the submission interval/) }),
    ]);
    expect(parse({ submission_url: URL_OK, request_timeout: '0s', metrics: bothMetrics }).issues[0]?.code).toBe(CIRCONUS_CODES.requestTimeout);
  });

  it('report unknown fields with their path, at the top and inside metrics entries', () => {
    const { config, issues } = parse({
      submission_url: URL_OK,
      submision_interval: '10s',
      metrics: [{ name: REQUEST_COUNT.name, type: 'COUNTER', label_names: ['x'] }, bothMetrics[1]],
    });
    expect(config).toBeUndefined();
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      [['submision_interval'], CIRCONUS_CODES.unknownField],
      [['metrics', 0, 'label_names'], CIRCONUS_CODES.unknownField],
    ]);
    expect(issues[0]?.message).toMatch(/known fields: submission_url, submission_interval/);
  });

  it('report a field given under both spellings', () => {
    const { issues } = parse({ submission_url: URL_OK, submissionUrl: URL_OK, metrics: bothMetrics });
    expect(issues).toEqual([expect.objectContaining({ path: ['submissionUrl'], code: CIRCONUS_CODES.duplicateField })]);
  });

  it('require a metrics entry for every bound instance and a bound instance for every entry', () => {
    const { config, issues } = parse({
      submission_url: URL_OK,
      metrics: [
        { name: REQUEST_COUNT.name, type: 'COUNTER' },
        { name: 'requestcount.instance.default', type: 'COUNTER' },
      ],
    });
    expect(config).toBeUndefined();
    expect(issues).toEqual([
      expect.objectContaining({
        path: ['metrics', 1, 'name'],
        code: CIRCONUS_CODES.unknownInstance,
        message: expect.stringContaining(`bound instances: ${REQUEST_COUNT.name}, ${REQUEST_DURATION.name}`),
      }),
      expect.objectContaining({
        path: ['metrics'],
        code: CIRCONUS_CODES.missingMetric,
        message: expect.stringContaining(`instance ${REQUEST_DURATION.name} is bound to this handler but has no metrics entry`),
      }),
    ]);
    expect(parse({ submission_url: URL_OK }).issues.map((i) => [i.path, i.code])).toEqual([
      [['metrics'], CIRCONUS_CODES.missingMetric],
      [['metrics'], CIRCONUS_CODES.missingMetric],
    ]);
  });

  it('report a second entry for the same instance and entries without a name or type', () => {
    const { issues } = parse({
      submission_url: URL_OK,
      metrics: [...bothMetrics, { name: REQUEST_COUNT.name, type: 'GAUGE' }, { type: 'GAUGE' }, { name: REQUEST_COUNT.name }],
    });
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      [['metrics', 2, 'name'], CIRCONUS_CODES.duplicateMetric],
      [['metrics', 3, 'name'], CIRCONUS_CODES.unknownInstance],
      [['metrics', 4, 'type'], CIRCONUS_CODES.metricType],
      [['metrics', 4, 'name'], CIRCONUS_CODES.duplicateMetric],
    ]);
  });

  it('reject type UNKNOWN and names that are no type', () => {
    const { issues } = parse({
      submission_url: URL_OK,
      metrics: [
        { name: REQUEST_COUNT.name, type: 'UNKNOWN' },
        { name: REQUEST_DURATION.name, type: 'HISTOGRAM' },
      ],
    });
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      [['metrics', 0, 'type'], CIRCONUS_CODES.metricType],
      [['metrics', 1, 'type'], CIRCONUS_CODES.metricType],
    ]);
    expect(issues[1]?.message).toMatch(/COUNTER, GAUGE or DISTRIBUTION/);
  });

  it('report value types a metric type cannot carry, and accept a counter without a value', () => {
    const path = spec('path.instance.istio-system', ValueType.STRING);
    const flag = spec('flag.instance.istio-system', ValueType.BOOL);
    const hits = spec('hits.instance.istio-system', ValueType.VALUE_TYPE_UNSPECIFIED);
    const lastSeen = spec('lastseen.instance.istio-system', ValueType.TIMESTAMP);
    const { issues } = parse(
      {
        submission_url: URL_OK,
        metrics: [
          { name: path.name, type: 'COUNTER' },
          { name: flag.name, type: 'GAUGE' },
          { name: hits.name, type: 'COUNTER' },
          { name: lastSeen.name, type: 'DISTRIBUTION' },
        ],
      },
      [path, flag, hits, lastSeen],
    );
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      [['metrics', 0, 'type'], CIRCONUS_CODES.valueType],
      [['metrics', 1, 'type'], CIRCONUS_CODES.valueType],
      [['metrics', 3, 'type'], CIRCONUS_CODES.valueType],
    ]);
    expect(issues[0]?.message).toBe(
      'COUNTER takes INT64, DOUBLE, no value (counts instances), but instance path.instance.istio-system has a STRING value',
    );
    const gaugeOfDuration = spec('rtt.instance.istio-system', ValueType.DURATION);
    expect(parse({ submission_url: URL_OK, metrics: [{ name: gaugeOfDuration.name, type: 'GAUGE' }] }, [gaugeOfDuration]).issues).toEqual([]);
  });

  it('check the dimensions allow-list against the instance', () => {
    const { issues } = parse({
      submission_url: URL_OK,
      metrics: [
        { name: REQUEST_COUNT.name, type: 'COUNTER', dimensions: ['response_code', 'source_app', 'response_code', 7] },
        { name: REQUEST_DURATION.name, type: 'DISTRIBUTION', dimensions: 'destination_service' },
      ],
    });
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      [['metrics', 0, 'dimensions', 1], CIRCONUS_CODES.unknownDimension],
      [['metrics', 0, 'dimensions', 2], CIRCONUS_CODES.duplicateDimension],
      [['metrics', 0, 'dimensions', 3], CIRCONUS_CODES.fieldType],
      [['metrics', 1, 'dimensions'], CIRCONUS_CODES.fieldType],
    ]);
    expect(issues[0]?.message).toBe(
      `"source_app" is not a dimension of instance ${REQUEST_COUNT.name} (it has destination_service, response_code)`,
    );
  });

  it('reject dimension names that cannot become stream-tag categories', () => {
    const odd = spec('odd.instance.istio-system', ValueType.INT64, { ' \t': ValueType.STRING, ['x'.repeat(255)]: ValueType.STRING });
    const { issues } = parse({ submission_url: URL_OK, metrics: [{ name: odd.name, type: 'COUNTER' }] }, [odd]);
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      [['metrics', 0], CIRCONUS_CODES.tagCategory],
      [['metrics', 0], CIRCONUS_CODES.tagCategory],
    ]);
    expect(issues[0]?.message).toMatch(/empty once whitespace is removed/);
    expect(issues[1]?.message).toMatch(/255 bytes; a stream-tag category may have at most 254/);
    // Listing only the good ones is the fix, and then the path points into the list.
    const listed = parse({ submission_url: URL_OK, metrics: [{ name: odd.name, type: 'COUNTER', dimensions: [' \t'] }] }, [odd]);
    expect(listed.issues.map((i) => i.path)).toEqual([['metrics', 0, 'dimensions', 0]]);
  });

  it('warn, without rejecting, about two dimensions that make the same tag category', () => {
    const s = spec('dup.instance.istio-system', ValueType.INT64, { App: ValueType.STRING, app: ValueType.STRING });
    const { config, issues, warnings } = parse({ submission_url: URL_OK, metrics: [{ name: s.name, type: 'COUNTER' }] }, [s]);
    expect(issues).toEqual([]);
    expect(config).toBeDefined();
    expect(warnings).toEqual([
      {
        path: ['metrics', 0],
        code: CIRCONUS_CODES.tagCategory,
        message: 'dimensions "App" and "app" of dup.instance.istio-system both become stream-tag category "app"; their series carry two "app" tags',
      },
    ]);
  });

  it('warn about plain http beyond this machine, where the secret travels in cleartext', () => {
    const remote = parse({ submission_url: 'http://broker.example:43191/module/httptrap/x/s3cr3t', metrics: bothMetrics });
    expect(remote.config).toBeDefined();
    expect(remote.warnings).toEqual([expect.objectContaining({ path: ['submission_url'], code: CIRCONUS_CODES.submissionUrl })]);
    expect(remote.warnings[0]?.message).not.toMatch(/s3cr3t/);
    expect(parse({ submission_url: 'http://127.0.0.1:2609/write/telemux', metrics: bothMetrics }).warnings).toEqual([]);
  });

  it('allow ca_file and tls_server_name only for https', () => {
    const { issues } = parse({
      submission_url: 'http://127.0.0.1:2609/write/telemux',
      ca_file: '/etc/ca.pem',
      tlsServerName: 'broker',
      metrics: bothMetrics,
    });
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      [['ca_file'], CIRCONUS_CODES.tls],
      [['tlsServerName'], CIRCONUS_CODES.tls],
    ]);
    expect(parse({ submission_url: URL_OK, ca_file: '', metrics: bothMetrics }).issues[0]?.code).toBe(CIRCONUS_CODES.tls);
  });

  it('bound the retry and series limits', () => {
    const { issues } = parse({
      submission_url: URL_OK,
      max_retries: 11,
      max_series: 0,
      maxSeriesPerMetric: 10_000_001,
      max_pending_series: -1,
      max_pending_bytes: 1.5,
      metrics: [{ name: REQUEST_COUNT.name, type: 'COUNTER', max_series: 'lots' }, bothMetrics[1]],
    });
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      [['max_retries'], CIRCONUS_CODES.limit],
      [['max_series'], CIRCONUS_CODES.limit],
      [['maxSeriesPerMetric'], CIRCONUS_CODES.limit],
      [['max_pending_series'], CIRCONUS_CODES.limit],
      [['max_pending_bytes'], CIRCONUS_CODES.fieldType],
      [['metrics', 0, 'max_series'], CIRCONUS_CODES.fieldType],
    ]);
  });

  it('report every problem in one pass', () => {
    const { config, issues } = parse({ submission_url: 'nope', submission_interval: '1ms', max_retries: 'many', metrics: {} });
    expect(config).toBeUndefined();
    expect(issues.map((i) => i.path[0])).toEqual(['submission_url', 'submission_interval', 'max_retries', 'metrics', 'metrics', 'metrics']);
  });

  it('never echo the submission secret in a message', () => {
    const { issues } = parse({ submission_url: `${URL_OK}?token=abc`, request_timeout: '1h', metrics: [bothMetrics[0]] });
    expect(issues.length).toBeGreaterThan(0);
    for (const i of issues) expect(i.message).not.toMatch(/s3cr3t|abc/);
    expect(redactUrl(`${URL_OK}?token=abc`)).toBe('https://broker.example:43191/module/httptrap/3f5c2a4e-0000-4000-8000-0123456789ab/…?…');
    expect(redactUrl('https://user:pw@broker/')).toBe('https://broker/');
  });

  it('treat absent params as empty, which still lacks a submission_url', () => {
    expect(parse(undefined, []).issues.map((i) => i.code)).toEqual([CIRCONUS_CODES.submissionUrl]);
    expect(parse(['x'], []).issues).toEqual([expect.objectContaining({ path: [], code: CIRCONUS_CODES.fieldType })]);
  });
});
