import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI to completion. */
export function runCli(args: readonly string[], timeoutMs = 20_000, env?: Readonly<Record<string, string>>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`telemux ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServingCli {
  readonly child: ChildProcess;
  readonly grpc: string;
  readonly metrics: string;
  readonly admin: string;
  stderr(): string;
  exited: Promise<number | null>;
}

export interface ServeOptions {
  /** Starts the CLI through this command instead of `node dist/src/main.js` (say the launcher script). */
  readonly command?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts `telemux serve` on port 0 everywhere and waits for its startup line. */
export function serveCli(args: readonly string[], opts: ServeOptions = {}): Promise<ServingCli> {
  return new Promise((resolve, reject) => {
    const [cmd, ...prefix] = opts.command ?? [process.execPath, CLI];
    const child = spawn(
      cmd!,
      [...prefix, 'serve', '--grpc-address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } },
    );
    let err = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /msg="telemux started" grpc=(\S+) metrics=(\S+) admin=(\S+)/.exec(err);
      if (m) resolve({ child, grpc: m[1]!, metrics: m[2]!, admin: m[3]!, stderr: () => err, exited });
    });
    void exited.then((code) => reject(new Error(`telemux exited with ${code} before starting:\n${err}`)));
  });
}
