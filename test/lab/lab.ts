import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BirdRouter } from './bird.js';
import { destroySync, registerForExit, type LabState } from './cleanup.js';
import { nsRun, run, sleep, spawnDaemon, waitFor, type ExecOptions, type ExecResult } from './exec.js';
import { FrrRouter } from './frr.js';
import { Gobgpd, LAB_GOBGPD, type GobgpdBootstrap } from './gobgpd.js';
import { HTTP_STANDIN, httpGetFrom, urlFor, type HttpResult } from './http.js';
import { formatRouteTable, parseIpRouteJson, parseNextHopWeights, toRouteTable, type KernelRoute, type RouteTable } from './routes.js';
import { EXT_V4, EXT_V6, LAB_ASN, TOR_V4, TOR_V6, createTopology, freshNames, nodeV4, nodeV6, type LabNames } from './topology.js';
import type { BgpSession, RouterKind, TorBfd, TorRouter } from './tor.js';

export interface LabOptions {
  /** The ToR implementation: BIRD 2 or FRR. */
  router: RouterKind;
  /** Number of nodes (default 3: node-1 .10, node-2 .11, node-3 .12). */
  nodes?: number;
  /** Start gobgpd (empty, no config) in every node namespace (default true). */
  startGobgpd?: boolean;
  /** ToR accepts/installs IPv6 unicast routes (MP-BGP on the IPv4 session) (default true). */
  ipv6?: boolean;
  /** ToR reflects node routes to the other nodes (default false: nodes' RIBs hold only their own routes). */
  reflectToNodes?: boolean;
  /** Traffic to unadvertised addresses: 'unreachable' (default, fails at once) or 'drop' (times out). See topology.ts. */
  unknownDestinations?: 'unreachable' | 'drop';
  /** BFD on the ToR's node sessions (default off). */
  torBfd?: TorBfd;
  /** GTSM on the ToR's node sessions (default off): the nodes' BGPPeer needs ttlSecurity: 1. */
  torTtlSecurity?: boolean;
  /** The ToR waits for the nodes to connect and never connects itself (default off). */
  torPassive?: boolean;
  /** Progress callback (the demo prints these). */
  onProgress?: (msg: string) => void;
}

export interface LabNode {
  /** 1-based. */
  index: number;
  /** Kubernetes node name: "node-1". */
  name: string;
  /** Network namespace. */
  ns: string;
  ipv4: string;
  ipv6: string;
  /** <run>/node-N: gobgpd socket, logs. */
  dir: string;
  gobgpd: Gobgpd;
}

/** What `ip monitor route` printed on the ToR: every line, and the deletions among them. */
export interface RouteChanges {
  lines: string[];
  deleted: string[];
}

export interface MemoryReport {
  processes: { ns: string; pid: number; comm: string; rssKiB: number }[];
  totalKiB: number;
  byComm: Record<string, number>;
}

/** Timings of the bring-up phases, ms. */
export interface BringUpTimings {
  topologyMs: number;
  routerMs: number;
  gobgpdMs: number;
  totalMs: number;
}

/**
 * One network lab: the article's network in namespaces. Create with createLab(), always destroy() (also
 * done on process exit and SIGINT/SIGTERM unless keep() was called).
 */
export class Lab {
  readonly tor: { ns: string; ipv4: string; ipv6: string; asn: number };
  readonly ext: { ns: string; ipv4: string; ipv6: string };
  readonly nodes: LabNode[];
  readonly router: TorRouter;
  timings: BringUpTimings = { topologyMs: 0, routerMs: 0, gobgpdMs: 0, totalMs: 0 };
  private readonly extraPids: number[] = [];
  /** Namespaces made after bring-up (the Pods' of test/lab/pods.ts): removed at teardown with the lab's own. */
  private readonly extraNamespaces = new Set<string>();
  private kept = false;
  private destroyed = false;
  private unregister: () => void = () => undefined;

