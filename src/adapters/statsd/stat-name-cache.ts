/**
 * Finds the stat name (and the series) an instance records into without rendering the name.
 *
 * Rendering a name is string formatting, sanitising and concatenation, and looking a fresh ~60
 * character string up in a Map hashes all of it: most of what recording an instance cost. But a
 * name depends only on the dimension values its template references, and those repeat: the
 * instances of one attribute set share one dimensions array, and a mesh has a few hundred label
 * sets. So each referenced value gets a small integer id, and each metric caches its rendered
 * names in a trie keyed by those ids. The previous record's value at each dimension position is
 * remembered with its id, so a value that did not change costs one `===`.
 *
 * The cache is only an accelerator: it survives flush intervals (the aggregator's tables are
 * the truth about which series exist) and is cleared whenever it outgrows its bound.
 */
import type { AttributeValue } from '../../core/adapter.js';

/** No id yet: the value was never part of a cached name. */
export const NO_ID = -1;
/** The value cannot have an id (an object, -0 or a missing value): render the name. */
export const UNCACHEABLE = -2;

type Key = string | number | bigint | boolean;

/** Ids for dimension values, shared by every metric of a handler. */
export class ValueIds {
  private readonly ids = new Map<Key, number>();
  private lastValues: unknown[] = [];
  private lastIds: number[] = [];

  get size(): number {
    return this.ids.size;
  }

  /** The id of `v`, seen at dimension position `pos`: NO_ID or UNCACHEABLE if it has none. */
  find(pos: number, v: AttributeValue | undefined): number {
    const last = this.lastValues[pos];
    // `===` takes -0 for 0, which prints differently.
    if (v === last && (v !== 0 || Object.is(v, last))) {
      const id = this.lastIds[pos] as number;
      if (id !== NO_ID) return id;
    }
    let id: number;
    if (!isKey(v)) id = UNCACHEABLE;
    else id = this.ids.get(v) ?? NO_ID;
    this.lastValues[pos] = v;
    this.lastIds[pos] = id;
    return id;
  }

  /** The id of `v`, assigning one on first sight; UNCACHEABLE if it cannot have one. */
  assign(v: AttributeValue | undefined): number {
    if (!isKey(v)) return UNCACHEABLE;
    let id = this.ids.get(v);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(v, id);
    }
    return id;
  }

  clear(): void {
    this.ids.clear();
    // Remembered ids would now name other values.
    this.lastValues = [];
    this.lastIds = [];
  }
}

/**
 * Strings, booleans, numbers and bigints (INT64s past 2^53 − 1) are Map keys that equal exactly
 * when they render the same way. -0 is the exception (a Map takes it for 0, Go prints `-0`);
 * objects are keyed by identity, so every instance would get a new id.
 */
function isKey(v: AttributeValue | undefined): v is Key {
  const t = typeof v;
  return t === 'string' || t === 'boolean' || t === 'bigint' || (t === 'number' && !Object.is(v, -0));
}

/** Past this many ids, ids and trie nodes could no longer be combined exactly into one key. */
const MAX_IDS = 2 ** 26;

/**
 * The key of the edge from trie node `parent` by value id `id`, unique per (parent, id). Small
 * numbers (the usual case) make a non-negative small integer, which a Map hashes without
 * allocating; larger ones a negative, still exact, double.
 */
function edgeKey(parent: number, id: number): number {
  return parent < 0x8000 && id < 0x10000 ? parent * 0x10000 + id : -(parent * MAX_IDS + id) - 1;
}

/**
 * One metric's rendered names: a trie keyed by the ids of the dimension values its template
 * references, one Map per level (not per node), whose last level's nodes are entries. An entry
 * is a name and the series it named in the aggregator generation it was last looked up in, kept
 * in parallel arrays rather than an object per entry: the cache lives as long as the series do,
 * and fewer objects are less for the garbage collector to copy.
 */
export class StatNameCache {
  /** Level 0 by value id, the others by edgeKey(parent node, value id); values are nodes. */
  private levels: Map<number, number>[];
  /** Nodes per level; the last level's nodes are the entries. */
  private nodes: number[];
  names: string[] = [];
  /** Per entry: the aggregator generation `slots` is valid in, -1 for none. */
  generations: Int32Array = new Int32Array(16);
  slots: Int32Array = new Int32Array(16);

  /** `positions`: the dimension positions the template references, each once. */
  constructor(private readonly positions: readonly number[]) {
    this.levels = positions.map(() => new Map());
    this.nodes = positions.map(() => 0);
  }

  /** The entry for these values, or -1. */
  find(dimensions: readonly AttributeValue[], ids: ValueIds): number {
    const positions = this.positions;
    if (positions.length === 0) return this.names.length > 0 ? 0 : -1;
    let node = -1;
    for (let i = 0; i < positions.length; i++) {
      const pos = positions[i] as number;
      const id = ids.find(pos, dimensions[pos]);
      if (id < 0) return -1;
      const next = (this.levels[i] as Map<number, number>).get(i === 0 ? id : edgeKey(node, id));
      if (next === undefined) return -1;
      node = next;
    }
    return node;
  }

  /** Caches `name` for these values; -1 when one of them cannot be cached. */
  insert(dimensions: readonly AttributeValue[], ids: ValueIds, name: string): number {
    const positions = this.positions;
    for (let i = 0; i < positions.length; i++) {
      if (ids.assign(dimensions[positions[i] as number]) === UNCACHEABLE) return -1;
    }
    const entry = this.names.length;
    this.names.push(name);
    if (entry === this.slots.length) {
      const generations = new Int32Array(entry * 2);
      generations.set(this.generations);
      this.generations = generations;
      const slots = new Int32Array(entry * 2);
      slots.set(this.slots);
      this.slots = slots;
    }
    this.generations[entry] = -1;
    const last = positions.length - 1;
    let node = -1;
    for (let i = 0; i <= last; i++) {
      const pos = positions[i] as number;
      const key = i === 0 ? ids.find(pos, dimensions[pos]) : edgeKey(node, ids.find(pos, dimensions[pos]));
      const level = this.levels[i] as Map<number, number>;
      let next = level.get(key);
      if (next === undefined) {
        next = i === last ? entry : (this.nodes[i] as number);
        this.nodes[i] = next + 1;
        level.set(key, next);
      }
      node = next;
    }
    return entry;
  }

  clear(): void {
    this.levels = this.positions.map(() => new Map());
    this.nodes = this.positions.map(() => 0);
    this.names = [];
  }
}

/**
 * The handler's caches and their bound: past `maxEntries` names (say, a template over a value
 * that changes with every request, or a mesh whose pods keep being replaced), everything is
 * forgotten and relearnt from what is recorded next.
 */
export class StatNameCaches {
  readonly ids = new ValueIds();
  private readonly caches: StatNameCache[] = [];
  private entries = 0;

  constructor(private readonly maxEntries: number) {}

  /** A cache for one metric whose template references the dimensions at `positions`. */
  create(positions: readonly number[]): StatNameCache {
    const cache = new StatNameCache([...new Set(positions)]);
    this.caches.push(cache);
    return cache;
  }

  /** Caches `name` in `cache`; the entry, or -1 when the values cannot be cached. */
  insert(cache: StatNameCache, dimensions: readonly AttributeValue[], name: string): number {
    if (this.entries >= this.maxEntries || this.ids.size >= MAX_IDS) this.clear();
    const entry = cache.insert(dimensions, this.ids, name);
    if (entry >= 0) this.entries++;
    return entry;
  }

  clear(): void {
    for (const c of this.caches) c.clear();
    this.ids.clear();
    this.entries = 0;
  }
}
