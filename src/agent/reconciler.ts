import type { Logger } from 'winston';
import type { Route } from '../model/route.js';
import type { SpeakerConfig } from '../model/peer.js';
import { isOwned, markOwned, normalizeRoute, routeKey } from './ownership.js';
import type { DesiredPath, DesiredState, GlobalOutcome, PeerStatus, SpeakerPort, SpeakerProbe } from './ports.js';
import type { AgentMetrics } from '../http/metrics.js';

/** What the cluster side hands the reconciler at the start of every pass. */
export interface Inputs {
  /** Every cache has completed its first full list. */
  synced: boolean;
  /** No cache is currently failing (the API server is reachable); when false the view may be stale. */
  connected: boolean;
  /** The speaker configuration for this node; undefined while it cannot be computed yet (say why in `waiting`). */
  speaker?: SpeakerConfig & { keepAsIs?: readonly string[] };
  /** Desired paths; only present when synced (never computed from a partial cache). */
  desired?: DesiredState;
  waiting?: string;
}

export type DiffFn = (desired: Route[], actual: Route[]) => { add: Route[]; update: Route[]; delete: Route[] };

export interface ReconcilerDeps {
  speaker: SpeakerPort;
  inputs: () => Promise<Inputs>;
  diff: DiffFn;
  log: Logger;
  metrics?: AgentMetrics;
  /** Called with the refused addresses of every successful desired computation (Events are deduplicated there). */
  onRefused?: (refused: DesiredState['refused']) => void;
}

export interface Readiness {
  cachesSynced: boolean;
  /** gobgpd answered the last probe (in any API). */
  gobgpReachable: boolean;
  /** ... in the API svcbgp speaks. */
  gobgpApiMatches: boolean;
  /** The wire API in use ("v3", "v4"), once known. */
  gobgpApi: string | undefined;
  provisioned: boolean;
  /** gobgpd runs the configured AS / router-id / listen port (false during a global-settings conflict). */
  globalMatches: boolean;
}

/**
 * One reconcile pass, level-triggered: it always starts from the whole desired state and from what gobgpd
 * holds (the `applied` view, re-read from gobgpd's RIB at start-up, after gobgpd came back and on every drift
 * pass), and sends only the difference. The promises it keeps:
 *
 * - never a withdrawal from a cache that is not synced or not connected: then the last desired set computed
 *   from a good view is kept (and re-added if gobgpd lost it), deletes are suppressed;
 * - adoption: owned paths already in gobgpd count as applied, so an agent restart with an unchanged cluster
 *   sends no AddPath and no DeletePath;
 * - gobgpd lost its state (BGP not started): StartBgp, then every path, then the peers with
 *   `local_restarting`, so a graceful-restart helper keeps forwarding until gobgpd's End-of-RIB. We cannot tell a
 *   first start from a restart (a Pod restart restarts both containers), so this applies whenever WE start BGP —
 *   the same as `gobgpd -r` does for its config-file peers. gobgpd then holds back its UPDATEs until it has the
 *   End-of-RIB of every GR peer (or the deferral timer fires) and clears local_restarting itself; later passes
 *   never UpdatePeer just to clear it (src/gobgp's plan ignores it: no session reset). If there is no
 *   known desired set yet (agent and gobgpd both restarted, caches not synced), peers wait for the caches:
 *   a session with an empty RIB would make the ToR flush the stale routes it still forwards on.
 * - only paths that gobgpd originated locally AND carry the ownership marker are ever deleted.
 * - a running gobgpd whose global settings (AS, router-id, listen port) differ from ours is left as it runs —
 *   svcbgp never restarts a running speaker's global config — but that does not stop the reconciliation:
 *   paths and peers follow the cluster as always. The conflict is reported once when it starts or changes
 *   (error log), by svcbgp_gobgp_global_conflict and by /readyz (see agent.ts for why it fails readiness).
 */
