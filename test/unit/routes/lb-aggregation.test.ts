/**
 * serviceLoadBalancerAggregation (Calico 3.31): src/routes/desired.ts rule 8, decided from Calico's confd
 * (client.go onLoadBalancerIPsUpdate, routes.go advertiseThisService, routes_test.go "Service Load Balancer
 * Aggregation") and kube-proxy's Cluster-policy endpoints (KEP-1669).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Service } from '@kubernetes/client-node';
import { desiredRoutes, diff } from '../../../src/routes/index.js';
import { NODES, PEER_DOC, mustConfig, prefixes, service, slice, type Ep } from './cluster.js';

const BASE = `  serviceClusterIPs:
  - cidr: 10.49.0.0/16
  serviceExternalIPs:
  - cidr: 192.168.3.0/24
  serviceLoadBalancerIPs:
  - cidr: 192.168.4.0/24
  - cidr: fd00:4::/112
  - cidr: 192.168.5.7/32
`;
const CFG = (aggregation?: string): ReturnType<typeof mustConfig> =>
  mustConfig(
    `${PEER_DOC}---\napiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n${BASE}${
      aggregation ? `  serviceLoadBalancerAggregation: ${aggregation}\n` : ''
    }`,
  );
const DISABLED = CFG('Disabled');
const [N1, N2, N3] = [NODES[0]!, NODES[1]!, NODES[2]!];

const lb = (o: Parameters<typeof service>[1] = {}): V1Service =>
  service('shop', {
    type: 'LoadBalancer',
    clusterIP: '10.49.8.8',
    externalTrafficPolicy: 'Cluster',
    externalIPs: ['192.168.3.8'],
    lbIngress: [{ ip: '192.168.4.20' }],
    ...o,
  });
const eps = (...e: Ep[]) => [slice('shop', 'IPv4', e)];

describe('serviceLoadBalancerAggregation (Calico 3.31)', () => {
  it('serviceLoadBalancerAggregation: Disabled advertises a /32 per Cluster Service with a ready endpoint (Calico 3.31)', () => {
    for (const n of NODES) {
      const res = desiredRoutes(DISABLED, n, [lb()], eps({ ip: '10.48.3.1', node: 'node-3' }));
      // Every node, not only node-3: a Cluster policy sends the traffic on from any node. No 192.168.4.0/24.
      expect(prefixes(res.routes)).to.deep.equal(['10.49.0.0/16', '192.168.3.0/24', '192.168.4.20/32']);
      const host = res.routes.find((r) => r.route.prefix === '192.168.4.20/32')!;
      expect(host.reasons.map((r) => [r.rule, r.kind, r.cidr])).to.deep.equal([['per-service', 'load-balancer-ip', '192.168.4.0/24']]);
      expect(host.reasons[0]!.text).to.equal(
        'default/shop (192.168.4.20): serviceLoadBalancerAggregation Disabled and a ready (or serving, terminating) endpoint in the cluster; advertised by every node (Cluster traffic policy) instead of serviceLoadBalancerIPs CIDR 192.168.4.0/24',
      );
      expect(res.withheld).to.deep.equal([]);
    }
  });

  it('Disabled: no endpoint that can serve anywhere -> no node advertises the load-balancer IP, withheld as no-ready-endpoint; not-ready endpoints do not count (Calico would count them)', () => {
    const cases: [Ep[], string][] = [
      [[], 'it has no endpoints at all (no ready Pods, or no EndpointSlice for it)'],
      [
        [
          { ip: '10.48.3.1', node: 'node-3', ready: false, serving: false },
          { ip: '10.48.2.1', node: 'node-2', ready: false, serving: false, terminating: true },
        ],
        'none of its 2 IPv4 endpoint(s) is ready or serving while terminating',
      ],
    ];
    for (const [list, why] of cases) {
      for (const n of NODES) {
        const res = desiredRoutes(DISABLED, n, [lb()], list.length ? eps(...list) : []);
        expect(prefixes(res.routes)).to.deep.equal(['10.49.0.0/16', '192.168.3.0/24']);
        expect(res.withheld.map((w) => [w.address, w.code, w.message])).to.deep.equal([
          [
            '192.168.4.20',
            'no-ready-endpoint',
            `serviceLoadBalancerAggregation is Disabled (no serviceLoadBalancerIPs CIDR is advertised) and ${why}: no node advertises it`,
          ],
        ]);
      }
    }
  });

  it('Disabled: when no endpoint is ready, one serving while terminating keeps the /32 (kube-proxy falls back to it under a Cluster policy, KEP-1669)', () => {
    const draining = eps({ ip: '10.48.3.1', node: 'node-3', ready: false, serving: true, terminating: true });
    expect(prefixes(desiredRoutes(DISABLED, N1, [lb()], draining).routes)).to.include('192.168.4.20/32');
  });

  it("Disabled: the endpoint must be of the address's family (an IPv6 load-balancer IP with IPv4 endpoints only is withheld; Calico counts any family of the Service)", () => {
    const dual = lb({ lbIngress: [{ ip: '192.168.4.20' }, { ip: 'fd00:4::20' }] });
    const res = desiredRoutes(DISABLED, N1, [dual], eps({ ip: '10.48.3.1', node: 'node-3' }));
    expect(prefixes(res.routes)).to.include('192.168.4.20/32').and.not.include('fd00:4::20/128');
    expect(res.withheld.map((w) => [w.address, w.code])).to.deep.equal([['fd00:4::20', 'no-ready-endpoint']]);
    expect(res.withheld[0]!.message).to.contain('it has no IPv6 endpoints at all (only endpoints of the other address family)');
    const both = [...eps({ ip: '10.48.3.1', node: 'node-3' }), slice('shop', 'IPv6', [{ ip: 'fd00:48::1', node: 'node-2' }])];
    expect(prefixes(desiredRoutes(DISABLED, N1, [dual], both).routes)).to.include('fd00:4::20/128');
  });

  it('Disabled: a Local-policy Service keeps its per-node rule (only nodes with a local endpoint)', () => {
    const local = lb({ externalTrafficPolicy: 'Local' });
    const list = eps({ ip: '10.48.2.1', node: 'node-2' });
    expect(prefixes(desiredRoutes(DISABLED, N1, [local], list).routes)).to.not.include('192.168.4.20/32');
    const on2 = desiredRoutes(DISABLED, N2, [local], list).routes.find((r) => r.route.prefix === '192.168.4.20/32');
    expect(on2?.reasons.map((r) => r.rule)).to.deep.equal(['local-endpoint']);
  });

  it('Disabled: a single-address serviceLoadBalancerIPs entry stays per Service whatever the endpoints (Calico checks it first: routes.go hasAnySingleLoadBalancerIP)', () => {
    const single = lb({ lbIngress: [{ ip: '192.168.5.7' }] });
    const res = desiredRoutes(DISABLED, N1, [single], []);
    expect(res.routes.find((r) => r.route.prefix === '192.168.5.7/32')?.reasons.map((r) => r.rule)).to.deep.equal(['single-address-cidr']);
  });

  it('Disabled leaves the cluster-IP and external-IP CIDRs as they are, and adds no /32 for those addresses (the router forwards them along the CIDRs alike)', () => {
    const res = desiredRoutes(DISABLED, N1, [lb()], eps({ ip: '10.48.3.1', node: 'node-3' }));
    expect(res.routes.filter((r) => r.reasons.some((x) => x.rule === 'aggregate')).map((r) => r.route.prefix)).to.deep.equal([
      '10.49.0.0/16',
      '192.168.3.0/24',
    ]);
    expect(prefixes(res.routes)).to.not.include('10.49.8.8/32').and.not.include('192.168.3.8/32');
  });

  it("Enabled, or the field absent (Calico's default): the serviceLoadBalancerIPs CIDRs, no /32 for a Cluster Service", () => {
    for (const cfg of [CFG(), CFG('Enabled')]) {
      const res = desiredRoutes(cfg, N1, [lb()], eps({ ip: '10.48.3.1', node: 'node-3' }));
      expect(prefixes(res.routes)).to.deep.equal(['10.49.0.0/16', '192.168.3.0/24', '192.168.4.0/24', 'fd00:4::/112']);
    }
  });

  it('switching Enabled -> Disabled live: the diff withdraws the CIDRs and adds the /32s, nothing else', () => {
    const list = eps({ ip: '10.48.3.1', node: 'node-3' });
    const before = desiredRoutes(CFG('Enabled'), N3, [lb()], list).routes.map((p) => p.route);
    const after = desiredRoutes(DISABLED, N3, [lb()], list).routes.map((p) => p.route);
    const d = diff(after, before);
    expect(d.add.map((r) => r.prefix)).to.deep.equal(['192.168.4.20/32']);
    expect(d.delete.map((r) => r.prefix).sort()).to.deep.equal(['192.168.4.0/24', 'fd00:4::/112']);
  });

  it("an invalid value is an error naming Calico's values", () => {
    expect(() => CFG('disabled')).to.throw(
      /spec\.serviceLoadBalancerAggregation = "disabled": expected Enabled or Disabled \(Calico's values, case-sensitive\)/,
    );
  });
});

describe('svcbgp explain prints the per-service reason (compiled CLI)', function () {
  this.timeout(60000);
  const MAIN = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));

  it('serviceLoadBalancerAggregation: Disabled -> "because ... serviceLoadBalancerAggregation Disabled ..." and the withheld address with its code', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'svcbgp-lb-aggregation-'));
    try {
      await writeFile(
        join(dir, 'bgp.yaml'),
        `${PEER_DOC}---\napiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n${BASE}  serviceLoadBalancerAggregation: Disabled\n`,
      );
      const down = lb({ lbIngress: [{ ip: '192.168.4.21' }] });
      down.metadata!.name = 'down';
      await writeFile(join(dir, 'dump.json'), JSON.stringify({ kind: 'List', items: [N1, lb(), down, ...eps({ ip: '10.48.3.1', node: 'node-3' })] }));
      const out = await new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          [MAIN, 'explain', '--config', join(dir, 'bgp.yaml'), '--cluster', join(dir, 'dump.json'), '--node', 'node-1'],
          (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
        );
      });
      expect(out).to.contain('  192.168.4.20/32 ');
      expect(out).to.contain(
        'because default/shop (192.168.4.20): serviceLoadBalancerAggregation Disabled and a ready (or serving, terminating) endpoint in the cluster; advertised by every node (Cluster traffic policy) instead of serviceLoadBalancerIPs CIDR 192.168.4.0/24',
      );
      expect(out).to.contain(
        'default/down 192.168.4.21  [no-ready-endpoint]  serviceLoadBalancerAggregation is Disabled (no serviceLoadBalancerIPs CIDR is advertised) and it has no endpoints at all',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
