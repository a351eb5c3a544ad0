import type { Logger } from 'winston';
import type { V1Node } from '@kubernetes/client-node';
import { AgentMetrics } from '../http/metrics.js';
import { startHealthServer, type HealthServer } from '../http/server.js';
import { ClusterWatch } from '../kube/cluster.js';
import { ConfigSource, type ConfigInForce } from '../kube/config-source.js';
import { agentStatus } from './status.js';
import { leavingReason } from './departure.js';
import { SVCBGP_VERSION } from '../version.js';
import { RefusalEvents, kubeEventSink } from '../kube/events.js';
import { ConfigRejectionEvents } from '../kube/config-events.js';
import { agentNamespace, loadKubeConfig } from '../kube/kubeconfig.js';
import { kubeSecretReader, type SecretReader } from '../kube/secrets.js';
import { computeDesired, routerIdFor, speakerFor } from './desired.js';
import { Reconciler, errorText, type Inputs } from './reconciler.js';
import { PassScheduler } from './scheduler.js';
import { gobgpSpeaker } from './speaker-adapter.js';
import { withStaleSocketRepair } from './stale-socket.js';
import { PasswordResolver } from './passwords.js';
import { GobgpdMonitor } from './monitor.js';
import type { SpeakerPort } from './ports.js';
import { diff } from '../routes/index.js';
import { toNodeInfo, type BgpConfig } from '../config/index.js';
import { nodeAddressWarnings } from '../config/node-checks.js';
import type { ApiChoice } from '../gobgp/types.js';

export interface AgentOptions {
  nodeName: string;
  gobgpAddress: string;
  /** gobgpd wire API: auto (detect on connect and after every outage, the default), v3 or v4. */
  gobgpApi?: ApiChoice;
  configFile?: string;
  kubeconfig?: string;
  routerId?: string;
  httpAddress: string;
  resyncIntervalMs: number;
  namespace?: string;
  probeIntervalMs: number;
  gobgpTimeoutMs: number;
  debounceMs: number;
  configPollMs: number;
  customResources: boolean;
  events: boolean;
  /** A leaving node advertises GRACEFUL_SHUTDOWN this long before withdrawing (departure.ts). */
  drainMs?: number;
  /** Accept BGPPeers on loopback (tests and labs only). */
  allowLoopbackPeers?: boolean;
}

export interface RunningAgent {
  readonly http: HealthServer;
  readonly metrics: AgentMetrics;
  readonly reconciler: Reconciler;
  /** Resolves when no pass is running or pending. */
  idle(): Promise<void>;
  /** Stops watching and serving. Withdraws nothing. */
  stop(): Promise<void>;
}

