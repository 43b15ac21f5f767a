import { describe, expect, it } from 'vitest';
import { createAdapterInventory } from '../../../src/adapters/index.js';
import { ValueType } from '../../../src/core/attributes/value-type.js';
import { compileConfig } from '../../../src/core/config/compile.js';
import { parseConfigText } from '../../../src/core/config/document.js';
import { formatConfigIssue } from '../../../src/core/errors.js';

const MANIFEST = `apiVersion: config.istio.io/v1alpha2
kind: attributemanifest
metadata: {name: attrs, namespace: istio-system}
spec:
  attributes:
    request.path: {valueType: STRING}
`;

function instanceDoc(name: string, ns = 'istio-system'): string {
  return `---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: ${JSON.stringify(name)}, namespace: ${ns}}
spec:
  compiledTemplate: metric
  params: {value: "1", dimensions: {path: request.path | "none"}}
`;
}

function handlerDoc(name: string, instance: string, ns = 'istio-system'): string {
  return `---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: ${name}, namespace: ${ns}}
spec:
  compiledAdapter: prometheus
  params:
    metrics: [{name: ${name}_total, instance_name: ${JSON.stringify(instance)}, kind: COUNTER, label_names: [path]}]
`;
}

function ruleDoc(spec: string, ns = 'istio-system'): string {
  return `---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: r, namespace: ${ns}}
spec:
${spec}`;
}

function compile(text: string, defaultNamespace?: string) {
  const { documents, issues } = parseConfigText(text, 'c.yaml');
  const compiled = compileConfig(documents, { adapters: createAdapterInventory().adapters, defaultNamespace });
  return { issues: [...issues, ...compiled.issues].map(formatConfigIssue), snapshot: compiled.snapshot };
}

/** The handler and instances each compiled rule action sends to. */
function routes(text: string, defaultNamespace?: string): string[] {
  const { issues, snapshot } = compile(text, defaultNamespace);
  expect(issues).toEqual([]);
  return snapshot!.rules.flatMap((r) => r.actions.map((a) => `${r.name} -> ${a.handler}: ${a.builders.map((b) => b.spec.name).join(', ')}`));
}

/** Indents a document as an item of a `kind: List`. */
function listItem(doc: string): string {
  return doc
    .replace(/^---\n/, '')
    .trimEnd()
    .split('\n')
    .map((l, i) => (i === 0 ? `- ${l}` : `  ${l}`))
    .join('\n');
}

describe('rule references (spec §5.3), resolved relative to the rule\'s namespace', () => {
  const base = MANIFEST + instanceDoc('hits') + handlerDoc('prom', 'hits.instance.istio-system');

  it.each([
    ['name', 'hits'],
    ['name.kind', 'hits.instance'],
    ['name.kind.namespace', 'hits.instance.istio-system'],
    ['name.namespace', 'hits.istio-system'],
  ])('finds an instance written as %s', (_form, ref) => {
    expect(routes(base + ruleDoc(`  actions: [{handler: prom, instances: [${ref}]}]\n`))).toEqual(['r.rule.istio-system -> prom.handler.istio-system: hits.instance.istio-system']);
  });

  it('reaches a handler and an instance of another namespace as name.namespace or by full name', () => {
    const text = MANIFEST + instanceDoc('hits', 'shop') + handlerDoc('prom', 'hits.instance.shop', 'shop');
    expect(routes(text + ruleDoc('  actions: [{handler: prom.shop, instances: [hits.shop]}]\n'))).toEqual(['r.rule.istio-system -> prom.handler.shop: hits.instance.shop']);
    expect(routes(text + ruleDoc('  actions: [{handler: prom.handler.shop, instances: [hits.instance.shop]}]\n'))).toEqual(['r.rule.istio-system -> prom.handler.shop: hits.instance.shop']);
    // A short name means the rule's own namespace.
    expect(compile(text + ruleDoc('  actions: [{handler: prom, instances: [hits.shop]}]\n')).issues).toContain(
      "c.yaml:27:23: spec.actions[0].handler: handler 'prom' not found (looked for prom.handler.istio-system) [CFG_UNRESOLVED_HANDLER]",
    );
  });

  it('takes a name with dots only in full, as Mixer did: its short form reads as name.kind or name.namespace', () => {
    const text = MANIFEST + instanceDoc('hits.v2') + handlerDoc('prom', 'hits.v2.instance.istio-system');
    expect(routes(text + ruleDoc('  actions: [{handler: prom, instances: [hits.v2.instance.istio-system]}]\n'))).toEqual(['r.rule.istio-system -> prom.handler.istio-system: hits.v2.instance.istio-system']);
    expect(compile(text + ruleDoc('  actions: [{handler: prom, instances: [hits.v2]}]\n')).issues).toContain(
      "c.yaml:27:41: spec.actions[0].instances[0]: instance 'hits.v2' not found (looked for hits.v2.istio-system, hits.instance.v2) [CFG_UNRESOLVED_INSTANCE]",
    );
  });
});

