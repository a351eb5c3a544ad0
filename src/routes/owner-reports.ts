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
 * name), and the attribute-not-applied refusals the merge of a shared route made, by route key. Each list is built
 * again only after a change of its own kind, from the owners that have entries of that kind: a node withholds most
 * Services of a large cluster (no local endpoint), and a change of one of them must not rebuild the refusals.
 */
export class OwnerReports {
  private readonly byOwner = new Map<string, Reports>();
  /** Contributors with refusals, in result order. */
  private readonly refusing = new OwnerOrder(this.byOwner);
  /** Contributors with withheld addresses, in result order. */
  private readonly withholding = new OwnerOrder(this.byOwner);
  /** Host-route key -> the Services whose attributes the merge left out of that route (attribute-not-applied). */
  private readonly merged = new Map<string, RefusedAddress[]>();
  private refusedChanged = true;
  private withheldChanged = true;
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
    const refused = new Map<string, RefusedAddress>();
    const withheld = new Map<string, WithheldAddress>();
    for (const c of contributions) {
      for (const r of c.refused) refused.set(`${r.namespace}/${r.service}/${r.uid ?? ''}/${r.address}/${r.kind ?? ''}/${r.code}/${r.message}`, r);
      for (const w of c.withheld) withheld.set(`${w.namespace}/${w.service}/${w.address}/${w.kind}/${w.code}`, w);
    }
    const before = this.byOwner.get(owner);
    if (before) {
      if (before.refused.length > 0) this.refusing.remove(owner, before.ref);
      if (before.withheld.length > 0) this.withholding.remove(owner, before.ref);
      this.byOwner.delete(owner);
      this.refusedChanged ||= before.refused.length > 0;
      this.withheldChanged ||= before.withheld.length > 0;
    }
    if (refused.size === 0 && withheld.size === 0) return;
    const first = refused.values().next().value ?? withheld.values().next().value;
    if (first === undefined) throw new Error('OwnerReports.setOwner: both lists are empty past the check that one is not');
    const reports: Reports = {
      ref: ref ?? { namespace: first.namespace, name: first.service },
      refused: [...refused.values()].sort(compareRefusals),
      withheld: [...withheld.values()].sort(compareWithheld),
    };
    this.byOwner.set(owner, reports);
    if (reports.refused.length > 0) {
      this.refusing.insert(owner, reports.ref);
      this.refusedChanged = true;
    }
    if (reports.withheld.length > 0) {
      this.withholding.insert(owner, reports.ref);
      this.withheldChanged = true;
    }
  }

  /** One owner's refusals and withheld addresses (none: an empty list each), as the result lists them. */
  of(owner: string): { refused: readonly RefusedAddress[]; withheld: readonly WithheldAddress[] } {
    return this.byOwner.get(owner) ?? { refused: [], withheld: [] };
  }

  /** The attribute-not-applied refusals of one route key (none: an empty list). */
  mergedOf(key: string): readonly RefusedAddress[] {
    return this.merged.get(key) ?? [];
  }

  /** The owners with reports. */
  owners(): IterableIterator<string> {
    return this.byOwner.keys();
  }

  /** The attribute-not-applied refusals of one route (none: the route has none, or is gone). */
  setMerged(key: string, reports: RefusedAddress[]): void {
    if (reports.length === 0) {
      if (this.merged.delete(key)) this.refusedChanged = true;
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
    this.refusedChanged = true;
  }

  refused(): RefusedAddress[] {
    if (this.refusedChanged) {
      this.refusedList = this.refusing.owners.flatMap((o) => this.byOwner.get(o)?.refused ?? []);
      if (this.merged.size > 0) this.refusedList = [...this.refusedList, ...[...this.merged.values()].flat()].sort(compareRefusals);
      this.refusedChanged = false;
    }
    return this.refusedList;
  }

  withheld(): WithheldAddress[] {
    if (this.withheldChanged) {
      this.withheldList = this.withholding.owners.flatMap((o) => this.byOwner.get(o)?.withheld ?? []);
      this.withheldChanged = false;
    }
    return this.withheldList;
  }
}

/** Owner keys in result order (namespace, name of their Service), placed and found by binary search. */
class OwnerOrder {
  readonly owners: string[] = [];

  constructor(private readonly byOwner: ReadonlyMap<string, Reports>) {}

  insert(owner: string, ref: ServiceRef): void {
    this.owners.splice(this.position(ref), 0, owner);
  }

  remove(owner: string, ref: ServiceRef): void {
    // Owners with one name in one namespace sit side by side: look from the first of them.
    for (let at = this.position(ref); at < this.owners.length; at++) {
      if (this.owners[at] === owner) {
        this.owners.splice(at, 1);
        return;
      }
    }
    throw new Error(`OwnerReports: ${owner} is not in the result order`);
  }

  private position(ref: ServiceRef): number {
    let lo = 0;
    let hi = this.owners.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const owner = this.owners[mid];
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
