/**
 * A real BGP session, the seed's setup: our gobgpd on "node" 192.168.1.10 (provisioned by svcbgp with the
 * default peer 192.168.1.1 AS 64512, iBGP, graceful restart) and a second, independent gobgpd as "ToR" on
 * 192.168.1.1 (configured from its own TOML file). Each sits in a network namespace this test creates,
 * joined by a veth pair; the gobgpd APIs are unix sockets. The ToR's `gobgp global rib` is the ground
 * truth for what we advertise.
 */
import { expect } from 'chai';
import type { Neighbor, WatchEvent, WatchHandle } from '../../../src/gobgp/index.js';
import { connectTestGobgp as connectGobgp, provisionSpeaker, type TestGobgpClient as GobgpClient } from '../../helpers/gobgpd-client.js';
import type { SpeakerConfig } from '../../../src/model/peer.js';
import type { Route } from '../../../src/model/route.js';
import { createLink, ribNextHops, startSpeaker, type Link } from '../../helpers/bgp-speaker.js';
import { GOBGPD_VERSION, startGobgpd, waitFor, type Gobgpd } from '../../helpers/gobgpd.js';

const OURS = '192.168.1.10';
const THEIRS = '192.168.1.1';
const OURS_V6 = 'fd00:1::10';

function r(prefix: string, extra: Partial<Route> = {}): Route {
  const v6 = prefix.includes(':');
  return { prefix, family: v6 ? 'ipv6-unicast' : 'ipv4-unicast', nextHop: v6 ? '::' : '0.0.0.0', communities: [], largeCommunities: [], ...extra };
}

/** `gobgp neighbor <addr>`: 3.x prints "BGP state = ESTABLISHED", 4.x "BGP state = SESSION_STATE_ESTABLISHED". */
const ESTABLISHED = /BGP state = (SESSION_STATE_)?ESTABLISHED/;

