import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildReport, int, str } from '../../src/client/compressor.js';
import { runCli } from '../support/cli.js';
import { startTelemux, type Running } from '../support/harness.js';
import { parsePrometheusText, sampleOf } from '../support/prom-text.js';

const MANIFEST = `apiVersion: config.istio.io/v1alpha2
kind: attributemanifest
metadata: {name: attrs, namespace: istio-system}
spec:
  attributes:
    request.path: {valueType: STRING}
    response.code: {valueType: INT64}
`;

const HITS = `---
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

function codes(description = 'last response code'): string {
  return `apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: codes, namespace: istio-system}
spec:
  compiledTemplate: metric
  params: {value: response.code | 0, dimensions: {path: request.path | "none"}}
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: prom-b, namespace: istio-system}
spec:
  compiledAdapter: prometheus
  params:
    metrics: [{name: last_code, namespace: app, description: "${description}", instance_name: codes.instance.istio-system, kind: GAUGE, label_names: [path]}]
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: codes, namespace: istio-system}
spec:
  actions: [{handler: prom-b, instances: [codes]}]
`;
}

/** A second file with three independent mistakes, each on a known line. */
const BROKEN_CODES = `apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: {name: codes, namespace: istio-system}
spec:
  compiledTemplate: metric
  params: {value: response.cod | 0, dimensions: {path: request.path | "none"}}
---
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: {name: prom-b, namespace: istio-system}
spec:
  compiledAdapter: promethus
  params: {}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: codes, namespace: istio-system}
spec:
  actions: [{handler: prom-b, instances: [codez]}]
