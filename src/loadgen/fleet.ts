import type { AttributeSet } from '../client/compressor.js';
import type { Workload } from './topology.js';

/** Envoy's mixer filter limits: a batch is sent at 100 attribute sets or after 1 s. */
export const BATCH_MAX_SETS = 100;
export const BATCH_MAX_AGE_MS = 1_000;

export interface Batch {
  readonly reporter: Workload;
  readonly sets: readonly AttributeSet[];
}

interface Pending {
  readonly reporter: Workload;
  sets: AttributeSet[];
  firstAt: number;
}

/** Each sidecar's report buffer: whoever reported a set batches it with its own earlier sets. */
export class ProxyFleet {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly maxSets = BATCH_MAX_SETS,
    private readonly maxAgeMs = BATCH_MAX_AGE_MS,
  ) {}

  /** Buffers one set; returns the reporter's batch when it just reached `maxSets`. */
  add(reporter: Workload, set: AttributeSet, now: number): Batch | undefined {
    let p = this.pending.get(reporter.pod);
    if (!p) this.pending.set(reporter.pod, (p = { reporter, sets: [], firstAt: now }));
    if (p.sets.length === 0) p.firstAt = now;
    p.sets.push(set);
    return p.sets.length >= this.maxSets ? this.take(p) : undefined;
  }

  /** Batches whose oldest set waited `maxAgeMs`, or every non-empty one with `all`. */
  due(now: number, all = false): Batch[] {
    const out: Batch[] = [];
    for (const p of this.pending.values()) {
      if (p.sets.length > 0 && (all || now - p.firstAt >= this.maxAgeMs)) out.push(this.take(p));
    }
    return out;
  }

  private take(p: Pending): Batch {
    const batch = { reporter: p.reporter, sets: p.sets };
    p.sets = [];
    return batch;
  }
}