describe('BGP session between provisioned gobgpd and a second real speaker', function () {
  this.timeout(90000);
  let ours: Gobgpd;
  let theirs: Gobgpd;
  let client: GobgpClient;
  let config: SpeakerConfig;
  let watch: WatchHandle | undefined;
  let link: Link | undefined;
  const events: WatchEvent[] = [];

  async function peerState(): Promise<Neighbor | undefined> {
    return (await client.listPeers(THEIRS))[0];
  }

  before(async function () {
    link = createLink({ node: { v4: OURS, v6: OURS_V6 }, tor: { v4: THEIRS, v6: 'fd00:1::1' }, v4Len: 24, v6Len: 64 });
    ours = await startGobgpd({ name: 'session-node', netns: link.nodeNs });
    theirs = await startSpeaker({
      asn: 64512,
      routerId: THEIRS,
      address: THEIRS,
      port: 179,
      netns: link.torNs,
      neighbor: { address: OURS, asn: 64512, port: 179 },
    });
    client = connectGobgp(ours.apiAddress, { deadlineMs: 5000 });
    // The seed's configuration: AS 64512, peer 192.168.1.1 AS 64512, graceful restart 120 s, port 179.
    config = {
      asn: 64512,
      routerId: OURS,
      listenPort: 179,
      peers: [{ address: THEIRS, asn: 64512, gracefulRestart: { enabled: true, restartTime: 120 } }],
    };
  });
  after(async function () {
    watch?.close();
    client?.close();
    await ours?.stop();
    await theirs?.stop();
    link?.destroy();
  });

  it('provisioning brings the session up; the peer sees our graceful restart capability with restart time 120', async function () {
    // Start watching peer events first (no peers yet), to see the session come up as an event.
    await client.startBgp({ asn: config.asn, routerId: config.routerId, listenPort: config.listenPort });
    watch = client.watch({ peers: true }, (e) => events.push(e));
    await waitFor('the watch to be registered', async () => (events.some((e) => e.kind === 'end-of-init') ? true : undefined));

    const result = await provisionSpeaker(client, config);
    expect(result).to.deep.include({ bgpStarted: false, added: [THEIRS] });
    await waitFor('session established', async () => ((await peerState())?.sessionState === 'established' ? true : undefined), 60000, 250);

    const theirView = await theirs.cli('neighbor', OURS);
    expect(theirView).to.match(ESTABLISHED);
    expect(theirView).to.match(/graceful-restart:\s+advertised and received[\s\S]*Remote: restart time 120 sec\s+ipv4-unicast\s+ipv6-unicast/);
    await waitFor('an "established" peer event', async () =>
      events.some((e) => e.kind === 'peer' && e.peer.peer.address === THEIRS && e.peer.sessionState === 'established') ? true : undefined,
    );
  });

  it('the ToR receives our routes with the right next hops (IPv4: our session address; IPv6: the node address given)', async function () {
    const routes = [
      r('10.49.0.0/16', { communities: ['64512:100'] }),
      r('10.49.62.131/32'),
      r('fd00:49::/64', { nextHop: OURS_V6 }),
      r('fd00:49::1/128', { nextHop: OURS_V6 }),
    ];
    await client.addPath(routes[0]!);
    await client.addPaths(routes.slice(1));

    const v4 = await waitFor('IPv4 routes at the peer', async () => {
      const rib = await ribNextHops(theirs, 'ipv4');
      return rib.size === 2 ? rib : undefined;
    });
    // A local path with next hop 0.0.0.0 goes out with the session's local address.
    expect([...v4]).to.deep.equal([
      ['10.49.0.0/16', [OURS]],
      ['10.49.62.131/32', [OURS]],
    ]);
    const v6 = await waitFor('IPv6 routes at the peer', async () => {
      const rib = await ribNextHops(theirs, 'ipv6');
      return rib.size === 2 ? rib : undefined;
    });
    expect([...v6]).to.deep.equal([
      ['fd00:49::/64', [OURS_V6]],
      ['fd00:49::1/128', [OURS_V6]],
    ]);

    // The peer's RIB read through our client: learned from us, community intact.
    const theirClient = connectGobgp(theirs.apiAddress);
    try {
      const learned = await theirClient.listPaths('ipv4-unicast');
      expect(learned.map((p) => [p.route.prefix, p.local, p.neighbor, p.route.nextHop, p.route.communities])).to.deep.equal([
        ['10.49.0.0/16', false, OURS, OURS, ['64512:100']],
        ['10.49.62.131/32', false, OURS, OURS, []],
      ]);
    } finally {
      theirClient.close();
    }
  });

  it('re-provisioning with the same config changes nothing and resets no session (uptime and flaps unchanged)', async function () {
    const before = (await peerState())!;
    const theirsBefore = await theirs.cli('neighbor', OURS);
    // A fresh client, as a restarted agent would have.
    const fresh = connectGobgp(ours.apiAddress);
    const result = await provisionSpeaker(fresh, config).finally(() => fresh.close());
    expect(result.changed).to.equal(false);
    await new Promise((res) => setTimeout(res, 1500));
    const after = (await peerState())!;
    expect(after.sessionState).to.equal('established');
    expect(after.flaps).to.equal(before.flaps);
    expect(after.uptime?.getTime()).to.equal(before.uptime?.getTime());
    const flops = (s: string) => /Flops = (\d+)/.exec(s)?.[1];
    expect(flops(await theirs.cli('neighbor', OURS))).to.equal(flops(theirsBefore));
  });

  it('a changed peer (timers) is updated: gobgpd 3.10 re-establishes the session, which then uses the new hold time; 3.37 and 4.x store it for the next session', async function () {
    const changed = { ...config, peers: [{ ...config.peers[0]!, holdTime: 60, keepaliveTime: 20 }] };
    const result = await provisionSpeaker(client, changed);
    expect(result.updated).to.deep.equal([{ address: THEIRS, changes: ['holdTime 90 -> 60', 'keepaliveTime 30 -> 20'], resetsSession: true }]);
    await waitFor('session re-established', async () => ((await peerState())?.sessionState === 'established' ? true : undefined), 60000, 250);
    expect((await peerState())!.peer).to.include({ holdTime: 60, keepaliveTime: 20 });
    // gobgpd 3.37 and 4.x's updateNeighbor fill in the defaults before comparing (pkg/server/server.go), so a timer
    // change is no "resend OPEN" change: it is stored and negotiated on the next session, the current one keeps 90 s.
    expect(await ours.cli('neighbor', THEIRS)).to.match(
      GOBGPD_VERSION.name !== '3.10'
        ? /Hold time is 90, keepalive interval is 30 seconds\s+Configured hold time is 60, keepalive interval is 20 seconds/
        : /Hold time is 60, keepalive interval is 20 seconds/,
    );
    // Our paths are still there and re-advertised after the reset.
    await waitFor('routes back at the ToR', async () => ((await ribNextHops(theirs, 'ipv4')).size === 2 ? true : undefined));
    config = changed;
  });

  it('withdrawn routes disappear at the peer', async function () {
    await client.deletePaths([r('10.49.62.131/32'), r('fd00:49::1/128', { nextHop: OURS_V6 })]);
    await client.deletePath(r('10.49.0.0/16'));
    await waitFor('IPv4 withdrawals at the peer', async () => ((await ribNextHops(theirs, 'ipv4')).size === 0 ? true : undefined));
    await waitFor('IPv6 withdrawal at the peer', async () => {
      const rib = await ribNextHops(theirs, 'ipv6');
      return rib.size === 1 && rib.has('fd00:49::/64') ? true : undefined;
    });
  });

  it('a removed peer is deleted and its session goes down at the other side', async function () {
    const result = await provisionSpeaker(client, { ...config, peers: [] });
    expect(result.deleted).to.deep.equal([THEIRS]);
    expect(await client.listPeers()).to.deep.equal([]);
    await waitFor('the session to be down at the peer', async () => (ESTABLISHED.test(await theirs.cli('neighbor', OURS)) ? undefined : true));
  });
});
