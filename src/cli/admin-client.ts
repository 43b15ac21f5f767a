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

export interface AdminConnection {
  readonly baseUrl: string;
  readonly token: string | undefined;
}

/** `--server` (default the local admin port) and `--token` (default $TELEMUX_ADMIN_TOKEN). */
export function adminConnection(server: string | undefined, token: string | undefined): AdminConnection {
  const text = server ?? process.env['TELEMUX_SERVER'] ?? DEFAULT_ADMIN_SERVER;
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`--server: expected a URL like ${DEFAULT_ADMIN_SERVER}, got '${text}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--server: expected an http(s) URL, got '${text}'`);
  return { baseUrl: url.toString().replace(/\/+$/, ''), token: token ?? process.env['TELEMUX_ADMIN_TOKEN'] };
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
  let res: Response;
  try {
    res = await fetch(`${conn.baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
      signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new AdminApiError(`cannot reach the Telemux admin API at ${conn.baseUrl}: ${cause?.code ?? cause?.message ?? (e as Error).message} (is \`telemux serve\` running? see --server)`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AdminApiError(`${conn.baseUrl}${path} answered ${res.status} without JSON: ${text.slice(0, 200)}`);
  }
  const err = (body as { error?: { code?: unknown; message?: unknown } }).error;
  if (err && typeof err.message === 'string') {
    const code = typeof err.code === 'string' ? err.code : undefined;
    const hint = res.status === 401 ? ' — pass --token or set TELEMUX_ADMIN_TOKEN' : '';
    throw new AdminApiError(`${err.message}${code ? ` [${code}]` : ''}${hint}`, code);
  }
  return { status: res.status, body };
}
