/**
 * Every expression of the Istio 1.4 default telemetry configuration (spec §5.6) compiles with the type
 * Mixer gives it, against the vocabulary of the config's own attributemanifests, and evaluates as
 * Mixer would on representative bags.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { AttributeManifest } from '../../../src/core/attributes/manifest.js';
import type { AttributeValue } from '../../../src/core/attributes/value.js';
import { ValueType, valueTypeFromName } from '../../../src/core/attributes/value-type.js';
import { compileExpression, ExprEvalError } from '../../../src/core/expr/index.js';
import { bagOf, compileOk, stringMap } from './helpers.js';

const DATA = new URL('../../../../shared/data/', import.meta.url);

interface Resource {
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec: Record<string, unknown>;
}

function load(file: string): Resource[] {
  return parseAllDocuments(readFileSync(new URL(file, DATA), 'utf8'))
    .map((d) => d.toJS() as Resource | null)
    .filter((r): r is Resource => r !== null);
}

function manifestFrom(resources: readonly Resource[]): AttributeManifest {
  const attrs = resources
    .filter((r) => r.kind === 'attributemanifest')
    .flatMap((r) => Object.entries(r.spec['attributes'] as Record<string, { valueType: string }>))
    .map(([name, info]) => {
      const type = valueTypeFromName(info.valueType);
      if (type === undefined) throw new Error(`bad valueType ${info.valueType}`);
      return { name, type, description: '' };
    });
  return new AttributeManifest(attrs);
}

const resources = load('mixer-default-telemetry-config-1.4.yaml');
const manifest = manifestFrom(resources);
const instances = resources.filter((r) => r.kind === 'instance');
const rules = resources.filter((r) => r.kind === 'rule');

const VALUE_TYPES: Readonly<Record<string, ValueType>> = {
  requestcount: ValueType.INT64,
  requestduration: ValueType.DURATION,
  requestsize: ValueType.INT64,
  responsesize: ValueType.INT64,
  tcpbytesent: ValueType.INT64,
  tcpbytereceived: ValueType.INT64,
  tcpconnectionsopened: ValueType.INT64,
  tcpconnectionsclosed: ValueType.INT64,
};

function params(r: Resource): Record<string, unknown> {
  return r.spec['params'] as Record<string, unknown>;
}

const dimensionCases = instances.flatMap((r) =>
  Object.entries(params(r)['dimensions'] as Record<string, string>).map(
    ([dim, text]) => [r.metadata.name, dim, text, dim === 'response_code' ? ValueType.INT64 : ValueType.STRING] as const,
  ),
);

describe('the Istio 1.4 default telemetry config', () => {
  it('has the two manifests (90 attributes), eight instances and four rules the spec describes', () => {
    expect(manifest.size).toBe(90);
    expect(instances).toHaveLength(8);
    expect(rules).toHaveLength(4);
  });

  it.each(instances.map((r) => [r.metadata.name, params(r)['value'] as string] as const))(
    'instance %s: value `%s` compiles with the metric value type',
    (name, text) => {
      expect(ValueType[compileOk(text, manifest).type]).toBe(ValueType[VALUE_TYPES[name]!]);
    },
  );

  it.each(dimensionCases)('instance %s: dimension %s `%s` compiles to %s', (_instance, _dim, text, type) => {
    expect(compileOk(text, manifest).type).toBe(type);
  });

  it.each(instances.map((r) => [r.metadata.name, params(r)['monitored_resource_type'] as string] as const))(
    'instance %s: monitored_resource_type `%s` is a STRING constant',
    (_name, text) => {
      const e = compileOk(text, manifest);
      expect(e.type).toBe(ValueType.STRING);
      expect(e.evaluate(bagOf(manifest, {}))).toBe('UNSPECIFIED');
    },
  );

  it.each(rules.map((r) => [r.metadata.name, r.spec['match'] as string] as const))(
    'rule %s: match `%s` compiles to BOOL',
    (_name, text) => {
      expect(compileOk(text, manifest).type).toBe(ValueType.BOOL);
    },
  );
});

function dimension(name: string): (values: Readonly<Record<string, AttributeValue>>) => AttributeValue {
  const text = params(instances.find((r) => r.metadata.name === 'requestcount')!)['dimensions'] as Record<string, string>;
  const e = compileOk(text[name]!, manifest);
  return (values) => e.evaluate(bagOf(manifest, values));
}

describe('evaluating the default config on sample reports', () => {
  const promhttp = compileOk(rules.find((r) => r.metadata.name === 'promhttp')!.spec['match'] as string, manifest);
  const matchHttp = (values: Readonly<Record<string, AttributeValue>>): AttributeValue =>
    promhttp.evaluate(bagOf(manifest, values));

  it('promhttp matches HTTP and gRPC traffic', () => {
    expect(matchHttp({ 'context.protocol': 'http' })).toBe(true);
    expect(matchHttp({ 'context.protocol': 'grpc', 'request.useragent': 'curl/7.64' })).toBe(true);
  });

  it('promhttp skips kube-probe and Prometheus scrapes, and TCP', () => {
    expect(matchHttp({ 'context.protocol': 'http', 'request.useragent': 'kube-probe/1.15' })).toBe(false);
    expect(matchHttp({ 'context.protocol': 'http', 'request.useragent': 'Prometheus/2.12.0' })).toBe(false);
    expect(matchHttp({ 'context.protocol': 'tcp' })).toBe(false);
  });

  it('promhttp fails to evaluate (so does not match) without context.protocol', () => {
    expect(() => matchHttp({})).toThrow(new ExprEvalError("lookup failed: 'context.protocol'"));
  });

  it('the TCP connection rules distinguish open and close events', () => {
    const open = compileOk(rules.find((r) => r.metadata.name === 'promtcpconnectionopen')!.spec['match'] as string, manifest);
    const bag = (event?: string): ReturnType<typeof bagOf> =>
      bagOf(manifest, { 'context.protocol': 'tcp', ...(event === undefined ? {} : { 'connection.event': event }) });
    expect(open.evaluate(bag('open'))).toBe(true);
    expect(open.evaluate(bag('close'))).toBe(false);
    expect(open.evaluate(bag())).toBe(false);
  });

  it('reporter is "destination" unless the proxy reports outbound', () => {
    const reporter = dimension('reporter');
    expect(reporter({})).toBe('destination');
    expect(reporter({ 'context.reporter.kind': 'inbound' })).toBe('destination');
    expect(reporter({ 'context.reporter.kind': 'outbound' })).toBe('source');
  });

  it('source_app reads the app label, "unknown" without labels or without that label', () => {
    const sourceApp = dimension('source_app');
    expect(sourceApp({ 'source.labels': stringMap({ app: 'productpage' }) })).toBe('productpage');
    expect(sourceApp({ 'source.labels': stringMap({ version: 'v1' }) })).toBe('unknown');
    expect(sourceApp({})).toBe('unknown');
  });

  it('destination_service falls back to request.host only when the service name is known', () => {
    const service = dimension('destination_service');
    expect(service({ 'destination.service.host': 'reviews.default.svc.cluster.local' })).toBe(
      'reviews.default.svc.cluster.local',
    );
    expect(service({})).toBe('unknown');
    expect(service({ 'destination.service.name': 'reviews', 'request.host': 'reviews:9080' })).toBe('reviews:9080');
    expect(() => service({ 'destination.service.name': 'reviews' })).toThrow("lookup failed: 'request.host'");
  });

  it('request_protocol prefers api.protocol, then context.protocol', () => {
    const protocol = dimension('request_protocol');
    expect(protocol({ 'context.protocol': 'grpc' })).toBe('grpc');
    expect(protocol({ 'api.protocol': 'http', 'context.protocol': 'grpc' })).toBe('http');
    expect(protocol({})).toBe('unknown');
  });

  it('response_code defaults to 200 and keeps its INT64 value', () => {
    const code = dimension('response_code');
    expect(code({})).toBe(200);
    expect(code({ 'response.code': 404 })).toBe(404);
  });

  it('connection_security_policy reflects mTLS on inbound reports only', () => {
    const policy = dimension('connection_security_policy');
    expect(policy({ 'connection.mtls': true })).toBe('mutual_tls');
    expect(policy({})).toBe('none');
    expect(policy({ 'context.reporter.kind': 'outbound', 'connection.mtls': true })).toBe('unknown');
  });

  it('requestduration reports response.duration, 0 when absent', () => {
    const value = compileOk('response.duration | "0ms"', manifest);
    expect(value.evaluate(bagOf(manifest, { 'response.duration': 12_500_000 }))).toBe(12_500_000);
    expect(value.evaluate(bagOf(manifest, {}))).toBe(0);
  });
});

describe('the complete 1.4 helm config (with stdio and kubernetesenv)', () => {
  const full = load('mixer-default-config-1.4-full.yaml');
  const fullManifest = manifestFrom(full);

  function expressions(value: unknown, path: string): [string, string][] {
    if (typeof value === 'string') return [[path, value]];
    if (value === null || typeof value !== 'object') return [];
    return Object.entries(value).flatMap(([k, v]) => expressions(v, `${path}.${k}`));
  }

  const cases = full
    .filter((r) => r.kind === 'instance')
    .flatMap((r) => expressions(r.spec['params'], r.metadata.name))
    .concat(full.filter((r) => r.kind === 'rule' && typeof r.spec['match'] === 'string').map((r) => [`${r.metadata.name}.match`, r.spec['match'] as string]));

  it.each(cases)('%s `%s` compiles', (_path, text) => {
    const r = compileExpression(text, fullManifest);
    expect(r.ok ? 'ok' : r.errors.map((e) => e.message).join('; ')).toBe('ok');
  });
});
