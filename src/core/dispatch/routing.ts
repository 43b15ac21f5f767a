import type { Handler, MetricInstance } from '../adapter.js';
import type { AttributeBag } from '../attributes/bag.js';
import type { AttributeValue } from '../attributes/value.js';
import type { ConfigSnapshot } from '../config/compile.js';
import type { CompiledExpression } from '../expr/index.js';
import type { MetricInstanceBuilder } from '../templates/metric.js';

/** One rule's condition with the builders of that rule's instances for one handler. */
export interface InstanceGroup {
  readonly rule: string;
  readonly match: CompiledExpression | undefined;
  readonly builders: readonly MetricInstanceBuilder[];
  /** `match`'s index in the routing table's per-set memo (-1: no condition). */
  readonly matchId: number;
  /** The rule's index in the per-set memo: a rule feeding several handlers has a group in each. */
  readonly ruleId: number;
  /** Each builder's index in the routing table's per-set memo, parallel to `builders`. */
  readonly builderIds: Int32Array;
  /**
   * 1 when this is the destination's first group with this condition, else 0. Mixer kept one
   * group per distinct condition of a destination (rules with the same match text shared it) and
   * counted matched groups as `destinations_per_request` (spec §8.5); summing this over the
   * matched groups gives that count.
   */
  readonly mixerGroup: number;
}

/** A handler with every group that feeds it; `batch` collects one Report's instances. */
export class Destination {
  readonly groups: InstanceGroup[] = [];
  /**
   * The batch is overwritten in place, Report after Report, and only cut to length when handed
   * over: emptying it (`length = 0`) would free its storage and regrow it through every size on
   * the next Report, about 11 KB of garbage per 400 instances.
   */
  private readonly items: MetricInstance[] = [];
  private count = 0;

  constructor(
    readonly name: string,
    readonly adapter: string,
    readonly handler: Handler,
    /** The handler's name as Mixer printed it in its self-metrics (see HandlerPlan.mixerName). */
    readonly mixerName: string = name,
  ) {}

  get size(): number {
    return this.count;
  }

  add(instance: MetricInstance): void {
    this.items[this.count++] = instance;
  }

  /** The instances added since the last `take` or `discard`, as an array of exactly that length; starts the next batch. */
  take(): readonly MetricInstance[] {
    const items = this.items;
    if (items.length !== this.count) items.length = this.count;
    this.count = 0;
    return items;
  }

  discard(): void {
    this.count = 0;
  }

  /** The k-th instance of the batch being collected (k < size). */
  peek(k: number): MetricInstance {
    return this.items[k]!;
  }
}

export const MATCH_FALSE = 0;
export const MATCH_TRUE = 1;
export const MATCH_ERROR = 2;

/**
 * What one attribute set has already computed, so that a condition shared by several rules, an
 * instance sent to several handlers, or a dimension list shared by several instances is
 * evaluated once per set (Mixer evaluated each again per handler). Entries are valid while their
 * stamp equals the current set's, so moving to the next set costs one increment, not a clear.
 */
export class SetMemo {
  private stamp = 0;
  private readonly matchStamp: Int32Array;
  private readonly matchValue: Uint8Array;
  private readonly instStamp: Int32Array;
  private readonly instances: (MetricInstance | undefined)[];
  private readonly instError: (string | undefined)[];
  private readonly dimsStamp: Int32Array;
  private readonly dims: (readonly AttributeValue[] | undefined)[];
  private readonly dimsError: (unknown | undefined)[];
  private readonly ruleErrorStamp: Int32Array;

  constructor(
    private readonly matches: readonly CompiledExpression[],
    private readonly builders: readonly MetricInstanceBuilder[],
    /** Per builder: the index of its dimension list among the distinct lists. */
    private readonly dimsOf: Int32Array,
    dimLists: number,
    rules: number,
  ) {
    this.ruleErrorStamp = new Int32Array(rules);
    this.matchStamp = new Int32Array(matches.length);
    this.matchValue = new Uint8Array(matches.length);
    this.instStamp = new Int32Array(builders.length);
    this.instances = new Array<MetricInstance | undefined>(builders.length);
    this.instError = new Array<string | undefined>(builders.length);
    this.dimsStamp = new Int32Array(dimLists);
    this.dims = new Array<readonly AttributeValue[] | undefined>(dimLists);
    this.dimsError = new Array<unknown>(dimLists);
  }

  /** Starts a new attribute set; everything memoised for the previous one is forgotten. */
  next(): void {
    if (++this.stamp === 0x7fffffff) {
      this.stamp = 1;
      this.matchStamp.fill(0);
      this.instStamp.fill(0);
      this.dimsStamp.fill(0);
      this.ruleErrorStamp.fill(0);
    }
  }

  /** Drops references to the last set's values (so pooled bags' strings are not kept alive). */
  release(): void {
    this.instances.fill(undefined);
    this.dims.fill(undefined);
    this.next();
  }

