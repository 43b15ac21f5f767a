import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildReport, str } from '../../src/client/compressor.js';
import { createLogger } from '../../src/core/log.js';
import { startTelemux, type Running } from '../support/harness.js';
import { parsePrometheusText, sampleOf } from '../support/prom-text.js';

const BASE = `apiVersion: config.istio.io/v1alpha2
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
metadata: {name: prom-a, namespace: istio-system}
spec:
  compiledAdapter: prometheus
  params:
    metrics: [{name: hits_total, instance_name: hits.instance.istio-system, kind: COUNTER, label_names: [path]}]
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: hits, namespace: istio-system}
spec:
  actions: [{handler: prom-a, instances: [hits]}]
`;

/** A second handler counting the same instance under another name. */
const EXTRA_HEAD = `apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: prom-b, namespace: istio-system}
spec:
  compiledAdapter: prometheus
  params:
    metrics: [{name: hits_again_total, instance_name: hits.instance.istio-system, `;
const EXTRA_TAIL = `kind: COUNTER, label_names: [path]}]
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: again, namespace: istio-system}
spec:
  actions: [{handler: prom-b, instances: [hits]}]
`;

interface ConfigInfo {
  readonly hash: string;
  readonly trigger: string;
  readonly counts: { readonly handlers: number };
  readonly last_apply: { readonly applied: boolean; readonly trigger: string; readonly errors: number; readonly at: string } | null;
}

describe('watching the --config directory', () => {
  let t: Running | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await t?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('picks up a file written into the directory, rejects a half-written one keeping the previous config, and applies it once complete', async () => {
    dir = await mkdtemp(join(tmpdir(), 'telemux-watch-'));
    await writeFile(join(dir, '10-base.yaml'), BASE);
    const log: string[] = [];
    t = await startTelemux({ configPath: dir, watchConfig: true, watchDebounceMs: 100, logger: createLogger({ sink: { write: (l) => void log.push(l) } }) });
    const info = async (): Promise<ConfigInfo> => (await (await t!.admin('/api/v1/config')).json()) as ConfigInfo;
    /** Waits until an apply newer than `since` has happened. */
    const nextApply = async (since: string | undefined): Promise<ConfigInfo> => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const i = await info();
        if (i.last_apply && i.last_apply.at !== since && i.last_apply.trigger === 'watch') return i;
        if (Date.now() > deadline) throw new Error(`no reload after ${since}: ${JSON.stringify(i)}\n${log.join('')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const hits = async (name: string): Promise<string | undefined> => sampleOf(await t!.scrape(), name, { path: '/w' })?.value;

    const first = await info();
    expect(first.trigger).toBe('startup');
    expect((await t.report(buildReport([{ 'request.path': str('/w') }]))).code).toBe(0);
    // Make sure the next write is not folded into the startup's timestamp.
    await new Promise((r) => setTimeout(r, 20));

    // 1. A new, complete file: applied; the unchanged handler keeps its count.
    await writeFile(join(dir, '20-extra.yaml'), EXTRA_HEAD + EXTRA_TAIL);
    const second = await nextApply(first.last_apply?.at);
    expect(second.last_apply?.applied).toBe(true);
    expect(second.counts.handlers).toBe(2);
    expect(second.hash).not.toBe(first.hash);
    expect(await hits('istio_hits_total')).toBe('1');
    expect((await t.report(buildReport([{ 'request.path': str('/w') }]))).code).toBe(0);
    expect(await hits('istio_hits_total')).toBe('2');
    expect(await hits('istio_hits_again_total')).toBe('1');
    expect(log.join('')).toMatch(/msg="config applied" trigger=watch source=\S+ hash=[0-9a-f]{12} created=1 changed=0 unchanged=1 removed=0 detail="created: prom-b.handler.istio-system"/);

    // 2. A half-written file: rejected with its position; the previous config keeps serving.
    await writeFile(join(dir, '30-more.yaml'), EXTRA_HEAD.replace(/prom-b/g, 'prom-c').replace('hits_again_total', 'hits_third_total'));
    const third = await nextApply(second.last_apply?.at);
    expect(third.last_apply).toMatchObject({ applied: false });
    expect(third.last_apply!.errors).toBeGreaterThan(0);
    expect(third.hash).toBe(second.hash);
    expect(log.join('')).toMatch(new RegExp(`msg="config error" issue="${join(dir, '30-more.yaml')}:\\d+:\\d+: .*\\[CFG_YAML\\]"`));
    expect(log.join('')).toMatch(/msg="config rejected" trigger=watch source=\S+ errors=\d+ keeping=[0-9a-f]{12}/);
    expect((await t.report(buildReport([{ 'request.path': str('/w') }]))).code).toBe(0);
    expect(await hits('istio_hits_total')).toBe('3');
    const self = parsePrometheusText(await (await t.admin('/metrics')).text());
    expect(sampleOf(self, 'telemux_config_applies_total', { result: 'rejected' })?.value).toBe('1');
    expect(sampleOf(self, 'telemux_config_info', { hash: second.hash })?.value).toBe('1');

    // 3. The rest of the file arrives: applied.
    await appendFile(join(dir, '30-more.yaml'), EXTRA_TAIL.replace(/again/g, 'third').replace(/prom-b/g, 'prom-c'));
    const fourth = await nextApply(third.last_apply?.at);
    expect(fourth.last_apply?.applied).toBe(true);
    expect(fourth.counts.handlers).toBe(3);
    expect((await t.report(buildReport([{ 'request.path': str('/w') }]))).code).toBe(0);
    expect(await hits('istio_hits_total')).toBe('4');
    expect(await hits('istio_hits_again_total')).toBe('3');
    expect(await hits('istio_hits_third_total')).toBe('1');
  });

  it('watches a single --config file through its directory, ignoring the other files there', async () => {
    dir = await mkdtemp(join(tmpdir(), 'telemux-watch-'));
    const file = join(dir, 'only.yaml');
    await writeFile(file, BASE);
    t = await startTelemux({ configPath: file, watchConfig: true, watchDebounceMs: 50 });
    const before = ((await (await t.admin('/api/v1/config')).json()) as ConfigInfo).hash;
    // Another file in the same directory is not the config.
    await writeFile(join(dir, 'other.yaml'), 'garbage: [');
    await new Promise((r) => setTimeout(r, 300));
    expect(((await (await t.admin('/api/v1/config')).json()) as ConfigInfo).last_apply?.trigger).toBe('startup');
    await writeFile(file, BASE.replace('hits_total', 'hits2_total'));
    const deadline = Date.now() + 10_000;
    let hash = before;
    while (hash === before && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      hash = ((await (await t.admin('/api/v1/config')).json()) as ConfigInfo).hash;
    }
    expect(hash).not.toBe(before);
  });
});
