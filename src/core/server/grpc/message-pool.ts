/**
 * Buffers for request messages that arrive in more than one DATA chunk, reused once the method is
 * done with them.
 *
 * Why: V8 starts a full mark-compact whenever ArrayBuffer memory has grown by about 64 MB since the
 * last one, however small the heap. At the ingest bench's 70% load a server takes in ~65 MB/s of
 * Reports, which Node's HTTP/2 reads into fresh ArrayBuffers; joining each message's chunks into
 * a fresh buffer of its own doubled that (BENCHMARKS.md, round 12). A pooled buffer is allocated
 * once and counts once.
 *
 * Buffers come in power-of-two capacities from 64 KiB; messages above `maxPooledBytes` get a
 * buffer of their own, as do all messages once `maxIdleBytes` are idle in the pool (then a
 * released buffer is left to the collector).
 */

const MIN_CAPACITY = 64 * 1024;
const DEFAULT_MAX_POOLED_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_IDLE_BYTES = 16 * 1024 * 1024;

export interface MessagePoolOptions {
  /** Largest message served from the pool; larger ones get a buffer of their own. */
  readonly maxPooledBytes?: number;
  /** Bytes of released buffers kept for reuse; beyond them a released buffer is dropped. */
  readonly maxIdleBytes?: number;
}

function capacityFor(length: number): number {
  let capacity = MIN_CAPACITY;
  while (capacity < length) capacity *= 2;
  return capacity;
}

export class MessageBufferPool {
  private readonly maxPooledBytes: number;
  private readonly maxIdleBytes: number;
  /** Released buffers by capacity. */
  private readonly idle = new Map<number, ArrayBuffer[]>();
  /** The buffers handed out and not yet released: a release of anything else is ignored. */
  private readonly lent = new WeakSet<ArrayBuffer>();
  private idleBytes = 0;

  constructor(options: MessagePoolOptions = {}) {
    this.maxPooledBytes = options.maxPooledBytes ?? DEFAULT_MAX_POOLED_BYTES;
    this.maxIdleBytes = options.maxIdleBytes ?? DEFAULT_MAX_IDLE_BYTES;
  }

  /** Bytes held for reuse. */
  get idleByteCount(): number {
    return this.idleBytes;
  }

  /**
   * A buffer of exactly `length` bytes, contents unspecified. Give it back with {@link release}
   * once nothing reads it, or anything viewing it, any more.
   */
  acquire(length: number): Buffer {
    if (length > this.maxPooledBytes) return Buffer.allocUnsafeSlow(length);
    const capacity = capacityFor(length);
    const free = this.idle.get(capacity);
    let ab = free?.pop();
    if (ab === undefined) ab = new ArrayBuffer(capacity);
    else this.idleBytes -= capacity;
    this.lent.add(ab);
    return Buffer.from(ab, 0, length);
  }

  /**
   * Takes back a buffer {@link acquire} gave. Anything else, and a second release of the same
   * buffer, is ignored: two messages must never share bytes.
   */
  release(buf: Uint8Array): void {
    const ab = buf.buffer;
    if (!(ab instanceof ArrayBuffer) || !this.lent.delete(ab)) return;
    const capacity = ab.byteLength;
    if (this.idleBytes + capacity > this.maxIdleBytes) return;
    let free = this.idle.get(capacity);
    if (free === undefined) this.idle.set(capacity, (free = []));
    free.push(ab);
    this.idleBytes += capacity;
  }
}
