/**
 * Weighted ECMP and per-Service attributes through the whole chain (issue 13's "Done when"): Kubernetes objects in,
 * the ToR's kernel table and BGP view out, nothing pushed by the test in between.
 *
 * REAL: the Kubernetes control plane (etcd, kube-apiserver, controller-manager with its Deployment, ReplicaSet and
 * EndpointSlice controllers, scheduler placing the Pods by nodeSelector), three `svcbgp run` agents (one per node, as
 * the DaemonSet's sidecar, test/e2e/seed/scenario.ts), gobgpd in every node namespace, FRR as the ToR (zebra + bgpd,
 * weighted ECMP from the link-bandwidth community into the kernel), the ToR's kernel with an L4 multipath hash
 * (`net.ipv4.fib_multipath_hash_policy=1`, set by ServiceLab: else every request of the one external client takes one
 * next hop).
 * STAND-INS (named as such): the node simulator (test/helpers/kube/node-sim.ts) plays the kubelet — it reports the
 * Pods the scheduler bound as Running and Ready; and the lab's tiny HTTP server plays kube-proxy + nginx on the nodes
 * with a local endpoint (node-1, node-2), answering with its node's name.
 *
 * The cluster: BGPConfiguration `default` with both ranges, `weightedECMP: {enabled: true}` and an allow-list
 * `serviceAttributeLimits.communities: ["64512:100-199"]`; Deployments weighted-n1 (1 replica, nodeSelector node-1)
 * and weighted-n2 (3 replicas, node-2) behind one Service `weighted` (NodePort, externalTrafficPolicy Local, external
 * IP 192.168.3.180). Asserted is what an operator checks: `ip -n <tor> -j route show 192.168.3.180` (next-hop weights
 * 1:3, then equal after `kubectl scale`), `ip -n <tor> monitor route` (the route replaced, never deleted), `vtysh -c
 * 'show bgp ipv4 unicast 192.168.3.180/32 json'` (link bandwidth per path; the allowed community on every path, the
 * refused one on none), `kubectl get events` (one Warning AttributeNotAllowed per node), `svcbgp status` on node-2 (the
 * route's link bandwidth, where its weight and attributes come from, the refused value). Printed, never asserted: the
 * traffic split of a bounded request loop from the external host and the time from `kubectl scale` to the kernel's
 * new weights ([lab-metric] lines). Needs root; about a minute on a warm machine.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { sleep, waitFor, type Lab, type LabNode } from '../lab/index.js';
import { torBgpPaths, type TorPath } from '../lab/tor-paths.js';
import { deletionsOf, monitorRoutes, type RouteEvent } from '../lab/route-events.js';
import { startTraffic, type RequestResult } from '../lab/traffic.js';
import { waitForEndpointSlices } from '../helpers/kube/index.js';
import { CLUSTER_IP_RANGE, EXTERNAL_IP_RANGE } from './seed/article.js';
import { BGP_CONFIGURATION_BOTH, ServiceLab } from './chaos/service-lab.js';
import { agentEntry } from './seed/scenario.js';
import { metric } from './lab-metrics.js';

const execFileAsync = promisify(execFile);
const SCOPE = 'frr weighted-ecmp-kube';
const SERVICE_IP = '192.168.3.180';
const PREFIX = `${SERVICE_IP}/32`;
const ALLOWED = '64512:150';
const REFUSED = '64512:999';

/** svcbgp's extensions in Calico's document (docs/configuration.md, "Weighted ECMP"). */
const WEIGHTED_CONFIGURATION = `${BGP_CONFIGURATION_BOTH}  weightedECMP: {enabled: true}
  serviceAttributeLimits:
    communities: ["64512:100-199"]
`;

/** One Deployment per node (the scheduler places them by nodeSelector) behind one Local Service. */
function deployment(name: string, node: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: weighted, part: ${name}}}
  template:
    metadata: {labels: {app: weighted, part: ${name}}}
    spec:
      nodeSelector: {kubernetes.io/hostname: ${node}}
      containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
`;
}

const WORKLOAD = `${deployment('weighted-n1', 'node-1', 1)}---
${deployment('weighted-n2', 'node-2', 3)}---
apiVersion: v1
kind: Service
metadata: {name: weighted}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: {app: weighted}
  externalIPs: [${SERVICE_IP}]
  ports: [{port: 80}]
