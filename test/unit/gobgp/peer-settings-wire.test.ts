/**
 * Local AS, own-AS count and TTL security survive the encoding grpc-js does with our proto subsets (protobufjs drops
 * a field the subset lacks without a word, so a request built right could still reach gobgpd without it).
 * protos.test.ts / protos-v4.test.ts prove the subsets' field numbers are upstream's.
 */
import { expect } from 'chai';
import type { Peer } from '../../../src/model/peer.js';
import { V3Codec } from '../../../src/gobgp/v3/codec.js';
import { V4Codec } from '../../../src/gobgp/v4/codec.js';
import { V3_PROTO_DIR, V3_PROTO_FILES } from '../../../src/gobgp/v3/protos.js';
import { V4_PROTO_DIR, V4_PROTO_FILES } from '../../../src/gobgp/v4/protos.js';
import { loadProtos } from './proto-subset.js';

const PEER: Peer = {
  address: '192.168.1.1',
  asn: 64513,
  localAsn: 65001,
  allowOwnAsn: 2,
  ttlSecurityMinTtl: 254,
  gracefulRestart: { enabled: true, restartTime: 120 },
};

describe('BGPPeer localASNumber, numAllowedLocalASNumbers and ttlSecurity through the wire encoding', function () {
  for (const [api, codec, root, type] of [
    ['v3', new V3Codec(), () => loadProtos(V3_PROTO_DIR, V3_PROTO_FILES), 'apipb.AddPeerRequest'],
    ['v4', new V4Codec(), () => loadProtos(V4_PROTO_DIR, V4_PROTO_FILES), 'api.AddPeerRequest'],
  ] as const) {
    it(`${api}: AddPeerRequest encodes and decodes local_asn, allow_own_asn and ttl_security`, function () {
      const t = root().lookupType(type);
      const bytes = t.encode(t.fromObject(codec.addPeerRequest(PEER, {}))).finish();
      const back = t.toObject(t.decode(bytes), { defaults: false }) as { peer: { conf: Record<string, unknown>; ttl_security: Record<string, unknown> } };
      expect(back.peer.conf).to.include({ local_asn: 65001, allow_own_asn: 2, peer_asn: 64513 });
      expect(back.peer.ttl_security).to.deep.equal({ enabled: true, ttl_min: 254 });
    });
  }
});
