import type { Logger } from '../log/logger.js';
import { AgentMetrics } from '../http/metrics.js';
import { startHealthServer, type HealthServer } from '../http/server.js';
import { ClusterWatch } from '../kube/cluster.js';
import { ConfigSource } from '../config/source.js';
import { agentStatus } from './status-report.js';
import { SVCBGP_VERSION } from '../version.js';
import { RefusalEvents, kubeEventSink } from '../kube/events.js';
import { ConfigRejectionEvents } from '../kube/config-events.js';
import { agentNamespace, loadKubeConfig } from '../kube/kubeconfig.js';
import { KubeClient } from '../kube/client.js';
import { kubeSecretReader, type SecretReader } from '../kube/secrets.js';
import { ClusterInputs } from './inputs.js';
import { Reconciler } from './reconciler.js';
import { PassScheduler } from './scheduler.js';
import { errorText } from '../text/error.js';
import { PasswordResolver } from './passwords.js';
import { GobgpdMonitor } from './monitor.js';
import type { SpeakerPort } from '../model/speaker.js';
import type { ApiChoice } from '../gobgp/index.js';
import { GobgpSpeaker } from '../gobgp/index.js';
import { createAllocator, type Allocator } from './allocator.js';

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
  /** A leaving node advertises GRACEFUL_SHUTDOWN this long before withdrawing (src/config/departure.ts). */
  drainMs?: number;
  /** Accept BGPPeers on loopback (tests and labs only). */
  allowLoopbackPeers?: boolean;
  /**
   * Take part in load-balancer address allocation when IPPools are in force (default true; src/agent/allocator.ts).
   */
  allocator?: boolean;
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

/** What the agent's parts call to ask for a pass (the scheduler exists once the reconciler does). */
type Trigger = (reason: string, delayMs?: number) => void;

/**
 * Composition root: wires the configuration, the Kubernetes watch, gobgpd, the reconciler and HTTP, in that order:
 * an invalid configuration file stops the start before anything is watched or sent.
 */
export async function startAgent(opts: AgentOptions, log: Logger, overrides: { speaker?: SpeakerPort } = {}): Promise<RunningAgent> {
  const metrics = new AgentMetrics();
  logStart(opts, log);
  let scheduler: PassScheduler | undefined;
  let allocator: Allocator | undefined;
  const trigger: Trigger = (reason, delayMs) => {
    scheduler?.trigger(reason, delayMs);
    allocator?.kick(reason);
  };

  const kube = kubeSide(opts, log, metrics, trigger);
  const config = await startConfig(opts, log, metrics, trigger, kube.rejectionEvents);
  kube.logConfigured();
  if (opts.allocator !== false) {
    allocator = createAllocator({
      client: kube.client,
      namespace: kube.namespace,
      identity: opts.nodeName,
      services: () => kube.cluster.serviceObjects(),
      synced: () => kube.cluster.cacheStates()['services'] === 'synced',
      allocation: () => {
        const cr = kube.cluster.configResources();
        const c = config.effective(cr.bgpPeers, cr.bgpConfigurations);
        return c.state === 'never-valid' ? undefined : c.config.allocation;
      },
      log,
    });
  }
  const speaker =
    overrides.speaker ??
    GobgpSpeaker.connect(opts.gobgpAddress, {
      deadlineMs: opts.gobgpTimeoutMs,
      log,
      api: opts.gobgpApi ?? 'auto',
      onRpcError: (rpc) => metrics.gobgpErrors.inc({ rpc }),
    });
  const inputs = new ClusterInputs({
    nodeName: opts.nodeName,
    ...(opts.routerId !== undefined ? { routerId: opts.routerId } : {}),
    sources: {
      view: () => kube.cluster.view(),
      serviceChanges: () => kube.cluster.takeServiceChanges(),
      config: (peers, configurations) => config.effective(peers, configurations),
    },
    passwords: kube.passwords,
    log,
    metrics,
    onCheckFailed: () => trigger('drift-repair', 0),
    whenIdle: () => scheduler?.idle() ?? Promise.resolve(),
  });
  const reconciler = new Reconciler({
    speaker,
    inputs,
    log,
    metrics,
    onRefused: (refused) => void kube.refusalEvents.report(refused),
    schedule: (reason, delayMs) => scheduler?.later(reason, delayMs),
    drainMs: opts.drainMs,
  });
  scheduler = new PassScheduler(
    (reasons) => reconciler.pass(reasons),
    {
      maxWindowMs: opts.debounceMs,
      retryMs: Math.max(1000, opts.probeIntervalMs),
    },
    (err) => log.error('pass crashed', { error: errorText(err) }),
  );

  // gobgpd liveness: a cheap periodic GetBgp, plus the end of the WatchEvent stream (gobgpd died) for speed.
  const monitor = new GobgpdMonitor(speaker, reconciler, trigger, opts.probeIntervalMs);
  const driftTimer = setInterval(() => {
    reconciler.checkDrift();
    kube.passwords.refresh();
    trigger('drift');
  }, opts.resyncIntervalMs);
  const http = await serveHttp(opts, log, metrics, reconciler, inputs);

  // First pass right away: adopts gobgpd's owned paths and provisions global/peers; routes follow the sync.
  kube.cluster.start().catch((err: unknown) => log.error('cluster watch failed to start', { error: errorText(err) }));
  await monitor.start();
  trigger('start', 0);

  const sched = scheduler;
  return {
    http,
    metrics,
    reconciler,
    idle: () => sched.idle(),
    async stop() {
      await allocator?.stop({ release: true });
      monitor.stop();
      clearInterval(driftTimer);
      sched.stop();
      config.stop();
      await sched.idle().catch(() => undefined);
      await kube.cluster.stop().catch(() => undefined);
      await http.close();
      speaker.close();
      log.info('agent stopped; gobgpd keeps its configuration and paths', {});
    },
  };
}

