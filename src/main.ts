#!/usr/bin/env node
// First: V8 flags must be set before other modules allocate (see v8-tuning.ts).
import './cli/v8-tuning.js';
import { APPLY_USAGE, applyCommand } from './cli/apply.js';
import { UsageError } from './cli/args.js';
import { CHECK_USAGE, checkCommand } from './cli/check.js';
import { LOADGEN_USAGE, loadgenCommand } from './cli/loadgen.js';
import { SERVE_USAGE, serveCommand } from './cli/serve.js';
import { STAT_USAGE, statCommand } from './cli/stat.js';
import { VERSION } from './core/version.js';

interface Command {
  readonly usage: string;
  readonly run: (argv: readonly string[]) => Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  serve: { usage: SERVE_USAGE, run: serveCommand },
  check: { usage: CHECK_USAGE, run: checkCommand },
  apply: { usage: APPLY_USAGE, run: applyCommand },
  stat: { usage: STAT_USAGE, run: statCommand },
  loadgen: { usage: LOADGEN_USAGE, run: loadgenCommand },
};

const indent = (usage: string): string => usage.replace(/\n/g, '\n  ');

const USAGE = `telemux ${VERSION}: a Mixer v1 compatible telemetry aggregator

usage:
  ${Object.values(COMMANDS)
    .map((c) => indent(c.usage))
    .join('\n\n  ')}

  telemux version`;

/** `--help` or `-h` among a command's arguments (before a `--` that ends the flags). */
function asksForHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const cmd = command === undefined ? undefined : COMMANDS[command];
  if (cmd) {
    if (asksForHelp(rest)) {
      process.stdout.write(`usage:\n  ${indent(cmd.usage)}\n`);
      return 0;
    }
    try {
      return await cmd.run(rest);
    } catch (e) {
      // The command's own usage, not every command's: with all of them (60 lines) the error
      // scrolled off the terminal.
      if (e instanceof UsageError) {
        process.stderr.write(`telemux: ${e.message}\n\nusage:\n  ${indent(cmd.usage)}\n`);
        return 2;
      }
      throw e;
    }
  }
  switch (command) {
    case 'version':
    case '--version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`telemux: ${e.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`telemux: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
