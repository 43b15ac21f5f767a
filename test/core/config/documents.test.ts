import { describe, expect, it } from 'vitest';
import { createAdapterInventory } from '../../../src/adapters/index.js';
import { compileConfig } from '../../../src/core/config/compile.js';
import { parseConfigText } from '../../../src/core/config/document.js';
import { formatConfigIssue } from '../../../src/core/errors.js';
import { ReportDecoder } from '../../../src/core/attributes/decode.js';
import { buildReport, encodeReport, str } from '../../../src/client/compressor.js';

const CONFIG = `apiVersion: config.istio.io/v1alpha2
kind: attributemanifest
metadata: {name: attrs, namespace: istio-system}
spec:
  attributes:
    request.path: {valueType: STRING}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: hits, namespace: istio-system}
spec:
  compiledTemplate: metric
  params: {value: "1", dimensions: {path: request.path | "none"}}
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: prom, namespace: istio-system}
spec:
  compiledAdapter: prometheus
  params:
    metrics: [{name: hits_total, instance_name: hits.instance.istio-system, kind: COUNTER, label_names: [path]}]
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: r, namespace: istio-system}
spec:
  actions: [{handler: prom, instances: [hits]}]
`;

function check(text: string): string[] {
  const { documents, issues } = parseConfigText(text, 'c.yaml');
  const compiled = compileConfig(documents, { adapters: createAdapterInventory().adapters });
  return [...issues, ...compiled.issues].map(formatConfigIssue);
}

describe('multi-document YAML files', () => {
  it.each([
    ['a trailing ---', `${CONFIG}---\n`],
    ['a leading ---', `---\n${CONFIG}`],
    ['two separators in a row', CONFIG.replace('---\n', '---\n---\n')],
    ['a document holding only comments (a helm template that rendered nothing)', CONFIG.replace('---\n', '---\n# Source: mixer/templates/empty.yaml\n---\n')],
    ['an explicit null document', `${CONFIG}---\n~\n`],
    ['a document end marker', `${CONFIG}...\n---\n...\n`],
  ])('skips empty documents, as Mixer\'s file store does: %s', (_what, text) => {
    expect(check(text)).toEqual([]);
  });

  it('still rejects a document that is not a map', () => {
    expect(check(`${CONFIG}---\n- a list\n`)).toEqual([expect.stringContaining('a config document must be a map with apiVersion, kind, metadata and spec [CFG_ENVELOPE]')]);
  });

  it('merges << merge keys, as the YAML readers of Mixer\'s file store and kubectl do, an explicit key overriding a merged one', () => {
    const shared = `apiVersion: config.istio.io/v1alpha2
kind: attributemanifest
metadata: {name: attrs, namespace: istio-system}
spec:
  attributes:
    request.path: {valueType: STRING}
    request.method: {valueType: STRING}
---
# Anchors reach within one document only: both instances in one List.
apiVersion: v1
kind: List
items:
- apiVersion: config.istio.io/v1alpha2
  kind: instance
  metadata: {name: hits, namespace: istio-system}
  spec:
    compiledTemplate: metric
    params:
      value: "1"
      dimensions: &common
        path: request.path | "none"
        method: request.method | "none"
- apiVersion: config.istio.io/v1alpha2
  kind: instance
  metadata: {name: posts, namespace: istio-system}
  spec:
    compiledTemplate: metric
    params:
      value: "1"
      dimensions:
        <<: *common
        method: '"POST"'
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: prom, namespace: istio-system}
spec:
  compiledAdapter: prometheus
  params:
    metrics:
    - {name: hits_total, instance_name: hits.instance.istio-system, kind: COUNTER, label_names: [path, method]}
    - {name: posts_total, instance_name: posts.instance.istio-system, kind: COUNTER, label_names: [path, method]}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: r, namespace: istio-system}
spec:
  actions: [{handler: prom, instances: [hits, posts]}]
`;
    const { documents, issues } = parseConfigText(shared, 'c.yaml');
    const compiled = compileConfig(documents, { adapters: createAdapterInventory().adapters });
    expect([...issues, ...compiled.issues].map(formatConfigIssue)).toEqual([]);
    const posts = compiled.snapshot!.handlers.get('prom.handler.istio-system')!.instances.find((i) => i.name === 'posts.instance.istio-system')!;
    expect(posts.dimensions.map((d) => d.name).sort()).toEqual(['method', 'path']);
    const builder = compiled.snapshot!.rules[0]!.actions[0]!.builders.find((b) => b.spec === posts)!;
    const [bag] = new ReportDecoder(compiled.snapshot!.manifest).decode(encodeReport(buildReport([{ 'request.path': str('/a'), 'request.method': str('GET') }]))).bags;
    const inst = builder.buildWith(bag!, builder.evaluateDimensions(bag!));
    expect(Object.fromEntries(posts.dimensions.map((d, i) => [d.name, inst.dimensions[i]]))).toEqual({ path: '/a', method: 'POST' });
  });
});
