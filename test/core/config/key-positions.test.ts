import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAdapterInventory } from '../../../src/adapters/index.js';
import { compileConfig } from '../../../src/core/config/compile.js';
import { loadConfigPath, parseConfigText, type LoadedSource } from '../../../src/core/config/document.js';
import type { ConfigIssue } from '../../../src/core/errors.js';

/** `line:col path [CODE]` of each issue (warnings marked), in the order reported. */
function positions(loaded: LoadedSource, severity: 'error' | 'any' = 'error'): string[] {
  expect(loaded.issues).toEqual([]);
  return compileConfig(loaded.documents, { adapters: createAdapterInventory().adapters })
    .issues.filter((i) => severity === 'any' || i.severity === 'error')
    .map(show);
}

function show(i: ConfigIssue): string {
  return `${i.at.line}:${i.at.col}${i.severity === 'warning' ? ' warning' : ''} ${i.path} [${i.code}]`;
}

const INSTANCE = `apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: hits, namespace: istio-system}
spec:
  compiledTemplate: metric
  params:
    value: "1"
    dimensions: {response_code: "200"}
`;

/** A handler of `adapter` bound to `hits` by a rule; `params` starts on line 16. */
function handler(adapter: string, params: string): string {
  return `${INSTANCE}---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: h, namespace: istio-system}
spec:
  compiledAdapter: ${adapter}
  params:
${params}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: r, namespace: istio-system}
spec:
  actions: [{handler: h, instances: [hits]}]
`;
}

describe('the file:line:col of an error about a key', () => {
  it('points at an unknown field of a resource spec, not at its value, while a wrong value is still pointed at', () => {
    const yaml = `apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: hits, namespace: istio-system}
spec:
  compiledTemplate: metric
  colour: red
  params:
    value: 1
    dimension:
      response_code: response.code | 200
`;
    expect(positions(parseConfigText(yaml, 'c.yaml'))).toEqual([
      '6:3 spec.colour [CFG_UNKNOWN_FIELD]',
      '8:12 spec.params.value [CFG_FIELD]',
      // The value, a block map, starts on the next line: the key is the only place to point at.
      '9:5 spec.params.dimension [CFG_UNKNOWN_FIELD]',
    ]);
  });

  it('refuses a field given in both spellings, at the second key, where one was silently taken', () => {
    const yaml = `apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: hits, namespace: istio-system}
spec:
  compiled_template: metric
  compiledTemplate: logentry
  params: {value: "1"}
`;
    expect(positions(parseConfigText(yaml, 'c.yaml'))).toEqual(['6:3 spec.compiledTemplate [CFG_DUPLICATE]']);
  });

  it('points at an unknown field in a flow map', () => {
    const yaml = `apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: r, namespace: istio-system}
spec:
  actions: [{handler: h, instances: [], instance: [hits]}]
`;
    expect(positions(parseConfigText(yaml, 'c.yaml'), 'any').filter((l) => l.includes('CFG_UNKNOWN_FIELD'))).toEqual([
      '5:41 spec.actions[0].instance [CFG_UNKNOWN_FIELD]',
    ]);
  });

  it('points at unknown fields in prometheus params', () => {
    const params = `    metrics:
    - name: requests_total
      instance_name: hits.instance.istio-system
      kind: COUNTER
      label_names: [response_code]
      labels:
        code: response_code
    metricsExpiry: 10m`;
    expect(positions(parseConfigText(handler('prometheus', params), 'c.yaml'))).toEqual([
      '21:7 spec.params.metrics[0].labels [PROM_UNKNOWN_FIELD]',
      '23:5 spec.params.metricsExpiry [PROM_UNKNOWN_FIELD]',
    ]);
  });

  it('points at unknown and doubled fields in statsd params, and at a metrics key naming no bound instance', () => {
    const params = `    address: localhost:8125
    flushBytes: 512
    flush_bytes: 1024
    metrics:
      hits.instance.istio-system:
        type: COUNTER
        name_template: hits
        tags:
          a: b
      other.instance.istio-system:
        type: COUNTER
        name_template: other`;
    expect(positions(parseConfigText(handler('statsd', params), 'c.yaml'), 'any')).toEqual([
      '18:5 spec.params.flush_bytes [CFG_DUPLICATE]',
      '23:9 spec.params.metrics.hits.instance.istio-system.tags [CFG_UNKNOWN_FIELD]',
      '25:7 warning spec.params.metrics.other.instance.istio-system [STATSD_UNBOUND_METRIC]',
    ]);
  });

  it('points at an unknown field of circonus params whose value is a block sequence', () => {
    const params = `    submission_url: http://127.0.0.1:1/
    metrics:
    - {name: hits.instance.istio-system, type: COUNTER, dimensions: [response_code]}
    tags:
    - team:core`;
    expect(positions(parseConfigText(handler('circonus', params), 'c.yaml'))).toEqual(['19:5 spec.params.tags [CIRCONUS_UNKNOWN_FIELD]']);
  });

  it('points at an unknown field of telemuxstat params whose value continues on the next line', () => {
    const params = `    sliceDuration: 10s
    retension:
      10m`;
    const errors = positions(parseConfigText(handler('telemuxstat', params), 'c.yaml'));
    expect(errors.filter((e) => e.includes('CFG_UNKNOWN_FIELD'))).toEqual(['17:5 spec.params.retension [CFG_UNKNOWN_FIELD]']);
  });

  it('points at the second of two equal keys', () => {
    const { issues } = parseConfigText('spec:\n  match: a\n  match:\n    b\n', 'c.yaml');
    expect(issues.map(show)).toEqual(['3:3  [CFG_YAML]']);
  });

  it('points at the key in a --config file read from disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'telemux-keys-'));
    try {
      const file = join(dir, 'config.yaml');
      writeFileSync(file, handler('prometheus', `    metrics: []\n    metricz:\n    - name: requests_total`));
      const loaded = await loadConfigPath(file);
      const errors = compileConfig(loaded.documents, { adapters: createAdapterInventory().adapters }).issues.filter((i) => i.code === 'PROM_UNKNOWN_FIELD');
      expect(errors.map((i) => `${i.at.file}:${i.at.line}:${i.at.col}`)).toEqual([`${file}:17:5`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
