import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { BlockList, isIPv4, isIPv6, type AddressInfo } from 'node:net';
import { TelemuxError } from '../errors.js';
import { contextOptions, type TlsSource } from '../security/tls.js';

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * How long a client may take to send a request. Node's defaults (60 s for the headers, 300 s for
 * the whole request, checked every 30 s) let a handful of slow clients hold connections for
 * minutes; scrapers and `telemux apply` send everything at once.
 */
export interface RequestTimeouts {
  readonly headersMs: number;
  readonly requestMs: number;
}

export const DEFAULT_REQUEST_TIMEOUTS: RequestTimeouts = { headersMs: 10_000, requestMs: 30_000 };

/**
 * A small HTTP server with exact-path routes; errors answer 500 instead of crashing. Given a
 * TlsSource it serves HTTPS (requiring a client certificate when the source has a client CA), and
 * new connections pick up a reloaded certificate without a restart.
 */
export class HttpEndpoint {
  private server: Server | HttpsServer | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly handle: (req: IncomingMessage, res: ServerResponse) => void;

  constructor(
    private readonly routes: ReadonlyMap<string, Route>,
    onError: (e: Error) => void,
    private readonly tls?: TlsSource,
    private readonly timeouts: RequestTimeouts = DEFAULT_REQUEST_TIMEOUTS,
  ) {
    this.handle = (req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const route = this.routes.get(path);
      if (!route) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${path}\n`);
        return;
      }
      Promise.resolve()
        .then(() => route(req, res))
        .catch((e: unknown) => {
          onError(e as Error);
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`internal error: ${(e as Error).message}\n`);
        });
    };
  }

  // The server is made at listen time because TLS material is loaded (asynchronously) by then.
  private createServer(): Server | HttpsServer {
    const tls = this.tls;
    const t = this.timeouts;
    // A timed-out request is answered 408 and its connection closed, at the next check.
    const limits = { headersTimeout: t.headersMs, requestTimeout: t.requestMs, connectionsCheckingInterval: Math.min(1_000, t.headersMs) };
    if (!tls) return createServer(limits, this.handle);
    const server = createHttpsServer({ ...limits, ...contextOptions(tls.material), requestCert: tls.mutual, rejectUnauthorized: tls.mutual }, this.handle);
    this.unsubscribe = tls.subscribe((m) => server.setSecureContext(contextOptions(m)));
    return server;
  }

  listen(address: HostPort): Promise<HostPort> {
    const server = (this.server ??= this.createServer());
    server.keepAliveTimeout = 65_000;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        const a = server.address() as AddressInfo;
        resolve({ host: address.host, port: a.port });
      });
    });
  }

  /** Idempotent; safe when `listen` was never called. */
  close(): Promise<void> {
    this.unsubscribe?.();
    const server = this.server;
    if (!server?.listening) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 2_000).unref();
    });
  }
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export function parseHostPort(text: string, flag: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${flag}: expected HOST:PORT (e.g. 127.0.0.1:9091, port 0 picks a free one), got '${text}'`);
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export function formatHostPort(a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Reads a request body up to `limit` bytes; beyond that it stops reading and throws API_TOO_LARGE. */
export async function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): TelemuxError {
  return new TelemuxError('API_TOO_LARGE', `request body larger than ${limit} bytes`);
}

/** Writes `body` as JSON with a trailing newline. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(`${JSON.stringify(body)}\n`);
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * True for addresses only this machine can reach. Only `localhost` among names: a name such as
 * `127.example.com` can resolve anywhere. Any spelling of ::1 or ::ffff:127.x counts.
 */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIPv4(host)) return LOOPBACK.check(host, 'ipv4');
  return isIPv6(host) && LOOPBACK.check(host, 'ipv6');
}
