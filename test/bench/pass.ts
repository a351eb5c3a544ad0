/**
 * The cost of one reconcile pass, in process (reports numbers, asserts nothing): the agent's own inputs port
 * (ClusterInputs: incremental desired state) and Reconciler over an in-memory speaker (test/helpers/memory-speaker.ts,
 * a stand-in for gobgpd: this measures svcbgp's pass, not gRPC), for N Services with one ready endpoint each
 * (the same shape as test/bench/suite.ts: ClusterIP, internalTrafficPolicy Local, one /32 per Service). After the
 * cold pass, `--changes` single-Service changes, each one EndpointSlice replaced (the endpoint moves away and back,
 * as an informer delivers it: a new object, its Service's key recorded as the watch records it), each followed by
 * one pass; the pass times and the heap after a GC.
 *
 *   npm run build && node --expose-gc dist/test/bench/pass.js [--sizes 1000,10000,50000,100000] [--changes 200] [--no-write]
 *
 * Run by the suite (test/bench/suite.ts) after its sizes; writes its section into docs/bench.md unless --no-write.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { ClusterInputs } from '../../src/agent/inputs.js';
import { PasswordResolver } from '../../src/agent/passwords.js';
import { Reconciler } from '../../src/agent/reconciler.js';
import { desiredRoutes } from '../../src/routes/index.js';
import { parseConfig } from '../../src/config/index.js';
import type { ClusterView } from '../../src/kube/cluster.js';
import type { ServiceChanges } from '../../src/model/service-key.js';
import { MemorySpeaker } from '../helpers/memory-speaker.js';
import { capturingLogger } from '../helpers/log.js';
import { node, service, slice } from '../unit/routes/cluster.js';
import { writeSection } from './common.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,50000,100000' },
    changes: { type: 'string', default: '200' },
    'no-write': { type: 'boolean', default: false },
    out: { type: 'string', default: 'docs' },
  },
});
const SIZES = args
  .sizes!.split(',')
  .map(Number)
  .filter((n) => n > 0);
const CHANGES = Number(args.changes);
const NODE = 'node-1';

const config = parseConfig(`apiVersion: svcbgp.io/v1alpha1
kind: BGPConfiguration
metadata: {name: default}
spec:
  asNumber: 64512
  serviceClusterIPs: [{cidr: 10.96.0.0/12}]
---
apiVersion: svcbgp.io/v1alpha1
kind: BGPPeer
metadata: {name: tor}
spec: {peerIP: 192.168.1.1, asNumber: 64512}
`);
if (!config.ok) throw new Error(config.errors.join('; '));
const bgpConfig = config.config;

const ip = (i: number): string => `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const ep = (i: number): string => `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const sliceFor = (i: number, nodeName: string): V1EndpointSlice => slice(`svc-${i}`, 'IPv4', [{ ip: ep(i), node: nodeName }], { suffix: '1' });
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const gcHeapMiB = (): number => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1048576;
};

interface PassResult {
  services: number;
  coldPassMs: number;
  passP50Ms: number;
  passP90Ms: number;
  passP99Ms: number;
  passMaxMs: number;
  /** A drift pass (--resync-interval): gobgpd's paths re-read and compared; it starts the check of the desired state. */
  driftPassMs: number;
  /** The check (a full recomputation compared key by key), in slices beside the passes: from start to end. */
  checkMs: number;
  /** Changes made while the check ran, each taken on a timer and passed: how many, p99 and max from change to pass end. */
  duringCheck: number;
  duringCheckP99Ms: number;
  duringCheckMaxMs: number;
  /** The full recomputation alone, at once (desiredRoutes over the whole view): what the check spreads out. */
  fullComputeMs: number;
  heapObjectsMiB: number;
  heapAgentMiB: number;
}

