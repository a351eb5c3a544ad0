/**
 * The lab the node-leaving test and the chaos suite share: the network lab (BIRD 2 or FRR as the ToR, real gobgpd
 * under dumb-init in every node), the REAL Kubernetes control plane (shared by the test process), the node simulator
 * (THE ONE STAND-IN: it plays the kubelet) and one `svcbgp run` per node (test/e2e/seed/scenario.ts), with Services
 * that carry traffic:
 *
 *   Deployment web, 3 replicas, one per node (topologySpreadConstraints, DoNotSchedule)
 *   Service web-cluster  NodePort, externalTrafficPolicy Cluster, externalIPs 192.168.3.181 -> only the aggregate
 *   Service web-local    NodePort, externalTrafficPolicy Local,   externalIPs 192.168.3.182 -> /32s via the web nodes
 *
 * Traffic (STAND-IN for kube-proxy + nginx, the lab's tiny HTTP server): 192.168.3.181 is served on every node (with
 * Cluster policy kube-proxy forwards on any node); 192.168.3.182 and web-local's cluster IP only on nodes with a ready
 * local endpoint (with Local policy kube-proxy drops external traffic on a node without one), so a request the ToR
 * sends to the wrong node fails, as it would in a cluster.
 *
 * The ToR hashes ECMP on layer 4 here (net.ipv4.fib_multipath_hash_policy=1 in its namespace; Linux's default hashes
 * on addresses only, which would send every request of the one external client to the same node): each request
 * (a new connection, a new source port) may go to any next hop, so traffic on a node shows up in the requests.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { cleanupStale, createLab, type Lab, type LabNode, type RouteTable, type RouterKind } from '../../lab/index.js';
import {
  NodeSimulator,
  endpointsOf,
  sharedControlPlane,
  uniqueNamespace,
  waitFor,
  waitForEndpointSlices,
  type ControlPlane,
} from '../../helpers/kube/index.js';
import { BGP_PEER, CLUSTER_IP_RANGE, EXTERNAL_IP_RANGE, SEED_NODES } from '../seed/article.js';
import { SeedScenario, agentEntry, sameTable } from '../seed/scenario.js';

const execFileAsync = promisify(execFile);

export const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
export const CLUSTER_POLICY_IP = '192.168.3.181';
export const LOCAL_POLICY_IP = '192.168.3.182';

/** Both of the article's ranges at once ("you can expose both sets at once"), Calico's document. */
export const BGP_CONFIGURATION_BOTH = `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  serviceClusterIPs:
  - cidr: ${CLUSTER_IP_RANGE}
  serviceExternalIPs:
  - cidr: ${EXTERNAL_IP_RANGE}
`;

const WEB = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}
      containers:
      - {name: web, image: nginx, ports: [{containerPort: 80}]}
---
apiVersion: v1
kind: Service
metadata:
  name: web-cluster
spec:
  type: NodePort
  externalTrafficPolicy: Cluster
  selector: {app: web}
  externalIPs: [${CLUSTER_POLICY_IP}]
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: web-local
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: {app: web}
  externalIPs: [${LOCAL_POLICY_IP}]
  ports: [{port: 80}]
