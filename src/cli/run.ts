import { Command, InvalidArgumentError, Option } from 'commander';
import { createLogger } from '../log/logger.js';
import { parseGoDuration } from '../config/duration.js';
import type { AgentOptions } from '../agent/agent.js';
import { ConfigError } from '../kube/config-source.js';
import type { ApiChoice } from '../gobgp/types.js';

function duration(flag: string) {
  return (text: string): number => {
    const s = parseGoDuration(text);
    if (s === undefined || s <= 0) throw new InvalidArgumentError(`${flag}: "${text}" is not a positive Go duration like 500ms, 30s, 2m`);
    return Math.round(s * 1000);
  };
}

const LOG_LEVELS = ['error', 'warn', 'info', 'debug'];

/**
 * `svcbgp run`: the agent. Every flag has an environment variable; a flag given on the command line wins.
 */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'Run the agent: watch Services, EndpointSlices, this Node and the BGP configuration, and keep the co-located ' +
        "gobgpd's global config, peers and RIB equal to what this node must advertise. SIGTERM/SIGINT exit " +
        'without withdrawing anything (routes belong to the node; gobgpd keeps them).',
    )
    .addOption(new Option('--node-name <name>', 'this Kubernetes node (required)').env('NODE_NAME'))
    .addOption(
      new Option('--gobgp-address <addr>', "gobgpd's gRPC API: host:port on loopback, or unix:///path/to/gobgp.sock")
        .env('GOBGP_ADDRESS')
        .default('127.0.0.1:50051'),
    )
    .addOption(
      new Option(
        '--gobgp-api <version>',
        "gobgpd's wire API: auto (probe gobgpd on connect and whenever it comes back: v4 for gobgpd 4.x, v3 for 3.x), v3 or v4",
      )
        .env('SVCBGP_GOBGP_API')
        .default('auto')
        .choices(['auto', 'v3', 'v4']),
    )
    .addOption(
      new Option(
        '--config <file>',
        'BGPPeer/BGPConfiguration documents (projectcalico.org/v3 or svcbgp.io/v1alpha1), re-read when it changes; ' +
          'default: the seed defaults (AS 64512, peer 192.168.1.1 AS 64512). svcbgp.io custom resources override ' +
          'file documents of the same kind and name',
      ).env('SVCBGP_CONFIG'),
    )
    .addOption(new Option('--kubeconfig <file>', 'kubeconfig file (default: in-cluster ServiceAccount, then $KUBECONFIG, then ~/.kube/config)'))
    .addOption(new Option('--router-id <ipv4>', "BGP router-id (default: the node's first IPv4 InternalIP)").env('ROUTER_ID'))
    .addOption(
      new Option('--http-address <addr>', 'health and metrics listener, bound exactly as given (":9479" = all interfaces)')
        .env('SVCBGP_HTTP_ADDRESS')
        .default(':9479'),
    )
    .addOption(new Option('--log-level <level>', 'error, warn, info or debug').env('SVCBGP_LOG_LEVEL').default('info').choices(LOG_LEVELS))
    .addOption(
      new Option('--resync-interval <duration>', "drift pass: re-read gobgpd's RIB and repair it")
        .env('SVCBGP_RESYNC_INTERVAL')
        .default(60_000, '60s')
        .argParser(duration('--resync-interval')),
    )
    .addOption(
      new Option('--namespace <ns>', "the agent's namespace, where BGP password Secrets are read (default: the ServiceAccount's, else svcbgp-system)").env(
        'POD_NAMESPACE',
      ),
    )
    .addOption(
      new Option('--gobgp-probe-interval <duration>', 'how often gobgpd is probed (GetBgp) to notice a restart or an outage')
        .env('SVCBGP_GOBGP_PROBE_INTERVAL')
        .default(2_000, '2s')
        .argParser(duration('--gobgp-probe-interval')),
    )
    .addOption(
      new Option('--gobgp-timeout <duration>', 'deadline of each gobgpd call')
        .env('SVCBGP_GOBGP_TIMEOUT')
        .default(10_000, '10s')
        .argParser(duration('--gobgp-timeout')),
    )
    .addOption(
      new Option('--debounce <duration>', 'coalesce bursts of cluster events for this long before a pass (at most 10x this after the first event)')
        .env('SVCBGP_DEBOUNCE')
        .default(200, '200ms')
        .argParser(duration('--debounce')),
    )
    .addOption(
      new Option('--config-poll-interval <duration>', 'how often the --config file is checked for changes')
        .env('SVCBGP_CONFIG_POLL_INTERVAL')
        .default(2_000, '2s')
        .argParser(duration('--config-poll-interval')),
    )
    .addOption(new Option('--no-custom-resources', 'do not watch svcbgp.io BGPPeer/BGPConfiguration resources'))
    .addOption(new Option('--no-events', 'do not create Kubernetes Events for refused addresses'))
    .addOption(
      new Option('--drain-time <duration>', 'a leaving node (excluded, deleted, shutting down) advertises GRACEFUL_SHUTDOWN this long before withdrawing')
        .env('SVCBGP_DRAIN_TIME')
        .default(10_000, '10s')
        .argParser(duration('--drain-time')),
    )
    .addOption(
      new Option('--allow-loopback-peers', 'accept BGPPeers on loopback addresses (127.0.0.0/8, ::1): only for tests and labs that run the peer on the same host')
        .env('SVCBGP_ALLOW_LOOPBACK_PEERS'),
    )
    .action(async (raw: Record<string, unknown>) => {
      const log = createLogger(String(raw.logLevel));
      const nodeName = raw.nodeName as string | undefined;
      if (!nodeName) {
        process.stderr.write('svcbgp run: --node-name (or NODE_NAME) is required\n');
        process.exit(2);
      }
      const opts: AgentOptions = {
        nodeName,
        gobgpAddress: String(raw.gobgpAddress),
        gobgpApi: raw.gobgpApi as ApiChoice,
        configFile: raw.config as string | undefined,
        kubeconfig: raw.kubeconfig as string | undefined,
        routerId: raw.routerId as string | undefined,
        httpAddress: String(raw.httpAddress),
        resyncIntervalMs: raw.resyncInterval as number,
        namespace: raw.namespace as string | undefined,
        probeIntervalMs: raw.gobgpProbeInterval as number,
        gobgpTimeoutMs: raw.gobgpTimeout as number,
        debounceMs: raw.debounce as number,
        configPollMs: raw.configPollInterval as number,
        customResources: raw.customResources !== false,
        events: raw.events !== false,
        allowLoopbackPeers: raw.allowLoopbackPeers === true,
        drainMs: raw.drainTime as number,
      };
      let agent;
      try {
        // Loaded here, not at the top: the agent pulls in gRPC and the Kubernetes client, which `svcbgp explain`
        // and `--help` do not need (they start in a fraction of the time).
        const { startAgent } = await import('../agent/agent.js');
        agent = await startAgent(opts, log);
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`svcbgp run: ${err.message}\n`);
          process.exit(2);
        }
        log.error('agent failed to start', { error: err instanceof Error ? err.message : String(err) });
        process.exit(1);
      }
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        // Deliberately no withdrawal: gobgpd keeps every path; a new agent adopts them.
        log.info('signal received: exiting without withdrawing routes', { signal });
        agent.stop().then(
          () => process.exit(0),
          () => process.exit(0),
        );
        setTimeout(() => process.exit(0), 5000).unref();
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}
