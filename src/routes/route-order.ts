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
 */
export class RouteOrder<T> {
  private items: OrderItem<T>[] = [];

  /** The values in order (a new array). */
  values(): T[] {
    return this.items.map((o) => o.value);
  }

  /** `dropped`: route keys ("family|prefix"); `added`: items not in the order yet. */
  update(added: readonly OrderItem<T>[], dropped: ReadonlySet<string>): void {
    if (dropped.size > FEW) {
      this.items = this.items.filter((o) => !dropped.has(o.key));
    } else {
      for (const key of dropped) {
        const at = this.position(prefixSortKey(key.slice(key.indexOf('|') + 1)));
        if (this.items[at]?.key === key) this.items.splice(at, 1);
        else this.items = this.items.filter((o) => o.key !== key); // cannot happen (keys and sort keys are 1:1)
      }
    }
    if (added.length > FEW) {
      this.items = [...this.items, ...added].sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    } else {
      for (const a of added) this.items.splice(this.position(a.sortKey), 0, a);
    }
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