  constructor(
    readonly names: LabNames,
    readonly options: LabOptions,
  ) {
    this.tor = { ns: names.torNs, ipv4: TOR_V4, ipv6: TOR_V6, asn: LAB_ASN };
    this.ext = { ns: names.extNs, ipv4: EXT_V4, ipv6: EXT_V6 };
    this.nodes = names.nodeNs.map((ns, i) => {
      const dir = join(names.runDir, `node-${i + 1}`);
      return { index: i + 1, name: `node-${i + 1}`, ns, ipv4: nodeV4(i + 1), ipv6: nodeV6(i + 1), dir, gobgpd: new Gobgpd(ns, dir) };
    });
    const settings = {
      ns: names.torNs,
      dir: join(names.runDir, 'tor'),
      asn: LAB_ASN,
      routerId: TOR_V4,
      neighbors: this.nodes.map((n) => ({ name: n.name, address: n.ipv4 })),
      reflectToNodes: options.reflectToNodes ?? false,
      ipv6: options.ipv6 ?? true,
      ...(options.torBfd ? { bfd: options.torBfd } : {}),
      ...(options.torTtlSecurity ? { ttlSecurity: true } : {}),
      ...(options.torPassive ? { passive: true } : {}),
    };
    this.router = options.router === 'bird' ? new BirdRouter(settings) : new FrrRouter(settings);
  }

  get id(): string {
    return this.names.prefix;
  }

  /** "sb1a2b": every namespace of the lab starts with it. */
  get prefix(): string {
    return this.names.prefix;
  }

  get runDir(): string {
    return this.names.runDir;
  }

  /** A node by 1-based index or by name ("node-2"). */
  node(which: number | string): LabNode {
    const n = typeof which === 'number' ? this.nodes[which - 1] : this.nodes.find((x) => x.name === which);
    if (!n) throw new Error(`no such lab node: ${which}`);
    return n;
  }

  private state(): LabState {
    return {
      id: this.names.id,
      prefix: this.names.prefix,
      router: this.options.router,
      namespaces: [this.names.torNs, this.names.extNs, ...this.names.nodeNs, ...this.extraNamespaces],
      runDir: this.names.runDir,
      ownerPid: process.pid,
      keep: this.kept,
      createdAt: new Date().toISOString(),
      extraPids: this.extraPids,
    };
  }

  private saveState(): void {
    writeFileSync(join(this.names.runDir, 'lab.json'), `${JSON.stringify(this.state(), null, 2)}\n`);
  }

  /** Bring-up; called by createLab. */
  async up(): Promise<void> {
    const progress = this.options.onProgress ?? (() => undefined);
    const t0 = Date.now();
    mkdirSync(this.names.runDir, { recursive: true });
    this.saveState(); // before any namespace exists: cleanupStale relies on it
    this.unregister = registerForExit(this.id, () => this.destroySync());
    for (const n of this.nodes) mkdirSync(n.dir, { recursive: true });
    mkdirSync(join(this.names.runDir, 'tor'), { recursive: true });
    progress(`creating namespaces ${this.names.torNs}, ${this.names.extNs}, ${this.names.nodeNs.join(', ')}`);
    await createTopology(this.names, { unknownDestinations: this.options.unknownDestinations ?? 'unreachable' });
    const t1 = Date.now();
    progress(`starting ${this.options.router === 'bird' ? 'BIRD 2' : 'FRR (zebra + bgpd)'} in ${this.names.torNs}`);
    await this.router.start();
    const t2 = Date.now();
    if (this.options.startGobgpd ?? true) {
      progress(`starting gobgpd in ${this.nodes.map((n) => n.ns).join(', ')}`);
      await Promise.all(this.nodes.map((n) => n.gobgpd.start()));
    }
    const t3 = Date.now();
    this.timings = { topologyMs: t1 - t0, routerMs: t2 - t1, gobgpdMs: t3 - t2, totalMs: t3 - t0 };
  }

  /** The bootstrap speaker settings of a node as the agent would configure them (AS 64512, peer the ToR). */
  speakerFor(node: LabNode, gracefulRestartTime?: number): GobgpdBootstrap {
    const b: GobgpdBootstrap = {
      asn: LAB_ASN,
      routerId: node.ipv4,
      listenPort: 179,
      peer: { address: TOR_V4, asn: LAB_ASN },
      families: (this.options.ipv6 ?? true) ? ['ipv4-unicast', 'ipv6-unicast'] : ['ipv4-unicast'],
    };
    if (gracefulRestartTime !== undefined) b.gracefulRestart = { restartTime: gracefulRestartTime };
    return b;
  }