  /** The condition's value for this set: MATCH_TRUE, MATCH_FALSE, or MATCH_ERROR (see matchError). */
  match(id: number, bag: AttributeBag): number {
    if (this.matchStamp[id] !== this.stamp) {
      this.matchStamp[id] = this.stamp;
      try {
        this.matchValue[id] = this.matches[id]!.evaluate(bag) === true ? MATCH_TRUE : MATCH_FALSE;
      } catch {
        // An evaluation error counts as no match (spec §8.2); the caller counts it per rule.
        this.matchValue[id] = MATCH_ERROR;
      }
    }
    return this.matchValue[id]!;
  }

  /** True the first time it is asked for a rule in this set: its failed condition counts once. */
  firstMatchErrorOf(ruleId: number): boolean {
    if (this.ruleErrorStamp[ruleId] === this.stamp) return false;
    this.ruleErrorStamp[ruleId] = this.stamp;
    return true;
  }

  /** The instance built for this set, or undefined when building failed (see instanceError). */
  instance(id: number, bag: AttributeBag): MetricInstance | undefined {
    if (this.instStamp[id] !== this.stamp) {
      this.instStamp[id] = this.stamp;
      this.instances[id] = undefined;
      this.instError[id] = undefined;
      const builder = this.builders[id]!;
      try {
        this.instances[id] = builder.buildWith(bag, this.dimensions(this.dimsOf[id]!, builder, bag));
      } catch (e) {
        this.instError[id] = (e as Error).message;
      }
    }
    return this.instances[id];
  }

  instanceError(id: number): string {
    return this.instError[id] ?? '';
  }

  private dimensions(list: number, builder: MetricInstanceBuilder, bag: AttributeBag): readonly AttributeValue[] {
    if (this.dimsStamp[list] !== this.stamp) {
      this.dimsStamp[list] = this.stamp;
      this.dims[list] = undefined;
      this.dimsError[list] = undefined;
      try {
        this.dims[list] = builder.evaluateDimensions(bag);
      } catch (e) {
        this.dimsError[list] = e;
      }
    }
    const d = this.dims[list];
    if (d === undefined) throw this.dimsError[list];
    return d;
  }
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
  /** Per-set memo of conditions, instances and dimension lists; used by dispatchReport only. */
  readonly memo: SetMemo;

  constructor(snapshot: ConfigSnapshot, handlers: ReadonlyMap<string, Handler>) {
    const matchIds = new Map<CompiledExpression, number>();
    const builderIds = new Map<MetricInstanceBuilder, number>();
    const idOfMatch = (m: CompiledExpression | undefined): number => {
      if (m === undefined) return -1;
      let id = matchIds.get(m);
      if (id === undefined) matchIds.set(m, (id = matchIds.size));
      return id;
    };
    const idsOfBuilders = (bs: readonly MetricInstanceBuilder[]): Int32Array =>
      Int32Array.from(bs, (b) => {
        let id = builderIds.get(b);
        if (id === undefined) builderIds.set(b, (id = builderIds.size));
        return id;
      });
    const perNs = new Map<string, Map<string, Destination>>();
    const all = new Map<string, Destination>();
    for (const [ruleId, rule] of snapshot.rules.entries()) {
      let dests = perNs.get(rule.namespace);
      if (!dests) perNs.set(rule.namespace, (dests = new Map()));
      for (const action of rule.actions) {
        const handler = handlers.get(action.handler);
        if (!handler) continue;
        // The same handler may appear under several namespaces; each list gets its own
        // Destination object but they share the handler, and `all` tracks one batch per list entry.
        let d = dests.get(action.handler);
        if (!d) {
          const plan = snapshot.handlers.get(action.handler);
          d = new Destination(action.handler, plan?.adapter.name ?? '', handler, plan?.mixerName);
          dests.set(action.handler, d);
          all.set(`${rule.namespace}\u0000${action.handler}`, d);
        }
        const matchId = idOfMatch(rule.match);
        const mixerGroup = d.groups.some((g) => g.matchId === matchId) ? 0 : 1;
        d.groups.push({ rule: rule.name, match: rule.match, builders: action.builders, matchId, ruleId, builderIds: idsOfBuilders(action.builders), mixerGroup });
      }
    }
    const defaults = [...(perNs.get(snapshot.defaultNamespace)?.values() ?? [])];
    this.defaults = defaults;
    for (const [ns, dests] of perNs) {
      if (ns === snapshot.defaultNamespace) continue;
      this.byNamespace.set(ns, [...defaults, ...dests.values()]);
    }
    this.all = [...all.values()];
    const builders = [...builderIds.keys()];
    const lists = new Map<string, number>();
    const dimsOf = Int32Array.from(builders, (b) => {
      let id = lists.get(b.dimensionSignature);
      if (id === undefined) lists.set(b.dimensionSignature, (id = lists.size));
      return id;
    });
    this.memo = new SetMemo([...matchIds.keys()], builders, dimsOf, lists.size, snapshot.rules.length);
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
