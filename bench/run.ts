// `npm run bench`: every benchmark in one process and one run, so their ratios are comparable on a
// noisy machine. Never part of `npm test`. Pass names to run a subset: `npm run bench -- statsd`.
import { run as circllhist } from './circllhist.js';
import { run as statsd } from './statsd.js';

const BENCHES: ReadonlyMap<string, () => Promise<void>> = new Map([
  ['circllhist', circllhist],
  ['statsd', statsd],
]);

const wanted = process.argv.slice(2);
for (const name of wanted) if (!BENCHES.has(name)) throw new Error(`unknown bench '${name}' (have: ${[...BENCHES.keys()].join(', ')})`);
for (const [name, bench] of BENCHES) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n## ${name}`);
  await bench();
}