export class Reconciler {
  private applied: Map<string, Route> | undefined;
  private lastDesired: { routes: Route[]; paths: Map<string, DesiredPath> } | undefined;
  private restoring = false;
  private gobgpReachable = false;
  private gobgpIncompatible: string | undefined;
  private provisioned = false;
  private cachesSynced = false;
  private lastWaiting: string | undefined;
  private lastStaleLog = false;
  /** The differences of the current global-settings conflict (JSON), undefined when gobgpd runs our settings. */
  private globalConflict: string | undefined;
  readonly peerStates = new Map<string, PeerStatus>();

  constructor(private readonly deps: ReconcilerDeps) {}

  readiness(): Readiness {
    return {
      cachesSynced: this.cachesSynced,
      gobgpReachable: this.gobgpReachable,
      gobgpApiMatches: this.gobgpReachable && this.gobgpIncompatible === undefined,
      gobgpApi: this.deps.speaker.apiVersion?.(),
      provisioned: this.provisioned,
      globalMatches: this.globalConflict === undefined,
    };
  }

  /** Forget the applied view: the next pass re-reads gobgpd's RIB (drift pass, gobgpd came back). */
  invalidate(): void {
    this.applied = undefined;
  }

  /** Result of a probe done outside a pass (the periodic probe). Returns true when a pass is needed. */
  noteProbe(p: SpeakerProbe): boolean {
    const wasReachable = this.gobgpReachable;
    this.setReachable(p);
    if (p.state === 'unreachable' || p.state === 'incompatible') return false;
    if (p.state === 'unprovisioned') return true;
    return !wasReachable;
  }

  /**
   * A peer's state, from ListPeer (source 'list') or from gobgpd's WatchEvent stream ('watch'). gobgpd 3.10's
   * peer events carry only AS, address, state and transport (pkg/server/server.go builds their PeerConf without a
   * description), so they cannot tell our peers (marked by description) from an operator's: for a peer already
   * known, ownership stays what ListPeer said.
   */
  notePeer(p: PeerStatus, source: 'list' | 'watch' = 'list'): void {
    const known = this.peerStates.get(p.address);
    const status = source === 'watch' && known ? { ...p, ours: known.ours } : p;
    this.peerStates.set(status.address, status);
    this.deps.metrics?.setPeerState(status.address, status.state, status.ours);
  }

  async pass(reasons: ReadonlySet<string>): Promise<'done' | 'retry'> {
    const { speaker, log, metrics } = this.deps;
    const endTimer = metrics?.passDuration.startTimer();
    try {
      const result = await this.passInner(reasons);
      metrics?.passes.inc({ result });
      return 'done';
    } catch (err) {
      // Any failure mid-pass: we no longer know exactly what gobgpd holds; re-read it next time.
      this.applied = undefined;
      metrics?.passes.inc({ result: 'error' });
      log.error('reconcile pass failed; will retry', { error: errorText(err), reasons: [...reasons] });
      const probe = await speaker.probe().catch((e: unknown) => ({ state: 'unreachable' as const, error: errorText(e) }));
      this.setReachable(probe);
      return 'retry';
    } finally {
      endTimer?.();
    }
  }

