/**
 * Where the agent's memory goes (reports numbers, asserts nothing): N Services (default 10,000) with one ready
 * endpoint each in a real API server, the agent converged into a real gobgpd, then
 * - a V8 heap snapshot of the agent (NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2), summarised by constructor: the
 *   self size of every object kind, largest first;
 * - the agent's RSS and heap with the DaemonSet's Node.js flags (deploy/40-daemonset.yaml) and with others (V8's
 *   defaults, other --max-semi-space-size and --max-old-space-size): how much of the RSS is garbage V8 simply had no
 *   reason to collect yet, or young-generation space it keeps reserved.
 *
 *   npm run build && node dist/test/bench/heap.js [N=10000]
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import { startControlPlane, NodeSimulator } from '../helpers/kube/index.js';
import { freePort } from '../helpers/gobgpd.js';
import { AgentProcess, RestartableGobgpd, httpGet, loopbackAgentConfig, metricValue } from '../integration/agent/util.js';
import { benchSlice, parallel, rssMiB } from './common.js';
import { agentNodeFlags } from '../helpers/agent-node-flags.js';

const N = Number(process.argv[2] ?? 10000);
const NODE = 'bench-node';
const NS = 'bench';
const log = (msg: string): void => console.log(`[heap ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: (string | string[])[]; edge_fields: string[]; edge_types: (string | string[])[] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/**
 * Who holds the memory: every object, string and array by what points to it — the holder's constructor and its
 * property names (its shape), and the edge's name — largest first. (Only the first retainer of each node is counted.)
 */
function summariseHolders(file: string): { holder: string; count: number; mib: number }[] {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const nf = snap.snapshot.meta.node_fields;
  const ef = snap.snapshot.meta.edge_fields;
  const ntypes = snap.snapshot.meta.node_types[0] as string[];
  const etypes = snap.snapshot.meta.edge_types[0] as string[];
  const w = nf.length;
  const ew = ef.length;
  const iType = nf.indexOf('type');
  const iName = nf.indexOf('name');
  const iSize = nf.indexOf('self_size');
  const iEdges = nf.indexOf('edge_count');
  const eType = ef.indexOf('type');
  const eName = ef.indexOf('name_or_index');
  const eTo = ef.indexOf('to_node');
  const count = snap.nodes.length / w;
  const firstEdge = new Uint32Array(count + 1);
  for (let n = 0, e = 0; n < count; n++) {
    firstEdge[n] = e;
    e += snap.nodes[n * w + iEdges]! * ew;
  }
  firstEdge[count] = snap.edges.length;
  const label = (n: number): string => {
    const type = ntypes[snap.nodes[n * w + iType]!]!;
    if (type !== 'object') return `(${type})`;
    const props: string[] = [];
    for (let e = firstEdge[n]!; e < firstEdge[n + 1]! && props.length < 6; e += ew) {
      if (etypes[snap.edges[e + eType]!] === 'property') props.push(snap.strings[snap.edges[e + eName]!]!);
    }
    return `${snap.strings[snap.nodes[n * w + iName]!]!}{${props.join(',')}}`;
  };
  const holderOf = new Int32Array(count).fill(-1);
  const edgeName = new Array<string>(count);
  for (let n = 0; n < count; n++) {
    for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e += ew) {
      const t = etypes[snap.edges[e + eType]!];
      if (t === 'weak' || t === 'shortcut') continue;
      const to = snap.edges[e + eTo]! / w;
      if (holderOf[to] !== -1) continue;
      holderOf[to] = n;
      edgeName[to] = t === 'element' || t === 'hidden' ? `[${t}]` : String(snap.strings[snap.edges[e + eName]!]);
    }
  }
  const by = new Map<string, { count: number; bytes: number }>();
  for (let n = 0; n < count; n++) {
    const h = holderOf[n]!;
    const key = `${label(n).slice(0, 60)}  <-  ${h < 0 ? '(root)' : `${label(h).slice(0, 70)}.${edgeName[n]}`}`;
    const v = by.get(key) ?? { count: 0, bytes: 0 };
    v.count++;
    v.bytes += snap.nodes[n * w + iSize]!;
    by.set(key, v);
  }
  return [...by].map(([holder, v]) => ({ holder, count: v.count, mib: v.bytes / 1048576 })).sort((a, b) => b.mib - a.mib);
}

/** Self size per object kind (constructor name; strings, arrays, code and the like by their node type). */
function summarise(file: string): { kind: string; count: number; mib: number }[] {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0] as string[];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const byKind = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!]!;
    const kind = type === 'object' ? snap.strings[snap.nodes[i + iName]!]! : `(${type})`;
    const e = byKind.get(kind) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += snap.nodes[i + iSize]!;
    byKind.set(kind, e);
  }
  return [...byKind].map(([kind, e]) => ({ kind, count: e.count, mib: e.bytes / 1048576 })).sort((a, b) => b.mib - a.mib);
}

class OutOfHeap extends Error {}

