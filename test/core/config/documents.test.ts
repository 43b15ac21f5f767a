import { describe, expect, it } from 'vitest';
import { createAdapterInventory } from '../../../src/adapters/index.js';
import { compileConfig } from '../../../src/core/config/compile.js';
import { parseConfigText } from '../../../src/core/config/document.js';
import { formatConfigIssue } from '../../../src/core/errors.js';

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
});
