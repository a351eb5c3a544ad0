/**
 * The node simulator with a Pod runtime (test/helpers/kube/node-sim.ts `runtime`; the lab's is test/lab/pods.ts), against
 * the real control plane: the kubelet's order of things. A Pod is reported Running and Ready only once the runtime has
 * started it (with the pod IP the simulator reports), a failed start is retried, and the runtime stops a deleted Pod's
 * containers before the kubelet's final delete. The runtime here records its calls; the lab's runs nginx.
 */
import { expect } from 'chai';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { sleep } from '../../lab/exec.js';
import { useCluster, waitFor, type PodRuntime, type PodSandbox } from '../../helpers/kube/index.js';

/** A runtime whose start waits for the test (gate) or fails on purpose, and that records every call. */
class RecordingRuntime implements PodRuntime {
  readonly started: PodSandbox[] = [];
  readonly stopped: { pod: PodSandbox; existedInApi: boolean; deleting: boolean }[] = [];
  failNext = 0;
  private gates = new Map<string, () => void>();
  hold = false;
  core?: CoreV1Api;

  async start(pod: PodSandbox): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error(`start of ${pod.name} failed on purpose`);
    }
    if (this.hold) await new Promise<void>((res) => this.gates.set(pod.name, res));
    this.started.push(pod);
  }

  release(name: string): void {
    this.gates.get(name)?.();
  }

  async stop(pod: PodSandbox): Promise<void> {
    // What the API says at the moment the containers stop: the kubelet's final delete has not happened yet
    const p = await this.core!.readNamespacedPod({ name: pod.name, namespace: pod.namespace }).catch(() => undefined);
    this.stopped.push({ pod, existedInApi: p !== undefined, deleting: p?.metadata?.deletionTimestamp !== undefined });
  }
}

const podManifest = (name: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: runtime-test}
spec:
  containers:
  - name: nginx
    image: nginx
    ports:
    - containerPort: 80
`;

describe('kube: the node simulator runs Pods through a runtime (the container runtime and CNI plugin part)', function () {
  this.timeout(90_000);
  const runtime = new RecordingRuntime();
  const cluster = useCluster({ namespacePrefix: 'sim-runtime', runtime });
  let core: CoreV1Api;

  const read = (name: string): Promise<V1Pod> => core.readNamespacedPod({ name, namespace: cluster.ns });
  const isReady = (p: V1Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

  before(() => {
    core = cluster.kc.makeApiClient(CoreV1Api);
    runtime.core = core;
  });

  it('reports a Pod Running and Ready only once the runtime has started it, with the pod IP it gave the runtime', async () => {
    runtime.hold = true;
    await cluster.cp.kubectlOk(['apply', '-n', cluster.ns, '-f', '-'], podManifest('held'));
    await waitFor('the Pod bound to a node', async () => ((await read('held')).spec?.nodeName ? true : undefined));
    await sleep(2000); // the simulator has seen it; its runtime has not finished
    const before = await read('held');
    expect(before.status?.phase, 'phase while the runtime starts it').to.not.equal('Running');
    expect(isReady(before)).to.equal(false);
    expect(before.status?.podIP).to.equal(undefined);
    runtime.release('held');
    const ready = await waitFor('the Pod Ready', async () => {
      const p = await read('held');
      return isReady(p) ? p : undefined;
    });
    const sandbox = runtime.started.find((s) => s.name === 'held')!;
    expect(sandbox.ips[0]).to.equal(ready.status!.podIP);
    expect(sandbox.node).to.equal(ready.spec!.nodeName);
    expect(sandbox.uid).to.equal(ready.metadata!.uid);
    expect(sandbox.containers).to.deep.equal([{ name: 'nginx', image: 'nginx', ports: [80] }]);
    runtime.hold = false;
  });

  it('retries a failed start on the Pod’s next event, and reports nothing in between', async () => {
    runtime.failNext = 1;
    await cluster.cp.kubectlOk(['apply', '-n', cluster.ns, '-f', '-'], podManifest('flaky'));
    await waitFor('the failed start', async () => (runtime.failNext === 0 ? true : undefined));
    await sleep(1000);
    expect(isReady(await read('flaky'))).to.equal(false);
    expect(runtime.started.map((s) => s.name)).to.not.include('flaky');
    await cluster.cp.kubectlOk(['label', '-n', cluster.ns, 'pod', 'flaky', 'retry=1']); // an update event
    await waitFor('the Pod Ready after the retry', async () => (isReady(await read('flaky')) ? true : undefined));
    expect(runtime.started.filter((s) => s.name === 'flaky')).to.have.length(1);
    expect(
      runtime.stopped.map((s) => s.pod.name),
      'a failed start is not stopped',
    ).to.not.include('flaky');
  });

  it('stops a deleted Pod’s containers before the kubelet’s final delete, once', async () => {
    await cluster.cp.kubectlOk(['delete', 'pod', '-n', cluster.ns, 'held', '--wait=true']);
    const stops = runtime.stopped.filter((s) => s.pod.name === 'held');
    expect(stops).to.have.length(1);
    expect(stops[0]!.existedInApi, 'the Pod was still in the API when its containers stopped').to.equal(true);
    expect(stops[0]!.deleting).to.equal(true);
  });

  it('stops a force-deleted Pod’s containers too (no terminating phase)', async () => {
    await cluster.sim.removePod(cluster.ns, 'flaky');
    await waitFor('flaky stopped', async () => (runtime.stopped.some((s) => s.pod.name === 'flaky') ? true : undefined));
    expect(runtime.stopped.filter((s) => s.pod.name === 'flaky')).to.have.length(1);
  });
});
