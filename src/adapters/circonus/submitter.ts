/**
 * HTTPTrap submission: one PUT of the JSON body, retried on network errors, timeouts, 408, 429 and
 * 5xx with bounded exponential backoff (cgm's go-retryablehttp policy, plus a per-request timeout
 * cgm lacked). Every wait respects the flush's AbortSignal, so a stuck broker can never hold a
 * flush past the core's time box.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { redactUrl } from './config.js';

export interface SubmitterOptions {
  readonly url: string;
  readonly requestTimeoutMs: number;
  readonly maxRetries: number;
  /** PEM CA bundle replacing the public roots (https only). */
  readonly ca?: string | Buffer;
  /** Name the certificate must match, sent as SNI, instead of the URL's host (https only). */
  readonly tlsServerName?: string;
  /** First backoff; doubles per retry. cgm: 1 s. */
  readonly backoffBaseMs?: number;
  /** Backoff cap. cgm: 5 s. */
  readonly backoffMaxMs?: number;
  /** A Retry-After longer than this is not waited out within the flush. Default 30 s. */
  readonly maxRetryAfterMs?: number;
  /** For Retry-After dates; default Date.now. */
  readonly now?: () => number;
}

/**
 * A body as consecutive pieces of text, sent as UTF-8, with its length in bytes known up front.
 * `chunks` gives the pieces from the start each time it is called (once per attempt), and is
 * read one piece per drain of the socket, so a body made as it is read never exists whole.
 */
export interface TextBody {
  chunks(): Iterable<string>;
  readonly bytes: number;
}

export const DEFAULT_BACKOFF_BASE_MS = 1000;
export const DEFAULT_BACKOFF_MAX_MS = 5000;
const DEFAULT_MAX_RETRY_AFTER_MS = 30_000;
/** Broker replies are tiny (`{"stats":n}`); anything bigger is not read further. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** What the broker said about an accepted payload (HTTP 200 body `{"stats":n,"filtered":m}`). */
export interface BrokerReceipt {
  readonly stats?: number;
  readonly filtered?: number;
  /** E.g. "at least one metric exceeded max name length". */
  readonly error?: string;
}

export type SubmitOutcome =
  | { readonly kind: 'sent'; readonly status: number; readonly attempts: number; readonly receipt: BrokerReceipt | undefined }
  /** The broker refused this payload (4xx other than 408/429): sending it again cannot help. */
  | { readonly kind: 'rejected'; readonly status: number; readonly attempts: number; readonly message: string }
  /** Every attempt failed, or the broker asked to wait longer than this flush can. */
  | { readonly kind: 'failed'; readonly attempts: number; readonly message: string }
  /** The flush was aborted (time box or close) before the payload got through. */
  | { readonly kind: 'aborted'; readonly attempts: number; readonly message: string };

type Attempt =
  | { readonly ok: true; readonly status: number; readonly retryAfter: string | undefined; readonly body: string }
  | { readonly ok: false; readonly error: Error; readonly timedOut: boolean };

class RequestTimeoutError extends Error {
  constructor(ms: number) {
    super(`no complete response within ${ms} ms`);
    this.name = 'RequestTimeoutError';
  }
}

/**
 * go-retryablehttp does not retry certificate problems: they do not go away in seconds. Node
 * reports them with these codes.
 */
const CERT_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH/;

function errorCode(e: Error): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : '';
}

function describeError(e: Error): string {
  const code = errorCode(e);
  return code !== '' && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
}

/** Seconds or an HTTP date, as a delay in ms (undefined when absent or unparseable). */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function parseReceipt(body: string): BrokerReceipt | undefined {
  try {
    const v: unknown = JSON.parse(body);
    if (typeof v !== 'object' || v === null) return undefined;
    const r = v as Record<string, unknown>;
    return {
      stats: typeof r.stats === 'number' ? r.stats : undefined,
      filtered: typeof r.filtered === 'number' ? r.filtered : undefined,
      error: typeof r.error === 'string' ? r.error : undefined,
    };
  } catch {
    return undefined;
  }
}

function brokerMessage(status: number, body: string): string {
  const text = body.trim().replace(/\s+/g, ' ').slice(0, 200);
  return text === '' ? `HTTP ${status}` : `HTTP ${status}: ${text}`;
}

export class HttpTrapSubmitter {
  private readonly url: URL;
  private readonly requestOptions: RequestOptions & { ca?: string | Buffer; servername?: string; minVersion?: 'TLSv1.2' };
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly now: () => number;

  constructor(private readonly options: SubmitterOptions) {
    this.url = new URL(options.url);
    this.backoffBaseMs = options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
    this.backoffMaxMs = options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    this.now = options.now ?? Date.now;
    const https = this.url.protocol === 'https:';
    this.requestOptions = {
      method: 'PUT',
      // cgm disables keep-alive: one fresh connection per submission, nothing stale to trip on.
      agent: false,
      ...(https
        ? {
            minVersion: 'TLSv1.2' as const,
            ...(options.ca !== undefined ? { ca: options.ca } : {}),
            ...(options.tlsServerName !== undefined
              ? {
                  servername: options.tlsServerName,
                  checkServerIdentity: (_host: string, cert: PeerCertificate) =>
                    checkServerIdentity(options.tlsServerName as string, cert),
                }
              : {}),
          }
        : {}),
    };
  }

  /** The URL with its secret parts hidden, for logs. */
  get redactedUrl(): string {
    return redactUrl(this.url);
  }

