import type { Route } from '../model/route.js';
import type { PeerStatus, SpeakerProbe } from '../model/speaker.js';
import { errorText } from '../text/error.js';
import type { Inputs, PassRecord, Readiness, ReconcilerDeps, ReconcilerSnapshot } from './reconciler-types.js';
import { GobgpdLink } from './steps/gobgpd-link.js';
import { InputsGate, type Skip } from './steps/inputs-gate.js';
import { GlobalSettings } from './steps/global-settings.js';
import { DesiredView, type DesiredTake, type KeyedDesired } from './steps/desired-view.js';
import { AppliedPaths } from './steps/applied-paths.js';
import { Drain } from './steps/drain.js';
import { logPlan, planPaths } from './steps/path-plan.js';
import { Peers } from './steps/peers.js';
import { routeCounts } from './steps/route-metrics.js';

export * from './reconciler-types.js';
export { gracefulShutdown } from './steps/drain.js';

/**
 * One reconcile pass, level-triggered: it always starts from the whole desired state and from what gobgpd holds,
 * and sends only the difference. A pass is a list of named steps, each a small unit under src/agent/steps/ that
 * owns its state and says which promise it keeps. Their order is the graceful-restart restore order (docs/design.md § Graceful restart):
 *
 *   probe → inputs → global → desired → applied → drain → paths → peers
 *
 * (svcbgp_routes_advertised is counted from the applied view when /metrics is read: steps/route-metrics.ts.)
 * Global settings before anything (gobgpd refuses paths and peers until BGP runs); every path in the RIB before
 * the peers are (re)added with local_restarting, so a restarted node's first UPDATEs after its End-of-RIB are
 * complete and the ToR keeps forwarding on the stale routes until then; peers last, and not at all while a
 * restored gobgpd has no known desired set (an empty RIB would make the ToR flush the stale routes).
 */
export class Reconciler {
  private readonly link: GobgpdLink;
  private readonly gate: InputsGate;
  private readonly global: GlobalSettings;
  private readonly desired: DesiredView;
  private readonly rib: AppliedPaths;
  private readonly drain: Drain;
  private readonly peers: Peers;
  private lastPass: PassRecord | undefined;
  private lastError: PassRecord | undefined;

  constructor(private readonly deps: ReconcilerDeps) {
    this.link = new GobgpdLink(deps);
    this.gate = new InputsGate(deps);
    this.global = new GlobalSettings(deps);
    this.desired = new DesiredView(deps);
    this.rib = new AppliedPaths(deps);
    this.drain = new Drain(deps);
    this.peers = new Peers(deps);
    // Counted when /metrics is read, not on every pass: counting walks every path (milliseconds at 50,000).
    deps.metrics?.routesFrom(() => {
      const applied = this.rib.known;
      return applied ? routeCounts(applied, (key) => this.desired.path(key)?.kinds) : undefined;
    });
  }

  async pass(reasons: ReadonlySet<string>): Promise<'done' | 'retry'> {
    const endTimer = this.deps.metrics?.passDuration.startTimer();
    const started = Date.now();
    try {
      const skip = await this.steps(reasons);
      const result = skip ? 'skipped' : 'ok';
      this.deps.metrics?.passes.inc({ result });
      this.lastPass = passRecord(started, reasons, result, undefined, skip?.waiting);
      return 'done';
    } catch (err) {
      await this.failed(started, reasons, err);
      return 'retry';
    } finally {
      endTimer?.();
    }
  }

  /** The steps, in the order stated above; a step that finds nothing may be sent ends the pass (a Skip). */
  private async steps(reasons: ReadonlySet<string>): Promise<Skip | undefined> {
    const probe = await this.probe();
    if (probe.state === 'unreachable') return this.unreachable(probe.error);
    if (probe.state === 'incompatible') return { waiting: undefined }; // logged once by the link, with what to set
    const inputs = await this.gate.read(reasons);
    if (!inputs.speaker) return this.gate.waiting(inputs);
    const held = this.gate.held(inputs, probe, this.global.startedBgp);
    if (held) return held;
    if ((await this.global.ensure(inputs.speaker, probe)).result === 'started') {
      this.rib.startedEmpty(); // BGP was not running: gobgpd's RIB is empty
      this.peers.expectRestore();
    }
    const wanted = this.desired.take(inputs);
    const applied = await this.rib.read(reasons);
    const take = this.leaving(inputs, wanted, applied);
    if (take.desired) await this.paths(take.desired, take);
    await this.peers.converge(inputs.speaker, take.desired !== undefined);
    return undefined;
  }

  private async probe(): Promise<SpeakerProbe> {
    const probe = await this.deps.speaker.probe();
    this.noteProbeState(probe);
    return probe;
  }

  private unreachable(error: string): Skip {
    this.deps.log.warn('gobgpd unreachable; nothing sent, waiting for it to come back', { error });
    return { waiting: `gobgpd unreachable: ${error}` };
  }

