/**
 * V8 settings Telemux runs best with, applied before any other module is evaluated (main.ts
 * imports this first).
 *
 * Allocation-site pretenuring off. V8 watches each object literal's allocations and, once most of
 * them survive a young-generation collection, allocates that site's objects straight into the
 * old generation. On the Report path the survivors are the Reports in flight when a scavenge
 * happens, so V8 ends up pretenuring short-lived objects. The old generation then fills with
 * garbage a few MB at a time, and under sustained load V8 ran a full mark-compact two to three
 * times a second, each a 5–20 ms pause plus marking steps. Turned off, the same load ran 0–6 mark-compacts in
 * 8 s instead of 16–23, and Report p99 fell with them (BENCHMARKS.md, round 5).
 *
 * An explicit `--[no-]allocation-site-pretenuring` on the node command line wins.
 */
import { setFlagsFromString } from 'node:v8';

const FLAG = 'allocation-site-pretenuring';

const explicit = process.execArgv.some((a) => {
  const flag = a.replace(/_/g, '-');
  return flag === `--${FLAG}` || flag === `--no-${FLAG}`;
});
if (!explicit) setFlagsFromString(`--no-${FLAG}`);
