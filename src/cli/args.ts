import { parseArgs } from 'node:util';
import { parseHostPort, type HostPort } from '../core/server/http.js';

export class UsageError extends Error {}

export type ParsedFlags = Record<string, string | boolean | undefined>;

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/**
 * Strict flag parsing: an unknown flag is a usage error, not silently ignored. So is an argument
 * that is not a flag, unless the command takes some (`check PATH`): `telemux serve my-config/`
 * used to serve the embedded config instead, without a word.
 */
export function parseFlags(argv: readonly string[], options: Options, opts: { readonly positionals?: boolean } = {}): { flags: ParsedFlags; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (!opts.positionals && positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (flags start with --)`);
  return { flags: values as ParsedFlags, positionals };
}

/** A HOST:PORT flag: a malformed one is a usage error naming the flag (exit 2), not a stack trace. */
export function hostPortFlag(text: string, flag: string): HostPort {
  try {
    return parseHostPort(text, flag);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `--config-default-namespace`: the config namespace whose rules apply to all traffic (spec §5.4). */
export function defaultNamespaceFlag(flags: ParsedFlags): string | undefined {
  const ns = flags['config-default-namespace'] as string | undefined;
  if (ns !== undefined && ns.trim() === '') throw new UsageError('--config-default-namespace: expected a namespace, such as istio-system');
  return ns;
}
