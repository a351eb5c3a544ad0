import { expect } from 'chai';
import type { V1Service } from '@kubernetes/client-node';
import { desiredRoutes, canServe, diff } from '../../../src/routes/index.js';
import { V3Codec } from '../../../src/gobgp/v3/codec.js';
import { asListed } from '../../fixtures/routes.js';
import { NODES, PEER_DOC, mustConfig, node, prefixes, service, slice } from './cluster.js';

const CFG = (spec: string): ReturnType<typeof mustConfig> =>
  mustConfig(`${PEER_DOC}---\napiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n${spec}`);

const ALL = CFG(`  serviceClusterIPs:
  - cidr: 10.49.0.0/16
  - cidr: fd00:49::/112
  serviceExternalIPs:
  - cidr: 192.168.3.0/24
  - cidr: fd00:3::/64
  serviceLoadBalancerIPs:
  - cidr: 192.168.4.0/24
`);
const [N1, N2] = [NODES[0]!, NODES[1]!];
const local = (o: Parameters<typeof service>[1] = {}): V1Service =>
  service('web', { type: 'LoadBalancer', clusterIP: '10.49.7.7', externalTrafficPolicy: 'Local', ...o });

describe('routes: rules and edge cases', () => {
  it('local-policy: no endpoints -> no host route, withheld with "no endpoints at all"', () => {
    const res = desiredRoutes(ALL, N2, [local()], []);
    expect(prefixes(res.routes)).to.not.include('10.49.7.7/32');
    expect(res.withheld.map((w) => w.code)).to.deep.equal(['no-local-endpoint']);
    expect(res.withheld[0]?.message).to.contain('no endpoints at all');
  });

  it('local-policy: endpoints not ready -> no host route', () => {
    const res = desiredRoutes(ALL, N2, [local()], [slice('web', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2', ready: false, serving: false }])]);
    expect(prefixes(res.routes)).to.not.include('10.49.7.7/32');
    expect(res.withheld[0]?.message).to.contain('neither ready nor serving while terminating');
  });

  it('local-policy: terminating but serving -> host route kept (drain, do not black-hole)', () => {
    const res = desiredRoutes(
      ALL,
      N2,
      [local()],
      [slice('web', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2', ready: false, serving: true, terminating: true }])],
    );
    expect(prefixes(res.routes)).to.include('10.49.7.7/32');
  });

  it('local-policy: terminating and no longer serving -> withdrawn', () => {
    const res = desiredRoutes(
      ALL,
      N2,
      [local()],
      [slice('web', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2', ready: false, serving: false, terminating: true }])],
    );
    expect(prefixes(res.routes)).to.not.include('10.49.7.7/32');
  });

  it('endpoint conditions: nil ready/serving mean ready, nil terminating means not terminating', () => {
    expect(canServe(undefined)).to.equal(true);
    expect(canServe({})).to.equal(true);
    expect(canServe({ ready: false })).to.equal(false);
    expect(canServe({ ready: false, terminating: true })).to.equal(true); // serving unknown -> serving
    expect(canServe({ ready: false, serving: false, terminating: true })).to.equal(false);
  });

  it('local-policy: endpoints on other nodes only -> nothing on this node, the text names where they are', () => {
    const res = desiredRoutes(
      ALL,
      N1,
      [local()],
      [
        slice('web', 'IPv4', [
          { ip: '10.48.1.1', node: 'node-2' },
          { ip: '10.48.2.1', node: 'node-3' },
        ]),
      ],
    );
    expect(prefixes(res.routes)).to.deep.equal(['10.49.0.0/16', '192.168.3.0/24', '192.168.4.0/24', 'fd00:3::/64', 'fd00:49::/112']);
    expect(res.withheld[0]?.message).to.contain('endpoints are on: node-2, node-3');
  });

  it('endpoint-family: an IPv6 slice does not make an IPv4 address local', () => {
    const res = desiredRoutes(ALL, N2, [local()], [slice('web', 'IPv6', [{ ip: 'fd00:48::5', node: 'node-2' }])]);
    expect(prefixes(res.routes)).to.not.include('10.49.7.7/32');
    expect(res.withheld[0]?.message).to.contain('only endpoints of the other address family');
  });

  it('endpoint-family: slices are matched by the kubernetes.io/service-name label and namespace, not by slice name', () => {
    const other = slice('web', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2' }], { namespace: 'other' });
    expect(prefixes(desiredRoutes(ALL, N2, [local()], [other]).routes)).to.not.include('10.49.7.7/32');
    const renamed = slice('web', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2' }], { suffix: 'x7k2p' });
    expect(prefixes(desiredRoutes(ALL, N2, [local()], [renamed]).routes)).to.include('10.49.7.7/32');
  });

  it('dual-stack: every cluster IP in its own family, each needing a local endpoint of that family', () => {
    const svc = local({ clusterIPs: ['10.49.7.7', 'fd00:49::7'], externalIPs: ['192.168.3.9', 'fd00:3::9'] });
    const both = [slice('web', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2' }]), slice('web', 'IPv6', [{ ip: 'fd00:48::1', node: 'node-2' }])];
    const res = desiredRoutes(ALL, node('node-2', {}, ['192.168.1.11', 'fd00:1::11']), [svc], both);
    const hosts = res.routes.filter((r) => r.reasons.some((x) => x.rule === 'local-endpoint'));
    expect(hosts.map((r) => [r.route.prefix, r.route.family, r.route.nextHop])).to.deep.equal([
      ['10.49.7.7/32', 'ipv4-unicast', '0.0.0.0'],
      ['192.168.3.9/32', 'ipv4-unicast', '0.0.0.0'],
      ['fd00:3::9/128', 'ipv6-unicast', 'fd00:1::11'],
      ['fd00:49::7/128', 'ipv6-unicast', 'fd00:1::11'],
    ]);
    // Only the IPv4 slice: the IPv6 addresses are withheld.
    const v4only = desiredRoutes(ALL, N2, [svc], [both[0]!]);
    expect(v4only.routes.filter((r) => r.route.prefix.endsWith('/128'))).to.deep.equal([]);
    expect(v4only.withheld.map((w) => w.address)).to.deep.equal(['fd00:3::9', 'fd00:49::7']);
  });

  it('IPv6 only: /128 host routes, IPv6 next hop is the node IPv6 InternalIP, or :: without one', () => {
    const cfg = CFG('  serviceClusterIPs:\n  - cidr: fd00:49::/112\n');
    const svc = service('v6', { type: 'NodePort', clusterIPs: ['fd00:49::12'], externalTrafficPolicy: 'Local' });
    const eps = [slice('v6', 'IPv6', [{ ip: 'fd00:48::9', node: 'node-2' }])];
    const withAddr = desiredRoutes(cfg, node('node-2', {}, ['192.168.1.11', 'fd00:1::11']), [svc], eps);
    expect(withAddr.routes.map((r) => [r.route.prefix, r.route.family, r.route.nextHop])).to.deep.equal([
      ['fd00:49::/112', 'ipv6-unicast', 'fd00:1::11'],
      ['fd00:49::12/128', 'ipv6-unicast', 'fd00:1::11'],
    ]);
    const noAddr = desiredRoutes(cfg, node('node-2', {}, ['192.168.1.11']), [svc], eps);
    expect(noAddr.routes.map((r) => r.route.nextHop)).to.deep.equal(['::', '::']);
  });

  it('outside-cidrs: an external IP outside every serviceExternalIPs CIDR is refused with a reason (8.8.8.8 stays out)', () => {
    const svc = local({ externalIPs: ['8.8.8.8', '192.168.3.10'] });
    const res = desiredRoutes(ALL, N2, [svc], [slice('web', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2' }])]);
    expect(prefixes(res.routes)).to.not.include('8.8.8.8/32');
    expect(prefixes(res.routes)).to.include('192.168.3.10/32');
    expect(res.refused.map((r) => [r.service, r.address, r.kind, r.code])).to.deep.equal([['web', '8.8.8.8', 'external-ip', 'outside-configured-cidrs']]);
    expect(res.refused[0]?.message).to.equal('external IP 8.8.8.8 is outside every serviceExternalIPs CIDR (192.168.3.0/24); not advertised');
  });

  it('outside-cidrs: with serviceExternalIPs empty, every external IP is refused and names the empty field', () => {
    const cfg = CFG('  serviceClusterIPs:\n  - cidr: 10.49.0.0/16\n');
    const res = desiredRoutes(cfg, N2, [local({ externalIPs: ['192.168.3.10'] })], []);
    expect(res.refused.map((r) => r.code)).to.deep.equal(['outside-configured-cidrs']);
    expect(res.refused[0]?.message).to.contain('serviceExternalIPs is empty');
  });

  it('outside-cidrs: a cluster IP outside serviceClusterIPs is refused, not advertised', () => {
    const res = desiredRoutes(ALL, N2, [local({ clusterIP: '10.50.0.1' })], [slice('web', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2' }])]);
    expect(prefixes(res.routes)).to.not.include('10.50.0.1/32');
    expect(res.refused.map((r) => [r.address, r.kind])).to.deep.equal([['10.50.0.1', 'cluster-ip']]);
  });

  it('cluster IPs are opt-in per family: no IPv6 serviceClusterIPs CIDR -> IPv6 cluster IPs withheld, not refused', () => {
    const cfg = CFG('  serviceClusterIPs:\n  - cidr: 10.49.0.0/16\n');
    const svc = service('ds', { clusterIPs: ['10.49.1.1', 'fd00:49::1'] });
    const res = desiredRoutes(cfg, N2, [svc], []);
    expect(res.refused).to.deep.equal([]);
    expect(res.withheld.map((w) => [w.address, w.code, w.message])).to.deep.equal([
      ['fd00:49::1', 'kind-not-configured', 'serviceClusterIPs has no IPv6 CIDR: these cluster IPs are not advertised'],
    ]);
  });

  it('aggregate reasons list every covered Service in data, at most 5 in the text', () => {
    const many = Array.from({ length: 7 }, (_, i) => service(`s${i}`, { clusterIP: `10.49.0.${i + 1}` }));
    const agg = desiredRoutes(ALL, N1, many, []).routes.find((r) => r.route.prefix === '10.49.0.0/16');
    expect(agg?.reasons[0]?.services).to.have.length(7);
    expect(agg?.reasons[0]?.text).to.equal(
      'serviceClusterIPs CIDR 10.49.0.0/16: advertised by every node; carries default/s0 (10.49.0.1), default/s1 (10.49.0.2), default/s2 (10.49.0.3), default/s3 (10.49.0.4), default/s4 (10.49.0.5) and 2 more',
    );
  });

  it('shared-prefix: the same IP on two Services is one route with both reasons; deleting one keeps it', () => {
    const a = service('a', { type: 'NodePort', clusterIP: '10.49.1.1', externalTrafficPolicy: 'Local', externalIPs: ['192.168.3.50'] });
    const b = service('b', { type: 'NodePort', clusterIP: '10.49.1.2', externalTrafficPolicy: 'Local', externalIPs: ['192.168.3.50'] });
    const eps = [slice('a', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2' }]), slice('b', 'IPv4', [{ ip: '10.48.1.2', node: 'node-2' }])];
    const both = desiredRoutes(ALL, N2, [a, b], eps);
    const shared = both.routes.filter((r) => r.route.prefix === '192.168.3.50/32');
    expect(shared).to.have.length(1);
    expect(shared[0]?.reasons[0]?.services?.map((s) => s.name)).to.deep.equal(['a', 'b']);
    const onlyB = desiredRoutes(ALL, N2, [b], eps);
    expect(onlyB.routes.find((r) => r.route.prefix === '192.168.3.50/32')?.reasons[0]?.services?.map((s) => s.name)).to.deep.equal(['b']);
    const none = desiredRoutes(ALL, N2, [], eps);
    expect(prefixes(none.routes)).to.not.include('192.168.3.50/32');
  });

  it('excluded-node: node.kubernetes.io/exclude-from-external-load-balancers present, whatever its value, advertises nothing (Kubernetes service controller: the key is the test)', () => {
    // k8s.io/cloud-provider controllers/service/controller.go getNodeConditionPredicate; kubeadm sets the label empty.
    for (const value of ['true', '', 'false', 'karpenter']) {
      const ex = node('node-2', { 'node.kubernetes.io/exclude-from-external-load-balancers': value });
      const res = desiredRoutes(ALL, ex, [local()], [slice('web', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2' }])]);
      expect(res.excluded, `value "${value}"`).to.equal(true);
      expect(res.routes).to.deep.equal([]);
    }
    expect(desiredRoutes(ALL, node('node-2', { other: 'true' }), [], []).routes).to.have.length(5);
  });

  it('single-address serviceExternalIPs entry is per Service, as in Calico v3.30.0 (projectcalico/calico #9422): advertised only once a Service uses it, a Local one only from nodes with a local endpoint', () => {
    const cfg = CFG('  serviceExternalIPs:\n  - cidr: 192.168.3.180/32\n');
    // No Service on the address: no route at all (it was an aggregate from every node before Calico 3.30).
    for (const n of NODES) expect(desiredRoutes(cfg, n, [], []).routes).to.deep.equal([]);
    const cluster = service('ext', { clusterIP: '10.49.0.9', externalIPs: ['192.168.3.180'], externalTrafficPolicy: 'Cluster' });
    for (const n of NODES) {
      expect(desiredRoutes(cfg, n, [cluster], []).routes.map((r) => [r.route.prefix, r.reasons[0]?.rule, r.reasons[0]?.kind])).to.deep.equal([
        ['192.168.3.180/32', 'single-address-cidr', 'external-ip'],
      ]);
    }
    const loc = service('ext', { clusterIP: '10.49.0.9', externalIPs: ['192.168.3.180'], externalTrafficPolicy: 'Local' });
    const eps = [slice('ext', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2' }])];
    expect(prefixes(desiredRoutes(cfg, N1, [loc], eps).routes)).to.deep.equal([]);
    expect(prefixes(desiredRoutes(cfg, N2, [loc], eps).routes)).to.deep.equal(['192.168.3.180/32']);
  });

  it('load-balancer ingress with ipMode: Proxy is not advertised (Kubernetes 1.30+, KEP-1860: the load balancer proxies, kube-proxy does not bind it)', () => {
    const svc = service('lb', {
      type: 'LoadBalancer',
      clusterIP: '10.49.0.9',
      externalTrafficPolicy: 'Cluster',
      lbIngress: [
        { ip: '192.168.4.20', ipMode: 'Proxy' },
        { ip: '192.168.4.21', ipMode: 'VIP' },
      ],
    });
    const cfg = CFG('  serviceLoadBalancerIPs:\n  - cidr: 192.168.4.20/32\n  - cidr: 192.168.4.21/32\n');
    const res = desiredRoutes(cfg, N1, [svc], []);
    expect(prefixes(res.routes)).to.deep.equal(['192.168.4.21/32']);
    expect(res.withheld.filter((w) => w.kind === 'load-balancer-ip').map((w) => [w.address, w.code])).to.deep.equal([['192.168.4.20', 'ingress-proxied']]);
  });

  it("spec.loadBalancerClass of another implementation: its ingress addresses are that implementation's to announce; unset or svcbgp.io/bgp are svcbgp's", () => {
    const cfg = CFG('  serviceLoadBalancerIPs:\n  - cidr: 192.168.4.20/32\n');
    const withClass = (c?: string) =>
      service('lb', {
        type: 'LoadBalancer',
        clusterIP: '10.49.0.9',
        externalTrafficPolicy: 'Cluster',
        lbIngress: [{ ip: '192.168.4.20' }],
        ...(c ? { loadBalancerClass: c } : {}),
      });
    expect(prefixes(desiredRoutes(cfg, N1, [withClass()], []).routes)).to.deep.equal(['192.168.4.20/32']);
    expect(prefixes(desiredRoutes(cfg, N1, [withClass('svcbgp.io/bgp')], []).routes)).to.deep.equal(['192.168.4.20/32']);
    const other = desiredRoutes(cfg, N1, [withClass('metallb.io/metallb')], []);
    expect(other.routes).to.deep.equal([]);
    expect(other.withheld.filter((w) => w.kind === 'load-balancer-ip').map((w) => [w.address, w.code])).to.deep.equal([
      ['192.168.4.20', 'other-load-balancer-class'],
    ]);
  });

  it('an external or load-balancer IP inside the cluster-IP range is refused: it could shadow a cluster IP (kube-router strict mode); allowAddressesInClusterIPRange opts out', () => {
    const spec = '  serviceClusterIPs:\n  - cidr: 10.49.0.0/16\n  serviceExternalIPs:\n  - cidr: 10.49.0.0/24\n';
    const svc = service('ext', { clusterIP: '10.49.0.9', externalIPs: ['10.49.0.77'], externalTrafficPolicy: 'Cluster' });
    const res = desiredRoutes(CFG(spec), N1, [svc], []);
    expect(res.refused.map((r) => [r.address, r.kind, r.code])).to.deep.equal([['10.49.0.77', 'external-ip', 'inside-cluster-ip-range']]);
    expect(res.refused[0]!.message)
      .to.contain('lies inside the cluster-IP range 10.49.0.0/16 (serviceClusterIPs)')
      .and.to.contain('allowAddressesInClusterIPRange: true');
    const opted = desiredRoutes(CFG(`${spec}  allowAddressesInClusterIPRange: true\n`), N1, [svc], []);
    expect(opted.refused).to.deep.equal([]);
  });

  it('load-balancer IPs: status.loadBalancer.ingress[].ip inside serviceLoadBalancerIPs; hostname-only ingress ignored', () => {
    const svc = local({ lbIngress: [{ ip: '192.168.4.20' }, { hostname: 'lb.example.com' }, { ip: '172.16.0.1' }] });
    const res = desiredRoutes(ALL, N2, [svc], [slice('web', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2' }])]);
    expect(prefixes(res.routes)).to.include('192.168.4.20/32');
    expect(res.routes.find((r) => r.route.prefix === '192.168.4.20/32')?.reasons[0]?.kind).to.equal('load-balancer-ip');
    expect(res.refused.map((r) => [r.address, r.kind, r.code])).to.deep.equal([['172.16.0.1', 'load-balancer-ip', 'outside-configured-cidrs']]);
  });

  it('load-balancer IPs: a single-address serviceLoadBalancerIPs entry is per Service, not an aggregate (Calico)', () => {
    const cfg = CFG('  serviceLoadBalancerIPs:\n  - cidr: 192.168.4.20/32\n');
    expect(desiredRoutes(cfg, N1, [], []).routes).to.deep.equal([]);
    const cluster = service('lb', { type: 'LoadBalancer', clusterIP: '10.49.0.9', externalTrafficPolicy: 'Cluster', lbIngress: [{ ip: '192.168.4.20' }] });
    for (const n of NODES) {
      const res = desiredRoutes(cfg, n, [cluster], []);
      expect(res.routes.map((r) => [r.route.prefix, r.reasons[0]?.rule])).to.deep.equal([['192.168.4.20/32', 'single-address-cidr']]);
    }
    const loc = service('lb', { type: 'LoadBalancer', clusterIP: '10.49.0.9', externalTrafficPolicy: 'Local', lbIngress: [{ ip: '192.168.4.20' }] });
    const eps = [slice('lb', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2' }])];
    expect(prefixes(desiredRoutes(cfg, N1, [loc], eps).routes)).to.deep.equal([]);
    expect(prefixes(desiredRoutes(cfg, N2, [loc], eps).routes)).to.deep.equal(['192.168.4.20/32']);
  });

  it('malformed IPs in a Service are refused with a reason, never thrown; the other Services still work', () => {
    const bad = service('bad', {
      type: 'NodePort',
      clusterIP: '10.49.300.1',
      externalTrafficPolicy: 'Local',
      externalIPs: ['192.168.3.x', '010.1.1.1'],
      lbIngress: [{ ip: '' }],
    });
    const broken = { ...service('broken'), spec: { clusterIPs: 'not-a-list' } } as unknown as V1Service;
    const good = local();
    const res = desiredRoutes(ALL, N2, [bad, broken, good, null as unknown as V1Service], [slice('web', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2' }])]);
    expect(prefixes(res.routes)).to.include('10.49.7.7/32');
    expect(res.refused.map((r) => [r.service, r.address, r.code])).to.deep.equal([
      ['(unnamed)', '', 'invalid-service'],
      ['bad', '010.1.1.1', 'malformed-address'],
      ['bad', '10.49.300.1', 'malformed-address'],
      ['bad', '192.168.3.x', 'malformed-address'],
      ['broken', '', 'invalid-service'],
    ]);
    expect(res.refused[3]?.message).to.equal('external IP "192.168.3.x" is not a valid IPv4 or IPv6 address; not advertised');
  });

  it('headless and ExternalName Services are never advertised', () => {
    const headless = service('h', { clusterIP: 'None', internalTrafficPolicy: 'Local' });
    const ext = service('e', { type: 'ExternalName', externalName: 'db.example.com', externalIPs: ['192.168.3.3'] });
    const res = desiredRoutes(ALL, N2, [headless, ext], [slice('h', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2' }])]);
    expect(res.routes.every((r) => r.reasons.every((x) => x.rule === 'aggregate' && x.services?.length === 0))).to.equal(true);
    expect(res.refused).to.deep.equal([]);
    expect(res.withheld).to.deep.equal([]);
  });

  it('internal-traffic-policy: internalTrafficPolicy: Local gives the cluster IP a host route on endpoint nodes only', () => {
    const svc = service('itp', { clusterIP: '10.49.8.8', internalTrafficPolicy: 'Local', externalIPs: ['192.168.3.8'] });
    const eps = [slice('itp', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2' }])];
    expect(prefixes(desiredRoutes(ALL, N2, [svc], eps).routes)).to.include('10.49.8.8/32');
    expect(prefixes(desiredRoutes(ALL, N2, [svc], eps).routes)).to.not.include('192.168.3.8/32'); // eTP is Cluster
    expect(prefixes(desiredRoutes(ALL, N1, [svc], eps).routes)).to.not.include('10.49.8.8/32');
  });

  it('etp-local-on-clusterip: like Calico, eTP Local is honoured whatever the type (Kubernetes rejects it without externalIPs)', () => {
    const svc = service('odd', { type: 'ClusterIP', clusterIP: '10.49.9.9', externalTrafficPolicy: 'Local' });
    const eps = [slice('odd', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2' }])];
    expect(prefixes(desiredRoutes(ALL, N2, [svc], eps).routes)).to.include('10.49.9.9/32');
    expect(prefixes(desiredRoutes(ALL, N1, [svc], eps).routes)).to.not.include('10.49.9.9/32');
  });

  it('communities: every matching prefixAdvertisements entry contributes; names resolved; localPref from the most specific', () => {
    const cfg = CFG(`  serviceClusterIPs:
  - cidr: 10.49.0.0/16
  communities:
  - name: svc
    value: "64512:100"
  - name: big
    value: "64512:1:2"
  prefixAdvertisements:
  - cidr: 10.49.0.0/16
    communities: [svc, "64512:9"]
    localPref: 100
  - cidr: 10.49.7.0/24
    communities: [big, "64512:10"]
    localPref: 200
  - cidr: 10.50.0.0/16
    communities: ["65000:1"]
`);
    const res = desiredRoutes(cfg, N2, [local()], [slice('web', 'IPv4', [{ ip: '10.48.1.1', node: 'node-2' }])]);
    const agg = res.routes.find((r) => r.route.prefix === '10.49.0.0/16');
    const host = res.routes.find((r) => r.route.prefix === '10.49.7.7/32');
    expect([agg?.route.communities, agg?.route.largeCommunities, agg?.route.localPref]).to.deep.equal([['64512:9', '64512:100'], [], 100]);
    expect([host?.route.communities, host?.route.largeCommunities, host?.route.localPref]).to.deep.equal([
      ['64512:9', '64512:10', '64512:100'],
      ['64512:1:2'],
      200,
    ]);
    expect(host?.attributesFrom?.map((a) => a.cidr)).to.deep.equal(['10.49.0.0/16', '10.49.7.0/24']);
  });

  it('communities: literals are kept as gobgpd reports them back ("64512:0100" -> "64512:100"), so an advertised route is never re-sent', () => {
    const cfg = CFG(`  serviceClusterIPs:
  - cidr: 10.49.0.0/16
  communities:
  - name: padded
    value: "065000:007"
  prefixAdvertisements:
  - cidr: 10.49.0.0/16
    communities: [padded, "64512:0100", "64512:0:010"]
`);
    const wanted = desiredRoutes(cfg, N1, [], []).routes.map((p) => p.route);
    expect(wanted.map((r) => [r.communities, r.largeCommunities])).to.deep.equal([[['64512:100', '65000:7'], ['64512:0:10']]]);
    // AddPath, then ListPath: what the next pass compares against.
    const codec = new V3Codec();
    const advertised = wanted.map((r) => codec.pathFromWire(asListed(codec.pathToWire(r, false)))!.route);
    expect(diff(wanted, advertised)).to.deep.equal({ add: [], update: [], delete: [] });
  });

  it('communities: a node.<name> BGPConfiguration with prefixAdvertisements replaces the global list on that node', () => {
    const cfg = mustConfig(`${PEER_DOC}---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceClusterIPs: [{cidr: 10.49.0.0/16}]
  prefixAdvertisements: [{cidr: 10.49.0.0/16, communities: ["64512:1"]}]
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: node.node-2}
spec:
  prefixAdvertisements: [{cidr: 10.49.0.0/16, communities: ["64512:2"]}]
`);
    expect(desiredRoutes(cfg, N1, [], []).routes[0]?.route.communities).to.deep.equal(['64512:1']);
    expect(desiredRoutes(cfg, N2, [], []).routes[0]?.route.communities).to.deep.equal(['64512:2']);
  });
});
