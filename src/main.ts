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

const USAGE = `telemux ${VERSION}: a Mixer v1 compatible telemetry aggregator

usage:
  ${SERVE_USAGE.replace(/\n/g, '\n  ')}

  ${CHECK_USAGE}

  ${APPLY_USAGE.replace(/\n/g, '\n  ')}

  ${STAT_USAGE.replace(/\n/g, '\n  ')}

  ${LOADGEN_USAGE.replace(/\n/g, '\n  ')}

  telemux version`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serveCommand(rest);
    case 'check':
      return checkCommand(rest);
    case 'apply':
      return applyCommand(rest);
    case 'stat':
      return statCommand(rest);
    case 'loadgen':
      return loadgenCommand(rest);
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
