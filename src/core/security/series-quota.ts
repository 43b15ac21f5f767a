import { status } from '@grpc/grpc-js';
import { randomFillSync } from 'node:crypto';
import { Timestamp, type AttributeValue } from '../attributes/value.js';
import { refusal, type Refusal } from './refusal.js';

/** Default time after which an idle series stops counting against its tenant's quota. */
export const DEFAULT_SERIES_IDLE_TTL_MS = 10 * 60_000;

export interface SeriesQuotaOptions {
  /**
   * A series not reported for between this long and twice this long stops counting, so that churn
   * (pods replaced, versions rolled) frees quota. Match it to the handlers' own expiry.
   */
  readonly idleTtlMs: number;
  /** Told when a Report is refused for a tenant's quota. */
  readonly onRefused?: (tenant: string) => void;
  /** Four 32-bit hash seeds. Tests fix them; by default they are random per process. */
  readonly seeds?: Uint32Array;
}

/**
 * What one tenant holds: 53-bit keyed hashes of its series, in two generations. A series seen in
 * the current generation stays; one found in the previous generation is moved to the current one;
 * when a generation is older than the TTL the previous one is dropped whole. That gives expiry
 * without a timestamp per series or a sweep: memory is one hash per live series, at most `limit`.
 */
class TenantSeries {
  current = new Set<number>();
  previous = new Set<number>();

  constructor(
    readonly tenant: string,
    public limit: number,
    public rotatedAt: number,
  ) {}

  get size(): number {
    return this.current.size + this.previous.size;
  }

  age(now: number, ttl: number): void {
    const elapsed = now - this.rotatedAt;
    if (elapsed < ttl) return;
    if (elapsed >= 2 * ttl) {
      this.previous = new Set();
      this.current = new Set();
    } else {
      this.previous = this.current;
      this.current = new Set();
    }
    this.rotatedAt = now;
  }
}

/**
 * Per-tenant series quotas (`maxSeries`). A series is an instance name with one combination of
 * dimension values, whichever handlers receive it. For each Report, `begin` opens a SeriesCheck;
 * the dispatcher offers it every built instance before any handler sees them, then `settle`s it:
 * either every new series of the Report fits and all are committed, or the Report is refused and
 * nothing is recorded, neither in the handlers nor here.
 *
 * Series are remembered as keyed hashes, not as text: 53 bits from seeds that are secret and
 * random per process, so a tenant can neither predict nor search for collisions offline. A
 * collision lets one new series through as if known; the odds that any two of a million series
 * collide are about 1 in 20,000.
 */
export class SeriesQuota {
  private readonly tenants = new Map<string, TenantSeries>();
  private readonly hasher: SeriesHasher;
  /** See SeriesQuotaOptions.idleTtlMs; a reloaded tenants file may change it. */
  idleTtlMs: number;

  constructor(private readonly opts: SeriesQuotaOptions) {
    this.idleTtlMs = opts.idleTtlMs;
    this.hasher = new SeriesHasher(opts.seeds ?? randomFillSync(new Uint32Array(4)));
  }

  /**
   * Sets or changes a tenant's quota; `undefined` removes the quota and forgets its series. A lower
   * limit than the tenant holds refuses new series until enough expire.
   */
  setLimit(tenant: string, maxSeries: number | undefined, now: number): void {
    if (maxSeries === undefined) {
      this.tenants.delete(tenant);
      return;
    }
    const t = this.tenants.get(tenant);
    if (t) t.limit = maxSeries;
    else this.tenants.set(tenant, new TenantSeries(tenant, maxSeries, now));
  }

  /** Forgets every tenant not in `keep` (a tenant removed from the tenants file). */
  retainOnly(keep: ReadonlySet<string>): void {
    for (const name of this.tenants.keys()) if (!keep.has(name)) this.tenants.delete(name);
  }

  /** Starts checking one Report of `tenant`; undefined when the tenant has no series quota. */
  begin(tenant: string, now: number): SeriesCheck | undefined {
    const t = this.tenants.get(tenant);
    if (!t) return undefined;
    t.age(now, this.idleTtlMs);
    return new SeriesCheck(t, this.hasher, this.opts.onRefused);
  }