async function run(n: number): Promise<PassResult> {
  const heap0 = gcHeapMiB();
  const services: V1Service[] = Array.from({ length: n }, (_, i) => service(`svc-${i}`, { clusterIP: ip(i), internalTrafficPolicy: 'Local' }));
  // Every other endpoint is on another node, so this node withholds half the Services (no local endpoint), as a
  // node of a large cluster withholds most Local Services.
  const home = (i: number): string => (i % 2 === 0 ? NODE : 'node-2');
  const away = (i: number): string => (i % 2 === 0 ? 'node-2' : NODE);
  const slices: V1EndpointSlice[] = Array.from({ length: n }, (_, i) => sliceFor(i, home(i)));
  const heapObjects = gcHeapMiB() - heap0;
  const theNode = node(NODE, {}, ['192.168.1.10']);
  const view = (): ClusterView => ({
    synced: true,
    connected: true,
    notReady: [],
    services,
    endpointSlices: slices,
    node: theNode,
    bgpPeers: [],
    bgpConfigurations: [],
  });
  // What the watch hands over (src/kube/cluster.ts takeServiceChanges): the keys changed since the last pass.
  let changed = new Set<string>();
  const index = (key: string): number => Number(key.slice('default/svc-'.length));
  const serviceChanges = (): ServiceChanges => {
    const keys = changed;
    changed = new Set();
    return { keys, service: (k) => services[index(k)], slices: (k) => [slices[index(k)]!] };
  };
  const { log } = capturingLogger();
  const inputs = new ClusterInputs({
    nodeName: NODE,
    sources: { view, serviceChanges, config: () => ({ state: 'valid', config: bgpConfig }) },
    passwords: new PasswordResolver(async () => '', log),
    log,
  });
  const speaker = new MemorySpeaker();
  const reconciler = new Reconciler({ speaker, inputs, log });
  let t = performance.now();
  await reconciler.pass(new Set(['start']));
  const cold = performance.now() - t;
  const want = Math.ceil(n / 2) + 1;
  if (speaker.paths.size !== want) throw new Error(`cold pass: ${speaker.paths.size} paths, want ${want}`);
  let c = 0;
  /** One change: Service i's endpoint moves to the other node (its /32 withdrawn or advertised), the next moves it back. */
  const change = (): void => {
    const i = (Math.floor(c / 2) * 7919) % n;
    slices[i] = sliceFor(i, c % 2 === 0 ? away(i) : home(i));
    changed.add(`default/svc-${i}`);
    c++;
  };
  const times: number[] = [];
  while (c < CHANGES) {
    change();
    t = performance.now();
    await reconciler.pass(new Set(['endpointslice']));
    times.push(performance.now() - t);
  }
  // The drift pass (the in-memory speaker's RIB read costs nothing), then changes while its check runs beside the
  // passes: each change is taken on a timer, as the agent's scheduler takes it, after any check slice already queued.
  reconciler.checkDrift();
  t = performance.now();
  await reconciler.pass(new Set(['drift']));
  const drift = performance.now() - t;
  const checkStarted = performance.now();
  let checking = true;
  void inputs.checkDone().then(() => {
    checking = false;
  });
  const during: number[] = [];
  while (checking) {
    change();
    t = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 0));
    await reconciler.pass(new Set(['endpointslice']));
    during.push(performance.now() - t);
  }
  const checkMs = performance.now() - checkStarted;
  t = performance.now();
  desiredRoutes(bgpConfig, theNode, services, slices);
  const full = performance.now() - t;
  const heapAfter = gcHeapMiB() - heap0;
  const out: PassResult = {
    services: n,
    coldPassMs: Math.round(cold),
    passP50Ms: +pct(times, 50).toFixed(2),
    passP90Ms: +pct(times, 90).toFixed(2),
    passP99Ms: +pct(times, 99).toFixed(2),
    passMaxMs: +Math.max(...times).toFixed(2),
    driftPassMs: Math.round(drift),
    checkMs: Math.round(checkMs),
    duringCheck: during.length,
    duringCheckP99Ms: +pct(during, 99).toFixed(2),
    duringCheckMaxMs: +Math.max(...during).toFixed(2),
    fullComputeMs: Math.round(full),
    heapObjectsMiB: +heapObjects.toFixed(1),
    heapAgentMiB: +(heapAfter - heapObjects).toFixed(1),
  };
  console.log(JSON.stringify(out));
  return out;
}

const results: PassResult[] = [];
for (const n of SIZES) results.push(await run(n));
const first = results[0]!;
const section = [
  '## One reconcile pass, in process (test/bench/pass.ts)',
  '',
  `The agent's inputs port and reconciler over an in-memory speaker (a stand-in for gobgpd: svcbgp's own work, no gRPC), ${CHANGES} single-Service changes per size (an endpoint moves away, then back), one pass each; then a drift pass, and changes for as long as its check runs beside the passes. Every other Service's endpoint is on another node (withheld here). Heap after a GC: the projected Services and slices, and what svcbgp keeps beside them.`,
  '',
  `| Services | cold pass | pass p50 | p90 | p99 | max | p99 vs ${first.services.toLocaleString('en-US')} | drift pass | check beside passes | changes during the check: n, p99, max | full recomputation at once | heap: objects | heap: svcbgp |`,
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...results.map(
    (r) =>
      `| ${r.services.toLocaleString('en-US')} | ${r.coldPassMs} ms | ${r.passP50Ms} ms | ${r.passP90Ms} ms | ${r.passP99Ms} ms | ${r.passMaxMs} ms | ${(r.passP99Ms / first.passP99Ms).toFixed(2)}x | ${r.driftPassMs} ms | ${r.checkMs} ms | ${r.duringCheck}, ${r.duringCheckP99Ms} ms, ${r.duringCheckMaxMs} ms | ${r.fullComputeMs} ms | ${r.heapObjectsMiB} MiB | ${r.heapAgentMiB} MiB |`,
  ),
].join('\n');
console.log(`\n${section}`);
if (!args['no-write']) writeSection(path.join(args.out!, 'bench.md'), 'pass', section);
