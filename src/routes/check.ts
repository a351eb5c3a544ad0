import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { sliceServiceKey } from '../model/service-key.js';
import { CONFIG_OWNER, configContribution, ownerKey, serviceContribution, serviceRef, type RouteScope } from './desired.js';
import { RouteTable, type Contribution } from './table.js';
import type { ServiceRef } from './types.js';

/** What differs between the incremental state and a full recomputation, for the log (at most 20 of each). */
export interface Mismatch {
  /** Route prefixes. */
  routes: string[];
  /** Refused addresses ("namespace/name address code") in one state and not the other. */
  refused: string[];
  /** Withheld addresses ("namespace/name address kind") in one state and not the other. */
  withheld: string[];
}

const MAX_LISTED = 20;
/** Items between two looks at the clock. */
const STRIDE = 64;

type Phase = 'group' | 'build' | 'settle' | 'routes' | 'routes-extra' | 'reports' | 'reports-extra' | 'done';

/** How one step of a check ended: more to do, done and in agreement, done with a difference, or given up. */
export type CheckStep = { state: 'more' } | { state: 'agree' } | { state: 'differ'; mismatch: Mismatch } | { state: 'abandoned'; why: string };

/**
 * The drift pass's check of the incremental route table, cut into steps that each take a bounded time, so that
 * changes never wait for it (at 50,000 Services the whole recomputation takes seconds).
 *
 * A second table (the shadow) is built from scratch, the way the full computation builds one: the slices of a
 * snapshot of the view grouped by Service, each Service's contribution computed, the routes merged. The live table
 * moves on meanwhile: every contribution a pass sets in it is set in the shadow too (`mirror`), and the snapshot's
 * older object for that Service is then skipped. So the two tables must agree at every moment between passes, and
 * are compared key by key, a slice at a time: each route, each Service's refusals and withheld addresses, each
 * route's merge refusals. A Service the watch never reported as changed is in the snapshot as it is now and in the
 * live table as it was: that is the difference the check exists to find.
 */
export class RouteCheck {
  private phase: Phase = 'group';
  private at = 0;
  private readonly shadow: RouteTable;
  private readonly groups = new Map<string, V1EndpointSlice[]>();
  /** Owners a pass set since the check began: the shadow holds their live contribution. */
  private readonly touched = new Set<string>();
  private readonly built = new Set<string>();
  private keys: string[] = [];
  private readonly mismatch: Mismatch = { routes: [], refused: [], withheld: [] };
  private differs = false;
  private stride = STRIDE;

  constructor(
    private readonly live: RouteTable,
    private readonly scope: RouteScope,
    private readonly services: readonly V1Service[],
    private readonly slices: readonly V1EndpointSlice[],
  ) {
    this.shadow = new RouteTable(scope.context);
    this.shadow.set(CONFIG_OWNER, configContribution(scope));
  }

  /** A pass set an owner's contribution in the live table (undefined: removed); the shadow follows. */
  mirror(owner: string, c: Contribution | undefined, ref?: ServiceRef): void {
    if (this.phase === 'done') return;
    this.touched.add(owner);
    this.shadow.set(owner, c, ref);
  }

  /** Works for about `budgetMs` (at least one stride of `stride` items), then says where it stands. */
  step(budgetMs: number, stride = STRIDE): CheckStep {
    this.stride = stride;
    const until = performance.now() + budgetMs;
    while (this.phase !== 'done') {
      const abandoned = this.work(until);
      if (abandoned !== undefined) {
        this.phase = 'done';
        return { state: 'abandoned', why: abandoned };
      }
      if ((this.phase as Phase) !== 'done' && performance.now() >= until) return { state: 'more' };
    }
    return this.differs ? { state: 'differ', mismatch: this.mismatch } : { state: 'agree' };
  }

