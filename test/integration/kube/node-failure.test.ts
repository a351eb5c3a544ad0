/**
 * A node whose kubelet dies: the real node-lifecycle controller notices the missing Lease renewals, marks the
 * Node Ready=Unknown and its Pods not ready, and the real EndpointSlice controller turns their endpoints
 * ready=false — the signal on which svcbgp withdraws that node's /32s for Local Services. When the kubelet
 * (here: the node simulator) comes back, the endpoints are ready again. Takes about a minute: the
 * controller's node-monitor grace period is 50 s.
 */
import { expect } from 'chai';
import { CoreV1Api } from '@kubernetes/client-node';
import { useCluster, waitFor, waitForEndpointSlices } from '../../helpers/kube/index.js';

const APP = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      # one per node, so the failed node certainly has one
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}
      containers:
      - {name: web, image: nginx, ports: [{containerPort: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  externalTrafficPolicy: Local
  type: NodePort
  ports: [{port: 80}]
`;

describe('kube: a node whose kubelet stops (real node-lifecycle controller)', function () {
  this.timeout(300_000);
  const cluster = useCluster({ namespacePrefix: 'nodefail' });

  it('turns the endpoints on that node ready=false after the grace period, and ready again when it returns', async () => {
    const { cp, ns, kc, sim } = cluster;
    await cp.kubectlOk(['apply', '-n', ns, '-f', '-'], APP);
    await waitForEndpointSlices(kc, ns, 'web', { ready: 3, nodes: ['node-1', 'node-2', 'node-3'] });

    sim.stopKubelet('node-2');
    const core = kc.makeApiClient(CoreV1Api);
    await waitFor(
      'node-2 Ready=Unknown',
      async () => {
        const n = await core.readNode({ name: 'node-2' });
        return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown';
      },
      { timeoutMs: 180_000, intervalMs: 1000 },
    );
    const down = await waitForEndpointSlices(kc, ns, 'web', { ready: 2, nodes: ['node-1', 'node-3'], timeoutMs: 120_000 });
    const onTwo = down.filter((e) => e.nodeName === 'node-2');
    expect(onTwo).to.have.length(1);
    expect(onTwo[0]!.ready).to.equal(false);
    const taints = (await core.readNode({ name: 'node-2' })).spec?.taints?.map((t) => t.key) ?? [];
    expect(taints).to.include('node.kubernetes.io/unreachable');

    await sim.startKubelet('node-2');
    await waitForEndpointSlices(kc, ns, 'web', { ready: 3, nodes: ['node-1', 'node-2', 'node-3'], timeoutMs: 120_000 });
    expect(sim.errors.map(String)).to.deep.equal([]);
  });
});
