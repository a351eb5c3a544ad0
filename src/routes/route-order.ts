import { prefixSortKey } from '../config/net.js';

/** A built path in result order: its route key, the string its order sorts by (computed once), the path. */
export interface OrderItem<T> {
  key: string;
  sortKey: string;
  value: T;
}

/** Up to this many routes added or dropped at once are placed one by one; more are merged by one sort. */
const FEW = 32;

/**
 * The routes of a table in result order (IPv4 first, then address, then length), kept sorted without sorting
 * again: a few routes added or dropped (one Service changed) are placed by binary search, each prefix parsed once,
 * when it first appears; many (a fresh table) are sorted at once.
 *
 * The values are kept as an array of their own beside the items, and handed out as they are: a pass that changes one
 * route costs a binary search, not a new array of every route (at 50,000 routes, building that array on every pass
 * was most of a pass). An array once handed out is never changed: the next update copies it first (copy on write,
 * one memory copy), so a result read later still holds the routes of its own pass.
 */
export class RouteOrder<T> {
  private items: OrderItem<T>[] = [];
  /** items[i].value, in the same order. */
  private vals: T[] = [];
  /** `vals` was handed out by values(): copy before changing it. */
  private shared = false;
  /** Counts the updates that changed something: a reader knows whether the order moved on. */
  private version = 0;

  /** The values in order; never changed afterwards (a later update works on a copy). */
  values(): readonly T[] {
    this.shared = true;
    return this.vals;
  }

  /**
   * The values as of now, read when needed: most passes never look at the whole list (the reconciler follows the
   * changed keys), so they never pay for it. Reading after the order moved on is a programming error, and says so
   * rather than answer with another pass's routes.
   */
  reader(): () => readonly T[] {
    const at = this.version;
    return () => {
      if (this.version !== at) throw new Error('RouteOrder: routes read after the table changed again (a result was kept past its pass)');
      return this.values();
    };
  }

  /**
   * `dropped`: route keys ("family|prefix"); `added`: items not in the order yet; `replaced`: items in the order whose
   * value was set anew.
   */
  update(added: readonly OrderItem<T>[], dropped: ReadonlySet<string>, replaced: readonly OrderItem<T>[] = []): void {
    if (added.length === 0 && dropped.size === 0 && replaced.length === 0) return;
    this.version++;
    if (this.shared) {
      this.vals = this.vals.slice();
      this.shared = false;
    }
    for (const r of replaced) {
      const at = this.position(r.sortKey);
      if (this.items[at] === r) this.vals[at] = r.value;
    }
    if (dropped.size > FEW || added.length > FEW) {
      this.rebuild(added, dropped);
      return;
    }
    for (const key of dropped) {
      const at = this.position(prefixSortKey(key.slice(key.indexOf('|') + 1)));
      if (this.items[at]?.key !== key) throw new Error(`RouteOrder.update: route ${key} is not in the order`);
      this.items.splice(at, 1);
      this.vals.splice(at, 1);
    }
    for (const a of added) {
      const at = this.position(a.sortKey);
      this.items.splice(at, 0, a);
      this.vals.splice(at, 0, a.value);
    }
  }

  /** Many changes at once: filter and sort the whole list (a fresh table, a configuration change). */
  private rebuild(added: readonly OrderItem<T>[], dropped: ReadonlySet<string>): void {
    const kept = dropped.size > 0 ? this.items.filter((o) => !dropped.has(o.key)) : this.items;
    this.items = [...kept, ...added].sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    this.vals = this.items.map((o) => o.value);
  }

  /** Where a sort key is, or would be inserted. */
  private position(sortKey: string): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const item = this.items[mid];
      if (item === undefined) throw new Error('RouteOrder.position: a midpoint fell outside the list');
      if (item.sortKey < sortKey) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
