#!/usr/bin/env node
/**
 * Shell entry point of the network lab (wrapped by scripts/lab-net.sh). Needs root.
 *
 *   up      build a lab and leave it running (nodes' gobgpd configured with the gobgp CLI unless --bare)
 *   demo    walk the article's routing steps with the gobgp CLI standing in for the agent, printing the ToR's table
 *   down    remove one lab;  list  show labs;  cleanup  remove leftovers of crashed runs
 */
import { Command, Option } from 'commander';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupStale, destroyByPrefix, readState } from './cleanup.js';
import { run } from './exec.js';
import { createLab, type Lab } from './lab.js';
import { labBaseDir } from './topology.js';
import type { RouterKind } from './tor.js';

const routerOption = (): Option => new Option('-r, --router <kind>', 'ToR implementation').choices(['bird', 'frr']).default('bird');
const say = (msg: string): void => void process.stdout.write(`${msg}\n`);
const progress = (msg: string): void => say(`  .. ${msg}`);

async function bringUp(router: RouterKind, configure: boolean, drop = false, ipv4Only = false): Promise<Lab> {
  const t0 = Date.now();
  say(`building the lab (ToR: ${router === 'bird' ? 'BIRD 2' : 'FRR'}${ipv4Only ? ', IPv4 only' : ''})`);
  const lab = await createLab({ router, onProgress: progress, unknownDestinations: drop ? 'drop' : 'unreachable', ipv6: !ipv4Only });
  if (configure) {
    progress('configuring gobgpd on every node with the gobgp CLI (AS 64512, neighbor 192.168.1.1)');
    await lab.configureNodesWithCli();
    progress('waiting for the BGP sessions');
    await lab.waitForSessions(undefined, 90_000);
  }
  say(`lab ${lab.id} up in ${Date.now() - t0} ms`);
  return lab;
}

async function showTor(lab: Lab, title: string): Promise<void> {
  say(`\n=== ${title}\n$ ip netns exec ${lab.tor.ns} ip route`);
  say((await lab.torIpRoute()).trimEnd());
}

/**
 * The article's steps with the gobgp CLI in place of the agent (what the agent will do from Kubernetes objects):
 * nginx runs on node-2 and node-3, its cluster IP is 10.49.62.131, its external IP 192.168.3.180.
 */
async function demo(lab: Lab): Promise<void> {
  const [n1, n2, n3] = [lab.node(1), lab.node(2), lab.node(3)];
  const nginx = [n2, n3];
  await showTor(lab, 'step 1: BGP sessions Established with .10 .11 .12; no service routes yet');
  say((await lab.router.showSessions()).trimEnd());

  for (const n of lab.nodes) await n.gobgpd.addRoute('10.49.0.0/16');
  await lab.waitForTorRoute('10.49.0.0/16', [n1.ipv4, n2.ipv4, n3.ipv4]);
  await showTor(lab, 'step 2: serviceClusterIPs 10.49.0.0/16 -> ECMP over all nodes');

  for (const n of nginx) {
    await lab.startHttpServer(n, '10.49.62.131');
    await n.gobgpd.addRoute('10.49.62.131/32');
  }
  await lab.waitForTorRoute(
    '10.49.62.131/32',
    nginx.map((n) => n.ipv4),
  );
  await showTor(lab, 'step 4: nginx with externalTrafficPolicy: Local on node-2 and node-3 -> /32 via those two');
  const viaCluster = await lab.httpFromExternal('10.49.62.131');
  say(`external$ curl http://10.49.62.131/ -> ${viaCluster.ok ? viaCluster.body?.trim() : viaCluster.error}   (HTTP stand-in for kube-proxy + nginx)`);

  for (const n of lab.nodes) await n.gobgpd.deleteRoute('10.49.0.0/16');
  for (const n of nginx) await n.gobgpd.deleteRoute('10.49.62.131/32');
  for (const n of lab.nodes) await n.gobgpd.addRoute('192.168.3.0/24');
  await lab.waitForTorRoutes((t) => !('10.49.0.0/16' in t) && !('10.49.62.131/32' in t) && t['192.168.3.0/24']?.length === 3);
  await showTor(lab, 'step 5: serviceExternalIPs 192.168.3.0/24 only -> cluster routes gone, external CIDR via all nodes');
  const gone = await lab.httpFromExternal('10.49.62.131', { timeoutMs: 5000 });
  say(`external$ curl -m 5 http://10.49.62.131/ -> ${gone.ok ? 'answered?!' : `fails (${gone.error})`}`);

  for (const n of nginx) {
    await lab.startHttpServer(n, '192.168.3.180');
    await n.gobgpd.addRoute('192.168.3.180/32');
  }
  await lab.waitForTorRoute(
    '192.168.3.180/32',
    nginx.map((n) => n.ipv4),
  );
  await showTor(lab, 'step 6: externalIPs [192.168.3.180] on nginx -> /32 via the nginx nodes');
  const ext = await lab.httpFromExternal('192.168.3.180');
  say(`external$ curl http://192.168.3.180/ -> ${ext.ok ? ext.body?.trim() : ext.error}`);
}

