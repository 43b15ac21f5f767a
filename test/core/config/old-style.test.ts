import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { buildReport, dur, int, str, type AttributeSet } from '../../../src/client/compressor.js';
import { createAdapterInventory } from '../../../src/adapters/index.js';
import { compileConfig } from '../../../src/core/config/compile.js';
import { parseConfigTexts } from '../../../src/core/config/document.js';
import { formatConfigIssue } from '../../../src/core/errors.js';
import { appendixA } from '../../support/appendix-a.js';
import { startTelemux, type Running } from '../../support/harness.js';
import { SHARED_DATA } from '../../support/vocabulary.js';

const DEFAULTS_1_4 = readFileSync(`${SHARED_DATA}mixer-default-telemetry-config-1.4.yaml`, 'utf8');

type Doc = { kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, unknown> };

/**
 * The 1.4 default rewritten the way 1.0/1.1 wrote it (spec §5.5): each metric instance as `kind:
 * metric` whose spec is its params, the handler as `kind: prometheus` named `handler`, and rules and
 * `instance_name`s naming them `<name>.<kind>`.
 */
function oldStyleOf(text: string): string {
  const docs = parseAllDocuments(text).map((d) => d.toJSON() as Doc);
  const out = docs.map((d): Doc => {
    if (d.kind === 'instance') return { ...d, kind: 'metric', spec: d.spec['params'] as Record<string, unknown> };
    if (d.kind === 'handler') {
      const params = d.spec['params'] as { metrics: { instance_name: string }[] };
      const metrics = params.metrics.map((m) => ({ ...m, instance_name: m.instance_name.replace('.instance.', '.metric.') }));
      return { ...d, kind: 'prometheus', metadata: { ...d.metadata, name: 'handler' }, spec: { ...params, metrics } };
    }
    if (d.kind === 'rule') {
      const actions = (d.spec['actions'] as { handler: string; instances: string[] }[]).map((a) => ({
        handler: 'handler.prometheus',
        instances: a.instances.map((i) => `${i}.metric`),
      }));
      return { ...d, spec: { ...d.spec, actions } };
    }
    return d;
  });
  const rewritten = out.map((d) => stringify(d)).join('---\n');
  // The rewrite must really be old style, or the comparison below would prove nothing.
  expect(rewritten).not.toMatch(/compiledTemplate|compiledAdapter|kind: (instance|handler)\b/);
  return rewritten;
}

function tcpSet(sent: number): AttributeSet {
  return {
    'context.protocol': str('tcp'),
    'context.reporter.kind': str('inbound'),
    'destination.service.host': str('db.default.svc.cluster.local'),
    'destination.namespace': str('default'),
    'connection.sent.bytes': int(sent),
    'connection.received.bytes': int(2 * sent),
    'connection.event': str('open'),
    'connection.duration': dur(1e6),
  };
}

function check(extra: string): { errors: string[]; warnings: string[]; handlers: string[] } {
  const { documents, issues } = parseConfigTexts([
    { name: 'defaults.yaml', content: DEFAULTS_1_4 },
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

describe('old-style (Istio 1.0/1.1) per-template and per-adapter kinds', () => {
  let modern: Running;
  let old: Running;
  beforeAll(async () => {
    [modern, old] = await Promise.all([startTelemux({ configYaml: DEFAULTS_1_4 }), startTelemux({ configYaml: oldStyleOf(DEFAULTS_1_4) })]);
  });
  afterAll(async () => {
    await Promise.all([modern?.stop(), old?.stop()]);
  });

  it('serves exactly the series and values of the same config written new style', async () => {
    const reports = [appendixA(), buildReport([tcpSet(100), tcpSet(250), tcpSet(7)])];
    for (const t of [modern, old]) {
      for (const r of reports) expect(await t.report(r)).toEqual({ code: 0, details: '' });
    }
    const families = await old.scrape();
    const names = families.filter((f) => f.metrics.length > 0).map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['istio_requests_total', 'istio_request_duration_seconds', 'istio_tcp_sent_bytes_total', 'istio_tcp_connections_opened_total']));
    expect(families).toEqual(await modern.scrape());
  });

  it('names old-style resources <name>.<kind>.<namespace>, which rules reach in the old and the new way', () => {
    const { errors, handlers } = check(`apiVersion: config.istio.io/v1alpha2
kind: metric
metadata: {name: hits, namespace: default}
spec:
  value: "1"
  dimensions: {code: response.code | 0}
---
apiVersion: config.istio.io/v1alpha2
kind: statsd
metadata: {name: handler, namespace: default}
spec:
  address: 127.0.0.1:8125
  metrics:
    hits.metric.default: {type: COUNTER}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: old, namespace: default}
spec:
  actions:
  - handler: handler.statsd
    instances: [hits.metric]
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: fqn, namespace: istio-system}
spec:
  actions:
  - handler: handler.statsd.default
    instances: [hits.metric.default]
`);
    expect(errors).toEqual([]);
    expect(handlers).toContain('handler.statsd.default');
  });

  it('points errors inside an old-style spec at the operator\'s line and column', () => {
    const { errors } = check(`apiVersion: config.istio.io/v1alpha2
kind: metric
metadata: {name: broken}
spec:
  value: "1"
  dimensions:
    code: response.code ==
---
apiVersion: config.istio.io/v1alpha2
kind: prometheus
metadata: {name: handler}
spec:
  metrics:
  - name: broken_total
    instance_name: broken.metric.istio-system
    kind: COUNTERR
    label_names: [code]
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: broken}
spec:
  actions:
  - {handler: handler.prometheus, instances: [broken.metric]}
`);
    expect(errors).toEqual([
      "extra.yaml:7:27: spec.dimensions.code: expected operand, found 'EOF' (in expression `response.code ==`) [EXPR_SYNTAX]",
      expect.stringMatching(/^extra\.yaml:16:11: spec\.metrics\[0\]\.kind: .*COUNTERR.*$/),
    ]);
  });

  it('warns about old-style kinds of templates and adapters Telemux leaves out, and loads the rest', () => {
    const { errors, warnings, handlers } = check(`apiVersion: config.istio.io/v1alpha2
kind: logentry
metadata: {name: accesslog}
spec:
  severity: '"Info"'
---
apiVersion: config.istio.io/v1alpha2
kind: stdio
metadata: {name: handler}
spec: {outputAsJson: true}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: stdio}
spec:
  actions:
  - handler: handler.stdio
    instances: [accesslog.logentry]
`);
    expect(errors).toEqual([]);
    expect(handlers).toEqual(['prometheus.handler.istio-system']);
    expect(warnings).toEqual([
      "extra.yaml:2:7: warning: kind: template 'logentry' is not supported by Telemux; instance 'accesslog.logentry.istio-system' is ignored [CFG_UNSUPPORTED]",
      "extra.yaml:8:7: warning: kind: adapter 'stdio' is not supported by Telemux; handler 'handler.stdio.istio-system' and the rule actions using it are ignored [CFG_UNSUPPORTED]",
      "extra.yaml:17:14: warning: spec.actions[0].handler: action skipped: handler 'handler.stdio.istio-system' is not available [CFG_UNSUPPORTED]",
    ]);
  });
});
