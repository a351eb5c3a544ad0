/**
 * The benchmark suite (`npm run bench`): reports numbers, asserts nothing, not part of CI's pass/fail.
 *
 *   npm run bench                                    # 1,000 / 10,000 / 50,000 Services, then 10,000 x 5 endpoints
 *   npm run bench -- --sizes 1000,10000 --changes 50 --no-write
 *
 * Real parts: a real API server (test/helpers/kube), a real gobgpd (the one SVCBGP_GOBGPD selects), the real agent
 * process (`svcbgp run`). Each Service is a ClusterIP Service with internalTrafficPolicy: Local and no selector,
 * plus one hand-written EndpointSlice with E ready endpoints on the agent's node (hand-written slices instead of
 * Pods: N Pods would measure the scheduler and the node simulator, not svcbgp), so every Service makes the agent
 * advertise its cluster IP as a /32 (N host routes + the 10.49.0.0/16 aggregate). Sizes grow in one cluster (the
 * Services of 1,000 are the first 1,000 of 10,000); every size gets a fresh gobgpd and a fresh agent.
 *
 * Per size:
 * - raw baseline: what any program must do for the same result, in this process: list the Services and
 *   EndpointSlices from the API server in pages of 500, StartBgp, push the same N+1 paths through AddPathStream;
 * - cold sync: agent start to every path in gobgpd (svcbgp_path_changes_total{op="add"} >= N+1, then one ListPath
 *   to confirm), and its ratio to the baseline;
 * - event to RIB: an EndpointSlice change (the endpoint moves to another node -> the /32 is withdrawn; moves back
 *   -> advertised again) or a Service change (internalTrafficPolicy Local -> Cluster -> Local), one at a time, from
 *   just before the API write until gobgpd's WatchEvent (best-path table) shows that prefix changed: p50/p90/p99/max;
 * - two-write change: a new Service and its EndpointSlice, created back to back, until gobgpd shows its /32;
 * - burst: 1,000 EndpointSlice changes at once (32 writes in flight) until gobgpd has withdrawn all 1,000, and the
 *   passes the burst and its undoing took;
 * - steady churn (--churn-rates, --churn-seconds): a mix of change kinds at 20 and 100 changes per second, open loop,
 *   for 65 s (across the agent's drift pass), each measured to gobgpd (see churn());
 * - the agent's RSS and V8 heap (its /metrics) 3 s after convergence, its peak RSS (VmHWM) until then, and its RSS
 *   after 30 s without changes (V8 returns memory to the system only when allocation has been quiet for a while).
 * Written to docs/bench.md (table) and docs/bench.svg (plot) unless --no-write.
 *
 * Then test/bench/pass.ts (one pass in process, per size) and, unless --no-tor, test/bench/tor.ts in its own process: event to the ToR's kernel table in the network lab
 * (--tor-services background Services), written into the same docs/bench.md.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { CoreV1Api, DiscoveryV1Api, type V1EndpointSlice } from '@kubernetes/client-node';
import { connectGobgp } from '../../src/gobgp/index.js';
import type { Route } from '../../src/model/route.js';
import { startControlPlane, NodeSimulator } from '../helpers/kube/index.js';
import { freePort, GOBGPD_VERSION } from '../helpers/gobgpd.js';
import { agentNodeFlags } from '../helpers/agent-node-flags.js';
import { AgentProcess, RestartableGobgpd, httpGet, loopbackAgentConfig, metricValue } from '../integration/agent/util.js';
import { renderMarkdown, renderSvg, summarize, type ChurnResult, type SizeResult } from './report.js';
import { benchSlice, parallel, rssMiB } from './common.js';

type GobgpClient = ReturnType<typeof connectGobgp>;

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,50000' },
    endpoints: { type: 'string', default: '1' },
    'five-endpoints-at': { type: 'string', default: '10000' },
    changes: { type: 'string', default: '50' },
    burst: { type: 'string', default: '1000' },
    'no-write': { type: 'boolean', default: false },
    out: { type: 'string', default: 'docs' },
    'tor-services': { type: 'string', default: '10000' },
    'no-tor': { type: 'boolean', default: false },
    'pass-sizes': { type: 'string', default: '1000,10000,50000,100000' },
    // Steady churn: changes per second, and how long each rate runs (at least a minute crosses a drift pass).
    'churn-rates': { type: 'string', default: '20,100' },
    'churn-seconds': { type: 'string', default: '65' },
    // The agent's Node.js flags; default those of deploy/40-daemonset.yaml ('' for V8's defaults).
    'node-flags': { type: 'string' },
  },
});
const NODE_FLAGS = args['node-flags'] === undefined ? agentNodeFlags() : args['node-flags'].split(' ').filter((x) => x !== '');
const SIZES = args
  .sizes!.split(',')
  .map(Number)
  .filter((n) => n > 0)
  .sort((a, b) => a - b);
const CHANGES = Number(args.changes);
const BURST = Number(args.burst);
const FIVE_AT = Number(args['five-endpoints-at']);
const CHURN_RATES = args['churn-rates']!.split(',')
  .map(Number)
  .filter((r) => r > 0);
const CHURN_SECONDS = Number(args['churn-seconds']);
const NODE = 'bench-node';
const NS = 'bench';

const log = (msg: string): void => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => Number(process.hrtime.bigint() / 1000n) / 1000;

const svcName = (i: number): string => `svc-${i}`;
const epAddress = (i: number, k: number): string => `10.${48 + k}.${(i >> 8) & 255}.${i & 255}`;

function sliceBody(i: number, endpoints: number, nodeName = NODE): V1EndpointSlice {
  return benchSlice(
    svcName(i),
    nodeName,
    Array.from({ length: endpoints }, (_, k) => epAddress(i, k)),
  );
}

/** Another benchmark of this directory in its own node process; resolves to its exit code. */
function runBench(file: string, nodeFlags: string[], benchArgs: string[]): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [...nodeFlags, path.join(path.dirname(new URL(import.meta.url).pathname), file), ...benchArgs], { stdio: 'inherit' });
    child.on('exit', (c) => resolve(c ?? 1));
  });
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'svcbgp-bench-'));
const cp = await startControlPlane();
const kc = cp.kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const discovery = kc.makeApiClient(DiscoveryV1Api);
const sim = new NodeSimulator(kc, {
  nodes: [
    { name: NODE, internalIP: '192.168.1.10' },
    { name: 'other-node', internalIP: '192.168.1.11' },
  ],
});
const clusterIPs = new Map<number, string>();
const results: SizeResult[] = [];