function logStart(opts: AgentOptions, log: Logger): void {
  log.info('svcbgp agent starting', {
    node: opts.nodeName,
    gobgpAddress: opts.gobgpAddress,
    gobgpApi: opts.gobgpApi ?? 'auto',
    config: opts.configFile ?? '(seed defaults)',
    resyncIntervalMs: opts.resyncIntervalMs,
  });
}

/** The Kubernetes side: client, Events, Secrets (BGP passwords) and the cluster watch (not started yet). */
function kubeSide(opts: AgentOptions, log: Logger, metrics: AgentMetrics, trigger: Trigger) {
  const { target, source } = loadKubeConfig(opts.kubeconfig);
  const kube = new KubeClient(target);
  const eventSink = opts.events ? kubeEventSink(kube) : undefined;
  const counted = (ok: boolean): void => void metrics.events.inc({ result: ok ? 'created' : 'failed' });
  const rejectionEvents = eventSink ? new ConfigRejectionEvents(eventSink, opts.nodeName, log, counted) : undefined;
  // Always built: with --no-events it still logs each refusal (bounded), it just creates no Event.
  const refusalEvents = new RefusalEvents(eventSink, opts.nodeName, log, counted);
  const namespace = agentNamespace(opts.namespace);
  const secrets: SecretReader = kubeSecretReader(kube, namespace);
  const passwords = new PasswordResolver(secrets, log);
  const cluster = new ClusterWatch({
    client: kube,
    nodeName: opts.nodeName,
    log,
    onChange: (what) => trigger(what),
    onWatchError: (resource) => metrics.kubeWatchErrors.inc({ resource }),
    watchCustomResources: opts.customResources,
  });
  return {
    client: kube,
    namespace,
    rejectionEvents,
    refusalEvents,
    passwords,
    cluster,
    logConfigured: () => log.info('kubernetes client configured', { source, server: target.server, namespace }),
  };
}

/** The configuration file (or the seed defaults), re-read when it changes. Throws ConfigError on an invalid file. */
async function startConfig(
  opts: AgentOptions,
  log: Logger,
  metrics: AgentMetrics,
  trigger: Trigger,
  rejectionEvents: ConfigRejectionEvents | undefined,
): Promise<ConfigSource> {
  const config = new ConfigSource({
    file: opts.configFile,
    pollMs: opts.configPollMs,
    log,
    onChange: () => trigger('config-file'),
    onLoad: (source, ok) => metrics.configReloads.inc({ source, result: ok ? 'ok' : 'invalid' }),
    onRejected: (rejected) => void rejectionEvents?.report(rejected),
    parse: { allowLoopbackPeers: opts.allowLoopbackPeers === true },
  });
  await config.start(); // fatal at start-up
  metrics.configValid.set(1);
  return config;
}

/** /healthz, /readyz, /metrics and /status. */
function serveHttp(opts: AgentOptions, log: Logger, metrics: AgentMetrics, reconciler: Reconciler, inputs: ClusterInputs): Promise<HealthServer> {
  const startedAt = new Date();
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
      'config-valid': inputs.configValid(),
    };
    return { ready: Object.values(checks).every(Boolean), checks, info: { 'gobgpd-api': r.gobgpApi ?? 'unknown' } };
  };
  return startHealthServer(opts.httpAddress, readiness, metrics, log, () => {
    const r = readiness();
    return agentStatus({
      node: opts.nodeName,
      version: SVCBGP_VERSION,
      startedAt,
      now: new Date(),
      gobgpAddress: opts.gobgpAddress,
      ready: r.ready,
      checks: r.checks,
      config: inputs.configInForce(),
      snapshot: reconciler.snapshot(),
    });
  });
}