  /** Series counted against `tenant`'s quota now (expired generations still count until the next Report ages them). */
  size(tenant: string): number {
    return this.tenants.get(tenant)?.size ?? 0;
  }

  /** Every tenant with a quota: name, series held, limit. */
  *usage(): IterableIterator<{ readonly tenant: string; readonly series: number; readonly limit: number }> {
    for (const t of this.tenants.values()) yield { tenant: t.tenant, series: t.size, limit: t.limit };
  }
}

/**
 * One Report's series, checked against its tenant's quota. Offer every built instance, then
 * `settle` once. Offering after the quota was exceeded does nothing (the Report is refused anyway).
 */
export class SeriesCheck {
  private readonly added = new Set<number>();
  private readonly promoted: number[] = [];
  private over = false;
  private lastDims: readonly AttributeValue[] | undefined;
  private lastA = 0;
  private lastB = 0;

  constructor(
    private readonly t: TenantSeries,
    private readonly hasher: SeriesHasher,
    private readonly onRefused: ((tenant: string) => void) | undefined,
  ) {}

  /**
   * Whether this series is known or fits within the quota (counting the Report's other new series).
   * False once the quota is exceeded: the caller may stop offering.
   */
  offer(instance: string, dimensions: readonly AttributeValue[]): boolean {
    if (this.over) return false;
    // Instances built from one attribute set share their dimension array when their dimension
    // lists are written alike (Istio's four HTTP metrics), so those values are hashed once.
    if (dimensions !== this.lastDims) {
      this.hasher.values(dimensions);
      this.lastDims = dimensions;
      this.lastA = this.hasher.a;
      this.lastB = this.hasher.b;
    }
    const key = this.hasher.key(instance, this.lastA, this.lastB);
    const t = this.t;
    if (t.current.has(key) || this.added.has(key)) return true;
    if (t.previous.has(key)) {
      this.promoted.push(key);
      return true;
    }
    if (t.size + this.added.size >= t.limit) {
      this.over = true;
      return false;
    }
    this.added.add(key);
    return true;
  }

  /** Whether some offered series did not fit. */
  get exceeded(): boolean {
    return this.over;
  }

  /** New series the Report would add. */
  get newSeries(): number {
    return this.added.size;
  }

  /**
   * Ends the check. Within the quota: records the Report's new series, refreshes the known ones,
   * and returns undefined. Over it: records nothing and returns the refusal to answer with.
   */
  settle(): Refusal | undefined {
    const t = this.t;
    if (this.over) {
      this.onRefused?.(t.tenant);
      return refusal(status.RESOURCE_EXHAUSTED, 'series_quota', `tenant "${t.tenant}" exceeded its series quota of ${t.limit}; the Report's new series were not recorded`);
    }
    for (const key of this.promoted) {
      if (t.previous.delete(key)) t.current.add(key);
    }
    for (const key of this.added) t.current.add(key);
    return undefined;
  }
}

const TAG_STRING = 1;
const TAG_NUMBER = 2;
const TAG_BOOL = 3;
const TAG_TIMESTAMP = 4;
const TAG_BYTES = 5;
const TAG_MAP = 6;
const TAG_BIGINT = 7;
const FQN_CACHE_MAX = 4096;

/**
 * A keyed, non-cryptographic 2×32-bit hash of dimension values, read straight from the values (no
 * key string is built). node:crypto costs 2 µs a call, more than the rest of the Report path per
 * attribute set; this costs under a nanosecond per character. Each input word is xor-ed into the
 * state before a multiplication and an xor-shift, so how a difference propagates depends on the
 * secret state. The one difference a multiplication passes on regardless of the state, in the top
 * bit, is cancelled differently in each lane (different shifts), and the second lane takes the
 * word rotated by 16 so that a top bit in one lane is a middle bit in the other: no difference
 * survives both lanes with certainty. Values are length-prefixed and type-tagged so that no two
 * different lists feed the same words. The per-character loop is written out with local state
 * because it is the whole cost: a method call per character doubles it.
 */
