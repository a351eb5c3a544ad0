import type { Route } from '../../model/route.js';
import type { DesiredPath } from '../../model/path.js';
import { routeKey, sameAttributes } from '../../routes/diff.js';
import type { ReconcilerDeps } from '../reconciler-types.js';
import type { KeyedDesired } from './desired-view.js';
import type { PathPlan } from './path-plan.js';

/**
 * What gobgpd holds for us (the `applied` view): read from gobgpd's RIB at start-up, after gobgpd came back and after
 * a failed pass, re-read beside the passes on every drift pass; kept up to date by what the passes send in between.
 * Adoption: owned paths already in gobgpd count as applied, so an agent restart with an unchanged cluster sends no
 * AddPath and no DeletePath. Only paths that gobgpd originated locally AND carry the ownership marker are ever listed
 * here, so only those are ever deleted (src/gobgp/speaker.ts).
 */
export class AppliedPaths {
  private applied: Map<string, Route> | undefined;
  /** `applied` equals these desired paths exactly (the last full-sync pass applied every add and delete). */
  private inSync: { applied: Map<string, Route>; paths: Map<string, DesiredPath> } | undefined;
  /**
   * The drift read of gobgpd's RIB, which runs beside the passes: the keys the passes sent since it began (their
   * value in `applied` is newer than anything the read can say). Undefined: none running.
   */
  private rereading: Set<string> | undefined;
  /** Its answer, merged into `applied` at the start of the next pass. */
  private reread: { actual: Map<string, Route>; touched: Set<string> } | undefined;
  /** Keys the merge found different from what was believed: the next plan compares them too. */
  private repair: Set<string> | undefined;

  constructor(private readonly deps: Pick<ReconcilerDeps, 'speaker' | 'log' | 'metrics'>) {}

  /** What gobgpd holds for us, as far as known. */
  get known(): ReadonlyMap<string, Route> | undefined {
    return this.applied;
  }

  /** Forget the applied view: the next pass re-reads gobgpd's RIB. */
  invalidate(): void {
    this.applied = undefined;
    this.rereading = undefined;
    this.reread = undefined;
  }

  /**
   * The drift pass: read gobgpd's owned paths beside the passes (at 50,000 paths the read takes seconds, and changes
   * must not wait for it), then at the next pass count how gobgpd differs from what was believed
   * (svcbgp_drift_repairs_total) and repair it. `onRead`: the answer is in; run a pass.
   */
  checkDrift(onRead?: () => void): void {
    if (!this.applied || this.rereading) return; // unknown: the next pass reads it anyway; running: it will answer
    const touched = new Set<string>();
    this.rereading = touched;
    this.deps.speaker.listOwnedPaths().then(
      ({ owned, local }) => {
        if (this.rereading !== touched) return; // gobgpd restarted or a pass failed meanwhile: that read counts
        this.rereading = undefined;
        const actual = new Map<string, Route>();
        for (const r of owned) actual.set(routeKey(r), r);
        this.reread = { actual, touched };
        this.deps.log.info('read owned paths from gobgpd', { owned: actual.size, local, reasons: ['drift'] });
        onRead?.();
      },
      (err: unknown) => {
        if (this.rereading !== touched) return;
        this.invalidate(); // the next pass reads gobgpd's RIB itself, and fails or succeeds as any pass
        this.deps.log.warn('drift read of gobgpd RIB failed; the next pass reads it', { error: String(err) });
        onRead?.();
      },
    );
  }

  /** This process just started BGP: gobgpd's RIB is empty. */
  startedEmpty(): void {
    this.invalidate();
    this.applied = new Map();
  }

  /** Read gobgpd's owned paths unless they are known; a drift read that answered is merged first. */
  async read(reasons: ReadonlySet<string>): Promise<ReadonlyMap<string, Route>> {
    if (this.applied) {
      if (this.reread) this.merge(this.applied, this.reread);
      this.reread = undefined;
      return this.applied;
    }
    const { owned, local } = await this.deps.speaker.listOwnedPaths();
    const applied = new Map<string, Route>();
    for (const r of owned) applied.set(routeKey(r), r);
    this.applied = applied;
    this.deps.log.info('read owned paths from gobgpd', { owned: applied.size, local, reasons: [...reasons] });
    return applied;
  }

