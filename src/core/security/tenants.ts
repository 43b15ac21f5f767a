/**
 * The tenants file (`--tenants FILE`): who may send Reports, and how much.
 *
 *   seriesIdleTtl: 10m                # optional: when an idle series stops counting against maxSeries
 *   tenants:
 *   - name: payments
 *     tokens: ["…"]                   # bearer tokens, and/or
 *     tokenSha256: ["9f86d08…"]       # hex sha256 of tokens, so the file need not hold secrets
 *     rateLimit: {setsPerSecond: 500, burst: 1000}   # optional; burst defaults to one second's worth
 *     maxSeries: 20000                # optional
 *
 * Tokens are kept only as sha256 digests in memory.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { formatPath, issue, parseConfigText, type ConfigDocument, type ConfigPath, type Focus } from '../config/document.js';
import { ConfigError, type ConfigIssue, type ErrorCode } from '../errors.js';
import { describe as describeValue, isRecord } from '../config/spec-reader.js';
import { parseGoDuration } from '../expr/duration.js';
import { DEFAULT_SERIES_IDLE_TTL_MS } from './series-quota.js';
import type { RateLimit } from './token-bucket.js';

export interface TenantPolicy {
  readonly name: string;
  readonly rateLimit: RateLimit | undefined;
  readonly maxSeries: number | undefined;
}

/** A validated tenants file: token digests → tenants. Immutable; a reload builds a new one. */
export class TenantDirectory {
  readonly tenants: ReadonlyMap<string, TenantPolicy>;

  constructor(
    tenants: readonly TenantPolicy[],
    /** sha256 digest (binary string) of each token → its tenant. */
    private readonly byDigest: ReadonlyMap<string, { readonly digest: Buffer; readonly tenant: TenantPolicy }>,
    readonly seriesIdleTtlMs: number,
  ) {
    this.tenants = new Map(tenants.map((t) => [t.name, t]));
  }

  get tokenCount(): number {
    return this.byDigest.size;
  }

  /**
   * The tenant a bearer token belongs to. The lookup is keyed by the token's sha256, so its
   * timing depends only on the digest, which tells a guesser nothing about any real token; the
   * final comparison is constant-time all the same.
   */
  authenticate(token: string): TenantPolicy | undefined {
    const digest = sha256(token);
    const entry = this.byDigest.get(digest.toString('latin1'));
    return entry !== undefined && timingSafeEqual(entry.digest, digest) ? entry.tenant : undefined;
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export interface ParsedTenants {
  /** Present only when there is no error. */
  readonly directory: TenantDirectory | undefined;
  readonly issues: readonly ConfigIssue[];
}

const TOP_LEVEL = ['tenants', 'seriesIdleTtl'];
const TENANT_FIELDS = ['name', 'tokens', 'tokenSha256', 'rateLimit', 'maxSeries'];
const RATE_FIELDS = ['setsPerSecond', 'burst'];

/** Validates a tenants file, reporting every problem with its `file:line:col`. */
export function parseTenants(text: string, file: string): ParsedTenants {
  const parsed = parseConfigText(text, file);
  const issues: ConfigIssue[] = [...parsed.issues];
  if (issues.length > 0) return { directory: undefined, issues };
  if (parsed.documents.length !== 1) {
    issues.push(issue('error', { file, line: 1, col: 1 }, '', `expected one YAML document with 'tenants:', found ${parsed.documents.length}`, 'TENANTS_FIELD'));
    return { directory: undefined, issues };
  }
  const doc = parsed.documents[0]!;
  const v = new Validator(doc, issues);
  const root = doc.data;
  if (!isRecord(root)) {
    v.error([], `expected a map with 'tenants:', got ${describe(root)}`);
    return { directory: undefined, issues };
  }
  v.rejectUnknown(root, [], TOP_LEVEL, 'the tenants file');

  let ttlMs = DEFAULT_SERIES_IDLE_TTL_MS;
  if (root['seriesIdleTtl'] !== undefined) {
    const raw = root['seriesIdleTtl'];
    const d = typeof raw === 'string' ? parseGoDuration(raw) : undefined;
    if (!d?.ok || d.nanos < 1e9) v.error(['seriesIdleTtl'], `expected a duration of at least 1s such as "10m", got ${describe(raw)}`);
    else ttlMs = d.nanos / 1e6;
  }

  const list = root['tenants'];
  if (!Array.isArray(list) || list.length === 0) {
    v.error(['tenants'], `'tenants' must list at least one tenant, got ${describe(list)}`);
    return { directory: undefined, issues };
  }
  const tenants: TenantPolicy[] = [];
  const names = new Set<string>();
  const byDigest = new Map<string, { digest: Buffer; tenant: TenantPolicy }>();
  list.forEach((raw: unknown, i) => {
    const at: ConfigPath = ['tenants', i];
    if (!isRecord(raw)) {
      v.error(at, `a tenant must be a map with 'name' and 'tokens', got ${describe(raw)}`);
      return;
    }
    v.rejectUnknown(raw, at, TENANT_FIELDS, 'a tenant');
    const name = raw['name'];
    if (typeof name !== 'string' || name.trim() === '') {
      v.error([...at, 'name'], `expected a non-empty tenant name, got ${describe(name)}`);
      return;
    }
    if (names.has(name)) {
      v.error([...at, 'name'], `tenant '${name}' is defined twice`, 'TENANTS_DUPLICATE');
      return;
    }
    names.add(name);
    const tenant: TenantPolicy = { name, rateLimit: v.rateLimit(raw['rateLimit'], [...at, 'rateLimit']), maxSeries: v.positiveInteger(raw['maxSeries'], [...at, 'maxSeries']) };
    tenants.push(tenant);

    const digests: [Buffer, ConfigPath][] = [];
    for (const [token, path] of v.strings(raw['tokens'], [...at, 'tokens'])) {
      if (token === '') v.error(path, 'a token must not be empty');
      // The gRPC endpoint reads `Bearer <token>` up to the first blank, and HTTP/2 drops a value
      // with a control character or blank at either end: such a token could never authenticate.
      else if (UNSENDABLE.test(token)) v.error(path, 'a bearer token cannot contain spaces, tabs or other whitespace or control characters (the Authorization value would end or be refused there)');
      else digests.push([sha256(token), path]);
    }
    for (const [hex, path] of v.strings(raw['tokenSha256'], [...at, 'tokenSha256'])) {
      if (!/^[0-9a-fA-F]{64}$/.test(hex)) v.error(path, `expected the 64 hex digits of a token's sha256 (e.g. from \`printf %s TOKEN | sha256sum\`), got ${describe(hex)}`);
      else digests.push([Buffer.from(hex, 'hex'), path]);
    }
    // `tokens: []` too: a tenant no Report can authenticate as is a mistake, and a file of them locks everyone out.
    if (isEmptyList(raw['tokens']) && isEmptyList(raw['tokenSha256'])) v.error(at, `tenant '${name}' has no token: give 'tokens' or 'tokenSha256'`);
    for (const [digest, path] of digests) {
      const key = digest.toString('latin1');
      const other = byDigest.get(key);
      if (other) {
        // Which tenant a shared token means would be a guess; say so rather than pick one.
        v.error(path, other.tenant === tenant ? `tenant '${name}' lists this token twice` : `this token is also a token of tenant '${other.tenant.name}'; each token must name one tenant`, 'TENANTS_DUPLICATE');
        continue;
      }
      byDigest.set(key, { digest, tenant });
    }
  });
  issues.sort((a, b) => a.at.line - b.at.line || a.at.col - b.at.col);
  if (issues.some((i) => i.severity === 'error')) return { directory: undefined, issues };
  return { directory: new TenantDirectory(tenants, byDigest, ttlMs), issues };
}

/** Reads and validates a tenants file; throws ConfigError listing every problem. */
export async function loadTenantsFile(path: string): Promise<TenantDirectory> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError([issue('error', { file: path, line: 1, col: 1 }, '', `cannot read the tenants file: ${(e as Error).message}`, 'CFG_READ')]);
  }
  const { directory, issues } = parseTenants(text, path);
  if (!directory) throw new ConfigError(issues.filter((i) => i.severity === 'error'));
  return directory;
}

