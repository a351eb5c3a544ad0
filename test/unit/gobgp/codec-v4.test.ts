import { expect } from 'chai';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import path from 'node:path';
import type { Route } from '../../../src/model/route.js';
import { GobgpRequestError } from '../../../src/gobgp/errors.js';
import { V3Codec } from '../../../src/gobgp/v3/codec.js';
import { V4Codec } from '../../../src/gobgp/v4/codec.js';
import { DEFAULT_DEFERRAL_TIME } from '../../../src/gobgp/peer-defaults.js';
import { V4_PROTO_DIR, V4_PROTO_FILES } from '../../../src/gobgp/v4/protos.js';
import type { WireMessage } from '../../../src/gobgp/codec.js';
import { route } from '../../fixtures/routes.js';

const codec = new V4Codec();

/**
 * What gobgpd would hand back for a message we built: encoded with our v4 protos and decoded the way
 * proto-loader does it in the client (keepCase, enums as strings, defaults, oneofs). A round trip through the
 * real wire format, so a wrong oneof member or field name is lost on the way and the comparisons fail.
 */
const root = new protobuf.Root();
root.loadSync(
  V4_PROTO_FILES.map((f) => path.join(V4_PROTO_DIR, f)),
  { keepCase: true },
);
root.resolveAll();
function wire<T>(type: string, message: WireMessage): T {
  const t = root.lookupType(`api.${type}`);
  const decoded = t.decode(t.encode(t.fromObject(message)).finish());
  return t.toObject(decoded, { longs: Number, enums: String, bytes: Buffer, defaults: true, oneofs: true, arrays: true }) as T;
}
const listed = (path: WireMessage) => wire<Parameters<V4Codec['pathFromWire']>[0]>('Path', { ...path, neighbor_ip: 'invalid IP', best: true });

