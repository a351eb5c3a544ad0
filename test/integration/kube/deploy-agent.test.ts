/**
 * The RBAC of deploy/ is enough for the REAL agent: `svcbgp run` (its own process) authenticated by nothing
 * but the svcbgp ServiceAccount's token, against the real API server and a real gobgpd on a unix socket,
 * starts, becomes ready, advertises from the cluster state and creates its Events — no 403 anywhere.
 * Loopback only: the BGP peer is 127.0.0.2 on a port nobody listens on.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot, useCluster, waitFor } from '../../helpers/kube/index.js';
import { freePort } from '../../helpers/gobgpd.js';
import { AgentProcess, RestartableGobgpd, httpGet, ribViaCli } from '../agent/util.js';

const AGENT_NS = 'svcbgp-system';

describe('kube: the svcbgp agent runs with nothing but the deploy/ ServiceAccount token', function () {
  this.timeout(120_000);
  const cluster = useCluster({ namespacePrefix: 'deploy-agent' });
  let dir: string;
  let gobgpd: RestartableGobgpd | undefined;
  let agent: AgentProcess | undefined;

  before(async function () {
    const { cp } = cluster;
    cluster.onCleanup(async () => {
      await agent?.dispose();
      await gobgpd?.stop();
      // This suite's cluster-scoped svcbgp.io resources by name first, so none outlives it even if deleting the CRDs stalls.
      await cp.kubectl(['delete', 'bgppeers.svcbgp.io', 'tor', '--ignore-not-found']);
      await cp.kubectl(['delete', 'bgpconfigurations.svcbgp.io', 'default', '--ignore-not-found']);
      await cp.kubectl(['delete', '-f', resolve(repoRoot(), 'deploy'), '--ignore-not-found', '--wait=true', '--timeout=90s']);
    });
    await cp.kubectlOk(['apply', '-f', resolve(repoRoot(), 'deploy/00-namespace.yaml')]);
    await cp.kubectlOk(['apply', '-f', resolve(repoRoot(), 'deploy')]);
    await cp.kubectlOk(['wait', '--for', 'condition=Established', '--timeout=60s', 'crd/bgppeers.svcbgp.io', 'crd/bgpconfigurations.svcbgp.io']);
    // Only loopback peers may exist while an agent runs (it would make gobgpd dial them).
    await cp.kubectlOk(['delete', 'bgppeers.svcbgp.io', '--all']);
    dir = mkdtempSync(join(os.tmpdir(), 'svcbgp-deploy-agent-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists/watches Services, EndpointSlices, its Node and the svcbgp.io resources, advertises, and records an Event — all with the ServiceAccount token', async () => {
    const { cp, ns } = cluster;
    const peerPort = await freePort();
    await cp.kubectlOk(
      ['apply', '-f', '-'],
      `apiVersion: svcbgp.io/v1alpha1
kind: BGPPeer
metadata: {name: tor}
spec: {peerIP: "127.0.0.2:${peerPort}", asNumber: 64512}
---
apiVersion: svcbgp.io/v1alpha1
kind: BGPConfiguration
metadata: {name: default}
spec:
  listenPort: ${await freePort()}
  serviceClusterIPs: [{cidr: 10.49.0.0/16}]
  serviceExternalIPs: [{cidr: 192.168.3.0/24}]
`,
    );
    // the same, as the file the ConfigMap would hold (so the agent never falls back to the seed peer 192.168.1.1)
    const config = join(dir, 'bgp.yaml');
    writeFileSync(
      config,
      `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: tor}
spec: {peerIP: "127.0.0.2:${peerPort}", asNumber: 64512}
`,
    );
    const token = (await cp.kubectlOk(['create', 'token', 'svcbgp', '-n', AGENT_NS, '--duration', '10m'])).trim();
    const kubeconfig = cp.writeKubeconfigForToken(token, 'svcbgp-agent-process');
    gobgpd = new RestartableGobgpd('deploy-agent');
    await gobgpd.start();
    const http = `127.0.0.1:${await freePort()}`;
    agent = new AgentProcess([
      '--node-name',
      'node-1',
      '--gobgp-address',
      gobgpd.address,
      '--kubeconfig',
      kubeconfig,
      '--config',
      config,
      '--namespace',
      AGENT_NS,
      '--http-address',
      http,
    ]);
    agent.start();
    const g = gobgpd;
    const a = agent;
    const prefixes = async (): Promise<string[]> => [...(await ribViaCli((...args) => g.cli(...args))).keys()].sort();
    try {
      await waitFor('10.49.0.0/16 and 192.168.3.0/24 in gobgpd', async () => {
        const p = await prefixes();
        return p.includes('10.49.0.0/16') && p.includes('192.168.3.0/24');
      });
      await waitFor('/readyz 200', async () => (await httpGet(http, '/readyz')).status === 200);

      // a Service with an external IP outside every configured CIDR: refused, and an Event says so
      await cp.kubectlOk(['-n', ns, 'create', 'service', 'clusterip', 'outside', '--tcp=80:80']);
      await cp.kubectlOk(['-n', ns, 'patch', 'service', 'outside', '-p', '{"spec":{"externalIPs":["198.51.100.7"]}}']);
      const ev = await waitFor('an Event on Service outside', async () => {
        const out = await cp.kubectlOk([
          '-n',
          ns,
          'get',
          'events',
          '--field-selector',
          'involvedObject.name=outside,source=svcbgp',
          '-o',
          'jsonpath={.items[*].reason}',
        ]);
        return out.trim() ? out : undefined;
      });
      expect(ev).to.contain('AddressNotAdvertised');
      expect(await prefixes()).to.not.include('198.51.100.7/32');
    } catch (e) {
      throw new Error(`${String(e)}\n--- agent output (tail) ---\n${a.rawOutput().slice(-6000)}`);
    }
    const out = a.rawOutput();
    expect(out).to.not.match(/forbidden|\b403\b/i);
    expect(a.exitCode).to.equal(null);
  });
});
