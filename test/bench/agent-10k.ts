/**
 * Benchmark (reports numbers, asserts nothing): `svcbgp run` converging N Services (default 10,000) into a real
 * gobgpd, with the Services and their EndpointSlices in a REAL API server (test/helpers/kube).
 *
 *   npm run build && node dist/test/bench/agent-10k.js [N=10000]
 *
 * Each Service is a ClusterIP Service with internalTrafficPolicy: Local and no selector, plus one hand-written
 * EndpointSlice (kubernetes.io/service-name label) with one ready endpoint on the agent's node — so every
 * Service makes the agent advertise its cluster IP as a /32 (N host routes + the 10.49.0.0/16 aggregate).
 * (Hand-written slices instead of Pods: N Pods would measure the scheduler and the node simulator, not svcbgp.)
 *
 * Reported: object creation time (setup), agent start -> all N+1 paths in gobgpd (ListPath count), the agent's
 * RSS then, and an agent restart over the converged RIB (time to ready, path changes — expected 0).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import { connectGobgp } from '../../src/gobgp/index.js';
import { startControlPlane, NodeSimulator } from '../helpers/kube/index.js';
import { freePort } from '../helpers/gobgpd.js';
import { AgentProcess, RestartableGobgpd, httpGet, loopbackAgentConfig, metricValue } from '../integration/agent/util.js';
import { benchSlice, parallel, rssMiB } from './common.js';

const N = Number(process.argv[2] ?? 10000);
const NODE = 'bench-node';
const log = (msg: string): void => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

const dir = mkdtempSync(path.join(os.tmpdir(), 'svcbgp-bench-'));
const cp = await startControlPlane();
const gobgpd = new RestartableGobgpd('bench');
let agent: AgentProcess | undefined;
let sim: NodeSimulator | undefined;
try {
  log(`control plane ready in ${cp.startMs} ms; creating ${N} Services + ${N} EndpointSlices`);
  const kc = cp.kubeConfig();
  sim = new NodeSimulator(kc, { nodes: [{ name: NODE, internalIP: '192.168.1.10' }] });
  await sim.start();
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const ns = 'bench';
  await core.createNamespace({ body: { metadata: { name: ns } } });
  const t0 = Date.now();
  const idx = Array.from({ length: N }, (_, i) => i);
  await parallel(idx, 32, async (i) => {
    const name = `svc-${i}`;
    await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name }, spec: { type: 'ClusterIP', internalTrafficPolicy: 'Local', ports: [{ port: 80, protocol: 'TCP' }] } },
    });
    await discovery.createNamespacedEndpointSlice({
      namespace: ns,
      body: benchSlice(name, NODE, [`10.48.${(i >> 8) & 255}.${i & 255}`]),
    });
    if ((i + 1) % 2000 === 0) log(`  created ${i + 1}`);
  });
  log(`created ${N} Services + ${N} EndpointSlices in ${((Date.now() - t0) / 1000).toFixed(1)} s (setup, not svcbgp)`);
  log(`kube-apiserver RSS ${cp.memoryMiB()['kube-apiserver'] ?? '?'} MiB`);

  await gobgpd.start();
  const config = path.join(dir, 'bgp.yaml');
  writeFileSync(config, loopbackAgentConfig({ peerPort: await freePort(), listenPort: await freePort() }));
  const httpAddress = `127.0.0.1:${await freePort()}`;
  agent = new AgentProcess([
    '--node-name',
    NODE,
    '--gobgp-address',
    gobgpd.address,
    '--kubeconfig',
    cp.kubeconfig,
    '--config',
    config,
    '--http-address',
    httpAddress,
    '--no-custom-resources',
    '--namespace',
    ns,
  ]); // default log level (info): one line per add
  const client = connectGobgp(gobgpd.address, { deadlineMs: 60000 });
  // Before the agent's StartBgp, ListPath fails ("bgp server hasn't started yet"): that counts as 0 paths.
  const count = async (): Promise<number> => (await client.listPaths('ipv4-unicast').catch(() => [])).filter((p) => p.local).length;

  const tStart = Date.now();
  agent.start();
  let n = 0;
  while ((n = await count()) < N + 1) {
    if (Date.now() - tStart > 600_000) throw new Error(`not converged after 600 s: ${n} paths`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const convergeMs = Date.now() - tStart;
  await new Promise((r) => setTimeout(r, 1000));
  const rss = rssMiB(agent.pid);
  const m1 = (await httpGet(httpAddress, '/metrics')).body;
  log(`CONVERGED: agent start -> ${n} paths in gobgpd: ${(convergeMs / 1000).toFixed(2)} s; agent RSS ${rss} MiB`);
  log(
    `  reconcile passes ok=${metricValue(m1, 'svcbgp_reconcile_passes_total', { result: 'ok' })}, ` +
      `duration sum ${metricValue(m1, 'svcbgp_reconcile_duration_seconds_sum')?.toFixed(2)} s, path adds ${metricValue(m1, 'svcbgp_path_changes_total', { op: 'add' })}`,
  );

  // A change among N Services: one Service deleted -> one withdrawal.
  const tChange = Date.now();
  await core.deleteNamespacedService({ name: 'svc-0', namespace: ns });
  while ((await count()) !== N) await new Promise((r) => setTimeout(r, 50));
  log(`one Service deleted -> its /32 withdrawn in ${((Date.now() - tChange) / 1000).toFixed(2)} s`);

  // Agent restart over the converged RIB.
  await agent.stop('SIGTERM');
  const tRestart = Date.now();
  agent.start();
  for (;;) {
    const r = await httpGet(httpAddress, '/readyz').catch(() => ({ status: 0, body: '' }));
    if (r.status === 200) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  const readyMs = Date.now() - tRestart;
  await new Promise((r) => setTimeout(r, 2000));
  const m2 = (await httpGet(httpAddress, '/metrics')).body;
  log(
    `RESTART: agent ready again in ${(readyMs / 1000).toFixed(2)} s with ${await count()} paths; path changes add=${metricValue(m2, 'svcbgp_path_changes_total', { op: 'add' }) ?? 0} delete=${metricValue(m2, 'svcbgp_path_changes_total', { op: 'delete' }) ?? 0}; RSS ${rssMiB(agent.pid)} MiB`,
  );
  client.close();
} finally {
  await agent?.dispose();
  await gobgpd.stop();
  await sim?.stop().catch(() => undefined);
  await cp.stop();
  rmSync(dir, { recursive: true, force: true });
}