/** Composition root: wires the Kubernetes watch, the configuration, gobgpd, the reconciler and HTTP. */
export async function startAgent(opts: AgentOptions, log: Logger, overrides: { speaker?: SpeakerPort } = {}): Promise<RunningAgent> {
  const metrics = new AgentMetrics();
  log.info('svcbgp agent starting', {
    node: opts.nodeName,
    gobgpAddress: opts.gobgpAddress,
    gobgpApi: opts.gobgpApi ?? 'auto',
    config: opts.configFile ?? '(seed defaults)',
    resyncIntervalMs: opts.resyncIntervalMs,
  });

  let scheduler: PassScheduler | undefined;
  const trigger = (reason: string, delayMs?: number): void => scheduler?.trigger(reason, delayMs);

  const { kc, source } = loadKubeConfig(opts.kubeconfig);
  const eventSink = opts.events ? kubeEventSink(kc) : undefined;
  const rejectionEvents = eventSink
    ? new ConfigRejectionEvents(eventSink, opts.nodeName, log, (ok) => metrics.events.inc({ result: ok ? 'created' : 'failed' }))
    : undefined;
  const config = new ConfigSource({
    file: opts.configFile,
    pollMs: opts.configPollMs,
    log,
    onChange: () => trigger('config-file'),
    onLoad: (source, ok) => metrics.configReloads.inc({ source, result: ok ? 'ok' : 'invalid' }),
    onRejected: (rejected) => void rejectionEvents?.report(rejected),
    parse: { allowLoopbackPeers: opts.allowLoopbackPeers === true },
  });
  await config.start(); // throws ConfigError on an invalid file: fatal at start-up
  metrics.configValid.set(1);

  const namespace = agentNamespace(opts.namespace);
  log.info('kubernetes client configured', { source, server: kc.getCurrentCluster()?.server, namespace });
  const secrets: SecretReader = kubeSecretReader(kc, namespace);
  const passwords = new PasswordResolver(secrets, log);

  const cluster = new ClusterWatch({
    kubeConfig: kc,
    nodeName: opts.nodeName,
    log,
    onChange: (what) => trigger(what),
    onWatchError: (resource) => metrics.kubeWatchErrors.inc({ resource }),
    watchCustomResources: opts.customResources,
  });

  const speaker = overrides.speaker ?? withStaleSocketRepair(
    gobgpSpeaker(opts.gobgpAddress, { deadlineMs: opts.gobgpTimeoutMs, log, metrics, api: opts.gobgpApi ?? 'auto' }),
    opts.gobgpAddress,
    log,
  );
  // Always built: with --no-events it still logs each refusal (bounded), it just creates no Event.
  const events = new RefusalEvents(eventSink, opts.nodeName, log, (ok) => metrics.events.inc({ result: ok ? 'created' : 'failed' }));

  let lastRouterIdProblem: string | undefined;
  let lastNode: V1Node | undefined;
  let configValid = true;
  let configInForce: ConfigInForce | undefined;
  const startedAt = new Date();
  let lastNodeWarnings = '';
  const inputs = async (): Promise<Inputs> => {
    const view = cluster.view();
    const base = { synced: view.synced, connected: view.connected };
    // Nothing is configured in gobgpd before every cache has a definite answer (listed once, or an optional kind
    // confirmed absent). The speaker config depends on the BGPConfiguration/BGPPeer resources, and the first
    // StartBgp fixes AS, router-id and listen port until gobgpd restarts: provisioning from the file defaults
    // while the svcbgp.io lists are still in flight (the Node list is usually first) started BGP on port 179
    // and then the resource's listenPort could never be applied. For a running gobgpd the same partial view
    // would delete our resource-configured peers. `synced` stays true once reached (an API-server outage later
    // keeps the last known view), so this only delays the very first provisioning.
    if (!view.synced) return { ...base, waiting: `caches syncing (${view.notReady.join(', ')})` };
    // A Node deleted after it was seen is a node leaving (departure.ts); its last known object still says which
    // peers and router-id it had, so the drain can run. Never seen: nothing to do until it exists.
    const node: V1Node | undefined = view.node ?? lastNode;
    if (!node) return { ...base, waiting: `Node ${opts.nodeName} does not exist in the cluster` };
    lastNode = node;
    const leaving = view.node ? leavingReason(node) : 'the Node object was deleted';
    const inForce = config.effective(view.bgpPeers, view.bgpConfigurations);
    configValid = inForce.state === 'valid';
    configInForce = inForce;
    metrics.configValid.set(configValid ? 1 : 0);
    let cfg: BgpConfig;
    let holdIfRunning: string | undefined;
    if (inForce.state === 'never-valid') {
      // Never the built-in defaults (config-source.ts explains the decision).
      if (!inForce.fallback) {
        return { ...base, waiting: `the configuration is invalid and none has been valid since the agent started: ${inForce.errors.join('; ')}` };
      }
      cfg = inForce.fallback.config;
      holdIfRunning = `invalid configuration (${inForce.errors.join('; ')}); fallback without ${inForce.fallback.quarantined.join(', ')}`;
    } else {
      cfg = inForce.config;
    }
    const routerId = routerIdFor(node, opts.routerId);
    if ('problem' in routerId) {
      if (routerId.problem !== lastRouterIdProblem) log.error('cannot choose a BGP router-id', { problem: routerId.problem });
      lastRouterIdProblem = routerId.problem;
      return { ...base, waiting: routerId.problem };
    }
    const speakerConfig = await speakerFor(cfg, node, routerId.routerId, passwords);
    const nodeWarnings = nodeAddressWarnings(cfg, toNodeInfo(node));
    if (nodeWarnings.join('\n') !== lastNodeWarnings && nodeWarnings.length > 0) log.warn('configuration warning', { warnings: nodeWarnings });
    lastNodeWarnings = nodeWarnings.join('\n');
    const desired = computeDesired(cfg, node, view.services, view.endpointSlices);
    return {
      ...base,
      speaker: speakerConfig,
      desired,
      ...(holdIfRunning !== undefined ? { holdIfRunning } : {}),
      ...(leaving !== undefined ? { leaving } : {}),
    };
  };

  const reconciler = new Reconciler({
    speaker,
    inputs,
    diff,
    log,
    metrics,
    onRefused: (refused) => void events.report(refused),
    schedule: (reason, delayMs) => scheduler?.later(reason, delayMs),
    drainMs: opts.drainMs,
  });
  scheduler = new PassScheduler((reasons) => reconciler.pass(reasons), {
    debounceMs: opts.debounceMs,
    maxDelayMs: opts.debounceMs * 10,
    retryMs: Math.max(1000, opts.probeIntervalMs),
  }, (err) => log.error('pass crashed', { error: errorText(err) }));

  // gobgpd liveness: a cheap periodic GetBgp, plus the end of the WatchEvent stream (gobgpd died) for speed.
  const monitor = new GobgpdMonitor(speaker, reconciler, trigger, opts.probeIntervalMs);
  const driftTimer = setInterval(() => {
    reconciler.checkDrift();
    passwords.refresh();
    trigger('drift');
  }, opts.resyncIntervalMs);

  const readiness = (): { ready: boolean; checks: Record<string, boolean>; info: Record<string, string> } => {
    const r = reconciler.readiness();
    // 'gobgpd-global-matches': a global-settings conflict (gobgpd runs another AS / router-id / listen port than
    // configured, e.g. the BGPConfiguration's listenPort changed after gobgpd started) fails readiness. Decision:
    // routes are still reconciled, and no Service selects the agent's Pods, so not-ready costs no traffic; what
    // it buys is visibility where operators look (`kubectl get pods` READY 1/2) and a DaemonSet rolling update
    // that stops instead of spreading a configuration that only takes effect after a gobgpd restart. The cure
    // is restarting gobgpd (the Pod); svcbgp never restarts a running speaker's global config itself.
    const checks = {
      'caches-synced': r.cachesSynced,
      'gobgpd-reachable': r.gobgpReachable,
      // gobgpd answers in the API svcbgp speaks (fails only with a forced --gobgp-api that gobgpd does not serve).
      'gobgpd-api-matches': r.gobgpApiMatches,
      'gobgpd-provisioned': r.provisioned,
      'gobgpd-global-matches': r.globalMatches,
      // The configuration (file + svcbgp.io resources) is valid. When it is not, the last good one stays in force
      // (or nothing is changed in a running gobgpd): failing readiness stops a DaemonSet rollout from spreading it.
      'config-valid': configValid,
    };
    return { ready: Object.values(checks).every(Boolean), checks, info: { 'gobgpd-api': r.gobgpApi ?? 'unknown' } };
  };
  const http = await startHealthServer(opts.httpAddress, readiness, metrics, log, () => {
    const r = readiness();
    return agentStatus({
      node: opts.nodeName,
      version: SVCBGP_VERSION,
      startedAt,
      now: new Date(),
      gobgpAddress: opts.gobgpAddress,
      ready: r.ready,
      checks: r.checks,
      config: configInForce,
      snapshot: reconciler.snapshot(),
    });
  });

  // First pass right away: adopts gobgpd's owned paths and provisions global/peers; routes follow the sync.
  cluster.start().catch((err: unknown) => log.error('cluster watch failed to start', { error: errorText(err) }));
  await monitor.start();
  trigger('start', 0);

  return {
    http,
    metrics,
    reconciler,
    idle: () => scheduler!.idle(),
    async stop() {
      monitor.stop();
      clearInterval(driftTimer);
      scheduler!.stop();
      config.stop();
      await scheduler!.idle().catch(() => undefined);
      await cluster.stop().catch(() => undefined);
      await http.close();
      speaker.close();
      log.info('agent stopped; gobgpd keeps its configuration and paths', {});
    },
  };
}
