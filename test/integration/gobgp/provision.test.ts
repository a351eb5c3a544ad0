/**
 * Speaker provisioning against a real gobgpd 3.10, checked the way an operator checks: `gobgp neighbor`.
 * gobgpd runs in its own network namespace (only `lo`), so the seed's peer 192.168.1.1 can be configured
 * for real without gobgpd sending a single packet to that address (its connects fail: network unreachable).
 */
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import winston from 'winston';
import { connectGobgp } from '../../../src/gobgp/index.js';
import { provisionSpeaker, ProvisionConflictError } from '../../helpers/gobgpd-client.js';
import type { Peer, SpeakerConfig } from '../../../src/model/peer.js';
import { startGobgpd, type Gobgpd } from '../../helpers/gobgpd.js';

const SEED_PEER: Peer = { address: '192.168.1.1', asn: 64512, gracefulRestart: { enabled: true, restartTime: 120 } };
const SEED: SpeakerConfig = { asn: 64512, routerId: '192.168.1.10', listenPort: 179, peers: [SEED_PEER] };

interface CliNeighbor {
  conf: { neighbor_address: string; peer_asn: number; description?: string; auth_password?: string };
  state: { session_state?: number };
  graceful_restart?: { enabled?: boolean; restart_time?: number; deferral_time?: number; local_restarting?: boolean };
  timers: { config: { hold_time?: number; keepalive_interval?: number } };
  afi_safis?: { config: { family: { afi: number; safi: number } }; mp_graceful_restart?: { config?: { enabled?: boolean } } }[];
}

function capturingLogger(): { logger: winston.Logger; lines: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const logger = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
  return { logger, lines: () => text };
}

async function provision(d: Gobgpd, config: SpeakerConfig, options: Parameters<typeof provisionSpeaker>[2] = {}): ReturnType<typeof provisionSpeaker> {
  // A fresh client each time: like an agent that restarted, it knows only what gobgpd tells it.
  const client = connectGobgp(d.apiAddress, { deadlineMs: 5000 });
  try {
    return await provisionSpeaker(client, config, options);
  } finally {
    client.close();
  }
}

async function neighbors(d: Gobgpd): Promise<Map<string, CliNeighbor>> {
  const list = (await d.cliJson<CliNeighbor[] | null>('neighbor')) ?? [];
  return new Map(list.map((n) => [n.conf.neighbor_address, n]));
}