describe('GoBGP v4 codec', function () {
  describe('request shapes gobgpd 4.x requires', function () {
    it('ListPath / AddPath / AddPathStream / DeletePath use TABLE_TYPE_GLOBAL (= 1; 0 fails in v4)', function () {
      expect(codec.listPathRequest('ipv4-unicast')).to.deep.equal({
        table_type: 'TABLE_TYPE_GLOBAL',
        family: { afi: 'AFI_IP', safi: 'SAFI_UNICAST' },
        sort_type: 'SORT_TYPE_PREFIX',
      });
      expect(codec.addPathRequest(route('10.0.0.0/8')).table_type).to.equal('TABLE_TYPE_GLOBAL');
      expect(codec.addPathStreamRequest([route('10.0.0.0/8')], false).table_type).to.equal('TABLE_TYPE_GLOBAL');
      expect(codec.deletePathRequest(route('10.0.0.0/8')).table_type).to.equal('TABLE_TYPE_GLOBAL');
      const enc = wire<{ table_type: string }>('ListPathRequest', codec.listPathRequest('ipv6-unicast'));
      expect(enc.table_type).to.equal('TABLE_TYPE_GLOBAL');
      expect(root.lookupEnum('api.TableType').values.TABLE_TYPE_GLOBAL).to.equal(1);
    });
    it('WatchEvent asks for TYPE_BEST (= 1; 0 is "unknown filter type") and refuses to watch nothing', function () {
      expect(codec.watchEventRequest({ table: true, initial: true })).to.deep.equal({ table: { filters: [{ type: 'TYPE_BEST', init: true }] } });
      expect(codec.watchEventRequest({ peers: true })).to.deep.equal({ peer: {} });
      expect(() => codec.watchEventRequest({})).to.throw(GobgpRequestError, /peers or table/);
    });
    it('DeletePath: never without path and uuid; a path delete always carries its family', function () {
      expect(() => codec.deletePathRequest({} as never)).to.throw(GobgpRequestError, /route or a uuid/);
      expect(() => codec.deletePathRequest(null as never)).to.throw(GobgpRequestError);
      expect(() => codec.deletePathRequest({ uuid: '' })).to.throw(GobgpRequestError, /invalid uuid ""/);
      expect(() => codec.deletePathRequest({ ...route('10.0.0.0/8'), family: 'ipv9' as never })).to.throw(GobgpRequestError);
      const byRoute = codec.deletePathRequest(route('fd00::/64'));
      expect(byRoute.family).to.deep.equal({ afi: 'AFI_IP6', safi: 'SAFI_UNICAST' });
      expect((byRoute.path as WireMessage).is_withdraw).to.equal(true);
      const byUuid = codec.deletePathRequest({ uuid: '3f569dc7e4fe4393bba2b8ca518c26e9' });
      expect(Buffer.from(byUuid.uuid as Buffer).toString('hex')).to.equal('3f569dc7e4fe4393bba2b8ca518c26e9');
    });
    it('StartBgp: every listen address is checked (gobgpd 4.x MustParseAddr panics), AS and router-id too', function () {
      const g = { asn: 64512, routerId: '192.168.1.10', listenPort: 179 };
      expect(codec.startBgpRequest({ ...g, listenAddresses: ['192.168.1.10', '::'] })).to.deep.equal({
        global: { asn: 64512, router_id: '192.168.1.10', listen_port: 179, listen_addresses: ['192.168.1.10', '::'] },
      });
      for (const bad of ['192.168.1', '10.0.0.1/24', 'localhost', '', ' 10.0.0.1']) {
        expect(() => codec.startBgpRequest({ ...g, listenAddresses: [bad] }), bad).to.throw(GobgpRequestError, /invalid listen address/);
      }
      expect(() => codec.startBgpRequest({ ...g, listenPort: 70000 })).to.throw(GobgpRequestError, /invalid listen port 70000/);
      expect(() => codec.startBgpRequest({ ...g, routerId: 'node-1' })).to.throw(/invalid router-id "node-1"/);
      expect(() => codec.startBgpRequest({ ...g, asn: 0 })).to.throw(/invalid local AS 0/);
    });
    it('StopBgp: allow_graceful_restart in v4; the v3 codec refuses it instead of dropping it', function () {
      expect(codec.stopBgpRequest({ allowGracefulRestart: true })).to.deep.equal({ allow_graceful_restart: true });
      expect(codec.stopBgpRequest({})).to.deep.equal({ allow_graceful_restart: false });
      expect(() => new V3Codec().stopBgpRequest({ allowGracefulRestart: true })).to.throw(GobgpRequestError, /needs gobgpd 4.x/);
      expect(new V3Codec().stopBgpRequest({})).to.deep.equal({});
    });
  });

  describe('peers', function () {
    const tor = { address: '192.168.1.1', asn: 64512, gracefulRestart: { enabled: true, restartTime: 120 } };
    it('GR with MP-GR per family, our marker, local_restarting only when asked, and the same short deferral_time on add and update', function () {
      const req = codec.addPeerRequest(tor, { localRestarting: true });
      const peer = req.peer as Record<string, Record<string, unknown> & unknown[]>;
      expect(peer.conf).to.include({ neighbor_address: '192.168.1.1', peer_asn: 64512, description: 'svcbgp' });
      expect(peer.graceful_restart).to.deep.equal({
        enabled: true,
        restart_time: 120,
        deferral_time: DEFAULT_DEFERRAL_TIME,
        local_restarting: true,
      });
      expect(DEFAULT_DEFERRAL_TIME).to.be.within(1, 10); // 0 would mean gobgpd's 360 s
      const upd = codec.updatePeerRequest(tor).peer as Record<string, Record<string, unknown>>;
      expect(upd.graceful_restart).to.deep.equal({ enabled: true, restart_time: 120, deferral_time: DEFAULT_DEFERRAL_TIME, local_restarting: false });
      expect(wire('AddPeerRequest', req)).to.have.nested.property('peer.graceful_restart.deferral_time', DEFAULT_DEFERRAL_TIME);
      expect(codec.listPeerRequest()).to.deep.equal({ address: '', enable_advertised: false });
    });
    it('reads ListPeer: v4 enum names, "invalid IP" for unset addresses', function () {
      const response = wire<WireMessage>('ListPeerResponse', {
        peer: {
          conf: { neighbor_address: '192.168.1.1', peer_asn: 64512, description: 'svcbgp', type: 'PEER_TYPE_INTERNAL' },
          state: {
            neighbor_address: '192.168.1.1',
            peer_asn: 64512,
            session_state: 'SESSION_STATE_ACTIVE',
            admin_state: 'ADMIN_STATE_UP',
            router_id: 'invalid IP',
            type: 'PEER_TYPE_INTERNAL',
            flops: 2,
          },
          transport: { local_address: 'invalid IP', remote_port: 179 },
          timers: { config: { hold_time: 90, keepalive_interval: 30 } },
          graceful_restart: { enabled: true, restart_time: 120, local_restarting: true },
          afi_safis: [{ config: { family: { afi: 'AFI_IP', safi: 'SAFI_UNICAST' }, enabled: true }, mp_graceful_restart: { config: { enabled: true } } }],
        },
      });
      const s = codec.peerFromListPeerResponse(response)!;
      expect(s).to.deep.include({
        ours: true,
        sessionState: 'active',
        adminDown: false,
        type: 'internal',
        flaps: 2,
        localRestarting: true,
        mpGracefulRestart: true,
      });
      expect(s.remoteRouterId).to.equal(undefined);
      expect(s.peer).to.deep.equal({
        address: '192.168.1.1',
        asn: 64512,
        port: 179,
        keepaliveTime: 30,
        holdTime: 90,
        gracefulRestart: { enabled: true, restartTime: 120 },
        families: ['ipv4-unicast'],
      });
      const ebgp = wire<WireMessage>('ListPeerResponse', {
        peer: {
          conf: { neighbor_address: '10.0.0.1', peer_asn: 65001 },
          state: { type: 'PEER_TYPE_EXTERNAL', admin_state: 'ADMIN_STATE_DOWN', session_state: 'SESSION_STATE_ESTABLISHED', router_id: '10.0.0.1' },
        },
      });
      expect(codec.peerFromListPeerResponse(ebgp)).to.deep.include({
        type: 'external',
        adminDown: true,
        sessionState: 'established',
        remoteRouterId: '10.0.0.1',
        ours: false,
      });
    });
    it('timers and BFD: svcbgp sends hold/keepalive as set, BFD in microseconds (gobgpd 4.6+), off as enabled: false', function () {
      const bfdPeer = { ...tor, keepaliveTime: 3, holdTime: 9, bfd: { minimumSendIntervalMs: 300, minimumRecvIntervalMs: 250, multiplier: 3 } };
      const req = wire<WireMessage>('AddPeerRequest', codec.addPeerRequest(bfdPeer, {}));
      expect(req).to.have.nested.property('peer.timers.config').that.deep.includes({ hold_time: 9, keepalive_interval: 3 });
      expect(req).to.have.deep.nested.property('peer.bfd', {
        enabled: true,
        port: 0,
        desired_minimum_tx_interval: 300_000,
        required_minimum_receive: 250_000,
        detection_multiplier: 3,
      });
      expect(codec.updatePeerRequest(bfdPeer)).to.have.nested.property('peer.bfd.enabled', true);
      expect(codec.addPeerRequest(tor, {})).to.have.deep.nested.property('peer.bfd', {
        enabled: false,
        port: 0,
        desired_minimum_tx_interval: 0,
        required_minimum_receive: 0,
        detection_multiplier: 0,
      });
      // The v3 API has no Peer.bfd: the v3 codec never sends it (provision.ts warns instead).
      expect(new V3Codec().addPeerRequest(bfdPeer, {}).peer).to.not.have.property('bfd');
    });
    it('reads BFD from ListPeer: config and session state on 4.6+, "not supported" when gobgpd leaves the field out', function () {
      const base = {
        conf: { neighbor_address: '192.168.1.1', peer_asn: 64512, description: 'svcbgp' },
        timers: { config: { hold_time: 9, keepalive_interval: 3 } },
      };
      const on = codec.peerFromListPeerResponse(
        wire<WireMessage>('ListPeerResponse', {
          peer: {
            ...base,
            state: { session_state: 'SESSION_STATE_ESTABLISHED', bfd_state: { session_state: 'BFD_SESSION_STATE_UP', failure_transitions: 1 } },
            bfd: { enabled: true, port: 3784, desired_minimum_tx_interval: 300_000, required_minimum_receive: 300_000, detection_multiplier: 3 },
          },
        }),
      )!;
      expect(on).to.deep.include({ bfdSupported: true, bfdState: 'up' });
      expect(on.peer.bfd).to.deep.equal({ minimumSendIntervalMs: 300, minimumRecvIntervalMs: 300, multiplier: 3 });
      const off = codec.peerFromListPeerResponse(
        wire<WireMessage>('ListPeerResponse', {
          peer: {
            ...base,
            bfd: { enabled: false, port: 3784, desired_minimum_tx_interval: 1_000_000, required_minimum_receive: 1_000_000, detection_multiplier: 3 },
          },
        }),
      )!;
      expect(off).to.deep.include({ bfdSupported: true });
      expect(off.peer).to.not.have.property('bfd');
      expect(off).to.not.have.property('bfdState');
      const old = codec.peerFromListPeerResponse(wire<WireMessage>('ListPeerResponse', { peer: base }))!;
      expect(old.bfdSupported, 'gobgpd 4.0-4.5: no bfd in ListPeer').to.equal(false);
    });
    it('reads peer events: TYPE_END_OF_INIT, TYPE_STATE', function () {
      expect(codec.eventFromWatchEventResponse(wire('WatchEventResponse', { peer: { type: 'TYPE_END_OF_INIT' } }))).to.deep.equal({ kind: 'end-of-init' });
      const ev = codec.eventFromWatchEventResponse(
        wire('WatchEventResponse', {
          peer: {
            type: 'TYPE_STATE',
            peer: { conf: { neighbor_address: '192.168.1.1', peer_asn: 64512 }, state: { session_state: 'SESSION_STATE_ESTABLISHED' } },
          },
        }),
      );
      expect(ev).to.deep.include({ kind: 'peer', type: 'state' });
      expect(ev!.kind === 'peer' && ev!.peer.sessionState).to.equal('established');
    });
  });

  describe('routes', function () {
    it('typed oneofs: IPv4 = prefix NLRI, origin, next_hop; IPv6 = origin, mp_reach carrying the next hop', function () {
      const v4 = codec.pathToWire(route('10.49.62.131/32', { nextHop: '192.168.1.10' }), false);
      expect(v4.nlri).to.deep.equal({ prefix: { prefix: '10.49.62.131', prefix_len: 32 } });
      expect((v4.pattrs as WireMessage[]).map((a) => Object.keys(a)[0])).to.deep.equal(['origin', 'next_hop']);
      const v6 = codec.pathToWire(
        route('fd00:49::/64', { nextHop: 'fd00::10', communities: ['64512:100'], largeCommunities: ['64512:7376:1'], localPref: 0 }),
        false,
      );
      expect((v6.pattrs as WireMessage[]).map((a) => Object.keys(a)[0])).to.deep.equal([
        'origin',
        'local_pref',
        'communities',
        'mp_reach',
        'large_communities',
      ]);
      expect(codec.pathFromWire(listed(v6))!.route).to.deep.equal(
        route('fd00:49::/64', { nextHop: 'fd00::10', communities: ['64512:100'], largeCommunities: ['64512:7376:1'], localPref: 0 }),
      );
    });

    it('carries the age (gobgpd 4.x installs the path with the age it is sent; none = 1970)', function () {
      const now = new Date('2026-12-02T06:00:00Z');
      expect(codec.pathToWire(route('10.0.0.0/8'), false, now).age).to.deep.equal({ seconds: now.getTime() / 1000, nanos: 0 });
      expect(codec.pathFromWire(listed(codec.pathToWire(route('10.0.0.0/8'), false, now)))!.age).to.deep.equal(now);
    });

    it('rejects bad input with a message naming the value, as v3 does', function () {
      expect(() => codec.pathToWire(route('10.49.0.1/16'), false)).to.throw(/host bits set: the network is 10.49.0.0\/16/);
      expect(() => codec.pathToWire(route('10.49.0.0/16', { nextHop: 'fd00::1' }), false)).to.throw(/does not match family/);
      expect(() => codec.pathToWire(route('10.49.0.0/16', { communities: ['70000:1'] }), false)).to.throw(/invalid community "70000:1"/);
      expect(() => codec.pathToWire(route('10.49.0.0/16', { largeCommunities: ['1:2'] }), false)).to.throw(/invalid large community "1:2"/);
    });

    it('local vs learned: "invalid IP" (v4) as neighbor means locally originated; attributes outside our subset are skipped', function () {
      const p = listed(codec.pathToWire(route('10.0.0.0/8'), false));
      expect(codec.pathFromWire(p)).to.include({ local: true, best: true });
      expect(codec.pathFromWire({ ...p, neighbor_ip: '192.168.1.1' })).to.include({ local: false, neighbor: '192.168.1.1' });
      // An aggregator attribute (not in our oneof) decodes as an Attribute with no member set.
      const unknown = wire<Parameters<V4Codec['pathFromWire']>[0]>('Path', { ...codec.pathToWire(route('10.0.0.0/8'), false) });
      unknown.pattrs.push({});
      expect(codec.pathFromWire(unknown)!.route).to.deep.equal(route('10.0.0.0/8'));
    });

    it('link bandwidth (weighted ECMP): the typed extended_communities oneof with link_bandwidth, after MP_REACH and before large communities', function () {
      const r: Route = { ...route('10.49.62.131/32'), largeCommunities: ['64512:7376:1'], linkBandwidth: { asn: 64512, bytesPerSecond: 125_000 } };
      const w = wire<{
        pattrs: { attr: string; extended_communities?: { communities: { extcom: string; link_bandwidth: { asn: number; bandwidth: number } }[] } }[];
      }>('Path', codec.pathToWire(r, false));
      expect(w.pattrs.map((a) => a.attr)).to.deep.equal(['origin', 'next_hop', 'extended_communities', 'large_communities']);
      expect(w.pattrs[2]!.extended_communities!.communities).to.deep.equal([{ extcom: 'link_bandwidth', link_bandwidth: { asn: 64512, bandwidth: 125_000 } }]);
      expect(codec.pathFromWire(listed(codec.pathToWire(r, false)))!.route).to.deep.equal(r);
    });

    it('encode then decode through the wire gives the same route (property, IPv4 and IPv6, all attributes)', function () {
      const u16 = fc.integer({ min: 0, max: 0xffff });
      const u32 = fc.integer({ min: 0, max: 0xffffffff });
      const v4 = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, l]) => {
        const n = a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
        const masked = l === 0 ? 0 : Math.floor(n / 2 ** (32 - l)) * 2 ** (32 - l);
        return {
          prefix: `${[24, 16, 8, 0].map((s) => Math.floor(masked / 2 ** s) % 256).join('.')}/${l}`,
          family: 'ipv4-unicast' as const,
          nextHop: '192.168.1.10',
        };
      });
      const v6 = fc
        .constantFrom('fd00::1/128', 'fd00:49::/64', '2001:db8::/32', '::/0')
        .map((p) => ({ prefix: p, family: 'ipv6-unicast' as const, nextHop: 'fd00::10' }));
      const sortedUnique = (xs: string[]) => {
        const key = (s: string) =>
          s
            .split(':')
            .map((p) => p.padStart(10, '0'))
            .join(':');
        return [...new Set(xs)].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
      };
      fc.assert(
        fc.property(
          fc.oneof(v4, v6),
          fc.array(
            fc.tuple(u16, u16).map(([a, b]) => `${a}:${b}`),
            { maxLength: 4 },
          ),
          fc.array(
            fc.tuple(u32, u32, u32).map(([a, b, c]) => `${a}:${b}:${c}`),
            { maxLength: 3 },
          ),
          fc.option(u32, { nil: undefined }),
          fc.option(fc.record({ asn: u16, bytesPerSecond: fc.integer({ min: 0, max: 34_000 * 125_000 }).map(Math.fround) }), { nil: undefined }),
          (base, communities, largeCommunities, localPref, linkBandwidth) => {
            const r: Route = { ...base, communities: sortedUnique(communities), largeCommunities: sortedUnique(largeCommunities) };
            if (localPref !== undefined) r.localPref = localPref;
            if (linkBandwidth !== undefined) r.linkBandwidth = linkBandwidth;
            const decoded = codec.pathFromWire(listed(codec.pathToWire(r, false)));
            expect(decoded!.route).to.deep.equal(r);
            expect(decoded!.local).to.equal(true);
          },
        ),
      );
    });
  });
});
