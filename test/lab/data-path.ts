/**
 * The lab's real data path: ToR -> node -> kube-proxy (NAT) -> Pod network namespace -> Debian's nginx.
 *
 *   ext ──► ToR (BIRD/FRR: the /32 or the range via the nodes svcbgp advertised) ──► node-N
 *     node-N: kube-proxy v1.37.2 (built by test/k8s/build.sh), nftables mode, DNATs the Service address to an
 *             endpoint; a local Pod is reached through its veth, another node's Pod through that node (the static
 *             routes below); traffic from outside the cluster CIDR to a cluster IP is masqueraded, as kube-proxy does
 *     Pod:    its own network namespace, eth0 with the pod IP, nginx on :80 (test/lab/pods.ts)
 *
 * startDataPath() adds to a lab (after the node simulator has its Nodes and their podCIDRs):
 *   - forwarding on in each node namespace (a CNI plugin turns it on);
 *   - on every node, a route to every other node's podCIDRs via that node's address: the routes Calico's
 *     node-to-node BGP mesh installs (BIRD on each node learns each block from the others); static here, since no
 *     Calico runs and svcbgp only speaks to the ToR;
 *   - the API relay (test/lab/api-relay.ts): the API server is on 127.0.0.1 in the root namespace, kube-proxy in a
 *     node namespace reaches it at 127.0.0.1:<same port> through a unix socket in the run dir;
 *   - one kube-proxy per node namespace, with the control plane's kube-proxy.kubeconfig (user system:kube-proxy,
 *     bound to ClusterRole system:node-proxier by the API server's bootstrap RBAC: the real permissions).
 *
 * Why nftables mode: it is where kube-proxy is going (GA since v1.33), it needs only the `nft` binary and programs
 * one table per family (`ip kube-proxy`, `ip6 kube-proxy`) that `nft list table ip kube-proxy` shows whole, and the
 * kernel's nftables are per network namespace, so three kube-proxies on one machine cannot see each other's rules.
 * iptables mode works too (`mode: 'iptables'`; Debian's iptables is iptables-nft, the same kernel tables).
 *
 * How each kube-proxy differs from one on a real node (also in test/lab/README.md):
 *   - `--conntrack-max-per-core=0`: leave nf_conntrack_max alone. It is one value for the whole machine (read-only
 *     outside the initial namespace) and kube-proxy would also resize the conntrack hash table, a module parameter;
 *   - `--oom-score-adj=0` instead of -999: a test process must not be the last one the OOM killer picks on a
 *     machine it shares;
 *   - the API server is reached through the relay at 127.0.0.1, not at a routable address;
 *   - no kubelet on the node: kube-proxy's own Node object is the simulator's (name, InternalIPs, podCIDRs are real
 *     API objects, written by the simulator and the node-IPAM controller);
 *   - no Pod of its own (no DaemonSet, no ServiceAccount token): a process in the node's namespace, run by root.
 * Everything else is the default of a v1.37 kube-proxy: the conntrack TCP timeouts (per network namespace, so it
 * sets them in the node's), the health server on 0.0.0.0:10256 and metrics on 127.0.0.1:10249 inside the node's
 * namespace, NodePorts on the node's primary addresses.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, nsRun, run, waitFor } from './exec.js';
import { httpGetFrom } from './http.js';
import type { Lab, LabNode } from './lab.js';
import { NGINX } from './pods.js';
import { sysctl } from './topology.js';

/** The compiled relay script next to this module. */
export const API_RELAY = fileURLToPath(new URL('./api-relay.js', import.meta.url));

/** The control plane's cluster CIDRs (test/k8s/control-plane.sh: --cluster-cidr of kube-controller-manager). */
export const CLUSTER_CIDRS = ['10.48.0.0/16', 'fd00:48::/56'] as const;

export type ProxyMode = 'nftables' | 'iptables';

export interface DataPathOptions {
  /** kube-proxy's kubeconfig: the control plane's `<run dir>/kube-proxy.kubeconfig` (user system:kube-proxy). */
  kubeconfig: string;
  /** The directory with the kube-proxy binary (test/k8s/build.sh's bin dir). */
  binDir: string;
  /** A Node's podCIDRs (the simulator's podCIDRsOf: what the node-IPAM controller assigned). */
  podCIDRs: (node: string) => readonly string[];
  /** Default nftables (see the top of this file). */
  mode?: ProxyMode;
  /** --cluster-cidr; default the control plane's (CLUSTER_CIDRS). */
  clusterCIDRs?: readonly string[];
}

/** The outcome of one `curl` (never throws for a network error). */
export interface CurlResult {
  ok: boolean;
  /** HTTP status (0 without an answer). */
  status: number;
  body: string;
  /** curl's exit code and message when it got no answer (28: timed out, 7: could not connect). */
  exitCode: number;
  error: string;
  /** The client's TCP source port (0 if curl opened no connection): finds the request in a node's conntrack table. */
  localPort: number;
  ms: number;
}

