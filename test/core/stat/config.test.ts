import { describe, expect, it } from 'vitest';
import { createAdapterInventory } from '../../../src/adapters/index.js';
import { compileConfig } from '../../../src/core/config/compile.js';
import { parseConfigText } from '../../../src/core/config/document.js';
import { formatConfigIssue } from '../../../src/core/errors.js';
import { parseStatConfig } from '../../../src/core/stat/config.js';

const MANIFEST = `apiVersion: config.istio.io/v1alpha2
kind: attributemanifest
metadata: {name: attrs}
spec:
  attributes:
    source.workload.name: {valueType: STRING}
    response.code: {valueType: INT64}
    response.duration: {valueType: DURATION}
`;

function config(params: string, dimensions = 'source_workload: source.workload.name | "unknown"', value = 'response.duration | "0ms"'): string {
  return `${MANIFEST}---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: s}
spec:
  compiledTemplate: metric
  params:
    value: ${JSON.stringify(value)}
    dimensions:
      ${dimensions}
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: stat}
spec:
  compiledAdapter: telemuxstat
  params: ${params}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: r}
spec:
  actions: [{handler: stat, instances: [s]}]
`;
}

const ALL_DIMENSIONS = [
  'source_workload: source.workload.name | "unknown"',
  'source_workload_namespace: \'"default"\'',
  'destination_workload: \'"d"\'',
  'destination_workload_namespace: \'"default"\'',
  'destination_service: \'"d.default.svc.cluster.local"\'',
  'response_code: response.code | 200',
].join('\n      ');

function errors(yaml: string): string[] {
  const { documents, issues } = parseConfigText(yaml, 'stat.yaml');
  expect(issues).toEqual([]);
  return compileConfig(documents, { adapters: createAdapterInventory().adapters })
    .issues.filter((i) => i.severity === 'error')
    .map(formatConfigIssue);
}

describe('the telemuxstat handler config', () => {
  it('accepts the defaults when the instance has every dimension the view needs', () => {
    expect(errors(config('{}', ALL_DIMENSIONS))).toEqual([]);
  });

  it('names each missing dimension and a non-DURATION value at the handler params', () => {
    const e = errors(config('{}', 'source_workload: source.workload.name | "unknown"', 'response.code | 0'));
    expect(e.some((x) => /instance 's.instance.istio-system': its value must be a DURATION.*got INT64/.test(x))).toBe(true);
    for (const d of ['source_workload_namespace', 'destination_workload', 'destination_workload_namespace', 'destination_service', 'response_code']) {
      expect(e.some((x) => x.includes(`has no dimension '${d}'`))).toBe(true);
    }
    expect(e.every((x) => /^stat\.yaml:\d+:\d+: /.test(x))).toBe(true);
  });

  it('reports bad params with their positions', () => {
    const e = errors(config('{sliceDuration: 10x, retention: 7s, maxKeys: 0, colour: red}', ALL_DIMENSIONS));
    expect(e).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/stat\.yaml:\d+:\d+: spec\.params\.sliceDuration: 'sliceDuration': time: unknown unit/),
        expect.stringMatching(/spec\.params\.maxKeys: 'maxKeys' must be an integer from 1 to 100000, got number 0/),
        expect.stringMatching(/spec\.params\.colour: unknown field 'colour'/),
      ]),
    );
    expect(errors(config('{sliceDuration: 10s, retention: 15s}', ALL_DIMENSIONS))).toEqual([expect.stringMatching(/'retention' must be a whole multiple of 'sliceDuration' \(10s\), got 15s/)]);
    expect(errors(config('{sliceDuration: 1s, retention: 1h}', ALL_DIMENSIONS))).toEqual([expect.stringMatching(/at most 360 slices, got 3600/)]);
  });

  it('gives no config when an unknown field is its only error, as the adapter contract asks', () => {
    const messages: string[] = [];
    const reporter = { issue: (_path: readonly (string | number)[], message: string) => void messages.push(message), warn: () => undefined };
    expect(parseStatConfig({}, [], reporter)).toBeDefined();
    expect(parseStatConfig({ colour: 'red' }, [], reporter)).toBeUndefined();
    expect(messages).toEqual([expect.stringMatching(/^unknown field 'colour'/)]);
  });
});
