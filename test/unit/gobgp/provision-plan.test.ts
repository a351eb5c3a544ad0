import { expect } from 'chai';
import type { Peer } from '../../../src/model/peer.js';
import { compareGlobal, planPeers } from '../../../src/gobgp/provision-plan.js';
import { DEFAULT_DEFERRAL_TIME, deferralTimeFor, normalizePeer } from '../../../src/gobgp/peer-defaults.js';
import type { Neighbor } from '../../../src/gobgp/types.js';

const seed: Peer = { address: '192.168.1.1', asn: 64512, gracefulRestart: { enabled: true, restartTime: 120 } };

/** A peer as ListPeer would report it after svcbgp added `p` (defaults filled in by gobgpd). */
function reported(p: Peer, extra: Partial<Neighbor> = {}): Neighbor {
  return {
    peer: { ...normalizePeer(p) },
    description: 'svcbgp',
    ours: true,
    sessionState: 'established',
    adminDown: false,
    type: 'internal',
    flaps: 0,
    localRestarting: false,
    mpGracefulRestart: p.gracefulRestart.enabled,
    bfdSupported: false,
    ...extra,
  };
}

describe('provisioning plan (pure)', function () {
  it('same config as gobgpd reports -> nothing to do', function () {
    const plan = planPeers([seed], [reported(seed)]);
    expect(plan).to.deep.equal({ actions: [], unchanged: ['192.168.1.1'], foreign: [], conflicts: [] });
  });

  it('defaults written out or left implicit are the same config (hold 90, keepalive 30, port 179)', function () {
    const explicit = { ...seed, port: 179, holdTime: 90, keepaliveTime: 30, families: ['ipv6-unicast', 'ipv4-unicast'] as Peer['families'] };
    expect(planPeers([explicit], [reported(seed)]).actions).to.deep.equal([]);
  });

  it('missing peer -> add; ours no longer wanted -> delete; foreign -> left alone', function () {
    const ours = reported({ ...seed, address: '192.168.1.2' });
    const foreign = reported({ ...seed, address: '192.168.1.3' }, { ours: false, description: '' });
    const plan = planPeers([seed], [ours, foreign]);
    expect(plan.actions).to.deep.equal([
      { kind: 'add', peer: seed },
      { kind: 'delete', address: '192.168.1.2' },
    ]);
    expect(plan.foreign).to.deep.equal(['192.168.1.3']);
  });

  it('a wanted address held by a foreign peer is a conflict, not an update', function () {
    const plan = planPeers([seed], [reported({ ...seed, asn: 65000 }, { ours: false, description: 'tor' })]);
    expect(plan.actions).to.deep.equal([]);
    expect(plan.conflicts).to.deep.equal(['192.168.1.1']);
  });

  it('timer, AS or restart time change -> update (gobgpd 3.10 resets the session for any update)', function () {
    const timers = planPeers([{ ...seed, holdTime: 9, keepaliveTime: 3 }], [reported(seed)]).actions;
    expect(timers).to.deep.equal([
      { kind: 'update', peer: { ...seed, holdTime: 9, keepaliveTime: 3 }, changes: ['holdTime 90 -> 9', 'keepaliveTime 30 -> 3'], resetsSession: true },
    ]);
    const as = planPeers([{ ...seed, asn: 64513 }], [reported(seed)]).actions[0];
    expect(as).to.deep.include({ kind: 'update', resetsSession: true, changes: ['asn 64512 -> 64513'] });
    const gr = planPeers([{ ...seed, gracefulRestart: { enabled: true, restartTime: 300 } }], [reported(seed)]).actions[0];
    expect(gr).to.deep.include({ changes: ['restartTime 120 -> 300'], resetsSession: true });
  });

  it('BFD is compared only where gobgpd has it (4.6+): on, off or other timers -> update; on 3.x never an update loop', function () {
    const bfd = { minimumSendIntervalMs: 300, minimumRecvIntervalMs: 300, multiplier: 3 };
    const want = { ...seed, bfd };
    expect(planPeers([want], [reported(seed, { bfdSupported: true })]).actions[0]).to.deep.include({ kind: 'update', changes: ['bfd off -> 300ms/300ms x3'] });
    expect(planPeers([seed], [reported(want, { bfdSupported: true })]).actions[0]).to.deep.include({ kind: 'update', changes: ['bfd 300ms/300ms x3 -> off'] });
    expect(planPeers([{ ...seed, bfd: { ...bfd, multiplier: 5 } }], [reported(want, { bfdSupported: true })]).actions[0]).to.deep.include({
      changes: ['bfd 300ms/300ms x3 -> 300ms/300ms x5'],
    });
    expect(planPeers([want], [reported(want, { bfdSupported: true })]).actions).to.deep.equal([]);
    // gobgpd 3.x (and 4.0-4.5) reports no BFD: the peer is left as it is, not "updated" on every pass.
    expect(planPeers([want], [reported(seed)]).actions).to.deep.equal([]);
  });

  it('multihop change -> replace (gobgpd 3.10 UpdatePeer ignores it)', function () {
    const action = planPeers([{ ...seed, ebgpMultihopTtl: 4 }], [reported(seed)]).actions[0];
    expect(action).to.deep.include({ kind: 'replace', changes: ['ebgpMultihopTtl off -> 4'] });
  });

  it('password changes are detected but never shown', function () {
    const action = planPeers([{ ...seed, password: 'new-secret' }], [reported({ ...seed, password: 'old-secret' })]).actions[0];
    expect(action).to.deep.include({ kind: 'update', changes: ['password changed'] });
    expect(JSON.stringify((action as { changes: string[] }).changes)).to.not.match(/secret/);
  });

  describe("selection deferral time (issue 14: routes at an IPv4-only BIRD only after gobgpd's 360 s)", function () {
    it("every GR peer gets a short deferral time, never 0 (gobgpd's 360 s), always below the restart time", function () {
      expect(normalizePeer(seed).gracefulRestart).to.deep.equal({ enabled: true, restartTime: 120, deferralTime: DEFAULT_DEFERRAL_TIME });
      expect(DEFAULT_DEFERRAL_TIME).to.be.within(1, 10);
      // maxRestartTime: 2s -> the deferral stays below it; 1 s is the floor (0 on the wire = 360 s).
      expect(deferralTimeFor(2)).to.equal(1);
      expect(deferralTimeFor(1)).to.equal(1);
      for (let restart = 2; restart <= 4095; restart++) {
        const d = deferralTimeFor(restart);
        expect(d, `restart time ${restart}`).to.be.within(1, restart - 1);
      }
      expect(normalizePeer({ ...seed, gracefulRestart: { enabled: false, restartTime: 0 } }).gracefulRestart.deferralTime).to.equal(0);
    });

    it('a gobgpd peer with another deferral time (e.g. 360 s from an older svcbgp) is unchanged: no UpdatePeer, no session reset', function () {
      const old = reported(seed);
      old.peer = { ...old.peer, gracefulRestart: { enabled: true, restartTime: 120, deferralTime: 360 } };
      expect(planPeers([seed], [old]).actions).to.deep.equal([]);
    });
  });

  it('GR on without multiprotocol GR in gobgpd -> update', function () {
    const action = planPeers([seed], [reported(seed, { mpGracefulRestart: false })]).actions[0];
    expect(action).to.deep.include({ changes: ['mpGracefulRestart false -> true'] });
  });

  it('IPv6 peer addresses match in any spelling; a peer configured twice is an error', function () {
    const v6 = { ...seed, address: 'fd00:0::1' };
    expect(planPeers([v6], [reported({ ...seed, address: 'fd00::1' })]).unchanged).to.deep.equal(['fd00:0::1']);
    expect(() => planPeers([seed, { ...seed }], [])).to.throw(/192.168.1.1 is configured twice/);
  });

  it('global settings: differences are listed field by field', function () {
    const want = { asn: 64512, routerId: '192.168.1.10', listenPort: 179 };
    expect(compareGlobal({ ...want, listenAddresses: ['0.0.0.0', '::'] }, want)).to.deep.equal([]);
    expect(compareGlobal({ asn: 65000, routerId: '10.0.0.1', listenPort: 179 }, want)).to.deep.equal([
      { field: 'asn', have: '65000', want: '64512' },
      { field: 'routerId', have: '10.0.0.1', want: '192.168.1.10' },
    ]);
  });
});

