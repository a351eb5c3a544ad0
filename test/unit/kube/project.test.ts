import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { parseClusterDump } from '../../../src/cli/explain.js';
import { parseConfig } from '../../../src/config/index.js';
import { desiredRoutes } from '../../../src/routes/index.js';
import { projectEndpointSlice, projectService } from '../../../src/kube/project.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (f: string): string => readFileSync(path.resolve(here, '../../../../test/fixtures/seed', f), 'utf8');

/** The caches keep only what the route rules read (issue 10, memory): the routes must not notice. */
describe('kube: objects cut down at ingest', () => {
  it('the seed cluster dump gives the same routes, refusals and withheld addresses from projected objects', () => {
    const dump = parseClusterDump(fixture('cluster-dump.yaml'));
    const projected = parseClusterDump(fixture('cluster-dump.yaml'));
    projected.services = projected.services.map(projectService);
    projected.endpointSlices = projected.endpointSlices.map(projectEndpointSlice);
    for (const cfgFile of ['config-cluster-ips.yaml', 'config-external-ips.yaml']) {
      const r = parseConfig(fixture(cfgFile));
      if (!r.ok) throw new Error(cfgFile);
      for (const name of ['node-1', 'node-2', 'node-3']) {
        const n: V1Node = dump.nodes.find((x) => x.metadata?.name === name) ?? { metadata: { name, labels: {} }, status: { addresses: [] } };
        expect(desiredRoutes(r.config, n, projected.services, projected.endpointSlices), `${cfgFile} ${name}`).to.deep.equal(
          desiredRoutes(r.config, n, dump.services, dump.endpointSlices),
        );
      }
    }
    expect(JSON.stringify(projected.services).length).to.be.lessThan(JSON.stringify(dump.services).length);
  });

  it('drops what nothing reads (ports, selector, managedFields, target refs, hints), keeps what the rules and Events read', () => {
    // a NodePort Service: the allocator's fields are kept for LoadBalancer Services only (next case)
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'web',
        namespace: 'default',
        uid: 'u1',
        resourceVersion: '7',
        labels: { app: 'web' },
        managedFields: [{ manager: 'kubectl' }],
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{}',
          'svcbgp.io/communities': '64512:1',
          'projectcalico.org/loadBalancerIPs': '["192.168.4.1"]',
        },
      },
      spec: {
        type: 'NodePort',
        clusterIP: '10.49.0.10',
        clusterIPs: ['10.49.0.10'],
        ports: [{ port: 80 }],
        selector: { app: 'web' },
        externalTrafficPolicy: 'Local',
        sessionAffinity: 'None',
        ipFamilies: ['IPv4'],
      },
      status: { loadBalancer: { ingress: [{ ip: '192.168.4.1', ipMode: 'VIP', ports: [{ port: 80 }] }] }, conditions: [] },
    } as unknown as V1Service;
    expect(projectService(svc)).to.deep.equal({
      metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '7', annotations: { 'svcbgp.io/communities': '64512:1' } },
      spec: { type: 'NodePort', clusterIP: '10.49.0.10', clusterIPs: ['10.49.0.10'], externalTrafficPolicy: 'Local', ipFamilies: ['IPv4'] },
      status: { loadBalancer: { ingress: [{ ip: '192.168.4.1', ipMode: 'VIP', ports: [{ port: 80 }] }] } },
    });
    const slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      addressType: 'IPv4',
      metadata: {
        name: 'web-abc',
        namespace: 'default',
        resourceVersion: '9',
        labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'x' },
        ownerReferences: [{}],
      },
      endpoints: [{ addresses: ['10.0.0.5'], conditions: { ready: true }, nodeName: 'node-1', targetRef: { kind: 'Pod' }, zone: 'a', hints: {} }],
      ports: [{ port: 80 }],
    } as unknown as V1EndpointSlice;
    expect(projectEndpointSlice(slice)).to.deep.equal({
      addressType: 'IPv4',
      metadata: { name: 'web-abc', namespace: 'default', resourceVersion: '9', labels: { 'kubernetes.io/service-name': 'web' } },
      endpoints: [{ addresses: ['10.0.0.5'], conditions: { ready: true }, nodeName: 'node-1' }],
    });
  });

  it("keeps for a LoadBalancer Service what the address allocator reads, and of the conditions only svcbgp's", () => {
    const svc = {
      metadata: {
        name: 'web',
        namespace: 'default',
        uid: 'u1',
        resourceVersion: '7',
        creationTimestamp: '2026-01-02T03:04:05Z',
        labels: { app: 'web' },
        annotations: {
          'projectcalico.org/loadBalancerIPs': '["192.168.4.1"]',
          'projectcalico.org/ipv4pools': '["lb"]',
          'svcbgp.io/sharing-key': 'k',
          'other.io/x': 'y'.repeat(1000),
        },
      },
      spec: {
        type: 'LoadBalancer',
        clusterIP: '10.49.0.10',
        ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }],
        selector: { app: 'web' },
        ipFamilyPolicy: 'SingleStack',
        loadBalancerIP: '192.168.4.1',
        sessionAffinity: 'None',
        allocateLoadBalancerNodePorts: true,
      },
      status: {
        loadBalancer: { ingress: [{ ip: '192.168.4.1' }] },
        conditions: [
          { type: 'other.io/Ready', status: 'True', reason: 'R', message: 'm', lastTransitionTime: 't' },
          { type: 'svcbgp.io/AssignedAddresses', status: 'True', reason: 'Assigned', message: 'assigned by svcbgp: 192.168.4.1', lastTransitionTime: 't' },
        ],
      },
    };
    expect(projectService(svc)).to.deep.equal({
      metadata: {
        name: 'web',
        namespace: 'default',
        uid: 'u1',
        resourceVersion: '7',
        annotations: { 'projectcalico.org/loadBalancerIPs': '["192.168.4.1"]', 'projectcalico.org/ipv4pools': '["lb"]', 'svcbgp.io/sharing-key': 'k' },
        creationTimestamp: '2026-01-02T03:04:05Z',
      },
      spec: {
        type: 'LoadBalancer',
        clusterIP: '10.49.0.10',
        ports: [{ port: 80, protocol: 'TCP' }],
        ipFamilyPolicy: 'SingleStack',
        loadBalancerIP: '192.168.4.1',
        selector: { app: 'web' },
      },
      status: {
        loadBalancer: { ingress: [{ ip: '192.168.4.1' }] },
        conditions: [{ type: 'svcbgp.io/AssignedAddresses', status: 'True', message: 'assigned by svcbgp: 192.168.4.1' }],
      },
    });
  });

  it('builds new objects of one shape: fields are copied in a fixed order, never deleted from the parsed object', () => {
    const a = projectService({ spec: { ipFamilies: ['IPv4'], clusterIP: '10.49.0.1', type: 'ClusterIP' }, metadata: { uid: 'u', name: 'a' } });
    expect(Object.keys(a.spec ?? {})).to.deep.equal(['type', 'clusterIP', 'ipFamilies']);
    expect(Object.keys(a.metadata ?? {})).to.deep.equal(['name', 'uid']);
    const raw = { metadata: { name: 'b', managedFields: [{}] } };
    projectService(raw);
    expect(raw.metadata.managedFields).to.have.length(1);
  });

  it('malformed objects (a hand-written or hostile one) are cut down without throwing', () => {
    for (const o of [
      {},
      { metadata: null },
      { spec: 5 },
      { status: { loadBalancer: { ingress: 'x' } } },
      { endpoints: [null, 3, 'x'] },
      { metadata: { labels: 'x' } },
    ]) {
      expect(() => projectService(structuredClone(o) as unknown as V1Service)).not.to.throw();
      expect(() => projectEndpointSlice(structuredClone(o) as unknown as V1EndpointSlice)).not.to.throw();
    }
  });
});
