/**
 * `svcbgp run` with configuration from svcbgp.io/v1alpha1 custom resources (the CRDs in deploy/) merged with
 * the --config file, against a REAL API server and a REAL gobgpd. Precedence: a resource replaces the file
 * document of the same kind and name; others add up; an invalid merge keeps the last good configuration.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CustomObjectsApi, KubeConfig, type KubernetesListObject } from '@kubernetes/client-node';
import { WatchedCache } from '../../../src/kube/watched-cache.js';
import { KubeClient } from '../../../src/kube/client.js';
import { loadKubeConfig } from '../../../src/kube/kubeconfig.js';
import type { CustomResource } from '../../../src/kube/cluster.js';
import { useCluster, repoRoot } from '../../helpers/kube/index.js';
import { freePort, waitFor } from '../../helpers/gobgpd.js';
import {
  AgentProcess,
  CuttableProxy,
  RestartableGobgpd,
  kubeconfigVia,
  loopbackAgentConfig,
  memoryLogger,
  ribViaCli,
  skipIfSvcbgpResourcesExist,
} from './util.js';

const NODE = `agent-crd-${process.pid}`;
const PEER_CR = `svcbgp-e2e-${process.pid}`;
const DUP_CR = `svcbgp-e2e-dup-${process.pid}`;

describe('svcbgp run: BGPPeer / BGPConfiguration custom resources merged with the file', function () {
  this.timeout(120_000);
  const cluster = useCluster({ nodes: [{ name: NODE, internalIP: '192.168.1.10' }], namespacePrefix: 'svcbgp-crd' });
  let dir: string;
  let gobgpd: RestartableGobgpd;
  let agent: AgentProcess | undefined;
  let torPort: number;

  before(async function () {
    await cluster.cp.kubectlOk(['apply', '-f', path.join(repoRoot(), 'deploy/10-crds.yaml')]);
    await waitFor('CRDs established', async () => ((await cluster.cp.kubectl(['get', 'bgppeers.svcbgp.io'])).code === 0 ? true : undefined), 30_000);
    await skipIfSvcbgpResourcesExist(this, cluster.kc);
    cluster.onCleanup(async () => {
      await cluster.cp.kubectl(['delete', 'bgppeers.svcbgp.io', PEER_CR, DUP_CR, '--ignore-not-found']);
      await cluster.cp.kubectl(['delete', 'bgpconfigurations.svcbgp.io', `node.${NODE}`, '--ignore-not-found']);
    });
    dir = mkdtempSync(path.join(os.tmpdir(), 'svcbgp-agent-crd-'));
    gobgpd = new RestartableGobgpd('agent-crd');
    await gobgpd.start();
    torPort = await freePort();
    const config = path.join(dir, 'bgp.yaml');
    writeFileSync(config, loopbackAgentConfig({ peerPort: torPort, listenPort: await freePort() }));
    agent = new AgentProcess([
      '--node-name',
      NODE,
      '--gobgp-address',
      gobgpd.address,
      '--kubeconfig',
      cluster.cp.kubeconfig,
      '--config',
      config,
      '--http-address',
      `127.0.0.1:${await freePort()}`,
      '--resync-interval',
      '5s',
      '--gobgp-probe-interval',
      '500ms',
      '--debounce',
      '100ms',
      '--namespace',
      cluster.ns,
    ]);
    agent.start();
    await waitFor('10.49.0.0/16 in gobgpd', async () => ((await ribViaCli((...a) => gobgpd.cli(...a))).has('10.49.0.0/16') ? true : undefined), 60_000);
  });

  after(async function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(`--- agent output (tail) ---\n${agent?.rawOutput().slice(-6000)}\n`);
    await agent?.dispose();
    await gobgpd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a BGPPeer resource for this node adds a neighbor; deleting it removes it; the file peer stays', async () => {
    const port = await freePort();
    await cluster.cp.kubectlOk(
      ['apply', '-f', '-'],
      `apiVersion: svcbgp.io/v1alpha1
kind: BGPPeer
metadata: {name: ${PEER_CR}}
spec: {peerIP: "127.0.0.3:${port}", asNumber: 64512, node: ${NODE}}
`,
    );
    await waitFor('neighbor 127.0.0.3', async () => ((await gobgpd.cli('neighbor')).includes('127.0.0.3') ? true : undefined), 30_000);
    await cluster.cp.kubectlOk(['delete', 'bgppeers.svcbgp.io', PEER_CR]);
    await waitFor('neighbor 127.0.0.3 gone', async () => ((await gobgpd.cli('neighbor')).includes('127.0.0.3') ? undefined : true), 30_000);
    expect(await gobgpd.cli('neighbor')).to.contain('127.0.0.2');
  });

  it('a BGPConfiguration node.<name> resource adds communities to matching routes (sent as an AddPath update)', async () => {
    await cluster.cp.kubectlOk(
      ['apply', '-f', '-'],
      `apiVersion: svcbgp.io/v1alpha1
kind: BGPConfiguration
metadata: {name: node.${NODE}}
spec:
  prefixAdvertisements:
  - cidr: 10.49.0.0/16
    communities: ["64512:4242"]
`,
    );
    await waitFor(
      'community on 10.49.0.0/16',
      async () => ((await ribViaCli((...a) => gobgpd.cli(...a))).get('10.49.0.0/16')?.communities.includes('64512:4242') ? true : undefined),
      30_000,
    );
    expect((await ribViaCli((...a) => gobgpd.cli(...a))).get('10.49.0.0/16')!.largeCommunities).to.deep.equal(['64512:7376:1']);
  });

  it('a resource that makes the merged configuration invalid (duplicate peer) is logged; the last good one stays', async () => {
    await cluster.cp.kubectlOk(
      ['apply', '-f', '-'],
      `apiVersion: svcbgp.io/v1alpha1
kind: BGPPeer
metadata: {name: ${DUP_CR}}
spec: {peerIP: "127.0.0.2:${torPort}", asNumber: 64512}
`,
    );
    await waitFor(
      'the invalid merge logged',
      async () =>
        agent!.logs().some((e) => e.message === 'configuration (file + svcbgp.io resources) is invalid; keeping the last good configuration')
          ? true
          : undefined,
      30_000,
    );
    const entry = agent!.logs().find((e) => e.message === 'configuration (file + svcbgp.io resources) is invalid; keeping the last good configuration')!;
    expect(JSON.stringify(entry.errors)).to.contain('duplicate peer');
    expect(await gobgpd.cli('neighbor')).to.contain('127.0.0.2');
    expect((await ribViaCli((...a) => gobgpd.cli(...a))).get('10.49.0.0/16')?.communities).to.include('64512:4242');
    await cluster.cp.kubectlOk(['delete', 'bgppeers.svcbgp.io', DUP_CR]);
  });

  it('a resource type the API server does not serve (CRD not installed) counts as synced and empty, not as an outage', async () => {
    const custom = cluster.kc.makeApiClient(CustomObjectsApi);
    const { log, entries } = memoryLogger();
    let changes = 0;
    const cache = new WatchedCache<CustomResource>({
      name: 'notinstalled',
      client: new KubeClient(loadKubeConfig(cluster.cp.kubeconfig).target),
      path: '/apis/svcbgp.io/v1alpha1/notinstalleds',
      list: async () =>
        (await custom.listClusterCustomObject({ group: 'svcbgp.io', version: 'v1alpha1', plural: 'notinstalleds' })) as KubernetesListObject<CustomResource>,
      optional: true,
      log,
      onChange: () => changes++,
      minBackoffMs: 50,
      absentRecheckMs: 200,
    });
    try {
      await cache.start();
      // absence is confirmed by a few quick retries (a 404 can be transient right after a CRD is created)
      expect(cache.state).to.equal('syncing');
      expect(cache.synced).to.equal(false);
      await waitFor('confirmed absent', async () => (cache.state === 'absent' ? true : undefined), 10_000, 20);
      expect(entries.filter((e) => e.message === 'resource type not found; checking again before treating it as absent')).to.have.length(3);
      expect(cache.synced).to.equal(true);
      expect(cache.connected).to.equal(true);
      expect(cache.list()).to.deep.equal([]);
      await new Promise((r) => setTimeout(r, 700)); // rechecks happen, quietly
      expect(cache.state).to.equal('absent');
      expect(changes).to.equal(1);
      expect(entries.filter((e) => e.level === 'warn' || e.level === 'error')).to.deep.equal([]);
    } finally {
      await cache.stop();
    }
  });

  it('a resource type confirmed absent stays synced and empty through an API-server outage', async () => {
    // Otherwise the whole view turns "not synced" during the outage and the agent stops provisioning: a gobgpd
    // that restarts meanwhile would get neither its global config nor its paths back until the API server returns.
    const proxy = new CuttableProxy(cluster.cp.ports.apiserver);
    await proxy.listen();
    const kc = new KubeConfig();
    const viaProxy = kubeconfigVia(cluster.cp.kubeconfig, proxy.port, dir);
    kc.loadFromFile(viaProxy);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const { log, entries } = memoryLogger();
    const cache = new WatchedCache<CustomResource>({
      name: 'notinstalled',
      client: new KubeClient(loadKubeConfig(viaProxy).target),
      path: '/apis/svcbgp.io/v1alpha1/notinstalleds',
      list: async () =>
        (await custom.listClusterCustomObject({ group: 'svcbgp.io', version: 'v1alpha1', plural: 'notinstalleds' })) as KubernetesListObject<CustomResource>,
      optional: true,
      log,
      onChange: () => undefined,
      minBackoffMs: 50,
      absentRecheckMs: 200,
    });
    try {
      await cache.start();
      await waitFor('confirmed absent', async () => (cache.state === 'absent' ? true : undefined), 10_000, 20);
      await proxy.cut();
      await waitFor('a recheck fails', async () => (cache.state === 'failing' ? true : undefined), 10_000, 20);
      expect(entries.some((e) => e.message === 'list/watch failed; keeping the last known objects and retrying')).to.equal(true);
      expect(cache.synced).to.equal(true);
      expect(cache.connected).to.equal(false);
      expect(cache.list()).to.deep.equal([]);
      await proxy.restore();
      await waitFor('absent again', async () => (cache.state === 'absent' ? true : undefined), 20_000, 20);
      expect(cache.synced).to.equal(true);
    } finally {
      await cache.stop();
      await proxy.cut();
    }
  });
});
