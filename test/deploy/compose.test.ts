/**
 * docker-compose.yml cannot be run here, so everything about it that can be checked without Docker
 * is: mounted files exist, services refer to each other consistently, Prometheus accepts its config,
 * the dashboard only queries metrics Telemux (or the StatsD exporter's mapping) actually produces,
 * and the config Telemux runs with in the playground is valid.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createAdapterInventory } from '../../src/adapters/index.js';
import { compileConfig } from '../../src/core/config/compile.js';
import { loadConfigPath } from '../../src/core/config/document.js';
import { formatConfigIssue } from '../../src/core/errors.js';
import { BOOKINFO, reportsOf, TrafficModel, Prng } from '../../src/loadgen/index.js';
import { buildReport } from '../../src/client/compressor.js';
import { startTelemux } from '../support/harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Service {
  readonly build?: string | { readonly context: string; readonly dockerfile?: string };
  readonly image?: string;
  readonly command?: readonly string[];
  readonly volumes?: readonly string[];
  readonly ports?: readonly string[];
  readonly depends_on?: readonly string[] | Readonly<Record<string, unknown>>;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const services = compose.services;

/** `./host:container[:mode]` → [absolute host path, container path]. */
function mounts(s: Service): [string, string][] {
  return (s.volumes ?? []).map((v) => {
    const [host, container] = v.split(':') as [string, string];
    return [join(ROOT, host), container];
  });
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

const promConfig = join(ROOT, 'deploy/prometheus/prometheus.yml');
const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/dashboards/telemux.json'), 'utf8')) as { panels: { type: string; targets?: { expr: string; datasource?: { uid: string } }[]; datasource?: { uid: string } }[] };

const COMPOSE = (
  [
    ['docker-compose', ['version']],
    ['docker', ['compose', 'version']],
  ] as [string, string[]][]
).find(([cmd, args]) => hasCommand(cmd) && spawnSync(cmd, args).status === 0);

describe('docker-compose.yml', () => {
  it('mounts only files and directories that exist, and builds from a Dockerfile that exists', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [host] of mounts(s)) expect(existsSync(host), `${name}: ${host}`).toBe(true);
      if (s.build !== undefined) {
        const context = typeof s.build === 'string' ? s.build : s.build.context;
        const dockerfile = typeof s.build === 'string' ? 'Dockerfile' : (s.build.dockerfile ?? 'Dockerfile');
        expect(statSync(join(ROOT, context, dockerfile)).isFile()).toBe(true);
      }
      expect(s.image ?? s.build, `${name} has neither image nor build`).toBeDefined();
    }
    // Every path the Dockerfile copies exists.
    const docker = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    for (const m of docker.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) for (const src of m[1]!.split(' ')) expect(existsSync(join(ROOT, src)), src).toBe(true);
  });

  it('has the services the playground needs, referring to each other consistently', () => {
    expect(Object.keys(services).sort()).toEqual(['grafana', 'loadgen', 'prometheus', 'statsd', 'telemux']);
    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(services[d], `${name} depends on unknown ${d}`).toBeDefined();
    }
    const telemux = services['telemux']!.command!;
    // The admin port must listen beyond the container's loopback to be scraped.
    expect(telemux[telemux.indexOf('--admin-address') + 1]).toBe('0.0.0.0:15014');
    const loadgen = services['loadgen']!.command!;
    expect(loadgen[loadgen.indexOf('--target') + 1]).toBe('telemux:9091');
    expect(services['loadgen']!.image).toBe(services['telemux']!.image);
    // Grafana's provisioning reads the dashboards where they are mounted.
    const provider = parse(readFileSync(join(ROOT, 'deploy/grafana/provisioning/dashboards/telemux.yaml'), 'utf8')) as { providers: { options: { path: string } }[] };
    expect(mounts(services['grafana']!).map(([, c]) => c)).toContain(provider.providers[0]!.options.path);
    const datasource = parse(readFileSync(join(ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yaml'), 'utf8')) as { datasources: { uid: string; url: string }[] };
    expect(datasource.datasources[0]!.url).toBe('http://prometheus:9090');
    // The StatsD handler sends where statsd_exporter listens.
    const statsdHandler = readFileSync(join(ROOT, 'deploy/telemux/statsd.yaml'), 'utf8');
    expect(statsdHandler).toContain('address: statsd:9125');
    expect(services['statsd']!.command).toContain('--statsd.listen-udp=:9125');
  });

  it('scrapes both of Telemux’s ports and the StatsD exporter, with a config promtool accepts', () => {
    const prom = parse(readFileSync(promConfig, 'utf8')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const targets = prom.scrape_configs.flatMap((j) => j.static_configs.flatMap((c) => c.targets));
    expect(targets).toEqual(expect.arrayContaining(['telemux:42422', 'telemux:15014', 'statsd:9102']));
    for (const t of targets) {
      const host = t.split(':')[0]!;
      if (host !== 'localhost') expect(services[host], t).toBeDefined();
    }
    if (!hasCommand('promtool')) return;
    const out = execFileSync('promtool', ['check', 'config', promConfig], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });

  it.skipIf(COMPOSE === undefined)('passes `docker-compose config` (or `docker compose config`) where Compose is installed', () => {
    const [cmd] = COMPOSE!;
    const args = cmd === 'docker' ? ['compose', '-f', 'docker-compose.yml', 'config', '--quiet'] : ['-f', 'docker-compose.yml', 'config', '--quiet'];
    const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('runs Telemux on a valid config: the embedded default plus the mounted StatsD handler', async () => {
    const loaded = [await loadConfigPath(join(ROOT, 'config')), await loadConfigPath(join(ROOT, 'deploy/telemux/statsd.yaml'))];
    const compiled = compileConfig(
      loaded.flatMap((l) => l.documents),
      { adapters: createAdapterInventory().adapters },
    );
    const errors = [...loaded.flatMap((l) => l.issues), ...compiled.issues].filter((i) => i.severity === 'error').map(formatConfigIssue);
    expect(errors).toEqual([]);
    expect(compiled.snapshot?.counts.handlers).toBe(3);
  });
});

describe('the Grafana dashboard', () => {
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('queries the provisioned Prometheus data source', () => {
    expect(exprs.length).toBeGreaterThan(10);
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource?.uid).toBe('prometheus');
      for (const t of p.targets ?? []) expect(t.datasource?.uid).toBe('prometheus');
    }
  });

  it('uses only metric names that Telemux or the StatsD exporter mapping export', async () => {
    // Run Telemux on the default config with some Bookinfo traffic and read what both ports export.
    const t = await startTelemux();
    let exported: Set<string>;
    try {
      const model = new TrafficModel(BOOKINFO, new Prng(3));
      const sets = Array.from({ length: 20 }, (_, i) => model.userRequest(Date.now() + i)).flat().flatMap((c) => reportsOf(c).map((r) => r.set));
      for (let i = 0; i < sets.length; i += 100) expect((await t.report(buildReport(sets.slice(i, i + 100)))).code).toBe(0);
      const texts = [await t.scrapeText(), await (await t.admin('/metrics')).text()];
      exported = new Set<string>();
      for (const text of texts) {
        for (const line of text.split('\n')) {
          const type = /^# TYPE (\S+) (\S+)/.exec(line);
          if (type) {
            exported.add(type[1]!);
            if (type[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(type[1]! + s);
            if (type[2] === 'counter' && !type[1]!.endsWith('_total')) exported.add(`${type[1]}_total`);
          } else if (/^[a-z]/.test(line)) exported.add(line.split(/[{ ]/)[0]!);
        }
      }
    } finally {
      await t.stop();
    }
    const mapping = parse(readFileSync(join(ROOT, 'deploy/statsd/mapping.yml'), 'utf8')) as { mappings: { name: string; observer_type?: string }[] };
    const fromStatsd = new Set(mapping.mappings.flatMap((m) => (m.observer_type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => m.name + s) : [m.name])));
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:istio|telemux|statsd)_[a-z0-9_]+)\b/g)].map((m) => m[1]!)));
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(exported.has(name) || fromStatsd.has(name), `${name} is not exported`).toBe(true);
    // Every other identifier that looks like a metric is a Prometheus built-in.
    for (const e of exprs) for (const m of e.matchAll(/\b([a-z_]+)\{/g)) expect(used.has(m[1]!) || m[1] === 'up', m[1]).toBe(true);
  });
});