describe('rule fields', () => {
  const base = MANIFEST + instanceDoc('hits') + handlerDoc('prom', 'hits.instance.istio-system');
  const actions = '  actions: [{handler: prom, instances: [hits]}]\n';

  it.each([
    ['absent', ''],
    ['empty', '  match: ""\n'],
    ['blank', '  match: "  "\n'],
    ['null', '  match:\n'],
    ['"true"', '  match: "true"\n'],
  ])('matches everything when match is %s', (_what, match) => {
    const { issues, snapshot } = compile(base + ruleDoc(match + actions));
    expect(issues).toEqual([]);
    expect(snapshot!.rules.map((r) => r.match)).toEqual([undefined]);
  });

  it('accepts and ignores the Check-only header operations, sampling and an action\'s name (spec §5.2)', () => {
    const spec = `  requestHeaderOperations: [{name: x-user, values: [request.path | ""], operation: REPLACE}]
  response_header_operations: [{name: x-drop, operation: REMOVE}]
  sampling: {random: {percentSampled: {numerator: 1, denominator: HUNDRED}}}
  actions: [{handler: prom, instances: [hits], name: out}]
`;
    expect(routes(base + ruleDoc(spec))).toEqual(['r.rule.istio-system -> prom.handler.istio-system: hits.instance.istio-system']);
  });
});

describe('resource identity', () => {
  const rule = ruleDoc('  actions: [{handler: prom, instances: [hits]}]\n');

  it('refuses the same kind, name and namespace given twice, also when one takes the default namespace, pointing at both', () => {
    const twice = MANIFEST + instanceDoc('hits') + instanceDoc('hits').replace(', namespace: istio-system', '') + handlerDoc('prom', 'hits.instance.istio-system') + rule;
    const { issues, snapshot } = compile(twice);
    expect(issues).toEqual(["c.yaml:17:18: metadata.name: duplicate instance 'hits.instance.istio-system' (first defined at c.yaml:8:1) [CFG_DUPLICATE]"]);
    expect(snapshot).toBeUndefined();
  });

  it('keeps apart resources that differ in kind or namespace only', () => {
    const text = MANIFEST + instanceDoc('hits') + instanceDoc('hits', 'shop') + handlerDoc('hits', 'hits.instance.istio-system') + ruleDoc('  actions: [{handler: hits, instances: [hits]}]\n');
    expect(routes(text)).toEqual(['r.rule.istio-system -> hits.handler.istio-system: hits.instance.istio-system']);
  });

  it('puts a resource without a namespace in the configured default namespace', () => {
    const text = (MANIFEST + instanceDoc('hits') + handlerDoc('prom', 'hits.instance.telemetry') + rule).replaceAll(', namespace: istio-system', '');
    expect(routes(text, 'telemetry')).toEqual(['r.rule.telemetry -> prom.handler.telemetry: hits.instance.telemetry']);
  });
});

describe('kind: List wrappers (kubectl get -o yaml)', () => {
  const docs = [instanceDoc('hits'), handlerDoc('prom', 'hits.instance.istio-system'), ruleDoc('  actions: [{handler: prom, instances: [hits]}]\n')];

  it('load their items as resources', () => {
    expect(routes(`${MANIFEST}---\napiVersion: v1\nkind: List\nitems:\n${docs.map(listItem).join('\n')}\n`)).toEqual(['r.rule.istio-system -> prom.handler.istio-system: hits.instance.istio-system']);
  });

  it('point errors at the item\'s line and path, and count an item given again outside the list as a duplicate', () => {
    const text = `${MANIFEST}---\napiVersion: v1\nkind: List\nitems:\n${docs.map(listItem).join('\n').replace('kind: COUNTER', 'kind: COUNTR')}\n${docs[0]}`;
    expect(compile(text).issues).toEqual([
      'c.yaml:23:87: items[1].spec.params.metrics[0].kind: kind "COUNTR" is not supported (expected GAUGE, COUNTER or DISTRIBUTION) [PROM_KIND]',
      "c.yaml:32:18: metadata.name: duplicate instance 'hits.instance.istio-system' (first defined at c.yaml:11:3) [CFG_DUPLICATE]",
    ]);
  });
});

describe('attribute manifests', () => {
  it('are merged, a later manifest overriding the type an earlier one gave an attribute (spec §3)', () => {
    const later = MANIFEST.replace('name: attrs', 'name: more').replace('request.path: {valueType: STRING}', 'request.path: {valueType: INT64}\n    request.size: {valueType: INT64}');
    const { issues, snapshot } = compile(`${MANIFEST}---\n${later}`);
    expect(issues).toEqual([]);
    expect(snapshot!.manifest.typeOf('request.path')).toBe(ValueType.INT64);
    expect(snapshot!.manifest.typeOf('request.size')).toBe(ValueType.INT64);
  });

  it('hold the attributes that scope rules by namespace (spec §5.4) as STRING, declared or not, and refuse another type for them', () => {
    const { issues, snapshot } = compile(MANIFEST);
    expect(issues).toEqual([]);
    for (const name of ['context.reporter.kind', 'destination.namespace', 'source.namespace']) expect(snapshot!.manifest.typeOf(name)).toBe(ValueType.STRING);
    expect(compile(MANIFEST.replace('request.path: {valueType: STRING}', 'destination.namespace: {valueType: STRING}')).issues).toEqual([]);
    const typed = compile(MANIFEST.replace('request.path: {valueType: STRING}', 'destination.namespace: {valueType: INT64}'));
    expect(typed.snapshot).toBeUndefined();
    expect(typed.issues).toEqual([
      "c.yaml:6:40: spec.attributes.destination.namespace.valueType: attribute 'destination.namespace' scopes rules by namespace and is read as STRING; declare it as STRING or not at all [CFG_VALUE_TYPE]",
    ]);
  });
});
