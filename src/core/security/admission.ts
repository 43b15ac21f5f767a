import { status } from '@grpc/grpc-js';
import { refusal, type Refusal, type RefusalReason } from './refusal.js';
import { DEFAULT_SERIES_IDLE_TTL_MS, SeriesQuota, type SeriesCheck } from './series-quota.js';
import type { TenantDirectory } from './tenants.js';
import { TokenBucket } from './token-bucket.js';

export interface Admitted {
  readonly ok: true;
  /** The tenant of the Report's token; undefined when no tenants file is configured. */
  readonly tenant: string | undefined;
}

export type AdmissionResult = Admitted | Refusal;

/** Where admission reports refusals; the server wires it to self-metrics. */
export interface AdmissionObserver {
  /** `tenant` is undefined for a Report without a valid token. */
  refused(tenant: string | undefined, reason: RefusalReason): void;
}

export interface AdmissionOptions {
  readonly observer?: AdmissionObserver;
  /** Series-key hash seeds for tests; random by default. */
  readonly seriesSeeds?: Uint32Array;
}

const OPEN: Admitted = Object.freeze({ ok: true, tenant: undefined });
const UNAUTHENTICATED = refusal(status.UNAUTHENTICATED, 'unauthenticated', 'missing or invalid bearer token');
const BEARER = /^Bearer[ \t]+([^ \t]+)[ \t]*$/i;

/**
 * Decides whether a Report may be processed, before it is decoded: who sent it (its bearer token)
 * and whether that tenant is within its rate limit. Later in the Report path, once instances are
 * built, `seriesCheck` holds the tenant to its series quota.
 *
 * Without a tenants file every Report is admitted without a tenant. With one, a Report needs
 * `authorization: Bearer <token>` metadata naming a token of the file. State that belongs to a
 * tenant (its rate-limit bucket, its series) survives a reload of the file while the tenant and
 * its limits stay the same.
 */
export class Admission {
  private directory: TenantDirectory | undefined;
  private buckets = new Map<string, TokenBucket>();
  private admitted = new Map<string, Admitted>();
  private readonly quota: SeriesQuota;

  constructor(private readonly opts: AdmissionOptions = {}) {
    const observer = opts.observer;
    this.quota = new SeriesQuota({
      idleTtlMs: DEFAULT_SERIES_IDLE_TTL_MS,
      seeds: opts.seriesSeeds,
      onRefused: observer ? (tenant) => observer.refused(tenant, 'series_quota') : undefined,
    });
  }

  /** Whether Reports need a token (a tenants file is loaded). */
  get enabled(): boolean {
    return this.directory !== undefined;
  }

  get tenants(): TenantDirectory | undefined {
    return this.directory;
  }

  /** Puts a (re)loaded tenants file in force; undefined admits everyone again. `now` in ms. */
  update(directory: TenantDirectory | undefined, now: number): void {
    const buckets = new Map<string, TokenBucket>();
    const admitted = new Map<string, Admitted>();
    for (const t of directory?.tenants.values() ?? []) {
      admitted.set(t.name, Object.freeze({ ok: true, tenant: t.name }));
      if (t.rateLimit === undefined) continue;
      const old = this.buckets.get(t.name);
      const same = old && old.limit.setsPerSecond === t.rateLimit.setsPerSecond && old.limit.burst === t.rateLimit.burst;
      buckets.set(t.name, same ? old : new TokenBucket(t.rateLimit, now));
    }
    this.quota.idleTtlMs = directory?.seriesIdleTtlMs ?? DEFAULT_SERIES_IDLE_TTL_MS;
    this.quota.retainOnly(new Set(admitted.keys()));
    for (const t of directory?.tenants.values() ?? []) this.quota.setLimit(t.name, t.maxSeries, now);
    // One assignment each, in an order where a Report sees either the old file or the new one.
    this.buckets = buckets;
    this.admitted = admitted;
    this.directory = directory;
  }

  /**
   * Admits or refuses a Report at `now` (ms): UNAUTHENTICATED without a valid token,
   * RESOURCE_EXHAUSTED over the tenant's rate limit. `sets` is its number of attribute sets
   * (counted from the raw bytes by ReportLimits.scan, before decoding). A refused
   * Report takes nothing from the tenant's bucket.
   */
  admit(metadata: RequestMetadata, sets: number, now: number): AdmissionResult {
    const who = this.identify(metadata);
    return who.ok ? this.charge(who, sets, now) : who;
  }

  /**
   * Who sent a Report, from its token alone: its tenant (none without a tenants file), or
   * UNAUTHENTICATED. Asked before anything about the Report's bytes, so that a caller without a
   * valid token learns nothing but that.
   */
  identify(metadata: RequestMetadata): AdmissionResult {
    const directory = this.directory;
    if (directory === undefined) return OPEN;
    const token = bearerToken(metadata);
    const tenant = token === undefined ? undefined : directory.authenticate(token);
    if (tenant === undefined) {
      this.opts.observer?.refused(undefined, 'unauthenticated');
      return UNAUTHENTICATED;
    }
    return this.admitted.get(tenant.name)!;
  }

  /** Takes an identified Report's `sets` from its tenant's rate limit at `now` (ms), or refuses it. */
  charge(who: Admitted, sets: number, now: number): AdmissionResult {
    if (who.tenant === undefined) return who;
    const bucket = this.buckets.get(who.tenant);
    if (bucket !== undefined && !bucket.take(sets, now)) {
      this.opts.observer?.refused(who.tenant, 'rate_limited');
      return refusal(status.RESOURCE_EXHAUSTED, 'rate_limited', `tenant "${who.tenant}" exceeded its rate limit of ${bucket.limit.setsPerSecond} sets/s`);
    }
    return who;
  }

  /**
   * Starts the series-quota check of one admitted Report; undefined when its tenant has no
   * `maxSeries` (or there is no tenant). See SeriesCheck.
   */
  seriesCheck(tenant: string | undefined, now: number): SeriesCheck | undefined {
    return tenant === undefined ? undefined : this.quota.begin(tenant, now);
  }

  /** Series held against each tenant's quota, for self-metrics. */
  seriesUsage(): IterableIterator<{ readonly tenant: string; readonly series: number; readonly limit: number }> {
    return this.quota.usage();
  }
}

/**
 * A call's request metadata by lower-case key: the gRPC endpoint's view of the HTTP/2 headers, or a
 * grpc-js `Metadata`.
 */
export interface RequestMetadata {
  get(key: string): readonly (string | Buffer)[];
}

/** The token of an `authorization: Bearer <token>` metadata entry; undefined when there is none. */
export function bearerToken(metadata: RequestMetadata): string | undefined {
  const values = metadata.get('authorization');
  const header = values[0];
  if (typeof header !== 'string') return undefined;
  return BEARER.exec(header)?.[1];
}
