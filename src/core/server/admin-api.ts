/**
 * The admin API under `/api/v1/` on the admin port:
 *
 *   GET  /api/v1/config   the active config (hash, source, counts) and the last apply attempt
 *   PUT  /api/v1/config   replace the whole config (POST is the same); 200 applied, 422 rejected
 *   GET  /api/v1/stat     ?by=workload|service|edge&window=1m&namespace=NS&view=HANDLER
 *
 * A config body is either YAML (one file, named by `?file=`) or JSON `{"files":[{"name","content"}]}`
 * so that every issue points at the operator's own `file:line:col`. Errors that are not config
 * issues answer `{"error":{"code","message"}}` with a stable code.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConfigText } from '../config/document.js';
import { formatConfigIssue, TelemuxError, type ConfigIssue, type ErrorCode } from '../errors.js';
import { textSource, type ConfigReloader } from '../runtime/reload.js';
import { parseStatQuery } from '../stat/query.js';
import type { StatViews } from '../stat/registry.js';
import { bearerAuthorizer } from './admin-auth.js';
import { readRequestBody, sendJson, type Route } from './http.js';

export interface AdminApiOptions {
  readonly reloader: ConfigReloader;
  /** Absent: the stat endpoint answers 404. */
  readonly statViews?: StatViews;
  /** When set, every `/api/` request needs `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Largest config upload accepted. Default 8 MiB. */
  readonly maxBodyBytes?: number;
}

export const DEFAULT_MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** A config issue as the API returns it; `text` is the line `telemux check` would print. */
export interface IssueJson {
  readonly severity: 'error' | 'warning';
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly path: string;
  readonly message: string;
  readonly code: string;
  readonly text: string;
}

export function issueJson(i: ConfigIssue): IssueJson {
  return { severity: i.severity, file: i.at.file, line: i.at.line, col: i.at.col, path: i.path, message: i.message, code: i.code, text: formatConfigIssue(i) };
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  API_UNAUTHORIZED: 401,
  API_BAD_REQUEST: 400,
  API_TOO_LARGE: 413,
  API_METHOD: 405,
  API_UNAVAILABLE: 503,
  RUNTIME_CLOSED: 503,
  STAT_NO_VIEW: 404,
  STAT_BAD_QUERY: 400,
};

export function adminApiRoutes(opts: AdminApiOptions): Map<string, Route> {
  const authorized = opts.token ? bearerAuthorizer(opts.token) : () => true;
  const guard =
    (methods: readonly string[], route: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void): Route =>
    async (req, res) => {
      try {
        if (!authorized(req)) {
          res.setHeader('www-authenticate', 'Bearer realm="telemux"');
          throw new TelemuxError('API_UNAUTHORIZED', 'missing or wrong bearer token (Authorization: Bearer <token>, see --admin-token)');
        }
        if (!methods.includes(req.method ?? 'GET')) {
          res.setHeader('allow', methods.join(', '));
          throw new TelemuxError('API_METHOD', `method ${req.method ?? ''} not allowed (use ${methods.join(', ')})`);
        }
        await route(req, res, new URL(req.url ?? '/', 'http://admin'));
      } catch (e) {
        if (!(e instanceof TelemuxError) || STATUS[e.code] === undefined) throw e;
        // An oversized upload is not read to the end; closing keeps the connection from reuse.
        if (e.code === 'API_TOO_LARGE') res.setHeader('connection', 'close');
        sendJson(res, STATUS[e.code]!, { error: { code: e.code, message: e.message } });
      }
    };

  return new Map<string, Route>([
    [
      '/api/v1/config',
      guard(['GET', 'HEAD', 'PUT', 'POST'], async (req, res, url) => {
        if (req.method === 'GET' || req.method === 'HEAD') {
          sendJson(res, 200, configInfo(opts.reloader));
          return;
        }
        const files = await readConfigUpload(req, url, opts.maxBodyBytes ?? DEFAULT_MAX_CONFIG_BYTES);
        const outcome = await opts.reloader.apply(textSource(files), 'api');
        if (outcome.applied) {
          const s = outcome.summary;
          sendJson(res, 200, {
            applied: true,
            hash: s.hash,
            summary: { created: s.created, changed: s.changed, unchanged: s.unchanged, removed: s.removed },
            warnings: outcome.warnings.map(issueJson),
          });
        } else {
          sendJson(res, 422, { applied: false, active_hash: opts.reloader.active?.hash ?? null, issues: outcome.issues.map(issueJson) });
        }
      }),
    ],
    [
      '/api/v1/stat',
      guard(['GET', 'HEAD'], async (_req, res, url) => {
        const q = parseStatQuery({ by: url.searchParams.get('by'), window: url.searchParams.get('window'), namespace: url.searchParams.get('namespace') });
        const name = url.searchParams.get('view') ?? undefined;
        const view = opts.statViews?.find(name);
        if (!view) {
          const which = name ? `stat view '${name}'` : "'telemuxstat' handler";
          throw new TelemuxError('STAT_NO_VIEW', `the active config has no ${which}; include config/telemux-stat.yaml (the embedded default does) in what you apply`);
        }
        sendJson(res, 200, await view.query(q));
      }),
    ],
  ]);
}

function configInfo(reloader: ConfigReloader): unknown {
  const a = reloader.active;
  const l = reloader.last;
  return {
    hash: a?.hash ?? null,
    origin: a?.origin ?? null,
    source: a?.description ?? null,
    files: a?.files ?? [],
    trigger: a?.trigger ?? null,
    applied_at: a ? new Date(a.appliedAt).toISOString() : null,
    counts: a?.counts ?? null,
    last_apply: l ? { at: new Date(l.at).toISOString(), trigger: l.trigger, source: l.description, applied: l.applied, errors: l.errors, warnings: l.warnings } : null,
  };
}

async function readConfigUpload(req: IncomingMessage, url: URL, limit: number): Promise<ConfigText[]> {
  const body = (await readRequestBody(req, limit)).toString('utf8');
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    if (body.trim() === '') throw new TelemuxError('API_BAD_REQUEST', 'empty config: send YAML, or JSON {"files":[{"name","content"}]}');
    return [{ name: url.searchParams.get('file') || 'api.yaml', content: body }];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    throw new TelemuxError('API_BAD_REQUEST', `body is not valid JSON: ${(e as Error).message}`);
  }
  const files = (parsed as { files?: unknown } | null)?.files;
  if (!Array.isArray(files) || files.length === 0) throw new TelemuxError('API_BAD_REQUEST', 'expected {"files":[{"name":"…","content":"…"}, …]} with at least one file');
  const names = new Set<string>();
  return files.map((f: unknown, i) => {
    const { name, content } = (f ?? {}) as { name?: unknown; content?: unknown };
    if (typeof name !== 'string' || name === '' || typeof content !== 'string') {
      throw new TelemuxError('API_BAD_REQUEST', `files[${i}]: expected {"name": non-empty string, "content": string}`);
    }
    if (names.has(name)) throw new TelemuxError('API_BAD_REQUEST', `files[${i}]: file '${name}' is given twice`);
    names.add(name);
    return { name, content };
  });
}
