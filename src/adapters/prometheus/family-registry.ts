import type { ExpositionRegistry } from '../../core/adapter.js';
import { LabelValues, MetricFamily, type FamilyView } from './series-store.js';

/** What makes two metric families the same collector: Prometheus' descriptor plus the buckets. */
export type FamilyDefinition = Pick<FamilyView, 'name' | 'help' | 'kind' | 'labelNames' | 'upperBounds'>;

interface Entry {
  readonly family: MetricFamily;
  users: number;
}

/**
 * The metric families of every prometheus handler behind one /metrics endpoint, shared the way
 * Mixer's process-wide registry shared collectors (spec §7.1): a handler built with a metric
 * whose definition is already held gets that family, series and all. So a reload that rebuilds a
 * handler (a metric added, an instance expression edited, the expiry changed) keeps the series of
 * the metrics it did not redefine, instead of resetting every counter of the handler, and two
 * handlers exporting the same metric add up into the same series. A family lives while a handler
 * holds it; one whose definition changed is a new family, starting from zero.
 *
 * All families share one label value store, so a family can move between handlers with its label
 * ids intact.
 */
export class FamilyRegistry {
  readonly labels = new LabelValues();
  private readonly entries = new Map<string, Entry>();

  /** The family of `def`, made if no handler holds one; release it when the handler closes. */
  acquire(def: FamilyDefinition): MetricFamily {
    const key = definitionKey(def);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { family: new MetricFamily(def.name, def.help, def.kind, def.labelNames, def.upperBounds, this.labels), users: 0 };
      this.entries.set(key, entry);
    }
    entry.users++;
    return entry.family;
  }

  release(family: MetricFamily): void {
    const key = definitionKey(family);
    const entry = this.entries.get(key);
    if (entry === undefined || entry.family !== family) return;
    if (--entry.users > 0) return;
    this.entries.delete(key);
    // Its label values are no longer anyone's.
    family.clear();
  }

  /** Families held by at least one handler. */
  get size(): number {
    return this.entries.size;
  }
}

function definitionKey(def: FamilyDefinition): string {
  // Bounds as exact doubles: two configs spelling the same bound differently are the same bucket.
  return JSON.stringify([def.name, def.help, def.kind, def.labelNames, def.upperBounds]);
}

/** One registry per endpoint: the scope of a Prometheus scrape, as Mixer's was its one process. */
const registries = new WeakMap<ExpositionRegistry, FamilyRegistry>();

export function familyRegistryOf(exposition: ExpositionRegistry): FamilyRegistry {
  let r = registries.get(exposition);
  if (r === undefined) {
    r = new FamilyRegistry();
    registries.set(exposition, r);
  }
  return r;
}
