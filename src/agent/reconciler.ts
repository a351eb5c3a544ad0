import type { Logger } from 'winston';
import type { Route } from '../model/route.js';
import type { SpeakerConfig } from '../model/peer.js';
import { isOwned, markOwned, normalizeRoute, routeKey } from './ownership.js';
import { GRACEFUL_SHUTDOWN_COMMUNITY, GRACEFUL_SHUTDOWN_LOCAL_PREF } from '../config/departure.js';
import type { GlobalOutcome, PeerStatus, SpeakerPort, SpeakerProbe } from '../model/speaker.js';
import type { DesiredPath, DesiredState, RefusedAddress, RouteKind, WithheldAddress } from '../model/path.js';
import { reasonTexts } from '../model/path.js';
import { diffKeyed } from '../routes/diff.js';
import type { AgentMetrics } from '../http/metrics.js';
import { logBounded } from '../log/bounded.js';

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
  /**
   * Set when `speaker`/`desired` come from a fallback configuration because nothing valid has been in force since
   * the agent started (src/config/source.ts): they may bring up an empty gobgpd (or one this process brought
   * up), but a gobgpd that already runs BGP is left exactly as it is. The text says why.
   */
  holdIfRunning?: string;
  /** This node is going away (src/config/departure.ts says how that is decided): why. */
  leaving?: string;
}

/** Where the reconciler reads the cluster side at the start of every pass (src/agent/inputs.ts over the cluster). */
export interface InputsPort {
  /** `reasons`: why this pass runs (the scheduler's triggers; "drift" for the --resync-interval pass). */
  read(reasons: ReadonlySet<string>): Promise<Inputs>;
}

/** An inputs port that always answers with what a function returns (tests, fixed inputs). */
export function fixedInputs(fn: () => Inputs | Promise<Inputs>): InputsPort {
  return { read: async () => fn() };
}

export type DiffFn = (desired: Route[], actual: Route[]) => { add: Route[]; update: Route[]; delete: Route[] };

export interface ReconcilerDeps {
  speaker: SpeakerPort;
  inputs: InputsPort;
  diff: DiffFn;
  log: Logger;
  metrics?: AgentMetrics;
  /** Called with the refused addresses of every successful desired computation (Events are deduplicated there). */
  onRefused?: (refused: DesiredState['refused']) => void;
  /** Ask for a pass later (the end of a drain). */
  schedule?: (reason: string, delayMs: number) => void;
  /** How long a leaving node advertises its paths with GRACEFUL_SHUTDOWN before withdrawing them (default 10 s). */
  drainMs?: number;
  now?: () => number;
}

/** A leaving node's drain: since when, until when, and the paths it re-advertised with GRACEFUL_SHUTDOWN. */
export interface DrainState {
  why: string;
  since: number;
  until: number;
  paths: Map<string, DesiredPath>;
  /** The drain time is over and the paths were withdrawn. */
  withdrawn: boolean;
}

export const DEFAULT_DRAIN_MS = 10_000;

const OTHER: readonly RouteKind[] = ['other'];

/** Desired paths with the ownership marker, keyed by routeKey; `before`: the keys a delta changed, as they were. */
interface MarkedDesired {
  paths: Map<string, DesiredPath>;
  before?: ReadonlyMap<string, DesiredPath | undefined>;
}

/** The last pass, for `svcbgp status`. */
export interface PassRecord {
  startedAt: string;
  durationMs: number;
  result: 'ok' | 'skipped' | 'error';
  reasons: string[];
  error?: string;
  /** Why nothing was sent (waiting for the caches, a held configuration, gobgpd unreachable). */
  waiting?: string;
}