  /** Configure every node's gobgpd with the gobgp CLI (pre-agent): global AS/router-id, neighbor the ToR. */
  async configureNodesWithCli(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.gobgpd.configureWithCli(this.speakerFor(n))));
  }

  /** Run a command inside a namespace. */
  exec(ns: string, cmd: string, args: string[], opts?: ExecOptions): Promise<ExecResult> {
    return nsRun(ns, cmd, args, opts);
  }

  /** Kernel routes of the ToR namespace (both families), parsed from `ip -j route show`. */
  async torKernelRoutes(): Promise<KernelRoute[]> {
    const [v4, v6] = await Promise.all([
      run('ip', ['-n', this.tor.ns, '-4', '-j', 'route', 'show']),
      run('ip', ['-n', this.tor.ns, '-6', '-j', 'route', 'show']),
    ]);
    return [...parseIpRouteJson(v4.stdout, 'inet'), ...parseIpRouteJson(v6.stdout, 'inet6')];
  }

  /** {prefix -> sorted next hops} for the routes the ToR's router installed ("10.49.62.131/32", never bare). */
  async torRoutes(): Promise<RouteTable> {
    return toRouteTable(await this.torKernelRoutes());
  }

  /** next hop -> kernel weight of one prefix on the ToR (`ip -n <tor> -j route show <prefix>`): weighted ECMP. */
  async torNextHopWeights(prefix: string): Promise<Record<string, number>> {
    const family = prefix.includes(':') ? '-6' : '-4';
    return parseNextHopWeights((await run('ip', ['-n', this.tor.ns, family, '-j', 'route', 'show', prefix])).stdout);
  }

  /** `ip route` of the ToR as text (what the article prints). */
  async torIpRoute(family: '-4' | '-6' = '-4'): Promise<string> {
    return (await run('ip', ['-n', this.tor.ns, family, 'route', 'show'])).stdout;
  }

  /**
   * Wait until the ToR's route table satisfies `predicate`; returns that table. On timeout the error carries
   * the last table seen, formatted like `ip route`.
   */
  async waitForTorRoutes(predicate: (t: RouteTable) => boolean, timeoutMs = 30_000, what = 'ToR routes'): Promise<RouteTable> {
    let last: RouteTable = {};
    return waitFor(
      what,
      async () => {
        last = await this.torRoutes();
        return predicate(last) ? last : undefined;
      },
      timeoutMs,
      200,
      () => `\n${formatRouteTable(last)}`,
    );
  }

  /** Wait until `prefix` is on the ToR with exactly `nextHops` (any order), or absent when nextHops is null. */
  waitForTorRoute(prefix: string, nextHops: string[] | null, timeoutMs = 30_000): Promise<RouteTable> {
    const want = nextHops === null ? null : [...nextHops].sort().join(',');
    return this.waitForTorRoutes(
      (t) => (want === null ? !(prefix in t) : (t[prefix] ?? []).slice().sort().join(',') === want),
      timeoutMs,
      nextHops === null ? `${prefix} gone from the ToR` : `${prefix} via ${nextHops.join(', ')} on the ToR`,
    );
  }

  /**
   * Record every change of the ToR's kernel table (`ip -n <tor> monitor route`, both families) until stop(). The
   * ground truth for "the ToR deleted no route": sampling can miss a delete + re-add that is milliseconds apart.
   */
  monitorTorRoutes(): { stop: () => Promise<RouteChanges> } {
    const child = spawn('ip', ['-n', this.tor.ns, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buffered = '';
    const lines: string[] = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      // Multipath routes continue on indented "nexthop" lines: keep them with their route.
      for (const l of parts) {
        if (/^\s/.test(l) && lines.length > 0) lines[lines.length - 1] += ` ${l.trim()}`;
        else if (l.trim() !== '') lines.push(l);
      }
    });
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    return {
      stop: async () => {
        await sleep(300); // let the last events arrive
        child.kill('SIGTERM');
        await exited;
        if (buffered.trim() !== '') lines.push(buffered);
        return { lines, deleted: lines.filter((l) => l.startsWith('Deleted ')) };
      },
    };
  }

  /** BGP sessions as the ToR sees them. */
  torSessions(): Promise<BgpSession[]> {
    return this.router.sessions();
  }

  /** Wait until the ToR has an Established session with each of `peers` (default: all nodes). */
  async waitForSessions(peers: string[] = this.nodes.map((n) => n.ipv4), timeoutMs = 60_000): Promise<BgpSession[]> {
    let last: BgpSession[] = [];
    return waitFor(
      `BGP sessions Established with ${peers.join(', ')}`,
      async () => {
        last = await this.router.sessions();
        return peers.every((p) => last.find((s) => s.peer === p)?.established) ? last : undefined;
      },
      timeoutMs,
      250,
      () => last.map((s) => `${s.peer}=${s.state}`).join(' '),
    );
  }

  /** Wait until the ToR's session with `peer` is (established=true) or is not (false) Established. */
  async waitForTorSessionState(peer: string, established: boolean, timeoutMs = 30_000): Promise<BgpSession> {
    let last: BgpSession | undefined;
    return waitFor(
      `ToR session with ${peer} ${established ? '' : 'not '}Established`,
      async () => {
        last = (await this.router.sessions()).find((s) => s.peer === peer);
        return last && last.established === established ? last : undefined;
      },
      timeoutMs,
      100,
      () => last?.state ?? 'no such session',
    );
  }

  /** Put a Service IP on a node's lo (where kube-proxy's ipvs dummy interface would hold it). */
  async addServiceAddress(node: LabNode, addr: string): Promise<void> {
    const len = addr.includes(':') ? 128 : 32;
    await run('ip', ['-n', node.ns, 'addr', 'replace', `${addr}/${len}`, 'dev', 'lo']);
  }

  async removeServiceAddress(node: LabNode, addr: string): Promise<void> {
    const len = addr.includes(':') ? 128 : 32;
    await run('ip', ['-n', node.ns, 'addr', 'del', `${addr}/${len}`, 'dev', 'lo'], { allowFail: true });
  }

  /**
   * STAND-IN for kube-proxy + nginx: put `addr` on the node's lo and serve HTTP there, answering with the
   * node's name. Returns the server's pid (killed at teardown with everything in the namespace).
   */
  async startHttpServer(node: LabNode, addr: string, port = 80): Promise<number> {
    await this.addServiceAddress(node, addr);
    const log = join(node.dir, `http-${addr.replace(/[:.]/g, '_')}-${port}.log`);
    const pid = spawnDaemon(['ip', 'netns', 'exec', node.ns, process.execPath, HTTP_STANDIN, 'serve', addr, String(port), node.name], log);
    await waitFor(
      `HTTP stand-in on ${node.name} ${addr}:${port}`,
      async () => ((await httpGetFrom(node.ns, urlFor(addr, port), 1000)).ok ? true : undefined),
      10_000,
      100,
      () => readFileSync(log, 'utf8'),
    );
    return pid;
  }

  /** HTTP GET from the external host to addr:port (through the ToR), with a timeout. */
  httpFromExternal(addr: string, opts: { port?: number; timeoutMs?: number } = {}): Promise<HttpResult> {
    return httpGetFrom(this.ext.ns, urlFor(addr, opts.port ?? 80), opts.timeoutMs ?? 3000);
  }

  /**
   * Start a tracked process (e.g. the agent, in the root namespace, or inside `ns`), output to
   * <run>/<name>.log. Killed (its whole process group) at teardown. Returns the pid.
   */
  spawn(name: string, argv: string[], opts: { ns?: string; env?: NodeJS.ProcessEnv } = {}): number {
    const full = opts.ns ? ['ip', 'netns', 'exec', opts.ns, ...argv] : argv;
    const pid = spawnDaemon(full, join(this.names.runDir, `${name}.log`), opts.env ? { env: opts.env } : {});
    this.extraPids.push(pid);
    this.saveState();
    return pid;
  }

  /** Record a namespace made after bring-up (named `<prefix>-p<n>`), so that teardown and cleanupStale remove it. */
  trackNamespace(ns: string): void {
    this.extraNamespaces.add(ns);
    this.saveState();
  }

  /** The namespace is gone (its owner deleted it). */
  untrackNamespace(ns: string): void {
    if (this.extraNamespaces.delete(ns) && !this.destroyed) this.saveState();
  }

  /** Resident memory of every process in the lab's namespaces (and tracked extra processes). */
  async memory(): Promise<MemoryReport> {
    const processes: MemoryReport['processes'] = [];
    for (const ns of [this.tor.ns, this.ext.ns, ...this.nodes.map((n) => n.ns)]) {
      const pids = (await run('ip', ['netns', 'pids', ns], { allowFail: true })).stdout.split(/\s+/).filter(Boolean).map(Number);
      for (const pid of pids) processes.push({ ns, pid, ...procMem(pid) });
    }
    for (const pid of this.extraPids) processes.push({ ns: '(root)', pid, ...procMem(pid) });
    const byComm: Record<string, number> = {};
    for (const p of processes) byComm[p.comm] = (byComm[p.comm] ?? 0) + p.rssKiB;
    return { processes, totalKiB: processes.reduce((s, p) => s + p.rssKiB, 0), byComm };
  }

  /** Leave the lab up after this process exits (demo --keep). */
  keep(): void {
    this.kept = true;
    this.saveState();
    this.unregister();
  }

  /** How to look around in this lab from a shell. */
  operatorHints(): string {
    // The CLI of the lab's gobgpd line, by full path: Debian's /usr/bin/gobgp (3.x) cannot talk to gobgpd 4.x.
    const gobgp = LAB_GOBGPD.gobgp;
    const lines = [
      `lab ${this.id} (${this.options.router}, gobgpd ${LAB_GOBGPD.name}), run dir ${this.runDir}`,
      `ToR:      ip netns exec ${this.tor.ns} ip route`,
      ...this.router.operatorCommands().map((c) => `          ${c}`),
      ...this.nodes.flatMap((n) => [
        `${n.name}:   ip netns exec ${n.ns} ${gobgp} neighbor          # or: ${gobgp} --target ${n.gobgpd.target} neighbor`,
        `          ip netns exec ${n.ns} ${gobgp} global rib`,
      ]),
      `external: ip netns exec ${this.ext.ns} curl -m 5 http://<service-ip>/`,
      `teardown: scripts/lab-net.sh down ${this.id}`,
    ];
    return lines.join('\n');
  }

  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    destroySync(this.state());
  }

  /** Kill every process, delete every namespace (links and bridge go with them) and the run dir. Idempotent. */
  async destroy(): Promise<void> {
    this.unregister();
    this.destroySync();
  }
}