`;

interface ServiceEvent {
  type: string;
  reason: string;
  message: string;
  source?: { host?: string };
}

describe('weighted ECMP and Service attributes from Kubernetes to the FRR ToR (lab + real control plane + svcbgp run per node)', function () {
  this.timeout(240_000);
  let sl: ServiceLab;
  let lab: Lab;
  let n1: LabNode;
  let n2: LabNode;
  let clusterIP = '';
  let broken = false;

  /** Wait until the ToR's kernel weights for `prefix` satisfy `ok`; the error names the last weights seen. */
  const waitForWeights = (prefix: string, what: string, ok: (w: Record<string, number>) => boolean): Promise<Record<string, number>> => {
    let last: Record<string, number> = {};
    return waitFor(
      `${prefix} ${what} on the ToR`,
      async () => {
        last = await lab.torNextHopWeights(prefix);
        return ok(last) ? last : undefined;
      },
      60_000,
      20,
      () => `last kernel weights ${JSON.stringify(last)}`,
    );
  };

  /** Both nodes with a local endpoint, and no other, in the ratio `n1:n2` (FRR normalises to bw * 100 / sum). */
  const inRatio =
    (r1: number, r2: number) =>
    (w: Record<string, number>): boolean =>
      Object.keys(w).sort().join(',') === [n1.ipv4, n2.ipv4].sort().join(',') && w[n1.ipv4]! * r2 === w[n2.ipv4]! * r1;

  /** A bounded loop of `n` requests from the external host, each on a new connection: answers per node. */
  const split = async (n: number): Promise<{ byNode: Record<string, number>; failed: RequestResult[] }> => {
    const traffic = startTraffic(lab.ext.ns, [SERVICE_IP], { intervalMs: 10, timeoutMs: 1000, maxMs: 60_000 });
    await waitFor(`${n} answers from the external host`, async () => (traffic.results().length >= n ? true : undefined), 70_000, 100);
    const results = (await traffic.stop()).slice(0, n);
    const byNode: Record<string, number> = {};
    for (const r of results) if (r.ok) byNode[r.node ?? '?'] = (byNode[r.node ?? '?'] ?? 0) + 1;
    return { byNode, failed: results.filter((r) => !r.ok) };
  };

  /** svcbgp's Events on the Service (source=svcbgp: what docs/monitoring/alerts.yaml tells an operator to select). */
  const serviceEvents = async (reason: string): Promise<ServiceEvent[]> => {
    const selector = `type=Warning,source=svcbgp,involvedObject.kind=Service,involvedObject.name=weighted,reason=${reason}`;
    const out = await sl.sc.kubectl(['get', 'events', '--field-selector', selector, '-o', 'json']);
    return (JSON.parse(out) as { items: ServiceEvent[] }).items;
  };

  before(async function () {
    this.timeout(45 * 60_000); // a cold build of the Kubernetes binaries is included in the first start
    sl = await ServiceLab.create({ router: 'frr', namespacePrefix: 'wecmp-kube' });
    lab = sl.lab;
    [n1, n2] = [lab.node(1), lab.node(2)];
    await sl.startAgents(WEIGHTED_CONFIGURATION);
    await sl.sc.kubectl(['apply', '-f', '-'], WORKLOAD);
    await waitForEndpointSlices(sl.cp.kubeConfig(), sl.ns, 'weighted', { ready: 4, timeoutMs: 90_000 });
    clusterIP = (await sl.sc.kubectl(['get', 'service', 'weighted', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    // kube-proxy with Local policy answers only on nodes with a local endpoint: the stand-in runs there only.
    for (const n of [n1, n2]) await lab.startHttpServer(n, SERVICE_IP);
    await lab.waitForTorRoute(PREFIX, [n1.ipv4, n2.ipv4], 90_000);
  });

  beforeEach(function () {
    if (broken) this.skip(); // the steps build on each other
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    broken = true;
    for (const a of sl?.sc.agents ?? []) process.stderr.write(`      ${a.node.name} agent log: ${a.logFile}\n`);
  });

  after(async function () {
    this.timeout(180_000);
    await sl?.destroy();
  });

  it("1 Pod on node-1 and 3 on node-2: the ToR kernel route has next-hop weights 1:3, FRR shows each path's link bandwidth, traffic follows", async () => {
    const weights = await waitForWeights(PREFIX, 'weighted 1:3', inRatio(1, 3));
    metric(SCOPE, `kernel weight of node-1 (node-2 has 3x) for ${PREFIX}`, weights[n1.ipv4]!, JSON.stringify(weights));

    const paths = await torBgpPaths(lab.router, PREFIX);
    const lb = Object.fromEntries(paths.map((p) => [p.nextHop, p.extendedCommunity ?? '']));
    expect(lb[n1.ipv4], 'node-1: 1 endpoint = 1 Mbit/s').to.contain('LB:64512:125000');
    expect(lb[n2.ipv4], 'node-2: 3 endpoints = 3 Mbit/s').to.contain('LB:64512:375000');
    // The cluster IP's /32 exists for the same Local policy and is weighted alike; the aggregates are plain.
    await waitForWeights(`${clusterIP}/32`, 'weighted 1:3', inRatio(1, 3));
    expect(Object.values(await lab.torNextHopWeights(EXTERNAL_IP_RANGE))).to.deep.equal([1, 1, 1]);

    const { byNode, failed } = await split(400);
    metric(SCOPE, 'requests to node-2 of 400 at weights 1:3 (ratio 75 %)', byNode['node-2'] ?? 0, JSON.stringify(byNode));
    expect(failed.slice(0, 3), 'failed requests').to.deep.equal([]);
    expect(Object.keys(byNode).sort()).to.deep.equal(['node-1', 'node-2']);
  });

  it("kubectl scale node-1's Deployment to 3: the weights become equal, the route replaced in place (no deletion at the ToR)", async () => {
    const live = new Set([PREFIX, `${clusterIP}/32`, CLUSTER_IP_RANGE, EXTERNAL_IP_RANGE]);
    const monitor = monitorRoutes(lab.tor.ns);
    let events: RouteEvent[] = [];
    const t0 = Date.now();
    try {
      await sl.sc.kubectl(['scale', 'deployment', 'weighted-n1', '--replicas=3']);
      await waitForWeights(PREFIX, 'weighted equally', inRatio(1, 1));
      await waitForWeights(`${clusterIP}/32`, 'weighted equally', inRatio(1, 1));
    } finally {
      events = await monitor.stop();
    }
    // The monitor saw the change (so it was listening), as a replace with the new weights, and no deletion.
    const changed = events.find((e) => e.prefix === PREFIX && !e.deleted && inRatio(1, 1)(e.weights));
    expect(changed, `ip monitor route saw ${PREFIX} with equal weights: ${events.map((e) => e.line).join(' | ')}`).to.not.equal(undefined);
    expect(
      deletionsOf(events, live).map((e) => e.line),
      'route deletions at the ToR',
    ).to.deep.equal([]);
    metric(SCOPE, "kubectl scale --replicas=3 to the ToR kernel's equal weights, ms", changed!.at - t0, JSON.stringify(changed!.weights));

    const { byNode, failed } = await split(200);
    metric(SCOPE, 'requests to node-2 of 200 at equal weights (ratio 50 %)', byNode['node-2'] ?? 0, JSON.stringify(byNode));
    expect(failed.slice(0, 3), 'failed requests').to.deep.equal([]);
  });

  it(`an annotation inside the allow-list (svcbgp.io/communities: ${ALLOWED}) reaches the ToR on every path of the Service's route, not on the aggregates`, async () => {
    await sl.sc.kubectl(['annotate', 'service', 'weighted', `svcbgp.io/communities=${ALLOWED}`]);
    const paths = await waitFor(
      `${ALLOWED} on both paths of ${PREFIX} at the ToR`,
      async () => {
        const p = await torBgpPaths(lab.router, PREFIX);
        return p.length === 2 && p.every((x) => x.communities.includes(ALLOWED)) ? p : undefined;
      },
      60_000,
      100,
    );
    expect(paths.map((p) => [p.nextHop, p.communities]).sort()).to.deep.equal(
      [
        [n1.ipv4, [ALLOWED]],
        [n2.ipv4, [ALLOWED]],
      ].sort(),
    );
    // Still weighted (the annotation adds to the route; the link bandwidth stays).
    expect(paths.every((p) => (p.extendedCommunity ?? '').includes('LB:64512:375000'))).to.equal(true);
    for (const aggregate of [CLUSTER_IP_RANGE, EXTERNAL_IP_RANGE]) {
      const agg = await torBgpPaths(lab.router, aggregate);
      expect(
        agg.filter((p) => p.communities.includes(ALLOWED)).map((p) => p.nextHop),
        `${aggregate} carries no Service attribute`,
      ).to.deep.equal([]);
    }
  });

  it(`one outside it (${REFUSED}) is refused: a Warning AttributeNotAllowed Event on the Service from each node, and it never reaches the ToR`, async () => {
    // Watch the ToR's BGP view of the prefix from before the annotation until well after every node has refused it.
    const seen = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const p: TorPath[] = await torBgpPaths(lab.router, PREFIX).catch(() => []);
        for (const x of p) for (const c of x.communities) seen.add(c);
        await sleep(100);
      }
    })();
    let events: ServiceEvent[] = [];
    try {
      await sl.sc.kubectl(['annotate', '--overwrite', 'service', 'weighted', `svcbgp.io/communities=${ALLOWED}, ${REFUSED}`]);
      events = await waitFor(
        'an AttributeNotAllowed Event from every node',
        async () => {
          const e = await serviceEvents('AttributeNotAllowed');
          return e.length >= 3 ? e : undefined;
        },
        60_000,
        250,
      );
      await sleep(2000); // passes after the Events: the value would have been sent by now
    } finally {
      watching = false;
      await watcher;
    }
    // Bounded: one Event per node for this Service and reason, not one per pass.
    events = await serviceEvents('AttributeNotAllowed');
    expect(events.map((e) => e.source?.host).sort()).to.deep.equal(['node-1', 'node-2', 'node-3']);
    for (const e of events) {
      expect(e.type).to.equal('Warning');
      expect(e.message)
        .to.contain(`community ${REFUSED} in annotation svcbgp.io/communities is outside serviceAttributeLimits.communities (64512:100-199)`)
        .and.to.contain('add it to spec.serviceAttributeLimits.communities');
    }
    process.stdout.write(`      [lab-event] ${events[0]!.reason}: ${events[0]!.message}\n`);
    expect(await serviceEvents('AddressNotAdvertised'), 'no address Event for an annotation value').to.deep.equal([]);

    expect([...seen].sort(), "communities the ToR ever held for the Service's route meanwhile").to.deep.equal([ALLOWED]);
    const paths = await torBgpPaths(lab.router, PREFIX);
    expect(paths.map((p) => p.communities)).to.deep.equal([[ALLOWED], [ALLOWED]]);
  });

  it("`svcbgp status` on node-2 shows the route's link bandwidth, where its weight and attributes come from, and the refused value", async () => {
    const agent = sl.sc.agents.find((a) => a.node === n2)!;
    const r = await execFileAsync(process.execPath, [agentEntry(), 'status', '--agent', agent.httpAddress, '--gobgp-address', n2.gobgpd.target]);
    process.stdout.write(`${r.stdout.replace(/^/gm, '      | ')}\n`);
    const svc = `${sl.ns}/weighted`;
    const line = r.stdout.split('\n').find((l) => l.trimStart().startsWith(`${PREFIX} `));
    expect(line, `${PREFIX} among the routes svcbgp owns`).to.not.equal(undefined);
    expect(line)
      .to.contain(`${ALLOWED} 64512:7376:1 link-bandwidth 64512:3 Mbit/s`)
      .and.to.contain(`weight from 3 usable local endpoint(s) (weightedECMP): ${svc} 3`)
      .and.to.contain(`attributes from Service ${svc} annotations: communities ${ALLOWED}`);
    expect(r.stdout)
      .to.contain('refused addresses (0)')
      .and.to.contain(
        `refused annotation values (1): the Services' routes are advertised without these\n  ${svc} ${REFUSED}: community ${REFUSED} in annotation svcbgp.io/communities is outside serviceAttributeLimits.communities`,
      );
  });
});
