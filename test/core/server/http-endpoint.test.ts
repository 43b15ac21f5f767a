import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpEndpoint } from '../../../src/core/server/http.js';

/** Sends `text` over a raw connection and resolves with everything the server wrote, once it closes the connection. */
function rawExchange(port: number, text: string): Promise<{ reply: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let reply = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (reply += d));
    socket.on('error', reject);
    socket.on('close', () => resolve({ reply, ms: performance.now() - t0 }));
  });
}

describe('the HTTP endpoints (/metrics, admin API)', () => {
  let endpoint: HttpEndpoint | undefined;
  afterEach(async () => {
    await endpoint?.close();
    endpoint = undefined;
  });

  async function start(): Promise<number> {
    const routes = new Map([
      [
        '/api/echo',
        async (req: IncomingMessage, res: ServerResponse) => {
          let body = '';
          for await (const chunk of req) body += String(chunk);
          res.writeHead(200, { connection: 'close' }).end(`got ${body.length}\n`);
        },
      ],
    ]);
    endpoint = new HttpEndpoint(routes, () => undefined, undefined, { headersMs: 300, requestMs: 600 });
    return (await endpoint.listen({ host: '127.0.0.1', port: 0 })).port;
  }

  it('answers 408 and closes the connection of a client that is too slow with its headers or its body', async () => {
    const port = await start();
    const slowHeaders = await rawExchange(port, 'POST /api/echo HTTP/1.1\r\nHost: x\r\n');
    expect(slowHeaders.reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(slowHeaders.ms).toBeLessThan(5_000);
    const slowBody = await rawExchange(port, 'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789');
    expect(slowBody.reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(slowBody.ms).toBeLessThan(5_000);
  });

  it('serves a client that sends its request at once', async () => {
    const port = await start();
    const { reply } = await rawExchange(port, 'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789');
    expect(reply).toMatch(/^HTTP\/1\.1 200 /);
    expect(reply).toContain('got 10');
  });
});
