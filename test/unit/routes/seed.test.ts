import { expect } from 'chai';
import { desiredRoutes } from '../../../src/routes/index.js';
import { CLUSTER_IPS_DOC, EXTERNAL_IPS_DOC, NODES, PEER_DOC, kubernetesService, mustConfig, nginxSlice, prefixes, service } from './cluster.js';

/** The seed article, step by step, on the three nodes. */
describe('routes: the seed article, step by step', () => {
  const k8s = kubernetesService();

  it('step 1: serviceClusterIPs 10.49.0.0/16 -> every node advertises the aggregate (and nothing else)', () => {
    const config = mustConfig(`${PEER_DOC}---\n${CLUSTER_IPS_DOC}`);
    const nginx = service('nginx', { clusterIP: '10.49.62.131' });
    for (const n of NODES) {
      const res = desiredRoutes(config, n, [k8s.svc, nginx], [k8s.slice, nginxSlice()]);
      expect(prefixes(res.routes), n.metadata?.name).to.deep.equal(['10.49.0.0/16']);
      expect(res.routes[0]?.route.nextHop).to.equal('0.0.0.0');
      expect(res.routes[0]?.route.family).to.equal('ipv4-unicast');
      expect(res.refused).to.deep.equal([]);
      const why = res.routes[0]?.reasons ?? [];
      expect(why.map((r) => r.rule)).to.deep.equal(['aggregate']);
      expect(why[0]?.services?.map((s) => `${s.name} ${s.address}`)).to.deep.equal(['kubernetes 10.49.0.1', 'nginx 10.49.62.131']);
    }
  });

  it('step 2: nginx NodePort + externalTrafficPolicy: Local -> 10.49.62.131/32 only on node-2 and node-3', () => {
    const config = mustConfig(`${PEER_DOC}---\n${CLUSTER_IPS_DOC}`);
    const nginx = service('nginx', { type: 'NodePort', clusterIP: '10.49.62.131', externalTrafficPolicy: 'Local' });
    const got = NODES.map((n) => prefixes(desiredRoutes(config, n, [k8s.svc, nginx], [k8s.slice, nginxSlice()]).routes));
    expect(got).to.deep.equal([['10.49.0.0/16'], ['10.49.0.0/16', '10.49.62.131/32'], ['10.49.0.0/16', '10.49.62.131/32']]);
    const n2 = desiredRoutes(config, NODES[1]!, [k8s.svc, nginx], [k8s.slice, nginxSlice()]);
    const host = n2.routes.find((r) => r.route.prefix === '10.49.62.131/32');
    expect(host?.reasons.map((r) => [r.rule, r.kind, r.cidr])).to.deep.equal([['local-endpoint', 'cluster-ip', '10.49.0.0/16']]);
    expect(host?.reasons[0]?.services).to.deep.equal([{ namespace: 'default', name: 'nginx', address: '10.49.62.131' }]);
    const n1 = desiredRoutes(config, NODES[0]!, [k8s.svc, nginx], [k8s.slice, nginxSlice()]);
    expect(n1.withheld.map((w) => [w.service, w.address, w.code])).to.deep.equal([['nginx', '10.49.62.131', 'no-local-endpoint']]);
    expect(n1.withheld[0]?.message).to.contain('endpoints are on: node-2, node-3');
  });

  it('step 3: switch to serviceExternalIPs 192.168.3.0/24 -> cluster routes gone, external CIDR on every node', () => {
    const config = mustConfig(`${PEER_DOC}---\n${EXTERNAL_IPS_DOC}`);
    expect(config.global.serviceClusterIPs).to.deep.equal([]);
    const nginx = service('nginx', { type: 'NodePort', clusterIP: '10.49.62.131', externalTrafficPolicy: 'Local' });
    for (const n of NODES) {
      const res = desiredRoutes(config, n, [k8s.svc, nginx], [k8s.slice, nginxSlice()]);
      expect(prefixes(res.routes), n.metadata?.name).to.deep.equal(['192.168.3.0/24']);
      expect(res.refused).to.deep.equal([]);
      expect(res.withheld.every((w) => w.code === 'kind-not-configured')).to.equal(true);
    }
  });

  it('step 4: externalIP 192.168.3.180 on the Local nginx -> its /32 on the nginx nodes only', () => {
    const config = mustConfig(`${PEER_DOC}---\n${EXTERNAL_IPS_DOC}`);
    const nginx = service('nginx', { type: 'NodePort', clusterIP: '10.49.62.131', externalTrafficPolicy: 'Local', externalIPs: ['192.168.3.180'] });
    const got = NODES.map((n) => prefixes(desiredRoutes(config, n, [k8s.svc, nginx], [k8s.slice, nginxSlice()]).routes));
    expect(got).to.deep.equal([['192.168.3.0/24'], ['192.168.3.0/24', '192.168.3.180/32'], ['192.168.3.0/24', '192.168.3.180/32']]);
    const n3 = desiredRoutes(config, NODES[2]!, [k8s.svc, nginx], [k8s.slice, nginxSlice()]);
    expect(n3.routes[1]?.reasons.map((r) => [r.rule, r.kind, r.cidr])).to.deep.equal([['local-endpoint', 'external-ip', '192.168.3.0/24']]);
  });

  it('step 4 with Cluster policy: the external IP rides on the aggregate, no /32 anywhere', () => {
    const config = mustConfig(`${PEER_DOC}---\n${EXTERNAL_IPS_DOC}`);
    const nginx = service('nginx', { type: 'NodePort', clusterIP: '10.49.62.131', externalTrafficPolicy: 'Cluster', externalIPs: ['192.168.3.180'] });
    for (const n of NODES) {
      const res = desiredRoutes(config, n, [k8s.svc, nginx], [k8s.slice, nginxSlice()]);
      expect(prefixes(res.routes)).to.deep.equal(['192.168.3.0/24']);
      expect(res.routes[0]?.reasons[0]?.services?.map((s) => s.address)).to.deep.equal(['192.168.3.180']);
    }
  });
});
