import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTrapSubmitter, parseRetryAfter } from '../../../src/adapters/circonus/index.js';
import { neverAborted } from './support/fixtures.js';
import { startTrapServer, type TrapServer } from './support/trap-server.js';

let trap: TrapServer | undefined;
afterEach(async () => {
  await trap?.close();
  trap = undefined;
});

const BODY = Buffer.from('{"m":{"_value":1,"_type":"L"}}');

describe('the HTTPTrap submitter', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Sun, 31 Dec 2023 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it("reports the broker's receipt of an accepted payload", async () => {
    trap = await startTrapServer();
    const s = new HttpTrapSubmitter({ url: trap.url, requestTimeoutMs: 1000, maxRetries: 0 });
    expect(await s.submit(BODY, neverAborted())).toEqual({ kind: 'sent', status: 200, attempts: 1, receipt: { stats: 1, filtered: 0, error: undefined } });
    trap.script({ status: 204, body: '' });
    expect(await s.submit(BODY, neverAborted())).toMatchObject({ kind: 'sent', status: 204, receipt: undefined });
    expect(trap.requests[0]?.headers).toMatchObject({ accept: 'application/json', connection: 'close', 'user-agent': 'telemux' });
  });

  it('gives up after max_retries with the last error', async () => {
    trap = await startTrapServer();
    const s = new HttpTrapSubmitter({ url: trap.url, requestTimeoutMs: 1000, maxRetries: 2, backoffBaseMs: 1, backoffMaxMs: 2 });
    trap.script({ status: 500 }, { status: 502 }, { status: 503, body: '{ "error": "overloaded" }' });
    expect(await s.submit(BODY, neverAborted())).toEqual({ kind: 'failed', attempts: 3, message: 'HTTP 503: { "error": "overloaded" }' });
  });

  it('stops waiting between retries as soon as the flush is aborted', async () => {
    trap = await startTrapServer();
    const s = new HttpTrapSubmitter({ url: trap.url, requestTimeoutMs: 1000, maxRetries: 3, backoffBaseMs: 60_000, backoffMaxMs: 60_000 });
    trap.script({ status: 500 });
    const ctrl = new AbortController();
    const outcome = s.submit(BODY, ctrl.signal);
    await trap.received(1);
    // Give the 500 time to arrive, so the submitter is in its minute-long backoff.
    await new Promise((resolve) => setTimeout(resolve, 100));
    ctrl.abort(new Error('flush exceeded 10000 ms'));
    await expect(outcome).resolves.toMatchObject({ kind: 'aborted', attempts: 1, message: expect.stringMatching(/flush exceeded 10000 ms; last: HTTP 500/) });
  });

  it('reads a body given as pieces afresh for each attempt, and fails an attempt whose piece cannot be made', async () => {
    trap = await startTrapServer();
    const s = new HttpTrapSubmitter({ url: trap.url, requestTimeoutMs: 1000, maxRetries: 1, backoffBaseMs: 1 });
    const pieces = ['{"m":', '{"_value":1,', '"_type":"L"}}'];
    let reads = 0;
    const body = {
      bytes: pieces.join('').length,
      *chunks(): Generator<string> {
        reads++;
        yield* pieces;
      },
    };
    trap.script({ status: 500 });
    expect(await s.submit(body, neverAborted())).toMatchObject({ kind: 'sent', attempts: 2 });
    expect(reads).toBe(2);
    expect(trap.requests.map((r) => r.body)).toEqual([pieces.join(''), pieces.join('')]);

    const broken = {
      bytes: 100,
      *chunks(): Generator<string> {
        yield '{"m":';
        throw new RangeError('metric "m": NaN is not a valid "L" value');
      },
    };
    expect(await s.submit(broken, neverAborted())).toMatchObject({ kind: 'failed', attempts: 2, message: expect.stringMatching(/not a valid "L" value/) });
  });

  it('lets the connection go and makes no more pieces once the broker answers before reading the body', async () => {
    // A broker that refuses at the headers and never reads what follows.
    let closed!: Promise<void>;
    const server = createServer((req, res) => {
      closed = new Promise((resolve) => req.socket.once('close', () => resolve()));
      res.writeHead(413, { 'Content-Type': 'application/json' });
      res.end('{ "error": "payload too large" }');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/module/httptrap/x/y`;
      const s = new HttpTrapSubmitter({ url, requestTimeoutMs: 5000, maxRetries: 0 });
      const piece = 'x'.repeat(1 << 16);
      let made = 0;
      const body = {
        bytes: 2000 * piece.length,
        *chunks(): Generator<string> {
          for (let i = 0; i < 2000; i++) {
            made++;
            yield piece;
          }
        },
      };
      expect(await s.submit(body, neverAborted())).toMatchObject({ kind: 'rejected', status: 413 });
      const madeThen = made;
      await closed;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(made).toBe(madeThen);
      expect(made).toBeLessThan(2000);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('counts a refused connection as a retryable network error', async () => {
    trap = await startTrapServer();
    const url = trap.url;
    await trap.close();
    trap = undefined;
    const s = new HttpTrapSubmitter({ url, requestTimeoutMs: 1000, maxRetries: 1, backoffBaseMs: 1 });
    expect(await s.submit(BODY, neverAborted())).toMatchObject({ kind: 'failed', attempts: 2, message: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('hides the secret in the URL it reports', () => {
    const s = new HttpTrapSubmitter({ url: 'https://10.1.2.3:43191/module/httptrap/uuid/s3cr3t', requestTimeoutMs: 1, maxRetries: 0 });
    expect(s.redactedUrl).toBe('https://10.1.2.3:43191/module/httptrap/uuid/…');
  });
});
