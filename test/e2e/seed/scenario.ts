/**
 * The seed article, end to end, as one reusable walk: the network lab (test/lab: BIRD 2 or FRR as the ToR, gobgpd
 * in every node namespace), a REAL Kubernetes control plane, the node simulator (the one stand-in: it plays the
 * kubelet, and runs the Pods in network namespaces of their own), a REAL kube-proxy per node (the walk's HTTP checks
 * go through it to Debian's nginx in the Pods: test/lab/data-path.ts) and one `svcbgp run` process per node, exactly
 * as the DaemonSet's sidecar runs. Used by the mocha suites
 * (test/e2e/seed-article.test.ts, and test/e2e/seed-article-dual-stack.test.ts with the dual-stack ArticleWalk, which
 * assert) and by the demo (scripts/lab.sh, which prints).
 *
 * Every step does what the article does, then waits (generous timeout, never a timing assertion) until the ToR's
 * kernel table is EXACTLY what the article shows; on a timeout the error carries the last table seen.
 *
 * Where things run: the agents run in the root namespace (the API server is on 127.0.0.1 there) and reach their
 * node's gobgpd over its unix socket in the lab's run dir (unix sockets are not namespaced) — the same shape as the
 * DaemonSet, where the two containers share the socket in an emptyDir. Each agent's /metrics is on its own
 * 127.0.0.1 port. Configuration comes from one --config file shared by the three agents (what the DaemonSet mounts
 * from a ConfigMap), holding the article's projectcalico.org/v3 documents; the walk rewrites it (atomically) where
 * the article runs `calicoctl`. svcbgp.io custom resources are not watched (--no-custom-resources) so that the
 * file is the only source of configuration even on a control plane shared with other suites.
 */
import { agentNodeFlags } from '../../helpers/agent-node-flags.js';
import { readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { curlFrom, EXT_V4, EXT_V6, formatRouteTable, sleep, type DataPath, type HttpResult, type Lab, type LabNode, type RouteTable } from '../../lab/index.js';
import { isAlive, signal } from '../../lab/exec.js';
import type { CommandResult } from '../../helpers/kube/control-plane.js';
import { waitForEndpointSlices } from '../../helpers/kube/wait.js';
import { KUBECTL_PATCH_LOCAL, IPV4_WALK, SEED_NGINX_DEPLOYMENT, SEED_NODES, type ArticleWalk } from './article.js';

/** What the walk needs from the control plane: ControlPlane (test/helpers/kube) has it; the demo builds one. */
export interface KubeAccess {
  kubeconfig: string;
  kubectlPath: string;
  kubectl(args: string[], stdin?: string): Promise<CommandResult>;
  kubectlOk(args: string[], stdin?: string): Promise<string>;
  kubeConfig(): KubeConfig;
}

export interface ScenarioOptions {
  lab: Lab;
  kube: KubeAccess;
  /** Where nginx lives ("default" in the demo, as in the article; a namespace of its own in the suite). */
  namespace: string;
  /** Timeout of every wait for the ToR (default 90 s). */
  timeoutMs?: number;
  /** Progress lines. */
  say?: (line: string) => void;
  /** Agent log level (default info). */
  logLevel?: string;
  /** More `svcbgp run` flags (e.g. `--drain-time 3s`). */
  agentArgs?: readonly string[];
  /** Which walk: the article as written (IPv4, default) or on a dual-stack cluster (article.ts DUAL_STACK_WALK). */
  walk?: ArticleWalk;
  /**
   * The lab's real data path (test/lab/data-path.ts: kube-proxy on every node, nginx Pods in namespaces of their own),
   * which the walk's HTTP checks (serveEverywhere, requestFromExternal) go through; only they need it.
   */
  dataPath?: DataPath;
}

/** What Debian's nginx answers (the real data path). */
export const NGINX_WELCOME = 'Welcome to nginx!';

export interface AgentHandle {
  node: LabNode;
  pid: number;
  /** 127.0.0.1:<port>: /healthz, /readyz, /metrics. */
  httpAddress: string;
  logFile: string;
}

/** How long a change took to show on the ToR (measured, reported, never asserted). */
export interface Converged {
  table: RouteTable;
  ms: number;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** dist/src/cli/main.js, from this compiled file (dist/test/e2e/seed/scenario.js). */
export function agentEntry(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/cli/main.js');
}

/** A free TCP port on 127.0.0.1 (the agents' health/metrics listeners). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => res(port));
    });
  });
}

/** An address or prefix is IPv6 (the ToR's next hop for it is then a node's IPv6 address). */
export const isV6 = (addrOrPrefix: string): boolean => addrOrPrefix.includes(':');

/** "10.49.7.1" -> "10.49.7.1/32", "fd00:49::5" -> "fd00:49::5/128": a Service IP's host route. */
export const hostPrefix = (addr: string): string => `${addr}/${isV6(addr) ? 128 : 32}`;

/** Order-insensitive comparison of two route tables. */
export function sameTable(a: RouteTable, b: RouteTable): boolean {
  const norm = (t: RouteTable): string =>
    JSON.stringify(
      Object.keys(t)
        .sort()
        .map((k) => [k, [...t[k]!].sort()]),
    );
  return norm(a) === norm(b);
}

/**
 * The simulated Nodes get both InternalIPs (192.168.1.1x and fd00:1::1x), as a dual-stack kubelet reports them.
 * The simulator registers one InternalIP; this merge patch replaces the address list (lists are replaced whole).
 */
export async function addIpv6InternalIPs(kc: KubeConfig): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const n of SEED_NODES) {
    await core.patchNodeStatus(
      {
        name: n.name,
        body: {
          status: {
            addresses: [
              { type: 'InternalIP', address: n.ipv4 },
              { type: 'InternalIP', address: n.ipv6 },
              { type: 'Hostname', address: n.name },
            ],
          },
        },
      },
      mergePatch,
    );
  }
}