  /** Advances the current phase until the deadline or the phase's end; a reason when the check must be given up. */
  private work(until: number): string | undefined {
    switch (this.phase) {
      case 'group':
        this.each(this.slices, until, (sl) => {
          const owner = sliceServiceKey(sl);
          if (owner === undefined) return;
          const list = this.groups.get(owner);
          if (list) list.push(sl);
          else this.groups.set(owner, [sl]);
        }) && this.next('build');
        return undefined;
      case 'build': {
        let duplicate: string | undefined;
        const finished = this.each(this.services, until, (svc) => {
          const ref = serviceRef(svc);
          const owner = ownerKey(ref);
          if (this.built.has(owner)) duplicate = owner;
          this.built.add(owner);
          if (this.touched.has(owner)) return;
          this.shadow.set(owner, serviceContribution(this.scope, svc, this.groups.get(owner) ?? []), ref);
        });
        // Never from an informer (it keys by namespace/name); the full computation's merge of the two is not the shadow's.
        if (duplicate !== undefined) return `two Services with the key ${duplicate} in one view`;
        if (finished) this.next('settle');
        return undefined;
      }
      case 'settle':
        // An excluded node advertises nothing (its table never builds routes): only the reports are compared.
        if (this.scope.context.excluded) {
          this.next('reports');
          return undefined;
        }
        // At least one stride per step, whatever the budget.
        do {
          if (this.shadow.settle(this.stride)) {
            this.next('routes');
            break;
          }
        } while (performance.now() < until);
        return undefined;
      case 'routes':
      case 'routes-extra':
        // Passes since the last step may have left routes of the shadow to build again: build them first.
        this.shadow.settle(Number.POSITIVE_INFINITY);
        this.each(this.keys, until, (key) => {
          // The second round looks at the shadow's keys the live table lacks (the first compared the rest).
          if (this.phase === 'routes-extra' && this.live.path(key) !== undefined) return;
          const same = JSON.stringify(this.live.path(key)) === JSON.stringify(this.shadow.path(key));
          const sameMerged = JSON.stringify(this.live.mergedReports(key)) === JSON.stringify(this.shadow.mergedReports(key));
          if (!same || !sameMerged) this.note('routes', key.slice(key.indexOf('|') + 1));
        }) && (this.phase === 'routes' ? this.next('routes-extra') : this.next('reports'));
        return undefined;
      case 'reports':
      case 'reports-extra':
        this.each(this.keys, until, (owner) => {
          if (this.phase === 'reports-extra' && this.live.hasReports(owner)) return;
          const mine = this.live.reportsOf(owner);
          const fresh = this.shadow.reportsOf(owner);
          for (const r of differing(mine.refused, fresh.refused)) this.note('refused', `${r.namespace}/${r.service} ${r.address} ${r.code}`);
          for (const w of differing(mine.withheld, fresh.withheld)) this.note('withheld', `${w.namespace}/${w.service} ${w.address} ${w.kind}`);
        }) && (this.phase === 'reports' ? this.next('reports-extra') : this.next('done'));
        return undefined;
      case 'done':
        return undefined;
    }
  }

  /** The next phase; a comparing phase gets its keys (each round one table's, as they are now). */
  private next(phase: Phase): void {
    this.phase = phase;
    this.at = 0;
    if (phase === 'routes') this.keys = [...this.live.builtKeys()];
    else if (phase === 'routes-extra') this.keys = [...this.shadow.builtKeys()];
    else if (phase === 'reports') this.keys = [...this.live.reportOwners()];
    else if (phase === 'reports-extra') this.keys = [...this.shadow.reportOwners()];
    else this.keys = [];
  }

  /** Runs `f` over `items` from where the last call stopped, until the deadline; true when the list is through. */
  private each<T>(items: readonly T[], until: number, f: (item: T) => void): boolean {
    while (this.at < items.length) {
      const end = Math.min(items.length, this.at + this.stride);
      for (; this.at < end; this.at++) f(items[this.at] as T);
      if (performance.now() >= until) return this.at >= items.length;
    }
    return true;
  }

  private note(kind: keyof Mismatch, what: string): void {
    this.differs = true;
    const list = this.mismatch[kind];
    if (list.length < MAX_LISTED && !list.includes(what)) list.push(what);
  }
}

/** The entries of either list that the other does not hold (as JSON): the one list when both are the same. */
function differing<T>(a: readonly T[], b: readonly T[]): T[] {
  if (a.length === 0 && b.length === 0) return [];
  const as = a.map((x) => JSON.stringify(x));
  const bs = b.map((x) => JSON.stringify(x));
  if (as.length === bs.length && as.every((x, i) => x === bs[i])) return [];
  const inA = new Set(as);
  const inB = new Set(bs);
  return [...a.filter((_, i) => !inB.has(as[i] as string)), ...b.filter((_, i) => !inA.has(bs[i] as string))];
}
