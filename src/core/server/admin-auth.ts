import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Checks `Authorization: Bearer <token>` in constant time. Both sides are hashed first so that
 * neither the comparison nor an early length mismatch reveals how much of a guess was right.
 */
export function bearerAuthorizer(token: string): (req: IncomingMessage) => boolean {
  const expected = digest(token);
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
