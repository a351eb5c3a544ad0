import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, run, signal, sleep, spawnDaemon, waitFor, type ExecResult } from './exec.js';
import { gobgpdFlags } from '../helpers/gobgpd-flags.js';
import { gobgpdVersion } from '../helpers/gobgpd-version.js';

/**
 * The gobgpd version of the lab: SVCBGP_GOBGPD (3.10, 3.37, 4.8, 4.9; `scripts/lab.sh --gobgpd` sets it), binaries
 * from scripts/build-gobgpd.sh's cache. `GOBGP` is the matching CLI (the v3 CLI cannot talk to gobgpd 4.x).
 */
export const LAB_GOBGPD = gobgpdVersion();
export const GOBGP = LAB_GOBGPD.gobgp;

/**
 * One node's gobgpd, running inside the node's namespace.
 *
 * API endpoints (decision): gobgpd 3.10 takes a comma-separated `--api-hosts` list (checked: both listeners
 * come up), so it serves
 *   - `unix://<run>/node-N/gobgp.sock`: unix sockets are not namespaced, so the agent can run in the root
 *     namespace (where the Kubernetes API server's loopback address is) and still reach its node's gobgpd, just
 *     as the DaemonSet sidecar reaches it over the socket in a shared volume;
 *   - `127.0.0.1:50051` inside the node namespace: `ip netns exec <node-ns> gobgp neighbor` works for an operator,
 *     with the CLI's defaults. That loopback is the namespace's own, so the three nodes never clash.
 * Every other flag is the DaemonSet's (test/helpers/gobgpd-flags.ts): no HTTP server on localhost:6060 (pprof, and
 * from gobgpd 3.14 on its metrics).
 *
 * Process (decision, as in deploy/40-daemonset.yaml): gobgpd runs under `dumb-init --rewrite 15:9`, so a SIGTERM to
 * the init (what the kubelet sends on Pod deletion) reaches gobgpd as a SIGKILL: no NOTIFICATION Cease, the ToR keeps
 * the routes as stale. `pid` is the init's, `gobgpdPid()` gobgpd's own; kill() is a crash of gobgpd itself.
 *
 * gobgpd starts with no config file: the agent configures it over the API. Before the agent exists, tests
 * configure it with the gobgp CLI (configureWithCli) or, where the CLI cannot express something (graceful
 * restart: 3.10's `neighbor add` has no option for it), with a bootstrap TOML file (renderGobgpdToml).
 */
export interface GobgpdBootstrap {
  asn: number;
  routerId: string;
  listenPort: number;
  /** The neighbor; omitted = global config only (add it later with reload(), after the paths). */
  peer?: { address: string; asn: number };
  /**
   * Graceful restart advertised to the peer; restartTime in seconds (how long the ToR keeps our routes).
   * deferralTime: how long a restarting gobgpd (`-r`) holds its updates waiting for the peer's End-of-RIB
   * (gobgpd's default: 360 s).
   */
  gracefulRestart?: { restartTime: number; deferralTime?: number };
  families: ('ipv4-unicast' | 'ipv6-unicast')[];
}

