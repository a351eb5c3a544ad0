/**
 * A dead node is bounded (issue 14 item 3): how long the ToR keeps forwarding to a node whose every packet is
 * dropped while its processes stay alive (`iptables -j DROP` in and out, inside the node's namespace), from the drop
 * until the ToR's kernel table no longer has the node's next hop. And what each ToR does with a node's routes when
 * BFD fails during a graceful restart (gobgpd SIGKILLed and restored, what a Pod restart does under dumb-init).
 *
 * OPT-IN, several minutes: SVCBGP_DEAD_NODE=1 (BFD cases need a 4.x: SVCBGP_GOBGPD=4.8 or 4.9). Numbers are printed as
 * `[lab-metric]` lines and written to docs/timers.md by hand; nothing here fails on a time. What is asserted is what an
 * operator checks: the next hop does go away, the session the ToR reports, and the route deletions of a restart.
 *
 * The node's gobgpd is driven by svcbgp's own configuration and provisioning code (parseConfig -> peersForNode ->
 * src/gobgp provisioning, in the agent's restore order), so the timers and BFD settings on the wire are exactly what
 * the agent sends; the agent's Kubernetes side plays no part in what the ToR sees.
 */
import { expect } from 'chai';
import { connectGobgp } from '../../src/gobgp/client.js';
import { provisionPeers } from '../../src/gobgp/provision.js';
import { provisionGlobalOrThrow as provisionGlobal } from '../helpers/gobgpd-client.js';
import { parseConfig } from '../../src/config/parse.js';
import { peersForNode } from '../../src/config/peers.js';
import type { Peer, SpeakerConfig } from '../../src/model/peer.js';
import type { Route } from '../../src/model/route.js';
import { cleanupStale, createLab, LAB_GOBGPD, run, sleep, waitFor, type Lab, type LabNode, type RouterKind } from '../lab/index.js';
import type { TorBfd } from '../lab/tor.js';
import { metric } from './lab-metrics.js';

const AGGREGATE = '10.49.0.0/16';
const ENABLED = process.env.SVCBGP_DEAD_NODE === '1';
const SAMPLES = Number(process.env.SVCBGP_DEAD_NODE_SAMPLES ?? 3);

/** A peer setting under test, as a BGPPeer's spec lines (none: svcbgp's defaults). `legacy`: no timers on the wire. */
interface Setting {
  name: string;
  spec: string;
  /** Before this change svcbgp sent gobgpd's own defaults (hold 90 s, keepalive 30 s). */
  legacy?: boolean;
  bfd?: boolean;
  samples: number;
}

const SETTINGS: Setting[] = [
  { name: 'before: gobgpd defaults (hold 90 s, keepalive 30 s)', spec: '', legacy: true, samples: 1 },
  { name: 'svcbgp defaults (hold 9 s, keepalive 3 s)', spec: '', samples: SAMPLES },
  { name: 'svcbgp defaults + BFD 300 ms x 3', spec: '  failureDetectionMode: BFDIfDirectlyConnected\n', bfd: true, samples: SAMPLES },
];

const hasBfd = LAB_GOBGPD.api === 'v4';

/** The node's peers exactly as the agent computes them from a BGPPeer document. */
function peersFor(node: LabNode, lab: Lab, setting: Setting): Peer[] {
  const text = `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: tor\nspec:\n  peerIP: ${lab.tor.ipv4}\n  asNumber: ${lab.tor.asn}\n${setting.spec}`;
  const parsed = parseConfig(text);
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.text).join('\n'));
  const peers: Peer[] = peersForNode(parsed.config, { name: node.name, labels: {}, addresses: [{ type: 'InternalIP', address: node.ipv4 }] }).map(
    ({ name: _name, passwordSecretRef: _ref, ...p }) => p,
  );
  if (!setting.legacy) return peers;
  return peers.map(({ keepaliveTime: _k, holdTime: _h, ...p }) => p);
}

