/**
 * Issue 12, class 1: a restart never falls back to built-in defaults. The agent restarts (a rollout, an OOM kill, a
 * reboot) while the merge of its --config file and the svcbgp.io resources is invalid — here a BGPPeer resource the
 * CRD schema admits but svcbgp rejects (it reuses the file peer's address). Against a REAL API server (the CRDs from
 * deploy/) and a REAL gobgpd. What an operator checks: `gobgp global rib` and `gobgp neighbor` unchanged, the agent's
 * log line that says why, /readyz, svcbgp_config_valid, and `kubectl get events` on the offending resource.
 *
 * The agent is killed with SIGKILL (what the kernel's OOM killer does; a rollout's SIGTERM ends the same way for the
 * agent, which withdraws nothing on exit). "Pod restart" below also restarts gobgpd with an empty RIB, as both
 * containers of a Pod start anew.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useCluster, repoRoot } from '../../helpers/kube/index.js';
import { freePort, waitFor } from '../../helpers/gobgpd.js';
import { AgentProcess, RestartableGobgpd, httpGet, loopbackAgentConfig, metricValue, ribViaCli, skipIfSvcbgpResourcesExist } from './util.js';

const NODE = `agent-invalid-${process.pid}`;
const DUP_CR = `svcbgp-invalid-dup-${process.pid}`;
const NEVER_VALID = 'configuration invalid and never valid since start: gobgpd already runs BGP, so its paths and peers are left exactly as they are';

describe('svcbgp run: a restart with an invalid configuration merge never costs a route', function () {
  this.timeout(180_000);
  const cluster = useCluster({ nodes: [{ name: NODE, internalIP: '192.168.1.10' }], namespacePrefix: 'svcbgp-invalid' });
  let dir: string;
  let config: string;
  let gobgpd: RestartableGobgpd;
  let agent: AgentProcess | undefined;
  let torPort: number;
  let http: string;

  const rib = async (): Promise<string[]> =>
    [...(await ribViaCli((...a) => gobgpd.cli(...a))).values()].map((p) => `${p.prefix} ${p.communities.join(',')} ${p.largeCommunities.join(',')}`).sort();
  const neighbors = async (): Promise<string[]> => {
    const list = JSON.parse(await gobgpd.cli('neighbor', '-j')) as { conf: { neighbor_address: string; description?: string } }[];
    return list.map((n) => `${n.conf.neighbor_address} ${n.conf.description ?? ''}`).sort();
  };
  const startAgent = async (): Promise<AgentProcess> => {
    http = `127.0.0.1:${await freePort()}`;
    const a = new AgentProcess([
      '--node-name',
      NODE,
      '--gobgp-address',
      gobgpd.address,
      '--kubeconfig',
      cluster.cp.kubeconfig,
      '--config',
      config,
      '--http-address',
      http,
      '--resync-interval',
      '2s',
      '--gobgp-probe-interval',
      '500ms',
      '--debounce',
      '100ms',
      '--namespace',
      cluster.ns,
    ]);
    a.start();
    return a;
  };
  const applyDuplicatePeer = (): Promise<unknown> =>
    cluster.cp.kubectlOk(
      ['apply', '-f', '-'],
      `apiVersion: svcbgp.io/v1alpha1
kind: BGPPeer
metadata: {name: ${DUP_CR}}
spec: {peerIP: "127.0.0.2:${torPort}", asNumber: 64512}
`,
    );

  before(async function () {
    await cluster.cp.kubectlOk(['apply', '-f', path.join(repoRoot(), 'deploy/10-crds.yaml')]);
    await waitFor('CRDs established', async () => ((await cluster.cp.kubectl(['get', 'bgppeers.svcbgp.io'])).code === 0 ? true : undefined), 30_000);
    await skipIfSvcbgpResourcesExist(this, cluster.kc);
    cluster.onCleanup(async () => {
      await cluster.cp.kubectl(['delete', 'bgppeers.svcbgp.io', DUP_CR, '--ignore-not-found']);
      await cluster.cp.kubectl(['delete', 'bgpconfigurations.svcbgp.io', 'default', '--ignore-not-found']);
    });
    dir = mkdtempSync(path.join(os.tmpdir(), 'svcbgp-agent-invalid-'));
    gobgpd = new RestartableGobgpd('agent-invalid');
    await gobgpd.start();
    torPort = await freePort();
    config = path.join(dir, 'bgp.yaml');
    writeFileSync(config, loopbackAgentConfig({ peerPort: torPort, listenPort: await freePort(), serviceExternalIPs: ['192.168.3.0/24'] }));
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(`--- agent output (tail) ---\n${agent?.rawOutput().slice(-8000)}\n`);
    await agent?.dispose();
    agent = undefined;
    await cluster.cp.kubectl(['delete', 'bgppeers.svcbgp.io', DUP_CR, '--ignore-not-found']);
    await cluster.cp.kubectl(['delete', 'bgpconfigurations.svcbgp.io', 'default', '--ignore-not-found']);
  });

  after(async () => {
    await gobgpd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('agent restart (SIGKILL) while a BGPPeer resource duplicates the file peer: every path and peer stays in gobgpd, and it says why', async () => {
    agent = await startAgent();
    await waitFor('both CIDRs in gobgpd', async () => ((await rib()).length === 2 ? true : undefined), 60_000);
    await waitFor('peer configured', async () => ((await neighbors()).length === 1 ? true : undefined), 30_000);
    const ribBefore = await rib();
    const peersBefore = await neighbors();
    await agent.dispose();

    await applyDuplicatePeer(); // the CRD schema admits it: only svcbgp can tell it duplicates the file's peer
    agent = await startAgent();
    await waitFor('the hold logged', async () => (agent!.logs().some((e) => e.message === NEVER_VALID) ? true : undefined), 60_000);
    const hold = agent.logs().find((e) => e.message === NEVER_VALID)!;
    expect(String(hold.why)).to.contain('duplicate peer').and.to.contain(`BGPPeer/${DUP_CR}`);
    const invalid = agent.logs().find((e) => String(e.message).startsWith('configuration (file + svcbgp.io resources) is invalid and no valid configuration'));
    expect(JSON.stringify(invalid?.errors)).to.contain('duplicate peer');

    // Several passes (drift every 2 s) later: not one change.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(await rib()).to.deep.equal(ribBefore);
    expect(await neighbors()).to.deep.equal(peersBefore);
    expect(agent.logs().filter((e) => ['advertise', 'withdraw', 'update attributes', 'peers provisioned'].includes(String(e.message)))).to.deep.equal([]);

    const ready = await httpGet(http, '/readyz');
    expect(ready.status).to.equal(503);
    expect(ready.body).to.match(/config-valid[^\n]*(false|fail)/i);
    expect(metricValue((await httpGet(http, '/metrics')).body, 'svcbgp_config_valid')).to.equal(0);

    // The Warning Event on the offending resource (cluster-scoped: its Events are in "default").
    await waitFor(
      'InvalidConfiguration Event',
      async () => {
        const r = await cluster.cp.kubectl(['get', 'events', '-n', 'default', '--field-selector', `involvedObject.name=${DUP_CR}`, '-o', 'json']);
        const items = (JSON.parse(r.stdout || '{"items":[]}') as { items: { reason: string; message: string }[] }).items;
        return items.find((e) => e.reason === 'InvalidConfiguration' && e.message.includes('duplicate peer')) ? true : undefined;
      },
      30_000,
    );

    // The operator removes the resource: the configuration is valid, the agent adopts what gobgpd holds (no change).
    await cluster.cp.kubectlOk(['delete', 'bgppeers.svcbgp.io', DUP_CR]);
    await waitFor('ready again', async () => ((await httpGet(http, '/readyz')).status === 200 ? true : undefined), 60_000);
    expect(await rib()).to.deep.equal(ribBefore);
    expect(agent.logs().filter((e) => ['advertise', 'withdraw'].includes(String(e.message)))).to.deep.equal([]);
  });

  it('Pod restart (gobgpd too, RIB empty) with the same resource: gobgpd comes up from the file without the quarantined resource', async () => {
    await applyDuplicatePeer();
    await gobgpd.kill('SIGKILL');
    await gobgpd.start(); // empty: BGP not started, no paths, no peers
    agent = await startAgent();
    await waitFor('both CIDRs in gobgpd', async () => ((await rib()).length === 2 ? true : undefined), 60_000);
    expect(await rib()).to.deep.equal(['10.49.0.0/16  64512:7376:1', '192.168.3.0/24  64512:7376:1']);
    await waitFor('the file peer configured', async () => ((await neighbors()).length === 1 ? true : undefined), 30_000);
    expect(await neighbors()).to.deep.equal(['127.0.0.2 svcbgp']);
    expect((await httpGet(http, '/readyz')).status).to.equal(503); // config-valid still fails: the resource is invalid
  });

  it("an invalid resource that replaces the file's document is ambiguous: an empty gobgpd waits, nothing from the defaults is applied", async () => {
    // 0.0.0.0/0 as a service CIDR: the CRD schema admits it, svcbgp refuses it without allowUnsafeServiceCIDRs.
    await cluster.cp.kubectlOk(
      ['apply', '-f', '-'],
      `apiVersion: svcbgp.io/v1alpha1
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceExternalIPs: [{cidr: 0.0.0.0/0}]
`,
    );
    await gobgpd.kill('SIGKILL');
    await gobgpd.start();
    agent = await startAgent();
    await waitFor(
      'waiting logged',
      async () =>
        agent!.logs().some((e) => e.message === 'waiting before configuring gobgpd' && String(e.waiting).includes('allowUnsafeServiceCIDRs'))
          ? true
          : undefined,
      60_000,
    );
    expect(await gobgpd.cli('global')).to.match(/AS:\s+0\b/); // BGP never started: no defaults, no seed peer
    expect(await rib().catch(() => [])).to.deep.equal([]); // (gobgp may refuse `global rib` before BGP starts)
    expect(agent.logs().filter((e) => ['advertise', 'gobgpd global configuration set'].includes(String(e.message)))).to.deep.equal([]);
    await cluster.cp.kubectlOk(['delete', 'bgpconfigurations.svcbgp.io', 'default']);
    await waitFor('the file configuration applied', async () => ((await rib()).length === 2 ? true : undefined), 60_000);
  });
});