/** What the reconciler knows, read-only, for the agent's /status endpoint. */
export interface ReconcilerSnapshot {
  readiness: Readiness;
  lastPass?: PassRecord;
  lastError?: PassRecord;
  /** The desired paths of the last good view (with their reasons), or undefined before the first. */
  desired?: DesiredPath[];
  refused: RefusedAddress[];
  withheld: WithheldAddress[];
  /** Is what is advertised computed from a synced, connected view (false: kept from the last good one). */
  fresh: boolean;
  globalConflict?: string;
  hold?: string;
  /** The node is leaving: draining until `until` (ISO), or withdrawn. */
  leaving?: { why: string; since: string; until: string; withdrawn: boolean };
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
 * pass), and sends only the difference. (When the desired state says which keys changed since the pass before
 * and gobgpd held exactly what that pass wanted, only those keys are compared: markDesired, applyDiff. Anything
 * else — gobgpd restarted, a drift pass, a failed pass, a stale view, a drain — compares everything.) The promises
 * it keeps:
 *
 * - never a withdrawal from a cache that is not synced or not connected: then the last desired set computed
 *   from a good view is kept (and re-added if gobgpd lost it), deletes are suppressed;
 * - adoption: owned paths already in gobgpd count as applied, so an agent restart with an unchanged cluster
 *   sends no AddPath and no DeletePath;
 * - gobgpd lost its state (BGP not started): StartBgp, then every path, then the peers with
 *   `local_restarting`, so a graceful-restart helper keeps forwarding until gobgpd's End-of-RIB. We cannot tell a
 *   first start from a restart (a Pod restart restarts both containers), so this applies whenever WE start BGP —
 *   the same as `gobgpd -r` does for its config-file peers. gobgpd then holds back its UPDATEs until it has the
 *   End-of-RIB of every GR peer (or the deferral timer fires: svcbgp sets it to a few seconds, because a ToR that
 *   does not carry one of our families never sends its End-of-RIB; src/gobgp/peer-defaults.ts DEFAULT_DEFERRAL_TIME)
 *   and clears local_restarting itself; later passes never UpdatePeer just to clear it (src/gobgp's plan ignores
 *   it: no session reset). If there is no
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
  /** Each desired path with the ownership marker, made once per (path object, local AS). */
  private readonly marked = new WeakMap<DesiredPath, { localAs: number; path: DesiredPath }>();
  private lastDesired: MarkedDesired | undefined;
  /** The generation of the DesiredState lastDesired was marked from (a later state's delta is relative to it). */
  private lastInput: { generation: number | undefined; localAs: number } | undefined;
  /** `applied` equals these marked paths exactly (the last full-sync pass applied every add and delete). */
  private inSync: { applied: Map<string, Route>; paths: Map<string, DesiredPath> } | undefined;
  private restoring = false;
  private gobgpReachable = false;
  private gobgpIncompatible: string | undefined;
  private provisioned = false;
  private cachesSynced = false;
  private lastWaiting: string | undefined;
  private lastStaleLog = false;
  /** This process started BGP in gobgpd (since its last restart): what gobgpd holds is ours to change. */
  private startedBgp = false;
  private lastHold: string | undefined;
  private lastPass: PassRecord | undefined;
  private lastError: PassRecord | undefined;
  private lastRefused: RefusedAddress[] = [];
  /** The last good state's withheld addresses are read when asked for (status), not on every pass. */
  private lastWithheld: Pick<DesiredState, 'withheld'> = {};
  private fresh = false;
  private drain: DrainState | undefined;
  /** Set during a pass by whatever made it send nothing. */
  private passWaiting: string | undefined;
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

  snapshot(): ReconcilerSnapshot {
    const s: ReconcilerSnapshot = {
      readiness: this.readiness(),
      refused: this.lastRefused,
      withheld: this.lastWithheld.withheld ?? [],
      fresh: this.fresh,
    };
    if (this.lastPass) s.lastPass = this.lastPass;
    if (this.lastError) s.lastError = this.lastError;
    if (this.lastDesired) s.desired = [...this.lastDesired.paths.values()];
    if (this.globalConflict !== undefined) s.globalConflict = this.globalConflict;
    if (this.lastHold !== undefined) s.hold = this.lastHold;
    if (this.drain) {
      s.leaving = { why: this.drain.why, since: new Date(this.drain.since).toISOString(), until: new Date(this.drain.until).toISOString(), withdrawn: this.drain.withdrawn };
    }
    return s;
  }

  /** Forget the applied view: the next pass re-reads gobgpd's RIB (drift pass, gobgpd came back). */
  invalidate(): void {
    this.applied = undefined;
  }

  /**
   * Drift pass: re-read gobgpd's RIB on the next pass and count how it differs from what this agent believes it
   * applied (a path someone deleted with `gobgp global rib del`, or changed) — svcbgp_drift_repairs_total.
   */
  checkDrift(): void {
    if (this.applied) this.believed = this.applied;
    this.applied = undefined;
  }
  private believed: Map<string, Route> | undefined;

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
    const started = Date.now();
    const record = (result: PassRecord['result'], error?: string): PassRecord => ({
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      result,
      reasons: [...reasons],
      ...(error !== undefined ? { error } : {}),
      ...(this.passWaiting !== undefined ? { waiting: this.passWaiting } : {}),
    });
    this.passWaiting = undefined;
    try {
      const result = await this.passInner(reasons);
      metrics?.passes.inc({ result });
      this.lastPass = record(result);
      return 'done';
    } catch (err) {
      this.lastPass = this.lastError = record('error', errorText(err));
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
      this.passWaiting = `gobgpd unreachable: ${probe.error}`;
      log.warn('gobgpd unreachable; nothing sent, waiting for it to come back', { error: probe.error });
      return 'skipped';
    }
    if (probe.state === 'incompatible') return 'skipped'; // logged once by setReachable, with what to set

    const inputs = await this.deps.inputs.read(reasons);
    this.cachesSynced = inputs.synced;
    this.deps.metrics?.cachesSynced.set(inputs.synced ? 1 : 0);
    if (!inputs.speaker) {
      this.passWaiting = inputs.waiting;
      if (inputs.waiting !== this.lastWaiting) log.info('waiting before configuring gobgpd', { waiting: inputs.waiting });
      this.lastWaiting = inputs.waiting;
      return 'skipped';
    }

    if (inputs.holdIfRunning !== undefined && probe.state === 'running' && !this.startedBgp) {
      if (inputs.holdIfRunning !== this.lastHold) {
        log.error('configuration invalid and never valid since start: gobgpd already runs BGP, so its paths and peers are left exactly as they are', {
          why: inputs.holdIfRunning,
        });
      }
      this.lastHold = inputs.holdIfRunning;
      this.passWaiting = `held: ${inputs.holdIfRunning}`;
      return 'skipped';
    }
    this.lastHold = undefined;

    if (probe.state === 'unprovisioned' && (this.provisioned || this.applied !== undefined)) {
      log.warn('gobgpd lost its configuration (restarted?): restoring global config, then paths, then peers', {});
    }
    // StartBgp when BGP is not running; otherwise a cheap GetBgp that tells whether gobgpd runs our settings.
    const global = await speaker.provisionGlobal(inputs.speaker);
    if (global.result === 'started') {
      this.startedBgp = true;
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
    let desired: MarkedDesired | undefined;
    let allowDeletes = false;
    const previous = this.lastDesired;
    if (inputs.synced && inputs.connected && inputs.desired) {
      desired = this.markDesired(inputs.desired, localAs);
      this.lastDesired = desired;
      allowDeletes = true;
      this.lastStaleLog = false;
      this.deps.onRefused?.(inputs.desired.refused);
      this.lastRefused = inputs.desired.refused;
      this.lastWithheld = inputs.desired;
      this.fresh = true;
      this.deps.metrics?.setRefused(inputs.desired.refused);
    } else {
      desired = this.lastDesired;
      this.fresh = false;
      if (!this.lastStaleLog) {
        log.warn('cluster view not synced or API server unreachable: keeping advertised routes, no withdrawals', {
          synced: inputs.synced,
          connected: inputs.connected,
          knownDesired: desired?.paths.size ?? null,
        });
        this.lastStaleLog = true;
      }
    }

    if (this.applied === undefined) {
      const local = await speaker.listLocalPaths();
      this.applied = new Map();
      for (const r of local) if (isOwned(r)) this.applied.set(routeKey(r), normalizeRoute(r));
      log.info('read owned paths from gobgpd', { owned: this.applied.size, local: local.length, reasons: [...reasons] });
      if (this.believed) this.noteDrift(this.believed, this.applied);
      this.believed = undefined;
    }

    // A leaving node: GRACEFUL_SHUTDOWN first, withdrawal after the drain time. Decided on a good view only; a
    // drain that started goes on through an API-server outage (the last thing known is that the node leaves).
    const leaving = inputs.synced && inputs.connected ? inputs.leaving : this.drain?.why;
    // The path a key had before this pass (the delta path updates lastDesired's map in place).
    const prior = (key: string): DesiredPath | undefined => (desired?.before?.has(key) ? desired.before.get(key) : previous?.paths.get(key));
    if (leaving !== undefined) {
      desired = this.drainStep(leaving, prior);
      allowDeletes = true;
    } else if (this.drain) {
      log.info('node no longer leaving: paths advertised as usual again', { was: this.drain.why });
      this.drain = undefined;
      this.deps.metrics?.nodeLeaving.set(0);
    }

    if (desired) await this.applyDiff(desired, allowDeletes, prior);

    if (desired || !this.restoring) {
      const res = await speaker.provisionPeers(inputs.speaker, {
        localRestarting: this.restoring,
        keepAsIs: inputs.speaker.keepAsIs ?? [],
        // The AS a peer without a localASNumber of its own uses: gobgpd's, also during a global-settings conflict.
        runningAsn: localAs,
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

  /**
   * One pass of a drain (RFC 8326). First pass: every path gobgpd holds for us is re-advertised with the
   * GRACEFUL_SHUTDOWN community and LOCAL_PREF 0 (gobgpd sends LOCAL_PREF on iBGP sessions only, as RFC 8326 asks),
   * a pass is scheduled for the end of the drain time. Until then those paths stay as they are; afterwards every
   * path is withdrawn. The paths are the ones gobgpd held when the drain started: what the node advertised until
   * then is what the ToR must move away from (the route model already wants nothing from an excluded node).
   */
  private drainStep(why: string, prior: (key: string) => DesiredPath | undefined): MarkedDesired {
    const now = (this.deps.now ?? Date.now)();
    if (!this.drain) {
      const drainMs = this.deps.drainMs ?? DEFAULT_DRAIN_MS;
      const paths = new Map<string, DesiredPath>();
      for (const [key, r] of this.applied ?? new Map<string, Route>()) {
        const before = prior(key);
        paths.set(key, {
          route: gracefulShutdown(r),
          kinds: before?.kinds ?? ['other'],
          reasons: [{ rule: 'node-leaving', text: `node leaving (${why}): GRACEFUL_SHUTDOWN (RFC 8326) until the drain time is over` }, ...(before?.reasons ?? [])],
        });
      }
      this.drain = { why, since: now, until: now + drainMs, paths, withdrawn: paths.size === 0 };
      this.deps.metrics?.nodeLeaving.set(1);
      this.deps.log.warn('node leaving: every path re-advertised with GRACEFUL_SHUTDOWN (65535:0) and LOCAL_PREF 0; withdrawn after the drain time', {
        why,
        paths: paths.size,
        drainMs,
        withdrawAt: new Date(now + drainMs).toISOString(),
      });
      if (paths.size > 0) this.deps.schedule?.('drain-time', drainMs);
    }
    if (now < this.drain.until && !this.drain.withdrawn) {
      return { paths: this.drain.paths };
    }
    if (!this.drain.withdrawn) {
      this.deps.log.warn('node leaving: drain time over, withdrawing every path', { why: this.drain.why, paths: this.drain.paths.size });
      this.drain.withdrawn = true;
    }
    return { paths: new Map() };
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

  /**
   * The desired paths with the ownership marker, keyed. After one Service change the state carries a delta
   * relative to the state of the last pass: then only the changed keys are marked, in lastDesired's map itself,
   * and `before` keeps what they were (for the logs and a drain). Otherwise every path, in a new map.
   */
  private markDesired(state: DesiredState, localAs: number): MarkedDesired {
    const last = this.lastDesired;
    if (state.delta && last && this.lastInput?.generation === state.delta.since && this.lastInput.localAs === localAs) {
      const before = new Map<string, DesiredPath | undefined>();
      for (const [key, p] of state.delta.changed) {
        before.set(key, last.paths.get(key));
        if (p) last.paths.set(key, this.markedPath(p, localAs));
        else last.paths.delete(key);
      }
      this.lastInput = { generation: state.generation, localAs };
      return { paths: last.paths, before };
    }
    const paths = new Map<string, DesiredPath>();
    for (const p of state.paths) {
      const marked = this.markedPath(p, localAs);
      paths.set(routeKey(marked.route), marked);
    }
    this.lastInput = { generation: state.generation, localAs };
    return { paths };
  }

  /**
   * A desired path with the ownership marker. The desired side keeps a path's object while it does not change
   * (src/agent/desired-state.ts), so the marked copy is made once per change, and the diff sees the very object it
   * applied last time.
   */
  private markedPath(p: DesiredPath, localAs: number): DesiredPath {
    let marked = this.marked.get(p);
    if (marked?.localAs !== localAs) {
      marked = { localAs, path: { ...p, route: markOwned(p.route, localAs) } };
      this.marked.set(p, marked);
    }
    return marked.path;
  }

  private async applyDiff(desired: MarkedDesired, allowDeletes: boolean, prior: (key: string) => DesiredPath | undefined): Promise<void> {
    const { speaker, log, metrics } = this.deps;
    const applied = this.applied ?? new Map<string, Route>();
    // Both sides are keyed already; routes unchanged since the last pass are the same objects (markDesired). When
    // gobgpd held exactly the marked paths after the last pass and only some keys changed since, only those keys
    // can differ: the diff looks at them alone.
    const onlyChanged = allowDeletes && desired.before !== undefined && this.inSync?.applied === applied && this.inSync.paths === desired.paths;
    const d = diffKeyed(desired.paths, applied, (p) => p.route, onlyChanged ? desired.before?.keys() : undefined);
    const upserts = [...d.add, ...d.update];
    const deletes = allowDeletes ? d.delete : [];
    if (upserts.length === 0 && deletes.length === 0) {
      this.inSync = allowDeletes ? { applied, paths: desired.paths } : undefined;
      return;
    }
    this.inSync = undefined;
    if (upserts.length > 0) {
      // One line per path change, capped per pass (src/log/bounded.ts): a first pass over 10,000 Services
      // logs the first ones and "advertise: ... and N more", not 10,000 lines.
      const fields = (r: Route): Record<string, unknown> => ({
        prefix: r.prefix,
        family: r.family,
        nextHop: r.nextHop,
        communities: r.communities,
        largeCommunities: r.largeCommunities,
        localPref: r.localPref,
        linkBandwidth: r.linkBandwidth,
        reasons: reasonTexts(desired.paths.get(routeKey(r))?.reasons),
        previous: applied.get(routeKey(r)),
      });
      logBounded(log, 'info', 'advertise', d.add, (r) => ({ ...fields(r), previous: undefined }));
      logBounded(log, 'info', 'update attributes', d.update, fields);
      await speaker.addPaths(upserts);
      for (const r of upserts) applied.set(routeKey(r), r);
      metrics?.pathChanges.inc({ op: 'add' }, upserts.length);
    }
    if (deletes.length > 0) {
      logBounded(log, 'info', 'withdraw', deletes, (r) => {
        const was = prior(routeKey(r));
        return {
          prefix: r.prefix,
          family: r.family,
          reason: was
            ? 'no longer desired: no Service or configured CIDR wants it on this node any more'
            : 'owned path found in gobgpd that nothing wants (left over from an earlier configuration or agent)',
          previousReasons: reasonTexts(was?.reasons),
        };
      });
      await speaker.deletePaths(deletes);
      for (const r of deletes) applied.delete(routeKey(r));
      metrics?.pathChanges.inc({ op: 'delete' }, deletes.length);
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

  private updateRouteMetrics(): void {
    const m = this.deps.metrics;
    if (!m || !this.applied) return;
    const byKind = new Map<string, { v4: number; v6: number }>();
    for (const [key, r] of this.applied) {
      const kinds = this.lastDesired?.paths.get(key)?.kinds ?? OTHER;
      for (const k of kinds) {
        let c = byKind.get(k);
        if (!c) {
          c = { v4: 0, v6: 0 };
          byKind.set(k, c);
        }
        if (r.family === 'ipv4-unicast') c.v4++;
        else c.v6++;
      }
    }
    const counts = new Map<string, number>();
    for (const [k, c] of byKind) {
      if (c.v4 > 0) counts.set(`${k}|ipv4-unicast`, c.v4);
      if (c.v6 > 0) counts.set(`${k}|ipv6-unicast`, c.v6);
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
    if (!reachable) this.startedBgp = false; // whoever starts it next, it is not the BGP this process started
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

/** The path with RFC 8326's GRACEFUL_SHUTDOWN community and LOCAL_PREF 0 (idempotent). */
export function gracefulShutdown(route: Route): Route {
  const communities = route.communities.includes(GRACEFUL_SHUTDOWN_COMMUNITY) ? route.communities : [...route.communities, GRACEFUL_SHUTDOWN_COMMUNITY];
  return normalizeRoute({ ...route, communities, localPref: GRACEFUL_SHUTDOWN_LOCAL_PREF });
}
