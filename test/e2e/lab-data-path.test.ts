/**
 * The real data path in the lab: the external host's `curl` goes through the ToR (BIRD or FRR, routing by what svcbgp
 * advertised) to a node, where a REAL kube-proxy (v1.37.2, nftables mode, one per node namespace, talking to the real
 * API server as system:kube-proxy) NATs it to an nginx Pod: a network namespace of its own with the pod IP the control
 * plane's podCIDR gave it, running Debian's nginx, which answers with its "Welcome to nginx!" page.
 *
 * What is real: the routers, gobgpd, `svcbgp run` (one per node), etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler, kube-proxy, nginx, the kernel's routing, NAT and conntrack. What stands in: the node simulator plays
 * the kubelet (test/helpers/kube/node-sim.ts) and, with test/lab/pods.ts as its runtime, the container runtime and the
 * CNI plugin (namespaces and veths wired as Calico wires them, no images); the routes between the nodes' podCIDRs are
 * static (what Calico's node-to-node mesh would install). How each kube-proxy differs from a real node's:
 * test/lab/data-path.ts and test/lab/README.md.
 *
 * Needs root, the packages of scripts/install-deps.sh (nginx-light, nftables, curl) and the Kubernetes binaries with
 * kube-proxy (test/k8s/build.sh). BIRD by default; SVCBGP_DATA_PATH_TORS=bird,frr for both.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import {
  cleanupStale,
  createLab,
  curlFrom,
  LabPods,
  sleep,
  startDataPath,
  type CurlResult,
  type DataPath,
  type Lab,
  type LabNode,
  type RouterKind,
} from '../lab/index.js';
import { NodeSimulator, sharedControlPlane, uniqueNamespace, waitFor, waitForEndpointSlices, type ControlPlane } from '../helpers/kube/index.js';
import { metric } from './lab-metrics.js';
import {
  BGP_PEER,
  CLUSTER_IP_RANGE,
  EXTERNAL_IP,
  EXTERNAL_IP_RANGE,
  KUBECTL_EXPOSE,
  KUBECTL_PATCH_EXTERNAL_IP,
  KUBECTL_PATCH_LOCAL,
  SEED_NGINX_DEPLOYMENT,
  SEED_NODES,
  bgpConfiguration,
} from './seed/article.js';
import { SeedScenario, addIpv6InternalIPs, hostPrefix } from './seed/scenario.js';

const WELCOME = 'Welcome to nginx!';
const EXT_CLIENT = '172.30.0.2';

const TORS = (process.env.SVCBGP_DATA_PATH_TORS ?? 'bird').split(',').filter((r): r is RouterKind => r === 'bird' || r === 'frr');

/** Poll curl until it gets nginx's page (kube-proxy programs a change within a second or so); the last result. */
async function curlUntilServed(ns: string, url: string, timeoutMs = 30_000): Promise<CurlResult> {
  let last: CurlResult | undefined;
  for (const t0 = Date.now(); Date.now() - t0 < timeoutMs; await sleep(500)) {
    last = await curlFrom(ns, url, 3);
    if (last.ok && last.body.includes(WELCOME)) return last;
  }
  return last!;
}