const program = new Command('lab-net').description('svcbgp network lab: namespaces, a BIRD 2 or FRR ToR, gobgpd per node');

program
  .command('up')
  .description('build a lab and leave it running; prints how to look around')
  .addOption(routerOption())
  .option('--bare', 'start gobgpd empty (for the agent to configure) instead of configuring it with the gobgp CLI')
  .option('--drop', 'unadvertised addresses are dropped at the ToR (clients time out) instead of ICMP unreachable')
  .option('--ipv4-only', 'the ToR has only IPv4 unicast (BIRD: one ipv4 channel per session; FRR: address-family ipv4 only)')
  .action(async (o: { router: RouterKind; bare?: boolean; drop?: boolean; ipv4Only?: boolean }) => {
    const lab = await bringUp(o.router, !o.bare, o.drop ?? false, o.ipv4Only ?? false);
    lab.keep();
    say(`\n${lab.operatorHints()}`);
  });

program
  .command('demo')
  .description("walk the article's routing steps (gobgp CLI standing in for the agent), printing the ToR's table")
  .addOption(routerOption())
  .option('--keep', 'leave the lab up afterwards')
  .action(async (o: { router: RouterKind; keep?: boolean }) => {
    // 'drop': unadvertised addresses time out at the ToR, as the article's cluster IP does after step 5.
    const lab = await bringUp(o.router, true, true);
    try {
      await demo(lab);
      if (o.keep) {
        lab.keep();
        say(`\nlab kept.\n${lab.operatorHints()}`);
      }
    } finally {
      if (!o.keep) {
        const t = Date.now();
        await lab.destroy();
        say(`\nlab ${lab.id} torn down in ${Date.now() - t} ms`);
      }
    }
  });

program
  .command('down')
  .argument('<id>', 'lab id, e.g. sb1a2b')
  .description('remove one lab (processes, namespaces, run dir)')
  .action((id: string) => {
    say(destroyByPrefix(id) ? `removed ${id}` : `no lab ${id}`);
  });

program
  .command('list')
  .description('list labs on this machine')
  .action(async () => {
    const base = labBaseDir();
    const dirs = existsSync(base) ? readdirSync(base).filter((d) => /^sb[0-9a-f]{4}$/.test(d)) : [];
    const ns = (await run('ip', ['netns', 'list'])).stdout;
    if (dirs.length === 0) say('no labs');
    for (const d of dirs) {
      const s = readState(join(base, d));
      const count = ns.split('\n').filter((l) => l.startsWith(`${d}-`)).length;
      say(`${d}  router=${s?.router ?? '?'}  namespaces=${count}  owner=${s?.ownerPid ?? '?'}  kept=${s?.keep ?? '?'}  since=${s?.createdAt ?? '?'}`);
    }
  });

program
  .command('cleanup')
  .description('remove leftovers of crashed runs (labs whose owner died); --all also removes kept labs')
  .option('--all', 'also remove labs kept with up/--keep')
  .action((o: { all?: boolean }) => {
    const r = cleanupStale({ includeKept: o.all ?? false });
    say(`removed: ${r.removed.join(' ') || '(none)'}`);
    for (const s of r.skipped) say(`kept ${s.prefix}: ${s.reason}`);
  });

await program.parseAsync(process.argv);
