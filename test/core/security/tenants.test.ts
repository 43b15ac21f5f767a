import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatConfigIssue } from '../../../src/core/errors.js';
import { parseTenants } from '../../../src/core/security/tenants.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

function errors(text: string): string[] {
  const { directory, issues } = parseTenants(text, 'tenants.yaml');
  expect(directory).toBeUndefined();
  return issues.map(formatConfigIssue);
}

describe('the tenants file', () => {
  it('maps tokens, plain or as sha256, to tenants with their limits', () => {
    const { directory, issues } = parseTenants(
      `seriesIdleTtl: 5m
tenants:
- name: payments
  tokens: [pay-token-1, pay-token-2]
  rateLimit: {setsPerSecond: 500, burst: 1000}
  maxSeries: 20000
- name: search
  tokenSha256: ["${sha('search-token')}"]
  rateLimit: {setsPerSecond: 2.5}
`,
      'tenants.yaml',
    );
    expect(issues).toEqual([]);
    expect(directory!.seriesIdleTtlMs).toBe(300_000);
    expect(directory!.tokenCount).toBe(3);
    expect(directory!.authenticate('pay-token-2')).toEqual({ name: 'payments', rateLimit: { setsPerSecond: 500, burst: 1000 }, maxSeries: 20000 });
    // burst defaults to one second's worth, at least one set
    expect(directory!.authenticate('search-token')).toEqual({ name: 'search', rateLimit: { setsPerSecond: 2.5, burst: 3 }, maxSeries: undefined });
    expect(directory!.authenticate('pay-token-')).toBeUndefined();
    expect(directory!.authenticate('')).toBeUndefined();
    expect(directory!.authenticate(sha('search-token'))).toBeUndefined();
  });

  it('defaults the series idle TTL to 10 minutes', () => {
    expect(parseTenants('tenants: [{name: a, tokens: [t]}]', 't.yaml').directory!.seriesIdleTtlMs).toBe(600_000);
  });

  it('reports every problem with its file:line:col, and never echoes a token', () => {
    const out = errors(`tenants:
- name: a
  tokens: [secret-1, 42]
  rateLimit: {setsPerSecond: -1}
  maxSeries: 1.5
  colour: blue
- name: a
  tokens: [x]
- tokens: [y]
- name: c
- name: d
  tokenSha256: [abc]
  rateLimit: {setsPerSecond: 10, burst: 0}
`);
    expect(out).toEqual([
      "tenants.yaml:3:22: tenants[0].tokens[1]: expected a string, got a number [TENANTS_FIELD]",
      'tenants.yaml:4:30: tenants[0].rateLimit.setsPerSecond: expected a positive number of attribute sets per second, got number -1 [TENANTS_FIELD]',
      'tenants.yaml:5:14: tenants[0].maxSeries: expected a positive whole number, got number 1.5 [TENANTS_FIELD]',
      "tenants.yaml:6:3: tenants[0].colour: unknown field 'colour' in a tenant (expected name, tokens, tokenSha256, rateLimit, maxSeries) [CFG_UNKNOWN_FIELD]",
      "tenants.yaml:7:9: tenants[1].name: tenant 'a' is defined twice [TENANTS_DUPLICATE]",
      'tenants.yaml:9:3: tenants[2].name: expected a non-empty tenant name, got nothing [TENANTS_FIELD]',
      "tenants.yaml:10:3: tenants[3]: tenant 'c' has no token: give 'tokens' or 'tokenSha256' [TENANTS_FIELD]",
      'tenants.yaml:12:17: tenants[4].tokenSha256[0]: expected the 64 hex digits of a token\'s sha256 (e.g. from `printf %s TOKEN | sha256sum`), got string "abc" [TENANTS_FIELD]',
      'tenants.yaml:13:41: tenants[4].rateLimit.burst: expected a positive whole number, got number 0 [TENANTS_FIELD]',
    ]);
    expect(out.join('\n')).not.toContain('secret-1');
  });

  it('points an unknown field at its key, also when its value starts on the next line', () => {
    expect(errors(`seriesIdleTTL: 10m
tenants:
- name: a
  tokens: [t]
  ratelimit:
    setsPerSecond: 5
  rateLimit: {setsPerSecond: 1, brust: 2}
`)).toEqual([
      "tenants.yaml:1:1: seriesIdleTTL: unknown field 'seriesIdleTTL' in the tenants file (expected tenants, seriesIdleTtl) [CFG_UNKNOWN_FIELD]",
      "tenants.yaml:5:3: tenants[0].ratelimit: unknown field 'ratelimit' in a tenant (expected name, tokens, tokenSha256, rateLimit, maxSeries) [CFG_UNKNOWN_FIELD]",
      "tenants.yaml:7:33: tenants[0].rateLimit.brust: unknown field 'brust' in rateLimit (expected setsPerSecond, burst) [CFG_UNKNOWN_FIELD]",
    ]);
  });

  it('refuses a token shared by two tenants, or listed twice', () => {
    expect(errors(`tenants:\n- {name: a, tokens: [t1]}\n- {name: b, tokens: [t2], tokenSha256: ["${sha('t1')}"]}\n- {name: c, tokens: [t3, t3]}\n`)).toEqual([
      "tenants.yaml:3:41: tenants[1].tokenSha256[0]: this token is also a token of tenant 'a'; each token must name one tenant [TENANTS_DUPLICATE]",
      "tenants.yaml:4:26: tenants[2].tokens[1]: tenant 'c' lists this token twice [TENANTS_DUPLICATE]",
    ]);
  });

  it('needs at least one tenant, and a map at the top', () => {
    expect(errors('tenants: []')).toEqual(["tenants.yaml:1:10: tenants: 'tenants' must list at least one tenant, got a list [TENANTS_FIELD]"]);
    expect(errors('- a')).toEqual(["tenants.yaml:1:1: expected a map with 'tenants:', got a list [TENANTS_FIELD]"]);
    expect(errors('tenant: []')[0]).toContain("unknown field 'tenant' in the tenants file");
    expect(errors('tenants: [{name: a, tokens: [t]}]\nseriesIdleTtl: 10')).toEqual(['tenants.yaml:2:16: seriesIdleTtl: expected a duration of at least 1s such as "10m", got number 10 [TENANTS_FIELD]']);
  });

  it('refuses a tenant whose token lists are empty, which no Report could ever authenticate as', () => {
    expect(errors('tenants:\n- {name: a, tokens: []}\n- {name: b, tokens: [], tokenSha256: []}\n- {name: c, tokens: [t]}\n')).toEqual([
      "tenants.yaml:2:3: tenants[0]: tenant 'a' has no token: give 'tokens' or 'tokenSha256' [TENANTS_FIELD]",
      "tenants.yaml:3:3: tenants[1]: tenant 'b' has no token: give 'tokens' or 'tokenSha256' [TENANTS_FIELD]",
    ]);
  });

  it('refuses a token with whitespace in it, which `authorization: Bearer <token>` cannot carry, without echoing it', () => {
    const out = errors('tenants:\n- name: a\n  tokens: ["my secret", "secret-2 ", "ok-token", "tab\\tsecret"]\n');
    expect(out).toEqual([
      'tenants.yaml:3:12: tenants[0].tokens[0]: a bearer token cannot contain spaces, tabs or other whitespace or control characters (the Authorization value would end or be refused there) [TENANTS_FIELD]',
      'tenants.yaml:3:25: tenants[0].tokens[1]: a bearer token cannot contain spaces, tabs or other whitespace or control characters (the Authorization value would end or be refused there) [TENANTS_FIELD]',
      'tenants.yaml:3:50: tenants[0].tokens[3]: a bearer token cannot contain spaces, tabs or other whitespace or control characters (the Authorization value would end or be refused there) [TENANTS_FIELD]',
    ]);
    expect(out.join('\n')).not.toContain('secret');
  });

  it('reports YAML syntax errors with their position', () => {
    expect(errors('tenants: [\n')[0]).toMatch(/^tenants\.yaml:\d+:\d+: .*\[CFG_YAML\]$/);
  });
});
