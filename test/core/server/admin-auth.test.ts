import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { bearerAuthorizer } from '../../../src/core/server/admin-auth.js';

const req = (authorization?: string): IncomingMessage => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

describe('the admin token check', () => {
  const ok = bearerAuthorizer('s3cret-token');

  it('accepts exactly the configured bearer token, with any case of the scheme', () => {
    expect(ok(req('Bearer s3cret-token'))).toBe(true);
    expect(ok(req('bearer s3cret-token'))).toBe(true);
    expect(ok(req('  Bearer   s3cret-token  '))).toBe(true);
  });

  it('refuses a missing header, another scheme, a prefix, an extension and an empty token', () => {
    for (const h of [undefined, '', 'Basic s3cret-token', 's3cret-token', 'Bearer s3cret', 'Bearer s3cret-token2', 'Bearer ', 'Bearer']) expect(ok(req(h)), String(h)).toBe(false);
    expect(bearerAuthorizer('')(req('Bearer '))).toBe(false);
  });
});

describe('a configured admin token with surrounding whitespace', () => {
  it('is matched by the token without it, as clients send it (a Secret file ends in a newline; fetch and curl strip it)', () => {
    const ok = bearerAuthorizer('s3cret-token\n');
    expect(ok(req('Bearer s3cret-token'))).toBe(true);
    expect(bearerAuthorizer('  s3cret-token\t')(req('Bearer s3cret-token'))).toBe(true);
    expect(ok(req('Bearer s3cret'))).toBe(false);
    expect(ok(req('Bearer '))).toBe(false);
  });
});
