import { readFile } from 'node:fs/promises';
import { listConfigFiles } from '../core/config/document.js';
import { ADMIN_TLS_FLAG_OPTIONS, ADMIN_TLS_USAGE, adminConnection, adminRequest, adminTlsFlags, AdminApiError } from './admin-client.js';
import { parseFlags, UsageError } from './args.js';

export const APPLY_USAGE = `telemux apply -f FILE|DIR [-f …] [--server URL] [--token TOKEN] [--ca-file PEM] [--cert PEM --key PEM]
      replace the running config with these files (like kubectl apply of the whole set); the server
      validates all of it and applies it atomically, or rejects it, listing every error, and keeps
      the config it had. Exit 1 when rejected.
  --server            admin API (default http://127.0.0.1:15014, or $TELEMUX_SERVER)
  --token             bearer token for --admin-token servers (default $TELEMUX_ADMIN_TOKEN)
${ADMIN_TLS_USAGE}`;

interface IssueLike {
  readonly severity?: string;
  readonly text?: string;
}

interface ApplyReply {
  readonly applied: boolean;
  readonly hash?: string;
  readonly active_hash?: string | null;
  readonly summary?: Readonly<Record<'created' | 'changed' | 'unchanged' | 'removed', readonly string[]>>;
  readonly warnings?: readonly IssueLike[];
  readonly issues?: readonly IssueLike[];
}

const ORDER = ['created', 'changed', 'unchanged', 'removed'] as const;

export async function applyCommand(argv: readonly string[]): Promise<number> {
  const { flags, positionals } = parseFlags(
    argv,
    {
      file: { type: 'string', short: 'f', multiple: true },
      server: { type: 'string' },
      token: { type: 'string' },
      ...ADMIN_TLS_FLAG_OPTIONS,
    },
    { positionals: true },
  );
  const paths = [...((flags['file'] as unknown as string[] | undefined) ?? []), ...positionals];
  if (paths.length === 0) throw new UsageError('apply: missing -f FILE|DIR');
  const files: { name: string; content: string }[] = [];
  for (const p of paths) {
    let names: string[];
    try {
      names = await listConfigFiles(p);
    } catch (e) {
      process.stderr.write(`telemux: cannot read ${p}: ${(e as Error).message}\n`);
      return 1;
    }
    if (names.length === 0) {
      process.stderr.write(`telemux: ${p}: no *.yaml or *.yml files\n`);
      return 1;
    }
    for (const name of names) files.push({ name, content: await readFile(name, 'utf8') });
  }
  const conn = adminConnection(flags['server'] as string | undefined, flags['token'] as string | undefined, adminTlsFlags(flags));
  let reply: ApplyReply;
  try {
    const r = await adminRequest(conn, '/api/v1/config', { method: 'PUT', json: { files } });
    reply = r.body as ApplyReply;
  } catch (e) {
    if (!(e instanceof AdminApiError)) throw e;
    process.stderr.write(`telemux: ${e.message}\n`);
    return 1;
  }
  if (!reply.applied) {
    const issues = reply.issues ?? [];
    for (const i of issues) process.stderr.write(`${i.text ?? JSON.stringify(i)}\n`);
    const errors = issues.filter((i) => i.severity === 'error').length;
    const keeping = reply.active_hash ? `config ${reply.active_hash.slice(0, 12)}` : 'its previous config';
    process.stderr.write(`telemux: config rejected with ${errors} error(s); the server keeps running ${keeping}\n`);
    return 1;
  }
  for (const w of reply.warnings ?? []) process.stderr.write(`${w.text ?? JSON.stringify(w)}\n`);
  const s = reply.summary ?? { created: [], changed: [], unchanged: [], removed: [] };
  const rows = ORDER.flatMap((what) => (s[what] ?? []).map((name) => [name, what] as const)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [name, what] of rows) process.stdout.write(`handler ${name} ${what}\n`);
  const counts = ORDER.map((what) => `${(s[what] ?? []).length} ${what}`).join(', ');
  process.stdout.write(`config ${(reply.hash ?? '').slice(0, 12)} applied: ${counts}\n`);
  return 0;
}
