/**
 * Histogram bucket upper bounds, computed with client_golang's own loops (repeated addition and
 * multiplication, not `offset + width*i`) so the `le` values match Mixer's to the last bit.
 */

/** client_golang `DefBuckets`, used when a DISTRIBUTION has no `buckets`. */
export const DEF_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

/** client_golang `LinearBuckets(start, width, count)`. */
export function linearBuckets(start: number, width: number, count: number): number[] {
  const out = new Array<number>(count);
  let v = start;
  for (let i = 0; i < count; i++) {
    out[i] = v;
    v += width;
  }
  return out;
}

/** client_golang `ExponentialBuckets(start, factor, count)`. */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const out = new Array<number>(count);
  let v = start;
  for (let i = 0; i < count; i++) {
    out[i] = v;
    v *= factor;
  }
  return out;
}

export type BucketsDefinition =
  | { readonly type: 'explicit'; readonly bounds: readonly number[] }
  | { readonly type: 'linear'; readonly numFiniteBuckets: number; readonly width: number; readonly offset: number }
  | {
      readonly type: 'exponential';
      readonly numFiniteBuckets: number;
      readonly growthFactor: number;
      readonly scale: number;
    };

/**
 * The bounds a histogram really uses: Mixer asks for N+1 linear/exponential bounds; client_golang
 * falls back to DefBuckets for an empty list and drops a trailing +Inf (that bucket is implicit).
 */
export function resolveBuckets(def: BucketsDefinition | undefined): readonly number[] {
  let bounds: readonly number[];
  if (def === undefined) bounds = DEF_BUCKETS;
  else if (def.type === 'explicit') bounds = def.bounds;
  else if (def.type === 'linear') bounds = linearBuckets(def.offset, def.width, def.numFiniteBuckets + 1);
  else bounds = exponentialBuckets(def.scale, def.growthFactor, def.numFiniteBuckets + 1);
  if (bounds.length === 0) return DEF_BUCKETS;
  if (bounds[bounds.length - 1] === Infinity) return bounds.slice(0, -1);
  return bounds;
}

/** Why client_golang would panic on these bounds, or undefined when they are usable. */
export function bucketBoundsProblem(bounds: readonly number[]): string | undefined {
  for (let i = 0; i < bounds.length; i++) {
    const b = bounds[i] ?? NaN;
    if (Number.isNaN(b)) return `bound ${i} is NaN`;
    if (b === -Infinity || (b === Infinity && i < bounds.length - 1)) return `bound ${i} is not finite`;
    const next = bounds[i + 1];
    if (next !== undefined && !(b < next)) {
      return `bounds must be strictly increasing, but bound ${i} (${b}) >= bound ${i + 1} (${next})`;
    }
  }
  return undefined;
}