async function grow(to: number, endpoints: number): Promise<void> {
  const from = clusterIPs.size;
  const t0 = Date.now();
  await parallel(
    Array.from({ length: to - from }, (_, k) => from + k),
    32,
    async (i) => {
      const svc = await core.createNamespacedService({
        namespace: NS,
        body: { metadata: { name: svcName(i) }, spec: { type: 'ClusterIP', internalTrafficPolicy: 'Local', ports: [{ port: 80, protocol: 'TCP' }] } },
      });
      clusterIPs.set(i, svc.spec!.clusterIP!);
      await discovery.createNamespacedEndpointSlice({ namespace: NS, body: sliceBody(i, endpoints) });
    },
  );
  log(`cluster now ${to} Services + EndpointSlices (${endpoints} endpoint(s) each): +${to - from} in ${((Date.now() - t0) / 1000).toFixed(1)} s (setup)`);
}

async function setEndpoints(count: number, endpoints: number): Promise<void> {
  const t0 = Date.now();
  await parallel(
    Array.from({ length: count }, (_, i) => i),
    32,
    (i) => discovery.replaceNamespacedEndpointSlice({ name: `${svcName(i)}-1`, namespace: NS, body: sliceBody(i, endpoints) }),
  );
  log(`${count} EndpointSlices now hold ${endpoints} endpoints each (${((Date.now() - t0) / 1000).toFixed(1)} s, setup)`);
}