  /**
   * The keys worth comparing: when gobgpd held exactly the desired paths after the last pass and only some keys
   * changed since (a delta), only those can differ, and those a drift read found different. Undefined: compare
   * everything (gobgpd restarted, a failed pass, a stale view, a drain).
   */
  onlyKeys(desired: KeyedDesired, allowDeletes: boolean): Iterable<string> | undefined {
    const only = allowDeletes && desired.before !== undefined && this.inSync?.applied === this.applied && this.inSync?.paths === desired.paths;
    if (!only) return undefined;
    const before = desired.before?.keys() ?? [];
    const repair = this.repair;
    return repair ? new Set([...before, ...repair]) : before;
  }

  /** Send the plan: adds and updates first, then withdrawals; the applied view follows each. */
  async apply(plan: PathPlan, desired: KeyedDesired, allowDeletes: boolean): Promise<void> {
    const { speaker, metrics } = this.deps;
    const applied = this.applied ?? new Map<string, Route>();
    this.inSync = undefined;
    this.repair = undefined; // the plan compared them
    const upserts = [...plan.toAdvertise, ...plan.toUpdate];
    if (upserts.length > 0) {
      this.touch(upserts);
      await speaker.addPaths(upserts);
      this.touch(upserts); // a drift read that began while they were on their way
      for (const r of upserts) applied.set(routeKey(r), r);
      metrics?.pathChanges.inc({ op: 'add' }, upserts.length);
    }
    if (plan.toWithdraw.length > 0) {
      this.touch(plan.toWithdraw);
      await speaker.deletePaths(plan.toWithdraw);
      this.touch(plan.toWithdraw);
      for (const r of plan.toWithdraw) applied.delete(routeKey(r));
      metrics?.pathChanges.inc({ op: 'delete' }, plan.toWithdraw.length);
    }
    this.applied = applied;
    if (allowDeletes) this.inSync = { applied, paths: desired.paths };
  }

  /** A drift read running, or answered and not merged yet, says nothing about the keys a pass sends. */
  private touch(routes: readonly Route[]): void {
    if (!this.rereading && !this.reread) return;
    for (const r of routes) {
      const key = routeKey(r);
      this.rereading?.add(key);
      this.reread?.touched.add(key);
    }
  }

  /**
   * A drift read's answer into the applied view: every key no pass sent since the read began takes what gobgpd
   * holds; a difference from what was believed is counted, logged, and compared by the next plan (which repairs it).
   * A route that is what was believed keeps its object (the plan skips identical objects at once).
   */
  private merge(applied: Map<string, Route>, { actual, touched }: { actual: Map<string, Route>; touched: Set<string> }): void {
    const repair = new Set<string>();
    const missing: string[] = [];
    const unexpected: string[] = [];
    let changed = 0;
    for (const [key, believed] of applied) {
      if (touched.has(key)) continue;
      const held = actual.get(key);
      if (held === undefined) {
        applied.delete(key);
        missing.push(believed.prefix);
      } else if (!sameAttributes(held, believed)) {
        applied.set(key, held);
        changed++;
      } else {
        continue;
      }
      repair.add(key);
    }
    for (const [key, held] of actual) {
      if (touched.has(key) || applied.has(key) || repair.has(key)) continue;
      applied.set(key, held);
      unexpected.push(held.prefix);
      repair.add(key);
    }
    if (repair.size === 0) return;
    this.repair = repair;
    const counts = { missing: missing.length, changed, unexpected: unexpected.length };
    for (const [kind, n] of Object.entries(counts)) if (n > 0) this.deps.metrics?.driftRepairs.inc({ kind }, n);
    this.deps.log.warn("gobgpd's RIB drifted from what svcbgp had applied (changed outside svcbgp?); repairing", {
      ...counts,
      missingPrefixes: missing.slice(0, 10),
      unexpectedPrefixes: unexpected.slice(0, 10),
    });
  }
}
