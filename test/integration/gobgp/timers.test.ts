/**
 * The peer timers and BFD svcbgp configures, as an operator sees them in `gobgp neighbor <addr>` and ListPeer, on
 * gobgpd 3.10 (API v3) and a 4.x (API v4) side by side whatever SVCBGP_GOBGPD says (like api-version.test.ts; the 4.x
 * is SVCBGP_GOBGPD's when it is a v4, else the newest). Our gobgpd sits in a namespace joined by a veth to a "ToR"
 * gobgpd of that 4.x configured from its own TOML (hold 90 s, BFD on for the BFD case), so the session is real and
 * the negotiated hold time is the smaller of both OPENs.
 * The peers come from a BGPPeer document through parseConfig and peersForNode: exactly what the agent provisions.
 */
import { expect } from 'chai';
import { connectGobgp, type GobgpClient } from '../../../src/gobgp/index.js';
import { provisionSpeaker } from '../../helpers/gobgpd-client.js';
import { parseConfig } from '../../../src/config/parse.js';
import { peersForNode } from '../../../src/config/peers.js';
import type { SpeakerConfig } from '../../../src/model/peer.js';
import { createLink, type Link } from '../../helpers/bgp-speaker.js';
import { startGobgpd, waitFor, type Gobgpd } from '../../helpers/gobgpd.js';
import { sideBySideV4 } from '../../helpers/gobgpd-version.js';
import { memoryLogger } from '../agent/util.js';

const OURS = '192.168.1.10';
const TOR = '192.168.1.1';
const V4 = sideBySideV4();

/** The ToR: gobgpd 4.x (V4) from a TOML file, gobgpd's default timers (hold 90 s), BFD 300 ms x 3 when asked. */
function torToml(bfd: boolean): string {
  return `[global.config]
  as = 64512
  router-id = "${TOR}"
  port = 179
  local-address-list = ["${TOR}"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "${OURS}"
    peer-as = 64512
  [neighbors.timers.config]
    connect-retry = 1
${
  bfd
    ? `  [neighbors.bfd.config]
    enabled = true
    desired-minimum-tx-interval = 300000
    required-minimum-receive = 300000
    detection-multiplier = 3
`
    : ''
}  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
`;
}

function speakerFrom(spec: string): SpeakerConfig {
  const parsed = parseConfig(`apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: tor\nspec:\n  peerIP: ${TOR}\n  asNumber: 64512\n${spec}`);
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.text).join('\n'));
  const peers = peersForNode(parsed.config, { name: 'node-1', labels: {} }).map(({ name: _n, passwordSecretRef: _r, ...p }) => ({
    ...p,
    families: ['ipv4-unicast' as const],
  }));
  return { asn: 64512, routerId: OURS, listenPort: 179, peers };
}

interface Pair {
  link: Link;
  ours: Gobgpd;
  tor: Gobgpd;
  client: GobgpClient;
  stop(): Promise<void>;
}

async function pair(version: string, torBfd: boolean): Promise<Pair> {
  const link = createLink({ node: { v4: OURS, v6: 'fd00:1::10' }, tor: { v4: TOR, v6: 'fd00:1::1' }, v4Len: 24, v6Len: 64 });
  const ours = await startGobgpd({ name: `timers-${version}`, netns: link.nodeNs, version });
  const tor = await startGobgpd({ name: 'timers-tor', netns: link.torNs, version: V4, configToml: torToml(torBfd) });
  const client = connectGobgp(ours.apiAddress, { deadlineMs: 5000 });
  return {
    link,
    ours,
    tor,
    client,
    stop: async () => {
      client.close();
      await ours.stop('SIGKILL');
      await tor.stop('SIGKILL');
      link.destroy();
    },
  };
}

const established = async (p: Pair): Promise<void> => {
  await waitFor('session established', async () => ((await p.client.listPeers(TOR))[0]?.sessionState === 'established' ? true : undefined), 60_000, 250);
};

