import { parseArgs } from 'node:util';

export class UsageError extends Error {}

export type ParsedFlags = Record<string, string | boolean | undefined>;

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** Strict flag parsing: an unknown flag is a usage error, not silently ignored. */
export function parseFlags(argv: readonly string[], options: Options): { flags: ParsedFlags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { flags: values as ParsedFlags, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