/** Raw baseline: paged lists + StartBgp + AddPathStream of the same paths, into a fresh gobgpd. */
async function baseline(n: number): Promise<number> {
  const g = new RestartableGobgpd('bench-raw');
  await g.start();
  const client = connectGobgp(g.address, { deadlineMs: 120_000 });
  try {
    const t0 = now();
    const ips: string[] = [];
    let cont: string | undefined;
    do {
      const page = await core.listNamespacedService({ namespace: NS, limit: 500, ...(cont ? { _continue: cont } : {}) });
      for (const s of page.items) if (Number(s.metadata!.name!.slice(4)) < n && s.spec?.clusterIP) ips.push(s.spec.clusterIP);
      cont = page.metadata?._continue;
    } while (cont);
    cont = undefined;
    do {
      const page = await discovery.listNamespacedEndpointSlice({ namespace: NS, limit: 500, ...(cont ? { _continue: cont } : {}) });
      cont = page.metadata?._continue;
    } while (cont);
    await client.startBgp({ asn: 64512, routerId: '192.168.1.10', listenPort: -1 });
    const route = (prefix: string): Route => ({ prefix, family: 'ipv4-unicast', nextHop: '0.0.0.0', communities: [], largeCommunities: ['64512:7376:1'] });
    await client.addPaths([route('10.49.0.0/16'), ...ips.map((ip) => route(`${ip}/32`))]);
    return now() - t0;
  } finally {
    client.close();
    await g.stop();
  }
}

