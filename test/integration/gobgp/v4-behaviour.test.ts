/**
 * What gobgpd 4.x does differently, checked against a real gobgpd 4.x (SVCBGP_GOBGPD's when it is a v4, else the
 * newest: sideBySideV4) on "node"
 * 192.168.1.10 and a second, independent gobgpd as "ToR" 192.168.1.1 (graceful-restart helper), in network
 * namespaces this test creates, joined by a veth pair. The ToR's `gobgp global rib` is the ground truth.
 */
import { expect } from 'chai';
import { GobgpRequestError } from '../../../src/gobgp/index.js';
import { connectTestGobgp as connectGobgp, type TestGobgpClient as GobgpClient } from '../../helpers/gobgpd-client.js';
import type { Route } from '../../../src/model/route.js';
import { createLink, ribNextHops, startSpeaker, type Link } from '../../helpers/bgp-speaker.js';
import { startGobgpd, waitFor, type Gobgpd } from '../../helpers/gobgpd.js';
import { sideBySideV4 } from '../../helpers/gobgpd-version.js';

const OURS = '192.168.1.10';
const TOR = '192.168.1.1';
/** On the link's subnet, but nobody answers: a GR peer that is configured and never comes up. */
const DOWN_PEER = '192.168.1.99';
const GR = { enabled: true, restartTime: 120 };
const V4 = sideBySideV4();

const route = (prefix: string): Route => ({ prefix, family: 'ipv4-unicast', nextHop: '0.0.0.0', communities: [], largeCommunities: [] });

