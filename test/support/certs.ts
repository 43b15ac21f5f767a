import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Whether the `openssl` CLI is there to make test certificates; suites needing them skip without it. */
export const HAVE_OPENSSL = ((): boolean => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
  /** Hex serial number, as X509Certificate.serialNumber prints it (upper case). */
  readonly serial: string;
  /** The certificate's PEM text. */
  readonly pem: Buffer;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

let serialCounter = 0x1000;

/** A fresh, distinct serial, so rotation tests can tell certificates apart. */
function nextSerial(): string {
  serialCounter += 1;
  return `${Date.now().toString(16)}${serialCounter.toString(16)}`.toUpperCase();
}

/** A self-signed CA (P-256, valid one day) written to `<dir>/<name>.crt` and `.key`. */
export function makeCa(dir: string, name: string): CertFiles {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const serial = nextSerial();
  openssl(
    [
      'req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`, '-set_serial', `0x${serial}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const pem = readFileSync(cert);
  return { cert, key, serial: new X509Certificate(pem).serialNumber, pem };
}

export interface LeafOptions {
  /** Subject CN. */
  readonly name: string;
  readonly usage: 'server' | 'client';
  /**
   * Write through a temporary file and rename, as Kubernetes and cert-manager do, so a poller never
   * reads half a file. Default true.
   */
  readonly atomic?: boolean;
  /** File base name; default `name`. Reusing one replaces the files in place (rotation). */
  readonly file?: string;
}

/** A leaf certificate for 127.0.0.1 / localhost signed by `ca`, written to `<dir>/<file>.crt` and `.key`. */
export function issueCert(dir: string, ca: CertFiles, opts: LeafOptions): CertFiles {
  const base = opts.file ?? opts.name;
  const tmp = `${base}.${process.pid}.${nextSerial()}`;
  const ext = join(dir, `${tmp}.ext`);
  writeFileSync(
    ext,
    opts.usage === 'server'
      ? 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n'
      : 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
  );
  const serial = nextSerial();
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${tmp}.key`, '-out', `${tmp}.csr`, '-subj', `/CN=${opts.name}`], dir);
  openssl(['x509', '-req', '-in', `${tmp}.csr`, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${serial}`, '-days', '1', '-out', `${tmp}.crt`, '-extfile', ext], dir);
  const cert = join(dir, `${base}.crt`);
  const key = join(dir, `${base}.key`);
  const pem = readFileSync(join(dir, `${tmp}.crt`));
  if (opts.atomic === false) {
    writeFileSync(key, readFileSync(join(dir, `${tmp}.key`)));
    writeFileSync(cert, pem);
  } else {
    renameSync(join(dir, `${tmp}.key`), key);
    renameSync(join(dir, `${tmp}.crt`), cert);
  }
  return { cert, key, serial: new X509Certificate(pem).serialNumber, pem };
}
