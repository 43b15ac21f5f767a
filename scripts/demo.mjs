#!/usr/bin/env node
// `npm run demo`: Telemux on its embedded default config, a simulated Bookinfo mesh reporting to
// it, and `telemux stat` every few seconds. Everything binds to loopback on free ports and stops
// by itself after --duration (Ctrl-C stops early).
//
//   npm run demo -- [--duration 60s] [--rate 30] [--interval 5s] [--seed N] [--no-build]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'src', 'main.js');

const USAGE = 'usage: npm run demo -- [--duration 60s] [--rate 30] [--interval 5s] [--seed N] [--no-build]';
let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      duration: { type: 'string', default: '60s' },
      rate: { type: 'string', default: '30' },
      interval: { type: 'string', default: '5s' },
      seed: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
    },
  }));
} catch (e) {
  console.error(`demo: ${e.message}\n${USAGE}`);
  process.exit(2);
}

/** Newest modification time under `dir`, in ms. */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

if (!opts['no-build'] && (!existsSync(cli) || newest(join(root, 'src')) > statSync(cli).mtimeMs)) {
  console.log('demo: building (tsc)…');
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status !== 0 && !existsSync(cli)) process.exit(1);
}

const children = new Set();
function run(args, { capture = false } = {}) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', capture ? 'pipe' : 'inherit', capture ? 'pipe' : 'inherit'] });
  children.add(child);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => (children.delete(child), resolve(code ?? (signal ? 1 : 0)))));
  return { child, exited };
}

let stopping = false;
function stopAll(signal) {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill(signal);
}
process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGINT'));

// 1. The aggregator, on free loopback ports; its startup line says which.
const serve = run(['serve', '--grpc-address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0', '--drain-duration', '0s', '--no-watch-config'], { capture: true });
let serveLog = '';
const ports = await new Promise((resolve, reject) => {
  serve.child.stderr.on('data', (d) => {
    serveLog += d;
    const m = /msg="telemux started" grpc=(\S+) metrics=(\S+) admin=(\S+)/.exec(serveLog);
    if (m) resolve({ grpc: m[1], metrics: m[2], admin: m[3] });
  });
  serve.exited.then((code) => reject(new Error(`telemux serve exited with ${code}:\n${serveLog}`)));
}).catch((e) => {
  console.error(`demo: ${e.message}`);
  process.exit(1);
});
serve.child.stdout.resume();

console.log(`demo: telemux is serving on the embedded default config
  Mixer gRPC (Report)   ${ports.grpc}
  mesh metrics          http://${ports.metrics}/metrics
  admin + API           http://${ports.admin}   (try: curl http://${ports.admin}/api/v1/config)
demo: simulating Bookinfo at ${opts.rate} requests/s for ${opts.duration}; Ctrl-C stops early
`);

// 2. The mesh, and the view of it.
const loadArgs = ['loadgen', '--target', ports.grpc, '--rate', opts.rate, '--duration', opts.duration, '--quiet'];
if (opts.seed) loadArgs.push('--seed', opts.seed);
const load = run(loadArgs);
// The first batches arrive within a second (Envoy's batch age); wait for them before the first table.
await new Promise((r) => setTimeout(r, 1500));
const stat = stopping ? undefined : run(['stat', '--watch', '--interval', opts.interval, '--server', `http://${ports.admin}`]);
// A view that cannot run (say a bad --interval, which it explains) ends the demo rather than
// leaving the mesh running with nothing on screen.
stat?.exited.then((code) => {
  if (code !== 0 && !stopping) {
    console.error(`demo: telemux stat exited with ${code}; stopping\n${USAGE}`);
    stopAll('SIGINT');
  }
});

const loadCode = await load.exited;
if (!stopping) {
  // One last look at the whole run, then shut everything down.
  stopping = true;
  stat?.child.kill('SIGINT');
  await stat?.exited;
  console.log('\ndemo: final numbers (telemux stat --window 1m):');
  await run(['stat', '--server', `http://${ports.admin}`]).exited;
  serve.child.kill('SIGTERM');
}
await Promise.all([...children].map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.on('exit', r)))));
const serveCode = await serve.exited;
if (serveCode !== 0) console.error(`demo: telemux serve exited with ${serveCode}:\n${serveLog}`);
console.log('demo: stopped.');
process.exit(loadCode === 0 && serveCode === 0 ? 0 : 1);