const route = (prefix: string): Route => ({ prefix, family: 'ipv4-unicast', nextHop: '0.0.0.0', communities: [], largeCommunities: [] });

/** The agent's restore order after it started BGP: global settings, every path, then the peers with local_restarting. */
async function provision(node: LabNode, lab: Lab, peers: Peer[]): Promise<void> {
  const speaker: SpeakerConfig = { asn: lab.tor.asn, routerId: node.ipv4, listenPort: 179, peers };
  const client = connectGobgp(node.gobgpd.target, { deadlineMs: 5000 });
  try {
    await provisionGlobal(client, speaker);
    await client.addPaths([route(AGGREGATE)]);
    await provisionPeers(client, speaker, { localRestarting: true });
  } finally {
    client.close();
  }
}

async function peerDetail(node: LabNode, lab: Lab): Promise<{ hold: number; keepalive: number; bfd: string }> {
  const client = connectGobgp(node.gobgpd.target, { deadlineMs: 5000 });
  try {
    const p = (await client.listPeers(lab.tor.ipv4))[0];
    return { hold: p?.peer.holdTime ?? 0, keepalive: p?.peer.keepaliveTime ?? 0, bfd: p?.bfdState ?? 'off' };
  } finally {
    client.close();
  }
}

const hasHop = async (lab: Lab, node: LabNode): Promise<boolean> => ((await lab.torRoutes())[AGGREGATE] ?? []).includes(node.ipv4);

async function dropAll(node: LabNode): Promise<void> {
  for (const chain of ['INPUT', 'OUTPUT']) await run('ip', ['netns', 'exec', node.ns, 'iptables', '-I', chain, '1', '-j', 'DROP']);
}

/** Bring up a 2-node lab, provision both nodes with `setting`, wait for the ECMP route via both. */
async function labWith(router: RouterKind, setting: Setting, torBfd?: TorBfd): Promise<Lab> {
  const lab = await createLab({ router, nodes: 2, ...(torBfd ? { torBfd } : {}) });
  for (const n of lab.nodes) await provision(n, lab, peersFor(n, lab, setting));
  await lab.waitForTorRoute(
    AGGREGATE,
    lab.nodes.map((n) => n.ipv4),
    60_000,
  );
  if (setting.bfd) {
    const n1 = lab.node(1);
    await waitFor('BFD up on node-1', async () => ((await peerDetail(n1, lab)).bfd === 'up' ? true : undefined), 30_000, 200);
  }
  return lab;
}

/** Drop every packet of node-1; ms until the ToR's kernel table has no next hop via node-1. */
async function deadNodeMs(lab: Lab, timeoutMs: number): Promise<number> {
  const n1 = lab.node(1);
  await dropAll(n1);
  const t0 = Date.now();
  await waitFor('node-1 gone from the ToR', async () => (!(await hasHop(lab, n1)) ? true : undefined), timeoutMs, 100);
  return Date.now() - t0;
}

/**
 * gobgpd SIGKILLed (a Pod restart: dumb-init rewrites the kubelet's SIGTERM), down for `downMs` (longer than the BFD
 * detection time), restored in the agent's order. Returns the ToR's kernel route changes that lost node-1 (deletions, or
 * the ECMP route replaced without it) and how long node-1's next hop was missing from the ToR's kernel table.
 */