describe(`gobgpd ${V4} specifics towards a real GR-helper peer (network namespaces)`, function () {
  this.timeout(120_000);
  let link: Link;
  let ours: Gobgpd;
  let tor: Gobgpd;
  let client: GobgpClient;

  beforeEach(async function () {
    link = createLink({ node: { v4: OURS, v6: 'fd00:1::10' }, tor: { v4: TOR, v6: 'fd00:1::1' }, v4Len: 24, v6Len: 64 });
    ours = await startGobgpd({ name: 'v4-node', netns: link.nodeNs, version: V4 });
    tor = await startSpeaker({ asn: 64512, routerId: TOR, address: TOR, port: 179, netns: link.torNs, neighbor: { address: OURS, asn: 64512, port: 179 } });
    client = connectGobgp(ours.apiAddress, { deadlineMs: 5000, api: 'v4' });
    await client.startBgp({ asn: 64512, routerId: OURS, listenPort: 179 });
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed')
      process.stderr.write(`--- our gobgpd ---\n${ours?.log().slice(-3000)}\n--- tor ---\n${tor?.log().slice(-2000)}\n`);
    client?.close();
    await ours?.stop('SIGKILL');
    await tor?.stop('SIGKILL');
    link?.destroy();
  });

  it('restoring with local_restarting and one GR peer that is down: the reachable peer still gets the routes at once, not after the 360 s deferral', async function () {
    // The restore order after a gobgpd restart: paths first, then the peers with local_restarting. Since v4.6.0
    // gobgpd waits for End-of-RIB from every GR peer, the down one included, for up to deferral_time; the v4
    // codec sends a 3 s deferral_time (peer-defaults.ts deferralTimeFor) because our RIB is complete before any peer.
    await client.addPaths([route('10.49.0.0/16'), route('10.49.62.131/32')]);
    await client.addPeer({ address: DOWN_PEER, asn: 64512, gracefulRestart: GR }, { localRestarting: true });
    await client.addPeer({ address: TOR, asn: 64512, gracefulRestart: GR }, { localRestarting: true });
    const added = Date.now();
    const rib = await waitFor(
      'our routes at the ToR',
      async () => {
        const r = await ribNextHops(tor, 'ipv4');
        return r.size === 2 ? r : undefined;
      },
      45_000,
      250,
    );
    expect([...rib]).to.deep.equal([
      ['10.49.0.0/16', [OURS]],
      ['10.49.62.131/32', [OURS]],
    ]);
    const peers = await client.listPeers();
    expect(peers.find((p) => p.peer.address === DOWN_PEER)?.sessionState).to.not.equal('established');
    expect(peers.find((p) => p.peer.address === TOR)?.sessionState).to.equal('established');
    // gobgpd 4.x takes the age from the request: ours is "now", not 1970 (`gobgp global rib` Age column).
    for (const p of await client.listPaths('ipv4-unicast')) expect(Math.abs(p.age!.getTime() - Date.now()), p.route.prefix).to.be.below(120_000);
    expect(await ours.cli('global', 'rib')).to.not.match(/\d+d \d\d:\d\d:\d\d/);
    process.stdout.write(`      (routes at the ToR ${((Date.now() - added) / 1000).toFixed(1)} s after the peers were added)\n`);
  });

  it('StopBgp{allow_graceful_restart}: no NOTIFICATION, so the GR-helper ToR keeps our routes (stale)', async function () {
    await client.addPaths([route('10.49.0.0/16')]);
    await client.addPeer({ address: TOR, asn: 64512, gracefulRestart: GR });
    await waitFor('route at the ToR', async () => ((await ribNextHops(tor, 'ipv4')).has('10.49.0.0/16') ? true : undefined), 45_000, 250);
    await client.stopBgp({ allowGracefulRestart: true });
    // gobgpd 4.x's StopBgp also ends its server loop (runningCancel in pkg/server/server.go): every later call
    // fails with "server stopped" until gobgpd is restarted. Nothing svcbgp does calls StopBgp today.
    await client.getGlobal().then(
      () => expect.fail('GetBgp after StopBgp'),
      (e: unknown) => expect(String(e)).to.contain('server stopped'),
    );
    await waitFor(
      'the ToR to see the session down',
      async () => (/BGP state = (SESSION_STATE_)?ESTABLISHED/.test(await tor.cli('neighbor', OURS)) ? undefined : true),
      30_000,
      250,
    );
    await new Promise((r) => setTimeout(r, 1000));
    const kept = (await tor.cliJson<Record<string, { stale?: boolean }[]> | null>('global', 'rib', '-a', 'ipv4')) ?? {};
    expect(Object.keys(kept)).to.deep.equal(['10.49.0.0/16']);
    expect(kept['10.49.0.0/16']![0]!.stale).to.equal(true);
  });

  it('control: a plain StopBgp (what gobgpd does on SIGTERM) sends Cease and the ToR drops our routes at once', async function () {
    await client.addPaths([route('10.49.0.0/16')]);
    await client.addPeer({ address: TOR, asn: 64512, gracefulRestart: GR });
    await waitFor('route at the ToR', async () => ((await ribNextHops(tor, 'ipv4')).has('10.49.0.0/16') ? true : undefined), 45_000, 250);
    await client.stopBgp();
    await waitFor('the ToR to drop the route', async () => ((await ribNextHops(tor, 'ipv4')).size === 0 ? true : undefined), 30_000, 250);
  });

  it('a malformed listen address is refused before StartBgp is sent (gobgpd 4.x would panic on it)', async function () {
    const fresh = await startGobgpd({ name: 'v4-listen', version: V4, unixSocket: true });
    const c = connectGobgp(fresh.apiAddress, { api: 'v4' });
    try {
      for (const bad of ['192.168.1', 'node-1', '10.0.0.1/24', '']) {
        const err = await c.startBgp({ asn: 64512, routerId: OURS, listenPort: 179, listenAddresses: [bad] }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, bad).to.be.instanceOf(GobgpRequestError);
        expect((err as Error).message).to.contain(`invalid listen address "${bad}"`);
      }
      expect(fresh.running).to.equal(true);
      expect(await c.getGlobal()).to.equal(undefined); // nothing was started
    } finally {
      c.close();
      await fresh.stop();
    }
  });
});
