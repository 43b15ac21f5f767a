import { describe, expect, it } from 'vitest';
import { buildReport, encodeReport, int, str } from '../../../src/client/compressor.js';
import { ReportDecoder } from '../../../src/core/attributes/decode.js';
import { compileConfig } from '../../../src/core/config/compile.js';
import { parseConfigText } from '../../../src/core/config/document.js';
import { dispatchReport, type DispatchObserver } from '../../../src/core/dispatch/dispatcher.js';
import { NamespaceResolver, RoutingTable } from '../../../src/core/dispatch/routing.js';
import type { Handler } from '../../../src/core/adapter.js';
import { recordingAdapter, type RecordingHandler } from '../../support/recording-adapter.js';

const BASE = `
apiVersion: config.istio.io/v1alpha2
kind: attributemanifest
metadata: {name: attrs, namespace: istio-system}
spec:
  attributes:
    request.path: {valueType: STRING}
    response.code: {valueType: INT64}
    context.protocol: {valueType: STRING}
    context.reporter.kind: {valueType: STRING}
    destination.namespace: {valueType: STRING}
    source.namespace: {valueType: STRING}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: hits, namespace: istio-system}
spec:
  compiledTemplate: metric
  params:
    value: "1"
    dimensions: {path: request.path | "none", code: response.code | 0}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: sizes, namespace: istio-system}
spec:
  compiledTemplate: metric
  params:
    value: response.code | 0
    dimensions: {path: request.path | "none", code: response.code | 0}
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: strict, namespace: istio-system}
spec:
  compiledTemplate: metric
  params:
    value: "1"
    dimensions: {path: request.path}
`;

function handler(name: string): string {
  return `---\napiVersion: config.istio.io/v1alpha2\nkind: handler\nmetadata: {name: ${name}, namespace: istio-system}\nspec:\n  compiledAdapter: recording\n  params: {label: ${name}}\n`;
}

function rule(name: string, handlerName: string, instances: string, match = 'context.protocol == "http"'): string {
  return `---\napiVersion: config.istio.io/v1alpha2\nkind: rule\nmetadata: {name: ${name}, namespace: istio-system}\nspec:\n  match: ${JSON.stringify(match)}\n  actions:\n  - handler: ${handlerName}\n    instances: [${instances}]\n`;
}

interface Calls {
  buildErrors: string[];
  matchErrors: string[];
}

function setup(yaml: string) {
  const { adapter, built } = recordingAdapter();
  const { documents, issues } = parseConfigText(yaml, 'test.yaml');
  expect(issues).toEqual([]);
  const compiled = compileConfig(documents, { adapters: new Map([[adapter.name, adapter]]) });
  expect(compiled.issues.filter((i) => i.severity === 'error')).toEqual([]);
  const snapshot = compiled.snapshot!;
  const handlers = new Map<string, Handler>();
  for (const plan of snapshot.handlers.values()) handlers.set(plan.name, plan.adapter.createHandler(plan.config, plan.instances, undefined as never));
  const routing = new RoutingTable(snapshot, handlers);
  const m = snapshot.manifest;
  const namespaces = new NamespaceResolver(m.slotOf('context.reporter.kind'), m.slotOf('destination.namespace'), m.slotOf('source.namespace'));
  const decoder = new ReportDecoder(m);
  const calls: Calls = { buildErrors: [], matchErrors: [] };
  const observer: DispatchObserver = {
    buildError: (i) => void calls.buildErrors.push(i),
    matchError: (r) => void calls.matchErrors.push(r),
    handlerDispatched: () => undefined,
  };
  const send = (sets: Parameters<typeof buildReport>[0]) => dispatchReport(decoder.decode(encodeReport(buildReport(sets))).bags, routing, namespaces, observer);
  const byLabel = (label: string): RecordingHandler => built.find((h) => h.config.label === label)!;
  return { send, calls, byLabel };
}