/** Node starting and importing the agent's modules, median of 3 runs. */
async function moduleLoad(): Promise<number> {
  const runs: number[] = [];
  const entry = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../src/agent/agent.js');
  for (let k = 0; k < 3; k++) {
    const t0 = now();
    await new Promise<void>((resolve, reject) => {
      const c = spawn(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(entry)})`], { stdio: 'ignore' });
      c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`module load exited ${code}`))));
    });
    runs.push(now() - t0);
  }
  return runs.sort((a, b) => a - b)[1]!;
}

interface Running {
  agent: AgentProcess;
  gobgpd: RestartableGobgpd;
  client: GobgpClient;
  http: string;
}

async function startAgent(n: number): Promise<{ run: Running; coldMs: number; started: number }> {
  const gobgpd = new RestartableGobgpd('bench');
  await gobgpd.start();
  const config = path.join(dir, 'bgp.yaml');
  writeFileSync(config, loopbackAgentConfig({ peerPort: await freePort(), listenPort: await freePort() }));
  const http = `127.0.0.1:${await freePort()}`;
  const agent = new AgentProcess(
    [
      '--node-name',
      NODE,
      '--gobgp-address',
      gobgpd.address,
      '--kubeconfig',
      cp.kubeconfig,
      '--config',
      config,
      '--http-address',
      http,
      '--no-custom-resources',
      '--namespace',
      NS,
      '--log-level',
      'warn',
    ],
    {},
    NODE_FLAGS,
  );
  const client = connectGobgp(gobgpd.address, { deadlineMs: 120_000 });
  const t0 = now();
  agent.start();
  for (;;) {
    const m = await httpGet(http, '/metrics').catch(() => undefined);
    if (m && (metricValue(m.body, 'svcbgp_path_changes_total', { op: 'add' }) ?? 0) >= n + 1) break;
    if (agent.exitCode !== null) throw new Error(`agent exited ${agent.exitCode}: ${agent.rawOutput().slice(-2000)}`);
    if (now() - t0 > 900_000) throw new Error('not converged after 900 s');
    await sleep(50);
  }
  const coldMs = now() - t0;
  const local = (await client.listPaths('ipv4-unicast')).filter((p) => p.local).length;
  if (local < n + 1) log(`WARNING: the agent reported ${n + 1} adds but gobgpd lists ${local} local paths`);
  return { run: { agent, gobgpd, client, http }, coldMs, started: t0 };
}

/** Waits for gobgpd's table watch to show each prefix; resolves with the time it was seen. */
class RibWatch {
  private readonly waiters = new Map<string, { want: 'add' | 'withdraw'; resolve: (t: number) => void }>();
  private readonly handle;

  constructor(client: GobgpClient) {
    this.handle = client.watch({ table: true }, (ev) => {
      if (ev.kind !== 'table') return;
      const t = now();
      for (const p of ev.paths) {
        const w = this.waiters.get(p.route.prefix);
        if (w && (w.want === 'withdraw') === p.withdrawn) {
          this.waiters.delete(p.route.prefix);
          w.resolve(t);
        }
      }
    });
  }

  expect(prefix: string, want: 'add' | 'withdraw', timeoutMs = 60_000): Promise<number | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(prefix);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(prefix, {
        want,
        resolve: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
      });
    });
  }

  close(): void {
    this.handle.close();
  }
}

/** A change slower than this is logged on its own line (event to RIB). */
const SLOW_MS = 250;

async function eventToRib(run: Running, n: number, endpoints: number): Promise<{ latencies: number[]; missed: number }> {
  const watch = new RibWatch(run.client);
  await sleep(500); // the watch is registered
  const latencies: number[] = [];
  let missed = 0;
  try {
    for (let c = 0; c < CHANGES; c++) {
      const i = Math.floor((c * 7919) % n); // spread over the cluster
      const prefix = `${clusterIPs.get(i)}/32`;
      const viaService = c % 2 === 1;
      for (const phase of ['withdraw', 'add'] as const) {
        const seen = watch.expect(prefix, phase);
        const t0 = now();
        if (viaService) {
          await core.patchNamespacedService({
            name: svcName(i),
            namespace: NS,
            body: [{ op: 'replace', path: '/spec/internalTrafficPolicy', value: phase === 'withdraw' ? 'Cluster' : 'Local' }],
          });
        } else {
          await discovery.replaceNamespacedEndpointSlice({
            name: `${svcName(i)}-1`,
            namespace: NS,
            body: sliceBody(i, endpoints, phase === 'withdraw' ? 'other-node' : NODE),
          });
        }
        const written = now() - t0;
        const t1 = await seen;
        if (t1 === undefined) missed++;
        else latencies.push(t1 - t0);
        // An outlier, with what the API server's answer alone took: is it the agent or the write?
        if (t1 !== undefined && t1 - t0 > SLOW_MS)
          log(
            `  change ${c} (${phase}, ${viaService ? 'Service' : 'EndpointSlice'}): ${(t1 - t0).toFixed(0)} ms; the API write answered after ${written.toFixed(0)} ms`,
          );
        await sleep(200); // a quiet period between changes: each is a lone event
      }
    }
  } finally {
    watch.close();
  }
  return { latencies, missed };
}

/**
 * A new Service and its EndpointSlice, two writes back to back; its /32 is watched for between them (the /32 cannot
 * come before the slice). `writtenAt`: when the second write answered.
 */
async function newServiceWithSlice(
  watch: RibWatch,
  i: number,
  endpoints: number,
): Promise<{ prefix: string; writtenAt: number; seen: Promise<number | undefined> }> {
  const svc = await core.createNamespacedService({
    namespace: NS,
    body: { metadata: { name: svcName(i) }, spec: { type: 'ClusterIP', internalTrafficPolicy: 'Local', ports: [{ port: 80, protocol: 'TCP' }] } },
  });
  const prefix = `${svc.spec!.clusterIP!}/32`;
  const seen = watch.expect(prefix, 'add');
  await discovery.createNamespacedEndpointSlice({ namespace: NS, body: sliceBody(i, endpoints) });
  return { prefix, writtenAt: now(), seen };
}

/**
 * The change an operator makes most: a new Service and its EndpointSlice, two writes back to back (as `kubectl expose`
 * of a running Deployment brings about), from just before the first write until gobgpd shows the Service's /32. Then
 * both are deleted (not measured) and the next comes after a quiet period.
 */
async function twoWriteChanges(run: Running, n: number, endpoints: number): Promise<{ latencies: number[]; missed: number }> {
  const watch = new RibWatch(run.client);
  await sleep(500);
  const latencies: number[] = [];
  let missed = 0;
  try {
    for (let c = 0; c < CHANGES; c++) {
      const i = n + c; // beyond the cluster's Services: a name and slice of its own
      const t0 = now();
      const { prefix, writtenAt, seen } = await newServiceWithSlice(watch, i, endpoints);
      const written = writtenAt - t0;
      const t1 = await seen;
      if (t1 === undefined) missed++;
      else latencies.push(t1 - t0);
      if (t1 !== undefined && t1 - t0 > SLOW_MS)
        log(`  two-write change ${c}: ${(t1 - t0).toFixed(0)} ms; both API writes answered after ${written.toFixed(0)} ms`);
      const gone = watch.expect(prefix, 'withdraw');
      await discovery.deleteNamespacedEndpointSlice({ name: `${svcName(i)}-1`, namespace: NS });
      await core.deleteNamespacedService({ name: svcName(i), namespace: NS });
      await gone;
      await sleep(200);
    }
  } finally {
    watch.close();
  }
  return { latencies, missed };
}

/**
 * Steady churn at `rate` changes per second for `seconds`, open loop: change k starts at k/rate s whatever the ones
 * before are doing, as a busy cluster's changes come. Ten kinds in turn: three new Services with their slice (two
 * writes; measured until gobgpd shows the /32), two endpoints moving to the other node (flap away: until withdrawn),
 * two moving back (flap back: until advertised), two scale-ups or downs of a slice (1 <-> 2 endpoints: no route
 * changes, load only) and one deletion of a new Service (until withdrawn). No two changes touch one object at once.
 * Afterwards everything is put back as it was (not measured).
 */
async function churn(run: Running, n: number, endpoints: number, rate: number, seconds: number, agentStart: number): Promise<ChurnResult> {
  const watch = new RibWatch(run.client);
  await sleep(500);
  const kinds = new Map<string, number[]>();
  let missed = 0;
  const writes: number[] = [];
  const afterWrites: number[] = [];
  /** `written`: when the change's last API write answered (the API server's share of the time). */
  const record = (kind: string, t0: number, written: number, t1: number | undefined): void => {
    writes.push(written - t0);
    if (t1 === undefined) {
      missed++;
      return;
    }
    afterWrites.push(Math.max(0, t1 - written));
    const list = kinds.get(kind) ?? [];
    list.push(t1 - t0);
    kinds.set(kind, list);
    if (t1 - t0 > SLOW_MS) log(`  churn ${rate}/s: ${kind} took ${(t1 - t0).toFixed(0)} ms; its API writes answered after ${(written - t0).toFixed(0)} ms`);
  };
  const created: { i: number; prefix: string }[] = [];
  const away: number[] = [];
  const busy = new Set<number>();
  const scaled = new Set<number>();
  let nextName = n + 1_000_000; // beyond the cluster and the two-write changes
  let pick = 0;
  /** A Service of the cluster no other change is touching (and not moved away). */
  const free = (): number | undefined => {
    for (let tries = 0; tries < 50; tries++) {
      const i = Math.floor((pick++ * 7919) % n);
      if (!busy.has(i) && !away.includes(i)) return i;
    }
    return undefined;
  };
  const op = async (k: number): Promise<void> => {
    const kind = k % 10;
    if (kind <= 2) {
      const i = nextName++;
      const t0 = now();
      const { prefix, writtenAt, seen } = await newServiceWithSlice(watch, i, endpoints);
      record('new', t0, writtenAt, await seen);
      created.push({ i, prefix });
    } else if (kind <= 4) {
      const i = free();
      if (i === undefined) return;
      busy.add(i);
      const seen = watch.expect(`${clusterIPs.get(i)}/32`, 'withdraw');
      const t0 = now();
      await discovery.replaceNamespacedEndpointSlice({ name: `${svcName(i)}-1`, namespace: NS, body: sliceBody(i, endpoints, 'other-node') });
      record('flap-away', t0, now(), await seen);
      away.push(i);
      busy.delete(i);
    } else if (kind <= 6) {
      const i = away.shift();
      if (i === undefined) return;
      busy.add(i);
      const seen = watch.expect(`${clusterIPs.get(i)}/32`, 'add');
      const t0 = now();
      await discovery.replaceNamespacedEndpointSlice({ name: `${svcName(i)}-1`, namespace: NS, body: sliceBody(i, endpoints) });
      record('flap-back', t0, now(), await seen);
      busy.delete(i);
    } else if (kind <= 8) {
      const i = free();
      if (i === undefined) return;
      busy.add(i);
      const more = !scaled.has(i);
      await discovery.replaceNamespacedEndpointSlice({ name: `${svcName(i)}-1`, namespace: NS, body: sliceBody(i, more ? endpoints + 1 : endpoints) });
      if (more) scaled.add(i);
      else scaled.delete(i);
      busy.delete(i);
    } else {
      const c = created.shift();
      if (c === undefined) return;
      const seen = watch.expect(c.prefix, 'withdraw');
      const t0 = now();
      await discovery.deleteNamespacedEndpointSlice({ name: `${svcName(c.i)}-1`, namespace: NS });
      await core.deleteNamespacedService({ name: svcName(c.i), namespace: NS });
      record('delete', t0, now(), await seen);
    }
  };
  const start = now();
  const running: Promise<void>[] = [];
  let started = 0;
  try {
    for (let k = 0; now() - start < seconds * 1000; k++) {
      const due = start + (k * 1000) / rate;
      if (due > now()) await sleep(due - now());
      running.push(op(k).catch((err: unknown) => log(`  churn change ${k} failed: ${String(err)}`)));
      started++;
    }
    await Promise.all(running);
  } finally {
    watch.close();
  }
  const end = now();
  // Put back what the churn changed (not measured). An API server the churn overran answers 504 for a while: say so
  // and go on (a slice left moved away changes the next measurement's background, not its correctness).
  const tidy = (what: string) => (err: unknown) => log(`  churn clean-up: ${what} failed: ${String(err).split('\n')[0]}`);
  await parallel(away.splice(0), 16, (i) =>
    discovery
      .replaceNamespacedEndpointSlice({ name: `${svcName(i)}-1`, namespace: NS, body: sliceBody(i, endpoints) })
      .then(() => undefined, tidy(`moving ${svcName(i)} back`)),
  );
  await parallel([...scaled], 16, (i) =>
    discovery
      .replaceNamespacedEndpointSlice({ name: `${svcName(i)}-1`, namespace: NS, body: sliceBody(i, endpoints) })
      .then(() => undefined, tidy(`scaling ${svcName(i)} back`)),
  );
  await parallel(created.splice(0), 16, async (c) => {
    await discovery.deleteNamespacedEndpointSlice({ name: `${svcName(c.i)}-1`, namespace: NS }).catch(tidy(`deleting ${svcName(c.i)}'s slice`));
    await core.deleteNamespacedService({ name: svcName(c.i), namespace: NS }).catch(tidy(`deleting ${svcName(c.i)}`));
  });
  const all = [...kinds.values()].flat();
  const byKind: ChurnResult['kinds'] = {};
  for (const [k, v] of kinds) byKind[k] = { ...summarize(v), n: v.length };
  // The agent's drift pass runs every --resync-interval (60 s) from its start.
  const drift = (t: number): number => Math.floor((t - agentStart) / 60_000);
  return {
    rate,
    seconds,
    started,
    all: summarize(all),
    writes: summarize(writes),
    afterWrites: summarize(afterWrites),
    measured: all.length,
    missed,
    kinds: byKind,
    driftPasses: drift(end) - drift(start),
  };
}

