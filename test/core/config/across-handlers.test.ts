import { describe, expect, it } from 'vitest';
import { defineAdapter, type AnyAdapter, type Handler, type ParsedHandler } from '../../../src/core/adapter.js';
import { compileConfig } from '../../../src/core/config/compile.js';
import { parseConfigText } from '../../../src/core/config/document.js';
import { formatConfigIssue } from '../../../src/core/errors.js';

/** An adapter whose handlers each claim `params.port`; two handlers may not claim the same one. */
function portAdapter(name: string, seen: ParsedHandler<number>[][]): AnyAdapter {
  return defineAdapter<number>({
    name,
    templates: ['metric'],
    parseConfig: (params, _instances, report) => {
      const port = (params as { port?: unknown }).port;
      if (typeof port === 'number') return port;
      report.issue(['port'], 'port must be a number');
      return undefined;
    },
    checkAcrossHandlers: (handlers, report) => {
      seen.push([...handlers]);
      const first = new Map<number, string>();
      handlers.forEach((h, i) => {
        const other = first.get(h.config);
        if (other === undefined) first.set(h.config, h.name);
        else report(i, ['port'], `port ${h.config} is also claimed by '${other}'`, 'FAKE_PORT');
      });
    },
    createHandler: (): Handler => {
      throw new Error('not built in these tests');
    },
  });
}

function handler(name: string, adapter: string, port: unknown): string {
  return `---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: ${name}, namespace: istio-system}
spec:
  compiledAdapter: ${adapter}
  params:
    port: ${JSON.stringify(port)}
`;
}

const INSTANCE_AND_RULE = `apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: hits, namespace: istio-system}
spec: {compiledTemplate: metric, params: {value: "1"}}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: r, namespace: istio-system}
spec:
  actions: [{handler: h1, instances: [hits]}, {handler: h2, instances: [hits]}, {handler: h3, instances: [hits]}, {handler: o1, instances: [hits]}]
`;

function compile(yaml: string, adapters: readonly AnyAdapter[]): ReturnType<typeof compileConfig> {
  const { documents, issues } = parseConfigText(yaml, 'c.yaml');
  expect(issues).toEqual([]);
  return compileConfig(documents, { adapters: new Map(adapters.map((a) => [a.name, a])) });
}

describe('checks across the handlers of one adapter', () => {
  it('get every parsed handler of the adapter once, in written order, and their reports reject the config at that handler\'s params', () => {
    const seenPorts: ParsedHandler<number>[][] = [];
    const seenOther: ParsedHandler<number>[][] = [];
    const yaml = INSTANCE_AND_RULE + handler('h1', 'ports', 80) + handler('h2', 'ports', 'x') + handler('o1', 'other', 80) + handler('h3', 'ports', 80);
    const { snapshot, issues } = compile(yaml, [portAdapter('ports', seenPorts), portAdapter('other', seenOther)]);
    expect(snapshot).toBeUndefined();
    // h2 failed on its own, so only h1 and h3 are compared; o1 belongs to another adapter.
    expect(seenPorts).toEqual([[{ name: 'h1.handler.istio-system', config: 80 }, { name: 'h3.handler.istio-system', config: 80 }]]);
    expect(seenOther).toEqual([[{ name: 'o1.handler.istio-system', config: 80 }]]);
    expect(issues.map(formatConfigIssue)).toEqual([
      'c.yaml:26:11: spec.params.port: port must be a number [ADAPTER_CONFIG]',
      "c.yaml:42:11: spec.params.port: port 80 is also claimed by 'h1.handler.istio-system' [FAKE_PORT]",
    ]);
  });

  it('leave a config without reports compiled', () => {
    const yaml = INSTANCE_AND_RULE.replace(/, \{handler: h3[^}]*\}, \{handler: o1[^}]*\}/, '') + handler('h1', 'ports', 80) + handler('h2', 'ports', 81);
    const { snapshot, issues } = compile(yaml, [portAdapter('ports', [])]);
    expect(issues).toEqual([]);
    expect([...snapshot!.handlers.keys()]).toEqual(['h1.handler.istio-system', 'h2.handler.istio-system']);
  });
});