/** gobgpd TOML config for a bootstrap (pre-agent) setup. */
export function renderGobgpdToml(b: GobgpdBootstrap): string {
  const gr = b.gracefulRestart;
  const lines = [
    '# svcbgp lab: gobgpd bootstrap config (only used before the agent configures gobgpd over the API)',
    '[global.config]',
    `  as = ${b.asn}`,
    `  router-id = "${b.routerId}"`,
    `  port = ${b.listenPort}`,
  ];
  if (!b.peer) return `${lines.join('\n')}\n`;
  lines.push('', '[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${b.peer.address}"`, `    peer-as = ${b.peer.asn}`);
  if (gr) {
    lines.push('  [neighbors.graceful-restart.config]', '    enabled = true', `    restart-time = ${gr.restartTime}`);
    if (gr.deferralTime !== undefined) lines.push(`    deferral-time = ${gr.deferralTime}`);
  }
  for (const f of b.families) {
    lines.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = "${f}"`);
    if (gr) lines.push('    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true');
  }
  return `${lines.join('\n')}\n`;
}

export interface GobgpdStartOptions {
  /** Start from this bootstrap config file (`-f`) instead of empty. */
  bootstrap?: GobgpdBootstrap;
  /** Pass `-r` (set the restart-state bit in the graceful-restart capability): a restart after a crash. */
  restarting?: boolean;
}

export class Gobgpd {
  /** Path of the unix socket of the gRPC API. */
  readonly socketPath: string;
  /** gRPC target for grpc-js and `gobgp --target`: "unix:///...". */
  readonly target: string;
  /** The in-namespace TCP API address (reachable only from inside the node namespace). */
  readonly tcpApi = '127.0.0.1:50051';
  private currentPid: number | undefined;

  constructor(
    readonly ns: string,
    readonly dir: string,
  ) {
    this.socketPath = join(dir, 'gobgp.sock');
    this.target = `unix://${this.socketPath}`;
  }

  get pid(): number | undefined {
    return this.currentPid;
  }

  /** The bootstrap TOML (only used when started with a bootstrap). */
  get configFile(): string {
    return join(this.dir, 'gobgpd.toml');
  }

  /**
   * Rewrite the bootstrap TOML and SIGHUP gobgpd, which re-reads it and applies the difference (e.g. adds the
   * neighbor). Only for a gobgpd started with a bootstrap. Used to add the peer after the paths, the order that
   * makes a restart hitless (see the graceful-restart test).
   */
  async reload(b: GobgpdBootstrap, waitForPeer = true): Promise<void> {
    if (this.currentPid === undefined) throw new Error(`gobgpd in ${this.ns} is not running`);
    writeFileSync(this.configFile, renderGobgpdToml(b));
    signal(this.currentPid, 'SIGHUP');
    if (waitForPeer && b.peer) {
      const peer = b.peer.address;
      await waitFor(
        `gobgpd in ${this.ns} to load neighbor ${peer}`,
        async () => ((await this.gobgp(['neighbor', peer], true)).code === 0 ? true : undefined),
        10_000,
        100,
      );
    }
  }

  get logFile(): string {
    return join(this.dir, 'gobgpd.log');
  }

  async start(opts: GobgpdStartOptions = {}): Promise<void> {
    if (this.currentPid !== undefined && isAlive(this.currentPid)) throw new Error(`gobgpd in ${this.ns} already runs`);
    // A SIGKILLed gobgpd leaves its socket file behind; listen() would then fail with EADDRINUSE.
    rmSync(this.socketPath, { force: true });
    const argv = [
      'ip',
      'netns',
      'exec',
      this.ns,
      'dumb-init',
      '--rewrite',
      '15:9',
      '--',
      LAB_GOBGPD.gobgpd,
      ...gobgpdFlags(LAB_GOBGPD, { apiHosts: `${this.target},${this.tcpApi}` }),
    ];
    if (opts.bootstrap) {
      writeFileSync(this.configFile, renderGobgpdToml(opts.bootstrap));
      argv.push('-f', this.configFile);
    }
    if (opts.restarting) argv.push('-r');
    const pid = spawnDaemon(argv, this.logFile);
    this.currentPid = pid;
    await waitFor(
      `gobgpd API in ${this.ns}`,
      async () => {
        if (!isAlive(pid)) throw new Error(`gobgpd exited: ${tail(this.logFile)}`);
        if (!existsSync(this.socketPath)) return undefined;
        const r = await this.gobgp(['global'], true);
        return r.code === 0 ? true : undefined;
      },
      15_000,
      100,
    );
  }

  /** gobgpd's own pid (the init's only child), undefined when it is not running. */
  gobgpdPid(): number | undefined {
    const init = this.currentPid;
    if (init === undefined) return undefined;
    try {
      const child = readFileSync(`/proc/${init}/task/${init}/children`, 'utf8').trim().split(/\s+/)[0];
      return child ? Number(child) : undefined;
    } catch {
      return undefined;
    }
  }

  /** SIGKILL gobgpd itself (a crash: no Cease notification, the TCP session just dies); its init then exits. */
  async kill(): Promise<void> {
    const child = this.gobgpdPid();
    if (child !== undefined) signal(child, 'SIGKILL');
    await this.waitGone(5000);
  }

  /**
   * SIGTERM to the init, as the kubelet does on Pod deletion: dumb-init rewrites it to SIGKILL for gobgpd (no Cease).
   * SIGKILL to both after `graceMs` if anything is still alive (terminationGracePeriodSeconds).
   */
  async terminate(graceMs = 5000): Promise<void> {
    if (this.currentPid !== undefined) signal(this.currentPid, 'SIGTERM');
    await this.waitGone(graceMs);
  }

  /** Is gobgpd (or its init) still running? */
  running(): boolean {
    return this.currentPid !== undefined && isAlive(this.currentPid);
  }

  private async waitGone(graceMs: number): Promise<void> {
    const init = this.currentPid;
    if (init === undefined) return;
    const child = this.gobgpdPid();
    const alive = () => isAlive(init) || (child !== undefined && isAlive(child));
    for (const t0 = Date.now(); Date.now() - t0 < graceMs && alive(); ) await sleep(50);
    if (alive()) {
      if (child !== undefined) signal(child, 'SIGKILL');
      signal(init, 'SIGKILL');
    }
    for (let i = 0; i < 40 && alive(); i++) await sleep(50);
    this.currentPid = undefined;
  }

  /** Run the gobgp CLI against this gobgpd over its unix socket (from the root namespace). */
  async gobgp(args: string[], allowFail = false): Promise<ExecResult> {
    return run(GOBGP, ['--target', this.target, ...args], { allowFail });
  }

  /**
   * Configure the speaker with the gobgp CLI, as an operator would before the agent exists:
   * `gobgp global as <asn> router-id <id> listen-port 179` and `gobgp neighbor add <peer> as <asn> family ...`.
   */
  async configureWithCli(b: Omit<GobgpdBootstrap, 'gracefulRestart'>): Promise<void> {
    await this.gobgp(['global', 'as', String(b.asn), 'router-id', b.routerId, 'listen-port', String(b.listenPort)]);
    if (b.peer) await this.gobgp(['neighbor', 'add', b.peer.address, 'as', String(b.peer.asn), 'family', b.families.join(',')]);
  }

  /**
   * `gobgp global rib add <prefix> [nexthop <nh>]`. Without nextHop gobgpd sends the session's local address.
   * IPv6 prefixes over the IPv4 session need an explicit IPv6 next hop (the node's fd00:1:: address): seen with
   * gobgpd 3.10, a `::` next hop goes out as the IPv4 session address, which BIRD treats as a withdraw and FRR
   * cannot install.
   */
  async addRoute(prefix: string, nextHop?: string): Promise<void> {
    const nh = nextHop ? ['nexthop', nextHop] : [];
    await this.gobgp(['global', 'rib', 'add', prefix, ...nh, '-a', prefix.includes(':') ? 'ipv6' : 'ipv4']);
  }

  async deleteRoute(prefix: string): Promise<void> {
    await this.gobgp(['global', 'rib', 'del', prefix, '-a', prefix.includes(':') ? 'ipv6' : 'ipv4']);
  }

  /** Prefixes in gobgpd's global RIB for one family (what `gobgp global rib` lists). */
  async ribPrefixes(family: 'ipv4' | 'ipv6' = 'ipv4'): Promise<string[]> {
    const r = await this.gobgp(['-j', 'global', 'rib', '-a', family]);
    const doc = JSON.parse(r.stdout.trim() || '{}') as Record<string, unknown>;
    return Object.keys(doc).sort();
  }

  /** Neighbor state as gobgpd sees it ("established", "active", ...), from `gobgp -j neighbor <addr>`. */
  async neighborState(address: string): Promise<string> {
    const r = await this.gobgp(['-j', 'neighbor', address], true);
    if (r.code !== 0) return 'unknown';
    const doc = JSON.parse(r.stdout) as { state?: { session_state?: number | string } };
    const s = doc.state?.session_state;
    // gobgp 3.x JSON prints the enum as a number: 1 idle, 2 connect, 3 active, 4 opensent, 5 openconfirm, 6 established.
    const names = ['unknown', 'idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'];
    return typeof s === 'number' ? (names[s] ?? String(s)) : String(s ?? 'unknown').toLowerCase();
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}