export class SeriesHasher {
  a = 0;
  b = 0;
  private readonly f64 = new Float64Array(1);
  private readonly u32 = new Uint32Array(this.f64.buffer);
  private readonly fqn = new Map<string, readonly [number, number]>();

  constructor(private readonly seeds: Uint32Array) {}

  private word(x: number): void {
    let a = Math.imul(this.a ^ x, M1);
    a ^= a >>> 15;
    let b = Math.imul(this.b ^ ((x << 16) | (x >>> 16)), M2);
    b ^= b >>> 13;
    this.a = a;
    this.b = b;
  }

  private string(s: string): void {
    let a = this.a;
    let b = this.b;
    a = Math.imul(a ^ s.length, M1);
    a ^= a >>> 15;
    b = Math.imul(b ^ ((s.length << 16) | (s.length >>> 16)), M2);
    b ^= b >>> 13;
    // Two UTF-16 units per word; the length prefix makes the odd tail unambiguous.
    const n = s.length;
    for (let i = 0; i < n; i += 2) {
      const c = s.charCodeAt(i) | (i + 1 < n ? s.charCodeAt(i + 1) << 16 : 0);
      a = Math.imul(a ^ c, M1);
      a ^= a >>> 15;
      b = Math.imul(b ^ ((c << 16) | (c >>> 16)), M2);
      b ^= b >>> 13;
    }
    this.a = a;
    this.b = b;
  }

  private number(n: number): void {
    // -0 and 0 are one label value; every NaN is one too.
    this.f64[0] = n === 0 ? 0 : Number.isNaN(n) ? NaN : n;
    this.word(this.u32[0]!);
    this.word(this.u32[1]!);
  }

  /** Hashes a dimension list into `a` and `b`. */
  values(values: readonly AttributeValue[]): void {
    this.a = this.seeds[0]!;
    this.b = this.seeds[1]!;
    this.word(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (typeof v === 'string') {
        this.word(TAG_STRING);
        this.string(v);
      } else if (typeof v === 'number') {
        this.word(TAG_NUMBER);
        this.number(v);
      } else if (typeof v === 'bigint') {
        // An INT64 beyond 2^53 (see int64.ts): its 64 bits, under a tag of its own, since a
        // number never holds the same value.
        this.word(TAG_BIGINT);
        this.word(Number(BigInt.asUintN(32, v)));
        this.word(Number(BigInt.asUintN(32, v >> 32n)));
      } else if (typeof v === 'boolean') {
        this.word(TAG_BOOL);
        this.word(v ? 1 : 0);
      } else if (v instanceof Timestamp) {
        this.word(TAG_TIMESTAMP);
        this.number(v.seconds);
        this.word(v.nanos);
      } else if (v instanceof Uint8Array) {
        this.word(TAG_BYTES);
        this.word(v.length);
        for (let j = 0; j < v.length; j++) this.word(v[j]!);
      } else {
        this.word(TAG_MAP);
        this.word(v.size);
        for (const k of [...v.keys()].sort()) {
          this.string(k);
          this.string(v.get(k)!);
        }
      }
    }
  }

  /** The 53-bit series key of `instance` with a dimension list hashed to (a, b). */
  key(instance: string, a: number, b: number): number {
    let f = this.fqn.get(instance);
    if (f === undefined) {
      this.a = this.seeds[2]!;
      this.b = this.seeds[3]!;
      this.string(instance);
      f = [this.a, this.b];
      // Instance names come from the config, so this stays small; the cap only guards misuse.
      if (this.fqn.size >= FQN_CACHE_MAX) this.fqn.clear();
      this.fqn.set(instance, f);
    }
    const hi = fmix32(a ^ f[0]) >>> 0;
    const lo = fmix32(b ^ f[1]) >>> 11;
    return hi * 0x200000 + lo;
  }
}

const M1 = 0x9e3779b1;
const M2 = 0x85ebca77;

/** MurmurHash3's finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
