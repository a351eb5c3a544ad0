/**
 * The seed article walked once more on a DUAL-STACK cluster (issue 14, item 0): the control plane serves an IPv6
 * Service range (fd00:49::/112) beside 10.49.0.0/16 (test/k8s/control-plane.sh), the Services ask for
 * `ipFamilyPolicy: PreferDualStack`, the BGPConfiguration lists an IPv6 range beside each IPv4 one, and the ToR
 * carries IPv6 unicast on its sessions (MP-BGP over the IPv4 session, lab `ipv6: true`). Everything else as in
 * test/e2e/seed-article.test.ts: the lab with a real BIRD 2 / FRR ToR, a real gobgpd per node, the REAL control plane,
 * the node simulator (THE ONE STAND-IN: it plays the kubelet, and gives every Pod an IPv4 and an IPv6 address from its
 * Node's two podCIDRs, so the real EndpointSlice controller writes an IPv6 slice too), three `svcbgp run`.
 *
 * What is asserted at every step is what an operator checks: the ToR's kernel table in both families (`ip route`,
 * `ip -6 route`: exactly these routes with exactly these next hops, the IPv6 ones via the nodes' IPv6 addresses
 * fd00:1::10-12), every node's `gobgp global rib` in both families, Events, and HTTP over IPv4 and IPv6 from the
 * external host through the real data path: the ToR, a node's real kube-proxy (dual-stack, nftables), an nginx Pod in
 * a network namespace of its own with its IPv4 and IPv6 pod IPs (test/lab/data-path.ts, test/lab/pods.ts); the node
 * whose kube-proxy NATed the connection shows where the ToR's routing sent the request. The IPv4 routes are what the
 * IPv4 walk expects.
 * Times are printed ([lab-metric] lines), never asserted. Needs root.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import ipaddr from 'ipaddr.js';
import { GOBGP, sleep, type HttpResult, type LabNode, type RouterKind, type RouteTable } from '../lab/index.js';
import { endpointsOf } from '../helpers/kube/index.js';
import { runCommand } from '../helpers/kube/control-plane.js';
import {
  BGP_CONFIGURATION_BOTH_DUAL_STACK,
  BGP_PEER,
  CLUSTER_IP_RANGE,
  CLUSTER_IP_RANGE_V6,
  DUAL_STACK_WALK,
  EXTERNAL_IP,
  EXTERNAL_IP_RANGE,
  EXTERNAL_IP_RANGE_V6,
  EXTERNAL_IP_V6,
  FOREIGN_EXTERNAL_IP_V6,
  KUBECTL_PATCH_FOREIGN_IP_V6,
  SEED_NODES,
} from './seed/article.js';
import { monitorRoutes } from '../lab/route-events.js';
import { agentEntry, hostPrefix, NGINX_WELCOME, type Converged } from './seed/scenario.js';
import { useSeedSuite } from './seed/suite.js';
import { metric } from './lab-metrics.js';
import { expectGolden } from '../helpers/golden.js';
import { renderTorTable, type TableNames } from '../helpers/tor-table.js';

const inside = (addr: string, cidr: string): boolean => ipaddr.parse(addr).match(ipaddr.parseCIDR(cidr));

/**
 * Prefix -> next hop of the best path in `gobgp global rib -a <family>` (the text an operator reads; the locally added
 * IPv4 paths show 0.0.0.0, gobgpd fills in the session address on the wire; IPv6 paths carry the node's address).
 */
async function ribNextHops(node: LabNode, family: 'ipv4' | 'ipv6'): Promise<Record<string, string>> {
  const text = (await node.gobgpd.gobgp(['global', 'rib', '-a', family])).stdout;
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^\*>\s+(\S+)\s+(\S+)/gm)) out[m[1]!] = m[2]!;
  return out;
}