export class SeedScenario {
  readonly lab: Lab;
  readonly kube: KubeAccess;
  readonly ns: string;
  readonly configFile: string;
  readonly agents: AgentHandle[] = [];
  readonly timeoutMs: number;
  readonly walk: ArticleWalk;
  private readonly core: CoreV1Api;
  private readonly say: (line: string) => void;

  constructor(private readonly opts: ScenarioOptions) {
    this.lab = opts.lab;
    this.kube = opts.kube;
    this.ns = opts.namespace;
    this.timeoutMs = opts.timeoutMs ?? 90_000;
    this.walk = opts.walk ?? IPV4_WALK;
    this.configFile = join(this.lab.runDir, 'svcbgp-config.yaml');
    this.core = opts.kube.kubeConfig().makeApiClient(CoreV1Api);
    this.say = opts.say ?? (() => undefined);
  }

  kubectl(args: string[], stdin?: string): Promise<string> {
    return this.kube.kubectlOk(['-n', this.ns, ...args], stdin);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Configuration file and agents

  /** Replace the agents' --config file atomically (write + rename: an agent never reads half a file). */
  writeConfig(docs: readonly string[]): void {
    const tmp = `${this.configFile}.tmp`;
    writeFileSync(tmp, docs.join('---\n'));
    renameSync(tmp, this.configFile);
  }

  /** Watch svcbgp.io custom resources too (off by default: the file is the only configuration source). */
  customResources = false;

  private spawnAgent(node: LabNode, httpAddress: string): AgentHandle {
    const argv = [
      process.execPath,
      // The Node.js flags of the DaemonSet's agent command.
      ...agentNodeFlags(),
      agentEntry(),
      'run',
      '--node-name',
      node.name,
      '--gobgp-address',
      node.gobgpd.target,
      '--config',
      this.configFile,
      '--kubeconfig',
      this.kube.kubeconfig,
      '--http-address',
      httpAddress,
      '--config-poll-interval',
      '500ms',
      '--log-level',
      this.opts.logLevel ?? 'info',
      ...(this.customResources ? [] : ['--no-custom-resources']),
      ...(this.opts.agentArgs ?? []),
    ];
    const name = `agent-${node.name}`;
    const pid = this.lab.spawn(name, argv);
    return { node, pid, httpAddress, logFile: join(this.lab.runDir, `${name}.log`) };
  }

  /** One `svcbgp run` process per node, in the root namespace, tracked by the lab (killed at teardown). */
  async startAgents(): Promise<AgentHandle[]> {
    for (const node of this.lab.nodes) this.agents.push(this.spawnAgent(node, `127.0.0.1:${await freePort()}`));
    return this.agents;
  }

  /**
   * Restart the agents one at a time, as a DaemonSet rolling update does: SIGTERM (the agent exits without
   * withdrawing anything), wait for the exit, start the new one on the same HTTP address, wait for /readyz.
   */
  async rollAgents(): Promise<void> {
    for (let i = 0; i < this.agents.length; i++) {
      const old = this.agents[i]!;
      process.kill(old.pid, 'SIGTERM');
      await this.until(`${old.node.name} agent (pid ${old.pid}) exited`, async () => {
        try {
          process.kill(old.pid, 0);
          return undefined;
        } catch {
          return true;
        }
      });
      const fresh = this.spawnAgent(old.node, old.httpAddress);
      this.agents[i] = fresh;
      await this.until(`${old.node.name} agent ready again`, async () => ((await this.agentHttp(fresh, '/readyz')).status === 200 ? true : undefined));
    }
  }

  /**
   * A Pod restart as the kubelet does it on Pod deletion (DaemonSet rolling update, eviction): SIGTERM to every
   * container at the same moment — gobgpd's init (dumb-init --rewrite 15:9, as in deploy/40-daemonset.yaml: gobgpd
   * gets a SIGKILL, sends no Cease) and the agent —, SIGKILL after the grace period to whatever is still alive, then
   * both containers start again with an emptied emptyDir, and the new agent is waited for until /readyz.
   *
   * How this differs from a real kubelet: no container runtime and no PID namespaces (we signal the processes
   * themselves; the kubelet's SIGKILL would take every process of a container); the "new Pod" is the same node's
   * processes started again at once (no new Pod object or name, no image pull, no probes delaying readiness); the
   * emptyDir is the node's run dir (node.dir: gobgpd's socket) with only our log files kept. The agents' HTTP
   * address stays the same, as the host-network Pod's would.
   */
  async restartPod(node: LabNode, graceMs = 5000): Promise<{ downMs: number }> {
    const i = this.agents.findIndex((a) => a.node === node);
    if (i < 0) throw new Error(`no agent for ${node.name}`);
    const old = this.agents[i]!;
    const t0 = Date.now();
    const gobgpd = node.gobgpd.terminate(graceMs); // SIGTERM to the init now, SIGKILL after the grace period
    signal(old.pid, 'SIGTERM'); // the same moment
    const agentGone = this.waitForExit(old.pid, graceMs).then((exited) => {
      if (!exited) signal(old.pid, 'SIGKILL');
    });
    await Promise.all([gobgpd, agentGone]);
    const downMs = Date.now() - t0;
    // The emptyDir starts empty in the new Pod (logs are ours, not the Pod's: kept for the test report).
    for (const f of readdirSync(node.dir)) if (!f.endsWith('.log')) rmSync(join(node.dir, f), { recursive: true, force: true });
    await node.gobgpd.start();
    const fresh = this.spawnAgent(node, old.httpAddress);
    this.agents[i] = fresh;
    await this.until(`${node.name} agent ready after the Pod restart`, async () =>
      (await this.agentHttp(fresh, '/readyz')).status === 200 ? true : undefined,
    );
    return { downMs };
  }

  /**
   * The agent container killed (OOM kill, a crash: SIGKILL, no clean-up) and restarted by the kubelet in the same Pod:
   * gobgpd and the emptyDir are untouched. Resolves when the new agent is ready.
   */
  async killAgent(node: LabNode): Promise<void> {
    const i = this.agents.findIndex((a) => a.node === node);
    if (i < 0) throw new Error(`no agent for ${node.name}`);
    const old = this.agents[i]!;
    signal(old.pid, 'SIGKILL');
    if (!(await this.waitForExit(old.pid, 5000))) throw new Error(`${node.name} agent (pid ${old.pid}) survived SIGKILL`);
    const fresh = this.spawnAgent(node, old.httpAddress);
    this.agents[i] = fresh;
    await this.until(`${node.name} agent ready after its restart`, async () => ((await this.agentHttp(fresh, '/readyz')).status === 200 ? true : undefined));
  }

  /** True when `pid` exited within `ms`. */
  private async waitForExit(pid: number, ms: number): Promise<boolean> {
    for (const t0 = Date.now(); Date.now() - t0 < ms; ) {
      if (!isAlive(pid)) return true;
      await sleep(50);
    }
    return !isAlive(pid);
  }

  /** GET one of an agent's HTTP paths; never throws (status 0 = no answer). */
  async agentHttp(agent: AgentHandle, path: string): Promise<{ status: number; body: string }> {
    try {
      const r = await fetch(`http://${agent.httpAddress}${path}`, { signal: AbortSignal.timeout(3000) });
      return { status: r.status, body: await r.text() };
    } catch {
      return { status: 0, body: '' };
    }
  }

  async waitForAgentsReady(): Promise<void> {
    await this.until(
      'every agent ready (/readyz 200)',
      async () => {
        const r = await Promise.all(this.agents.map((a) => this.agentHttp(a, '/readyz')));
        return r.every((x) => x.status === 200) ? true : undefined;
      },
      () => this.agents.map((a) => `${a.node.name}: see ${a.logFile}`).join('; '),
    );
  }

  /** SIGTERM every agent (they exit without withdrawing anything). */
  stopAgents(): void {
    for (const a of this.agents) {
      try {
        process.kill(a.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Cluster state

  /** Nginx Pods that are Ready and not being deleted, with their nodes. */
  async readyNginxPods(): Promise<V1Pod[]> {
    const list = await this.core.listNamespacedPod({ namespace: this.ns, labelSelector: 'app=nginx' });
    return list.items.filter(
      (p) => !p.metadata?.deletionTimestamp && p.spec?.nodeName && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
  }

  /** The nodes that run a ready nginx Pod, asked from the API (where the real scheduler put them). */
  async nginxNodes(): Promise<string[]> {
    return [...new Set((await this.readyNginxPods()).map((p) => p.spec!.nodeName!))].sort();
  }

  /**
   * The nodes' addresses as the ToR's next hops, sorted: IPv4 by default; IPv6 when `of` is an IPv6 address or prefix
   * (the route's own family: MP-BGP carries the node's IPv6 address as the next hop of IPv6 routes).
   */
  nodeIPs(nodeNames: readonly string[], of = '0.0.0.0'): string[] {
    return nodeNames.map((n) => (isV6(of) ? this.lab.node(n).ipv6 : this.lab.node(n).ipv4)).sort();
  }

  allNodeIPs(of = '0.0.0.0'): string[] {
    return this.nodeIPs(
      this.lab.nodes.map((n) => n.name),
      of,
    );
  }

  /** Each range via every node (in the range's family): what the ToR holds for the configured CIDRs. */
  aggregates(ranges: readonly string[]): RouteTable {
    return Object.fromEntries(ranges.map((r) => [r, this.allNodeIPs(r)]));
  }

  /** Each address's /32 or /128 via the given nodes (in the address's family): a Local-policy Service's host routes. */
  hostRoutes(addrs: readonly string[], nodeNames: readonly string[]): RouteTable {
    return Object.fromEntries(addrs.map((a) => [hostPrefix(a), this.nodeIPs(nodeNames, a)]));
  }

  /** The nginx Service's first cluster IP (the cluster's primary family: IPv4). */
  async clusterIP(): Promise<string> {
    const svc = await this.core.readNamespacedService({ name: 'nginx', namespace: this.ns });
    return svc.spec!.clusterIP!;
  }

  /** Every cluster IP of the nginx Service (spec.clusterIPs: one per family, the primary first). */
  async clusterIPs(): Promise<string[]> {
    const svc = await this.core.readNamespacedService({ name: 'nginx', namespace: this.ns });
    return svc.spec!.clusterIPs ?? [svc.spec!.clusterIP!];
  }

  // ---------------------------------------------------------------------------------------------------------
  // The ToR

  /** Wait until the ToR's BGP routes are exactly `expected`. */
  async waitForTable(expected: RouteTable, what: string): Promise<Converged> {
    const t0 = Date.now();
    const table = await this.lab.waitForTorRoutes((t) => sameTable(t, expected), this.timeoutMs, `${what}:\n${formatRouteTable(expected)}\n`);
    return { table, ms: Date.now() - t0 };
  }

  /**
   * Wait until `prefix` on the ToR has as next hops the nodes of the ready nginx Pods (absent when there is none),
   * while `podsOk` holds for those Pods: the routes follow the Pods, both read fresh on every poll.
   */
  async waitForFollow(prefix: string, podsOk: (pods: V1Pod[]) => boolean, what: string): Promise<Converged & { nodes: string[] }> {
    const t0 = Date.now();
    let last = '';
    return this.until(
      what,
      async () => {
        const pods = await this.readyNginxPods();
        const nodes = [...new Set(pods.map((p) => p.spec!.nodeName!))].sort();
        const table = await this.lab.torRoutes();
        const want = this.nodeIPs(nodes, prefix).join(',');
        const got = (table[prefix] ?? []).slice().sort().join(',');
        last = `ready pods on [${nodes.join(', ')}]; ToR ${prefix} via [${got}]`;
        return podsOk(pods) && want === got ? { table, ms: Date.now() - t0, nodes } : undefined;
      },
      () => last,
    );
  }

  /**
   * After an external IP outside every configured range was assigned: wait until every node's agent has refused it
   * with an AddressNotAdvertised Event on the nginx Service (one per node), sampling the ToR meanwhile and for 2 s
   * after. `seen`: its host route showed up on the ToR at some sample (it must not); `ms`: until the last Event.
   */
  async waitForRefusal(address: string): Promise<{ events: CoreV1Event[]; seen: boolean; ms: number }> {
    const prefix = hostPrefix(address);
    const t0 = Date.now();
    let seen = false;
    let events: CoreV1Event[] = [];
    await this.until(
      'an AddressNotAdvertised Event from every node',
      async () => {
        if (prefix in (await this.lab.torRoutes())) seen = true;
        const list = await this.core.listNamespacedEvent({ namespace: this.ns, fieldSelector: 'involvedObject.name=nginx,reason=AddressNotAdvertised' });
        events = list.items.filter((e) => e.message?.includes(address));
        const hosts = new Set(events.map((e) => e.source?.host));
        return this.lab.nodes.every((n) => hosts.has(n.name)) ? true : undefined;
      },
      () => JSON.stringify(events.map((e) => e.message)),
    );
    const ms = Date.now() - t0;
    for (let i = 0; i < 8; i++) {
      if (prefix in (await this.lab.torRoutes())) seen = true;
      await sleep(250);
    }
    return { events, seen, ms };
  }

  /** `ip route` in the ToR's namespace, as the article prints it. */
  torIpRoute(): Promise<string> {
    return this.lab.torIpRoute('-4');
  }

  async until<T>(what: string, probe: () => Promise<T | undefined>, lastSeen: () => string = () => ''): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const v = await probe().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${this.timeoutMs} ms waiting for ${what}; last seen: ${lastSeen()}`);
      await sleep(250);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Traffic: the real data path (kube-proxy on every node, nginx Pods in namespaces of their own)

  private dataPath(): DataPath {
    if (!this.opts.dataPath) throw new Error("the walk's HTTP checks need the lab's data path (ScenarioOptions.dataPath: test/lab/data-path.ts)");
    return this.opts.dataPath;
  }

  /**
   * `addr` is served on EVERY node, as kube-proxy serves a Service address on every node: only the ToR's routing
   * decides which node gets a request. Waits until every node's kube-proxy has programmed it.
   */
  async serveEverywhere(addr: string): Promise<void> {
    await this.dataPath().waitForAddress(addr, this.timeoutMs);
  }

  /**
   * One `curl` from the external host to `addr`, through the ToR: nginx's page in `body`, and in `node` the node the
   * ToR sent it to, i.e. the one whose kube-proxy NATed the connection (its conntrack table holds the client's source
   * port). A request that got no answer says "timed out" in `error`.
   */
  async requestFromExternal(addr: string, timeoutMs = 5000): Promise<HttpResult> {
    const dp = this.dataPath();
    const url = `http://${isV6(addr) ? `[${addr}]` : addr}/`;
    const r = await curlFrom(this.lab.ext.ns, url, Math.max(1, Math.round(timeoutMs / 1000)));
    const nodes = r.localPort > 0 ? await dp.receivedBy(isV6(addr) ? EXT_V6 : EXT_V4, r.localPort, addr) : [];
    const res: HttpResult = { ok: r.ok, status: r.status, body: r.body, ms: r.ms };
    if (nodes.length === 1) res.node = nodes[0]!;
    if (!r.ok) res.error = r.exitCode === 28 ? `timed out after ${timeoutMs} ms (${r.error})` : `curl exit ${r.exitCode}: ${r.error}`;
    return res;
  }

  // ---------------------------------------------------------------------------------------------------------
  // The article's steps

  /** Before step 1: gobgpd empty in every node, so no session on the ToR. */
  async step0(): Promise<void> {
    this.say('gobgpd runs empty in every node; no agent yet');
  }

  /** Step 1: the BGPPeer; the agents start with it and configure their gobgpd; every session Established. */
  async step1(): Promise<{ sessionsMs: number }> {
    this.writeConfig(this.walk.config[1]);
    const t0 = Date.now();
    await this.startAgents();
    await this.lab.waitForSessions(undefined, this.timeoutMs);
    await this.until('gobgp neighbor 192.168.1.1 established on every node', async () => {
      const s = await Promise.all(this.lab.nodes.map((n) => n.gobgpd.neighborState('192.168.1.1')));
      return s.every((x) => x === 'established') ? true : undefined;
    });
    const sessionsMs = Date.now() - t0;
    await this.waitForAgentsReady();
    return { sessionsMs };
  }

  /** Step 2: serviceClusterIPs 10.49.0.0/16 (and the IPv6 range) -> the aggregate via all three nodes. */
  async step2(): Promise<Converged> {
    this.writeConfig(this.walk.config[2]);
    return this.waitForTable(this.aggregates(this.walk.clusterIPRanges), `step 2: ${this.walk.clusterIPRanges.join(' and ')} via every node`);
  }

  /** Step 3: the nginx Deployment (2 replicas) and `kubectl expose deployment nginx --port 80`. */
  async step3(): Promise<{ clusterIP: string; clusterIPs: string[]; services: string }> {
    await this.kubectl(['apply', '-f', '-'], SEED_NGINX_DEPLOYMENT);
    await this.kubectl([...this.walk.expose]);
    return this.nginxServing();
  }

  /**
   * After step 3's commands: the real controllers made 2 Pods, the simulator runs them, the EndpointSlices show both
   * (in every family of the walk: a dual-stack Service has an IPv4 and an IPv6 slice, 2 ready endpoints each).
   */
  async nginxServing(): Promise<{ clusterIP: string; clusterIPs: string[]; services: string }> {
    const types = this.walk.addressTypes;
    await waitForEndpointSlices(this.kube.kubeConfig(), this.ns, 'nginx', {
      where: (eps) => types.every((t) => eps.filter((e) => e.addressType === t && e.ready).length === 2),
      timeoutMs: this.timeoutMs,
    });
    return { clusterIP: await this.clusterIP(), clusterIPs: await this.clusterIPs(), services: await this.kubectl(['get', 'services']) };
  }

  /** Step 4: NodePort + externalTrafficPolicy Local -> each cluster IP's /32 (/128) via the two nginx nodes. */
  async step4(): Promise<Converged & { clusterIP: string; clusterIPs: string[]; nginxNodes: string[] }> {
    await this.kubectl(KUBECTL_PATCH_LOCAL);
    const clusterIPs = await this.clusterIPs();
    const nginxNodes = await this.nginxNodes();
    const c = await this.waitForTable(
      { ...this.aggregates(this.walk.clusterIPRanges), ...this.hostRoutes(clusterIPs, nginxNodes) },
      `step 4: ${clusterIPs.map(hostPrefix).join(' and ')} via the nginx nodes ${nginxNodes.join(', ')}`,
    );
    return { ...c, clusterIP: clusterIPs[0]!, clusterIPs, nginxNodes };
  }

  /** Step 5: the BGPConfiguration replaced: serviceExternalIPs 192.168.3.0/24 (and the IPv6 range), no cluster IPs. */
  async step5(): Promise<Converged> {
    this.writeConfig(this.walk.config[5]);
    return this.waitForTable(this.aggregates(this.walk.externalIPRanges), `step 5: only ${this.walk.externalIPRanges.join(' and ')}, via every node`);
  }

  /** Step 6: externalIPs ["192.168.3.180"] (and the IPv6 one) -> its /32 (/128) via the nginx nodes. */
  async step6(): Promise<Converged & { nginxNodes: string[]; services: string }> {
    await this.kubectl([...this.walk.patchExternalIP]);
    const nginxNodes = await this.nginxNodes();
    const c = await this.waitForTable(
      { ...this.aggregates(this.walk.externalIPRanges), ...this.hostRoutes(this.walk.externalIPs, nginxNodes) },
      `step 6: ${this.walk.externalIPs.map(hostPrefix).join(' and ')} via the nginx nodes ${nginxNodes.join(', ')}`,
    );
    return { ...c, nginxNodes, services: await this.kubectl(['get', 'services']) };
  }

  /** Everything made in the cluster for this walk goes (the lab and its processes are the caller's). */
  async cleanupCluster(): Promise<void> {
    if (this.ns === 'default') {
      await this.kube.kubectl(['-n', this.ns, 'delete', 'service,deployment', 'nginx', '--ignore-not-found', '--wait=true']);
    } else {
      await this.kube.kubectl(['delete', 'namespace', this.ns, '--ignore-not-found', '--wait=true', '--timeout=90s']);
    }
  }
}
