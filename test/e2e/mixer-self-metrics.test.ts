// Mixer's self-monitoring metrics on the admin /metrics (spec §8.5), next to the telemux_* ones:
// real Reports over gRPC loopback, config changes through the admin API, scraped with the real
// Prometheus text parser.
import { afterEach, describe, expect, it } from 'vitest';
import { buildReport, int, str } from '../../src/client/compressor.js';
import { startTelemux, type Running } from '../support/harness.js';
import { parsePrometheusText, sampleOf, type ParsedFamily } from '../support/prom-text.js';
import { recordingAdapter } from '../support/recording-adapter.js';

const doc = (kind: string, name: string, spec: string): string => `apiVersion: config.istio.io/v1alpha2
kind: ${kind}
metadata: {name: ${name}, namespace: istio-system}
spec:
${spec}
`;

const MANIFEST = doc('attributemanifest', 'attrs', '  attributes:\n    request.path: {valueType: STRING}\n    response.code: {valueType: INT64}');
const INSTANCES = [
  doc('instance', 'hits', '  compiledTemplate: metric\n  params: {value: "1", dimensions: {path: request.path | "none"}}'),
  doc('instance', 'codes', '  compiledTemplate: metric\n  params: {value: response.code | 0, dimensions: {path: request.path | "none"}}'),
];
const recording = (name: string, params: string): string => doc('handler', name, `  compiledAdapter: recording\n  params: ${params}`);
/** An old-style handler (spec §5.5): Mixer named it by its FQN, not `<name>.<namespace>`. */
const legacy = (description: string): string =>
  doc('prometheus', 'legacy', `  metrics: [{name: codes_seen, description: "${description}", instance_name: codes.instance.istio-system, kind: COUNTER, label_names: [path]}]`);
const rule = (name: string, match: string | undefined, handler: string, instances: string): string =>
  doc('rule', name, `${match === undefined ? '' : `  match: '${match}'\n`}  actions: [{handler: ${handler}, instances: [${instances}]}]`);

/**
 * rec-a gets `hits` from a rule without a condition and `codes` from one matching "true" (Mixer
 * kept the two in one instance group: same, empty condition) and from one matching errors;
 * legacy gets `codes` on errors through the same condition text.
 */
const RULES = [
  rule('all', undefined, 'rec-a', 'hits'),
  rule('all2', 'true', 'rec-a', 'codes'),
  rule('errors', 'response.code >= 500', 'rec-a', 'codes'),
  rule('legacy', 'response.code >= 500', 'legacy.prometheus', 'codes'),
];
const CONFIG_A = [MANIFEST, ...INSTANCES, recording('rec-a', '{label: a}'), legacy('codes'), ...RULES].join('---\n');
/** rec-a unchanged, legacy changed, rec-b added (its handler throws on every batch). */
const configB = (recB: string): string =>
  [MANIFEST, ...INSTANCES, recording('rec-a', '{label: a}'), legacy('codes, revised'), recording('rec-b', recB), ...RULES, rule('bad', undefined, 'rec-b', 'hits')].join('---\n');
/** An instance with an unknown attribute and a rule naming a missing instance. */
const BROKEN = [
  MANIFEST,
  ...INSTANCES,
  doc('instance', 'broken', '  compiledTemplate: metric\n  params: {value: response.cod | 0}'),
  recording('rec-a', '{label: a}'),
  rule('all', undefined, 'rec-a', 'hits'),
  rule('dangling', undefined, 'rec-a', 'missing'),
].join('---\n');

const sets = (code: number, n: number) => Array.from({ length: n }, () => ({ 'request.path': str('/p'), 'response.code': int(code) }));

const DURATION_BOUNDS = ['0.0001', '0.00025', '0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
const COUNT_BOUNDS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '10', '15', '20', '+Inf'];
/** A histogram's `le` bounds in ascending order (object keys put integer-like ones first). */
const bounds = (buckets: Readonly<Record<string, string>> | undefined): string[] => Object.keys(buckets ?? {}).sort((a, b) => Number(a.replace('+Inf', 'Infinity')) - Number(b.replace('+Inf', 'Infinity')));

