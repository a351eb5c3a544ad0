/**
 * `svcbgp run` end to end on loopback: the agent as its own process (node dist/src/cli/main.js run), a REAL
 * Kubernetes control plane (test/helpers/kube: etcd, kube-apiserver, controller-manager, scheduler; Pods
 * played by the node simulator, the one stand-in), a REAL gobgpd on a unix socket. The agent reaches the API
 * server through a loopback TCP proxy the test can cut (an API-server outage as the agent sees it).
 * Assertions are what an operator checks: `gobgp global rib`, `gobgp neighbor`, `kubectl get events`, /readyz, /metrics.
 *
 * The tests of this suite run in order on one agent (starting a cluster is the expensive part).
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectGobgp } from '../../../src/gobgp/client.js';
import type { WatchHandle } from '../../../src/gobgp/types.js';
import { useCluster, waitForEndpointSlices } from '../../helpers/kube/index.js';
import { GOBGPD_VERSION, freePort, waitFor } from '../../helpers/gobgpd.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { StatusReport } from '../../../src/cli/status.js';
import { AgentProcess, CuttableProxy, RestartableGobgpd, agentEntry, httpGet, kubeconfigVia, loopbackAgentConfig, metricValue, ribViaCli } from './util.js';

const execFileAsync = promisify(execFile);

const OWNER = '64512:7376:1';
const NODE_A = `agent-a-${process.pid}`;
const NODE_B = `agent-b-${process.pid}`;

function deployment(name: string, node: string, replicas = 1): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      nodeSelector: {kubernetes.io/hostname: ${node}}
      containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
`;
}

function service(name: string, app: string, spec: string): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  selector: {app: ${app}}
  ports: [{port: 80}]
${spec}`;
}

describe('svcbgp run: the agent against a real API server and a real gobgpd', function () {
  this.timeout(120_000);
  const cluster = useCluster({
    nodes: [
      { name: NODE_A, internalIP: '192.168.1.10' },
      { name: NODE_B, internalIP: '192.168.1.11' },
    ],
    namespacePrefix: 'svcbgp-agent',
  });
  let dir: string;
  let gobgpd: RestartableGobgpd;
  let proxy: CuttableProxy;
  let agent: AgentProcess;
  let httpAddress: string;
  let watch: WatchHandle | undefined;
  const tableEvents: string[] = [];
  const rib = (family: 'ipv4' | 'ipv6' = 'ipv4') => ribViaCli((...a) => gobgpd.cli(...a), family);
  const prefixes = async (): Promise<string[]> => [...(await rib()).keys()].sort();
  const kubectl = (...args: string[]) => cluster.cp.kubectlOk(['-n', cluster.ns, ...args]);
  const apply = (yaml: string) => cluster.cp.kubectlOk(['-n', cluster.ns, 'apply', '-f', '-'], yaml);
  const waitRib = (what: string, pred: (p: string[]) => boolean, timeoutMs = 30_000) =>
    waitFor(
      what,
      async () => {
        const p = await prefixes();
        return pred(p) ? p : undefined;
      },
      timeoutMs,
      200,
    ).catch(async (e: unknown) => {
      throw new Error(`${String(e)}\nRIB: ${(await prefixes().catch(() => [])).join(' ')}\n--- agent ---\n${agent.rawOutput().slice(-6000)}`);
    });

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'svcbgp-agent-kube-'));
    gobgpd = new RestartableGobgpd('agent-kube');
    await gobgpd.start();
    proxy = new CuttableProxy(cluster.cp.ports.apiserver);
    await proxy.listen();
    const kubeconfig = kubeconfigVia(cluster.cp.kubeconfig, proxy.port, dir);
    // Loopback only: the peer is 127.0.0.2 on a port nobody listens on; gobgpd listens on a free port.
    const config = path.join(dir, 'bgp.yaml');
    writeFileSync(config, loopbackAgentConfig({ peerPort: await freePort(), listenPort: await freePort(), serviceExternalIPs: ['192.168.3.0/24'] }));
    httpAddress = `127.0.0.1:${await freePort()}`;
    agent = new AgentProcess([
      '--node-name',
      NODE_A,
      '--gobgp-address',
      gobgpd.address,
      '--kubeconfig',
      kubeconfig,
      '--config',
      config,
      '--http-address',
      httpAddress,
      '--resync-interval',
      '3s',
      '--gobgp-probe-interval',
      '500ms',
      '--debounce',
      '100ms',
      '--namespace',
      cluster.ns,
      '--drain-time',
      '2s',
      // This suite shares the control plane with others: cluster-wide svcbgp.io resources are tested in their own suite.
      '--no-custom-resources',
    ]);
    agent.start();
  });

  after(async function () {
    watch?.close();
    if (this.currentTest?.state === 'failed' || process.env.SVCBGP_TEST_LOG)
      process.stderr.write(`--- agent output (tail) ---\n${agent?.rawOutput().slice(-8000)}\n`);
    await agent?.dispose();
    await proxy?.cut();
    await gobgpd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('start-up: gobgpd gets the global config, the peer and both aggregates (marked as ours); /readyz turns 200', async () => {
    await waitRib('both aggregates', (p) => p.includes('10.49.0.0/16') && p.includes('192.168.3.0/24'));
    const r = await rib();
    expect(r.get('10.49.0.0/16')!.largeCommunities).to.deep.equal([OWNER]);
    expect(r.get('10.49.0.0/16')!.nextHop).to.equal('0.0.0.0');
    expect(await gobgpd.cli('global')).to.match(/AS:\s+64512[\s\S]*Router-ID:\s+192\.168\.1\.10/);
    expect(await gobgpd.cli('neighbor')).to.contain('127.0.0.2');
    const ready = await waitFor('/readyz 200', async () => ((await httpGet(httpAddress, '/readyz')).status === 200 ? true : undefined), 30_000);
    expect(ready).to.equal(true);
    expect((await httpGet(httpAddress, '/healthz')).status).to.equal(200);
  });

  it('a Service change shows in gobgp global rib: externalTrafficPolicy Local + externalIP gives /32s on the endpoint node only', async () => {
    await apply(deployment('web', NODE_A));
    await apply(service('web', 'web', `  type: NodePort\n  externalTrafficPolicy: Local\n  externalIPs: [192.168.3.180]\n`));
    await waitForEndpointSlices(cluster.kc, cluster.ns, 'web', { ready: 1, nodes: [NODE_A] });
    const clusterIP = (await kubectl('get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}')).trim();
    await waitRib('the /32s of web', (p) => p.includes('192.168.3.180/32') && p.includes(`${clusterIP}/32`));
    // The reason is in the agent's log.
    const add = agent.logs().find((e) => e.message === 'advertise' && e.prefix === '192.168.3.180/32');
    expect(JSON.stringify(add!.reasons)).to.contain('web');

    // Back to Cluster policy: the host routes go, the aggregates stay.
    await kubectl('patch', 'svc', 'web', '-p', '{"spec":{"externalTrafficPolicy":"Cluster"}}');
    await waitRib('the /32s withdrawn', (p) => !p.includes('192.168.3.180/32') && !p.includes(`${clusterIP}/32`));
    expect(await prefixes()).to.include.members(['10.49.0.0/16', '192.168.3.0/24']);
    const withdraw = agent.logs().find((e) => e.message === 'withdraw' && e.prefix === '192.168.3.180/32');
    expect(withdraw).to.not.equal(undefined);
    await kubectl('patch', 'svc', 'web', '-p', '{"spec":{"externalTrafficPolicy":"Local"}}');
    await waitRib('the /32s back', (p) => p.includes('192.168.3.180/32'));
  });

  it('a broken Service (external IP outside every CIDR) is refused with an Event; the others are still advertised', async () => {
    await apply(deployment('evil', NODE_A));
    await apply(service('evil', 'evil', `  type: NodePort\n  externalTrafficPolicy: Local\n  externalIPs: [8.8.8.8, 192.168.3.181]\n`));
    await waitForEndpointSlices(cluster.kc, cluster.ns, 'evil', { ready: 1, nodes: [NODE_A] });
    await waitRib('the good address of evil', (p) => p.includes('192.168.3.181/32'));
    const p = await prefixes();
    expect(p).to.include('192.168.3.180/32');
    expect(p.some((x) => x.startsWith('8.8.8.8'))).to.equal(false);
    // svcbgp's Events only (source svcbgp): the API server's ClusterIP repair loop may put its own on the same Service
    // (ClusterIPNotAllocated, seen with the dual-stack control plane).
    const events = await waitFor(
      'an Event on Service evil',
      async () => {
        const out = await kubectl('get', 'events', '--field-selector', 'involvedObject.kind=Service,involvedObject.name=evil,source=svcbgp', '-o', 'json');
        const items = (JSON.parse(out) as { items: { reason: string; message: string; type: string }[] }).items;
        return items.length > 0 ? items : undefined;
      },
      30_000,
    );
    expect(events[0]!.reason).to.equal('AddressNotAdvertised');
    expect(events[0]!.type).to.equal('Warning');
    expect(events[0]!.message).to.contain('8.8.8.8');
    // Deduplicated: more passes (drift every 3 s) do not add Events.
    await new Promise((r) => setTimeout(r, 4000));
    const again = JSON.parse(
      await kubectl('get', 'events', '--field-selector', 'involvedObject.kind=Service,involvedObject.name=evil,source=svcbgp', '-o', 'json'),
    ) as { items: unknown[] };
    expect(again.items).to.have.length(events.length);
    const metrics = (await httpGet(httpAddress, '/metrics')).body;
    expect(metricValue(metrics, 'svcbgp_refused_addresses', { reason: 'outside-configured-cidrs' })).to.equal(1);
  });

  it('svcbgp status: gobgpd settings, peers, the owned routes with why, refused and withheld addresses; also during an API-server outage', async () => {
    // A Local Service whose only endpoint is on the other node: withheld on this one.
    await apply(deployment('far', NODE_B));
    await apply(service('far', 'far', `  type: NodePort\n  externalTrafficPolicy: Local\n  externalIPs: [192.168.3.190]\n`));
    await waitForEndpointSlices(cluster.kc, cluster.ns, 'far', { ready: 1, nodes: [NODE_B] });
    const status = async (...extra: string[]): Promise<{ code: number; stdout: string }> => {
      const r = await execFileAsync(process.execPath, [agentEntry(), 'status', '--agent', httpAddress, '--gobgp-address', gobgpd.address, ...extra], {
        timeout: 20_000,
      }).then(
        (x) => ({ code: 0, stdout: x.stdout }),
        (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '' }),
      );
      return r;
    };
    const json = await waitFor(
      'status shows the withheld address',
      async () => {
        const r = await status('-o', 'json');
        const doc = JSON.parse(r.stdout) as StatusReport;
        return doc.agent.status?.withheld.some((w) => w.address === '192.168.3.190') ? doc : undefined;
      },
      30_000,
    );
    expect(json.gobgpd.api).to.equal(GOBGPD_VERSION.api);
    expect(json.gobgpd.global).to.deep.include({ asn: 64512, routerId: '192.168.1.10' });
    expect(json.gobgpd.peers!.map((p) => [p.address, p.owner, p.gracefulRestart.enabled, p.gracefulRestart.restartTime])).to.deep.equal([
      ['127.0.0.2', 'svcbgp', true, 120],
    ]);
    const owned = new Map(json.gobgpd.owned!.map((p) => [p.prefix, p]));
    expect(owned.get('10.49.0.0/16')!.reasons.join(' ')).to.contain('10.49.0.0/16');
    expect(owned.get('192.168.3.180/32')!.reasons.join(' ')).to.contain('web');
    expect(owned.has('192.168.3.190/32')).to.equal(false);
    expect(json.agent.status!.refused.map((r) => `${r.service} ${r.address}`)).to.include(`evil 8.8.8.8`);
    expect(json.agent.status!.lastPass!.result).to.be.oneOf(['ok', 'skipped']);

    const text = await status();
    expect(text.code).to.equal(0);
    expect(text.stdout).to.contain('AS 64512, router-id 192.168.1.10');
    expect(text.stdout).to.match(/127\.0\.0\.2\s+64512\s+\S+\s+\S+\s+on, 120 s/);
    expect(text.stdout).to.match(/192\.168\.3\.180\/32\s+0\.0\.0\.0\s+\S+\s+64512:7376:1\s+.*web/);
    expect(text.stdout).to.contain(`${cluster.ns}/evil 8.8.8.8: `);
    expect(text.stdout).to.contain(`${cluster.ns}/far 192.168.3.190: `);

    // The API server unreachable: status asks only the agent and gobgpd, so it still answers in full.
    await proxy.cut();
    try {
      await waitFor('the agent notices the outage', async () => ((await status('-o', 'json')).stdout.includes('"fresh": false') ? true : undefined), 60_000);
      const during = await status();
      expect(during.stdout).to.contain('192.168.3.180/32').and.to.contain('API server unreachable');
    } finally {
      await proxy.restore();
    }

    // gobgpd answers, the agent does not: the gobgpd part is shown, with the error, and exit code 1.
    const down = await execFileAsync(
      process.execPath,
      [agentEntry(), 'status', '--agent', `127.0.0.1:${await freePort()}`, '--gobgp-address', gobgpd.address],
      { timeout: 20_000 },
    ).then(
      () => ({ code: 0, stdout: '' }),
      (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '' }),
    );
    expect(down.code).to.equal(1);
    expect(down.stdout).to.contain('agent:\n  unreachable').and.to.contain('10.49.0.0/16');
    await kubectl('delete', 'svc', 'far');
    await kubectl('delete', 'deployment', 'far');
  });

  it("drift pass: a deleted owned path comes back; an operator's path survives", async () => {
    await gobgpd.cli('global', 'rib', 'add', '10.99.0.0/24');
    const adds = (): number => agent.logs().filter((e) => e.message === 'advertise' && e.prefix === '10.49.0.0/16').length;
    const addsBefore = adds();
    await gobgpd.cli('global', 'rib', 'del', '10.49.0.0/16');
    // Restored = the agent advertised it again (logged with its reasons) and gobgpd has it.
    await waitFor(
      '10.49.0.0/16 restored by the drift pass',
      async () => (adds() > addsBefore && (await prefixes()).includes('10.49.0.0/16') ? true : undefined),
      20_000,
    );
    await new Promise((r) => setTimeout(r, 3500)); // at least one more drift pass
    expect(metricValue((await httpGet(httpAddress, '/metrics')).body, 'svcbgp_drift_repairs_total', { kind: 'missing' })).to.equal(1);
    expect(await prefixes()).to.include('10.99.0.0/24');
    expect((await rib()).get('10.99.0.0/24')!.largeCommunities).to.deep.equal([]);
  });

  it('SIGTERM withdraws nothing; the restarted agent adopts every path and sends no AddPath and no DeletePath', async () => {
    const before = await rib();
    const watcher = connectGobgp(gobgpd.address);
    watch = watcher.watch({ table: true }, (ev) => {
      if (ev.kind === 'table') for (const p of ev.paths) tableEvents.push(`${p.withdrawn ? 'withdraw' : 'add'} ${p.route.prefix}`);
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await agent.stop('SIGTERM')).to.equal(0);
    expect(agent.logs().some((e) => e.message === 'signal received: exiting without withdrawing routes')).to.equal(true);
    await new Promise((r) => setTimeout(r, 1000));
    expect([...(await rib()).entries()]).to.deep.equal([...before.entries()]);

    agent.start();
    await waitFor(
      '/readyz 200 after restart',
      async () => ((await httpGet(httpAddress, '/readyz').catch(() => ({ status: 0 }))).status === 200 ? true : undefined),
      60_000,
    );
    await new Promise((r) => setTimeout(r, 4000)); // a drift pass too
    expect(tableEvents).to.deep.equal([]);
    const metrics = (await httpGet(httpAddress, '/metrics')).body;
    expect(metricValue(metrics, 'svcbgp_path_changes_total', { op: 'add' }) ?? 0).to.equal(0);
    expect(metricValue(metrics, 'svcbgp_path_changes_total', { op: 'delete' }) ?? 0).to.equal(0);
    expect([...(await rib()).entries()]).to.deep.equal([...before.entries()]);
    // The watcher is live (the empty list means something): a real change shows up as an event.
    await gobgpd.cli('global', 'rib', 'add', '10.98.0.0/24');
    await waitFor('a table event', async () => (tableEvents.includes('add 10.98.0.0/24') ? true : undefined), 10_000);
    watch.close();
    watch = undefined;
    watcher.close();
  });

  it('gobgpd SIGKILLed and started again: /readyz 503 meanwhile; global, paths and the peer come back without restarting the agent', async () => {
    const want = (await prefixes()).filter((p) => p !== '10.99.0.0/24' && p !== '10.98.0.0/24'); // operator paths die with gobgpd
    const agentPid = agent.pid;
    await gobgpd.kill('SIGKILL');
    await waitFor('/readyz 503', async () => ((await httpGet(httpAddress, '/readyz')).status === 503 ? true : undefined), 15_000, 100);
    expect((await httpGet(httpAddress, '/readyz')).body).to.contain('[-]gobgpd-reachable');
    await gobgpd.start();
    await waitRib('every owned path restored', (p) => want.every((x) => p.includes(x)), 30_000);
    await waitFor('peer restored', async () => ((await gobgpd.cli('neighbor')).includes('127.0.0.2') ? true : undefined), 30_000);
    await waitFor('/readyz 200', async () => ((await httpGet(httpAddress, '/readyz')).status === 200 ? true : undefined), 30_000);
    expect(agent.pid).to.equal(agentPid);
    expect(agent.exitCode).to.equal(null);
  });

  it('an API-server outage withdraws nothing; when it is back, the missed deletion is applied', async () => {
    await proxy.cut();
    await waitFor(
      'the agent to notice the outage',
      async () => (agent.logs().some((e) => e.message === 'list/watch failed; keeping the last known objects and retrying') ? true : undefined),
      60_000,
      200,
    );
    // Meanwhile the Service goes away (the admin talks to the API server directly).
    await kubectl('delete', 'svc', 'web');
    await new Promise((r) => setTimeout(r, 5000)); // > one drift pass (3 s)
    expect(await prefixes()).to.include('192.168.3.180/32');
    expect((await httpGet(httpAddress, '/healthz')).status).to.equal(200);

    await proxy.restore();
    await waitRib('the deleted Service withdrawn after reconnecting', (p) => !p.includes('192.168.3.180/32'), 60_000);
    expect(await prefixes()).to.include.members(['10.49.0.0/16', '192.168.3.0/24', '192.168.3.181/32']);
  });

  it('/metrics exports routes by kind and family, passes, durations, gobgpd errors and peer states', async () => {
    const m = (await httpGet(httpAddress, '/metrics')).body;
    expect(metricValue(m, 'svcbgp_routes_advertised', { kind: 'cluster-ip-cidr', family: 'ipv4-unicast' })).to.equal(1);
    expect(metricValue(m, 'svcbgp_routes_advertised', { kind: 'external-ip-cidr', family: 'ipv4-unicast' })).to.equal(1);
    expect(metricValue(m, 'svcbgp_routes_advertised', { kind: 'external-ip', family: 'ipv4-unicast' })).to.be.greaterThan(0);
    expect(metricValue(m, 'svcbgp_reconcile_passes_total', { result: 'ok' })).to.be.greaterThan(0);
    expect(metricValue(m, 'svcbgp_reconcile_duration_seconds_count')).to.be.greaterThan(0);
    expect(metricValue(m, 'svcbgp_bgp_peer_state', { peer: '127.0.0.2', owner: 'svcbgp' })).to.not.equal(undefined);
    expect(metricValue(m, 'svcbgp_gobgp_up')).to.equal(1);
    expect(metricValue(m, 'svcbgp_caches_synced')).to.equal(1);
    expect(m).to.contain('svcbgp_process_resident_memory_bytes');
  });

  it("configuration reload: a bad file is ignored; the article's switch to serviceExternalIPs applies live; MD5 password from a Secret", async () => {
    const config = agent.args[agent.args.indexOf('--config') + 1]!;
    const good = readFileSync(config, 'utf8');
    writeFileSync(config, good.replace('cidr: 10.49.0.0/16', 'cidr: 10.49.0.1/16'));
    await waitFor(
      'the agent to reject the bad file',
      async () => (agent.logs().some((e) => e.message === 'new configuration file is invalid; keeping the last good configuration') ? true : undefined),
      20_000,
    );
    const bad = agent.logs().find((e) => e.message === 'new configuration file is invalid; keeping the last good configuration')!;
    expect(JSON.stringify(bad.errors)).to.contain('10.49.0.1/16');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await prefixes()).to.include('10.49.0.0/16');

    await kubectl('create', 'secret', 'generic', 'bgp-secrets', '--from-literal=tor-2=s3cr3t-pw');
    const peer2Port = await freePort();
    writeFileSync(
      config,
      `${good.replace('serviceClusterIPs: [{cidr: 10.49.0.0/16}]', 'serviceClusterIPs:')}---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: tor-2}
spec:
  peerIP: "127.0.0.3:${peer2Port}"
  asNumber: 64512
  password: {secretKeyRef: {name: bgp-secrets, key: tor-2}}
`,
    );
    await waitRib('10.49.0.0/16 withdrawn after the switch', (p) => !p.includes('10.49.0.0/16') && p.includes('192.168.3.0/24'));
    const client = connectGobgp(gobgpd.address);
    try {
      const peer = await waitFor('peer 127.0.0.3', async () => (await client.listPeers()).find((p) => p.peer.address === '127.0.0.3'), 20_000);
      expect(peer.peer.password).to.equal('s3cr3t-pw');
      expect(peer.ours).to.equal(true);
      expect((await client.listPeers()).find((p) => p.peer.address === '127.0.0.2')).to.not.equal(undefined);
    } finally {
      client.close();
    }
    expect(agent.rawOutput()).to.not.contain('s3cr3t-pw');
  });

  it('a node leaving (labelled exclude-from-external-load-balancers): GRACEFUL_SHUTDOWN and LOCAL_PREF 0 on every path first, withdrawn after the drain time; unlabelling restores them', async () => {
    const before = await prefixes();
    expect(before).to.include('192.168.3.0/24');
    await cluster.cp.kubectlOk(['label', 'node', NODE_A, 'node.kubernetes.io/exclude-from-external-load-balancers=true']);
    try {
      // RFC 8326 first: the same paths, re-advertised with 65535:0 and LOCAL_PREF 0 (the ToR moves traffic away).
      const drained = await waitFor(
        'every path marked GRACEFUL_SHUTDOWN',
        async () => {
          const r = await rib();
          return [...r.values()].every((p) => p.communities.includes('65535:0') && p.localPref === 0) && r.size === before.length ? r : undefined;
        },
        30_000,
      );
      expect([...drained.keys()].sort()).to.deep.equal(before);
      const metrics = (await httpGet(httpAddress, '/metrics')).body;
      expect(metricValue(metrics, 'svcbgp_node_leaving')).to.equal(1);
      // Then, after --drain-time (2 s in this suite), the withdrawal.
      await waitRib('every owned path withdrawn', (p) => p.length === 0);
      const leavingLog = agent.logs().find((e) => String(e.message).startsWith('node leaving: every path re-advertised'));
      expect(String(leavingLog?.why)).to.contain('exclude-from-external-load-balancers (value "true")');
      expect(agent.logs().some((e) => e.message === 'node leaving: drain time over, withdrawing every path')).to.equal(true);
    } finally {
      await cluster.cp.kubectlOk(['label', 'node', NODE_A, 'node.kubernetes.io/exclude-from-external-load-balancers-']);
    }
    await waitRib('the routes back', (p) => before.every((x) => p.includes(x)));
    await waitFor(
      'back without GRACEFUL_SHUTDOWN',
      async () => ([...(await rib()).values()].every((p) => !p.communities.includes('65535:0') && p.localPref === undefined) ? true : undefined),
      30_000,
    );
    expect(metricValue((await httpGet(httpAddress, '/metrics')).body, 'svcbgp_node_leaving')).to.equal(0);
  });

  it('a node leaving as the kubelet says it on a graceful node shutdown (Ready False, "node is shutting down"): drained, then withdrawn', async () => {
    const aggregates = (await prefixes()).filter((p) => !p.endsWith('/32'));
    expect(aggregates).to.include('192.168.3.0/24');
    // What the kubelet's node shutdown manager writes into the Ready condition (pkg/kubelet/nodestatus/setters.go).
    // No kubelet runs here: the test writes the condition itself, and afterwards the node simulator re-registers
    // the Node as a restarted kubelet would (Ready again, its Pods reported ready).
    await cluster.cp.kubectlOk([
      'patch',
      'node',
      NODE_A,
      '--subresource',
      'status',
      '--type',
      'strategic',
      '-p',
      JSON.stringify({
        status: {
          conditions: [
            { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'node is shutting down', lastHeartbeatTime: new Date().toISOString() },
          ],
        },
      }),
    ]);
    try {
      await waitFor(
        'GRACEFUL_SHUTDOWN on every path, the aggregates among them',
        async () => {
          const r = await rib();
          return aggregates.every((a) => r.has(a)) && [...r.values()].every((p) => p.communities.includes('65535:0') && p.localPref === 0) ? true : undefined;
        },
        30_000,
      );
      await waitRib('withdrawn after the drain', (p) => p.length === 0);
      const leavingLog = agent
        .logs()
        .filter((e) => String(e.message).startsWith('node leaving: every path re-advertised'))
        .pop();
      expect(String(leavingLog?.why)).to.contain('shutting down');
    } finally {
      await cluster.sim.startKubelet(NODE_A);
    }
    await waitRib('the aggregates back', (p) => aggregates.every((a) => p.includes(a)), 60_000);
  });
});
