import type { StatGrouping, StatQuery, StatResultFor } from './query.js';

/** What the admin API needs from a stat view. */
export interface StatQueryable {
  query<B extends StatGrouping>(q: StatQuery<B>): Promise<StatResultFor<B>>;
}

/**
 * Where running `telemuxstat` handlers publish their views and the admin API finds them. One per
 * Telemux process, created by the composition root, so handlers never hand themselves to servers
 * and the server never looks into handlers. Registration follows the handler lifecycle: a
 * replacement registers before the handler it replaces unregisters, which then leaves it alone.
 */
export class StatViews {
  private readonly views = new Map<string, { view: StatQueryable; seq: number }>();
  private seq = 0;

  register(owner: string, view: StatQueryable): void {
    this.views.set(owner, { view, seq: ++this.seq });
  }

  unregister(owner: string, view: StatQueryable): void {
    if (this.views.get(owner)?.view === view) this.views.delete(owner);
  }

  /** Handler names with a view, sorted. */
  names(): string[] {
    return [...this.views.keys()].sort();
  }

  /** The named handler's view, or without a name the most recently registered one. */
  find(name?: string): StatQueryable | undefined {
    if (name !== undefined) return this.views.get(name)?.view;
    let best: { view: StatQueryable; seq: number } | undefined;
    for (const v of this.views.values()) if (!best || v.seq > best.seq) best = v;
    return best?.view;
  }
}
