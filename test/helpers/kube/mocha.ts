/**
 * Mocha glue: a suite says
 *
 *   describe('my suite', function () {
 *     const cluster = useCluster();            // before(): shared control plane + node simulator + own namespace
 *     it('...', async () => {
 *       await cluster.cp.kubectlOk(['apply', '-n', cluster.ns, '-f', '-'], SEED_NGINX_DEPLOYMENT);
 *       await waitForEndpointSlices(cluster.kc, cluster.ns, 'nginx', { ready: 2 });
 *     });
 *   });
 *
 * The control plane is shared by every suite of the test process (started by the first, stopped when the
 * process exits); the node simulator and the namespace belong to the suite and are removed in after().
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { sharedControlPlane, type ControlPlane } from './control-plane.js';
import { NodeSimulator, type NodeSimOptions } from './node-sim.js';
import { uniqueNamespace } from './fixtures.js';
import { waitFor } from './wait.js';

export interface Cluster {
  cp: ControlPlane;
  sim: NodeSimulator;
  kc: KubeConfig;
  /** A namespace of this suite's own (created in before(), deleted in after()). */
  ns: string;
  /** Run fn in after(), BEFORE the namespace is deleted and the simulator stops (last registered runs first). */
  onCleanup(fn: () => Promise<unknown>): void;
}

export function useCluster(opts: NodeSimOptions & { namespacePrefix?: string } = {}): Cluster {
  const cleanups: (() => Promise<unknown>)[] = [];
  const cluster = { onCleanup: (fn) => void cleanups.unshift(fn) } as Cluster;
  before(async function () {
    // A cold build of the Kubernetes components takes many minutes; a warm start a few seconds.
    this.timeout(45 * 60_000);
    const cp = await sharedControlPlane({
      onLog: (line) => {
        if (/build|compil|modules|go\.mod|cache/.test(line)) process.stderr.write(`      ${line}\n`);
      },
    });
    cluster.cp = cp;
    cluster.kc = cp.kubeConfig();
    cluster.sim = new NodeSimulator(cluster.kc, opts);
    await cluster.sim.start();
    cluster.ns = uniqueNamespace(opts.namespacePrefix ?? 'svcbgp-test');
    await cp.kubectlOk(['create', 'namespace', cluster.ns]);
    // Pods need the namespace's "default" ServiceAccount (the real ServiceAccount controller makes it).
    const core = cluster.kc.makeApiClient(CoreV1Api);
    await waitFor(`ServiceAccount default in ${cluster.ns}`, async () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace: cluster.ns }).then(() => true),
    );
  });
  after(async function () {
    this.timeout(120_000);
    if (!cluster.cp) return;
    for (const fn of cleanups) await fn().catch((e: unknown) => process.stderr.write(`      cleanup failed: ${String(e)}\n`));
    // Delete the namespace while the simulator still plays the kubelet, so its Pods finish terminating.
    if (cluster.ns) {
      await cluster.cp.kubectl(['delete', 'namespace', cluster.ns, '--wait=true', '--timeout=90s']);
    }
    await cluster.sim?.stop();
  });
  return cluster;
}