  private async passInner(reasons: ReadonlySet<string>): Promise<'ok' | 'skipped'> {
    const { speaker, log } = this.deps;
    const probe = await speaker.probe();
    this.setReachable(probe);
    if (probe.state === 'unreachable') {
      log.warn('gobgpd unreachable; nothing sent, waiting for it to come back', { error: probe.error });
      return 'skipped';
    }
    if (probe.state === 'incompatible') return 'skipped'; // logged once by setReachable, with what to set

    const inputs = await this.deps.inputs();
    this.cachesSynced = inputs.synced;
    this.deps.metrics?.cachesSynced.set(inputs.synced ? 1 : 0);
    if (!inputs.speaker) {
      if (inputs.waiting !== this.lastWaiting) log.info('waiting before configuring gobgpd', { waiting: inputs.waiting });
      this.lastWaiting = inputs.waiting;
      return 'skipped';
    }

    if (probe.state === 'unprovisioned' && (this.provisioned || this.applied !== undefined)) {
      log.warn('gobgpd lost its configuration (restarted?): restoring global config, then paths, then peers', {});
    }
    // StartBgp when BGP is not running; otherwise a cheap GetBgp that tells whether gobgpd runs our settings.
    const global = await speaker.provisionGlobal(inputs.speaker);
    if (global.result === 'started') {
      this.provisioned = false;
      log.info('gobgpd global configuration set', {
        asn: inputs.speaker.asn,
        routerId: inputs.speaker.routerId,
        listenPort: inputs.speaker.listenPort,
      });
      this.applied = new Map(); // BGP was not running: gobgpd's RIB is empty
      this.restoring = true;
    }
    this.noteGlobal(global);
    // The ownership marker carries the AS gobgpd actually runs: a configured AS that cannot be applied without
    // a gobgpd restart must not re-mark (re-send) every path. (The marker's AS is never compared anyway.)
    const localAs = global.result === 'conflict' ? global.running.asn : inputs.speaker.asn;

    // The desired set: fresh when the view is good, else the last good one with withdrawals suppressed.
    let desired: { routes: Route[]; paths: Map<string, DesiredPath> } | undefined;
    let allowDeletes = false;
    const previous = this.lastDesired;
    if (inputs.synced && inputs.connected && inputs.desired) {
      desired = this.markDesired(inputs.desired, localAs);
      this.lastDesired = desired;
      allowDeletes = true;
      this.lastStaleLog = false;
      this.deps.onRefused?.(inputs.desired.refused);
      this.deps.metrics?.setRefused(inputs.desired.refused);
    } else {
      desired = this.lastDesired;
      if (!this.lastStaleLog) {
        log.warn('cluster view not synced or API server unreachable: keeping advertised routes, no withdrawals', {
          synced: inputs.synced,
          connected: inputs.connected,
          knownDesired: desired?.routes.length ?? null,
        });
        this.lastStaleLog = true;
      }
    }

    if (this.applied === undefined) {
      const local = await speaker.listLocalPaths();
      this.applied = new Map();
      for (const r of local) if (isOwned(r)) this.applied.set(routeKey(r), normalizeRoute(r));
      log.info('read owned paths from gobgpd', { owned: this.applied.size, local: local.length, reasons: [...reasons] });
    }

    if (desired) await this.applyDiff(desired, allowDeletes, previous);

    if (desired || !this.restoring) {
      const res = await speaker.provisionPeers(inputs.speaker, {
        localRestarting: this.restoring,
        keepAsIs: inputs.speaker.keepAsIs ?? [],
      });
      if (res.added.length || res.updated.length || res.deleted.length) {
        log.info('peers provisioned', { ...res, localRestarting: this.restoring });
      }
      this.restoring = false;
      this.provisioned = true;
      const peers = await speaker.listPeers();
      for (const p of peers) this.notePeer(p);
      for (const a of [...this.peerStates.keys()]) if (!peers.some((p) => p.address === a)) this.peerStates.delete(a);
      this.deps.metrics?.retainPeers(new Set(peers.map((p) => p.address)));
    } else {
      log.info('gobgpd restored without routes yet: peers wait until the cluster caches are synced', {});
    }
    this.updateRouteMetrics();
    return 'ok';
  }

  /** Record the global-settings outcome; log only when a conflict starts, changes or ends. */
  private noteGlobal(g: GlobalOutcome): void {
    const key = g.result === 'conflict' ? JSON.stringify(g.differences) : undefined;
    if (key !== this.globalConflict) {
      if (g.result === 'conflict') {
        this.deps.log.error('gobgpd runs other global BGP settings than configured; left as they are, paths and peers are still reconciled', {
          error: g.message,
          running: g.running,
          differences: g.differences,
        });
      } else {
        this.deps.log.info('gobgpd global BGP settings match the configuration again', { outcome: g.result });
      }
    }
    this.globalConflict = key;
    this.deps.metrics?.gobgpGlobalConflict.set(key === undefined ? 0 : 1);
  }

  private markDesired(state: DesiredState, localAs: number): { routes: Route[]; paths: Map<string, DesiredPath> } {
    const paths = new Map<string, DesiredPath>();
    const routes: Route[] = [];
    for (const p of state.paths) {
      const route = markOwned(p.route, localAs);
      paths.set(routeKey(route), { ...p, route });
      routes.push(route);
    }
    return { routes, paths };
  }

