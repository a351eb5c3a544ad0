/**
 * The first StartBgp fixes gobgpd's AS, router-id and listen port until gobgpd restarts, so the agent must not
 * provision from a configuration that is not complete yet. Found in the full test run: the agent started BGP on
 * port 179 (the file's default) because its Node cache had listed before its BGPConfiguration cache, and then
 * the resource's listenPort could never be applied. Real API server, real gobgpd, the real agent process.
 *
 * The incomplete view is made deterministic, without timing: the agent's ServiceAccount may not list
 * BGPConfigurations at first (that cache keeps failing with 403, everything else syncs), and a real 404 (an
 * unserved resource path) stands in for the 404 an API server answers for a moment after a CRD is re-created.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CustomObjectsApi, type KubernetesListObject } from '@kubernetes/client-node';
import { WatchedCache, type CacheState } from '../../../src/kube/watched-cache.js';
import { KubeClient } from '../../../src/kube/client.js';
import { loadKubeConfig } from '../../../src/kube/kubeconfig.js';
import type { CustomResource } from '../../../src/kube/cluster.js';
import { connectGobgp } from '../../../src/gobgp/client.js';
import type { GobgpClient } from '../../../src/gobgp/types.js';
import { useCluster, repoRoot } from '../../helpers/kube/index.js';
import { freePort, waitFor } from '../../helpers/gobgpd.js';
import {
  AgentProcess,
  RestartableGobgpd,
  httpGet,
  loopbackAgentConfig,
  memoryLogger,
  metricValue,
  ribViaCli,
  skipIfSvcbgpResourcesExist,
  type LogEntry,
} from './util.js';

const NODE = `agent-startup-${process.pid}`;
const ROLE = `svcbgp-startup-${process.pid}`;
const SA = 'svcbgp-startup';

describe('svcbgp run: the first StartBgp waits until every configuration source has answered', function () {
  this.timeout(120_000);
  const cluster = useCluster({ nodes: [{ name: NODE, internalIP: '192.168.1.10' }], namespacePrefix: 'svcbgp-startup' });
  let dir: string | undefined;
  let gobgpd: RestartableGobgpd | undefined;
  let client: GobgpClient | undefined;
  let agent: AgentProcess | undefined;

  before(async function () {
    const { cp } = cluster;
    await cp.kubectlOk(['apply', '-f', path.join(repoRoot(), 'deploy/10-crds.yaml')]);
    await skipIfSvcbgpResourcesExist(this, cluster.kc);
    cluster.onCleanup(async () => {
      await agent?.dispose();
      client?.close();
      await gobgpd?.stop();
      await cp.kubectl(['delete', 'bgpconfigurations.svcbgp.io', `node.${NODE}`, '--ignore-not-found']);
      await cp.kubectl(['delete', 'clusterrolebinding,clusterrole', ROLE, '--ignore-not-found']);
    });
    dir = mkdtempSync(path.join(os.tmpdir(), 'svcbgp-agent-startup-'));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an optional resource type that answers 404 a few times and is then served is never treated as absent', async () => {
    const custom = cluster.kc.makeApiClient(CustomObjectsApi);
    const { log } = memoryLogger();
    let calls = 0;
    const seen: { state: CacheState; synced: boolean }[] = [];
    const cache: WatchedCache<CustomResource> = new WatchedCache<CustomResource>({
      name: 'bgpconfigurations',
      client: new KubeClient(loadKubeConfig(cluster.cp.kubeconfig).target),
      path: '/apis/svcbgp.io/v1alpha1/bgpconfigurations',
      // The first two lists get the API server's real 404 (a plural it does not serve), then the real list.
      list: async () => {
        calls += 1;
        const plural = calls <= 2 ? 'notservedyets' : 'bgpconfigurations';
        return (await custom.listClusterCustomObject({ group: 'svcbgp.io', version: 'v1alpha1', plural })) as KubernetesListObject<CustomResource>;
      },
      optional: true,
      log,
      onChange: () => seen.push({ state: cache.state, synced: cache.synced }),
      minBackoffMs: 20,
    });
    try {
      await cache.start();
      await waitFor('the first answer', async () => (seen.length > 0 ? true : undefined), 30_000, 20);
      // The agent acts on the first definite answer: it must be the real list, not "absent" (= file config only).
      expect(seen[0]).to.deep.equal({ state: 'synced', synced: true });
      expect(calls).to.equal(3);
      expect(seen.map((s) => s.state)).to.not.include('absent');
    } finally {
      await cache.stop();
    }
  });

  it("BGPConfiguration not listable yet: gobgpd stays untouched; once it is, BGP starts with the resource's listenPort and routes follow", async () => {
    const { cp, ns } = cluster;
    // The deploy/ ClusterRole without bgpconfigurations, for a ServiceAccount of this suite.
    const rules = (withConfigs: boolean): unknown[] => [
      { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['svcbgp.io'], resources: withConfigs ? ['bgppeers', 'bgpconfigurations'] : ['bgppeers'], verbs: ['list', 'watch'] },
      { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    ];
    const role = (withConfigs: boolean): string =>
      JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: ROLE }, rules: rules(withConfigs) });
    await cp.kubectlOk(['create', 'serviceaccount', SA, '-n', ns]);
    await cp.kubectlOk(['apply', '-f', '-'], role(false));
    await cp.kubectlOk(['create', 'clusterrolebinding', ROLE, '--clusterrole', ROLE, '--serviceaccount', `${ns}:${SA}`]);

    const listenPort = await freePort();
    await cp.kubectlOk(
      ['apply', '-f', '-'],
      `apiVersion: svcbgp.io/v1alpha1
kind: BGPConfiguration
metadata: {name: node.${NODE}}
spec: {listenPort: ${listenPort}}
`,
    );
    const config = path.join(dir!, 'bgp.yaml');
    writeFileSync(config, loopbackAgentConfig({ peerPort: await freePort() }));
    const token = (await cp.kubectlOk(['create', 'token', SA, '-n', ns, '--duration', '10m'])).trim();
    gobgpd = new RestartableGobgpd('agent-startup');
    await gobgpd.start();
    const g = gobgpd;
    client = connectGobgp(g.address, { deadlineMs: 5000 });
    const http = `127.0.0.1:${await freePort()}`;
    agent = new AgentProcess([
      '--node-name',
      NODE,
      '--gobgp-address',
      g.address,
      '--kubeconfig',
      cp.writeKubeconfigForToken(token, ROLE),
      '--config',
      config,
      '--namespace',
      ns,
      '--http-address',
      http,
      '--gobgp-probe-interval',
      '500ms',
      '--debounce',
      '100ms',
    ]);
    agent.start();
    const a = agent;
    try {
      // A pass that saw every other cache synced (the Node included) and this one not: it must wait, not provision.
      const waitingForConfigs = (e: LogEntry): boolean =>
        e.message === 'waiting before configuring gobgpd' && /^caches syncing \(bgpconfigurations:(syncing|failing)\)$/.test(String(e.waiting));
      const first = await waitFor(
        'a pass waiting for nothing but bgpconfigurations (or one that started BGP)',
        async () => a.logs().find((e) => waitingForConfigs(e) || e.message === 'starting BGP on gobgpd'),
        60_000,
      );
      expect(first.message, 'what the pass after the other caches synced did').to.equal('waiting before configuring gobgpd');
      expect(await client.getGlobal(), 'gobgpd global config while the BGPConfiguration cache has not answered').to.equal(undefined);
      expect(a.logs().filter((e) => e.message === 'starting BGP on gobgpd')).to.deep.equal([]);
      const ready = await httpGet(http, '/readyz');
      expect(ready.status).to.equal(503);
      expect(ready.body).to.contain('[-]caches-synced failed');

      // Now the role allows it: the cache syncs, and the first StartBgp carries the resource's listen port.
      await cp.kubectlOk(['apply', '-f', '-'], role(true));
      const global = await waitFor('BGP started', async () => client!.getGlobal(), 60_000, 100);
      expect(global.listenPort).to.equal(listenPort);
      await waitFor('10.49.0.0/16 in gobgpd', async () => ((await ribViaCli((...x) => g.cli(...x))).has('10.49.0.0/16') ? true : undefined), 30_000);
      await waitFor('/readyz 200', async () => ((await httpGet(http, '/readyz')).status === 200 ? true : undefined), 30_000);
      expect(metricValue((await httpGet(http, '/metrics')).body, 'svcbgp_gobgp_global_conflict')).to.equal(0);
      expect(a.logs().filter((e) => e.level === 'error')).to.deep.equal([]);
    } catch (e) {
      throw new Error(`${String(e)}\n--- agent output (tail) ---\n${a.rawOutput().slice(-6000)}`);
    }
  });
});
