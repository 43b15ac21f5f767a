import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { UsageError } from './args.js';

export const DEFAULT_ADMIN_SERVER = 'http://127.0.0.1:15014';

/** The admin API could not be used: unreachable, refused the token, or answered nonsense. */
export class AdminApiError extends Error {
  constructor(
    message: string,
    /** The API's stable error code when it sent one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

/** PEM material for an https admin API: a CA to trust and, for mutual TLS, a client identity. */
export interface AdminTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface AdminConnection {
  readonly baseUrl: string;
  readonly token: string | undefined;
  readonly tls?: AdminTls;
}

/** The flags through which `apply` and `stat` reach an admin API served over (mutual) TLS. */
export const ADMIN_TLS_FLAG_OPTIONS = {
  'ca-file': { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
} as const;

export const ADMIN_TLS_USAGE = `  --ca-file           PEM CA that signed an https admin API's certificate (default: the public roots)
  --cert, --key       client certificate and key, for a server started with --http-tls-client-ca`;

/** `--ca-file`, `--cert` and `--key`, read now so that a bad path is a usage error naming its flag. */
export function adminTlsFlags(flags: Readonly<Record<string, string | boolean | undefined>>): AdminTls | undefined {
  const read = (flag: string): Buffer | undefined => {
    const path = flags[flag];
    if (path === undefined) return undefined;
    if (typeof path !== 'string' || path === '') throw new UsageError(`--${flag}: expected a file`);
    try {
      return readFileSync(path);
    } catch (e) {
      throw new UsageError(`--${flag}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const ca = read('ca-file');
  const cert = read('cert');
  const key = read('key');
  if ((cert === undefined) !== (key === undefined)) throw new UsageError(`--cert and --key go together; ${cert === undefined ? 'the certificate' : 'the key'} is missing`);
  if (ca === undefined && cert === undefined) return undefined;
  return { ...(ca !== undefined ? { ca } : {}), ...(cert !== undefined && key !== undefined ? { cert, key } : {}) };
}

/** `--server` (default the local admin port) and `--token` (default $TELEMUX_ADMIN_TOKEN). */
export function adminConnection(server: string | undefined, token: string | undefined, tls?: AdminTls): AdminConnection {
  const text = server ?? process.env['TELEMUX_SERVER'] ?? DEFAULT_ADMIN_SERVER;
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`--server: expected a URL like ${DEFAULT_ADMIN_SERVER}, got '${text}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--server: expected an http(s) URL, got '${text}'`);
  if (tls !== undefined && url.protocol !== 'https:') throw new UsageError(`--ca-file, --cert and --key need an https --server, got '${text}'`);
  return { baseUrl: url.toString().replace(/\/+$/, ''), token: token ?? process.env['TELEMUX_ADMIN_TOKEN'], ...(tls !== undefined ? { tls } : {}) };
}

export interface AdminReply {
  readonly status: number;
  readonly body: unknown;
}

/** One request to the admin API; any answer with a JSON body is returned, whatever its status. */
export async function adminRequest(conn: AdminConnection, path: string, init: { method?: string; json?: unknown; timeoutMs?: number } = {}): Promise<AdminReply> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (conn.token) headers['authorization'] = `Bearer ${conn.token}`;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  let res: { status: number; text: string };
  try {
    res = await send(conn, path, init.method ?? 'GET', headers, init.json === undefined ? undefined : JSON.stringify(init.json), init.timeoutMs ?? 30_000);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AdminApiError(`cannot reach the Telemux admin API at ${conn.baseUrl}: ${code ?? (e as Error).message} (is \`telemux serve\` running? see --server${conn.baseUrl.startsWith('https:') ? ', --ca-file, --cert/--key' : ''})`);
  }
  const text = res.text;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AdminApiError(`${conn.baseUrl}${path} answered ${String(res.status)} without JSON: ${text.slice(0, 200)}`);
  }
  const err = (body as { error?: { code?: unknown; message?: unknown } }).error;
  if (err && typeof err.message === 'string') {
    const code = typeof err.code === 'string' ? err.code : undefined;
    const hint = res.status === 401 ? ' — pass --token or set TELEMUX_ADMIN_TOKEN' : '';
    throw new AdminApiError(`${err.message}${code ? ` [${code}]` : ''}${hint}`, code);
  }
  return { status: res.status, body };
}

/** One HTTP(S) exchange; node:https rather than fetch, which cannot be given a CA or a client certificate. */
function send(conn: AdminConnection, path: string, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<{ status: number; text: string }> {
  const url = new URL(`${conn.baseUrl}${path}`);
  const options = { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal: AbortSignal.timeout(timeoutMs), ...conn.tls };
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req = url.protocol === 'https:' ? httpsRequest(url, options, onResponse) : httpRequest(url, options, onResponse);
    req.on('error', reject);
    req.end(body);
  });
}
