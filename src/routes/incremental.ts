import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { BgpConfig } from '../config/types.js';
import { toNodeInfo, type NodeInput } from '../config/node.js';
import { sliceServiceKey } from '../model/service-key.js';
import { CONFIG_OWNER, configContribution, desiredRoutes, ownerKey, routeScope, serviceContribution, serviceRef, type RouteScope } from './desired.js';
import { RouteTable, type Contribution } from './table.js';
import { RouteCheck, type CheckStep, type Mismatch } from './check.js';
import type { DesiredPath, DesiredRoutesResult, ServiceRef } from './types.js';
import type { ServiceChanges } from '../model/service-key.js';

export interface ComputeStats {
  /** Everything was recomputed (first call, configuration or Node change, duplicate Service keys, keys unknown again). */
  full: boolean;
  /** Services whose contribution was recomputed (all of them when full). */
  recomputed: number;
  /** Services removed since the last call. */
  removed: number;
  services: number;
}

export type { CheckStep, Mismatch } from './check.js';

/** A Service object of the current view, with its key and the compute() call that last saw it. */
interface Seen {
  ref: ServiceRef;
  owner: string;
  gen: number;
}

const NO_SLICES: readonly V1EndpointSlice[] = [];

/**
 * The desired routes of this node, kept up to date by recomputing only the Services whose inputs changed. Still
 * level-triggered: every call gets the whole view and returns the whole result; "unchanged" is object identity of a
 * Service and its slices, and a change of the configuration or of this Node recomputes everything. The drift pass's
 * verify() compares with a full recomputation (docs/design.md § Incremental desired state).
 */
export class IncrementalRoutes {
  private table: RouteTable | undefined;
  private scopeKey = '';
  private scope: RouteScope | undefined;
  /**
   * The Service objects whose contribution is in the table, by object: one lookup tells an unchanged Service (the
   * informer hands a new object on every change, so a known object is an unchanged one).
   */
  private seen = new Map<V1Service, Seen>();
  /** The same objects by key ("namespace/name"): a new object under a known key replaces the old one. */
  private seenByOwner = new Map<string, V1Service>();
  private generation = 0;
  private readonly sliceKeys = new WeakMap<V1EndpointSlice, string | undefined>();
  /** Every EndpointSlice of the last view, with the compute() call that last saw it. */
  private readonly sliceGen = new Map<V1EndpointSlice, { gen: number }>();
  /** The slices of the last view by Service key: kept up to date from the slices that came and went. */
  private readonly slicesByOwner = new Map<string, V1EndpointSlice[]>();
  /** The table was last brought up to date from handed keys: the per-object bookkeeping is stale. */
  private keyed = false;
  /** The drift pass's check, while it runs (./check.ts). */
  private check: RouteCheck | undefined;

  /**
   * `changes`: the route keys (routeKey form, "family|prefix") whose route object differs from the previous
   * call's result; undefined when everything was recomputed (compare it all).
   * `changed`: the Services whose inputs changed since the last call, from the watch (every change since: a key left
   * out is a Service taken as unchanged); absent: unknown, every Service and slice of the view is looked at.
   */
  compute(
    config: BgpConfig,
    node: NodeInput,
    services: readonly V1Service[],
    slices: readonly V1EndpointSlice[],
    changed?: ServiceChanges,
  ): { result: DesiredRoutesResult; stats: ComputeStats; changes?: ReadonlySet<string> } {
    // The scope is a function of the configuration and this Node's info: derived again only when they change.
    const key = JSON.stringify([config, toNodeInfo(node)]);
    let full = false;
    let { table, scope } = this;
    if (!table || !scope || key !== this.scopeKey || (changed === undefined && this.keyed)) {
      ({ table, scope } = this.reset(routeScope(config, node), key));
      full = true;
    }
    if (changed !== undefined && !full) {
      const byKeys = this.applyChanges(table, scope, changed, services.length);
      if (byKeys) return byKeys;
      return this.compute(config, node, services, slices);
    }
    return this.computeFromView(table, scope, full, config, node, services, slices);
  }

