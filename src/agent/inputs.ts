import type { Logger } from 'winston';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import type { ServiceChanges } from '../model/service-key.js';
import type { AgentMetrics } from '../http/metrics.js';
import type { ClusterView, CustomResource } from '../kube/cluster.js';
import type { ConfigInForce } from '../config/source.js';
import { toNodeInfo, type BgpConfig } from '../config/index.js';
import { nodeAddressWarnings } from '../config/node-checks.js';
import { leavingReason } from '../config/departure.js';
import { DesiredComputer, routerIdFor, speakerFor } from './desired-state.js';
import type { CheckStep } from '../routes/incremental.js';
import type { PasswordResolver } from './passwords.js';
import type { Inputs, InputsPort } from './reconciler.js';

/** What the inputs are read from: the cluster watch's caches and the configuration (file + svcbgp.io resources). */
export interface InputSources {
  view(): ClusterView;
  /**
   * The Services whose inputs changed since the last call (ClusterWatch.takeServiceChanges); absent: the desired
   * paths are computed by looking at every Service of the view.
   */
  serviceChanges?(): ServiceChanges;
  config(peers: readonly CustomResource[], configurations: readonly CustomResource[]): ConfigInForce;
}

export interface ClusterInputsDeps {
  nodeName: string;
  /** --router-id, else the node's first IPv4 address. */
  routerId?: string;
  sources: InputSources;
  passwords: PasswordResolver;
  log: Logger;
  metrics?: AgentMetrics;
  /** The drift check found a difference: the next pass computes from scratch (run one). */
  onCheckFailed?: () => void;
  /** Resolves when no pass is running or armed: the drift check's slices wait for it, so a pass never waits for them. */
  whenIdle?: () => Promise<void>;
}

/** One slice of the drift check: what a change that arrives meanwhile waits for, at most (plus its own pass). */
const CHECK_SLICE_MS = 4;

/**
 * The reconciler's inputs port over the cluster: at the start of every pass, the speaker configuration and the
 * desired paths of this node, or why they cannot be computed yet. Desired paths are computed incrementally
 * (DesiredComputer); a pass whose reasons include "drift" (the --resync-interval timer) also starts a recomputation
 * from scratch and a comparison, which run beside the passes in slices of a few milliseconds: a difference is logged
 * as an error, counted (svcbgp_desired_state_mismatches_total), and the next pass (run at once) uses the full result.
 */
export class ClusterInputs implements InputsPort {
  private readonly desired = new DesiredComputer();
  private lastNode: V1Node | undefined;
  private lastRouterIdProblem: string | undefined;
  private lastNodeWarnings = '';
  private lastLeavingWarning: string | undefined;
  private inForce: ConfigInForce | undefined;
  /** The drift check while it runs. */
  private check: Promise<void> | undefined;
  /**
   * The Service changes the watch handed over since the last computation, each resolved to its objects when it came
   * with its view (so a computation never sees objects newer than its view); undefined: not known since the last
   * computation (the first one, or no change source), so the next one looks at every Service.
   */
  private pending: Map<string, { service: V1Service | undefined; slices: readonly V1EndpointSlice[] }> | undefined;

  constructor(private readonly deps: ClusterInputsDeps) {}

  /** The configuration in force at the last pass (valid, last good, never valid). */
  configInForce(): ConfigInForce | undefined {
    return this.inForce;
  }

  configValid(): boolean {
    return this.inForce === undefined || this.inForce.state === 'valid';
  }

