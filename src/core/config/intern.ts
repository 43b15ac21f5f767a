/**
 * Canonical copies of the names a config defines.
 *
 * Instance names are looked up in string-keyed Maps on the Report path: an adapter finds an
 * instance's metric by `spec.name` for every instance, in a Map keyed by the names its own params
 * give. As the YAML parser and template literals leave them, they are sliced strings (views into
 * the source text) and cons strings (concatenations), and V8 compares such a key with a Map's
 * stored key the slow way on every lookup: the Prometheus handler spent almost half its own time
 * in that one `Map.get` (BENCHMARKS.md, round 17). Interned strings are flat and compare by
 * address once both sides are interned, so the parsed YAML's strings and each resource's
 * canonical name are interned once, when the config is read. Names only read at load or scrape
 * time are left as they are.
 */

/** `s` as the engine's interned string: a property key is interned, and `Object.keys` returns it. */
export function internString(s: string): string {
  return Object.keys({ [s]: 0 })[0] ?? s;
}

/**
 * Interns every string in data parsed from YAML (plain arrays and objects), in place, and returns
 * it. Keys need nothing: as property names they are interned already.
 */
export function internStrings(data: unknown): unknown {
  if (typeof data === 'string') return internString(data);
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) data[i] = internStrings(data[i]);
    return data;
  }
  if (isPlainObject(data)) {
    // Nested objects are interned in place, not assigned back: only strings are replaced.
    for (const k of Object.keys(data)) {
      const v = data[k];
      if (typeof v === 'string') data[k] = internString(v);
      else internStrings(v);
    }
  }
  return data;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
