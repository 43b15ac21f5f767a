import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { TelemuxError } from '../errors.js';
import type { Logger } from '../log.js';
import { DEFAULT_SECURITY_POLL_MS, FilePoller } from './file-poller.js';

/** Where an endpoint's TLS material lives (`--grpc-tls-*`, `--http-tls-*`). */
export interface TlsFiles {
  /** PEM certificate chain, leaf first. */
  readonly cert: string;
  /** PEM private key of the leaf. */
  readonly key: string;
  /** PEM bundle of CAs that sign client certificates. Present: mutual TLS, a client certificate is required. */
  readonly clientCa?: string;
}

/** One consistent, validated set of what `TlsFiles` names, as read at one moment. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
  /** The leaf certificate, for logs and the expiry metric. */
  readonly leaf: X509Certificate;
}

export type TlsErrorCode = 'TLS_READ' | 'TLS_INVALID';

export class TlsError extends TelemuxError {
  constructor(
    override readonly code: TlsErrorCode,
    message: string,
  ) {
    super(code, message);
    this.name = 'TlsError';
  }
}

/**
 * Reads and validates TLS material: every file readable, the certificate and CA bundle parse, and
 * the key belongs to the certificate. Throws TlsError naming the file at fault; an endpoint is
 * never handed material that would fail every handshake.
 */
export async function loadTlsMaterial(files: TlsFiles): Promise<TlsMaterial> {
  const read = async (path: string, what: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (e) {
      throw new TlsError('TLS_READ', `${what} ${path}: cannot read it (${(e as Error).message})`);
    }
  };
  const [cert, key, ca] = await Promise.all([
    read(files.cert, 'certificate'),
    read(files.key, 'private key'),
    files.clientCa === undefined ? Promise.resolve(undefined) : read(files.clientCa, 'client CA bundle'),
  ]);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (e) {
    throw new TlsError('TLS_INVALID', `certificate ${files.cert}: not a PEM certificate (${(e as Error).message})`);
  }
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not belong to the certificate');
  } catch (e) {
    throw new TlsError('TLS_INVALID', `private key ${files.key}: unusable with certificate ${files.cert} (${(e as Error).message})`);
  }
  if (ca !== undefined && files.clientCa !== undefined) validateCaBundle(ca, files.clientCa);
  try {
    // What a handshake will do with it, so that anything OpenSSL still objects to fails here.
    createSecureContext(contextOptions({ cert, key, ca, leaf }));
  } catch (e) {
    throw new TlsError('TLS_INVALID', `certificate ${files.cert}: rejected by OpenSSL (${(e as Error).message})`);
  }
  return { cert, key, ca, leaf };
}

function validateCaBundle(ca: Buffer, path: string): void {
  // OpenSSL silently ignores a CA file without any certificate in it; mTLS would then refuse every client.
  const blocks = ca.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new TlsError('TLS_INVALID', `client CA bundle ${path}: no PEM certificate in it`);
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (e) {
      throw new TlsError('TLS_INVALID', `client CA bundle ${path}: certificate ${i + 1} does not parse (${(e as Error).message})`);
    }
  });
}

/** The secure-context part of the options, for `createServer` and `setSecureContext`. */
export function contextOptions(m: TlsMaterial): SecureContextOptions {
  return m.ca === undefined ? { cert: m.cert, key: m.key } : { cert: m.cert, key: m.key, ca: m.ca };
}

export interface TlsSourceOptions {
  readonly files: TlsFiles;
  /** Names the endpoint in logs: `grpc`, `http`. */
  readonly endpoint: string;
  readonly logger: Logger;
  readonly pollIntervalMs?: number;
  /** Told about every reload attempt after the first load. */
  readonly onReload?: (ok: boolean, material: TlsMaterial) => void;
}

type Subscriber = (m: TlsMaterial) => void;

/**
 * An endpoint's TLS material, kept current: loaded once before the endpoint binds, then read
 * again whenever one of its files changes. A replacement that does not validate (a half-copied
 * pair, a key that does not match) is logged and ignored, and the endpoint keeps serving the
 * last good material; it is tried again at the next change.
 */
export class TlsSource {
  private current: TlsMaterial | undefined;
  private readonly subscribers = new Set<Subscriber>();
  private poller: FilePoller | undefined;

  constructor(private readonly opts: TlsSourceOptions) {}

  /** Loads the material (throws TlsError) and starts watching its files. */
  async start(): Promise<void> {
    this.current = await this.load();
    const f = this.opts.files;
    this.poller = new FilePoller({
      paths: f.clientCa === undefined ? [f.cert, f.key] : [f.cert, f.key, f.clientCa],
      intervalMs: this.opts.pollIntervalMs ?? DEFAULT_SECURITY_POLL_MS,
      onChange: () => this.reload(),
      logger: this.opts.logger,
    });
    this.poller.start();
  }

  private async load(): Promise<TlsMaterial> {
    try {
      return await loadTlsMaterial(this.opts.files);
    } catch (e) {
      if (e instanceof TlsError) throw new TlsError(e.code, `${this.opts.endpoint} endpoint TLS: ${e.message}`);
      throw e;
    }
  }

  private async reload(): Promise<void> {
    const log = this.opts.logger;
    let next: TlsMaterial;
    try {
      next = await this.load();
    } catch (e) {
      if (!(e instanceof TlsError)) throw e;
      log.error('TLS files changed but cannot be used; still serving the previous certificate', { endpoint: this.opts.endpoint, error: e.message, code: e.code });
      if (this.current) this.opts.onReload?.(false, this.current);
      return;
    }
    this.current = next;
    log.info('TLS certificate reloaded', { endpoint: this.opts.endpoint, ...describeCertificate(next.leaf) });
    this.opts.onReload?.(true, next);
    for (const s of this.subscribers) s(next);
  }

  /** The material in force. Only after `start`. */
  get material(): TlsMaterial {
    if (!this.current) throw new Error('TlsSource.material read before start()');
    return this.current;
  }

  /** Whether clients must present a certificate signed by the client CA. */
  get mutual(): boolean {
    return this.opts.files.clientCa !== undefined;
  }

  /** Calls `fn` with each new material after a reload; returns the unsubscribe function. */
  subscribe(fn: Subscriber): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  async close(): Promise<void> {
    this.subscribers.clear();
    await this.poller?.close();
  }
}

export function describeCertificate(leaf: X509Certificate): { subject: string; serial: string; notAfter: string } {
  return { subject: leaf.subject.replace(/\n/g, ', '), serial: leaf.serialNumber, notAfter: new Date(leaf.validTo).toISOString() };
}
