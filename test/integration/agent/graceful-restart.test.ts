/**
 * Graceful restart as the ToR sees it. Our gobgpd (driven by the agent's reconciler) on "node" 192.168.1.10 and
 * a second, independent gobgpd as "ToR" 192.168.1.1 (its own TOML, graceful restart helper), each in a network
 * namespace this test creates, joined by a veth pair. The ToR's `gobgp global rib` is the ground truth:
 * - a first start (peers added with local_restarting, because the agent started BGP) still delivers every route
 *   once End-of-RIB is exchanged — local_restarting never blocks advertisement for good;
 * - gobgpd SIGKILLed and restarted under the running agent: the ToR keeps forwarding on the stale routes and
 *   never loses a route while the agent restores global config, paths, then the peer (local_restarting).
 */
import { expect } from 'chai';
import { connectGobgp } from '../../../src/gobgp/client.js';
import type { GobgpClient } from '../../../src/gobgp/types.js';
import type { Route } from '../../../src/model/route.js';
import { Reconciler, fixedInputs } from '../../../src/agent/reconciler.js';
import { PassScheduler } from '../../../src/agent/scheduler.js';
import { GobgpdMonitor } from '../../../src/agent/monitor.js';
import { speakerOverClient } from '../../helpers/gobgpd-speaker.js';
import { createLink, ribNextHops, startSpeaker, type Link } from '../../helpers/bgp-speaker.js';
import { waitFor, type Gobgpd } from '../../helpers/gobgpd.js';
import { RestartableGobgpd, memoryLogger } from './util.js';

const OURS = '192.168.1.10';
const TOR = '192.168.1.1';

const route = (prefix: string): Route => ({ prefix, family: 'ipv4-unicast', nextHop: '0.0.0.0', communities: [], largeCommunities: [] });

describe('graceful restart towards a real GR-helper peer (network namespaces)', function () {
  this.timeout(120_000);
  let link: Link;
  let ours: RestartableGobgpd;
  let tor: Gobgpd;
  let client: GobgpClient;
  let scheduler: PassScheduler;
  let monitor: GobgpdMonitor;
  let reconciler: Reconciler;
  const log = memoryLogger();

  before(async function () {
    link = createLink({ node: { v4: OURS, v6: 'fd00:1::10' }, tor: { v4: TOR, v6: 'fd00:1::1' }, v4Len: 24, v6Len: 64 });
    ours = new RestartableGobgpd('gr-node', link.nodeNs);
    await ours.start();
    tor = await startSpeaker({ asn: 64512, routerId: TOR, address: TOR, port: 179, netns: link.torNs, neighbor: { address: OURS, asn: 64512, port: 179 } });
    client = connectGobgp(ours.address, { deadlineMs: 5000 });
    const speaker = speakerOverClient(client, { log: log.log });
    const inputs = {
      synced: true,
      connected: true,
      speaker: { asn: 64512, routerId: OURS, listenPort: 179, peers: [{ address: TOR, asn: 64512, gracefulRestart: { enabled: true, restartTime: 120 } }] },
      desired: {
        paths: [route('10.49.0.0/16'), route('192.168.3.180/32')].map((r) => ({
          route: r,
          kinds: ['cluster-ip-cidr' as const],
          reasons: [{ rule: 'aggregate' as const, text: 'test' }],
        })),
        refused: [],
      },
    };
    reconciler = new Reconciler({ speaker, inputs: fixedInputs(() => inputs), log: log.log });
    scheduler = new PassScheduler((r) => reconciler.pass(r), { maxWindowMs: 50, retryMs: 300 });
    monitor = new GobgpdMonitor(speaker, reconciler, (why, d) => scheduler.trigger(why, d), 300);
  });

  after(async function () {
    if (this.currentTest?.state === 'failed')
      process.stderr.write(`--- our gobgpd ---\n${ours?.log().slice(-3000)}\n--- tor ---\n${tor?.log().slice(-3000)}\n`);
    monitor?.stop();
    scheduler?.stop();
    client?.close();
    await ours?.stop();
    await tor?.stop();
    link?.destroy();
  });

  it('first start: peers are added with local_restarting, and the ToR still gets every route once End-of-RIB is exchanged', async () => {
    await monitor.start();
    scheduler.trigger('start', 0);
    const rib = await waitFor(
      'both routes at the ToR',
      async () => {
        const r = await ribNextHops(tor, 'ipv4');
        return r.size === 2 ? r : undefined;
      },
      60_000,
      200,
    );
    expect([...rib]).to.deep.equal([
      ['10.49.0.0/16', [OURS]],
      ['192.168.3.180/32', [OURS]],
    ]);
    expect(log.entries.find((e) => e.message === 'peers provisioned')).to.deep.include({ added: [TOR], localRestarting: true });
    // gobgpd clears local_restarting itself once the End-of-RIB exchange completed.
    await waitFor(
      'local_restarting cleared by gobgpd',
      async () => ((await client.listPeers()).every((p) => !p.localRestarting) ? true : undefined),
      30_000,
      200,
    );
  });

  it('gobgpd SIGKILLed and restarted under the agent: the ToR never loses a route (stale, then refreshed)', async () => {
    const missing: string[] = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const r = await ribNextHops(tor, 'ipv4').catch(() => undefined);
        if (r && r.size < 2) missing.push(`${new Date().toISOString()} ${[...r.keys()].join(',') || '(none)'}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    try {
      await ours.kill('SIGKILL');
      await waitFor('the agent to notice', async () => (reconciler.readiness().gobgpReachable ? undefined : true), 10_000, 50);
      await new Promise((r) => setTimeout(r, 1000)); // the ToR now holds our routes as stale
      const stale = await tor.cli('global', 'rib');
      await ours.start();
      await waitFor(
        'the session back and our routes refreshed',
        async () => {
          const peer = (await client.listPeers()).find((p) => p.peer.address === TOR);
          return peer?.sessionState === 'established' && !peer.localRestarting ? true : undefined;
        },
        60_000,
        200,
      );
      expect(stale).to.contain('10.49.0.0/16');
      const rib = await ribNextHops(tor, 'ipv4');
      expect([...rib]).to.deep.equal([
        ['10.49.0.0/16', [OURS]],
        ['192.168.3.180/32', [OURS]],
      ]);
      expect(missing, 'moments the ToR lacked a route').to.deep.equal([]);
      // The restore order, from the agent's log: global, then paths, then the peer.
      const msgs = log.entries.map((e) => e.message);
      const restoreAt = msgs.lastIndexOf('gobgpd global configuration set');
      expect(msgs.indexOf('advertise', restoreAt)).to.be.greaterThan(restoreAt);
      expect(msgs.indexOf('peers provisioned', restoreAt)).to.be.greaterThan(msgs.lastIndexOf('advertise'));
    } finally {
      polling = false;
      await poll;
    }
  });
});
