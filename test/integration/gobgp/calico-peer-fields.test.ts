/**
 * BGPPeer fields of Calico that svcbgp hands to gobgpd, on a real gobgpd (SVCBGP_GOBGPD: the matrix runs 3.10, 3.37
 * and 4.8) against a "ToR" gobgpd 4.8 configured from its own TOML, so each session is real and the kernel applies
 * what gobgpd asked for. The peers come from BGPPeer documents through parseConfig and peersForNode, as in the agent.
 *
 * - ttlSecurity: the ToR sits two hops away, behind a router namespace that forwards (and decrements the TTL).
 *   Both ends run GTSM: packets leave with TTL 255 and arrive with 254. ttlSecurity: 1 (minimum TTL 255) drops them,
 *   so no session; ttlSecurity: 2 (minimum 254) accepts them: exactly BIRD's "ttl security on; multihop N".
 * - localASNumber and numAllowedLocalASNumbers: a directly connected eBGP ToR that expects AS 65001 from us while
 *   our global AS is 64512; it establishes only if our OPEN carries 65001.
 * - sourceAddress UseNodeIP: the node has two addresses on the link and the Node's InternalIP is the second one; the
 *   ToR knows only that one as its neighbor, while the kernel would pick the first.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { connectGobgp, type GobgpClient } from '../../../src/gobgp/index.js';
import { provisionSpeaker } from '../../helpers/gobgpd-client.js';
import { parseConfig } from '../../../src/config/parse.js';
import { peersForNode, speakerConfigForNode } from '../../../src/config/peers.js';
import type { SpeakerConfig } from '../../../src/model/peer.js';
import { createLink } from '../../helpers/bgp-speaker.js';
import { deleteNetns, onExit, startGobgpd, waitFor, type Gobgpd } from '../../helpers/gobgpd.js';

const OURS_AS = 64512;

function speakerFrom(routerId: string, peerSpec: string, internalIPs: string[] = []): SpeakerConfig {
  const parsed = parseConfig(`apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: tor\nspec:\n${peerSpec}`);
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.text).join('\n'));
  const node = { name: 'node-1', labels: {}, addresses: internalIPs.map((address) => ({ type: 'InternalIP', address })) };
  const peers = peersForNode(parsed.config, node).map(({ name: _n, passwordSecretRef: _r, ...p }) => ({ ...p, families: ['ipv4-unicast' as const] }));
  return { asn: OURS_AS, routerId, listenPort: 179, peers };
}

function torToml(o: { as: number; address: string; neighbor: string; neighborAs: number; ttlMin?: number; passive?: boolean }): string {
  return `[global.config]
  as = ${o.as}
  router-id = "${o.address}"
  port = 179
  local-address-list = ["${o.address}"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "${o.neighbor}"
    peer-as = ${o.neighborAs}
  [neighbors.transport.config]
    local-address = "${o.address}"${o.passive ? '\n    passive-mode = true' : ''}
  [neighbors.timers.config]
    connect-retry = 1
${
  o.ttlMin
    ? `  [neighbors.ttl-security.config]
    enabled = true
    ttl-min = ${o.ttlMin}
`
    : ''
}  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
`;
}

/** node (10.60.1.10) -- router (10.60.1.1 | 10.60.2.1, forwarding) -- tor (10.60.2.2): the ToR two hops away. */
function twoHops(): { nodeNs: string; torNs: string; destroy(): void } {
  const id = `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
  const [nodeNs, routerNs, torNs] = ['node', 'rtr', 'tor'].map((n) => `svcbgp-gtsm-${n}-${id}`) as [string, string, string];
  const destroy = (): void => [nodeNs, routerNs, torNs].forEach(deleteNetns);
  onExit(destroy);
  const ip = (...args: string[]): void => {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  try {
    for (const ns of [nodeNs, routerNs, torNs]) {
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    ip('-n', nodeNs, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', routerNs);
    ip('-n', torNs, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', routerNs);
    const up = (ns: string, dev: string, addr: string): void => {
      ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
      ip('-n', ns, 'link', 'set', dev, 'up');
    };
    up(nodeNs, 'eth0', '10.60.1.10/24');
    up(routerNs, 'eth0', '10.60.1.1/24');
    up(routerNs, 'eth1', '10.60.2.1/24');
    up(torNs, 'eth0', '10.60.2.2/24');
    ip('-n', nodeNs, 'route', 'add', 'default', 'via', '10.60.1.1');
    ip('-n', torNs, 'route', 'add', 'default', 'via', '10.60.2.1');
    execFileSync('ip', ['netns', 'exec', routerNs, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  } catch (err) {
    destroy();
    throw err;
  }
  return { nodeNs, torNs, destroy };
}

const sessionState = async (client: GobgpClient, address: string): Promise<string | undefined> => (await client.listPeers(address))[0]?.sessionState;

interface CliNeighbor {
  conf: { local_asn?: number; peer_asn?: number; allow_own_asn?: number };
  ttl_security?: { enabled?: boolean; ttl_min?: number };
}

describe('Calico fields on real gobgpd: ttlSecurity, localASNumber, numAllowedLocalASNumbers, sourceAddress, bindMode', function () {
  this.timeout(180_000);

  it('ttlSecurity: 2 reaches a GTSM ToR two hops away; ttlSecurity: 1 (directly connected only) does not; `gobgp neighbor` shows the minimum TTL', async function () {
    const net = twoHops();
    let ours: Gobgpd | undefined;
    let tor: Gobgpd | undefined;
    let client: GobgpClient | undefined;
    try {
      // The ToR expects us two hops away too (minimum TTL 254).
      const startTor = (): Promise<Gobgpd> =>
        startGobgpd({
          name: 'gtsm-tor',
          netns: net.torNs,
          version: '4.8',
          configToml: torToml({ as: OURS_AS, address: '10.60.2.2', neighbor: '10.60.1.10', neighborAs: OURS_AS, ttlMin: 254 }),
        });
      tor = await startTor();
      ours = await startGobgpd({ name: 'gtsm-ours', netns: net.nodeNs });
      client = connectGobgp(ours.apiAddress, { deadlineMs: 5000 });
      const spec = (hops: number): string => `  peerIP: 10.60.2.2\n  asNumber: ${OURS_AS}\n  ttlSecurity: ${hops}\n`;

      await provisionSpeaker(client, speakerFrom('10.60.1.10', spec(1)));
      const json = JSON.parse(await ours.cli('-j', 'neighbor', '10.60.2.2')) as CliNeighbor;
      expect(json.ttl_security).to.deep.equal({ enabled: true, ttl_min: 255 });
      // The ToR's packets arrive with TTL 254: our kernel drops them (IP_MINTTL 255). Many connect attempts, no session.
      await new Promise((r) => setTimeout(r, 12_000));
      expect(await sessionState(client, '10.60.2.2')).to.not.equal('established');

      // A fresh ToR for the second half: the first one is left in OpenConfirm on a connection whose every answer our
      // kernel dropped, and would only give it up when its hold timer runs out.
      await tor.stop('SIGKILL');
      const res = await provisionSpeaker(client, speakerFrom('10.60.1.10', spec(2)));
      expect(res.replaced).to.deep.equal([{ address: '10.60.2.2', changes: ['ttlSecurityMinTtl 255 -> 254'] }]);
      tor = await startTor();
      await waitFor(
        'session established over two hops with GTSM',
        async () => ((await sessionState(client!, '10.60.2.2')) === 'established' ? true : undefined),
        90_000,
        250,
      );
      const after = JSON.parse(await ours.cli('-j', 'neighbor', '10.60.2.2')) as CliNeighbor;
      expect(after.ttl_security).to.deep.equal({ enabled: true, ttl_min: 254 });
      // Same configuration again: nothing to change (no replace loop).
      expect((await provisionSpeaker(client, speakerFrom('10.60.1.10', spec(2)))).changed).to.equal(false);
    } finally {
      client?.close();
      await ours?.stop('SIGKILL');
      await tor?.stop('SIGKILL');
      net.destroy();
    }
  });

  it('localASNumber: 65001 -> the session runs as AS 65001 (global AS 64512), as the ToR expects; numAllowedLocalASNumbers -> allow_own_asn; provisioning again changes nothing', async function () {
    const link = createLink({ node: { v4: '192.168.1.10', v6: 'fd00:1::10' }, tor: { v4: '192.168.1.1', v6: 'fd00:1::1' }, v4Len: 24, v6Len: 64 });
    let ours: Gobgpd | undefined;
    let tor: Gobgpd | undefined;
    let client: GobgpClient | undefined;
    try {
      tor = await startGobgpd({
        name: 'localas-tor',
        netns: link.torNs,
        version: '4.8',
        configToml: torToml({ as: 64513, address: '192.168.1.1', neighbor: '192.168.1.10', neighborAs: 65001 }),
      });
      ours = await startGobgpd({ name: 'localas-ours', netns: link.nodeNs });
      client = connectGobgp(ours.apiAddress, { deadlineMs: 5000 });
      const speaker = speakerFrom('192.168.1.10', '  peerIP: 192.168.1.1\n  asNumber: 64513\n  localASNumber: 65001\n  numAllowedLocalASNumbers: 2\n');
      await provisionSpeaker(client, speaker);
      await waitFor('eBGP session as AS 65001', async () => ((await sessionState(client!, '192.168.1.1')) === 'established' ? true : undefined), 90_000, 250);
      const json = JSON.parse(await ours.cli('-j', 'neighbor', '192.168.1.1')) as CliNeighbor;
      expect(json.conf).to.include({ local_asn: 65001, peer_asn: 64513, allow_own_asn: 2 });
      // What the ToR sees: its neighbor is AS 65001, not our global 64512.
      expect(await tor.cli('neighbor', '192.168.1.10')).to.match(/BGP neighbor is 192\.168\.1\.10, remote AS 65001/);
      expect(await ours.cli('global')).to.match(/AS:\s+64512/);
      expect((await provisionSpeaker(client, speaker)).changed, 'no update loop').to.equal(false);
      // Without localASNumber the peer goes back to the global AS (an update that resets the session).
      const back = await provisionSpeaker(client, speakerFrom('192.168.1.10', '  peerIP: 192.168.1.1\n  asNumber: 64513\n'));
      expect(back.updated.map((u) => u.changes)).to.deep.equal([['localAsn 65001 -> 64512', 'allowOwnAsn 2 -> 0']]);
      expect((JSON.parse(await ours.cli('-j', 'neighbor', '192.168.1.1')) as CliNeighbor).conf.local_asn).to.equal(64512);
    } finally {
      client?.close();
      await ours?.stop('SIGKILL');
      await tor?.stop('SIGKILL');
      link.destroy();
    }
  });

  it("BGPConfiguration bindMode: NodeIP -> gobgpd listens for BGP on the Node's InternalIPs only (ss in the node namespace); None: on every address", async function () {
    const link = createLink({ node: { v4: '192.168.1.10', v6: 'fd00:1::10' }, tor: { v4: '192.168.1.1', v6: 'fd00:1::1' }, v4Len: 24, v6Len: 64 });
    const node = {
      name: 'node-1',
      labels: {},
      addresses: [
        { type: 'InternalIP', address: '192.168.1.10' },
        { type: 'InternalIP', address: 'fd00:1::10' },
      ],
    };
    const listening = (): string[] =>
      execFileSync('ip', ['netns', 'exec', link.nodeNs, 'ss', '-Hltn', 'sport = :179'])
        .toString()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => l.trim().split(/\s+/)[3]!)
        .sort();
    const speaker = (bindMode: string): SpeakerConfig => {
      const parsed = parseConfig(`apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  bindMode: ${bindMode}\n`);
      if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.text).join('\n'));
      return speakerConfigForNode(parsed.config, node, '192.168.1.10');
    };
    try {
      for (const [bindMode, want] of [
        ['NodeIP', ['192.168.1.10:179', '[fd00:1::10]:179']],
        ['None', ['*:179', '0.0.0.0:179']],
      ] as const) {
        const ours = await startGobgpd({ name: `bind-${bindMode}`, netns: link.nodeNs });
        const client = connectGobgp(ours.apiAddress, { deadlineMs: 5000 });
        try {
          await provisionSpeaker(client, speaker(bindMode));
          const got = await waitFor(
            `gobgpd listening (${bindMode})`,
            async () => {
              const l = listening();
              return l.length > 0 ? l : undefined;
            },
            10_000,
          );
          if (bindMode === 'NodeIP') expect(got).to.deep.equal(want);
          else
            expect(
              got.some((a) => (want as readonly string[]).includes(a)),
              got.join(' '),
            ).to.equal(true);
          expect((await provisionSpeaker(client, speaker(bindMode))).changed, 'no change the second time').to.equal(false);
        } finally {
          client.close();
          await ours.stop('SIGKILL');
        }
      }
    } finally {
      link.destroy();
    }
  });

  it("sourceAddress: UseNodeIP -> the session leaves from the Node's InternalIP (not the address the kernel would pick), which the ToR expects", async function () {
    const link = createLink({ node: { v4: '192.168.1.10', v6: 'fd00:1::10' }, tor: { v4: '192.168.1.1', v6: 'fd00:1::1' }, v4Len: 24, v6Len: 64 });
    let ours: Gobgpd | undefined;
    let tor: Gobgpd | undefined;
    let client: GobgpClient | undefined;
    try {
      // The Node's InternalIP: a second address on the link (the kernel's source for 192.168.1.1 stays .10, the primary).
      execFileSync('ip', ['-n', link.nodeNs, 'addr', 'add', '192.168.1.20/24', 'dev', 'eth0']);
      // Passive: only sessions we open count (one the ToR opened to .20 would say nothing about our source address).
      tor = await startGobgpd({
        name: 'source-tor',
        netns: link.torNs,
        version: '4.8',
        configToml: torToml({ as: OURS_AS, address: '192.168.1.1', neighbor: '192.168.1.20', neighborAs: OURS_AS, passive: true }),
      });
      ours = await startGobgpd({ name: 'source-ours', netns: link.nodeNs });
      client = connectGobgp(ours.apiAddress, { deadlineMs: 5000 });
      const spec = `  peerIP: 192.168.1.1\n  asNumber: ${OURS_AS}\n`;
      // Without sourceAddress the kernel picks .10, which the ToR does not know: no session.
      await provisionSpeaker(client, speakerFrom('192.168.1.20', spec, ['192.168.1.20']));
      await new Promise((r) => setTimeout(r, 12_000));
      expect(await sessionState(client, '192.168.1.1')).to.not.equal('established');
      const speaker = speakerFrom('192.168.1.20', `${spec}  sourceAddress: UseNodeIP\n`, ['192.168.1.20', 'fd00:1::20']);
      expect(speaker.peers[0]).to.include({ localAddress: '192.168.1.20' });
      expect((await provisionSpeaker(client, speaker)).updated.map((u) => u.changes)).to.deep.equal([['localAddress (any) -> 192.168.1.20']]);
      await waitFor(
        'session from the InternalIP',
        async () => ((await sessionState(client!, '192.168.1.1')) === 'established' ? true : undefined),
        90_000,
        250,
      );
      expect(await tor.cli('neighbor')).to.match(/192\.168\.1\.20\s+64512\s.*Establ/);
      expect((await provisionSpeaker(client, speaker)).changed, 'no update loop').to.equal(false);
    } finally {
      client?.close();
      await ours?.stop('SIGKILL');
      await tor?.stop('SIGKILL');
      link.destroy();
    }
  });
});
