import { type Command, InvalidArgumentError, Option } from 'commander';
import { createLogger } from '../log/logger.js';
import { parseGoDuration } from '../config/duration.js';
import type { AgentOptions, RunningAgent } from '../agent/agent.js';
import type { Logger } from '../log/logger.js';
import { errorText } from '../text/error.js';
import { ConfigError } from '../config/source.js';
import type { ApiChoice } from '../gobgp/index.js';

/**
 * Every duration flag of `svcbgp run`: its range (ms, inclusive), environment variable and default. A value outside
 * is refused, never clamped: Node.js runs a timer above 2^31-1 ms (about 24.8 days) after 1 ms (lib/internal/timers.js
 * TIMEOUT_MAX), and a value below the minimum rounds to 0 or turns a timer into a busy loop.
 */
export const DURATION_FLAGS = {
  '--resync-interval': { env: 'SVCBGP_RESYNC_INTERVAL', min: 1_000, max: 86_400_000, default: 60_000 },
  '--gobgp-probe-interval': { env: 'SVCBGP_GOBGP_PROBE_INTERVAL', min: 100, max: 300_000, default: 2_000 },
  '--gobgp-timeout': { env: 'SVCBGP_GOBGP_TIMEOUT', min: 100, max: 600_000, default: 10_000 },
  // The longest window between passes; the window follows what passes cost (src/agent/scheduler.ts).
  '--debounce': { env: 'SVCBGP_DEBOUNCE', min: 1, max: 10_000, default: 200 },
  '--config-poll-interval': { env: 'SVCBGP_CONFIG_POLL_INTERVAL', min: 100, max: 3_600_000, default: 2_000 },
  '--drain-time': { env: 'SVCBGP_DRAIN_TIME', min: 1_000, max: 3_600_000, default: 10_000 },
} as const satisfies Record<string, { env: string; min: number; max: number; default: number }>;

export type DurationFlag = keyof typeof DURATION_FLAGS;

/** A whole number of milliseconds as the shortest Go duration: 200ms, 2s, 5m, 24h. */
export function formatMs(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** "1s..24h": the range as help texts and messages show it. */
export function durationRange(flag: DurationFlag): string {
  const { min, max } = DURATION_FLAGS[flag];
  return `${formatMs(min)}..${formatMs(max)}`;
}

/** The parser of a duration flag (also of its environment variable: commander runs .env() values through it). */
export function parseDurationFlag(flag: DurationFlag) {
  return (text: string): number => {
    const secs = parseGoDuration(text);
    if (secs === undefined) throw new InvalidArgumentError(`${flag}: "${text}" is not a Go duration like 500ms, 30s, 2m (range ${durationRange(flag)})`);
    // Compared in whole microseconds: "0.3s" is 300.00000000000006 ms in floats; "1ns" is 0 and refused.
    const ms = Math.round(secs * 1e6) / 1e3;
    const { min, max } = DURATION_FLAGS[flag];
    if (!(ms >= min && ms <= max)) throw new InvalidArgumentError(`${flag}: "${text}" is out of range: ${durationRange(flag)}`);
    return Math.round(ms);
  };
}

function durationOption(flag: DurationFlag, description: string): Option {
  const d = DURATION_FLAGS[flag];
  return new Option(`${flag} <duration>`, `${description} (${durationRange(flag)})`)
    .env(d.env)
    .default(d.default, formatMs(d.default))
    .argParser(parseDurationFlag(flag));
}

const LOG_LEVELS = ['error', 'warn', 'info', 'debug'];

/**
 * `svcbgp run`: the agent. Every flag has an environment variable; a flag given on the command line wins.
 */
export function registerRun(program: Command): void {
  const run = program
    .command('run')
    .description(
      'Run the agent: watch Services, EndpointSlices, this Node and the BGP configuration, and keep the co-located ' +
        "gobgpd's global config, peers and RIB equal to what this node must advertise. SIGTERM/SIGINT exit " +
        'without withdrawing anything (routes belong to the node; gobgpd keeps them).',
    );
  addRunOptions(run).action(async (raw: Record<string, unknown>) => {
    const log = createLogger(String(raw.logLevel));
    const agent = await startOrExit(agentOptions(raw), log);
    exitOnSignals(agent, log);
  });
}

function addRunOptions(cmd: Command): Command {
  return cmd
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
      new Option('--http-address <addr>', 'health and metrics listener, bound exactly as given: loopback by default; ":9479" = all interfaces')
        .env('SVCBGP_HTTP_ADDRESS')
        .default('127.0.0.1:9479'),
    )
    .addOption(new Option('--log-level <level>', 'error, warn, info or debug').env('SVCBGP_LOG_LEVEL').default('info').choices(LOG_LEVELS))
    .addOption(durationOption('--resync-interval', "drift pass: re-read gobgpd's RIB and repair it"))
    .addOption(
      new Option('--namespace <ns>', "the agent's namespace, where BGP password Secrets are read (default: the ServiceAccount's, else svcbgp-system)").env(
        'POD_NAMESPACE',
      ),
    )
    .addOption(durationOption('--gobgp-probe-interval', 'how often gobgpd is probed (GetBgp) to notice a restart or an outage'))
    .addOption(durationOption('--gobgp-timeout', 'deadline of each gobgpd call'))
    .addOption(
      durationOption(
        '--debounce',
        'the longest wait between the end of a pass and the next while changes are pending (the wait follows what passes cost: a few ms)',
      ),
    )
    .addOption(durationOption('--config-poll-interval', 'how often the --config file is checked for changes'))
    .addOption(new Option('--no-custom-resources', 'do not watch svcbgp.io BGPPeer/BGPConfiguration resources'))
    .addOption(new Option('--no-events', 'do not create Kubernetes Events for refused addresses'))
    .addOption(
      new Option(
        '--no-allocator',
        'do not assign load-balancer addresses from IPPools, even when pools are configured (another product writes status.loadBalancer)',
      ),
    )
    .addOption(durationOption('--drain-time', 'a leaving node (excluded, deleted, shutting down) advertises GRACEFUL_SHUTDOWN this long before withdrawing'))
    .addOption(
      new Option(
        '--allow-loopback-peers',
        'accept BGPPeers on loopback addresses (127.0.0.0/8, ::1): only for tests and labs that run the peer on the same host',
      ).env('SVCBGP_ALLOW_LOOPBACK_PEERS'),
    );
}

/** The flags as the agent's options; exits (2) without --node-name. */
function agentOptions(raw: Record<string, unknown>): AgentOptions {
  const nodeName = raw.nodeName as string | undefined;
  if (!nodeName) {
    process.stderr.write('svcbgp run: --node-name (or NODE_NAME) is required\n');
    process.exit(2);
  }
  return {
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
    allocator: raw.allocator !== false,
    allowLoopbackPeers: raw.allowLoopbackPeers === true,
    drainMs: raw.drainTime as number,
  };
}

/** The running agent; an invalid configuration exits 2, any other start failure 1. */
async function startOrExit(opts: AgentOptions, log: Logger): Promise<RunningAgent> {
  try {
    // Loaded here, not at the top: the agent pulls in gRPC and the Kubernetes client, which `svcbgp explain`
    // and `--help` do not need (they start in a fraction of the time).
    const { startAgent } = await import('../agent/agent.js');
    return await startAgent(opts, log);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`svcbgp run: ${err.message}\n`);
      process.exit(2);
    }
    log.error('agent failed to start', { error: errorText(err) });
    process.exit(1);
  }
}

/** SIGTERM/SIGINT: stop watching and serving, and exit. */
function exitOnSignals(agent: RunningAgent, log: Logger): void {
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
}
