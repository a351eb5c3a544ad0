import type { DesiredPath, DesiredState, RefusedAddress } from '../../model/path.js';
import { routeKey } from '../../routes/diff.js';
import type { Inputs, ReconcilerDeps } from '../reconciler-types.js';

/** Desired paths keyed by routeKey; `before`: the keys a delta changed, as they were. */
export interface KeyedDesired {
  paths: Map<string, DesiredPath>;
  before?: ReadonlyMap<string, DesiredPath | undefined>;
}

/** This pass's desired set, and whether it may withdraw. */
export interface DesiredTake {
  desired: KeyedDesired | undefined;
  /** From a synced, connected view (or a drain): withdrawals allowed. */
  allowDeletes: boolean;
  /** The path a key had before this pass (the delta path updates the kept map in place). */
  prior: (key: string) => DesiredPath | undefined;
}

/**
 * Step "desired": the desired set, fresh when the view is good, else the last good one. Never a withdrawal from a
 * cache that is not synced or not connected: then the last desired set computed from a good view is kept (and
 * re-added if gobgpd lost it), deletes are suppressed. After one Service change the state carries a delta relative
 * to the state of the last pass: then only the changed keys are replaced, in the kept map itself.
 */
export class DesiredView {
  private last: KeyedDesired | undefined;
  /** The generation of the DesiredState `last` was keyed from (a later state's delta is relative to it). */
  private lastGeneration: number | undefined;
  private staleLogged = false;
  private fresh = false;
  private refused: readonly RefusedAddress[] = [];
  /** The withheld addresses are read when asked for (status), not on every pass: the route table's list then. */
  private withheldFrom: { withheld?: DesiredState['withheld'] } = {};

  constructor(private readonly deps: Pick<ReconcilerDeps, 'log' | 'metrics' | 'onRefused'>) {}

  take(inputs: Inputs): DesiredTake {
    const previous = this.last;
    let desired: KeyedDesired | undefined;
    if (inputs.synced && inputs.connected && inputs.desired) {
      desired = this.key(inputs.desired);
      this.last = desired;
      this.staleLogged = false;
      this.deps.onRefused?.(inputs.desired.refused);
      this.refused = inputs.desired.refused;
      this.withheldFrom = inputs.desired;
      this.fresh = true;
      this.deps.metrics?.setRefused(inputs.desired.refused);
    } else {
      desired = this.last;
      this.fresh = false;
      if (!this.staleLogged) {
        this.deps.log.warn('cluster view not synced or API server unreachable: keeping advertised routes, no withdrawals', {
          synced: inputs.synced,
          connected: inputs.connected,
          knownDesired: desired?.paths.size ?? null,
        });
        this.staleLogged = true;
      }
    }
    const prior = (key: string): DesiredPath | undefined => (desired?.before?.has(key) ? desired.before.get(key) : previous?.paths.get(key));
    return { desired, allowDeletes: this.fresh, prior };
  }

  /** The kinds a key is advertised for (metrics), from the last good view. */
  path(key: string): DesiredPath | undefined {
    return this.last?.paths.get(key);
  }

  status(): { desired?: DesiredPath[]; refused: readonly RefusedAddress[]; withheld: NonNullable<DesiredState['withheld']>; fresh: boolean } {
    return {
      ...(this.last ? { desired: [...this.last.paths.values()] } : {}),
      refused: this.refused,
      withheld: this.withheldFrom.withheld ?? [],
      fresh: this.fresh,
    };
  }

  /** Keyed paths: the delta applied to the kept map when it is relative to the state keyed last, else a new map. */
  private key(state: DesiredState): KeyedDesired {
    const last = this.last;
    const since = state.delta?.since;
    const generation = this.lastGeneration;
    this.lastGeneration = state.generation;
    if (state.delta && last && since !== undefined && generation === since) {
      const before = new Map<string, DesiredPath | undefined>();
      for (const [key, p] of state.delta.changed) {
        before.set(key, last.paths.get(key));
        if (p) last.paths.set(key, p);
        else last.paths.delete(key);
      }
      return { paths: last.paths, before };
    }
    const paths = new Map<string, DesiredPath>();
    for (const p of state.paths) paths.set(routeKey(p.route), p);
    return { paths };
  }
}
