import { expect } from 'chai';
import fc from 'fast-check';
import type { Route } from '../../../src/model/route.js';
import type { Peer } from '../../../src/model/peer.js';
import { GobgpRequestError } from '../../../src/gobgp/errors.js';
import { communityFromWire, communityToWire, V3Codec } from '../../../src/gobgp/v3/codec.js';
import type { WireMessage } from '../../../src/gobgp/codec.js';
import { asListed, route } from '../../fixtures/routes.js';

const codec = new V3Codec();

describe('GoBGP v3 codec', function () {
  describe('DeletePath request builder', function () {
    it('refuses a target with neither route nor uuid (gobgpd would delete every local path)', function () {
      expect(() => codec.deletePathRequest({} as never)).to.throw(GobgpRequestError, /route or a uuid/);
      expect(() => codec.deletePathRequest(undefined as never)).to.throw(GobgpRequestError, /deletes every local path/);
      expect(() => codec.deletePathRequest(null as never)).to.throw(GobgpRequestError);
    });
    it('refuses an empty or malformed uuid', function () {
      expect(() => codec.deletePathRequest({ uuid: '' })).to.throw(GobgpRequestError, /invalid uuid ""/);
      expect(() => codec.deletePathRequest({ uuid: 'xyz' })).to.throw(GobgpRequestError, /32 hex digits/);
    });
    it('builds a request with the uuid bytes', function () {
      const req = codec.deletePathRequest({ uuid: '3f569dc7e4fe4393bba2b8ca518c26e9' });
      expect(Buffer.from(req.uuid as Buffer).toString('hex')).to.equal('3f569dc7e4fe4393bba2b8ca518c26e9');
      expect(req.path).to.equal(undefined);
    });
    it('builds a request with the path (withdraw) and family for a route', function () {
      const req = codec.deletePathRequest(route('10.49.0.0/16'));
      expect(req.path).to.be.an('object');
      expect((req.path as WireMessage).is_withdraw).to.equal(true);
      expect(req.family).to.deep.equal({ afi: 'AFI_IP', safi: 'SAFI_UNICAST' });
    });
  });

  describe('routes', function () {
    it('IPv4: NLRI, ORIGIN igp and NEXT_HOP; IPv6: MP_REACH carries the next hop', function () {
      const v4 = codec.pathToWire(route('10.49.62.131/32', { nextHop: '192.168.1.10' }), false);
      expect((v4.pattrs as { type_url: string }[]).map((a) => a.type_url)).to.deep.equal([
        'type.googleapis.com/apipb.OriginAttribute',
        'type.googleapis.com/apipb.NextHopAttribute',
      ]);
      const v6 = codec.pathToWire(route('fd00:49::/64', { nextHop: 'fd00::10' }), false);
      expect((v6.pattrs as { type_url: string }[]).map((a) => a.type_url)).to.deep.equal([
        'type.googleapis.com/apipb.OriginAttribute',
        'type.googleapis.com/apipb.MpReachNLRIAttribute',
      ]);
      expect(codec.pathFromWire(asListed(v6))!.route.nextHop).to.equal('fd00::10');
    });

    it('rejects bad input with a message naming the value', function () {
      expect(() => codec.pathToWire(route('10.49.0.1/16'), false)).to.throw(/host bits set: the network is 10.49.0.0\/16/);
      expect(() => codec.pathToWire(route('10.49.0.0/33'), false)).to.throw(/invalid prefix "10.49.0.0\/33"/);
      expect(() => codec.pathToWire({ ...route('10.49.0.0/16'), family: 'ipv6-unicast' }, false)).to.throw(/not in family ipv6-unicast/);
      expect(() => codec.pathToWire(route('10.49.0.0/16', { nextHop: 'fd00::1' }), false)).to.throw(/does not match family/);
      expect(() => codec.pathToWire(route('10.49.0.0/16', { communities: ['70000:1'] }), false)).to.throw(/invalid community "70000:1"/);
      expect(() => codec.pathToWire(route('10.49.0.0/16', { largeCommunities: ['1:2'] }), false)).to.throw(/invalid large community "1:2"/);
    });

    it('communities: "asn:value" <-> RFC 1997 32-bit value', function () {
      expect(communityToWire('64512:100')).to.equal(64512 * 65536 + 100);
      expect(communityToWire('65535:65281')).to.equal(0xffffff01); // NO_EXPORT
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 0xffff }),
          fc.integer({ min: 0, max: 0xffff }),
          (a, b) => communityFromWire(communityToWire(`${a}:${b}`)) === `${a}:${b}`,
        ),
      );
    });

    it('encode then decode gives the same route (property, IPv4 and IPv6, all attributes)', function () {
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
      const v6 = fc.constantFrom('fd00::1/128', 'fd00:49::/64', '2001:db8::/32', '::/0').map((p) => ({
        prefix: p,
        family: 'ipv6-unicast' as const,
        nextHop: 'fd00::10',
      }));
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
            const decoded = codec.pathFromWire(asListed(codec.pathToWire(r, false)));
            expect(decoded!.route).to.deep.equal(r);
            expect(decoded!.local).to.equal(true);
          },
        ),
      );
    });

    it('link bandwidth (weighted ECMP): an ExtendedCommunitiesAttribute holding a packed LinkBandwidthExtended', function () {
      const w = codec.pathToWire({ ...route('10.49.62.131/32'), linkBandwidth: { asn: 64512, bytesPerSecond: 375_000 } }, false) as {
        pattrs: { type_url: string }[];
      };
      const types = w.pattrs.map((a) => a.type_url.replace('type.googleapis.com/apipb.', ''));
      expect(types).to.deep.equal(['OriginAttribute', 'NextHopAttribute', 'ExtendedCommunitiesAttribute']);
      expect(codec.pathFromWire(asListed(w as unknown as WireMessage))!.route.linkBandwidth).to.deep.equal({ asn: 64512, bytesPerSecond: 375_000 });
      expect(() => codec.pathToWire({ ...route('10.0.0.0/8'), linkBandwidth: { asn: 70000, bytesPerSecond: 1 } }, false)).to.throw(
        GobgpRequestError,
        /2-octet AS/,
      );
      expect(() => codec.pathToWire({ ...route('10.0.0.0/8'), linkBandwidth: { asn: 1, bytesPerSecond: -1 } }, false)).to.throw(
        GobgpRequestError,
        /bytes per second/,
      );
    });

    it('a path with a neighbor address is learned, not local', function () {
      const p = asListed(codec.pathToWire(route('10.0.0.0/8'), false));
      expect(codec.pathFromWire({ ...p, neighbor_ip: '127.0.0.3' })).to.include({ local: false, neighbor: '127.0.0.3' });
    });
  });

  describe('peers', function () {
    it('marks our peers, enables GR with MP-GR per family, sets local_restarting only when asked', function () {
      const req = codec.addPeerRequest({ address: '192.168.1.1', asn: 64512, gracefulRestart: { enabled: true, restartTime: 120 } }, { localRestarting: true });
      const peer = req.peer as Record<string, Record<string, unknown> & unknown[]>;
      expect(peer.conf).to.include({ neighbor_address: '192.168.1.1', peer_asn: 64512, description: 'svcbgp' });
      // deferral_time is always sent (0 would be gobgpd's 360 s): see the deferral tests in provision-plan.test.ts.
      expect(peer.graceful_restart).to.deep.equal({ enabled: true, restart_time: 120, deferral_time: 3, local_restarting: true });
      expect(peer.afi_safis).to.deep.equal([
        { config: { family: { afi: 'AFI_IP', safi: 'SAFI_UNICAST' }, enabled: true }, mp_graceful_restart: { config: { enabled: true } } },
        { config: { family: { afi: 'AFI_IP6', safi: 'SAFI_UNICAST' }, enabled: true }, mp_graceful_restart: { config: { enabled: true } } },
      ]);
      const upd = codec.updatePeerRequest({ address: '192.168.1.1', asn: 64512, gracefulRestart: { enabled: true, restartTime: 120 } });
      expect((upd.peer as Record<string, unknown>).graceful_restart).to.include({ local_restarting: false });
    });
    it('rejects an invalid neighbor address or AS before sending', function () {
      expect(() => codec.addPeerRequest({ address: '192.168.1', asn: 64512, gracefulRestart: { enabled: false, restartTime: 0 } }, {})).to.throw(
        GobgpRequestError,
        /invalid neighbor address "192.168.1"/,
      );
      expect(() => codec.addPeerRequest({ address: '192.168.1.1', asn: 0, gracefulRestart: { enabled: false, restartTime: 0 } }, {})).to.throw(
        GobgpRequestError,
        /invalid peer AS 0/,
      );
    });
    it('local AS, own-AS count and TTL security on the wire, and read back from ListPeer (0 = not set)', function () {
      const base: Peer = { address: '192.168.1.1', asn: 64513, gracefulRestart: { enabled: true, restartTime: 120 } };
      const req = codec.addPeerRequest({ ...base, localAsn: 65001, allowOwnAsn: 2, ttlSecurityMinTtl: 255 }, {}).peer as Record<
        string,
        Record<string, unknown>
      >;
      expect(req.conf).to.include({ local_asn: 65001, allow_own_asn: 2 });
      expect(req.ttl_security).to.deep.equal({ enabled: true, ttl_min: 255 });
      const plain = codec.addPeerRequest(base, {}).peer as Record<string, Record<string, unknown>>;
      expect(plain.conf).to.include({ local_asn: 0, allow_own_asn: 0 });
      expect(plain.ttl_security).to.deep.equal({ enabled: false, ttl_min: 0 });
      expect(() => codec.addPeerRequest({ ...base, ttlSecurityMinTtl: 256 }, {})).to.throw(
        GobgpRequestError,
        /TTL security minimum TTL for 192.168.1.1 must be 1..255, got 256/,
      );
      expect(() => codec.addPeerRequest({ ...base, ttlSecurityMinTtl: 255, ebgpMultihopTtl: 2 }, {})).to.throw(
        GobgpRequestError,
        /TTL security and eBGP multihop cannot both be set/,
      );
      expect(() => codec.addPeerRequest({ ...base, localAsn: 0x100000000 }, {})).to.throw(GobgpRequestError, /invalid local AS 4294967296 for 192.168.1.1/);
      const read = codec.peerFromListPeerResponse({ peer: { ...req, conf: { ...req.conf, type: 'EXTERNAL' } } });
      expect(read?.peer).to.deep.include({ localAsn: 65001, allowOwnAsn: 2, ttlSecurityMinTtl: 255 });
      const none = codec.peerFromListPeerResponse({ peer: plain });
      expect(none?.peer).to.not.have.any.keys('localAsn', 'allowOwnAsn', 'ttlSecurityMinTtl');
    });

    it('global: AS 0 means BGP not started', function () {
      expect(codec.globalFromGetBgpResponse({ global: { asn: 0, router_id: '', listen_port: 0, listen_addresses: [] } })).to.equal(undefined);
      expect(() => codec.startBgpRequest({ asn: 64512, routerId: 'node-1', listenPort: 179 })).to.throw(/invalid router-id "node-1"/);
    });
  });
});
