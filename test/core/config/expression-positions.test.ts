import { describe, expect, it } from 'vitest';
import { createAdapterInventory } from '../../../src/adapters/index.js';
import { compileConfig } from '../../../src/core/config/compile.js';
import { parseConfigText } from '../../../src/core/config/document.js';

/** A rule whose `match` (written in the YAML style given, from line 8) names one unknown attribute. */
function rule(match: string): string {
  return `apiVersion: config.istio.io/v1alpha2
kind: attributemanifest
metadata: {name: attrs, namespace: istio-system}
spec: {attributes: {context.protocol: {valueType: STRING}}}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: r, namespace: istio-system}
spec:
${match}
  actions: []
`;
}

/** line:col of the one expression error. */
function errorAt(yaml: string): string {
  const { documents, issues } = parseConfigText(yaml, 'c.yaml');
  expect(issues).toEqual([]);
  const errors = compileConfig(documents, { adapters: createAdapterInventory().adapters }).issues.filter((i) => i.code === 'EXPR_UNKNOWN_ATTRIBUTE');
  expect(errors).toHaveLength(1);
  return `${errors[0]!.at.line}:${errors[0]!.at.col}`;
}

describe('the file:line:col of an expression error', () => {
  it('points at the character in a plain one-line scalar', () => {
    expect(errorAt(rule('  match: context.protocol == "http" && bad.attr == 1'))).toBe('10:40');
  });

  it('points at the first character of a quoted expression, not at its quote', () => {
    expect(errorAt(rule('  match: "bad.attr == 1"'))).toBe('10:11');
  });

  it('counts escapes in a double-quoted scalar as the source characters they are', () => {
    expect(errorAt(rule('  match: "context.protocol == \\"http\\" && bad.attr == 1"'))).toBe('10:43');
    expect(errorAt(rule('  match: "context.protocol == \\u0022h\\u0022 && bad.attr == 1"'))).toBe('10:48');
  });

  it("counts '' in a single-quoted scalar as two source characters", () => {
    expect(errorAt(rule("  match: 'context.protocol == `h''` && bad.attr == 1'"))).toBe('10:40');
  });

  it('follows a multi-line expression onto the line the character is on', () => {
    expect(errorAt(rule('  match: >-\n    context.protocol == "http" &&\n    bad.attr == 1'))).toBe('12:5');
    expect(errorAt(rule('  match: |\n    context.protocol == "http" &&\n    bad.attr == 1'))).toBe('12:5');
    expect(errorAt(rule('  match: context.protocol == "http" &&\n    bad.attr == 1'))).toBe('11:5');
    expect(errorAt(rule('  match: "context.protocol == \\"h\\" &&\n    bad.attr == 1"'))).toBe('11:5');
    expect(errorAt(rule('  match: "context.protocol == \\"h\\" &&\\\n    bad.attr == 1"'))).toBe('11:5');
  });
});
