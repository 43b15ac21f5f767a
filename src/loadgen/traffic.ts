import type { Prng } from './prng.js';
import type { Bookinfo, Service, Workload } from './topology.js';

/** One HTTP call between two workloads, as both sidecars saw it. */
export interface Call {
  readonly source: Workload;
  readonly destination: Workload;
  readonly service: Service;
  readonly method: string;
  readonly path: string;
  /** What the client saw; the server's answer unless the connection failed. */
  readonly code: number;
  /** Time the server's sidecar measured (inbound report). */
  readonly serverNanos: number;
  /** Time the client's sidecar measured: the server's time plus the network (outbound report). */
  readonly clientNanos: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** When the call started, ms since the epoch. */
  readonly startMs: number;
  readonly requestId: string;
  /** The connection failed: no server report, the client reports 503 with flag UF. */
  readonly connectFailure: boolean;
}

const NS_PER_MS = 1e6;

/** The calls a server makes while serving one request; returns their total time in ns. */
type Downstream = (server: Workload, atMs: number, out: Call[]) => number;

/** Median and shape of one network hop (sidecar to sidecar), added to the client-side time. */
const HOP = { medianMs: 0.35, sigma: 0.4 } as const;

/** User traffic entering through the gateway: the product page, and the lighter product API. */
const ENTRY_PATHS = [
  { path: '/productpage', weight: 0.95, fanOut: true },
  { path: '/api/v1/products', weight: 0.05, fanOut: false },
] as const;

/**
 * Generates Bookinfo requests with a seeded generator: the same seed yields the same calls, in the
 * same order, with the same codes, latencies and sizes. A parent's time includes its children's
 * (productpage calls details, then reviews, one after the other, as the sample app does).
 */
export class TrafficModel {
  private sequence = 0;

  constructor(
    private readonly topology: Bookinfo,
    private readonly rng: Prng,
  ) {}

  /** Every call one user request causes, starting at `startMs`, parents before their children. */
  userRequest(startMs: number): Call[] {
    const t = this.topology;
    const entry = this.rng.next() < ENTRY_PATHS[0].weight ? ENTRY_PATHS[0] : ENTRY_PATHS[1];
    const calls: Call[] = [];
    const ratings: Downstream = (reviews, at, out) => this.call(reviews, t.ratings, '/ratings/0', at, out);
    const fanOut: Downstream = (pp, at, out) => {
      const details = this.call(pp, t.details, '/details/0', at, out);
      const reviews = this.rng.pick(t.reviews);
      // v1 shows no stars, so only v2 and v3 ask ratings.
      return details + this.call(pp, reviews, '/reviews/0', at + details / NS_PER_MS, out, reviews.version === 'v1' ? undefined : ratings);
    };
    this.call(t.gateway, t.productpage, entry.path, startMs, calls, entry.fanOut ? fanOut : undefined);
    return calls;
  }

  /**
   * Simulates `dst` serving one GET from `src`, including the calls it makes downstream, appends
   * them all to `out` and returns the time the client waited, in ns.
   */
  private call(src: Workload, dst: Workload, path: string, startMs: number, out: Call[], downstream?: Downstream): number {
    const b = dst.behaviour!;
    const service = dst.service!;
    const rng = this.rng;
    const requestId = this.requestId();
    const hopNanos = rng.logNormal(HOP.medianMs, HOP.sigma) * NS_PER_MS;
    const base = { source: src, destination: dst, service, method: 'GET', path, startMs, requestId, requestBytes: 0 };
    if (rng.chance(b.connectFailureRate)) {
      const clientNanos = Math.round(hopNanos);
      out.push({ ...base, code: 503, serverNanos: 0, clientNanos, responseBytes: 91, connectFailure: true });
      return clientNanos;
    }
    let ownMs = rng.logNormal(b.medianMs, b.sigma);
    if (rng.chance(b.slowRate)) ownMs *= b.slowFactor;
    const roll = rng.next();
    const code = roll < b.errorRate ? b.errorCode : roll < b.errorRate + b.notFoundRate ? 404 : 200;
    const children: Call[] = [];
    // Half of its own time passes before the server calls downstream; a failed request calls nothing.
    const childNanos = code === 200 && downstream ? downstream(dst, startMs + ownMs / 2 + hopNanos / NS_PER_MS, children) : 0;
    const serverNanos = Math.round(ownMs * NS_PER_MS + childNanos);
    const responseBytes = code === 200 ? Math.max(0, Math.round(rng.logNormal(b.responseBytes, b.responseSigma))) : code === 404 ? 19 : 95;
    const clientNanos = Math.round(serverNanos + hopNanos);
    out.push({ ...base, code, serverNanos, clientNanos, responseBytes, connectFailure: false }, ...children);
    return clientNanos;
  }

  private requestId(): string {
    const n = this.sequence++;
    const hex = (x: number, w: number): string => (x >>> 0).toString(16).padStart(w, '0').slice(-w);
    const r = this.rng.nextUint32();
    return `${hex(r, 8)}-${hex(n >>> 16, 4)}-4${hex(n, 3)}-a${hex(r >>> 8, 3)}-${hex(n * 2654435761, 8)}${hex(r, 4)}`;
  }
}