/** Until gobgpd has every withdrawal, and how long the API writes alone took (the API server bounds a burst). */
async function burst(run: Running, count: number, endpoints: number): Promise<{ ms: number; writesMs: number } | undefined> {
  const watch = new RibWatch(run.client);
  await sleep(500);
  try {
    const idx = Array.from({ length: count }, (_, i) => i);
    const seen = idx.map((i) => watch.expect(`${clusterIPs.get(i)}/32`, 'withdraw', 300_000));
    const t0 = now();
    await parallel(idx, 32, (i) =>
      discovery.replaceNamespacedEndpointSlice({ name: `${svcName(i)}-1`, namespace: NS, body: sliceBody(i, endpoints, 'other-node') }),
    );
    const writesMs = now() - t0;
    const times = await Promise.all(seen);
    const ok = times.every((t) => t !== undefined);
    // Back as it was, for the next size.
    const back = idx.map((i) => watch.expect(`${clusterIPs.get(i)}/32`, 'add', 300_000));
    await parallel(idx, 32, (i) => discovery.replaceNamespacedEndpointSlice({ name: `${svcName(i)}-1`, namespace: NS, body: sliceBody(i, endpoints) }));
    await Promise.all(back);
    return ok ? { ms: Math.max(...(times as number[])) - t0, writesMs } : undefined;
  } finally {
    watch.close();
  }
}