  private async applyDiff(
    desired: { routes: Route[]; paths: Map<string, DesiredPath> },
    allowDeletes: boolean,
    previous: { paths: Map<string, DesiredPath> } | undefined,
  ): Promise<void> {
    const { speaker, log, metrics } = this.deps;
    const applied = this.applied ?? new Map<string, Route>();
    const d = this.deps.diff(desired.routes, [...applied.values()]);
    const upserts = [...d.add, ...d.update];
    const deletes = allowDeletes ? d.delete : [];
    if (upserts.length === 0 && deletes.length === 0) return;

    if (upserts.length > 0) {
      const added = new Set(d.add.map(routeKey));
      for (const r of upserts) {
        const why = desired.paths.get(routeKey(r));
        log.info(added.has(routeKey(r)) ? 'advertise' : 'update attributes', {
          prefix: r.prefix,
          family: r.family,
          nextHop: r.nextHop,
          communities: r.communities,
          largeCommunities: r.largeCommunities,
          localPref: r.localPref,
          reasons: why?.reasons ?? [],
          previous: added.has(routeKey(r)) ? undefined : applied.get(routeKey(r)),
        });
      }
      await speaker.addPaths(upserts);
      for (const r of upserts) applied.set(routeKey(r), r);
      metrics?.pathChanges.inc({ op: 'add' }, upserts.length);
    }
    if (deletes.length > 0) {
      for (const r of deletes) {
        const was = previous?.paths.get(routeKey(r));
        log.info('withdraw', {
          prefix: r.prefix,
          family: r.family,
          reason: was
            ? 'no longer desired: no Service or configured CIDR wants it on this node any more'
            : 'owned path found in gobgpd that nothing wants (left over from an earlier configuration or agent)',
          previousReasons: was?.reasons ?? [],
        });
      }
      await speaker.deletePaths(deletes);
      for (const r of deletes) applied.delete(routeKey(r));
      metrics?.pathChanges.inc({ op: 'delete' }, deletes.length);
    }
    this.applied = applied;
  }

  private updateRouteMetrics(): void {
    const m = this.deps.metrics;
    if (!m || !this.applied) return;
    const counts = new Map<string, number>();
    for (const [key, r] of this.applied) {
      const kinds = this.lastDesired?.paths.get(key)?.kinds ?? ['other'];
      for (const k of new Set(kinds)) {
        const label = `${k}|${r.family}`;
        counts.set(label, (counts.get(label) ?? 0) + 1);
      }
    }
    m.setRoutes(counts);
  }

  private setReachable(p: SpeakerProbe): void {
    const reachable = p.state !== 'unreachable';
    if (reachable !== this.gobgpReachable) {
      this.deps.log[reachable ? 'info' : 'warn'](reachable ? 'gobgpd reachable' : 'gobgpd unreachable', {
        error: p.state === 'unreachable' ? p.error : undefined,
      });
    }
    this.gobgpReachable = reachable;
    this.deps.metrics?.gobgpUp.set(reachable ? 1 : 0);
    const incompatible = p.state === 'incompatible' ? p.error : undefined;
    if (incompatible !== undefined && incompatible !== this.gobgpIncompatible) {
      this.deps.log.error('gobgpd answers in another API than svcbgp speaks; nothing sent', { event: 'gobgp-api-mismatch', error: incompatible });
    } else if (incompatible === undefined && this.gobgpIncompatible !== undefined && reachable) {
      this.deps.log.info('gobgpd API matches again', { event: 'gobgp-api-mismatch-resolved' });
    }
    this.gobgpIncompatible = incompatible;
    this.deps.metrics?.setGobgpApi(reachable ? this.deps.speaker.apiVersion?.() : undefined, incompatible !== undefined);
    if (!reachable || p.state === 'unprovisioned' || incompatible !== undefined) {
      this.provisioned = false;
      this.applied = undefined;
    }
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