for (const router of TORS) {
  describe(`lab data path (${router}): ToR -> node -> kube-proxy -> Pod namespace -> Debian's nginx`, function () {
    this.timeout(120_000);
    const ns = uniqueNamespace('data-path');
    let cp: ControlPlane;
    let lab: Lab;
    let pods: LabPods;
    let sim: NodeSimulator;
    let dp: DataPath;
    let sc: SeedScenario;
    let core: CoreV1Api;
    let broken = false;
    let t0 = Date.now();

    /** The ready nginx Pods, as the API has them. */
    const nginxPods = (): Promise<V1Pod[]> => sc.readyNginxPods();
    const nodeOf = (name: string): LabNode => lab.node(name);

    before(async function () {
      this.timeout(45 * 60_000); // the first start may build the Kubernetes binaries
      t0 = Date.now();
      cleanupStale();
      cp = await sharedControlPlane();
      lab = await createLab({ router, unknownDestinations: 'drop' });
      const kc = cp.kubeConfig();
      core = kc.makeApiClient(CoreV1Api);
      pods = new LabPods(lab);
      sim = new NodeSimulator(kc, { nodes: SEED_NODES.map((n) => ({ name: n.name, internalIP: n.ipv4 })), runtime: pods });
      await sim.start();
      await addIpv6InternalIPs(kc);
      const t1 = Date.now();
      dp = await startDataPath(lab, { kubeconfig: join(cp.runDir, 'kube-proxy.kubeconfig'), binDir: cp.binDir, podCIDRs: (n) => sim.podCIDRsOf(n) });
      metric(`data path ${router}`, 'kube-proxy on 3 nodes healthy, ms', Date.now() - t1);
      await cp.kubectlOk(['create', 'namespace', ns]);
      await waitFor(`ServiceAccount default in ${ns}`, () => core.readNamespacedServiceAccount({ name: 'default', namespace: ns }).then(() => true));
      sc = new SeedScenario({ lab, kube: cp, namespace: ns });
      // the article's peer, and both of its ranges at once (its closing remark): cluster IPs and external IPs
      sc.writeConfig([BGP_PEER, bgpConfiguration({ clusterIPs: [CLUSTER_IP_RANGE], externalIPs: [EXTERNAL_IP_RANGE] })]);
      await sc.startAgents();
      await lab.waitForSessions(undefined, 60_000);
      await sc.waitForAgentsReady();
      metric(`data path ${router}`, 'bring-up (control plane, lab, Nodes, kube-proxy, agents), ms', Date.now() - t0);
    });

    beforeEach(function () {
      if (broken) this.skip(); // the steps build on each other
    });

    afterEach(function () {
      if (this.currentTest?.state === 'failed') {
        broken = true;
        process.stderr.write(`      lab ${lab?.id}: kube-proxy logs ${lab?.runDir}/kube-proxy-node-N.log, Pods under ${lab?.runDir}/pods/\n`);
      }
    });

    after(async function () {
      this.timeout(180_000);
      sc?.stopAgents();
      await sc?.cleanupCluster().catch((e: unknown) => process.stderr.write(`      cleanup: ${String(e)}\n`));
      await sim?.stop().catch((e: unknown) => process.stderr.write(`      node simulator stop: ${String(e)}\n`));
      await lab?.destroy();
      metric(`data path ${router}`, 'whole suite, ms', Date.now() - t0);
    });

    it("runs the article's nginx Pods in network namespaces of their own, serving Debian's nginx on their pod IPs", async () => {
      await sc.kubectl(['apply', '-f', '-'], SEED_NGINX_DEPLOYMENT);
      const ready = await waitFor('2 nginx Pods Ready', async () => ((await nginxPods()).length === 2 ? nginxPods() : undefined), { timeoutMs: 90_000 });
      for (const p of ready) {
        const pod = pods.get(ns, p.metadata!.name!);
        expect(pod, `${p.metadata!.name} runs in the lab`).to.not.equal(undefined);
        const podIP = p.status!.podIP!;
        // the address the API reports is the one on the Pod's eth0, inside its own namespace, from its Node's podCIDR
        const addr = await lab.exec(pod!.ns, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']);
        expect(addr.stdout).to.include(`${podIP}/32`);
        expect(sim.podCIDR(p.spec!.nodeName!)!.split('.').slice(0, 3).join('.')).to.equal(podIP.split('.').slice(0, 3).join('.'));
        expect(pod!.node.name).to.equal(p.spec!.nodeName);
        // from every node: its own Pod through the veth, another node's through the routes between the nodes
        for (const node of lab.nodes) {
          const r = await curlFrom(node.ns, `http://${podIP}/`);
          expect(r.body, `${node.name} -> ${p.metadata!.name} (${podIP}): ${r.error}`).to.include(WELCOME);
        }
      }
    });

    it("a ClusterIP Service: the external host's curl goes through the ToR and a node's kube-proxy to nginx", async () => {
      await sc.kubectl(KUBECTL_EXPOSE);
      await waitForEndpointSlices(cp.kubeConfig(), ns, 'nginx', { ready: 2, timeoutMs: 90_000 });
      const clusterIP = await sc.clusterIP();
      await sc.waitForTable(sc.aggregates([CLUSTER_IP_RANGE, EXTERNAL_IP_RANGE]), 'both ranges via every node');

      const r = await curlUntilServed(lab.ext.ns, `http://${clusterIP}/`);
      expect(r.body, `curl ${clusterIP} from the external host: ${r.error}`).to.include(WELCOME);
      metric(`data path ${router}`, 'curl of the cluster IP from the external host, ms', r.ms);

      // every node's kube-proxy serves the cluster IP, also the node without an nginx Pod (it forwards to another node)
      const podIPs = (await nginxPods()).map((p) => p.status!.podIP!);
      for (const node of lab.nodes) {
        await dp.pinAtTor(clusterIP, node);
        try {
          const viaNode = await curlUntilServed(lab.ext.ns, `http://${clusterIP}/`, 10_000);
          expect(viaNode.body, `curl ${clusterIP} through ${node.name}: ${viaNode.error}`).to.include(WELCOME);
          // kube-proxy's DNAT, in the node's conntrack table: the reply comes from a pod IP
          const ct = await lab.exec(node.ns, 'conntrack', ['-L', '-p', 'tcp', '--orig-dst', clusterIP], { allowFail: true });
          const replySources = [...ct.stdout.matchAll(/dst=\S+ sport=\d+ dport=\d+ src=(\S+)/g)].map((m) => m[1]);
          expect(
            replySources.some((s) => podIPs.includes(s!)),
            `${node.name} conntrack:\n${ct.stdout}`,
          ).to.equal(true);
        } finally {
          await dp.unpinAtTor(clusterIP);
        }
      }
      expect(await dp.rules(lab.node(1))).to.include(clusterIP);
      // traffic from outside the cluster CIDR to a cluster IP is masqueraded: nginx saw node addresses, never the client
      const clients = pods.list().flatMap((p) => pods.clients(p));
      expect(clients).to.not.include(EXT_CLIENT);
      expect(clients.every((c) => lab.nodes.some((n) => n.ipv4 === c))).to.equal(true, clients.join(' '));
    });

    it('externalTrafficPolicy: Local: the external IP comes only from the nginx nodes, and requests through each are served with the client address kept', async () => {
      await sc.kubectl(KUBECTL_PATCH_LOCAL);
      await sc.kubectl(KUBECTL_PATCH_EXTERNAL_IP);
      const clusterIP = await sc.clusterIP();
      const nginxNodes = await sc.nginxNodes();
      await sc.waitForTable(
        { ...sc.aggregates([CLUSTER_IP_RANGE, EXTERNAL_IP_RANGE]), ...sc.hostRoutes([clusterIP, EXTERNAL_IP], nginxNodes) },
        `${hostPrefix(EXTERNAL_IP)} via the nginx nodes ${nginxNodes.join(', ')}`,
      );
      const first = await curlUntilServed(lab.ext.ns, `http://${EXTERNAL_IP}/`);
      expect(first.body, `curl ${EXTERNAL_IP}: ${first.error}`).to.include(WELCOME);
      for (let i = 0; i < 10; i++) {
        const r = await curlFrom(lab.ext.ns, `http://${EXTERNAL_IP}/`, 3);
        expect(r.body, `request ${i + 1} to ${EXTERNAL_IP}: ${r.error}`).to.include(WELCOME);
      }
      // each node that advertises it serves it from its own Pod; Local keeps the client's address
      for (const name of nginxNodes) {
        const node = nodeOf(name);
        const local = pods.list().find((p) => p.node.name === node.name)!;
        const before = pods.clients(local).length;
        await dp.pinAtTor(EXTERNAL_IP, node);
        try {
          const r = await curlUntilServed(lab.ext.ns, `http://${EXTERNAL_IP}/`, 10_000);
          expect(r.body, `curl ${EXTERNAL_IP} through ${name}: ${r.error}`).to.include(WELCOME);
        } finally {
          await dp.unpinAtTor(EXTERNAL_IP);
        }
        expect(pods.clients(local).slice(before), `${name}'s nginx access log`).to.include(EXT_CLIENT);
      }
    });

    it("a node without an endpoint that is made to receive the Local Service's external IP drops the requests in its kube-proxy", async () => {
      const nginxNodes = await sc.nginxNodes();
      const idle = lab.nodes.find((n) => !nginxNodes.includes(n.name));
      expect(idle, `a node without an nginx Pod (nginx on ${nginxNodes.join(', ')})`).to.not.equal(undefined);
      // svcbgp does not advertise it from there; a policy-routing rule on the ToR sends it there anyway
      expect((await lab.torRoutes())[hostPrefix(EXTERNAL_IP)]).to.not.include(idle!.ipv4);
      await dp.pinAtTor(EXTERNAL_IP, idle!);
      try {
        for (let i = 0; i < 3; i++) {
          const r = await curlFrom(lab.ext.ns, `http://${EXTERNAL_IP}/`, 2);
          expect(r.ok, `request ${i + 1} through ${idle!.name}: ${r.status} ${r.body.slice(0, 80)}`).to.equal(false);
          expect(r.exitCode, `curl's exit code (28: timed out: dropped, not refused): ${r.error}`).to.equal(28);
        }
        // the same node serves the cluster IP of the same Service: the Local policy covers external traffic only
        const clusterIP = await sc.clusterIP();
        await dp.pinAtTor(clusterIP, idle!);
        const viaCluster = await curlUntilServed(lab.ext.ns, `http://${clusterIP}/`, 10_000);
        expect(viaCluster.body, `curl ${clusterIP} through ${idle!.name}: ${viaCluster.error}`).to.include(WELCOME);
        await dp.unpinAtTor(clusterIP);
      } finally {
        await dp.unpinAtTor(EXTERNAL_IP);
      }
      // back on the routes svcbgp advertised: served again
      const after = await curlUntilServed(lab.ext.ns, `http://${EXTERNAL_IP}/`, 10_000);
      expect(after.body, `curl ${EXTERNAL_IP} after the rule is gone: ${after.error}`).to.include(WELCOME);
    });
  });
}