`;

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

const sets = (path: string, n: number, code = 200) => Array.from({ length: n }, () => ({ 'request.path': str(path), 'response.code': int(code) }));

describe('telemux apply', () => {
  let t: Running | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await t?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    t = undefined;
    dir = undefined;
  });

  async function files(entries: Record<string, string>): Promise<string> {
    dir ??= await mkdtemp(join(tmpdir(), 'telemux-apply-'));
    const sub = await mkdtemp(join(dir, 'set-'));
    for (const [name, text] of Object.entries(entries)) await writeFile(join(sub, name), text);
    return sub;
  }

  const hits = async (path: string): Promise<string | undefined> => sampleOf(await t!.scrape(), 'istio_hits_total', { path })?.value;
  const selfMetric = async (name: string, labels: Record<string, string> = {}): Promise<string | undefined> =>
    sampleOf(parsePrometheusText(await (await t!.admin('/metrics')).text()), name, labels)?.value;

  it('applies a valid change: the new metric appears and an unchanged handler keeps counting from where it was', async () => {
    t = await startTelemux({ configYaml: MANIFEST + HITS });
    expect((await t.report(buildReport(sets('/a', 3)))).code).toBe(0);
    expect(await hits('/a')).toBe('3');

    const set = await files({ '10-base.yaml': MANIFEST + HITS, '20-codes.yaml': codes() });
    const run = await runCli(['apply', '-f', set, '--server', t.adminUrl]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('handler prom-a.handler.istio-system unchanged\n');
    expect(run.stdout).toContain('handler prom-b.handler.istio-system created\n');
    expect(run.stdout).toMatch(/^config [0-9a-f]{12} applied: 1 created, 0 changed, 1 unchanged, 0 removed$/m);

    // The unchanged handler's series survived the reload: no reset.
    expect(await hits('/a')).toBe('3');
    expect((await t.report(buildReport([...sets('/a', 2), ...sets('/b', 1, 503)]))).code).toBe(0);
    const families = await t.scrape();
    expect(sampleOf(families, 'istio_hits_total', { path: '/a' })?.value).toBe('5');
    expect(sampleOf(families, 'app_last_code', { path: '/b' })?.value).toBe('503');

    const info = (await (await t.admin('/api/v1/config')).json()) as { hash: string; origin: string; files: string[]; counts: { handlers: number }; last_apply: { applied: boolean; trigger: string } };
    expect(run.stdout).toContain(`config ${info.hash.slice(0, 12)} applied`);
    expect(info.origin).toBe('api');
    expect(info.files).toEqual([join(set, '10-base.yaml'), join(set, '20-codes.yaml')]);
    expect(info.counts.handlers).toBe(2);
    expect(info.last_apply).toMatchObject({ applied: true, trigger: 'api' });
    expect(await selfMetric('telemux_config_applies_total', { result: 'applied' })).toBe('2');
    expect(await selfMetric('telemux_config_info', { hash: info.hash })).toBe('1');
    expect(await selfMetric('telemux_config_last_apply_success')).toBe('1');
  });

  it('rejects a broken change with a non-zero exit and every error at its file:line:col, and keeps serving the old config', async () => {
    t = await startTelemux({ configYaml: MANIFEST + HITS + '---\n' + codes() });
    const before = (await (await t.admin('/api/v1/config')).json()) as { hash: string };
    expect((await t.report(buildReport(sets('/a', 4)))).code).toBe(0);

    const set = await files({ 'base.yaml': MANIFEST + HITS, 'codes.yaml': BROKEN_CODES });
    const run = await runCli(['apply', '-f', set, '--server', t.adminUrl]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const file = join(set, 'codes.yaml');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${file}:6:19: spec\\.params\\.value: unknown attribute response\\.cod \\(did you mean response\\.code\\?\\).*\\[EXPR_UNKNOWN_ATTRIBUTE\\]$`)),
        expect.stringMatching(new RegExp(`^${file}:12:20: spec\\.compiledAdapter: unknown adapter 'promethus' \\(did you mean 'prometheus'\\?\\).*\\[CFG_UNKNOWN_ADAPTER\\]$`)),
        expect.stringMatching(new RegExp(`^${file}:19:43: spec\\.actions\\[0\\]\\.instances\\[0\\]: instance 'codez' not found.*\\[CFG_UNRESOLVED_INSTANCE\\]$`)),
      ]),
    );
    expect(lines.at(-1)).toBe(`telemux: config rejected with 3 error(s); the server keeps running config ${before.hash.slice(0, 12)}`);

    // The old config is still the one serving, and still counting.
    const after = (await (await t.admin('/api/v1/config')).json()) as { hash: string; last_apply: { applied: boolean; errors: number } };
    expect(after.hash).toBe(before.hash);
    expect(after.last_apply).toMatchObject({ applied: false, errors: 3 });
    expect((await t.report(buildReport([...sets('/a', 1), ...sets('/c', 1, 404)]))).code).toBe(0);
    const families = await t.scrape();
    expect(sampleOf(families, 'istio_hits_total', { path: '/a' })?.value).toBe('5');
    expect(sampleOf(families, 'app_last_code', { path: '/c' })?.value).toBe('404');
    expect(await selfMetric('telemux_config_applies_total', { result: 'rejected' })).toBe('1');
    expect(await selfMetric('telemux_config_last_apply_success')).toBe('0');
    expect(await selfMetric('telemux_config_issues', { severity: 'error' })).toBe('3');
    expect(await selfMetric('telemux_config_info', { hash: before.hash })).toBe('1');
  });

  it('rebuilds a changed handler on every apply without "already registered" failures, while the unchanged one keeps its series', async () => {
    t = await startTelemux({ configYaml: MANIFEST + HITS });
    expect((await t.report(buildReport(sets('/a', 1)))).code).toBe(0);
    for (let i = 0; i < 5; i++) {
      const set = await files({ 'all.yaml': `${MANIFEST}${HITS}---\n${codes(`revision ${i}`)}` });
      const run = await runCli(['apply', '-f', set, '--server', t.adminUrl]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`handler prom-b.handler.istio-system ${i === 0 ? 'created' : 'changed'}\n`);
      expect(run.stdout).toContain('handler prom-a.handler.istio-system unchanged\n');
      expect((await t.report(buildReport(sets('/a', 1, 200 + i)))).code).toBe(0);
      const text = await t.scrapeText();
      expect(text).toContain(`# HELP app_last_code revision ${i}\n`);
      const families = parsePrometheusText(text);
      expect(sampleOf(families, 'app_last_code', { path: '/a' })?.value).toBe(String(200 + i));
      expect(sampleOf(families, 'istio_hits_total', { path: '/a' })?.value).toBe(String(i + 2));
    }
    // Removing the handler takes its metric off /metrics.
    const set = await files({ 'all.yaml': MANIFEST + HITS });
    const run = await runCli(['apply', '-f', set, '--server', t.adminUrl]);
    expect(run.stdout).toContain('handler prom-b.handler.istio-system removed\n');
    expect(await t.scrapeText()).not.toContain('app_last_code');
    expect(await hits('/a')).toBe('6');
  });

  it('requires the admin token when one is set, taking it from --token or TELEMUX_ADMIN_TOKEN', async () => {
    t = await startTelemux({ configYaml: MANIFEST + HITS, adminToken: 's3cret' });
    const set = await files({ 'all.yaml': MANIFEST + HITS });
    const denied = await runCli(['apply', '-f', set, '--server', t.adminUrl]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/missing or wrong bearer token.*\[API_UNAUTHORIZED\] — pass --token or set TELEMUX_ADMIN_TOKEN/);
    const wrong = await t.admin('/api/v1/config', { headers: { authorization: 'Bearer s3cre' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="telemux"');
    expect(await wrong.json()).toEqual({ error: { code: 'API_UNAUTHORIZED', message: expect.any(String) } });

    expect((await runCli(['apply', '-f', set, '--server', t.adminUrl, '--token', 's3cret'])).code).toBe(0);
    expect((await runCli(['apply', '-f', set, '--server', t.adminUrl], 20_000, { TELEMUX_ADMIN_TOKEN: 's3cret' })).code).toBe(0);
    // Scrapes and probes stay open: only the API is guarded.
    expect((await t.admin('/metrics')).status).toBe(200);
    expect((await t.admin('/healthz')).status).toBe(200);
  });

  it('reports an unreachable server and a missing path with exit 1', async () => {
    const port = await closedPort();
    const gone = await runCli(['apply', '-f', 'config', '--server', `127.0.0.1:${port}`]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`cannot reach the Telemux admin API at http://127.0.0.1:${port}: ECONNREFUSED`);
    const missing = await runCli(['apply', '-f', '/nonexistent/telemux.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read \/nonexistent\/telemux\.yaml/);
  });
});

describe('the config API', () => {
  let t: Running;
  afterEach(async () => {
    await t.stop();
  });

  it('takes a raw YAML body named by ?file=, and answers bad requests with stable error codes', async () => {
    t = await startTelemux({ configYaml: MANIFEST + HITS });
    const put = (body: string, init: { type?: string; query?: string; method?: string } = {}) =>
      t.admin(`/api/v1/config${init.query ?? ''}`, { method: init.method ?? 'PUT', headers: { 'content-type': init.type ?? 'application/yaml' }, body });

    const bad = await put('kind: rule\nmetadata: {name: x}\nspec: {actions: [{handler: nope, instances: []}]}\n', { query: '?file=mine.yaml' });
    expect(bad.status).toBe(422);
    const body = (await bad.json()) as { applied: boolean; issues: { file: string; line: number; col: number; code: string; text: string }[] };
    expect(body.applied).toBe(false);
    expect(body.issues[0]).toMatchObject({ file: 'mine.yaml', line: 3, code: 'CFG_UNRESOLVED_HANDLER' });
    expect(body.issues[0]!.text).toMatch(/^mine\.yaml:3:\d+: spec\.actions\[0\]\.handler: handler 'nope' not found/);

    const ok = await put(MANIFEST + HITS);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ applied: true, summary: { unchanged: ['prom-a.handler.istio-system'], created: [], changed: [], removed: [] }, warnings: [] });

    expect((await put('{"files": 3}', { type: 'application/json' })).status).toBe(400);
    expect(await (await put('{"files": [{"name": "a.yaml"}]}', { type: 'application/json' })).json()).toEqual({ error: { code: 'API_BAD_REQUEST', message: 'files[0]: expected {"name": non-empty string, "content": string}' } });
    expect((await put('not json', { type: 'application/json' })).status).toBe(400);
    expect((await put('')).status).toBe(400);
    const del = await put('', { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, HEAD, PUT, POST');
    const big = await put('#'.repeat(8 * 1024 * 1024 + 1));
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('API_TOO_LARGE');
    // None of that disturbed the running config.
    expect((await t.report(buildReport(sets('/z', 1)))).code).toBe(0);
    expect(sampleOf(await t.scrape(), 'istio_hits_total', { path: '/z' })?.value).toBe('1');
  });
});
