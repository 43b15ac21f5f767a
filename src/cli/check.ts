import { createAdapterInventory } from '../adapters/index.js';
import { compileConfig } from '../core/config/compile.js';
import { listConfigFiles, loadConfigPath } from '../core/config/document.js';
import { formatConfigIssue } from '../core/errors.js';
import { defaultNamespaceFlag, parseFlags, UsageError } from './args.js';

export const CHECK_USAGE = `telemux check -f PATH [--config-default-namespace NS]
    validate a config file or directory offline, as serve with the same flag would; exits 1 listing every error`;

export async function checkCommand(argv: readonly string[]): Promise<number> {
  const { flags, positionals } = parseFlags(argv, { file: { type: 'string', short: 'f' }, 'config-default-namespace': { type: 'string' } }, { positionals: true });
  const defaultNamespace = defaultNamespaceFlag(flags);
  const path = (flags['file'] as string | undefined) ?? positionals[0];
  if (!path) throw new UsageError('check: missing -f PATH');
  // As `apply` says: a directory with nothing to check is a wrong path, not a valid config.
  const names = await listConfigFiles(path).catch(() => undefined);
  if (names !== undefined && names.length === 0) {
    process.stderr.write(`telemux: ${path}: no *.yaml or *.yml files\n`);
    return 1;
  }
  const loaded = await loadConfigPath(path);
  const compiled = compileConfig(loaded.documents, { adapters: createAdapterInventory().adapters, defaultNamespace });
  const issues = [...loaded.issues, ...compiled.issues];
  for (const i of issues) process.stderr.write(`${formatConfigIssue(i)}\n`);
  const errors = issues.filter((i) => i.severity === 'error').length;
  if (errors > 0 || !compiled.snapshot) {
    process.stderr.write(`${path}: ${errors} error(s)\n`);
    return 1;
  }
  const c = compiled.snapshot.counts;
  process.stdout.write(`${path}: ok (${c.attributes} attributes, ${c.instances} instances, ${c.handlers} handlers, ${c.rules} rules)\n`);
  return 0;
}
