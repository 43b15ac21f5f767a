type Level<V> = Map<string, V>;

/**
 * Values addressed by five strings, through nested maps. A lookup hashes each string on its own,
 * and the decoder hands out the same string objects for every set of a Report, whose hashes V8
 * caches; joining them into one key instead would hash a fresh string for every request (that
 * measured about three times slower).
 */
export class KeyIndex<V> {
  private readonly root: Level<Level<Level<Level<Level<V>>>>> = new Map();
  size = 0;

  get(a: string, b: string, c: string, d: string, e: string): V | undefined {
    return this.root.get(a)?.get(b)?.get(c)?.get(d)?.get(e);
  }

  set(a: string, b: string, c: string, d: string, e: string, value: V): void {
    const l1 = child(this.root, a);
    const l2 = child(l1, b);
    const l3 = child(l2, c);
    const l4 = child(l3, d);
    if (!l4.has(e)) this.size++;
    l4.set(e, value);
  }

  *values(): IterableIterator<V> {
    for (const l1 of this.root.values()) for (const l2 of l1.values()) for (const l3 of l2.values()) for (const l4 of l3.values()) yield* l4.values();
  }

  /** Removes every value for which `drop` is true, and the maps left empty; returns how many. */
  deleteWhere(drop: (v: V) => boolean): number {
    let removed = 0;
    const prune = <T>(m: Level<T>, inner: (t: T) => boolean): void => {
      for (const [k, v] of m) if (inner(v)) m.delete(k);
    };
    prune(this.root, (l1) => {
      prune(l1, (l2) => {
        prune(l2, (l3) => {
          prune(l3, (l4) => {
            for (const [k, v] of l4) {
              if (drop(v)) {
                l4.delete(k);
                removed++;
              }
            }
            return l4.size === 0;
          });
          return l3.size === 0;
        });
        return l2.size === 0;
      });
      return l1.size === 0;
    });
    this.size -= removed;
    return removed;
  }
}

function child<T>(m: Map<string, Map<string, T>>, k: string): Map<string, T> {
  let c = m.get(k);
  if (c === undefined) m.set(k, (c = new Map()));
  return c;
}
