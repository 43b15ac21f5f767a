import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopback } from './http.js';

/**
 * Checks `Authorization: Bearer <token>` in constant time. Both sides are hashed first so that
 * neither the comparison nor an early length mismatch reveals how much of a guess was right.
 */
export function bearerAuthorizer(token: string): (req: IncomingMessage) => boolean {
  // Trimmed like the presented token: a token read from a Secret file usually ends in a newline,
  // which no client can send (fetch and curl strip it), so it would otherwise never match.
  const expected = digest(token.trim());
  return (req) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer[ \t]+(.+)$/i.exec(header.trim());
    const presented = digest(m ? m[1]!.trim() : '');
    return timingSafeEqual(presented, expected) && m !== null;
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Why the admin API must not be served as asked, or undefined when it may: beyond loopback it can
 * replace the running config, so there it needs a token unless the operator insists otherwise.
 */
export function adminExposureRefusal(host: string, hasToken: boolean, insecure: boolean): string | undefined {
  if (hasToken || insecure || isLoopback(host)) return undefined;
  return (
    `the admin API would listen on ${host}, beyond loopback, without a token, and anyone who reaches it could replace the config. ` +
    'Set --admin-token (or $TELEMUX_ADMIN_TOKEN), listen on loopback (--admin-address 127.0.0.1:15014), ' +
    'or pass --admin-insecure to expose it without a token anyway'
  );
}