for (const router of ['bird', 'frr'] as RouterKind[]) {
  const label = router === 'bird' ? 'BIRD 2' : 'FRR';
  const scope = `${router} dual-stack cluster`;
  describe(`the seed article on a dual-stack cluster, ${label} as the dual-stack ToR (lab + real control plane + svcbgp run per node)`, function () {
    this.timeout(180_000);
    const suite = useSeedSuite({ router, ipv6: true, scope, namespacePrefix: `seed6-${router}`, walk: DUAL_STACK_WALK, dataPath: true });
    const v4 = (names: readonly string[]): string[] => suite.sc.nodeIPs(names);
    const v6 = (names: readonly string[]): string[] => suite.sc.nodeIPs(names, '::');
    const all = ['node-1', 'node-2', 'node-3'];
    /** The ToR's table, both families, at the steps where the article prints `ip r`, and at step 6: test/golden/seed-dual-stack/. */
    const expectTorGolden = (step: string, table: RouteTable, names?: TableNames): void =>
      expectGolden(`seed-dual-stack/${step}-${router}`, renderTorTable(table, names));
    /** The nginx nodes by name in the golden files (the scheduler picks them), in both families. */
    const nginxHops = (): Record<string, string[]> => ({ 'nginx-nodes': v4(nginxNodes), 'nginx-nodes-ipv6': v6(nginxNodes) });
    let walkStart = 0;
    let clusterIPs: string[] = [];
    let nginxNodes: string[] = [];

    /**
     * HTTP from the external host to each address (served on every node first): every request must be answered, by
     * one of `nodes` (where the ToR's host route sends it). Returns the answers for the metrics.
     */
    async function expectServedBy(addrs: readonly string[], nodes: readonly string[]): Promise<HttpResult[]> {
      const answers: HttpResult[] = [];
      for (const addr of addrs) {
        await suite.sc.serveEverywhere(addr);
        const http = await suite.sc.requestFromExternal(addr, 5000);
        expect(http.ok, `${addr}: ${JSON.stringify(http)}`).to.equal(true);
        expect(http.body, addr).to.include(NGINX_WELCOME);
        expect(nodes, `the node the ToR sent ${addr} to`).to.include(http.node);
        answers.push(http);
      }
      return answers;
    }

    /**
     * Run one step with `ip monitor route` on the ToR and print, for every route of the step's final table that changed
     * during it, when it reached the ToR's kernel with its final next hops (ms after the step began: the file write or
     * kubectl call included) — per family, as the monitor sees each route arrive, not as the table poll does.
     */
    async function withArrivals<T extends Converged>(what: string, step: () => Promise<T>): Promise<T> {
      const monitor = monitorRoutes(suite.lab.tor.ns);
      const t0 = Date.now();
      let r: T | undefined;
      try {
        r = await step();
      } finally {
        const events = await monitor.stop();
        for (const [prefix, hops] of Object.entries(r?.table ?? {})) {
          const want = [...hops].sort().join(' ');
          const e = events.find((x) => !x.deleted && x.prefix === prefix && [...x.nextHops].sort().join(' ') === want);
          if (e) metric(scope, `${what}: ${prefix} in the ToR's kernel, ms`, e.at - t0, `via ${want}`);
        }
      }
      return r;
    }

    /** Every node's RIB, both families: the prefixes of the ToR table this node contributes to, IPv6 via its own address. */
    async function expectRibs(want: (n: LabNode) => string[]): Promise<void> {
      for (const n of suite.lab.nodes) {
        const prefixes = want(n);
        const v4Rib = await ribNextHops(n, 'ipv4');
        const v6Rib = await ribNextHops(n, 'ipv6');
        expect(Object.keys(v4Rib).sort(), `gobgp global rib on ${n.name}`).to.have.members(prefixes.filter((p) => !p.includes(':')));
        expect(v6Rib, `gobgp global rib -a ipv6 on ${n.name}`).to.deep.equal(
          Object.fromEntries(prefixes.filter((p) => p.includes(':')).map((p) => [p, n.ipv6])),
        );
      }
    }

    it('before step 1: the control plane serves both Service ranges (IPv4 first), the Nodes have both InternalIPs and both podCIDRs; the ToR has no route', async () => {
      walkStart = Date.now();
      const { cp, lab } = suite;
      // The API server's default ServiceCIDR object is made from --service-cluster-ip-range.
      const cidrs = await cp.kubectlOk(['get', 'servicecidrs.networking.k8s.io', 'kubernetes', '-o', 'jsonpath={.spec.cidrs}']);
      expect(JSON.parse(cidrs)).to.deep.equal([CLUSTER_IP_RANGE, CLUSTER_IP_RANGE_V6]);
      // The default kubernetes Service stays single-stack IPv4: suites that ask for nothing see a single-stack cluster.
      const k = await cp.kubectlOk(['-n', 'default', 'get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.ipFamilyPolicy} {.spec.clusterIPs}']);
      expect(k).to.equal('SingleStack ["10.49.0.1"]');
      const nodes = await cp.kubectlOk([
        'get',
        'nodes',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name}={.status.addresses[?(@.type=="InternalIP")].address} {.spec.podCIDRs}{"\\n"}{end}',
      ]);
      for (const n of SEED_NODES) {
        const line = nodes.split('\n').find((l) => l.startsWith(`${n.name}=`)) ?? '';
        expect(line, n.name).to.include(`${n.name}=${n.ipv4} ${n.ipv6} `);
        const podCIDRs = JSON.parse(line.slice(line.indexOf('[')) || '[]') as string[];
        expect(podCIDRs, `${n.name} spec.podCIDRs`).to.have.length(2);
        expect(inside(podCIDRs[0]!.split('/')[0]!, '10.48.0.0/16') && podCIDRs[0]!.endsWith('/24'), podCIDRs[0]).to.equal(true);
        expect(inside(podCIDRs[1]!.split('/')[0]!, 'fd00:48::/56') && podCIDRs[1]!.endsWith('/64'), podCIDRs[1]).to.equal(true);
      }
      expect(await lab.torRoutes()).to.deep.equal({});
    });

    it('step 1: the BGPPeer: every session Established, ipv6-unicast negotiated beside ipv4-unicast', async () => {
      const { lab, sc } = suite;
      const r = await sc.step1();
      metric(scope, 'step 1: agents started -> 3 sessions Established, ms', r.sessionsMs);
      expect(
        (await lab.torSessions())
          .filter((s) => s.established)
          .map((s) => s.peer)
          .sort(),
      ).to.deep.equal(v4(all));
      for (const n of lab.nodes) {
        // `gobgp neighbor 192.168.1.1`: both families are advertised and received (MP-BGP over the IPv4 session).
        const text = (await lab.exec(n.ns, GOBGP, ['neighbor', '192.168.1.1'])).stdout;
        expect(text, `gobgp neighbor 192.168.1.1 on ${n.name}`)
          .to.match(/ipv6-unicast:\s+advertised and received/)
          .and.match(/BGP state = (SESSION_STATE_)?established/i); // v4 prints the enum name
      }
      expect(await lab.torRoutes()).to.deep.equal({});
    });

    it('step 2: serviceClusterIPs 10.49.0.0/16 and fd00:49::/112: the ToR holds 10.49.0.0/16 via .10-.12 and, in ip -6 route, fd00:49::/112 via fd00:1::10-12', async () => {
      const { lab, sc } = suite;
      const r = await withArrivals('step 2', () => sc.step2());
      metric(scope, 'step 2: config file rewritten -> both aggregates on the ToR, ms', r.ms);
      const table = await lab.torRoutes();
      expect(table).to.deep.equal({ [CLUSTER_IP_RANGE]: v4(all), [CLUSTER_IP_RANGE_V6]: v6(all) });
      expectTorGolden('step-2', table);
      // The operator's view, as the article prints `ip route`: the IPv6 aggregate is one ECMP route over three next hops.
      const ip6 = await lab.torIpRoute('-6');
      process.stdout.write(`      [ip -6 route on the ToR]\n${ip6.replace(/^/gm, '        ')}\n`);
      // FRR installs through nexthop groups: `nhid <n>` before `proto bgp`.
      expect(ip6).to.match(/^fd00:49::\/112 (nhid \d+ )?proto (bird|bgp) /m);
      for (const hop of v6(all)) expect(ip6).to.match(new RegExp(`nexthop via ${hop} dev br0 weight 1`));
      await expectRibs(() => [CLUSTER_IP_RANGE, CLUSTER_IP_RANGE_V6]);
    });

    it("step 3: nginx (2 replicas) exposed with ipFamilyPolicy PreferDualStack: an IPv4 and an IPv6 cluster IP, an IPv6 EndpointSlice of the Pods' IPv6 addresses; the ToR unchanged", async () => {
      const { lab, sc, cp } = suite;
      const r = await sc.step3();
      clusterIPs = r.clusterIPs;
      expect(clusterIPs, 'spec.clusterIPs').to.have.length(2);
      expect(inside(clusterIPs[0]!, CLUSTER_IP_RANGE), clusterIPs[0]).to.equal(true);
      expect(inside(clusterIPs[1]!, CLUSTER_IP_RANGE_V6), clusterIPs[1]).to.equal(true);
      const fam = await sc.kubectl(['get', 'service', 'nginx', '-o', 'jsonpath={.spec.ipFamilyPolicy} {.spec.ipFamilies}']);
      expect(fam).to.equal('PreferDualStack ["IPv4","IPv6"]');
      // The real EndpointSlice controller wrote one slice per family from the Pods' podIPs (the simulator's IPv6 ones).
      const eps = await endpointsOf(cp.kubeConfig(), sc.ns, 'nginx');
      const pods = await sc.readyNginxPods();
      const podV6 = pods.map((p) => (p.status?.podIPs ?? []).map((x) => x.ip).find((ip) => ip.includes(':'))).sort();
      expect(
        eps
          .filter((e) => e.addressType === 'IPv6' && e.ready)
          .flatMap((e) => e.addresses)
          .sort(),
        'IPv6 EndpointSlice',
      ).to.deep.equal(podV6);
      for (const ip of podV6) expect(inside(ip!, 'fd00:48::/56'), ip).to.equal(true);
      expect(await sc.nginxNodes()).to.have.length.within(1, 2);
      // externalTrafficPolicy is Cluster: no host route in either family; give the agents time to (wrongly) add one.
      await sleep(3000);
      expect(await lab.torRoutes()).to.deep.equal({ [CLUSTER_IP_RANGE]: v4(all), [CLUSTER_IP_RANGE_V6]: v6(all) });
    });

    it('step 4: NodePort + externalTrafficPolicy Local: the IPv4 cluster IP /32 and the IPv6 one /128 via exactly the nginx nodes; HTTP over IPv4 and IPv6 reaches one of them', async () => {
      const { lab, sc } = suite;
      const r = await withArrivals('step 4', () => sc.step4());
      nginxNodes = r.nginxNodes;
      const [c4, c6] = [clusterIPs[0]!, clusterIPs[1]!];
      expect(r.clusterIPs).to.deep.equal(clusterIPs);
      metric(scope, 'step 4: kubectl patch -> /32 and /128 on the ToR, ms', r.ms, `nginx on ${nginxNodes.join(', ')}`);
      const table = await lab.torRoutes();
      expect(table).to.deep.equal({
        [CLUSTER_IP_RANGE]: v4(all),
        [CLUSTER_IP_RANGE_V6]: v6(all),
        [`${c4}/32`]: v4(nginxNodes),
        [`${c6}/128`]: v6(nginxNodes),
      });
      expectTorGolden('step-4', table, { addresses: { [c4]: 'nginx-cluster-ip', [c6]: 'nginx-cluster-ipv6' }, nextHopSets: nginxHops() });
      await expectRibs((n) => [CLUSTER_IP_RANGE, CLUSTER_IP_RANGE_V6, ...(nginxNodes.includes(n.name) ? [`${c4}/32`, `${c6}/128`] : [])]);
      const answers = await expectServedBy([c4, c6], nginxNodes);
      for (const [i, http] of answers.entries()) {
        metric(scope, `step 4: HTTP from the external host to ${clusterIPs[i]!}, ms`, http.ms, `answered by ${http.node ?? '?'}`);
      }
    });

    it('step 5: serviceExternalIPs 192.168.3.0/24 and fd00:3::/64, no cluster IPs: both cluster ranges and host routes gone, both external ranges via all three; both cluster IPs time out', async () => {
      const { lab, sc } = suite;
      const r = await withArrivals('step 5', () => sc.step5());
      metric(scope, 'step 5: config switched -> ToR table (both families), ms', r.ms);
      const table = await lab.torRoutes();
      expect(table).to.deep.equal({ [EXTERNAL_IP_RANGE]: v4(all), [EXTERNAL_IP_RANGE_V6]: v6(all) });
      expectTorGolden('step-5', table);
      await expectRibs(() => [EXTERNAL_IP_RANGE, EXTERNAL_IP_RANGE_V6]);
      for (const addr of clusterIPs) {
        const http = await sc.requestFromExternal(addr, 3000);
        expect(http.ok, addr).to.equal(false);
        expect(http.error, addr).to.match(/timed out/);
      }
    });

    it('step 6: externalIPs 192.168.3.180 and fd00:3::180: the /32 and the /128 via the nginx nodes only; HTTP over IPv4 and IPv6 reaches one of them', async () => {
      const { lab, sc } = suite;
      const r = await withArrivals('step 6', () => sc.step6());
      metric(scope, 'step 6: kubectl patch -> /32 and /128 on the ToR, ms', r.ms);
      expect(r.nginxNodes).to.deep.equal(nginxNodes);
      const table = await lab.torRoutes();
      expect(table).to.deep.equal({
        [EXTERNAL_IP_RANGE]: v4(all),
        [EXTERNAL_IP_RANGE_V6]: v6(all),
        [`${EXTERNAL_IP}/32`]: v4(nginxNodes),
        [`${EXTERNAL_IP_V6}/128`]: v6(nginxNodes),
      });
      expectTorGolden('step-6', table, { nextHopSets: nginxHops() });
      await expectRibs((n) => [
        EXTERNAL_IP_RANGE,
        EXTERNAL_IP_RANGE_V6,
        ...(nginxNodes.includes(n.name) ? [`${EXTERNAL_IP}/32`, `${EXTERNAL_IP_V6}/128`] : []),
      ]);
      await expectServedBy([EXTERNAL_IP, EXTERNAL_IP_V6], nginxNodes);
    });

    it('step 7: the /128 follows the Pods as the /32 does: scale to 3, then to 1', async () => {
      const { lab, sc } = suite;
      const p6 = `${EXTERNAL_IP_V6}/128`;
      await sc.kubectl(['scale', 'deployment', 'nginx', '--replicas', '3']);
      const up = await sc.waitForFollow(p6, (p) => p.length === 3, '3 ready nginx Pods and the /128 via their nodes');
      metric(scope, 'step 7: scale 2 -> 3, /128 follows, ms', up.ms, `nodes ${up.nodes.join(', ')}`);
      // The /32 beside it follows the same Pods (its own path: it may land on the ToR a moment apart).
      await sc.waitForTable(
        { [EXTERNAL_IP_RANGE]: v4(all), [EXTERNAL_IP_RANGE_V6]: v6(all), [`${EXTERNAL_IP}/32`]: v4(up.nodes), [p6]: v6(up.nodes) },
        'the /32 and the /128 via the three nginx nodes',
      );
      await sc.kubectl(['scale', 'deployment', 'nginx', '--replicas', '1']);
      const one = await sc.waitForFollow(p6, (p) => p.length === 1, '1 ready nginx Pod and the /128 via its node only');
      metric(scope, 'step 7: scale 3 -> 1, /128 follows, ms', one.ms, `node ${one.nodes.join(', ')}`);
      nginxNodes = one.nodes;
      const table = await sc.waitForTable(
        { [EXTERNAL_IP_RANGE]: v4(all), [EXTERNAL_IP_RANGE_V6]: v6(all), [`${EXTERNAL_IP}/32`]: v4(nginxNodes), [p6]: v6(nginxNodes) },
        'the /32 and the /128 via the one nginx node',
      );
      expect(await lab.torRoutes()).to.deep.equal(table.table);
      await expectServedBy([EXTERNAL_IP_V6], nginxNodes);
    });

    it('step 7: an IPv6 external IP outside fd00:3::/64 (fd00:9::9) never reaches the ToR, and the Service gets an Event saying why', async () => {
      const { lab, sc } = suite;
      await sc.kubectl(KUBECTL_PATCH_FOREIGN_IP_V6);
      const { events, seen, ms } = await sc.waitForRefusal(FOREIGN_EXTERNAL_IP_V6);
      metric(scope, 'step 7: foreign IPv6 external IP -> Events from 3 nodes, ms', ms);
      expect(seen, `${hostPrefix(FOREIGN_EXTERNAL_IP_V6)} was seen on the ToR`).to.equal(false);
      expect(await lab.torRoutes()).to.deep.equal({
        [EXTERNAL_IP_RANGE]: v4(all),
        [EXTERNAL_IP_RANGE_V6]: v6(all),
        [`${EXTERNAL_IP}/32`]: v4(nginxNodes),
        [`${EXTERNAL_IP_V6}/128`]: v6(nginxNodes),
      });
      for (const n of lab.nodes) expect(await n.gobgpd.ribPrefixes('ipv6'), n.name).to.not.include(hostPrefix(FOREIGN_EXTERNAL_IP_V6));
      const e = events[0]!;
      expect(e.type).to.equal('Warning');
      expect(e.involvedObject.kind).to.equal('Service');
      expect(e.message).to.include(FOREIGN_EXTERNAL_IP_V6).and.include(EXTERNAL_IP_RANGE_V6);
      process.stdout.write(`      [event] ${e.reason}: ${e.message}\n`);
      const listed = await sc.kubectl(['get', 'events', '--field-selector', 'involvedObject.kind=Service,involvedObject.name=nginx']);
      expect(listed).to.match(/Warning\s+AddressNotAdvertised\s+service\/nginx\s+.*fd00:9::9/);
    });

    it("svcbgp explain (offline: the config file + a cluster dump) gives, for every node, the routes its gobgpd holds in both families, the IPv6 ones with the node's IPv6 next hop", async () => {
      const { lab, sc, cp } = suite;
      const dump = join(lab.runDir, 'cluster-dump.yaml');
      writeFileSync(dump, await cp.kubectlOk(['get', 'services,endpointslices,nodes', '-A', '-o', 'yaml']));
      const want = (n: LabNode): string[] => [
        EXTERNAL_IP_RANGE,
        EXTERNAL_IP_RANGE_V6,
        ...(nginxNodes.includes(n.name) ? [`${EXTERNAL_IP}/32`, `${EXTERNAL_IP_V6}/128`] : []),
      ];
      for (const n of lab.nodes) {
        const r = await runCommand(process.execPath, [
          agentEntry(),
          'explain',
          '--config',
          sc.configFile,
          '--cluster',
          dump,
          '--node',
          n.name,
          '--output',
          'json',
        ]);
        expect(r.code, r.stderr).to.equal(0);
        const report = JSON.parse(r.stdout) as { routes: { prefix: string; family: string; nextHop: string }[]; refused: { address: string }[] };
        expect(
          report.routes.map((x) => x.prefix),
          `explain --node ${n.name}`,
        ).to.have.members(want(n));
        for (const rt of report.routes.filter((x) => x.family === 'ipv6-unicast')) expect(rt.nextHop, `${n.name} ${rt.prefix}`).to.equal(n.ipv6);
        expect(
          report.refused.map((x) => x.address),
          `explain --node ${n.name}: refused`,
        ).to.include(FOREIGN_EXTERNAL_IP_V6);
      }
      await expectRibs(want);
      metric(scope, 'dual-stack walk, before step 1 to explain, ms', Date.now() - walkStart);
    });

    it("both sets at once (the article's closing remark): all four ranges and the four host routes, each family via its own node addresses; then back", async () => {
      const { lab, sc } = suite;
      const [c4, c6] = [clusterIPs[0]!, clusterIPs[1]!];
      sc.writeConfig([BGP_PEER, BGP_CONFIGURATION_BOTH_DUAL_STACK]);
      const both = await sc.waitForTable(
        {
          [CLUSTER_IP_RANGE]: v4(all),
          [CLUSTER_IP_RANGE_V6]: v6(all),
          [EXTERNAL_IP_RANGE]: v4(all),
          [EXTERNAL_IP_RANGE_V6]: v6(all),
          [`${c4}/32`]: v4(nginxNodes),
          [`${c6}/128`]: v6(nginxNodes),
          [`${EXTERNAL_IP}/32`]: v4(nginxNodes),
          [`${EXTERNAL_IP_V6}/128`]: v6(nginxNodes),
        },
        'cluster and external ranges of both families',
      );
      metric(scope, 'both sets at once: config file rewritten -> ToR table, ms', both.ms);
      expect(await lab.torRoutes()).to.deep.equal(both.table);
      await expectServedBy([c6], nginxNodes);
      // Back to step 5's document: the cluster ranges and their host routes go, in both families.
      sc.writeConfig(DUAL_STACK_WALK.config[5]);
      const back = await sc.waitForTable(
        { [EXTERNAL_IP_RANGE]: v4(all), [EXTERNAL_IP_RANGE_V6]: v6(all), [`${EXTERNAL_IP}/32`]: v4(nginxNodes), [`${EXTERNAL_IP_V6}/128`]: v6(nginxNodes) },
        "step 5's external ranges only",
      );
      metric(scope, 'both sets -> external only again -> ToR table, ms', back.ms);
      await expectRibs((n) => [
        EXTERNAL_IP_RANGE,
        EXTERNAL_IP_RANGE_V6,
        ...(nginxNodes.includes(n.name) ? [`${EXTERNAL_IP}/32`, `${EXTERNAL_IP_V6}/128`] : []),
      ]);
    });
  });
}
