import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RefusedAddress } from '../model/path.js';

/**
 * Every Prometheus metric the agent exports, on its own registry (no global state, so tests can build
 * several agents in one process). Names are documented in docs/troubleshooting.md, "Monitoring".
 */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly routes: Gauge<'kind' | 'family'>;
  readonly passes: Counter<'result'>;
  readonly passDuration: Histogram<string>;
  readonly gobgpErrors: Counter<'rpc'>;
  readonly gobgpUp: Gauge<string>;
  readonly gobgpInfo: Gauge<'api' | 'api_matches'>;
  readonly gobgpGlobalConflict: Gauge<string>;
  readonly configValid: Gauge<string>;
  readonly nodeLeaving: Gauge<string>;
  readonly driftRepairs: Counter<'kind'>;
  readonly desiredMismatches: Counter<string>;
  readonly servicesRecomputed: Counter<'scope'>;
  readonly cachesSynced: Gauge<string>;
  readonly peerState: Gauge<'peer' | 'state' | 'owner'>;
  readonly refused: Gauge<'reason'>;
  readonly pathChanges: Counter<'op'>;
  readonly configReloads: Counter<'source' | 'result'>;
  readonly events: Counter<'result'>;
  readonly kubeWatchErrors: Counter<'resource'>;

  constructor(defaultMetrics = true) {
    const registers = [this.registry];
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'svcbgp_' });
    this.routes = new Gauge({
      name: 'svcbgp_routes_advertised',
      help: 'Paths svcbgp has in gobgpd, by why they exist (kind) and address family. A path wanted for several kinds counts once per kind.',
      labelNames: ['kind', 'family'],
      registers,
      collect: () => {
        const counts = this.routeSource?.();
        if (counts) this.setRoutes(counts);
      },
    });
    this.passes = new Counter({
      name: 'svcbgp_reconcile_passes_total',
      help: 'Reconcile passes by result: ok, skipped (waiting for gobgpd or for the node), error (retried).',
      labelNames: ['result'],
      registers,
    });
    this.passDuration = new Histogram({
      name: 'svcbgp_reconcile_duration_seconds',
      help: 'Duration of reconcile passes.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.gobgpErrors = new Counter({
      name: 'svcbgp_gobgp_errors_total',
      help: 'Failed calls to gobgpd, by RPC.',
      labelNames: ['rpc'],
      registers,
    });
    this.gobgpUp = new Gauge({ name: 'svcbgp_gobgp_up', help: '1 when gobgpd answered the last probe.', registers });
    this.gobgpInfo = new Gauge({
      name: 'svcbgp_gobgp_info',
      help: 'Always 1, labelled with the gobgpd wire API in use (api="v3" for gobgpd 3.x, "v4" for 4.x, "unknown" before gobgpd answered) and whether gobgpd answers in it (api_matches="false": a forced --gobgp-api that gobgpd does not serve).',
      labelNames: ['api', 'api_matches'],
      registers,
    });
    this.gobgpGlobalConflict = new Gauge({
      name: 'svcbgp_gobgp_global_conflict',
      help: '1 while gobgpd runs BGP with another AS, router-id or listen port than configured (left as is: svcbgp never restarts a running speaker; restart gobgpd to apply). Paths and peers are reconciled regardless.',
      registers,
    });
    this.configValid = new Gauge({
      name: 'svcbgp_config_valid',
      help: '1 while the configuration (file merged with svcbgp.io resources) is valid and in force; 0 while it is invalid (the last good one stays in force, or, if none was valid since the agent started, nothing is changed in a running gobgpd).',
      registers,
    });
    this.driftRepairs = new Counter({
      name: 'svcbgp_drift_repairs_total',
      help: 'Paths a drift pass found different in gobgpd from what svcbgp had applied, and repaired: kind=missing (deleted outside svcbgp), changed (attributes), unexpected (an owned path svcbgp had not applied).',
      labelNames: ['kind'],
      registers,
    });
    this.desiredMismatches = new Counter({
      name: 'svcbgp_desired_state_mismatches_total',
      help: 'Drift passes whose full recomputation of the desired routes differed from the incremental state (a bug: logged as an error and repaired; should stay 0).',
      registers,
    });
    this.servicesRecomputed = new Counter({
      name: 'svcbgp_services_recomputed_total',
      help: 'Services whose routes were recomputed: scope=incremental (the Service or its EndpointSlices changed), full (a configuration or Node change, or the first pass).',
      labelNames: ['scope'],
      registers,
    });
    this.nodeLeaving = new Gauge({
      name: 'svcbgp_node_leaving',
      help: '1 while this node is leaving (excluded, being deleted, shutting down, or annotated svcbgp.io/leaving): its paths carry GRACEFUL_SHUTDOWN for the drain time, then are withdrawn.',
      registers,
    });
    this.cachesSynced = new Gauge({
      name: 'svcbgp_caches_synced',
      help: '1 when every Kubernetes cache has completed its first list.',
      registers,
    });
    this.peerState = new Gauge({
      name: 'svcbgp_bgp_peer_state',
      help: '1 for the current BGP session state of each gobgpd peer (owner: svcbgp or operator).',
      labelNames: ['peer', 'state', 'owner'],
      registers,
    });
    this.refused = new Gauge({
      name: 'svcbgp_refused_addresses',
      help: 'Service addresses currently refused (not advertised), by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.pathChanges = new Counter({
      name: 'svcbgp_path_changes_total',
      help: 'Paths sent to gobgpd: op=add (AddPath, also attribute updates) or op=delete (withdrawals).',
      labelNames: ['op'],
      registers,
    });
    this.configReloads = new Counter({
      name: 'svcbgp_config_loads_total',
      help: 'Configuration loads by source (file, cluster) and result (ok, invalid).',
      labelNames: ['source', 'result'],
      registers,
    });
    this.events = new Counter({
      name: 'svcbgp_kube_events_total',
      help: 'Kubernetes Events svcbgp tried to create (refused addresses), by result.',
      labelNames: ['result'],
      registers,
    });
    this.kubeWatchErrors = new Counter({
      name: 'svcbgp_kube_watch_errors_total',
      help: 'List/watch failures against the API server, by resource.',
      labelNames: ['resource'],
      registers,
    });
  }

  private static readonly STATES = ['idle', 'connect', 'active', 'opensent', 'openconfirm', 'established', 'unknown'];

  setPeerState(peer: string, state: string, ours: boolean): void {
    const owner = ours ? 'svcbgp' : 'operator';
    const previousOwner = this.knownPeers.get(peer);
    if (previousOwner && previousOwner !== owner) this.retainPeers(new Set([...this.knownPeers.keys()].filter((k) => k !== peer)));
    this.knownPeers.set(peer, owner);
    for (const s of AgentMetrics.STATES) this.peerState.set({ peer, state: s, owner }, s === state ? 1 : 0);
    if (!AgentMetrics.STATES.includes(state)) this.peerState.set({ peer, state, owner }, 1);
  }

  /** Forget the series of peers gobgpd no longer has (deleted peers must not linger in the exposition). */
  retainPeers(present: ReadonlySet<string>): void {
    for (const [key, owner] of this.knownPeers) {
      if (present.has(key)) continue;
      for (const s of AgentMetrics.STATES) this.peerState.remove({ peer: key, state: s, owner });
      this.knownPeers.delete(key);
    }
  }

  private readonly knownPeers = new Map<string, string>();

  private routeSource: (() => Map<string, number> | undefined) | undefined;

  /** Where svcbgp_routes_advertised is counted from when /metrics is read (undefined: not known, the last counts stay). */
  routesFrom(source: () => Map<string, number> | undefined): void {
    this.routeSource = source;
  }

  setRoutes(counts: Map<string, number>): void {
    this.routes.reset();
    for (const [label, n] of counts) {
      const [kind, family] = label.split('|') as [string, string];
      this.routes.set({ kind, family }, n);
    }
  }

  setRefused(refused: readonly RefusedAddress[]): void {
    this.refused.reset();
    const by = new Map<string, number>();
    for (const r of refused) by.set(r.code, (by.get(r.code) ?? 0) + 1);
    for (const [reason, n] of by) this.refused.set({ reason }, n);
  }

  /** One svcbgp_gobgp_info series: the API in use now (the previous one's series goes). */
  setGobgpApi(api: string | undefined, mismatch: boolean): void {
    this.gobgpInfo.reset();
    this.gobgpInfo.set({ api: api ?? 'unknown', api_matches: mismatch ? 'false' : 'true' }, 1);
  }
}