describe('speaker provisioning against real gobgpd', function () {
  this.timeout(60000);
  let d: Gobgpd;

  before(async function () {
    d = await startGobgpd({ name: 'provision', isolatedNetwork: true });
  });
  after(async function () {
    await d?.stop();
  });

  it('fresh gobgpd: StartBgp with our AS/router-id/port, and the seed peer with graceful restart as `gobgp neighbor` shows', async function () {
    const result = await provision(d, SEED);
    expect(result).to.deep.include({ bgpStarted: true, added: ['192.168.1.1'], changed: true });

    expect(await d.cli('global')).to.match(/AS:\s+64512\s+Router-ID: 192\.168\.1\.10\s+Listening Port: 179/);
    expect(await d.cli('neighbor')).to.match(/192\.168\.1\.1\s+64512\s/);
    const detail = await d.cli('neighbor', '192.168.1.1');
    expect(detail).to.match(/BGP neighbor is 192\.168\.1\.1, remote AS 64512/);
    expect(detail).to.match(/graceful-restart:\s+advertised\s+Local: restart time 120 sec\s+ipv4-unicast\s+ipv6-unicast/);

    const n = (await neighbors(d)).get('192.168.1.1')!;
    expect(n.conf).to.include({ peer_asn: 64512, description: 'svcbgp' });
    // svcbgp's selection deferral time, not gobgpd's 360 s (issue 14: an IPv4-only BIRD waited for it).
    expect(n.graceful_restart).to.include({ enabled: true, restart_time: 120, deferral_time: 3 });
    expect(n.afi_safis!.map((a) => [a.config.family.afi, a.mp_graceful_restart?.config?.enabled])).to.deep.equal([
      [1, true],
      [2, true],
    ]);
  });

  it('same configuration again (a restarted agent): only reads, no change', async function () {
    const before = d.log();
    const result = await provision(d, SEED);
    expect(result).to.deep.include({ bgpStarted: false, added: [], updated: [], replaced: [], deleted: [], unchanged: ['192.168.1.1'], changed: false });
    // gobgpd logs every peer add/update/delete; nothing new may appear.
    const after = d.log().slice(before.length);
    expect(after).to.not.match(/Add a peer configuration|Delete a peer configuration|Update|Peer Down/);
  });

  it('a peer added by an operator with `gobgp neighbor add` is never touched', async function () {
    await d.cli('neighbor', 'add', '192.168.1.50', 'as', '65001');
    const result = await provision(d, SEED);
    expect(result).to.deep.include({ foreign: ['192.168.1.50'], changed: false });
    const n = (await neighbors(d)).get('192.168.1.50');
    expect(n?.conf.peer_asn).to.equal(65001);
  });

  it('a peer we want whose address an operator already configured: left alone and reported', async function () {
    const result = await provision(d, { ...SEED, peers: [SEED_PEER, { ...SEED_PEER, address: '192.168.1.50' }] });
    expect(result.conflicts).to.deep.equal(['192.168.1.50']);
    expect((await neighbors(d)).get('192.168.1.50')?.conf.peer_asn).to.equal(65001);
  });

  it('changed peer: UpdatePeer, visible in `gobgp neighbor` (restart time, timers)', async function () {
    const changed: Peer = { ...SEED_PEER, gracefulRestart: { enabled: true, restartTime: 300 }, holdTime: 30, keepaliveTime: 10 };
    const result = await provision(d, { ...SEED, peers: [changed] });
    expect(result.updated).to.deep.equal([
      {
        address: '192.168.1.1',
        resetsSession: true,
        changes: ['restartTime 120 -> 300', 'holdTime 90 -> 30', 'keepaliveTime 30 -> 10'],
      },
    ]);
    expect(await d.cli('neighbor', '192.168.1.1')).to.match(/Local: restart time 300 sec/);
    const n = (await neighbors(d)).get('192.168.1.1')!;
    expect(n.timers.config).to.include({ hold_time: 30, keepalive_interval: 10 });
    expect(n.conf.description).to.equal('svcbgp');
    expect((await provision(d, { ...SEED, peers: [changed] })).changed).to.equal(false);
  });

  it('MD5 password and eBGP multihop are configured; the password never reaches the logs', async function () {
    const { logger, lines } = capturingLogger();
    const secret = 'Sup3r-s3cret-md5';
    const ebgp: Peer = {
      address: '192.168.2.1',
      asn: 65010,
      port: 1179,
      password: secret,
      ebgpMultihopTtl: 3,
      gracefulRestart: { enabled: true, restartTime: 120 },
    };
    const result = await provision(d, { ...SEED, peers: [SEED_PEER, ebgp] }, { logger });
    expect(result.added).to.deep.equal(['192.168.2.1']);
    const n = await d.cliJson<CliNeighbor[]>('neighbor');
    const e = n.find((x) => x.conf.neighbor_address === '192.168.2.1') as CliNeighbor & {
      ebgp_multihop?: { enabled?: boolean; multihop_ttl?: number };
      transport?: { remote_port?: number };
    };
    expect(e.conf).to.include({ peer_asn: 65010, auth_password: secret });
    expect(e.ebgp_multihop).to.deep.equal({ enabled: true, multihop_ttl: 3 });
    expect(e.transport?.remote_port).to.equal(1179);

    // A changed multihop TTL is applied by delete + add (gobgpd's UpdatePeer would ignore it).
    const result2 = await provision(d, { ...SEED, peers: [SEED_PEER, { ...ebgp, ebgpMultihopTtl: 5, password: `${secret}x` }] }, { logger });
    expect(result2.replaced).to.deep.equal([{ address: '192.168.2.1', changes: ['password changed', 'ebgpMultihopTtl 3 -> 5'] }]);
    const e2 = (await d.cliJson<(CliNeighbor & { ebgp_multihop?: { multihop_ttl?: number } })[]>('neighbor')).find(
      (x) => x.conf.neighbor_address === '192.168.2.1',
    )!;
    expect(e2.ebgp_multihop?.multihop_ttl).to.equal(5);

    expect(lines()).to.match(/"event":"peer-add"/);
    expect(lines()).to.match(/"event":"peer-replace"/);
    expect(lines()).to.not.include('s3cret');
  });

  it("removed peers are deleted; the operator's peer stays", async function () {
    const result = await provision(d, { ...SEED, peers: [] });
    expect(result.deleted.sort()).to.deep.equal(['192.168.1.1', '192.168.2.1']);
    expect([...(await neighbors(d)).keys()]).to.deep.equal(['192.168.1.50']);
  });

  it('localRestarting: peers added after a gobgpd restart carry the restart-state flag', async function () {
    const result = await provision(d, SEED, { localRestarting: true });
    expect(result.added).to.deep.equal(['192.168.1.1']);
    const n = (await neighbors(d)).get('192.168.1.1')!;
    expect(n.graceful_restart).to.include({ enabled: true, restart_time: 120, local_restarting: true });
    // Converging again later does not reset the peer for it.
    expect((await provision(d, SEED)).changed).to.equal(false);
  });

  it('gobgpd started with its own conflicting global config: a clear error, nothing changed', async function () {
    const other = await startGobgpd({
      name: 'provision-conflict',
      isolatedNetwork: true,
      configToml: '[global.config]\n  as = 65000\n  router-id = "10.9.9.9"\n  port = -1\n',
    });
    try {
      const err = await provision(other, SEED).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ProvisionConflictError);
      expect((err as Error).message).to.include(
        'already runs BGP with asn 65000, routerId 10.9.9.9, listenPort -1, ' + 'but svcbgp is configured for asn 64512, routerId 192.168.1.10, listenPort 179',
      );
      expect((await other.cliJson<unknown[] | null>('neighbor')) ?? []).to.deep.equal([]);
      expect(await other.cli('global')).to.match(/AS:\s+65000/);
    } finally {
      await other.stop();
    }
  });
});
