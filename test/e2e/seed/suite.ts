/**
 * The mocha scaffolding of a seed-article walk (test/e2e/seed-article.test.ts, test/e2e/seed-article-dual-stack.test.ts):
 * before() brings up the shared REAL control plane, a lab (BIRD or FRR ToR, dual-stack or IPv4-only), the node
 * simulator (THE ONE STAND-IN: it plays the kubelet) with Nodes that carry both InternalIPs, with `dataPath` the
 * real data path (the simulator runs the Pods in network namespaces, a real kube-proxy per node), and a namespace of
 * the suite's own; a failed step skips the rest (they build on each other) and prints the agents' last log lines; after()
 * takes it all down. Times are printed as [lab-metric] lines, never asserted.
 *
 *   const suite = useSeedSuite({ router: 'bird', ipv6: true, scope: 'bird dual-stack', namespacePrefix: 'seed-bird' });
 *   it('step 1 ...', async () => { await suite.sc.step1(); ... });
 *
 * The fields are set in before(): read them inside hooks and tests only.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { join } from 'node:path';
import { cleanupStale, createLab, LabPods, startDataPath, type DataPath, type Lab, type RouterKind } from '../../lab/index.js';
import { NodeSimulator, sharedControlPlane, uniqueNamespace, waitFor, type ControlPlane } from '../../helpers/kube/index.js';
import { metric } from '../lab-metrics.js';
import { SEED_NODES, type ArticleWalk } from './article.js';
import { SeedScenario, addIpv6InternalIPs } from './scenario.js';

const execFileAsync = promisify(execFile);

export interface SeedSuiteOptions {
  router: RouterKind;
  /** The ToR carries IPv6 unicast too (lab `ipv6`). */
  ipv6: boolean;
  /** The [lab-metric] scope, e.g. "bird dual-stack". */
  scope: string;
  /** The namespace's prefix (the process id and a counter are appended). */
  namespacePrefix: string;
  /** The article as written (default) or the dual-stack walk. */
  walk?: ArticleWalk;
  /**
   * The real data path (default false: the lab's HTTP stand-ins): the simulator runs the nginx Pods in network
   * namespaces of their own (Debian's nginx) and every node runs a real kube-proxy (test/lab/data-path.ts).
   */
  dataPath?: boolean;
}

export interface SeedSuite {
  cp: ControlPlane;
  lab: Lab;
  sim: NodeSimulator;
  sc: SeedScenario;
  ns: string;
  /** Set when the suite runs the real data path. */
  dataPath?: DataPath;
}

export function useSeedSuite(opts: SeedSuiteOptions): SeedSuite {
  const suite = { ns: uniqueNamespace(opts.namespacePrefix) } as SeedSuite;
  const { scope } = opts;
  let broken = false;
  let suiteStart = Date.now();

  before(async function () {
    // The first start builds the Kubernetes binaries if they are not cached yet (many minutes on 2 cores).
    this.timeout(45 * 60_000);
    suiteStart = Date.now();
    cleanupStale();
    const t0 = Date.now();
    suite.cp = await sharedControlPlane({
      onLog: (line) => {
        if (/build|compil|modules|cache/.test(line)) process.stderr.write(`      ${line}\n`);
      },
    });
    const t1 = Date.now();
    suite.lab = await createLab({ router: opts.router, unknownDestinations: 'drop', ipv6: opts.ipv6 });
    const t2 = Date.now();
    const kc = suite.cp.kubeConfig();
    const runtime = opts.dataPath ? { runtime: new LabPods(suite.lab) } : {};
    suite.sim = new NodeSimulator(kc, { nodes: SEED_NODES.map((n) => ({ name: n.name, internalIP: n.ipv4 })), ...runtime });
    await suite.sim.start();
    await addIpv6InternalIPs(kc);
    if (opts.dataPath) {
      const t = Date.now();
      suite.dataPath = await startDataPath(suite.lab, {
        kubeconfig: join(suite.cp.runDir, 'kube-proxy.kubeconfig'),
        binDir: suite.cp.binDir,
        podCIDRs: (n) => suite.sim.podCIDRsOf(n),
      });
      metric(scope, 'kube-proxy on every node healthy, ms', Date.now() - t);
    }
    await suite.cp.kubectlOk(['create', 'namespace', suite.ns]);
    const core = kc.makeApiClient(CoreV1Api);
    await waitFor(`ServiceAccount default in ${suite.ns}`, () => core.readNamespacedServiceAccount({ name: 'default', namespace: suite.ns }).then(() => true));
    suite.sc = new SeedScenario({
      lab: suite.lab,
      kube: suite.cp,
      namespace: suite.ns,
      ...(opts.walk ? { walk: opts.walk } : {}),
      ...(suite.dataPath ? { dataPath: suite.dataPath } : {}),
    });
    metric(scope, 'control plane ready (shared; 0 when already up), ms', t1 - t0);
    metric(scope, 'lab bring-up, ms', t2 - t1, JSON.stringify(suite.lab.timings));
    metric(scope, 'node simulator + namespace, ms', Date.now() - t2);
  });

  beforeEach(function () {
    // The steps build on each other: after a failure the rest would only repeat it.
    if (broken) this.skip();
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    broken = true;
    // What an operator would look at first: the agents' last log lines.
    for (const a of suite.sc?.agents ?? []) {
      void execFileAsync('tail', ['-n', '15', a.logFile]).then(
        (r) => process.stderr.write(`      --- ${a.node.name} agent log (${a.logFile}) ---\n${r.stdout}`),
        () => undefined,
      );
    }
  });

  after(async function () {
    this.timeout(180_000);
    const t0 = Date.now();
    suite.sc?.stopAgents();
    await suite.sc?.cleanupCluster().catch((e: unknown) => process.stderr.write(`      cleanup: ${String(e)}\n`));
    await suite.sim?.stop().catch((e: unknown) => process.stderr.write(`      node simulator stop: ${String(e)}\n`));
    await suite.lab?.destroy();
    metric(scope, 'teardown (agents, namespace, nodes, lab), ms', Date.now() - t0);
    metric(scope, 'whole suite, ms', Date.now() - suiteStart);
  });

  return suite;
}
