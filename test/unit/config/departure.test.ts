import { expect } from 'chai';
import type { V1Node } from '@kubernetes/client-node';
import { departureFingerprint, leavingReason } from '../../../src/config/departure.js';
import { gracefulShutdown } from '../../../src/agent/reconciler.js';

const node = (
  over: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deleting?: boolean;
    ready?: [string, string];
    unschedulable?: boolean;
    taints?: string[];
  } = {},
): V1Node => ({
  metadata: {
    name: 'node-1',
    labels: over.labels ?? {},
    annotations: over.annotations ?? {},
    ...(over.deleting ? { deletionTimestamp: new Date('2026-12-02T06:00:00Z') } : {}),
  },
  spec: {
    ...(over.unschedulable ? { unschedulable: true } : {}),
    ...(over.taints ? { taints: over.taints.map((key) => ({ key, effect: 'NoSchedule' })) } : {}),
  },
  status: { conditions: [{ type: 'Ready', status: over.ready?.[0] ?? 'True', reason: 'x', message: over.ready?.[1] ?? 'kubelet is posting ready status' }] },
});

describe('a node leaving vs restarting (src/config/departure.ts)', () => {
  it('leaving: excluded from external load balancers, being deleted, annotated, or the kubelet shutting the node down', () => {
    expect(leavingReason(node({ labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' } })).reason).to.contain(
      'exclude-from-external-load-balancers (value "true")',
    );
    // Presence is the test (Kubernetes' service controller): kubeadm sets it empty, Karpenter its own value.
    expect(leavingReason(node({ labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } })).reason).to.contain(
      'exclude-from-external-load-balancers (value "")',
    );
    expect(leavingReason(node({ deleting: true })).reason).to.contain('being deleted');
    expect(leavingReason(node({ annotations: { 'svcbgp.io/leaving': 'true' } })).reason).to.contain('svcbgp.io/leaving=true');
    expect(leavingReason(node({ ready: ['False', 'container runtime is down, node is shutting down'] })).reason).to.contain('shutting down');
  });

  it('not leaving: a cordon (kubectl drain before a reboot), a node NotReady for another reason, another label, another taint', () => {
    expect(leavingReason(node({ unschedulable: true })).reason).to.equal(undefined);
    expect(leavingReason(node({ ready: ['False', 'container runtime network not ready'] })).reason).to.equal(undefined);
    expect(leavingReason(node({ ready: ['Unknown', 'Kubelet stopped posting node status.'] })).reason).to.equal(undefined);
    expect(leavingReason(node({ labels: { 'node.kubernetes.io/exclude-from-external-load-balancers-x': 'true' } })).reason).to.equal(undefined);
    expect(leavingReason(node({ taints: ['node.kubernetes.io/unschedulable', 'node.kubernetes.io/not-ready'] })).reason).to.equal(undefined);
    expect(leavingReason(node({ annotations: { 'svcbgp.io/leaving': 'false' } })).reason).to.equal(undefined);
  });

  it("an autoscaler's removal taint is leaving, so the node drains before it disappears (Cluster Autoscaler ToBeDeletedByClusterAutoscaler, Karpenter karpenter.sh/disrupted)", () => {
    // The Cluster Autoscaler's taint is also what Kubernetes' service controller drops from load balancers
    // (k8s.io/cloud-provider controllers/service/controller.go); Karpenter v1 taints karpenter.sh/disrupted:NoSchedule.
    for (const t of ['ToBeDeletedByClusterAutoscaler', 'karpenter.sh/disrupted', 'karpenter.sh/disruption']) {
      expect(leavingReason(node({ taints: [t] })).reason, t).to.equal(`the Node carries the taint ${t}: an autoscaler is about to remove it`);
    }
    // The taint changes what the agent reads, so it starts a pass.
    expect(departureFingerprint(node({ taints: ['ToBeDeletedByClusterAutoscaler'] }))).to.not.equal(departureFingerprint(node()));
  });

  it('svcbgp.io/leaving accepts true in any case', () => {
    for (const v of ['true', 'True', 'TRUE', 'tRuE']) {
      expect(leavingReason(node({ annotations: { 'svcbgp.io/leaving': v } })), v).to.deep.equal({ reason: 'the Node is annotated svcbgp.io/leaving=true' });
    }
    // "false", the documented "not leaving", in any case: silent.
    for (const v of ['false', 'False', 'FALSE']) expect(leavingReason(node({ annotations: { 'svcbgp.io/leaving': v } })), v).to.deep.equal({});
  });

  it('an unrecognised svcbgp.io/leaving value is not leaving and is warned about', () => {
    for (const v of ['yes', '1', '', ' true', 'on']) {
      const d = leavingReason(node({ annotations: { 'svcbgp.io/leaving': v } }));
      expect(d.reason, v).to.equal(undefined);
      expect(d.warning, v).to.equal(
        `Node annotation svcbgp.io/leaving=${JSON.stringify(v)} is not understood, so the node is not taken as leaving: write "true" to drain it, "false" or remove the annotation otherwise`,
      );
    }
    // Another signal still decides; the warning stays.
    const both = leavingReason(node({ deleting: true, annotations: { 'svcbgp.io/leaving': 'yes' } }));
    expect(both.reason).to.contain('being deleted');
    expect(both.warning).to.contain('svcbgp.io/leaving="yes"');
    // A control character in the value is escaped: one log line.
    expect(leavingReason(node({ annotations: { 'svcbgp.io/leaving': 'y\nes' } })).warning).to.contain('svcbgp.io/leaving="y\\nes"');
  });

  it('the fingerprint changes with the shutdown condition but not with other status churn', () => {
    const a = departureFingerprint(node({ ready: ['True', 'kubelet is posting ready status'] }));
    expect(departureFingerprint(node({ ready: ['True', 'kubelet is posting ready status. WARNING: x'] }))).to.equal(a);
    expect(departureFingerprint(node({ ready: ['False', 'node is shutting down'] }))).to.not.equal(a);
  });

  it('GRACEFUL_SHUTDOWN: community 65535:0 and LOCAL_PREF 0 added once, other attributes kept', () => {
    const r = {
      prefix: '10.49.0.0/16',
      family: 'ipv4-unicast' as const,
      nextHop: '0.0.0.0',
      communities: ['64512:100'],
      largeCommunities: ['64512:7376:1'],
      localPref: 200,
    };
    const g = gracefulShutdown(r);
    expect(g.communities).to.deep.equal(['64512:100', '65535:0']);
    expect(g.localPref).to.equal(0);
    expect(g.largeCommunities).to.deep.equal(['64512:7376:1']);
    expect(gracefulShutdown(g)).to.deep.equal(g);
  });
});