  /**
   * Recomputes the Services of the handed keys only, without looking at the view: undefined when that cannot be
   * done (nothing computed yet, the configuration or this Node changed, a key the route model does not give its
   * Service), and then the caller computes from the view. Most passes end here: their cost does not grow with the
   * cluster (no list of every Service is built).
   */
  computeKeyed(
    config: BgpConfig,
    node: NodeInput,
    changed: ServiceChanges,
  ): { result: DesiredRoutesResult; stats: ComputeStats; changes: ReadonlySet<string> } | undefined {
    const { table, scope } = this;
    if (!table || !scope || JSON.stringify([config, toNodeInfo(node)]) !== this.scopeKey) return undefined;
    return this.applyChanges(table, scope, changed, this.seenCount());
  }

  private computeFromView(
    table: RouteTable,
    scope: RouteScope,
    full: boolean,
    config: BgpConfig,
    node: NodeInput,
    services: readonly V1Service[],
    slices: readonly V1EndpointSlice[],
  ): { result: DesiredRoutesResult; stats: ComputeStats; changes?: ReadonlySet<string> } {
    const gen = ++this.generation;
    const slicesChanged = this.updateSliceIndex(slices, gen);
    let recomputed = 0;
    for (const svc of services) {
      const known = this.seen.get(svc);
      if (known) {
        // The same object twice in one view: never from an informer (it keys by namespace/name); a hand-made view can.
        if (known.gen === gen) return this.fullFallback(config, node, services, slices);
        known.gen = gen;
        if (!slicesChanged.has(known.owner)) continue;
        this.put(table, known.owner, serviceContribution(scope, svc, this.slicesByOwner.get(known.owner) ?? NO_SLICES), known.ref);
        recomputed++;
        continue;
      }
      const ref = serviceRef(svc);
      const owner = ownerKey(ref);
      const replaced = this.seenByOwner.get(owner);
      if (replaced !== undefined) {
        // Two Services with one key in one view: as above, the full computation knows how to merge them.
        if (this.seen.get(replaced)?.gen === gen) return this.fullFallback(config, node, services, slices);
        this.seen.delete(replaced);
      }
      this.seen.set(svc, { ref, owner, gen });
      this.seenByOwner.set(owner, svc);
      this.put(table, owner, serviceContribution(scope, svc, this.slicesByOwner.get(owner) ?? NO_SLICES), ref);
      recomputed++;
    }
    let removed = 0;
    for (const [svc, was] of this.seen) {
      if (was.gen !== gen) {
        this.put(table, was.owner, undefined);
        this.seen.delete(svc);
        this.seenByOwner.delete(was.owner);
        removed++;
      }
    }
    return {
      result: table.result(),
      stats: { full, recomputed, removed, services: this.seen.size },
      ...(full ? {} : { changes: table.lastChanges() }),
    };
  }

  /**
   * Recomputes the Services of the handed keys only. Undefined (after starting over) when a key is not the key the
   * route model gives its Service: then the caller computes from the whole view.
   */
  private applyChanges(
    table: RouteTable,
    scope: RouteScope,
    changed: ServiceChanges,
    services: number,
  ): { result: DesiredRoutesResult; stats: ComputeStats; changes: ReadonlySet<string> } | undefined {
    this.keyed = true;
    let recomputed = 0;
    let removed = 0;
    for (const owner of changed.keys) {
      const svc = changed.service(owner);
      if (svc === undefined) {
        if (table.has(owner)) removed++;
        this.put(table, owner, undefined);
        continue;
      }
      const ref = serviceRef(svc);
      if (ownerKey(ref) !== owner) {
        this.table = undefined;
        this.check = undefined;
        return undefined;
      }
      this.put(table, owner, serviceContribution(scope, svc, changed.slices(owner)), ref);
      recomputed++;
    }
    return { result: table.result(), stats: { full: false, recomputed, removed, services }, changes: table.lastChanges() };
  }

  /**
   * Brings the per-Service slice lists up to date with this view: a slice object not seen before is new (the
   * informer hands a new object on every change), one not in the view any more is gone. Returns the Service keys
   * whose slices changed. No allocation for the slices that stayed: the usual pass changes one or none.
   * (A Service's contribution does not depend on the order of its slices, so the lists need not keep the view's.)
   */
  private updateSliceIndex(slices: readonly V1EndpointSlice[], gen: number): Set<string> {
    const changed = new Set<string>();
    for (const sl of slices) {
      const known = this.sliceGen.get(sl);
      if (known) {
        known.gen = gen;
        continue;
      }
      this.sliceGen.set(sl, { gen });
      const owner = this.sliceKeyOf(sl);
      if (owner !== undefined) {
        this.slicesByOwner.set(owner, [...(this.slicesByOwner.get(owner) ?? NO_SLICES), sl]);
        changed.add(owner);
      }
    }
    for (const [sl, seen] of this.sliceGen) {
      if (seen.gen === gen) continue;
      this.sliceGen.delete(sl);
      const owner = this.sliceKeyOf(sl);
      if (owner === undefined) continue;
      const rest = (this.slicesByOwner.get(owner) ?? NO_SLICES).filter((x) => x !== sl);
      if (rest.length > 0) this.slicesByOwner.set(owner, rest);
      else this.slicesByOwner.delete(owner);
      changed.add(owner);
    }
    return changed;
  }

