import type { AttributeBag } from '../attributes/bag.js';
import type { Refusal } from '../security/refusal.js';
import type { SeriesCheck } from '../security/series-quota.js';
import type { RequestCounts } from './request-counts.js';
import { MATCH_ERROR, MATCH_TRUE, type Destination, type NamespaceResolver, type RoutingTable } from './routing.js';

/** Where dispatch reports what it did; the server wires it to self-metrics. */
export interface DispatchObserver {
  buildError(instance: string): void;
  matchError(rule: string): void;
  /** Once per handler per Report, with the time its handleMetrics took. */
  handlerDispatched(d: Destination, instances: number, seconds: number, failed: boolean): void;
  /** Per attribute set: matched instance groups and built instances (Mixer's per-request histograms). */
  readonly requests?: RequestCounts;
}

export interface DispatchOutcome {
  readonly instances: number;
  /** Instance-build and handler errors (spec §1.5: the Report then answers UNKNOWN). */
  readonly errors: readonly string[];
  /** Set when the series quota refused the Report: no handler received anything. */
  readonly refusal?: Refusal;
}

const MAX_ERROR_TEXTS = 10;

/**
 * Report dispatch (spec §8.2): for every bag, evaluate each destination's rule conditions (an error
 * counts as false), build the matching instances into the destination's batch, then hand every
 * non-empty batch to its handler once. A failing instance or handler never stops the others.
 * Per bag, each distinct condition, instance and dimension list is evaluated at most once and
 * shared by every destination that needs it (handlers only read instances).
 */
export function dispatchReport(
  bags: readonly AttributeBag[],
  routing: RoutingTable,
  namespaces: NamespaceResolver,
  observer: DispatchObserver,
  quota?: SeriesCheck,
): DispatchOutcome {
  let errors: string[] | undefined;
  let errorCount = 0;
  const fail = (text: string): void => {
    errorCount++;
    if ((errors ??= []).length < MAX_ERROR_TEXTS) errors.push(text);
  };
  const memo = routing.memo;
  const requests = observer.requests;
  for (let i = 0; i < bags.length; i++) {
    const bag = bags[i]!;
    memo.next();
    // Counted as Mixer counted them per request (spec §8.5): groups whose condition held, and
    // instances built, also when a series quota later refuses the Report.
    let matched = 0;
    let built = 0;
    const dests = routing.destinationsFor(namespaces.resolve(bag));
    for (let d = 0; d < dests.length; d++) {
      const dest = dests[d]!;
      const groups = dest.groups;
      for (let g = 0; g < groups.length; g++) {
        const group = groups[g]!;
        if (group.matchId >= 0) {
          const m = memo.match(group.matchId, bag);
          if (m === MATCH_ERROR && memo.firstMatchErrorOf(group.ruleId)) observer.matchError(group.rule);
          if (m !== MATCH_TRUE) continue;
        }
        matched += group.mixerGroup;
        const ids = group.builderIds;
        for (let b = 0; b < ids.length; b++) {
          // Built once per set however many handlers receive it; a failure is still reported
          // once per handler, as when each built its own.
          const inst = memo.instance(ids[b]!, bag);
          if (inst !== undefined) {
            dest.add(inst);
            built++;
          } else {
            const name = group.builders[b]!.spec.name;
            observer.buildError(name);
            fail(`attributes[${i}]: instance '${name}': ${memo.instanceError(ids[b]!)}`);
          }
        }
      }
    }
    requests?.record(matched, built);
  }
  // Pooled bags are reused by the next Report: keep nothing of this one reachable from the memo.
  memo.release();
  if (quota !== undefined) {
    // Every new series of the Report fits the tenant's quota, or no handler gets any instance.
    check: for (const dest of routing.all) {
      for (let k = 0; k < dest.size; k++) {
        const inst = dest.peek(k);
        if (!quota.offer(inst.spec.name, inst.dimensions)) break check;
      }
    }
    const refusal = quota.settle();
    if (refusal !== undefined) {
      for (const dest of routing.all) dest.discard();
      return { instances: 0, errors: NO_ERRORS, refusal };
    }
  }
  let instances = 0;
  for (const dest of routing.all) {
    const n = dest.size;
    if (n === 0) continue;
    const batch = dest.take();
    instances += n;
    const t0 = performance.now();
    let failed = false;
    try {
      const result = dest.handler.handleMetrics(batch);
      if (result) {
        failed = true;
        fail(`handler '${dest.name}': ${result.failed} instance(s) not recorded: ${result.message}`);
      }
    } catch (e) {
      failed = true;
      fail(`handler '${dest.name}' failed: ${(e as Error).message}`);
    }
    observer.handlerDispatched(dest, n, (performance.now() - t0) / 1000, failed);
  }
  if (errorCount > MAX_ERROR_TEXTS && errors) errors.push(`… and ${errorCount - MAX_ERROR_TEXTS} more`);
  return { instances, errors: errors ?? NO_ERRORS };
}

const NO_ERRORS: readonly string[] = Object.freeze([]);