async function stopRun(run: Running): Promise<void> {
  run.client.close();
  await run.agent.dispose();
  await run.gobgpd.stop();
}

async function measure(n: number, endpoints: number): Promise<void> {
  log(`--- ${n} Services x ${endpoints} endpoint(s) ---`);
  const rawMs = await baseline(n);
  const loadMs = await moduleLoad();
  log(`agent process start (node + importing the agent's modules, median of 3): ${(loadMs / 1000).toFixed(2)} s`);
  log(`raw baseline (paged lists + StartBgp + AddPathStream of ${n + 1} paths): ${(rawMs / 1000).toFixed(2)} s`);
  const { run, coldMs, started } = await startAgent(n);
  try {
    log(`cold sync (agent start -> ${n + 1} paths in gobgpd): ${(coldMs / 1000).toFixed(2)} s = ${(coldMs / rawMs).toFixed(2)}x the baseline`);
    await sleep(3000);
    const m = (await httpGet(run.http, '/metrics')).body;
    const rss = rssMiB(run.agent.pid);
    const peakRss = rssMiB(run.agent.pid, 'VmHWM');
    const heap = Math.round((metricValue(m, 'svcbgp_nodejs_heap_size_used_bytes') ?? 0) / 1048576);
    log(`agent RSS ${rss} MiB (peak ${peakRss} MiB), V8 heap used ${heap} MiB`);
    // Idle: V8 shrinks its heap only once allocation has stopped for a while (its memory reducer).
    await sleep(27_000);
    const idleRss = rssMiB(run.agent.pid);
    log(`agent RSS after 30 s without changes: ${idleRss} MiB`);
    const ev = await eventToRib(run, n, endpoints);
    const s = summarize(ev.latencies);
    log(
      `event to RIB over ${ev.latencies.length} changes (${ev.missed} missed): p50 ${s.p50.toFixed(1)} ms, p90 ${s.p90.toFixed(1)}, p99 ${s.p99.toFixed(1)}, max ${s.max.toFixed(1)}`,
    );
    const tw = await twoWriteChanges(run, n, endpoints);
    const t = summarize(tw.latencies);
    log(
      `two-write change (new Service + its EndpointSlice) to RIB over ${tw.latencies.length} changes (${tw.missed} missed): p50 ${t.p50.toFixed(1)} ms, p90 ${t.p90.toFixed(1)}, p99 ${t.p99.toFixed(1)}, max ${t.max.toFixed(1)}`,
    );
    const passesBefore = metricValue((await httpGet(run.http, '/metrics')).body, 'svcbgp_reconcile_passes_total', { result: 'ok' }) ?? 0;
    const b = BURST > 0 ? await burst(run, Math.min(BURST, n), endpoints) : undefined;
    const burstPasses = (metricValue((await httpGet(run.http, '/metrics')).body, 'svcbgp_reconcile_passes_total', { result: 'ok' }) ?? 0) - passesBefore;
    if (b !== undefined)
      log(
        `burst of ${Math.min(BURST, n)} EndpointSlice changes -> all withdrawn in gobgpd: ${(b.ms / 1000).toFixed(2)} s (the API writes alone: ${(b.writesMs / 1000).toFixed(2)} s); ${burstPasses} passes for the burst and its undoing`,
      );
    const churned: ChurnResult[] = [];
    if (endpoints === 1) {
      for (const rate of CHURN_RATES) {
        const c = await churn(run, n, endpoints, rate, CHURN_SECONDS, started);
        churned.push(c);
        log(
          `churn ${rate}/s for ${CHURN_SECONDS} s (${c.started} changes, ${c.measured} measured, ${c.missed} missed, ${c.driftPasses} drift pass(es)): p50 ${c.all.p50.toFixed(1)} ms, p90 ${c.all.p90.toFixed(1)}, p99 ${c.all.p99.toFixed(1)}, p99.9 ${c.all.p999.toFixed(1)}, max ${c.all.max.toFixed(1)}; the API writes alone p50 ${c.writes.p50.toFixed(1)}, p99 ${c.writes.p99.toFixed(1)}, max ${c.writes.max.toFixed(1)}; from the last write's answer to gobgpd p50 ${c.afterWrites.p50.toFixed(1)}, p99 ${c.afterWrites.p99.toFixed(1)}, max ${c.afterWrites.max.toFixed(1)}`,
        );
      }
    }
    const m2 = (await httpGet(run.http, '/metrics')).body;
    results.push({
      churn: churned,
      services: n,
      endpoints,
      rawMs,
      coldMs,
      rssMiB: rss,
      heapMiB: heap,
      peakRssMiB: peakRss,
      idleRssMiB: idleRss,
      latency: s,
      changes: ev.latencies.length,
      missed: ev.missed,
      burst: b === undefined ? undefined : { changes: Math.min(BURST, n), ...b, passes: burstPasses },
      twoWrite: t,
      twoWriteChanges: tw.latencies.length,
      twoWriteMissed: tw.missed,
      moduleLoadMs: loadMs,
      passes: metricValue(m2, 'svcbgp_reconcile_passes_total', { result: 'ok' }) ?? 0,
      mismatches: metricValue(m2, 'svcbgp_desired_state_mismatches_total') ?? 0,
    });
  } finally {
    await stopRun(run);
  }
}