const dir = mkdtempSync(path.join(os.tmpdir(), 'svcbgp-heap-'));
const cp = await startControlPlane();
const sim = new NodeSimulator(cp.kubeConfig(), { nodes: [{ name: NODE, internalIP: '192.168.1.10' }] });
try {
  await sim.start();
  const core = cp.kubeConfig().makeApiClient(CoreV1Api);
  const discovery = cp.kubeConfig().makeApiClient(DiscoveryV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await parallel(
    Array.from({ length: N }, (_, i) => i),
    32,
    async (i) => {
      await core.createNamespacedService({
        namespace: NS,
        body: { metadata: { name: `svc-${i}` }, spec: { type: 'ClusterIP', internalTrafficPolicy: 'Local', ports: [{ port: 80, protocol: 'TCP' }] } },
      });
      await discovery.createNamespacedEndpointSlice({
        namespace: NS,
        body: benchSlice(`svc-${i}`, NODE, [`10.48.${(i >> 8) & 255}.${i & 255}`]),
      });
    },
  );
  log(`${N} Services + EndpointSlices created`);

  // Node.js flags: the DaemonSet's (the snapshot run), V8's defaults, the young generation's semi-spaces at other sizes
  // (V8 reserves up to 3 x 16 MiB for them on 64-bit), the old generation capped.
  const deployed = agentNodeFlags();
  const all: string[][] = [
    deployed,
    [],
    ['--max-semi-space-size=1'],
    ['--max-semi-space-size=2'],
    ['--max-semi-space-size=8'],
    ['--max-old-space-size=160'],
    ['--max-old-space-size=128'],
  ];
  // SVCBGP_HEAP_VARIANTS=1: the snapshot run only.
  const variants = all.slice(0, Number(process.env.SVCBGP_HEAP_VARIANTS ?? all.length));
  for (const [i, flags] of variants.entries()) {
    const snapshot = i === 0;
    const label = `${flags.length === 0 ? '(V8 defaults)' : flags.join(' ')}${snapshot ? ' (deploy/40-daemonset.yaml)' : ''}`;
    const gobgpd = new RestartableGobgpd('heap');
    await gobgpd.start();
    const config = path.join(dir, 'bgp.yaml');
    writeFileSync(config, loopbackAgentConfig({ peerPort: await freePort(), listenPort: await freePort() }));
    const http = `127.0.0.1:${await freePort()}`;
    const snapDir = mkdtempSync(path.join(dir, 'snap-'));
    const nodeOptions = ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`].join(' ');
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
      { NODE_OPTIONS: nodeOptions },
      flags,
    );
    const started = Date.now();
    agent.start();
    try {
      for (let t = 0; t < 3000; t++) {
        const m = await httpGet(http, '/metrics').catch(() => undefined);
        if (m && (metricValue(m.body, 'svcbgp_path_changes_total', { op: 'add' }) ?? 0) >= N + 1) break;
        if (agent.exitCode !== null)
          throw new OutOfHeap(
            /heap out of memory/.test(agent.rawOutput()) ? 'out of heap' : `agent exited ${agent.exitCode}: ${agent.rawOutput().slice(-1500)}`,
          );
        await sleep(100);
      }
      const converged = Date.now() - started;
      await sleep(5000);
      const m = (await httpGet(http, '/metrics')).body;
      const heap = Math.round((metricValue(m, 'svcbgp_nodejs_heap_size_used_bytes') ?? 0) / 1048576);
      log(
        `${label}: every path in gobgpd ${converged} ms after start (polled every 100 ms); RSS ${rssMiB(agent.pid)} MiB (peak ${rssMiB(agent.pid, 'VmHWM')} MiB), heap used ${heap} MiB`,
      );
      await sleep(25_000);
      log(`${label}: RSS after 30 s without changes ${rssMiB(agent.pid)} MiB`);
      if (snapshot) {
        process.kill(agent.pid!, 'SIGUSR2');
        let file: string | undefined;
        for (let t = 0; t < 600 && !file; t++) {
          await sleep(200);
          const f = readdirSync(snapDir).find((x) => x.endsWith('.heapsnapshot'));
          // Written when the size stops growing.
          if (f) {
            const a = readFileSync(path.join(snapDir, f)).length;
            await sleep(1000);
            if (readFileSync(path.join(snapDir, f)).length === a && a > 0) file = path.join(snapDir, f);
          }
        }
        if (!file) throw new Error('no heap snapshot written');
        // Taking the snapshot ran a full garbage collection: what is left is the live data and what V8 keeps reserved.
        log(`after the snapshot (a full GC): RSS ${rssMiB(agent.pid)} MiB`);
        const kinds = summarise(file);
        const total = kinds.reduce((s, k) => s + k.mib, 0);
        log(`heap snapshot (live objects only): ${total.toFixed(1)} MiB; largest kinds by self size:`);
        for (const k of kinds.slice(0, 25)) console.log(`  ${k.mib.toFixed(1).padStart(7)} MiB  ${String(k.count).padStart(8)}  ${k.kind.slice(0, 80)}`);
        log('by holder (what points to them), largest first:');
        for (const k of summariseHolders(file).slice(0, 40)) console.log(`  ${k.mib.toFixed(1).padStart(7)} MiB  ${String(k.count).padStart(8)}  ${k.holder}`);
      }
    } catch (err) {
      // A limit too small for the data is a result, not a failure of the benchmark.
      if (!(err instanceof OutOfHeap)) throw err;
      log(`${label}: the agent did not converge: ${err.message}`);
    } finally {
      await agent.dispose();
      await gobgpd.stop();
    }
  }
} finally {
  await sim.stop().catch(() => undefined);
  await cp.stop();
  rmSync(dir, { recursive: true, force: true });
}