  async read(reasons: ReadonlySet<string>): Promise<Inputs> {
    const { sources, log, metrics, nodeName } = this.deps;
    const view = sources.view();
    this.collectChanges();
    const base = { synced: view.synced, connected: view.connected };
    // Nothing is configured in gobgpd before every cache has a definite answer (listed once, or an optional kind
    // confirmed absent). The speaker config depends on the BGPConfiguration/BGPPeer resources, and the first
    // StartBgp fixes AS, router-id and listen port until gobgpd restarts: provisioning from the file defaults
    // while the svcbgp.io lists are still in flight (the Node list is usually first) started BGP on port 179
    // and then the resource's listenPort could never be applied. For a running gobgpd the same partial view
    // would delete our resource-configured peers. `synced` stays true once reached (an API-server outage later
    // keeps the last known view), so this only delays the very first provisioning.
    if (!view.synced) return { ...base, waiting: `caches syncing (${view.notReady.join(', ')})` };
    // A Node deleted after it was seen is a node leaving (src/config/departure.ts); its last known object still says which
    // peers and router-id it had, so the drain can run. Never seen: nothing to do until it exists.
    const node: V1Node | undefined = view.node ?? this.lastNode;
    if (!node) return { ...base, waiting: `Node ${nodeName} does not exist in the cluster` };
    this.lastNode = node;
    const leaving = view.node ? this.leaving(node) : 'the Node object was deleted';
    const inForce = sources.config(view.bgpPeers, view.bgpConfigurations);
    this.inForce = inForce;
    metrics?.configValid.set(inForce.state === 'valid' ? 1 : 0);
    let cfg: BgpConfig;
    let holdIfRunning: string | undefined;
    if (inForce.state === 'never-valid') {
      // Never the built-in defaults (src/config/source.ts explains the decision).
      if (!inForce.fallback) {
        return { ...base, waiting: `the configuration is invalid and none has been valid since the agent started: ${inForce.errors.join('; ')}` };
      }
      cfg = inForce.fallback.config;
      holdIfRunning = `invalid configuration (${inForce.errors.join('; ')}); fallback without ${inForce.fallback.quarantined.join(', ')}`;
    } else {
      cfg = inForce.config;
    }
    const routerId = routerIdFor(node, this.deps.routerId);
    if ('problem' in routerId) {
      if (routerId.problem !== this.lastRouterIdProblem) log.error('cannot choose a BGP router-id', { problem: routerId.problem });
      this.lastRouterIdProblem = routerId.problem;
      return { ...base, waiting: routerId.problem };
    }
    const speaker = await speakerFor(cfg, node, routerId.routerId, this.deps.passwords);
    const nodeWarnings = nodeAddressWarnings(cfg, toNodeInfo(node));
    if (nodeWarnings.join('\n') !== this.lastNodeWarnings && nodeWarnings.length > 0) log.warn('configuration warning', { warnings: nodeWarnings });
    this.lastNodeWarnings = nodeWarnings.join('\n');
    const changed = this.pending && pendingChanges(this.pending);
    const { state, stats } = this.desired.compute(cfg, node, view, changed);
    this.pending = sources.serviceChanges ? new Map() : undefined;
    metrics?.servicesRecomputed.inc({ scope: stats.full ? 'full' : 'incremental' }, stats.recomputed);
    if (reasons.has('drift') && this.desired.startCheck(view)) this.runCheck();
    return {
      ...base,
      speaker,
      desired: state,
      ...(holdIfRunning !== undefined ? { holdIfRunning } : {}),
      ...(leaving !== undefined ? { leaving } : {}),
    };
  }

  /** The running drift check, until it ends (tests, tools); resolves at once when none runs. */
  checkDone(): Promise<void> {
    return this.check ?? Promise.resolve();
  }

  /**
   * Steps the drift check (src/routes/check.ts) a slice at a time, yielding to the event loop between slices and
   * running one only while no pass runs or is armed, so that watch events and passes go first: a change waits for one
   * slice at most, not for the whole comparison.
   */
  private runCheck(): void {
    if (this.check) return;
    const started = performance.now();
    let slices = 0;
    const loop = async (): Promise<void> => {
      for (;;) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        // Between passes only: a slice between two awaits of a pass (gRPC calls) would lengthen that pass.
        await this.deps.whenIdle?.();
        const step = this.desired.checkStep(CHECK_SLICE_MS);
        slices++;
        if (step?.state === 'more') continue;
        if (step) this.checkEnded(step, { slices, ms: Math.round(performance.now() - started) });
        return;
      }
    };
    this.check = loop().finally(() => {
      this.check = undefined;
    });
  }

  private checkEnded(step: Exclude<CheckStep, { state: 'more' }>, took: { slices: number; ms: number }): void {
    const { log, metrics, onCheckFailed } = this.deps;
    if (step.state === 'agree') {
      log.debug('drift check: the incremental desired state equals a full recomputation', took);
    } else if (step.state === 'abandoned') {
      log.info('drift check given up; the next drift pass checks again', { why: step.why, ...took });
    } else {
      metrics?.desiredMismatches.inc();
      log.error('BUG: the incremental desired state differed from a full recomputation; the full one is used (please report this log line)', {
        routes: step.mismatch.routes,
        refused: step.mismatch.refused,
        withheld: step.mismatch.withheld,
        ...took,
      });
      onCheckFailed?.();
    }
  }

  /** Takes the watch's Service changes with the view they belong to. */
  private collectChanges(): void {
    const handed = this.deps.sources.serviceChanges?.();
    if (!handed || !this.pending) return;
    for (const key of handed.keys) this.pending.set(key, { service: handed.service(key), slices: handed.slices(key) });
  }

  /** Why the node is leaving, or undefined; a leaving annotation it cannot read is logged once per value. */
  private leaving(node: V1Node): string | undefined {
    const { reason, warning } = leavingReason(node);
    if (warning !== undefined && warning !== this.lastLeavingWarning) this.deps.log.warn('node annotation not understood', { warning });
    this.lastLeavingWarning = warning;
    return reason;
  }
}

function pendingChanges(pending: ReadonlyMap<string, { service: V1Service | undefined; slices: readonly V1EndpointSlice[] }>): ServiceChanges {
  return { keys: new Set(pending.keys()), service: (k) => pending.get(k)?.service, slices: (k) => pending.get(k)?.slices ?? [] };
}