describe('report dispatch', () => {
  it('builds an instance once per attribute set and hands the same instance to every handler that receives it', () => {
    const { send, byLabel } = setup(BASE + handler('a') + handler('b') + rule('ra', 'a', 'hits') + rule('rb', 'b', 'hits'));
    const outcome = send([
      { 'context.protocol': str('http'), 'request.path': str('/x'), 'response.code': int(200) },
      { 'context.protocol': str('http'), 'request.path': str('/y') },
    ]);
    expect(outcome).toEqual({ instances: 4, errors: [] });
    const [a, b] = [byLabel('a'), byLabel('b')];
    expect(a.received).toHaveLength(2);
    expect(b.received).toHaveLength(2);
    expect(a.received[0]).toBe(b.received[0]);
    expect(a.received[1]).toBe(b.received[1]);
    expect(a.received.map((i) => i.dimensions)).toEqual([
      ['/x', 200],
      ['/y', 0],
    ]);
  });

  it('shares one dimensions array between instances whose dimensions are written identically', () => {
    const { send, byLabel } = setup(BASE + handler('a') + rule('ra', 'a', 'hits, sizes'));
    send([{ 'context.protocol': str('http'), 'request.path': str('/x'), 'response.code': int(503) }]);
    const [hits, sizes] = byLabel('a').received;
    expect(hits?.spec.name).toBe('hits.instance.istio-system');
    expect(sizes?.spec.name).toBe('sizes.instance.istio-system');
    expect(hits?.dimensions).toBe(sizes?.dimensions);
    expect([hits?.value, sizes?.value]).toEqual([1, 503]);
  });

  it('never mixes up sets: each set gets its own instances and dimensions', () => {
    const { send, byLabel } = setup(BASE + handler('a') + handler('b') + rule('ra', 'a', 'hits, sizes') + rule('rb', 'b', 'sizes'));
    const sets = Array.from({ length: 50 }, (_, i) => ({ 'context.protocol': str(i % 3 === 0 ? 'tcp' : 'http'), 'request.path': str(`/p${i}`), 'response.code': int(i) }));
    send(sets);
    const want = sets.filter((_, i) => i % 3 !== 0).map((_, k, arr) => arr[k]!);
    const a = byLabel('a').received;
    const b = byLabel('b').received;
    expect(a.map((i) => [i.spec.name.split('.')[0], i.dimensions[0], i.value])).toEqual(
      want.flatMap((s) => [
        ['hits', s['request.path'].value, 1],
        ['sizes', s['request.path'].value, s['response.code'].value],
      ]),
    );
    expect(b.map((i) => i.dimensions[0])).toEqual(want.map((s) => s['request.path'].value));
  });

  it('reports a failed instance once for every handler it was meant for, with the record and the reason', () => {
    const { send, calls, byLabel } = setup(BASE + handler('a') + handler('b') + rule('ra', 'a', 'strict, hits') + rule('rb', 'b', 'strict'));
    const outcome = send([{ 'context.protocol': str('http'), 'response.code': int(200) }]);
    expect(calls.buildErrors).toEqual(['strict.instance.istio-system', 'strict.instance.istio-system']);
    expect(outcome.errors).toEqual([
      "attributes[0]: instance 'strict.instance.istio-system': lookup failed: 'request.path'",
      "attributes[0]: instance 'strict.instance.istio-system': lookup failed: 'request.path'",
    ]);
    expect(byLabel('a').received.map((i) => i.spec.name)).toEqual(['hits.instance.istio-system']);
    expect(byLabel('b').received).toEqual([]);
  });

  it('counts a failing condition as no match, once per rule that uses it', () => {
    const strictMatch = 'request.path == "/x"';
    const { send, calls, byLabel } = setup(BASE + handler('a') + handler('b') + rule('ra', 'a', 'hits', strictMatch) + rule('rb', 'b', 'hits', strictMatch));
    send([{ 'context.protocol': str('http') }, { 'request.path': str('/x') }]);
    expect(calls.matchErrors).toEqual(['ra.rule.istio-system', 'rb.rule.istio-system']);
    expect(byLabel('a').received).toHaveLength(1);
    expect(byLabel('b').received).toHaveLength(1);
  });
});

describe('rule condition errors', () => {
  it('counts a failing condition once per rule and attribute set, however many handlers the rule feeds', () => {
    const twoActions = `---\napiVersion: config.istio.io/v1alpha2\nkind: rule\nmetadata: {name: both, namespace: istio-system}\nspec:\n  match: 'request.path == "/x"'\n  actions:\n  - {handler: a, instances: [hits]}\n  - {handler: b, instances: [hits]}\n`;
    const { send, calls, byLabel } = setup(BASE + handler('a') + handler('b') + twoActions);
    send([{ 'context.protocol': str('http') }, { 'request.path': str('/x') }, { 'context.protocol': str('tcp') }]);
    expect(calls.matchErrors).toEqual(['both.rule.istio-system', 'both.rule.istio-system']);
    expect(byLabel('a').received).toHaveLength(1);
    expect(byLabel('b').received).toHaveLength(1);
  });
});