  /**
   * Sends `body` (JSON, as UTF-8 bytes or as consecutive pieces of text), retrying as the policy
   * allows until `signal` aborts.
   */
  async submit(body: Buffer | TextBody, signal: AbortSignal): Promise<SubmitOutcome> {
    const length = Buffer.isBuffer(body) ? body.length : body.bytes;
    const maxAttempts = this.options.maxRetries + 1;
    let lastMessage = 'not attempted';
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) return { kind: 'aborted', attempts: attempt - 1, message: `${abortText(signal)}; last: ${lastMessage}` };
      const result = await this.attempt(body, length, signal);
      let waitMs: number;
      if (result.ok) {
        const { status } = result;
        if (status >= 200 && status < 300) {
          return { kind: 'sent', status, attempts: attempt, receipt: status === 200 ? parseReceipt(result.body) : undefined };
        }
        lastMessage = brokerMessage(status, result.body);
        const retryable = status >= 500 || status === 0 || status === 408 || status === 429;
        if (!retryable) return { kind: 'rejected', status, attempts: attempt, message: lastMessage };
        waitMs = this.backoff(attempt);
        if (status === 429 || status === 503) {
          const asked = parseRetryAfter(result.retryAfter, this.now());
          if (asked !== undefined) {
            if (asked > this.maxRetryAfterMs) {
              return { kind: 'failed', attempts: attempt, message: `${lastMessage} (broker asked to retry after ${asked} ms)` };
            }
            waitMs = asked;
          }
        }
      } else {
        if (signal.aborted) return { kind: 'aborted', attempts: attempt, message: abortText(signal) };
        lastMessage = describeError(result.error);
        if (CERT_ERROR.test(errorCode(result.error))) return { kind: 'failed', attempts: attempt, message: lastMessage };
        waitMs = this.backoff(attempt);
      }
      if (attempt >= maxAttempts) return { kind: 'failed', attempts: attempt, message: lastMessage };
      try {
        await sleep(waitMs, undefined, { signal, ref: false });
      } catch {
        return { kind: 'aborted', attempts: attempt, message: `${abortText(signal)}; last: ${lastMessage}` };
      }
    }
  }

  /** cgm's schedule: base·2^(n−1), capped (1 s, 2 s, 4 s, 5 s, … by default). */
  private backoff(attempt: number): number {
    return Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.min(attempt - 1, 30));
  }

  /** One PUT, bounded by the request timeout and by `signal`. Never rejects. */
  private attempt(body: Buffer | TextBody, length: number, signal: AbortSignal): Promise<Attempt> {
    const ctrl = new AbortController();
    const timeoutMs = this.options.requestTimeoutMs;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort(new RequestTimeoutError(timeoutMs));
    }, timeoutMs);
    timer.unref();
    const onAbort = (): void => ctrl.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });

    return new Promise<Attempt>((resolve) => {
      let settled = false;
      let req: ClientRequest | undefined;
      const finish = (a: Attempt): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        // A broker may answer before it has read the whole body (a 4xx, a 5xx). The rest is not
        // wanted: stop making pieces (they are read from a store that a settled flush hands on to
        // later intervals) and let the connection go rather than wait on a socket nobody reads.
        if (req !== undefined && !req.writableFinished) req.destroy();
        resolve(a);
      };
      const fail = (e: unknown): void => {
        const err = timedOut ? new RequestTimeoutError(timeoutMs) : e instanceof Error ? e : new Error(String(e));
        finish({ ok: false, error: err, timedOut });
      };
      const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
      req = send(
        this.url,
        {
          ...this.requestOptions,
          signal: ctrl.signal,
          headers: {
            'Content-Type': 'application/json',
            Accept: 'application/json',
            'Content-Length': length,
            Connection: 'close',
            'User-Agent': 'telemux',
          },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            if (size >= MAX_RESPONSE_BYTES) return;
            chunks.push(chunk);
            size += chunk.length;
          });
          res.on('error', fail);
          res.on('aborted', () => fail(new Error('response aborted')));
          res.on('end', () => {
            const retryAfter = res.headers['retry-after'];
            finish({
              ok: true,
              status: res.statusCode ?? 0,
              retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
              body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_RESPONSE_BYTES),
            });
          });
          res.on('close', () => fail(new Error('connection closed before the response ended')));
        },
      );
      req.on('error', fail);
      if (Buffer.isBuffer(body)) req.end(body);
      else writeChunks(req, body.chunks());
    });
  }
}

/**
 * Writes a body given as pieces of text, each read once the previous one has drained, so only the
 * piece being written exists as bytes (and, for a body made as it is read, as text): a payload
 * can be tens of MB. A piece that cannot be made fails the request.
 */
function writeChunks(req: ClientRequest, chunks: Iterable<string>): void {
  const it = chunks[Symbol.iterator]();
  const pump = (): void => {
    if (req.destroyed) return;
    let next: IteratorResult<string>;
    try {
      next = it.next();
    } catch (e) {
      req.destroy(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (next.done === true) {
      req.end();
      return;
    }
    // One piece per turn of the event loop, made in its check phase: a fast socket (loopback)
    // takes a piece at once and drains straight away, and pumping from the write callbacks would
    // keep the loop in its I/O phase, making piece after piece while no timer runs.
    if (req.write(next.value, 'utf8')) setImmediate(pump);
    else req.once('drain', () => setImmediate(pump));
  };
  pump();
}

function abortText(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return r instanceof Error ? `aborted: ${r.message}` : 'aborted';
}