`;

export interface ServiceLabOptions {
  router: RouterKind;
  namespacePrefix: string;
  /** More `svcbgp run` flags. */
  agentArgs?: readonly string[];
}

export class ServiceLab {
  /** web-local's cluster IP (a /32 too: Local policy). */
  localClusterIP = '';
  /** Nodes with a ready web endpoint (every node, by the spread constraint). */
  webNodes: string[] = [];

  private constructor(
    readonly cp: ControlPlane,
    readonly lab: Lab,
    readonly sim: NodeSimulator,
    readonly sc: SeedScenario,
    readonly ns: string,
  ) {}

  static async create(opts: ServiceLabOptions): Promise<ServiceLab> {
    cleanupStale();
    const cp = await sharedControlPlane({
      onLog: (line) => {
        if (/build|compil|modules|cache/.test(line)) process.stderr.write(`      ${line}\n`);
      },
    });
    const lab = await createLab({ router: opts.router });
    await lab.exec(lab.tor.ns, 'sysctl', ['-q', '-w', 'net.ipv4.fib_multipath_hash_policy=1']);
    const kc = cp.kubeConfig();
    const sim = new NodeSimulator(kc, { nodes: SEED_NODES.map((n) => ({ name: n.name, internalIP: n.ipv4 })) });
    await sim.start();
    const ns = uniqueNamespace(opts.namespacePrefix);
    await cp.kubectlOk(['create', 'namespace', ns]);
    const core = kc.makeApiClient(CoreV1Api);
    await waitFor(`ServiceAccount default in ${ns}`, () => core.readNamespacedServiceAccount({ name: 'default', namespace: ns }).then(() => true));
    const sc = new SeedScenario({ lab, kube: cp, namespace: ns, ...(opts.agentArgs ? { agentArgs: opts.agentArgs } : {}) });
    return new ServiceLab(cp, lab, sim, sc, ns);
  }

  /**
   * Agents with the peer and `bgpConfiguration` (default: both ranges; it must keep both, which is what is waited
   * for); every session Established, every agent ready, aggregates on the ToR.
   */
  async startAgents(bgpConfiguration = BGP_CONFIGURATION_BOTH): Promise<void> {
    this.sc.writeConfig([BGP_PEER, bgpConfiguration]);
    await this.sc.startAgents();
    await this.lab.waitForSessions(undefined, 90_000);
    await this.sc.waitForAgentsReady();
    const all = this.sc.allNodeIPs();
    await this.sc.waitForTable({ [CLUSTER_IP_RANGE]: all, [EXTERNAL_IP_RANGE]: all }, 'both aggregates via every node');
  }

  /** The web Deployment and its two Services; stand-ins serving them; the ToR with the /32s. */
  async deployWeb(): Promise<void> {
    await this.sc.kubectl(['apply', '-f', '-'], WEB);
    const kc = this.cp.kubeConfig();
    const eps = await waitForEndpointSlices(kc, this.ns, 'web-local', { ready: 3, timeoutMs: 90_000 });
    this.webNodes = [...new Set(eps.filter((e) => e.ready).map((e) => e.nodeName!))].sort();
    const svc = await kc.makeApiClient(CoreV1Api).readNamespacedService({ name: 'web-local', namespace: this.ns });
    this.localClusterIP = svc.spec!.clusterIP!;
    for (const n of this.lab.nodes) await this.lab.startHttpServer(n, CLUSTER_POLICY_IP);
    for (const name of this.webNodes) {
      await this.lab.startHttpServer(this.lab.node(name), LOCAL_POLICY_IP);
      await this.lab.startHttpServer(this.lab.node(name), this.localClusterIP);
    }
    await this.sc.waitForTable(this.expected(), 'web-local /32s via the web nodes');
  }

  /** The addresses the request loops go to. */
  trafficAddresses(): string[] {
    return [CLUSTER_POLICY_IP, LOCAL_POLICY_IP, this.localClusterIP];
  }

  /** The prefixes that must never be deleted at the ToR while their Services live (the aggregates and web-local's). */
  livePrefixes(): Set<string> {
    return new Set(Object.keys(this.expected()));
  }

  /** What the ToR holds for the live prefixes with `away` nodes (names) not advertising. */
  expected(away: ReadonlySet<string> = new Set()): RouteTable {
    const ips = (names: readonly string[]): string[] => this.sc.nodeIPs(names.filter((n) => !away.has(n)));
    const all = this.lab.nodes.map((n) => n.name);
    return {
      [CLUSTER_IP_RANGE]: ips(all),
      [EXTERNAL_IP_RANGE]: ips(all),
      [`${LOCAL_POLICY_IP}/32`]: ips(this.webNodes),
      [`${this.localClusterIP}/32`]: ips(this.webNodes),
    };
  }

  /** The ToR's entries for the live prefixes only (churned Services come and go beside them). */
  async liveTable(): Promise<RouteTable> {
    const t = await this.lab.torRoutes();
    const out: RouteTable = {};
    for (const p of this.livePrefixes()) if (t[p]) out[p] = t[p]!;
    return out;
  }

  async liveTableIs(want: RouteTable): Promise<boolean> {
    return sameTable(await this.liveTable(), want);
  }

  /**
   * The node leaves as an operator takes it out before maintenance: `kubectl cordon` and the label
   * node.kubernetes.io/exclude-from-external-load-balancers=true. Not a full `kubectl drain`: its Pods are not
   * evicted (they keep serving, so web-local keeps its endpoint there) — the label is what tells svcbgp the node goes
   * away; a drain alone (cordon + evictions) is a restart to svcbgp (src/config/departure.ts).
   */
  async leave(node: LabNode): Promise<void> {
    await this.cp.kubectlOk(['cordon', node.name]);
    await this.cp.kubectlOk(['label', 'node', node.name, `${EXCLUDE_LABEL}=true`, '--overwrite']);
  }

  /** Back from maintenance: the label removed, uncordoned. */
  async comeBack(node: LabNode): Promise<void> {
    await this.cp.kubectlOk(['label', 'node', node.name, `${EXCLUDE_LABEL}-`]);
    await this.cp.kubectlOk(['uncordon', node.name]);
  }

  /**
   * What `svcbgp explain` computes for every node from the agents' --config file and a dump of the cluster, as one
   * ToR table: each prefix with the IPv4 addresses of the nodes that want it (the next hop the ToR sees).
   */
  async explainUnion(): Promise<RouteTable> {
    const dump = join(this.lab.runDir, 'cluster-dump.yaml');
    writeFileSync(dump, await this.cp.kubectlOk(['get', 'services,endpointslices,nodes', '-A', '-o', 'yaml']));
    const table: RouteTable = {};
    for (const n of this.lab.nodes) {
      const r = await execFileAsync(process.execPath, [
        agentEntry(),
        'explain',
        '--config',
        this.sc.configFile,
        '--cluster',
        dump,
        '--node',
        n.name,
        '--output',
        'json',
      ]);
      const report = JSON.parse(r.stdout) as { routes: { prefix: string; family: string }[] };
      for (const rt of report.routes) {
        const hop = rt.family === 'ipv6-unicast' ? n.ipv6 : n.ipv4;
        (table[rt.prefix] ??= []).push(hop);
      }
    }
    for (const k of Object.keys(table)) table[k]!.sort();
    return table;
  }

  /** Ready endpoints of a Service, by node (for reports). */
  async endpointNodes(service: string): Promise<string[]> {
    const eps = await endpointsOf(this.cp.kubeConfig(), this.ns, service);
    return [...new Set(eps.filter((e) => e.ready).map((e) => e.nodeName ?? '?'))].sort();
  }

  async destroy(): Promise<void> {
    this.sc.stopAgents();
    for (const n of this.lab.nodes) await this.cp.kubectl(['label', 'node', n.name, `${EXCLUDE_LABEL}-`]).catch(() => undefined);
    await this.sc.cleanupCluster().catch((e: unknown) => process.stderr.write(`      cleanup: ${String(e)}\n`));
    await this.sim.stop().catch((e: unknown) => process.stderr.write(`      node simulator stop: ${String(e)}\n`));
    await this.lab.destroy();
  }
}