describe('provisioning plan: local AS, own-AS count and TTL security (BGPPeer localASNumber, numAllowedLocalASNumbers, ttlSecurity)', function () {
  it('gobgpd reports the global AS as the local AS of a peer without one: no change against the running AS', function () {
    const have = reported({ ...seed, localAsn: 64512 });
    expect(planPeers([seed], [have], 64512).actions).to.deep.equal([]);
    // Without the running AS only a local AS we set is compared: still no change.
    expect(planPeers([seed], [have]).actions).to.deep.equal([]);
  });

  it('localASNumber set, changed or removed -> update (a new OPEN: gobgpd resets the session)', function () {
    const set = planPeers([{ ...seed, localAsn: 65001 }], [reported({ ...seed, localAsn: 64512 })], 64512).actions[0];
    expect(set).to.deep.include({ kind: 'update', changes: ['localAsn 64512 -> 65001'], resetsSession: true });
    const removed = planPeers([seed], [reported({ ...seed, localAsn: 65001 })], 64512).actions[0];
    expect(removed).to.deep.include({ kind: 'update', changes: ['localAsn 65001 -> 64512'] });
  });

  it('numAllowedLocalASNumbers -> allowOwnAsn: a change is an update', function () {
    const a = planPeers([{ ...seed, allowOwnAsn: 2 }], [reported(seed)], 64512).actions[0];
    expect(a).to.deep.include({ kind: 'update', changes: ['allowOwnAsn 0 -> 2'] });
    expect(planPeers([{ ...seed, allowOwnAsn: 2 }], [reported({ ...seed, allowOwnAsn: 2 })], 64512).actions).to.deep.equal([]);
  });

  it('TTL security on, off or another minimum -> replace (gobgpd 3.10 UpdatePeer ignores it, like eBGP multihop)', function () {
    const on = planPeers([{ ...seed, ttlSecurityMinTtl: 255 }], [reported(seed)], 64512).actions[0];
    expect(on).to.deep.equal({ kind: 'replace', peer: { ...seed, ttlSecurityMinTtl: 255 }, changes: ['ttlSecurityMinTtl off -> 255'] });
    const off = planPeers([seed], [reported({ ...seed, ttlSecurityMinTtl: 254 })], 64512).actions[0];
    expect(off).to.deep.include({ kind: 'replace', changes: ['ttlSecurityMinTtl 254 -> off'] });
    expect(planPeers([{ ...seed, ttlSecurityMinTtl: 255 }], [reported({ ...seed, ttlSecurityMinTtl: 255 })], 64512).actions).to.deep.equal([]);
  });
});