  /**
   * Starts the drift pass's check (./check.ts) against this view (a snapshot: the lists as they are now); advance it
   * with checkStep() between passes. A check already running goes on (it started from an older view, and follows
   * every change since). Nothing to check before the first computation.
   */
  startCheck(services: readonly V1Service[], slices: readonly V1EndpointSlice[]): boolean {
    if (this.check) return true;
    if (!this.table || !this.scope) return false;
    this.check = new RouteCheck(this.table, this.scope, services, slices);
    return true;
  }

  /** Whether a check is running. */
  get checking(): boolean {
    return this.check !== undefined;
  }

  /**
   * Advances the running check by about `budgetMs`. A difference makes the next compute() start over from the view
   * (the full computation, which is what the check compared with).
   */
  checkStep(budgetMs: number, stride?: number): CheckStep | undefined {
    const check = this.check;
    if (!check) return undefined;
    const step = check.step(budgetMs, stride);
    if (step.state === 'more') return step;
    this.check = undefined;
    if (step.state === 'differ') this.table = undefined;
    return step;
  }

  /**
   * Recompute everything from scratch and compare with the incremental state, at once (tests, tools; the agent runs
   * the same check in slices). Call right after compute() with the same view. Undefined when they agree; else what
   * differs, and the next compute() starts over.
   */
  verify(services: readonly V1Service[], slices: readonly V1EndpointSlice[]): Mismatch | undefined {
    this.check = undefined;
    if (!this.startCheck(services, slices)) return undefined;
    let step = this.checkStep(Number.POSITIVE_INFINITY);
    while (step?.state === 'more') step = this.checkStep(Number.POSITIVE_INFINITY);
    return step?.state === 'differ' ? step.mismatch : undefined;
  }

  /** The current path of a route key (after compute()). */
  path(key: string): DesiredPath | undefined {
    return this.table?.path(key);
  }

  /** Sets an owner's contribution in the live table, and in the running check's shadow. */
  private put(table: RouteTable, owner: string, c: Contribution | undefined, ref?: ServiceRef): void {
    table.set(owner, c, ref);
    this.check?.mirror(owner, c, ref);
  }

  /** The Services in the table (every owner but the configuration's aggregates). */
  private seenCount(): number {
    return Math.max(0, (this.table?.owners ?? 1) - 1);
  }

  private sliceKeyOf(sl: V1EndpointSlice): string | undefined {
    if (typeof sl !== 'object' || sl === null) return undefined;
    if (this.sliceKeys.has(sl)) return this.sliceKeys.get(sl);
    const k = sliceServiceKey(sl);
    this.sliceKeys.set(sl, k);
    return k;
  }

  /** Starts over with an empty table for the scope; returns the new table and scope. */
  private reset(scope: RouteScope, key: string): { table: RouteTable; scope: RouteScope } {
    const table = new RouteTable(scope.context);
    this.table = table;
    table.set(CONFIG_OWNER, configContribution(scope));
    this.scope = scope;
    this.scopeKey = key;
    this.seen = new Map();
    this.seenByOwner = new Map();
    this.sliceGen.clear();
    this.slicesByOwner.clear();
    this.keyed = false;
    this.check = undefined; // a fresh table is what the check compares with
    return { table, scope };
  }

  private fullFallback(
    config: BgpConfig,
    node: NodeInput,
    services: readonly V1Service[],
    slices: readonly V1EndpointSlice[],
  ): { result: DesiredRoutesResult; stats: ComputeStats } {
    this.table = undefined; // the next compute() starts over: never reuse a table that may hold merged duplicates
    this.check = undefined;
    return { result: desiredRoutes(config, node, services, slices), stats: { full: true, recomputed: services.length, removed: 0, services: services.length } };
  }
}