async function restartWithBfd(lab: Lab, setting: Setting, downMs: number): Promise<{ deleted: string[]; missingMs: number; keptDuringDown: boolean }> {
  const n1 = lab.node(1);
  const monitor = lab.monitorTorRoutes();
  let missingMs = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const t = Date.now();
      if (!(await hasHop(lab, n1))) missingMs += 100;
      await sleep(Math.max(0, 100 - (Date.now() - t)));
    }
  })();
  await n1.gobgpd.kill();
  await sleep(downMs);
  const keptDuringDown = await hasHop(lab, n1);
  await n1.gobgpd.start();
  await provision(n1, lab, peersFor(n1, lab, setting));
  await lab.waitForTorRoute(
    AGGREGATE,
    lab.nodes.map((n) => n.ipv4),
    60_000,
  );
  await waitFor('BFD up again', async () => ((await peerDetail(n1, lab)).bfd === 'up' ? true : undefined), 30_000, 200);
  await sleep(2000);
  sampling = false;
  await sampler;
  const changes = await monitor.stop();
  // A multipath route losing a next hop is replaced, not deleted: count every version of it without node-1 as well.
  const aggregate = AGGREGATE.replace('/16', '');
  const withoutN1 = changes.lines.filter((l) => l.includes(aggregate) && !l.includes(n1.ipv4));
  return { deleted: [...changes.deleted.filter((l) => l.includes(n1.ipv4)), ...withoutN1], missingMs, keptDuringDown };
}

(ENABLED ? describe : describe.skip)(`a dead node is bounded (opt-in SVCBGP_DEAD_NODE=1; gobgpd ${LAB_GOBGPD.name})`, function () {
  this.timeout(0);
  before(() => cleanupStale());

  for (const router of ['bird', 'frr'] as RouterKind[]) {
    for (const setting of SETTINGS) {
      it(`${router}, ${setting.name}: every packet of node-1 dropped -> its next hop leaves the ToR's table`, async function () {
        if (setting.bfd && !hasBfd) this.skip();
        for (let i = 0; i < setting.samples; i++) {
          const lab = await labWith(router, setting, setting.bfd ? {} : undefined);
          try {
            const d = await peerDetail(lab.node(1), lab);
            // Give the keepalive phase a random start: the black hole is between hold - keepalive and hold.
            await sleep(Math.floor(Math.random() * d.keepalive * 1000));
            const ms = await deadNodeMs(lab, (d.hold + 60) * 1000);
            metric(
              `${router} ${setting.name}`,
              `dead node -> next hop gone from the ToR, ms (sample ${i + 1})`,
              ms,
              `(gobgpd hold ${d.hold} s keepalive ${d.keepalive} s, BFD ${d.bfd})`,
            );
            expect((await lab.torRoutes())[AGGREGATE], 'the other node still carries the aggregate').to.deep.equal([lab.node(2).ipv4]);
          } finally {
            await lab.destroy();
          }
        }
      });
    }

    for (const graceful of [false, true]) {
      const torLine = router === 'bird' ? (graceful ? 'bfd graceful' : 'bfd on') : graceful ? 'neighbor bfd check-control-plane-failure' : 'neighbor bfd';
      const setting = SETTINGS[2]!;
      it(`${router} (${torLine}): BFD fails during a graceful restart (gobgpd SIGKILL, 3 s down, restored) -> route deletions at the ToR`, async function () {
        if (!hasBfd) this.skip();
        const lab = await labWith(router, setting, { graceful });
        try {
          const r = await restartWithBfd(lab, setting, 3000);
          metric(
            `${router} ${torLine}`,
            'gobgpd SIGKILL + restore with BFD: ms node-1 missing from the ToR',
            r.missingMs,
            `(kept while down: ${r.keptDuringDown}; deletions: ${r.deleted.length}${r.deleted.length ? ` ${JSON.stringify(r.deleted)}` : ''})`,
          );
          expect((await lab.torRoutes())[AGGREGATE], 'restored').to.include(lab.node(1).ipv4);
        } finally {
          await lab.destroy();
        }
      });
      it(`${router} (${torLine}): a dead node with BFD -> next hop gone from the ToR`, async function () {
        if (!hasBfd) this.skip();
        const lab = await labWith(router, setting, { graceful });
        try {
          const ms = await deadNodeMs(lab, 200_000);
          metric(`${router} ${torLine}`, 'dead node -> next hop gone from the ToR, ms', ms);
        } finally {
          await lab.destroy();
        }
      });
    }
  }
});
