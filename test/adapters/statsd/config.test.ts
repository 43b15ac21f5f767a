import { describe, expect, it } from 'vitest';
import { ValueType } from '../../../src/core/adapter.js';
import {
  parseStatsdAddress,
  parseStatsdConfig,
  STATSD_DEFAULTS,
  StatsdMetricType,
  type StatsdConfig,
} from '../../../src/adapters/statsd/index.js';
import { collectingReporter, spec } from './support/fixtures.js';

const requestCount = spec('requestcount.instance.istio-system', ValueType.INT64, {
  destination_service: ValueType.STRING,
  response_code: ValueType.INT64,
});
const requestDuration = spec('requestduration.instance.istio-system', ValueType.DURATION, {
  destination_service: ValueType.STRING,
});
const instances = [requestCount, requestDuration];

function parse(params: unknown, bound = instances) {
  const report = collectingReporter();
  const config = parseStatsdConfig(params, bound, report);
  return { config, issues: report.issues, warnings: report.warnings };
}

function parseOk(params: unknown): StatsdConfig {
  const { config, issues } = parse(params);
  expect(issues).toEqual([]);
  if (config === undefined) throw new Error('expected a config');
  return config;
}

describe('statsd params', () => {
  it("fall back to Mixer's defaults, except flushBytes, which defaults to 1400", () => {
    const c = parseOk({});
    expect(c.address).toEqual({ host: 'localhost', port: 8125 });
    expect(c.prefix).toBe('');
    expect(c.flushIntervalMs).toBe(300);
    expect(c.flushBytes).toBe(1400);
    expect(c.samplingRate).toBe(1);
    expect(c.metrics).toEqual([]);
    expect(STATSD_DEFAULTS.flushBytes).toBe(1400);
  });

  it('treat absent params and null fields as unset, as jsonpb does', () => {
    expect(parseOk(undefined).flushBytes).toBe(1400);
    expect(parseOk({ prefix: null, flushBytes: null }).prefix).toBe('');
  });

  it('accept snake_case and lowerCamelCase field names alike', () => {
    const snake = parseOk({
      address: 'statsd.monitoring:9125',
      prefix: 'mesh',
      flush_duration: '1s',
      flush_bytes: 512,
      sampling_rate: 0.5,
      metrics: { 'requestcount.instance.istio-system': { type: 'COUNTER', name_template: '{{.destination_service}}' } },
    });
    const camel = parseOk({
      address: 'statsd.monitoring:9125',
      prefix: 'mesh',
      flushDuration: '1s',
      flushBytes: 512,
      samplingRate: 0.5,
      metrics: { 'requestcount.instance.istio-system': { type: 'COUNTER', nameTemplate: '{{.destination_service}}' } },
    });
    expect(camel).toEqual(snake);
    expect(snake).toMatchObject({
      address: { host: 'statsd.monitoring', port: 9125 },
      prefix: 'mesh',
      flushIntervalMs: 1000,
      flushBytes: 512,
      samplingRate: 0.5,
    });
    expect(snake.metrics[0]).toMatchObject({
      instance: 'requestcount.instance.istio-system',
      type: StatsdMetricType.COUNTER,
      nameTemplate: '{{.destination_service}}',
    });
  });

  it('report unknown fields with their path, at the top level and inside a metric', () => {
    const { config, issues } = parse({
      adress: 'x:1',
      metrics: { 'requestcount.instance.istio-system': { type: 'COUNTER', name: 'x' } },
    });
    expect(config).toBeUndefined();
    expect(issues).toEqual([
      expect.objectContaining({ path: ['adress'], code: 'CFG_UNKNOWN_FIELD' }),
      expect.objectContaining({ path: ['metrics', 'requestcount.instance.istio-system', 'name'], code: 'CFG_UNKNOWN_FIELD' }),
    ]);
    expect(issues[0]?.message).toContain('address, prefix, flush_duration, flush_bytes, sampling_rate, metrics');
  });

  it('report a field given under both spellings', () => {
    const { issues } = parse({ flush_bytes: 512, flushBytes: 1024 });
    expect(issues).toEqual([expect.objectContaining({ path: ['flushBytes'], code: 'CFG_DUPLICATE' })]);
  });

  it('take flushDuration as a Go duration; 0 means the default and a negative one is an error', () => {
    expect(parseOk({ flushDuration: '1m30s' }).flushIntervalMs).toBe(90_000);
    expect(parseOk({ flushDuration: '250ms' }).flushIntervalMs).toBe(250);
    expect(parseOk({ flushDuration: '0' }).flushIntervalMs).toBe(300);
    expect(parseOk({ flushDuration: '10us' }).flushIntervalMs).toBe(1);
    expect(parse({ flushDuration: '-1s' }).issues).toEqual([expect.objectContaining({ path: ['flushDuration'] })]);
    expect(parse({ flushDuration: 'soon' }).issues[0]?.message).toContain('time: invalid duration "soon"');
    expect(parse({ flushDuration: 300 }).issues[0]?.message).toContain('Go duration string');
  });

  it('refuse a flushDuration longer than a Node.js timer can run, which would flush every millisecond instead', () => {
    expect(parseOk({ flushDuration: '596h31m23.647s' }).flushIntervalMs).toBe(2_147_483_647);
    for (const flushDuration of ['596h31m23.648s', '600h', '2562047h']) {
      expect(parse({ flushDuration }).issues).toEqual([
        expect.objectContaining({ path: ['flushDuration'], message: expect.stringContaining('at most 596h31m23.647s') }),
      ]);
    }
  });

  it('take flushBytes from a number or numeric string; 0 means the default; negative or over 65507 is an error', () => {
    expect(parseOk({ flushBytes: '512' }).flushBytes).toBe(512);
    expect(parseOk({ flushBytes: 0 }).flushBytes).toBe(1400);
    expect(parse({ flushBytes: -1 }).issues).toHaveLength(1);
    expect(parse({ flushBytes: 65_508 }).issues[0]?.message).toContain('largest UDP payload');
    expect(parse({ flushBytes: 1.5 }).issues).toHaveLength(1);
    expect(parse({ flushBytes: 'lots' }).issues[0]?.message).toContain('must be a number');
  });

  it('require samplingRate to be a fraction no smaller than 1e-6, telling why 0 is refused', () => {
    expect(parseOk({ samplingRate: '0.25' }).samplingRate).toBe(0.25);
    expect(parseOk({ samplingRate: 1e-6 }).samplingRate).toBe(1e-6);
    expect(parse({ samplingRate: 0 }).issues[0]?.message).toContain('0 would drop every timer sample');
    expect(parse({ samplingRate: 10 }).issues[0]?.message).toContain('fraction');
    expect(parse({ samplingRate: -0.5 }).issues).toHaveLength(1);
    expect(parse({ samplingRate: 1e-7 }).issues).toHaveLength(1);
  });

  it('require address to be host:port, with IPv6 in brackets and an empty host meaning this machine', () => {
    expect(parseStatsdAddress('10.0.0.1:8125')).toEqual({ host: '10.0.0.1', port: 8125 });
    expect(parseStatsdAddress('[::1]:8125')).toEqual({ host: '::1', port: 8125 });
    expect(parseStatsdAddress(':8125')).toEqual({ host: 'localhost', port: 8125 });
    expect(parseStatsdAddress('statsd')).toContain('missing port');
    expect(parseStatsdAddress('::1:8125')).toContain('too many colons');
    expect(parseStatsdAddress('host:0')).toContain('1 to 65535');
    expect(parseStatsdAddress('host:http')).toContain('1 to 65535');
    expect(parse({ address: 'statsd' }).issues).toEqual([expect.objectContaining({ path: ['address'] })]);
  });

  it('take metric types by enum name or number, and refuse UNKNOWN', () => {
    const c = parseOk({
      metrics: {
        'requestcount.instance.istio-system': { type: 2 },
        'requestduration.instance.istio-system': { type: 'DISTRIBUTION' },
      },
    });
    expect(c.metrics.map((m) => m.type)).toEqual([StatsdMetricType.GAUGE, StatsdMetricType.DISTRIBUTION]);
    expect(parse({ metrics: { 'requestcount.instance.istio-system': { type: 'UNKNOWN' } } }).issues).toHaveLength(1);
    expect(parse({ metrics: { 'requestcount.instance.istio-system': { type: 'counter' } } }).issues).toHaveLength(1);
    expect(parse({ metrics: { 'requestcount.instance.istio-system': {} } }).issues[0]?.message).toContain('missing "type"');
  });

  it('refuse, at config time, a value type the metric type cannot send', () => {
    const { issues } = parse({
      metrics: {
        'requestduration.instance.istio-system': { type: 'COUNTER' },
      },
    });
    expect(issues).toEqual([
      expect.objectContaining({ path: ['metrics', 'requestduration.instance.istio-system', 'type'], code: 'CFG_VALUE_TYPE' }),
    ]);
    expect(issues[0]?.message).toContain('send durations as DISTRIBUTION');
    const text = spec('useragent.instance.default', ValueType.STRING);
    expect(parse({ metrics: { 'useragent.instance.default': { type: 'GAUGE' } } }, [text]).issues[0]?.message).toContain(
      'GAUGE needs INT64 or DOUBLE, but instance useragent.instance.default has a STRING value',
    );
  });

  it('accept DOUBLE counters and gauges, and INT64 or DOUBLE distributions', () => {
    const bytes = spec('requestsize.instance.istio-system', ValueType.INT64);
    const load = spec('load.instance.istio-system', ValueType.DOUBLE);
    const report = collectingReporter();
    const c = parseStatsdConfig(
      {
        metrics: {
          'requestsize.instance.istio-system': { type: 'DISTRIBUTION' },
          'load.instance.istio-system': { type: 'GAUGE' },
        },
      },
      [bytes, load],
      report,
    );
    expect(report.issues).toEqual([]);
    expect(c?.metrics).toHaveLength(2);
  });

  it('skip with a warning, without failing, metric entries whose key names no instance bound to the handler', () => {
    const { config, issues, warnings } = parse({
      metrics: {
        'requestcount.instance.istio-system': { type: 'COUNTER' },
        'requestduration.instance.istio-system': { type: 'DISTRIBUTION' },
        'tcpbytes.instance.istio-system': { type: 'COUNTER', nameTemplate: '{{.anything}}' },
      },
    });
    expect(issues).toEqual([]);
    expect(config?.metrics.map((m) => m.instance)).toEqual(['requestcount.instance.istio-system', 'requestduration.instance.istio-system']);
    expect(warnings).toEqual([
      expect.objectContaining({ path: ['metrics', 'tcpbytes.instance.istio-system'], code: 'STATSD_UNBOUND_METRIC' }),
    ]);
  });

  it('warn, without failing, about a bound instance that has no metrics entry', () => {
    const { config, issues, warnings } = parse({ metrics: { 'requestcount.instance.istio-system': { type: 'COUNTER' } } });
    expect(issues).toEqual([]);
    expect(config).toBeDefined();
    expect(warnings).toEqual([
      {
        path: ['metrics'],
        code: 'STATSD_UNCONFIGURED_INSTANCE',
        message:
          'instance requestduration.instance.istio-system is bound to this handler but has no entry in "metrics"; its instances will be dropped',
      },
    ]);
  });

  it('reject a name template naming an unknown dimension, giving the column, where Mixer printed <no value>', () => {
    const { config, issues } = parse({
      metrics: {
        'requestcount.instance.istio-system': {
          type: 'COUNTER',
          name_template: 'requests.{{.destination_service}}.{{ .responseCode }}',
        },
      },
    });
    expect(config).toBeUndefined();
    expect(issues).toEqual([
      {
        path: ['metrics', 'requestcount.instance.istio-system', 'name_template'],
        code: 'STATSD_TEMPLATE_UNKNOWN_DIMENSION',
        message:
          'column 38 of "name_template": unknown dimension "responseCode" (the instance\'s dimensions are: destination_service, response_code)',
      },
    ]);
  });

  it('reject template syntax beyond {{.dimension}} with the column of the action', () => {
    const { issues } = parse({
      metrics: { 'requestcount.instance.istio-system': { type: 'COUNTER', nameTemplate: 'a.{{printf "%s" .x}}' } },
    });
    expect(issues).toEqual([expect.objectContaining({ code: 'STATSD_TEMPLATE_SYNTAX' })]);
    expect(issues[0]?.message).toContain('column 3 of "nameTemplate": unsupported action');
    const unclosed = parse({ metrics: { 'requestcount.instance.istio-system': { type: 'COUNTER', nameTemplate: 'a.{{.x' } } });
    expect(unclosed.issues[0]?.message).toContain('unclosed action');
  });

  it('reject characters StatsD cannot carry in the prefix or in literal template text', () => {
    const { issues } = parse({
      prefix: 'mesh:prod',
      metrics: { 'requestcount.instance.istio-system': { type: 'COUNTER', nameTemplate: 'req|{{.response_code}}' } },
    });
    expect(issues).toEqual([
      expect.objectContaining({ path: ['prefix'], code: 'STATSD_ILLEGAL_NAME_TEXT' }),
      expect.objectContaining({ path: ['metrics', 'requestcount.instance.istio-system', 'nameTemplate'], code: 'STATSD_ILLEGAL_NAME_TEXT' }),
    ]);
    expect(issues[0]?.message).toContain('":" at column 5');
    expect(issues[1]?.message).toContain('column 4 of "nameTemplate": literal text contains "|"');
  });

  it('bound series per interval and lines waiting to be resent, by default and as configured per metric', () => {
    const defaults = parseOk({ metrics: { 'requestcount.instance.istio-system': { type: 'COUNTER' } } });
    expect(defaults.maxSeries).toBe(20_000);
    expect(defaults.maxPendingLines).toBe(100_000);
    expect(defaults.metrics[0]?.maxSeries).toBe(10_000);
    const set = parseOk({
      max_series: 500,
      maxSeriesPerMetric: 50,
      max_pending_lines: '0',
      metrics: {
        'requestcount.instance.istio-system': { type: 'COUNTER', maxSeries: 7 },
        'requestduration.instance.istio-system': { type: 'DISTRIBUTION' },
      },
    });
    expect(set.maxSeries).toBe(500);
    expect(set.maxPendingLines).toBe(0);
    expect(set.metrics.map((m) => m.maxSeries)).toEqual([7, 50]);
  });

  it('refuse series and pending limits that are not whole numbers in range, at their path and in the spelling used', () => {
    const { config, issues } = parse({
      maxSeries: 0,
      max_pending_lines: -1,
      metrics: { 'requestcount.instance.istio-system': { type: 'COUNTER', max_series: 1.5 } },
    });
    expect(config).toBeUndefined();
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      [['maxSeries'], '"maxSeries" must be a whole number from 1 to 10000000, got 0'],
      [['max_pending_lines'], '"max_pending_lines" must be a whole number from 0 to 10000000, got -1'],
      [['metrics', 'requestcount.instance.istio-system', 'max_series'], '"max_series" must be a whole number from 1 to 10000000, got 1.5'],
    ]);
  });

  it('report every problem at once rather than stopping at the first', () => {
    const { issues } = parse({
      address: 'nope',
      flushBytes: -5,
      samplingRate: 3,
      extra: true,
      metrics: { 'requestcount.instance.istio-system': { type: 'UNKNOWN', nameTemplate: '{{.nope}}' } },
    });
    expect(issues.length).toBeGreaterThanOrEqual(6);
  });
});
