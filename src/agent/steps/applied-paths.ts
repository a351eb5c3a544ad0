import type { Route } from '../../model/route.js';
import type { DesiredPath } from '../../model/path.js';
import { routeKey } from '../../routes/diff.js';
import type { ReconcilerDeps } from '../reconciler-types.js';
import type { KeyedDesired } from './desired-view.js';
import type { PathPlan } from './path-plan.js';

/**
 * What gobgpd holds for us (the `applied` view): re-read from gobgpd's RIB at start-up, after gobgpd came back, after
 * a failed pass and on every drift pass; kept up to date by what the passes send in between. Adoption: owned paths
 * already in gobgpd count as applied, so an agent restart with an unchanged cluster sends no AddPath and no DeletePath.
 * Only paths that gobgpd originated locally AND carry the ownership marker are ever listed here, so only those are
 * ever deleted (src/gobgp/speaker.ts).
 */
export class AppliedPaths {
  private applied: Map<string, Route> | undefined;
  /** What the agent believed gobgpd held before a drift pass re-reads it. */
  private believed: Map<string, Route> | undefined;
  /** `applied` equals these desired paths exactly (the last full-sync pass applied every add and delete). */
  private inSync: { applied: Map<string, Route>; paths: Map<string, DesiredPath> } | undefined;

  constructor(private readonly deps: Pick<ReconcilerDeps, 'speaker' | 'log' | 'metrics' | 'diff'>) {}

  /** What gobgpd holds for us, as far as known. */
  get known(): ReadonlyMap<string, Route> | undefined {
    return this.applied;
  }

  /** Forget the applied view: the next pass re-reads gobgpd's RIB. */
  invalidate(): void {
    this.applied = undefined;
  }

  /** Re-read on the next pass, and count how gobgpd differs from what was believed (svcbgp_drift_repairs_total). */
  checkDrift(): void {
    if (this.applied) this.believed = this.applied;
    this.applied = undefined;
  }

  /** This process just started BGP: gobgpd's RIB is empty. */
  startedEmpty(): void {
    this.applied = new Map();
  }

  /** Read gobgpd's owned paths unless they are known. */
  async read(reasons: ReadonlySet<string>): Promise<ReadonlyMap<string, Route>> {
    if (this.applied) return this.applied;
    const { owned, local } = await this.deps.speaker.listOwnedPaths();
    const applied = new Map<string, Route>();
    for (const r of owned) applied.set(routeKey(r), r);
    this.applied = applied;
    this.deps.log.info('read owned paths from gobgpd', { owned: applied.size, local, reasons: [...reasons] });
    if (this.believed) this.noteDrift(this.believed, applied);
    this.believed = undefined;
    return applied;
  }

  /**
   * The keys worth comparing: when gobgpd held exactly the desired paths after the last pass and only some keys
   * changed since (a delta), only those can differ. Undefined: compare everything (gobgpd restarted, a drift pass,
   * a failed pass, a stale view, a drain).
   */
  onlyKeys(desired: KeyedDesired, allowDeletes: boolean): Iterable<string> | undefined {
    const only = allowDeletes && desired.before !== undefined && this.inSync?.applied === this.applied && this.inSync?.paths === desired.paths;
    return only ? desired.before?.keys() : undefined;
  }

  /** Send the plan: adds and updates first, then withdrawals; the applied view follows each. */
  async apply(plan: PathPlan, desired: KeyedDesired, allowDeletes: boolean): Promise<void> {
    const { speaker, metrics } = this.deps;
    const applied = this.applied ?? new Map<string, Route>();
    this.inSync = undefined;
    const upserts = [...plan.toAdvertise, ...plan.toUpdate];
    if (upserts.length > 0) {
      await speaker.addPaths(upserts);
      for (const r of upserts) applied.set(routeKey(r), r);
      metrics?.pathChanges.inc({ op: 'add' }, upserts.length);
    }
    if (plan.toWithdraw.length > 0) {
      await speaker.deletePaths(plan.toWithdraw);
      for (const r of plan.toWithdraw) applied.delete(routeKey(r));
      metrics?.pathChanges.inc({ op: 'delete' }, plan.toWithdraw.length);
    }
    this.applied = applied;
    if (allowDeletes) this.inSync = { applied, paths: desired.paths };
  }

  /** Differences between what we believed gobgpd held and what it holds; the diff that follows repairs them. */
  private noteDrift(believed: Map<string, Route>, actual: Map<string, Route>): void {
    const d = this.deps.diff([...believed.values()], [...actual.values()]);
    const counts = { missing: d.add.length, changed: d.update.length, unexpected: d.delete.length };
    if (counts.missing + counts.changed + counts.unexpected === 0) return;
    for (const [kind, n] of Object.entries(counts)) if (n > 0) this.deps.metrics?.driftRepairs.inc({ kind }, n);
    this.deps.log.warn("gobgpd's RIB drifted from what svcbgp had applied (changed outside svcbgp?); repairing", {
      ...counts,
      missingPrefixes: d.add.slice(0, 10).map((r) => r.prefix),
      unexpectedPrefixes: d.delete.slice(0, 10).map((r) => r.prefix),
    });
  }
}