/** The server a kubeconfig names: https://127.0.0.1:PORT. */
export function kubeconfigServer(kubeconfig: string): { host: string; port: number } {
  const m = /server:\s*https:\/\/([0-9.]+):(\d+)/.exec(readFileSync(kubeconfig, 'utf8'));
  if (!m) throw new Error(`${kubeconfig}: no https://<IPv4>:<port> server`);
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * `curl` from inside a namespace (the external host, usually): a new connection, at most timeoutS seconds.
 * -w appends the client's port and the status on a line of their own.
 */
export async function curlFrom(ns: string, url: string, timeoutS = 3): Promise<CurlResult> {
  const t0 = Date.now();
  const r = await nsRun(ns, 'curl', ['-sS', '-m', String(timeoutS), '-w', '\n%{local_port} %{http_code}', url], {
    allowFail: true,
    timeoutMs: (timeoutS + 10) * 1000,
  });
  const nl = r.stdout.lastIndexOf('\n');
  const [port, code] = r.stdout.slice(nl + 1).split(' ');
  const status = Number(code) || 0;
  return {
    ok: r.code === 0 && status >= 200 && status < 400,
    status,
    body: nl >= 0 ? r.stdout.slice(0, nl) : '',
    exitCode: r.code,
    error: r.stderr.trim(),
    localPort: Number(port) || 0,
    ms: Date.now() - t0,
  };
}

export class DataPath {
  readonly mode: ProxyMode;
  /** node name -> kube-proxy pid */
  readonly kubeProxies = new Map<string, number>();
  private readonly pins = new Map<string, number>();
  private nextTable = 1001;

  constructor(
    private readonly lab: Lab,
    private readonly opts: DataPathOptions,
  ) {
    this.mode = opts.mode ?? 'nftables';
  }

  kubeProxyLog(node: LabNode): string {
    return join(this.lab.runDir, `kube-proxy-${node.name}.log`);
  }

  /** Forwarding, the routes between the nodes' podCIDRs, the API relay, a kube-proxy per node; waits until each is healthy. */
  async start(): Promise<void> {
    const { lab } = this;
    await dataPathPreflight(this.opts.binDir, this.mode);
    for (const node of lab.nodes) {
      await sysctl(node.ns, ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
      for (const other of lab.nodes) {
        if (other === node) continue;
        for (const cidr of this.opts.podCIDRs(other.name)) {
          await run('ip', ['-n', node.ns, 'route', 'replace', cidr, 'via', cidr.includes(':') ? other.ipv6 : other.ipv4]);
        }
      }
    }
    const api = kubeconfigServer(this.opts.kubeconfig);
    const sock = join(lab.runDir, 'kube-api.sock');
    lab.spawn('api-relay', [process.execPath, API_RELAY, 'unix-to-tcp', sock, api.host, String(api.port)]);
    for (const node of lab.nodes) {
      lab.spawn(`api-relay-${node.name}`, [process.execPath, API_RELAY, 'tcp-to-unix', '127.0.0.1', String(api.port), sock], { ns: node.ns });
    }
    // kube-proxy retries a refused connection, but with a back-off: start it once both ends of the relay listen
    await Promise.all(
      lab.nodes.map((node) =>
        waitFor(
          `the API relay in ${node.name}`,
          async () => ((await nsRun(node.ns, 'bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${api.port}`], { allowFail: true })).code === 0 ? true : undefined),
          10_000,
          50,
        ),
      ),
    );
    for (const node of lab.nodes) this.kubeProxies.set(node.name, lab.spawn(`kube-proxy-${node.name}`, this.kubeProxyArgv(node), { ns: node.ns }));
    await Promise.all(lab.nodes.map((n) => this.waitHealthy(n)));
  }

  kubeProxyArgv(node: LabNode): string[] {
    const cidrs = this.opts.clusterCIDRs ?? CLUSTER_CIDRS;
    return [
      join(this.opts.binDir, 'kube-proxy'),
      `--kubeconfig=${this.opts.kubeconfig}`,
      `--hostname-override=${node.name}`,
      `--proxy-mode=${this.mode}`,
      `--cluster-cidr=${cidrs.join(',')}`,
      '--healthz-bind-address=0.0.0.0:10256',
      '--metrics-bind-address=127.0.0.1:10249',
      // the differences from a real node (see the top of this file)
      '--conntrack-max-per-core=0',
      '--oom-score-adj=0',
      '--v=2',
    ];
  }

  /** kube-proxy's /healthz (inside the node's namespace) answers 200: it has synced its rules with the API. */
  async waitHealthy(node: LabNode, timeoutMs = 60_000): Promise<void> {
    const pid = this.kubeProxies.get(node.name)!;
    const log = this.kubeProxyLog(node);
    await waitFor(
      `kube-proxy on ${node.name} healthy`,
      async () => {
        if (!isAlive(pid)) throw new Error(`kube-proxy on ${node.name} exited: ${tail(log)}`);
        const r = await httpGetFrom(node.ns, 'http://127.0.0.1:10256/healthz', 1000);
        return r.ok && r.status === 200 ? true : undefined;
      },
      timeoutMs,
      250,
      () => tail(log),
    );
  }

  /** kube-proxy's rules of one family on a node as text (`nft list table ip|ip6 kube-proxy`, or `iptables-save -t nat`). */
  async rules(node: LabNode, family: 'ipv4' | 'ipv6' = 'ipv4'): Promise<string> {
    const r =
      this.mode === 'nftables'
        ? await nsRun(node.ns, 'nft', ['list', 'table', family === 'ipv4' ? 'ip' : 'ip6', 'kube-proxy'], { allowFail: true })
        : await nsRun(node.ns, family === 'ipv4' ? 'iptables-save' : 'ip6tables-save', ['-t', 'nat'], { allowFail: true });
    return r.stdout;
  }

  /**
   * Wait until every node's kube-proxy has `addr` (a cluster or external IP) in its rules: from then on a request to
   * it is NATed to an endpoint (or dropped, for a Local policy without a local endpoint) on whichever node it reaches.
   */
  async waitForAddress(addr: string, timeoutMs = 30_000): Promise<void> {
    let missing: string[] = [];
    await waitFor(
      `${addr} in the rules of every kube-proxy`,
      async () => {
        missing = [];
        for (const node of this.lab.nodes) if (!(await this.rules(node, addr.includes(':') ? 'ipv6' : 'ipv4')).includes(addr)) missing.push(node.name);
        return missing.length === 0 ? true : undefined;
      },
      timeoutMs,
      250,
      () => `missing on ${missing.join(', ')}`,
    );
  }

  /**
   * The nodes that NATed one request: those whose conntrack table has the connection client:sport -> addr. The
   * ToR's choice of node, read where it landed (each connection has a source port of its own).
   */
  async receivedBy(client: string, sport: number, addr: string): Promise<string[]> {
    const found: string[] = [];
    for (const node of this.lab.nodes) {
      const family = addr.includes(':') ? 'ipv6' : 'ipv4';
      const ct = await nsRun(node.ns, 'conntrack', ['-L', '-f', family, '-p', 'tcp', '--orig-src', client, '--orig-dst', addr, '--sport', String(sport)], {
        allowFail: true,
      });
      if (ct.stdout.includes(`sport=${sport} `)) found.push(node.name);
    }
    return found;
  }

  /**
   * Send `addr` to `node` at the ToR whatever BGP says: a policy-routing rule (consulted before the main table the
   * routing daemon programs) pointing at a table with one route, `addr via <node>`. What a static route toward that
   * node on the ToR would do, without touching the routes BIRD or FRR own. unpinAtTor() removes it.
   */
  async pinAtTor(addr: string, node: LabNode): Promise<void> {
    await this.unpinAtTor(addr);
    const table = this.nextTable++;
    const tor = this.lab.tor.ns;
    await run('ip', ['-n', tor, 'route', 'replace', `${addr}/32`, 'via', node.ipv4, 'table', String(table)]);
    await run('ip', ['-n', tor, 'rule', 'add', 'to', `${addr}/32`, 'lookup', String(table), 'pref', String(table)]);
    this.pins.set(addr, table);
  }

  async unpinAtTor(addr: string): Promise<void> {
    const table = this.pins.get(addr);
    if (table === undefined) return;
    const tor = this.lab.tor.ns;
    await run('ip', ['-n', tor, 'rule', 'del', 'pref', String(table)], { allowFail: true });
    await run('ip', ['-n', tor, 'route', 'flush', 'table', String(table)], { allowFail: true });
    this.pins.delete(addr);
  }
}

/** Build the data path on a lab whose Nodes the simulator registered (their podCIDRs assigned). */
export async function startDataPath(lab: Lab, opts: DataPathOptions): Promise<DataPath> {
  const dp = new DataPath(lab, opts);
  await dp.start();
  return dp;
}

/** Fail early, with the fix in the message, when a program of the data path is missing. */
export async function dataPathPreflight(binDir: string, mode: ProxyMode = 'nftables'): Promise<void> {
  const missing: string[] = [];
  for (const prog of [NGINX, 'curl', 'conntrack', mode === 'nftables' ? 'nft' : 'iptables-restore']) {
    const found = prog.startsWith('/') ? existsSync(prog) : (await run('sh', ['-c', `command -v ${prog}`], { allowFail: true })).code === 0;
    if (!found) missing.push(prog);
  }
  if (missing.length > 0) {
    throw new Error(`the lab's data path needs ${missing.join(', ')}: scripts/install-deps.sh (apt-get install nginx-light nftables conntrack curl)`);
  }
  if (!existsSync(join(binDir, 'kube-proxy'))) throw new Error(`no kube-proxy in ${binDir}: test/k8s/build.sh builds it onto the existing cache`);
}

function tail(file: string, lines = 8): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
