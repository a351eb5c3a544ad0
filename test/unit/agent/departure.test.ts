import { expect } from 'chai';
import type { V1Node } from '@kubernetes/client-node';
import { departureFingerprint, leavingReason } from '../../../src/agent/departure.js';
import { gracefulShutdown } from '../../../src/agent/reconciler.js';

const node = (over: { labels?: Record<string, string>; annotations?: Record<string, string>; deleting?: boolean; ready?: [string, string]; unschedulable?: boolean } = {}): V1Node => ({
  metadata: {
    name: 'node-1',
    labels: over.labels ?? {},
    annotations: over.annotations ?? {},
    ...(over.deleting ? { deletionTimestamp: new Date('2026-12-02T06:00:00Z') } : {}),
  },
  spec: over.unschedulable ? { unschedulable: true } : {},
  status: { conditions: [{ type: 'Ready', status: over.ready?.[0] ?? 'True', reason: 'x', message: over.ready?.[1] ?? 'kubelet is posting ready status' }] },
});

describe('a node leaving vs restarting (src/agent/departure.ts)', () => {
  it('leaving: excluded from external load balancers, being deleted, annotated, or the kubelet shutting the node down', () => {
    expect(leavingReason(node({ labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' } }))).to.contain('exclude-from-external-load-balancers=true');
    expect(leavingReason(node({ deleting: true }))).to.contain('being deleted');
    expect(leavingReason(node({ annotations: { 'svcbgp.io/leaving': 'true' } }))).to.contain('svcbgp.io/leaving=true');
    expect(leavingReason(node({ ready: ['False', 'container runtime is down, node is shutting down'] }))).to.contain('shutting down');
  });

  it('not leaving: a cordon (kubectl drain before a reboot), a node NotReady for another reason, the label set to false', () => {
    expect(leavingReason(node({ unschedulable: true }))).to.equal(undefined);
    expect(leavingReason(node({ ready: ['False', 'container runtime network not ready'] }))).to.equal(undefined);
    expect(leavingReason(node({ ready: ['Unknown', 'Kubelet stopped posting node status.'] }))).to.equal(undefined);
    expect(leavingReason(node({ labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': 'false' } }))).to.equal(undefined);
    expect(leavingReason(node({ annotations: { 'svcbgp.io/leaving': 'false' } }))).to.equal(undefined);
  });

  it('the fingerprint changes with the shutdown condition but not with other status churn', () => {
    const a = departureFingerprint(node({ ready: ['True', 'kubelet is posting ready status'] }));
    expect(departureFingerprint(node({ ready: ['True', 'kubelet is posting ready status. WARNING: x'] }))).to.equal(a);
    expect(departureFingerprint(node({ ready: ['False', 'node is shutting down'] }))).to.not.equal(a);
  });

  it('GRACEFUL_SHUTDOWN: community 65535:0 and LOCAL_PREF 0 added once, other attributes kept', () => {
    const r = { prefix: '10.49.0.0/16', family: 'ipv4-unicast' as const, nextHop: '0.0.0.0', communities: ['64512:100'], largeCommunities: ['64512:7376:1'], localPref: 200 };
    const g = gracefulShutdown(r);
    expect(g.communities).to.deep.equal(['64512:100', '65535:0']);
    expect(g.localPref).to.equal(0);
    expect(g.largeCommunities).to.deep.equal(['64512:7376:1']);
    expect(gracefulShutdown(g)).to.deep.equal(g);
  });
});
