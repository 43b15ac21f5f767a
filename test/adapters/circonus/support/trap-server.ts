/**
 * A local stand-in for a Circonus broker's HTTPTrap endpoint: records every request and answers
 * from a script (status codes, hangs), then like a healthy broker (`200 {"stats":n}`). Plus
 * helpers that decode what it received back into histograms and numbers.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Circllhist } from '../../../../src/core/circllhist/index.js';

export interface TrapRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** `hang`: read the request, never answer. */
export type Reply = { readonly status: number; readonly body?: string; readonly headers?: Record<string, string> } | 'hang';

export interface TrapServer {
  /** `http(s)://127.0.0.1:<port>/module/httptrap/<uuid>/<secret>`. */
  readonly url: string;
  readonly origin: string;
  readonly requests: TrapRequest[];
  /** Answers for the next requests, in order; once used up, the broker is healthy again. */
  script(...replies: Reply[]): void;
  /** Resolves once `n` requests have been received in total. */
  received(n: number): Promise<void>;
  close(): Promise<void>;
}

export const TRAP_PATH = '/module/httptrap/3f5c2a4e-0000-4000-8000-0123456789ab/s3cr3t';

export async function startTrapServer(tls?: { readonly key: string | Buffer; readonly cert: string | Buffer }): Promise<TrapServer> {
  const requests: TrapRequest[] = [];
  const replies: Reply[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const hanging = new Set<ServerResponse>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      for (const w of waiters.splice(0)) {
        if (requests.length >= w.n) w.resolve();
        else waiters.push(w);
      }
      const reply = replies.shift();
      if (reply === 'hang') {
        hanging.add(res);
        return;
      }
      if (reply !== undefined) {
        res.writeHead(reply.status, { 'Content-Type': 'application/json', ...reply.headers });
        res.end(reply.body ?? `{ "error": "scripted ${reply.status}" }`);
        return;
      }
      let stats = 0;
      try {
        stats = Object.keys(JSON.parse(body) as object).length;
      } catch {
        res.writeHead(406, { 'Content-Type': 'application/json' });
        res.end('{ "error": "json parse error" }');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ stats, filtered: 0 }));
    });
  };

  const server: Server = tls === undefined ? createHttpServer(handle) : createHttpsServer({ key: tls.key, cert: tls.cert }, handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const origin = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
  return {
    url: `${origin}${TRAP_PATH}`,
    origin,
    requests,
    script: (...r) => void replies.push(...r),
    received: (n) =>
      requests.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type DecodedMetric =
  | { readonly type: 'h'; readonly histogram: Circllhist }
  | { readonly type: 'L' | 'l' | 'n'; readonly value: number };

/** A PUT body as metric name → decoded value (histograms through `Circllhist.fromBase64`). */
export function decodePayload(body: string): Map<string, DecodedMetric> {
  const raw = JSON.parse(body) as Record<string, { _value: unknown; _type: string }>;
  const out = new Map<string, DecodedMetric>();
  for (const [name, m] of Object.entries(raw)) {
    if (Object.keys(m).join(',') !== '_value,_type') throw new Error(`metric ${name} has fields ${Object.keys(m).join(',')}`);
    if (m._type === 'h') {
      if (typeof m._value !== 'string') throw new Error(`histogram ${name} is not a base64 string`);
      out.set(name, { type: 'h', histogram: Circllhist.fromBase64(m._value) });
    } else if (m._type === 'L' || m._type === 'l' || m._type === 'n') {
      if (typeof m._value !== 'number') throw new Error(`metric ${name} is not a number`);
      out.set(name, { type: m._type, value: m._value });
    } else {
      throw new Error(`metric ${name} has unexpected type ${m._type}`);
    }
  }
  return out;
}

/** Splits `base|ST[b"…":b"…",…]` into the base name and its decoded tags (in order). */
export function parseTaggedName(name: string): { base: string; tags: [string, string][] } {
  const at = name.indexOf('|ST[');
  if (at < 0) return { base: name, tags: [] };
  if (!name.endsWith(']')) throw new Error(`malformed stream tags in ${name}`);
  const list = name.slice(at + 4, -1);
  const b64 = (s: string): string => {
    const m = /^b"([A-Za-z0-9+/=]*)"$/.exec(s);
    if (m === null) throw new Error(`tag part ${s} is not b"<base64>"`);
    return Buffer.from(m[1] as string, 'base64').toString('utf8');
  };
  const tags = list.split(',').map((t): [string, string] => {
    const colon = t.indexOf(':');
    const cat = t.slice(0, colon);
    const val = t.slice(colon + 1);
    return [b64(cat), val === '' ? '' : b64(val)];
  });
  return { base: name.slice(0, at), tags };
}

/** Metric name with tags for assertions: `base{cat=val,…}` with tags in the order sent. */
export function readableName(name: string): string {
  const { base, tags } = parseTaggedName(name);
  return tags.length === 0 ? base : `${base}{${tags.map(([c, v]) => `${c}=${v}`).join(',')}}`;
}

/** Every body received, decoded and merged: histograms and counters add up, gauges keep the last. */
export function mergeBodies(bodies: readonly string[]): Map<string, DecodedMetric> {
  const total = new Map<string, DecodedMetric>();
  for (const body of bodies) {
    for (const [name, m] of decodePayload(body)) {
      const prev = total.get(name);
      if (prev === undefined) total.set(name, m.type === 'h' ? { type: 'h', histogram: m.histogram.clone() } : m);
      else if (prev.type === 'h' && m.type === 'h') prev.histogram.merge(m.histogram);
      else if (prev.type === 'L' && m.type === 'L') total.set(name, { type: 'L', value: prev.value + m.value });
      else total.set(name, m);
    }
  }
  return total;
}