try {
  log(`control plane ready in ${cp.startMs} ms`);
  await sim.start();
  await core.createNamespace({ body: { metadata: { name: NS } } });
  for (const n of SIZES) {
    await grow(n, 1);
    await measure(n, 1);
    if (n === FIVE_AT) {
      // The same N Services with 5 endpoints each, before the cluster grows; then back to 1.
      await setEndpoints(n, 5);
      await measure(n, 5);
      await setEndpoints(n, 1);
    }
  }
  const versions = { gobgpd: GOBGPD_VERSION.name, kubernetes: process.env.K8S_VERSION ?? 'v1.37.2', node: process.version };
  const md = renderMarkdown(results, {
    date: new Date().toISOString().slice(0, 10),
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    nodeFlags: NODE_FLAGS,
    ...versions,
  });
  console.log(`\n${md}`);
  if (!args['no-write']) {
    writeFileSync(path.join(args.out!, 'bench.md'), md);
    writeFileSync(path.join(args.out!, 'bench.svg'), renderSvg(results));
    log(`wrote ${args.out}/bench.md and ${args.out}/bench.svg`);
  }
} finally {
  await sim.stop().catch(() => undefined);
  await cp.stop();
  rmSync(dir, { recursive: true, force: true });
}

// The in-process pass benchmark (test/bench/pass.ts): svcbgp's own cost per pass, without gRPC or the API server.
{
  const passArgs = ['--sizes', args['pass-sizes']!, '--out', args.out!, ...(args['no-write'] ? ['--no-write'] : [])];
  const code = await runBench('pass.js', ['--expose-gc'], passArgs);
  if (code !== 0) log(`the pass benchmark (test/bench/pass.ts) failed: exit ${code}`);
}

if (!args['no-tor']) {
  // Its own process: the lab's control plane is the shared one of test/helpers/kube, not this suite's.
  const torArgs = [
    '--services',
    args['tor-services']!,
    '--changes',
    String(Math.max(50, CHANGES)),
    '--out',
    args.out!,
    ...(args['no-write'] ? ['--no-write'] : []),
  ];
  const code = await runBench('tor.js', [], torArgs);
  if (code !== 0) log(`the ToR benchmark (test/bench/tor.ts) failed: exit ${code}`);
}