describe(`svcbgp's BGP timers and BFD on real gobgpd (3.10 and ${V4})`, function () {
  this.timeout(120_000);

  for (const version of ['3.10', V4]) {
    it(`gobgpd ${version}: a BGPPeer without timers gets svcbgp's keepalive 3 s / hold 9 s; the session runs on them (the ToR offers 90 s)`, async function () {
      const p = await pair(version, false);
      try {
        await provisionSpeaker(p.client, speakerFrom(''));
        await established(p);
        expect((await p.client.listPeers(TOR))[0]!.peer).to.include({ holdTime: 9, keepaliveTime: 3 });
        // What an operator reads on both ends: our gobgpd, and the ToR's view of the same session.
        expect(await p.ours.cli('neighbor', TOR)).to.match(/Hold time is 9, keepalive interval is 3 seconds/);
        expect(await p.tor.cli('neighbor', OURS)).to.match(/Hold time is 9, keepalive interval is 3 seconds/);
      } finally {
        await p.stop();
      }
    });

    it(`gobgpd ${version}: holdTime 30s (svcbgp field) -> keepalive 10 s, in the text and the JSON of 'gobgp neighbor'`, async function () {
      const p = await pair(version, false);
      try {
        await provisionSpeaker(p.client, speakerFrom('  holdTime: 30s\n'));
        await established(p);
        expect(await p.ours.cli('neighbor', TOR)).to.match(/Hold time is 30, keepalive interval is 10 seconds/);
        const json = JSON.parse(await p.ours.cli('-j', 'neighbor', TOR)) as { timers: { config: { hold_time: number; keepalive_interval: number } } };
        expect(json.timers.config).to.include({ hold_time: 30, keepalive_interval: 10 });
      } finally {
        await p.stop();
      }
    });
  }

  it(`gobgpd ${V4}: failureDetectionMode BFDIfDirectlyConnected -> BFD 300 ms x 3 in \`gobgp -j neighbor\`, and the BFD session comes up with the ToR`, async function () {
    const p = await pair(V4, true);
    try {
      await provisionSpeaker(p.client, speakerFrom('  failureDetectionMode: BFDIfDirectlyConnected\n'));
      await established(p);
      const peer = await waitFor(
        'BFD up',
        async () => {
          const s = (await p.client.listPeers(TOR))[0];
          return s?.bfdState === 'up' ? s : undefined;
        },
        30_000,
        250,
      );
      expect(peer.peer.bfd).to.deep.equal({ minimumSendIntervalMs: 300, minimumRecvIntervalMs: 300, multiplier: 3 });
      const json = JSON.parse(await p.ours.cli('-j', 'neighbor', TOR)) as { bfd: Record<string, unknown>; state: { bfd_state: { session_state: number } } };
      expect(json.bfd).to.include({ enabled: true, desired_minimum_tx_interval: 300000, required_minimum_receive: 300000, detection_multiplier: 3 });
      // The CLI's JSON prints the enum's number: 1 = BFD_SESSION_STATE_UP.
      expect(json.state.bfd_state.session_state).to.equal(1);
      // Same config again: nothing to change (BFD compared field by field, no update loop).
      const again = await provisionSpeaker(p.client, speakerFrom('  failureDetectionMode: BFDIfDirectlyConnected\n'));
      expect(again.changed).to.equal(false);
    } finally {
      await p.stop();
    }
  });

  it('gobgpd 3.10 (API v3, no BFD): the peer is added without BFD, with a warning that says why', async function () {
    const p = await pair('3.10', false);
    const { log, entries } = memoryLogger();
    try {
      const speaker = speakerFrom('  failureDetectionMode: BFDIfDirectlyConnected\n');
      const res = await provisionSpeaker(p.client, speaker, { logger: log });
      expect(res.added).to.deep.equal([TOR]);
      await established(p);
      const warn = entries.find((e) => e['event'] === 'bfd-unsupported');
      expect(warn?.['level']).to.equal('warn');
      expect(String(warn?.['message'])).to.match(/gobgpd speaks the v3 API, which has no BFD \(gobgpd has it from 4\.6\)/);
      expect((await p.client.listPeers(TOR))[0]).to.deep.include({ bfdSupported: false });
      expect((await provisionSpeaker(p.client, speaker, { logger: log })).changed, 'no update loop').to.equal(false);
    } finally {
      await p.stop();
    }
  });
});
