import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./grpcio_client.py', import.meta.url));

/**
 * A Python that can `import grpc` (Debian's python3-grpcio, gRPC C-core underneath), or undefined:
 * the interop suites skip without one. Debian's package installs for /usr/bin/python3, which a
 * pyenv or venv earlier on PATH would hide, so both are tried.
 */
export const GRPCIO_PYTHON: string | undefined = ['python3', '/usr/bin/python3'].find(
  (python) => spawnSync(python, ['-c', 'import grpc'], { stdio: 'ignore', timeout: 20_000 }).status === 0,
);

export interface GrpcioCall {
  /** `/package.Service/Method` */
  readonly method: string;
  readonly request: Uint8Array;
  readonly metadata?: readonly (readonly [string, string])[];
  readonly compression?: 'gzip' | 'deflate';
}

export interface GrpcioResult {
  readonly code: number;
  /** grpcio's name of the status, `OK` … `UNAUTHENTICATED`. */
  readonly name: string;
  readonly details: string;
  readonly response: Buffer | undefined;
}

export interface GrpcioTls {
  /** PEM file of the CA the client trusts. */
  readonly root: string;
  /** Client certificate and key, for mutual TLS. */
  readonly cert?: string;
  readonly key?: string;
}

interface WireResult {
  readonly code: number;
  readonly name: string;
  readonly details: string;
  readonly response: string | null;
}

/**
 * Makes `calls` on one grpcio channel to `target`, in order or (`concurrent`) all at once, and
 * resolves with each call's outcome in the order given.
 */
export function grpcioCalls(target: string, calls: readonly GrpcioCall[], tls?: GrpcioTls, concurrent = false): Promise<GrpcioResult[]> {
  if (GRPCIO_PYTHON === undefined) throw new Error('no Python with grpcio (Debian: apt-get install python3-grpcio)');
  const spec = {
    target,
    tls: tls ? { root: tls.root, cert: tls.cert ?? null, key: tls.key ?? null } : null,
    concurrent,
    calls: calls.map((c) => ({
      method: c.method,
      request: Buffer.from(c.request).toString('base64'),
      metadata: c.metadata ?? [],
      compression: c.compression ?? null,
    })),
  };
  return new Promise((resolve, reject) => {
    const child = execFile(GRPCIO_PYTHON, [SCRIPT], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`grpcio client failed: ${err.message}\n${stderr}`));
      const results = JSON.parse(stdout) as WireResult[];
      resolve(results.map((r) => ({ code: r.code, name: r.name, details: r.details, response: r.response === null ? undefined : Buffer.from(r.response, 'base64') })));
    });
    child.stdin!.end(JSON.stringify(spec));
  });
}
