import type { RefusedAddress, ServiceRef, WithheldAddress } from './types.js';
import { cmp } from './reasons.js';

/** One contributor's refusals and withheld addresses, deduplicated and sorted as the result lists them. */
interface Reports {
  ref: ServiceRef;
  refused: RefusedAddress[];
  withheld: WithheldAddress[];
}

/**
 * The refused and withheld addresses of a route table (./table.ts): each contributor's, in result order (namespace,
 * name), and the attribute-not-applied refusals the merge of a shared route made, by route key. The lists are built
 * again only after a change.
 */
export class OwnerReports {
  private readonly byOwner = new Map<string, Reports>();
  /** Contributors with reports, in result order. */
  private order: string[] = [];
  /** Host-route key -> the Services whose attributes the merge left out of that route (attribute-not-applied). */
  private readonly merged = new Map<string, RefusedAddress[]>();
  private changed = true;
  private refusedList: RefusedAddress[] = [];
  private withheldList: WithheldAddress[] = [];

  has(owner: string): boolean {
    return this.byOwner.has(owner);
  }

  /** Sets one owner's reports from all its contributions (deduplicated and sorted the way the result lists them). */
  setOwner(
    owner: string,
    contributions: readonly { refused: readonly RefusedAddress[]; withheld: readonly WithheldAddress[] }[],
    ref: ServiceRef | undefined,
  ): void {
    this.changed = true;
    const refused = new Map<string, RefusedAddress>();
    const withheld = new Map<string, WithheldAddress>();
    for (const c of contributions) {
      for (const r of c.refused) refused.set(`${r.namespace}/${r.service}/${r.uid ?? ''}/${r.address}/${r.kind ?? ''}/${r.code}/${r.message}`, r);
      for (const w of c.withheld) withheld.set(`${w.namespace}/${w.service}/${w.address}/${w.kind}/${w.code}`, w);
    }
    const had = this.byOwner.has(owner);
    if (refused.size === 0 && withheld.size === 0) {
      if (had) {
        this.byOwner.delete(owner);
        this.order.splice(this.order.indexOf(owner), 1);
      }
      return;
    }
    const first = refused.values().next().value ?? withheld.values().next().value;
    if (first === undefined) throw new Error('OwnerReports.setOwner: both lists are empty past the check that one is not');
    const reports: Reports = {
      ref: ref ?? { namespace: first.namespace, name: first.service },
      refused: [...refused.values()].sort(compareRefusals),
      withheld: [...withheld.values()].sort(compareWithheld),
    };
    this.byOwner.set(owner, reports);
    if (!had) this.order.splice(this.insertionPoint(reports.ref), 0, owner);
  }

  /** The attribute-not-applied refusals of one route (none: the route has none, or is gone). */
  setMerged(key: string, reports: RefusedAddress[]): void {
    if (reports.length === 0) {
      if (this.merged.delete(key)) this.changed = true;
      return;
    }
    const before = this.merged.get(key);
    if (
      before &&
      before.length === reports.length &&
      before.every((b, i) => {
        const r = reports[i]; // defined: the lengths are equal
        return r !== undefined && b.message === r.message && b.namespace === r.namespace && b.service === r.service;
      })
    )
      return;
    this.merged.set(key, reports);
    this.changed = true;
  }

  refused(): RefusedAddress[] {
    this.rebuild();
    return this.refusedList;
  }

  withheld(): WithheldAddress[] {
    this.rebuild();
    return this.withheldList;
  }

  private rebuild(): void {
    if (!this.changed) return;
    this.refusedList = this.order.flatMap((o) => this.byOwner.get(o)?.refused ?? []);
    if (this.merged.size > 0) this.refusedList = [...this.refusedList, ...[...this.merged.values()].flat()].sort(compareRefusals);
    this.withheldList = this.order.flatMap((o) => this.byOwner.get(o)?.withheld ?? []);
    this.changed = false;
  }

  private insertionPoint(ref: ServiceRef): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const owner = this.order[mid];
      const reports = owner === undefined ? undefined : this.byOwner.get(owner);
      if (reports === undefined) throw new Error('OwnerReports: an owner in the result order has no reports');
      const other = reports.ref;
      if ((cmp(other.namespace, ref.namespace) || cmp(other.name, ref.name)) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function compareRefusals(a: RefusedAddress, b: RefusedAddress): number {
  return (
    cmp(a.namespace, b.namespace) ||
    cmp(a.service, b.service) ||
    cmp(a.address, b.address) ||
    cmp(a.kind ?? '', b.kind ?? '') ||
    cmp(a.code, b.code) ||
    cmp(a.message, b.message) ||
    cmp(a.uid ?? '', b.uid ?? '')
  );
}

function compareWithheld(a: WithheldAddress, b: WithheldAddress): number {
  return cmp(a.namespace, b.namespace) || cmp(a.service, b.service) || cmp(a.address, b.address) || cmp(a.kind, b.kind);
}
