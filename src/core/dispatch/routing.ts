import type { Handler, MetricInstance } from '../adapter.js';
import type { AttributeBag } from '../attributes/bag.js';
import type { ConfigSnapshot } from '../config/compile.js';
import type { CompiledExpression } from '../expr/index.js';
import type { MetricInstanceBuilder } from '../templates/metric.js';

/** One rule's condition with the builders of that rule's instances for one handler. */
export interface InstanceGroup {
  readonly rule: string;
  readonly match: CompiledExpression | undefined;
  readonly builders: readonly MetricInstanceBuilder[];
}

/** A handler with every group that feeds it; `batch` collects one Report's instances. */
export class Destination {
  readonly groups: InstanceGroup[] = [];
  readonly batch: MetricInstance[] = [];

  constructor(
    readonly name: string,
    readonly adapter: string,
    readonly handler: Handler,
  ) {}
}

/**
 * The compiled routing table of one snapshot (spec §8.1): namespace → destinations. Rules of the
 * default namespace apply to all traffic; another namespace's list is the default list followed by
 * its own.
 */
export class RoutingTable {
  private readonly byNamespace = new Map<string, readonly Destination[]>();
  readonly defaults: readonly Destination[];
  /** Every destination once, for flushing batches. */
  readonly all: readonly Destination[];

  constructor(snapshot: ConfigSnapshot, handlers: ReadonlyMap<string, Handler>) {
    const perNs = new Map<string, Map<string, Destination>>();
    const all = new Map<string, Destination>();
    for (const rule of snapshot.rules) {
      let dests = perNs.get(rule.namespace);
      if (!dests) perNs.set(rule.namespace, (dests = new Map()));
      for (const action of rule.actions) {
        const handler = handlers.get(action.handler);
        if (!handler) continue;
        // The same handler may appear under several namespaces; each list gets its own
        // Destination object but they share the handler, and `all` tracks one batch per list entry.
        let d = dests.get(action.handler);
        if (!d) {
          d = new Destination(action.handler, snapshot.handlers.get(action.handler)?.adapter.name ?? '', handler);
          dests.set(action.handler, d);
          all.set(`${rule.namespace}\u0000${action.handler}`, d);
        }
        d.groups.push({ rule: rule.name, match: rule.match, builders: action.builders });
      }
    }
    const defaults = [...(perNs.get(snapshot.defaultNamespace)?.values() ?? [])];
    this.defaults = defaults;
    for (const [ns, dests] of perNs) {
      if (ns === snapshot.defaultNamespace) continue;
      this.byNamespace.set(ns, [...defaults, ...dests.values()]);
    }
    this.all = [...all.values()];
  }

  destinationsFor(namespace: string): readonly Destination[] {
    return this.byNamespace.get(namespace) ?? this.defaults;
  }
}

/** Reads the identity namespace of a bag (spec §5.4) through pre-resolved slots. */
export class NamespaceResolver {
  constructor(
    private readonly kindSlot: number,
    private readonly destinationNsSlot: number,
    private readonly sourceNsSlot: number,
  ) {}

  resolve(bag: AttributeBag): string {
    const v = bag.values;
    const kind = this.kindSlot >= 0 ? (v[this.kindSlot] as string | undefined) ?? 'inbound' : 'inbound';
    if (kind === 'inbound') return this.destinationNsSlot >= 0 ? ((v[this.destinationNsSlot] as string | undefined) ?? '') : '';
    if (kind === 'outbound') return this.sourceNsSlot >= 0 ? ((v[this.sourceNsSlot] as string | undefined) ?? '') : '';
    return '';
  }
}