function procMem(pid: number): { comm: string; rssKiB: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const comm = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? '?';
    const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    return { comm, rssKiB: rss };
  } catch {
    return { comm: '?', rssKiB: 0 };
  }
}

/** Programs each router kind needs besides ip, gobgpd and gobgp. */
const ROUTER_PROGRAMS: Record<RouterKind, string[]> = {
  bird: ['bird', 'birdc'],
  frr: ['/usr/lib/frr/zebra', '/usr/lib/frr/bgpd', 'vtysh'],
};

/** Fail early, with the fix in the message, when the lab cannot run here. */
export async function preflight(router: RouterKind): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the network lab needs root (ip netns)');
  const missing: string[] = [];
  for (const prog of ['ip', LAB_GOBGPD.gobgpd, LAB_GOBGPD.gobgp, 'dumb-init', ...ROUTER_PROGRAMS[router]]) {
    const found = prog.startsWith('/') ? existsSync(prog) : (await run('sh', ['-c', `command -v ${prog}`], { allowFail: true })).code === 0;
    if (!found) missing.push(prog);
  }
  if (missing.length > 0) {
    throw new Error(`the network lab needs ${missing.join(', ')}: apt-get install -y iproute2 gobgpd dumb-init ${router === 'bird' ? 'bird2' : 'frr'}`);
  }
}

/** Build a lab. On any bring-up failure everything made so far is removed before the error is rethrown. */
export async function createLab(options: LabOptions): Promise<Lab> {
  await preflight(options.router);
  const lab = new Lab(freshNames(options.nodes ?? 3), options);
  try {
    await lab.up();
  } catch (err) {
    await lab.destroy();
    throw err;
  }
  return lab;
}