  /**
   * A leaving node: GRACEFUL_SHUTDOWN first, withdrawal after the drain time. Decided on a good view only; a drain
   * that started goes on through an API-server outage (the last thing known is that the node leaves).
   */
  private leaving(inputs: Inputs, take: DesiredTake, applied: ReadonlyMap<string, Route>): DesiredTake {
    const why = inputs.synced && inputs.connected ? inputs.leaving : this.drain.why;
    if (why === undefined) {
      this.drain.end();
      return take;
    }
    return { ...take, desired: this.drain.step(why, applied, take.prior), allowDeletes: true };
  }

  /** The plan is a value: computed, logged, then applied. Withdrawals only from a good view (or a drain). */
  private async paths(desired: KeyedDesired, { allowDeletes, prior }: DesiredTake): Promise<void> {
    const applied = this.rib.known ?? new Map();
    const plan = planPaths(desired.paths, applied, { allowDeletes, only: this.rib.onlyKeys(desired, allowDeletes) });
    logPlan(this.deps.log, plan, { desired: desired.paths, applied, prior, wire: (r) => this.deps.speaker.wireRoute?.(r) ?? r });
    await this.rib.apply(plan, desired, allowDeletes);
  }

  private async failed(started: number, reasons: ReadonlySet<string>, err: unknown): Promise<void> {
    this.lastPass = this.lastError = passRecord(started, reasons, 'error', errorText(err));
    // Any failure mid-pass: we no longer know exactly what gobgpd holds; re-read it next time.
    this.rib.invalidate();
    this.deps.metrics?.passes.inc({ result: 'error' });
    this.deps.log.error('reconcile pass failed; will retry', { error: errorText(err), reasons: [...reasons] });
    const probe = await this.deps.speaker.probe().catch((e: unknown) => ({ state: 'unreachable' as const, error: errorText(e) }));
    this.noteProbeState(probe);
  }

  /** A probe's consequences: what gobgpd holds is forgotten when it is unknown or gone. */
  private noteProbeState(p: SpeakerProbe): void {
    if (p.state === 'unreachable') this.global.forgetStarted();
    if (this.link.note(p)) {
      this.peers.unprovisioned();
      this.rib.invalidate();
    }
  }

  /** Result of a probe done outside a pass (the periodic probe). Returns true when a pass is needed. */
  noteProbe(p: SpeakerProbe): boolean {
    const wasReachable = this.link.isReachable;
    this.noteProbeState(p);
    if (p.state === 'unreachable' || p.state === 'incompatible') return false;
    if (p.state === 'unprovisioned') return true;
    return !wasReachable;
  }

  /** A peer's state, from ListPeer ('list') or gobgpd's WatchEvent stream ('watch'): see Peers.note. */
  notePeer(p: PeerStatus, source: 'list' | 'watch' = 'list'): void {
    this.peers.note(p, source);
  }

  get peerStates(): ReadonlyMap<string, PeerStatus> {
    return this.peers.states;
  }

  /** Forget the applied view: the next pass re-reads gobgpd's RIB (gobgpd came back). */
  invalidate(): void {
    this.rib.invalidate();
  }

  /**
   * Drift pass: re-read gobgpd's RIB beside the passes; the pass after the answer counts how it differs from what
   * this agent believes it applied (a path someone deleted with `gobgp global rib del`, or changed) —
   * svcbgp_drift_repairs_total — and repairs it. The answer runs a pass of its own ("drift-read").
   */
  checkDrift(): void {
    this.rib.checkDrift(() => this.deps.schedule?.('drift-read', 0));
  }

  readiness(): Readiness {
    return {
      cachesSynced: this.gate.synced,
      ...this.link.readiness(),
      provisioned: this.peers.isProvisioned,
      globalMatches: this.global.conflictText === undefined,
    };
  }

  /** What the reconciler knows, read-only, for /status; desired paths as gobgpd holds them (with the marker). */
  snapshot(): ReconcilerSnapshot {
    const { desired, ...view } = this.desired.status();
    const wire = this.deps.speaker.wireRoute?.bind(this.deps.speaker);
    const s: ReconcilerSnapshot = { readiness: this.readiness(), ...view };
    if (this.lastPass) s.lastPass = this.lastPass;
    if (this.lastError) s.lastError = this.lastError;
    if (desired) s.desired = wire ? desired.map((p) => ({ ...p, route: wire(p.route) })) : desired;
    if (this.global.conflictText !== undefined) s.globalConflict = this.global.conflictText;
    if (this.gate.hold !== undefined) s.hold = this.gate.hold;
    const leaving = this.drain.status();
    if (leaving) s.leaving = leaving;
    return s;
  }
}

function passRecord(started: number, reasons: ReadonlySet<string>, result: PassRecord['result'], error?: string, waiting?: string): PassRecord {
  return {
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    result,
    reasons: [...reasons],
    ...(error !== undefined ? { error } : {}),
    ...(waiting !== undefined ? { waiting } : {}),
  };
}
