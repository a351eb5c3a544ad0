import { expect } from 'chai';
import type { V1Service } from '@kubernetes/client-node';
import { allocate, lbServiceFromObject, ownershipCondition, readOwnership, OWNERSHIP_CONDITION_TYPE } from '../../../src/alloc/index.js';
import { pool, settings } from './fixtures.js';

describe("alloc: which status addresses are svcbgp's", () => {
  it('the condition round-trips, canonical, and is removed when svcbgp holds nothing', () => {
    const c = ownershipCondition(['192.168.4.1', 'fd00:4::1'], '2024-01-01T00:00:00Z');
    expect(c).to.deep.equal({
      type: OWNERSHIP_CONDITION_TYPE,
      status: 'True',
      reason: 'Assigned',
      message: 'assigned by svcbgp: 192.168.4.1, fd00:4::1',
      lastTransitionTime: '2024-01-01T00:00:00Z',
    });
    expect(readOwnership([{ type: 'Other' }, c])).to.deep.equal(['192.168.4.1', 'fd00:4::1']);
    expect(readOwnership([{ ...c, message: 'assigned by svcbgp: FD00:4:0::1, junk' }])).to.deep.equal(['fd00:4::1']);
    expect(readOwnership([{ ...c, status: 'False' }])).to.deep.equal([]);
    expect(ownershipCondition([], 'now')).to.equal(undefined);
  });

  it('reads a Kubernetes Service: ports, policy, annotations it needs, the ingress and the mark', () => {
    const obj = {
      metadata: {
        namespace: 'prod',
        name: 'web',
        uid: 'u1',
        creationTimestamp: new Date('2024-01-01T00:00:00Z'),
        annotations: { 'svcbgp.io/sharing-key': 'k', 'other.io/x': 'y' },
      },
      spec: {
        type: 'LoadBalancer',
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        ports: [{ port: 53, protocol: 'UDP' }, { port: 53 }],
        externalTrafficPolicy: 'Local',
        selector: { app: 'web' },
      },
      status: {
        loadBalancer: { ingress: [{ ip: '192.168.4.1' }, { hostname: 'lb.example' }, { ip: '10.0.0.1' }] },
        conditions: [ownershipCondition(['192.168.4.1'], 't')],
      },
    } as unknown as V1Service;
    const s = lbServiceFromObject(obj);
    expect(s).to.deep.include({
      creationTimestamp: '2024-01-01T00:00:00Z',
      annotations: { 'svcbgp.io/sharing-key': 'k' },
      ingress: ['192.168.4.1', '10.0.0.1'],
      assignedBySvcbgp: ['192.168.4.1'],
    });
    expect(s.ports).to.deep.equal([
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ]);
  });

  it("an address another product wrote over svcbgp's, with the condition left behind, is not taken for svcbgp's", () => {
    const obj = {
      metadata: { namespace: 'prod', name: 'web', uid: 'u1', creationTimestamp: '2024-01-01T00:00:00Z' },
      spec: { type: 'LoadBalancer', loadBalancerClass: 'other.io/lb', ipFamilies: ['IPv4'] },
      status: { loadBalancer: { ingress: [{ ip: '192.168.4.7' }] }, conditions: [ownershipCondition(['192.168.4.1'], 't')] },
    } as unknown as V1Service;
    const d = allocate([pool('a', '192.168.4.0/29')], settings(), [lbServiceFromObject(obj)]).decisions[0];
    expect(d).to.deep.include({ action: 'free', released: [] });
  });
});
