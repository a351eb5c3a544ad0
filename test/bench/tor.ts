/**
 * Event to the ToR's kernel table (reports numbers, asserts nothing; part of `npm run bench`): the network lab with
 * a real ToR (BIRD 2 by default, or FRR), real gobgpd in every node, the REAL control plane, the node simulator (the
 * one stand-in: it plays the kubelet) and one `svcbgp run` per node (test/e2e/chaos/service-lab.ts).
 *
 * Beside `--services` background Services (ClusterIP, internalTrafficPolicy Local, one hand-written EndpointSlice
 * each with its endpoint on node-3, so the ToR holds one /32 per Service), one target Service whose only endpoint
 * moves between node-1 and node-2 (its EndpointSlice replaced, as the EndpointSlice controller does when a Pod moves):
 * from just before the API write until `ip -n <tor> monitor route` shows the target's /32 via exactly the new node,
 * i.e. the old node's withdrawal and the new node's advertisement have both reached the ToR's kernel.
 *
 *   npm run build && node dist/test/bench/tor.js [--router bird|frr] [--services 1000] [--changes 50] [--no-write]
 *
 * Writes its section into docs/bench.md (common.ts writeSection), unless --no-write.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CoreV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import { ServiceLab } from '../e2e/chaos/service-lab.js';
import { monitorRoutes } from '../lab/route-events.js';
import type { RouterKind } from '../lab/index.js';
import { summarize } from './report.js';
import { benchSlice, parallel, writeSection } from './common.js';

const { values: args } = parseArgs({
  options: {
    router: { type: 'string', default: 'bird' },
    services: { type: 'string', default: '1000' },
    changes: { type: 'string', default: '50' },
    'no-write': { type: 'boolean', default: false },
    out: { type: 'string', default: 'docs' },
  },
});
const ROUTER = args.router as RouterKind;
const BACKGROUND = Number(args.services);
const CHANGES = Number(args.changes);

const log = (msg: string): void => console.log(`[bench-tor ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const lab = await ServiceLab.create({ router: ROUTER, namespacePrefix: 'bench-tor' });
try {
  const kc = lab.cp.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const ns = lab.ns;
  const createService = async (name: string): Promise<string> => {
    const svc = await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name }, spec: { ports: [{ port: 80 }], internalTrafficPolicy: 'Local' } },
    });
    return svc.spec!.clusterIP!;
  };
  let t = Date.now();
  // The agents first: ServiceLab waits for a ToR table of just the aggregates.
  await lab.startAgents();
  log(`agents up, sessions Established, aggregates at the ToR in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  t = Date.now();
  await parallel(
    Array.from({ length: BACKGROUND }, (_, i) => i),
    16,
    async (i) => {
      await createService(`bg-${i}`);
      await discovery.createNamespacedEndpointSlice({ namespace: ns, body: benchSlice(`bg-${i}`, 'node-3', [`10.48.${(i >> 8) & 255}.${i & 255}`]) });
    },
  );
  log(`${BACKGROUND} background Services with an endpoint on node-3 in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const targetIP = await createService('target');
  const prefix = `${targetIP}/32`;
  const ipOf = (node: string): string => lab.lab.node(node).ipv4;
  await discovery.createNamespacedEndpointSlice({ namespace: ns, body: benchSlice('target', 'node-1', ['10.47.0.1']) });
  await lab.lab.waitForTorRoutes(
    (table) => table[prefix]?.join(',') === ipOf('node-1') && Object.keys(table).length >= BACKGROUND + 3,
    180_000,
    `the target ${prefix} via node-1 and ${BACKGROUND} background /32s`,
  );
  log('the ToR has the target via node-1 and every background /32');

  const monitor = monitorRoutes(lab.lab.tor.ns);
  await sleep(500);
  const latencies: number[] = [];
  let missed = 0;
  let on = 'node-1';
  for (let c = 0; c < CHANGES; c++) {
    const to = on === 'node-1' ? 'node-2' : 'node-1';
    const want = ipOf(to);
    const t0 = Date.now();
    await discovery.replaceNamespacedEndpointSlice({ name: 'target-1', namespace: ns, body: benchSlice('target', to, ['10.47.0.1']) });
    let seenAt: number | undefined;
    while (seenAt === undefined && Date.now() - t0 < 10_000) {
      const e = monitor.events().find((x) => x.at >= t0 && x.prefix === prefix && !x.deleted && x.nextHops.length === 1 && x.nextHops[0] === want);
      if (e) seenAt = e.at;
      else await sleep(2);
    }
    if (seenAt === undefined) missed++;
    else latencies.push(seenAt - t0);
    on = to;
    await sleep(200 + Math.floor(Math.random() * 100));
  }
  await monitor.stop();
  const s = summarize(latencies);
  log(
    `endpoint moved between nodes -> ToR kernel /32 via the new node, ${latencies.length} changes (${missed} missed): p50 ${s.p50} ms, p90 ${s.p90}, p99 ${s.p99}, max ${s.max}`,
  );
  const routerName = ROUTER === 'bird' ? 'BIRD 2' : 'FRR';
  const section = [
    "## Event to the ToR's kernel table (test/bench/tor.ts)",
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} in the network lab: ${routerName} as the ToR, three nodes with gobgpd and \`svcbgp run\`, the real control plane; ${BACKGROUND.toLocaleString('en-US')} background Services (one /32 each at the ToR) beside the target.`,
    "A change: the target Service's only endpoint moves to the other node (its EndpointSlice replaced); measured from just before the API write until `ip monitor route` on the ToR shows the /32 via exactly the new node (both nodes' updates applied).",
    '',
    '| ToR | background Services | changes (missed) | p50 | p90 | p99 | max |',
    '|---|---:|---:|---:|---:|---:|---:|',
    `| ${routerName} | ${BACKGROUND.toLocaleString('en-US')} | ${latencies.length} (${missed}) | ${s.p50} ms | ${s.p90} ms | ${s.p99} ms | ${s.max} ms |`,
  ].join('\n');
  console.log(`\n${section}`);
  if (!args['no-write']) {
    const file = path.join(args.out!, 'bench.md');
    writeSection(file, 'tor', section);
    log(`wrote the ToR section into ${file}`);
  }
} finally {
  await lab.destroy();
  await lab.cp.stop().catch(() => undefined);
}
