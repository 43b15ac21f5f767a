import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createAdapterInventory } from '../../../src/adapters/index.js';
import { compileConfig } from '../../../src/core/config/compile.js';
import { parseConfigTexts } from '../../../src/core/config/document.js';
import { formatConfigIssue } from '../../../src/core/errors.js';
import { SHARED_DATA } from '../../support/vocabulary.js';

/** Istio's out-of-process adapter walkthrough (mygrpcadapter), as an operator would have it next to the defaults. */
const OUT_OF_PROCESS = `apiVersion: "config.istio.io/v1alpha2"
kind: adapter
metadata: {name: mygrpcadapter, namespace: istio-system}
spec:
  description: an out-of-process adapter
  session_based: false
  templates: [metric]
---
apiVersion: "config.istio.io/v1alpha2"
kind: template
metadata: {name: mytemplate, namespace: istio-system}
spec:
  descriptor: CpsCAQoQbXlncnBjYWRhcHRlci5wcm90bxIc
---
apiVersion: "config.istio.io/v1alpha2"
kind: handler
metadata: {name: h1, namespace: istio-system}
spec:
  adapter: mygrpcadapter
  connection: {address: "mygrpcadapterservice:44225"}
  params: {file_path: "out.txt"}
---
apiVersion: "config.istio.io/v1alpha2"
kind: instance
metadata: {name: custom, namespace: istio-system}
spec:
  template: mytemplate
  params: {anything: request.size | 0}
---
apiVersion: "config.istio.io/v1alpha2"
kind: rule
metadata: {name: r1, namespace: istio-system}
spec:
  actions:
  - handler: h1.istio-system
    instances: [requestcount, custom]
`;

function check(extra: string): { errors: string[]; warnings: string[]; handlers: string[] } {
  const defaults = readFileSync(`${SHARED_DATA}mixer-default-config-1.4-full.yaml`, 'utf8');
  const { documents, issues } = parseConfigTexts([
    { name: 'defaults.yaml', content: defaults },
    { name: 'extra.yaml', content: extra },
  ]);
  const compiled = compileConfig(documents, { adapters: createAdapterInventory().adapters });
  const all = [...issues, ...compiled.issues];
  return {
    errors: all.filter((i) => i.severity === 'error').map(formatConfigIssue),
    warnings: all.filter((i) => i.severity === 'warning' && i.at.file === 'extra.yaml').map(formatConfigIssue),
    handlers: [...(compiled.snapshot?.handlers.keys() ?? [])],
  };
}

describe('Mixer features Telemux does not implement', () => {
  it('loads a full Mixer config with an out-of-process adapter, warning that its handler, instance and actions are ignored', () => {
    const { errors, warnings, handlers } = check(OUT_OF_PROCESS);
    expect(errors).toEqual([]);
    expect(handlers).toEqual(['prometheus.handler.istio-system']);
    expect(warnings).toEqual([
      expect.stringMatching(/^extra\.yaml:2:7: warning: kind: kind 'adapter' .*\[CFG_UNSUPPORTED\]$/),
      expect.stringMatching(/^extra\.yaml:10:7: warning: kind: kind 'template' .*\[CFG_UNSUPPORTED\]$/),
      "extra.yaml:19:12: warning: spec.adapter: out-of-process adapter 'mygrpcadapter' is not supported by Telemux; handler 'h1.handler.istio-system' and the rule actions using it are ignored [CFG_UNSUPPORTED]",
      "extra.yaml:27:13: warning: spec.template: out-of-process template 'mytemplate' is not supported by Telemux; instance 'custom.instance.istio-system' is ignored [CFG_UNSUPPORTED]",
      "extra.yaml:35:14: warning: spec.actions[0].handler: action skipped: handler 'h1.handler.istio-system' is not available [CFG_UNSUPPORTED]",
    ]);
  });

  it('still rejects a misspelled compiledAdapter or compiledTemplate', () => {
    const { errors } = check(
      OUT_OF_PROCESS.replace('adapter: mygrpcadapter', 'compiledAdapter: promethus').replace('template: mytemplate', 'compiledTemplate: metrc').replace(/  connection: .*\n/, ''),
    );
    expect(errors).toEqual([
      expect.stringMatching(/^extra\.yaml:19:20: spec\.compiledAdapter: unknown adapter 'promethus' \(did you mean 'prometheus'\?\).*\[CFG_UNKNOWN_ADAPTER\]$/),
      "extra.yaml:26:21: spec.compiledTemplate: unknown template 'metrc' (Telemux supports 'metric') [CFG_UNKNOWN_TEMPLATE]",
    ]);
  });
});
