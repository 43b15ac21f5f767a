import { describe, expect, it } from 'vitest';
import { createAdapterInventory } from '../../../src/adapters/index.js';
import { ValueType } from '../../../src/core/attributes/value-type.js';
import { compileConfig, TENANT_ATTRIBUTE } from '../../../src/core/config/compile.js';
import { parseConfigText } from '../../../src/core/config/document.js';
import { formatConfigIssue } from '../../../src/core/errors.js';

function compile(yaml: string): ReturnType<typeof compileConfig> {
  const { documents, issues } = parseConfigText(yaml, 'c.yaml');
  expect(issues).toEqual([]);
  return compileConfig(documents, { adapters: createAdapterInventory().adapters });
}

const USES_TENANT = `
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: hits, namespace: istio-system}
spec:
  compiledTemplate: metric
  params: {value: "1", dimensions: {tenant: context.tenant | "none"}}
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: prom, namespace: istio-system}
spec:
  compiledAdapter: prometheus
  params:
    metrics: [{name: hits_total, instance_name: hits.instance.istio-system, kind: COUNTER, label_names: [tenant]}]
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: r, namespace: istio-system}
spec:
  match: context.tenant == "payments"
  actions: [{handler: prom, instances: [hits]}]
`;

describe('the built-in context.tenant attribute', () => {
  it('is in every config\'s vocabulary as a STRING, read by the Report path, without any manifest declaring it', () => {
    const { snapshot, issues } = compile(USES_TENANT);
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    const slot = snapshot!.manifest.slotOf(TENANT_ATTRIBUTE);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(snapshot!.manifest.typeOf(TENANT_ATTRIBUTE)).toBe(ValueType.STRING);
    expect(snapshot!.referenced[slot]).toBe(1);
  });

  it('may be declared again as a STRING, but not as another type', () => {
    const manifest = (type: string): string => `
apiVersion: config.istio.io/v1alpha2
kind: attributemanifest
metadata: {name: attrs, namespace: istio-system}
spec:
  attributes:
    context.tenant: {valueType: ${type}}
`;
    expect(compile(manifest('STRING')).issues).toEqual([]);
    const { snapshot, issues } = compile(`${manifest('INT64')}---${USES_TENANT}`);
    expect(snapshot).toBeUndefined();
    expect(issues.map(formatConfigIssue)).toEqual(["c.yaml:7:33: spec.attributes.context.tenant.valueType: attribute 'context.tenant' is built into Telemux as STRING; declare it as STRING or not at all [CFG_VALUE_TYPE]"]);
  });
});
