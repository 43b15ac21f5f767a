/**
 * Resolves the StatsD host in the background, starting at handler start, and refreshes it from
 * flushes, so no datagram waits for DNS and a failing resolver stalls neither the Report path nor
 * the core's config apply (which starts handlers one after another): sends go to the last good
 * address.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface ResolvedAddress {
  /** IP literal. */
  readonly address: string;
  readonly family: 4 | 6;
}

export type LookupFn = (host: string) => Promise<ResolvedAddress>;

/**
 * The address Go's `net.ResolveUDPAddr("udp", "host:port")` (what Mixer's client called) picks
 * from the resolver's answers: the first IPv4 one, else the first one.
 *
 * Taking Node's first answer instead is wrong for the default `localhost:8125`: since Node 17
 * `dns.lookup` keeps getaddrinfo's order, which puts `::1` first wherever /etc/hosts lists it
 * (every Kubernetes pod), and a server listening on IPv4 only (Etsy statsd's default) would
 * then refuse every datagram.
 */
export function pickAddress(answers: readonly { readonly address: string; readonly family: number }[]): ResolvedAddress | undefined {
  const chosen = answers.find((a) => a.family === 4) ?? answers[0];
  return chosen === undefined ? undefined : { address: chosen.address, family: chosen.family === 6 ? 6 : 4 };
}

/** `dns.lookup` (getaddrinfo: /etc/hosts, then DNS), every answer, chosen as Go chose. */
export const systemLookup: LookupFn = async (host) => {
  const r = pickAddress(await dnsLookup(host, { all: true }));
  // getaddrinfo fails rather than answer with nothing; this only guards the types.
  if (r === undefined) throw new Error(`no address found for ${host}`);
  return r;
};

export class AddressResolver {
  private resolved: ResolvedAddress | undefined;
  private resolvedAt = -Infinity;
  private inFlight: Promise<void> | undefined;
  private completed = 0;

  /**
   * @param onError called with each failed lookup (the previous address stays in use)
   */
  constructor(
    readonly host: string,
    private readonly lookup: LookupFn,
    private readonly now: () => number,
    private readonly refreshMs: number,
    private readonly onError: (err: Error) => void,
  ) {
    const family = isIP(host);
    // An IP literal needs no lookup and never goes stale.
    if (family !== 0) {
      this.resolved = { address: host, family: family === 6 ? 6 : 4 };
      this.resolvedAt = Infinity;
    }
  }

  /** The address to send to now, if any lookup has succeeded yet. */
  current(): ResolvedAddress | undefined {
    return this.resolved;
  }

  /** Resolves now (sharing a lookup already under way); never rejects. */
  resolve(): Promise<void> {
    if (this.resolvedAt === Infinity) return Promise.resolve();
    this.inFlight ??= this.lookup(this.host)
      .then(
        (r) => {
          this.resolved = r;
          this.resolvedAt = this.now();
        },
        (err: unknown) => {
          // Keep the last good address, and wait a full interval before asking again.
          this.resolvedAt = this.now();
          this.onError(err instanceof Error ? err : new Error(String(err)));
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        this.completed++;
      });
    return this.inFlight;
  }

  /**
   * Starts a background lookup when the answer is older than the refresh interval, or on every
   * call while no lookup has succeeded yet (each flush retries; nothing can be sent until then).
   */
  refreshIfStale(): void {
    if (this.inFlight !== undefined) return;
    if (this.resolved !== undefined && this.now() - this.resolvedAt < this.refreshMs) return;
    // resolve() never rejects.
    void this.resolve();
  }

  /** The lookup under way if it is the first one (nothing has been learnt yet), else undefined. */
  firstLookup(): Promise<void> | undefined {
    return this.completed === 0 ? this.inFlight : undefined;
  }

  /** Settles once any lookup under way has finished (for close). */
  async idle(): Promise<void> {
    await this.inFlight;
  }
}