describe('Mixer self-monitoring metrics on the admin /metrics', () => {
  let t: Running | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  const scrapeAdmin = async (): Promise<ParsedFamily[]> => parsePrometheusText(await (await t!.admin('/metrics')).text());
  const value = (families: readonly ParsedFamily[], name: string, labels: Record<string, string> = {}): string | undefined => sampleOf(families, name, labels)?.value;
  const family = (families: readonly ParsedFamily[], name: string): ParsedFamily => {
    const f = families.find((x) => x.name === name);
    if (!f) throw new Error(`no family ${name}`);
    return f;
  };
  const put = (yaml: string) => t!.admin('/api/v1/config', { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: yaml });
  const handlerGauges = (families: readonly ParsedFamily[]) => ({
    created: value(families, 'mixer_handler_new_handlers_total'),
    reused: value(families, 'mixer_handler_reused_handlers_total'),
    closed: value(families, 'mixer_handler_closed_handlers_total'),
    buildFailures: value(families, 'mixer_handler_handler_build_failures_total'),
    closeFailures: value(families, 'mixer_handler_handler_close_failures_total'),
  });
  const configGauges = (families: readonly ParsedFamily[]) =>
    Object.fromEntries(
      ['attributes', 'handler_configs', 'instance_configs', 'instance_config_errors', 'rule_configs', 'rule_config_errors', 'adapter_info_configs', 'template_configs'].map((k) => [
        k,
        value(families, `mixer_config_${k}_total`),
      ]),
    );

  it('counts dispatches per handler and Report, and destinations and instances per attribute set, with Mixer names, labels and buckets', async () => {
    t = await startTelemux({ configYaml: CONFIG_A, extraAdapters: [recordingAdapter().adapter] });
    expect((await t.report(buildReport([...sets(200, 3), ...sets(503, 2)]))).code).toBe(0);
    expect((await t.report(buildReport(sets(200, 1)))).code).toBe(0);
    const f = await scrapeAdmin();

    const recA = { meshFunction: 'metric', handler: 'rec-a.istio-system', adapter: 'recording', error: 'false' };
    const legacyLabels = { meshFunction: 'metric', handler: 'legacy.prometheus.istio-system', adapter: 'prometheus', error: 'false' };
    const dispatches = family(f, 'mixer_runtime_dispatches_total');
    expect(dispatches.type).toBe('COUNTER');
    // One dispatch per handler per Report that gave it instances: legacy got none from the second.
    expect(dispatches.metrics.map((m) => m.labels)).toEqual(expect.arrayContaining([recA, legacyLabels]));
    expect(dispatches.metrics).toHaveLength(2);
    expect(value(f, 'mixer_runtime_dispatches_total', recA)).toBe('2');
    expect(value(f, 'mixer_runtime_dispatches_total', legacyLabels)).toBe('1');

    const duration = family(f, 'mixer_runtime_dispatch_duration_seconds');
    expect(duration.type).toBe('HISTOGRAM');
    expect(duration.metrics).toHaveLength(2);
    for (const m of duration.metrics) expect(bounds(m.buckets)).toEqual(DURATION_BOUNDS);
    expect(sampleOf(f, 'mixer_runtime_dispatch_duration_seconds', recA)?.count).toBe('2');
    expect(sampleOf(f, 'mixer_runtime_dispatch_duration_seconds', recA)?.buckets?.['+Inf']).toBe('2');
    expect(sampleOf(f, 'mixer_runtime_dispatch_duration_seconds', legacyLabels)?.count).toBe('1');
    // The same timing as Telemux's own histogram, which is still there.
    expect(sampleOf(f, 'telemux_dispatch_duration_seconds', { handler: 'rec-a.handler.istio-system', adapter: 'recording', error: 'false' })?.count).toBe('2');

    // Per set: a 200 matches rec-a's one unconditional group (two rules, one group as in Mixer)
    // and builds hits + codes; a 503 also matches rec-a's error group and legacy's, and builds
    // codes twice more. Sets: 1,1,1,3,3 and 1 destinations; 2,2,2,4,4 and 2 instances.
    const destinations = sampleOf(f, 'mixer_dispatcher_destinations_per_request');
    expect(family(f, 'mixer_dispatcher_destinations_per_request').type).toBe('HISTOGRAM');
    expect(bounds(destinations?.buckets)).toEqual(COUNT_BOUNDS);
    expect(destinations).toMatchObject({ count: '6', sum: '10', labels: {} });
    expect(destinations!.buckets).toMatchObject({ '0': '0', '1': '4', '2': '4', '3': '6', '20': '6', '+Inf': '6' });
    const instances = sampleOf(f, 'mixer_dispatcher_instances_per_request');
    expect(bounds(instances?.buckets)).toEqual(COUNT_BOUNDS);
    expect(instances).toMatchObject({ count: '6', sum: '16' });
    expect(instances!.buckets).toMatchObject({ '0': '0', '1': '0', '2': '4', '3': '4', '4': '6', '+Inf': '6' });

    // The config gauges of the config serving, the handler gauges of its start.
    expect(family(f, 'mixer_config_rule_configs_total').type).toBe('GAUGE');
    expect(configGauges(f)).toEqual({
      attributes: '2',
      handler_configs: '2',
      instance_configs: '2',
      instance_config_errors: '0',
      rule_configs: '4',
      rule_config_errors: '0',
      adapter_info_configs: '0',
      template_configs: '0',
    });
    expect(handlerGauges(f)).toEqual({ created: '2', reused: '0', closed: '0', buildFailures: '0', closeFailures: '0' });
    // Mixer metrics Telemux has nothing behind are left out rather than made up.
    for (const absent of ['mixer_config_handler_validation_error_total', 'mixer_handler_workers_total', 'mixer_handler_daemons_total', 'mixer_checkcache_cache_hits_total']) {
      expect(f.find((x) => x.name === absent)).toBeUndefined();
    }
  });

  it('sets the handler and config gauges on each config change, and counts failed dispatches with error="true"', async () => {
    t = await startTelemux({ configYaml: CONFIG_A, extraAdapters: [recordingAdapter().adapter] });

    // rec-a kept, legacy rebuilt (its params changed), rec-b new; the old legacy closed.
    expect((await put(configB('{label: b, throwOnHandle: true}'))).status).toBe(200);
    let f = await scrapeAdmin();
    expect(handlerGauges(f)).toEqual({ created: '2', reused: '1', closed: '1', buildFailures: '0', closeFailures: '0' });
    expect(configGauges(f)).toMatchObject({ handler_configs: '3', instance_configs: '2', rule_configs: '5', rule_config_errors: '0' });

    expect((await t.report(buildReport(sets(200, 1)))).code).not.toBe(0);
    f = await scrapeAdmin();
    const recB = { meshFunction: 'metric', handler: 'rec-b.istio-system', adapter: 'recording' };
    expect(value(f, 'mixer_runtime_dispatches_total', { ...recB, error: 'true' })).toBe('1');
    expect(value(f, 'mixer_runtime_dispatches_total', { ...recB, error: 'false' })).toBeUndefined();
    expect(sampleOf(f, 'mixer_runtime_dispatch_duration_seconds', { ...recB, error: 'true' })?.count).toBe('1');
    expect(value(f, 'mixer_runtime_dispatches_total', { handler: 'rec-a.istio-system', error: 'false' })).toBe('1');
    // rec-a's group and rec-b's: 2 destinations; hits + codes for rec-a, hits for rec-b.
    expect(sampleOf(f, 'mixer_dispatcher_destinations_per_request')).toMatchObject({ count: '1', sum: '2' });
    expect(sampleOf(f, 'mixer_dispatcher_instances_per_request')).toMatchObject({ count: '1', sum: '3' });

    // rec-b fails to build: the config is refused and the handlers serving stay as they were.
    expect((await put(configB('{label: b, failStart: true}'))).status).toBe(422);
    f = await scrapeAdmin();
    expect(handlerGauges(f)).toEqual({ created: '2', reused: '1', closed: '1', buildFailures: '1', closeFailures: '0' });

    // A config with a broken instance and a broken rule is refused: the error gauges show its
    // errors, the counts still describe the config serving.
    expect((await put(BROKEN)).status).toBe(422);
    f = await scrapeAdmin();
    expect(configGauges(f)).toMatchObject({ instance_config_errors: '1', rule_config_errors: '1', handler_configs: '3', rule_configs: '5' });

    // Back to the first config: rec-a kept, legacy rebuilt, the revised legacy and rec-b closed.
    expect((await put(CONFIG_A)).status).toBe(200);
    f = await scrapeAdmin();
    expect(handlerGauges(f)).toEqual({ created: '1', reused: '1', closed: '2', buildFailures: '0', closeFailures: '0' });
    expect(configGauges(f)).toMatchObject({ handler_configs: '2', rule_configs: '4', instance_config_errors: '0', rule_config_errors: '0' });
  });
});