class Validator {
  constructor(
    private readonly doc: ConfigDocument,
    private readonly issues: ConfigIssue[],
  ) {}

  error(path: ConfigPath, message: string, code: ErrorCode = 'TENANTS_FIELD', focus?: Focus): void {
    this.issues.push(issue('error', this.doc.positionOf(path, focus), formatPath(path), message, code));
  }

  rejectUnknown(map: Record<string, unknown>, at: ConfigPath, known: readonly string[], what: string): void {
    for (const k of Object.keys(map)) {
      if (!known.includes(k)) this.error([...at, k], `unknown field '${k}' in ${what} (expected ${known.join(', ')})`, 'CFG_UNKNOWN_FIELD', 'key');
    }
  }

  positiveInteger(raw: unknown, path: ConfigPath): number | undefined {
    if (raw === undefined) return undefined;
    if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 1) {
      this.error(path, `expected a positive whole number, got ${describe(raw)}`);
      return undefined;
    }
    return raw;
  }

  rateLimit(raw: unknown, path: ConfigPath): RateLimit | undefined {
    if (raw === undefined) return undefined;
    if (!isRecord(raw)) {
      this.error(path, `expected {setsPerSecond: N, burst: M}, got ${describe(raw)}`);
      return undefined;
    }
    this.rejectUnknown(raw, path, RATE_FIELDS, 'rateLimit');
    const rate = raw['setsPerSecond'];
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) {
      this.error([...path, 'setsPerSecond'], `expected a positive number of attribute sets per second, got ${describe(rate)}`);
      return undefined;
    }
    const burst = raw['burst'] === undefined ? Math.max(1, Math.ceil(rate)) : this.positiveInteger(raw['burst'], [...path, 'burst']);
    return burst === undefined ? undefined : { setsPerSecond: rate, burst };
  }

  /** Each string of a list, with its path; reports anything else (by type only: it may be a secret). */
  strings(raw: unknown, path: ConfigPath): [string, ConfigPath][] {
    if (raw === undefined) return [];
    if (!Array.isArray(raw)) {
      this.error(path, `expected a list of strings, got ${kindOf(raw)}`);
      return [];
    }
    const out: [string, ConfigPath][] = [];
    raw.forEach((item: unknown, i) => {
      if (typeof item === 'string') out.push([item, [...path, i]]);
      else this.error([...path, i], `expected a string, got ${kindOf(item)}`);
    });
    return out;
  }
}

/** Whitespace or control characters, which no bearer token can carry. */
const UNSENDABLE = /[\s\x00-\x1f\x7f]/;

/** Absent or `[]`. */
function isEmptyList(v: unknown): boolean {
  return v === undefined || (Array.isArray(v) && v.length === 0);
}

/** What `v` is, without its value. */
function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a map' : `a ${typeof v}`;
}

function describe(v: unknown): string {
  return v === undefined ? 'nothing' : describeValue(v);
}
