import { expect } from 'chai';
import { existsSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { V3_PROTO_DIR, V3_PROTO_FILES } from '../../../src/gobgp/v3/protos.js';
import { declared, fieldShape, itMatchesUpstream, loadProtos } from './proto-subset.js';

/**
 * Our protos/gobgp/v3/*.proto are a hand-written subset of GoBGP's v3 API. This test proves the subset is
 * wire-compatible: every message, field (name, number, type, label, oneof), enum value and RPC we declare
 * exists upstream with exactly the same shape. Upstream = Debian's golang-github-osrg-gobgp-dev (3.10).
 */
const UPSTREAM_DIR = process.env.GOBGP_UPSTREAM_PROTO_DIR ?? '/usr/share/gocode/src/github.com/osrg/gobgp/api';

describe('protos/gobgp/v3 (our subset) against the upstream GoBGP v3 protos', function () {
  before(function () {
    if (!existsSync(path.join(UPSTREAM_DIR, 'gobgp.proto'))) {
      throw new Error(`upstream protos not found in ${UPSTREAM_DIR}: apt-get install golang-github-osrg-gobgp-dev`);
    }
  });

  const ours = loadProtos(V3_PROTO_DIR, V3_PROTO_FILES);
  const upstream = loadProtos(UPSTREAM_DIR, ['gobgp.proto', 'attribute.proto', 'capability.proto']);
  const items = declared(ours.lookup('apipb') as protobuf.Namespace);

  it('declares the RPCs and messages svcbgp needs', function () {
    const names = items.map((i) => i.fullName);
    for (const rpc of [
      'GetBgp',
      'StartBgp',
      'AddPeer',
      'UpdatePeer',
      'DeletePeer',
      'ListPeer',
      'AddPath',
      'AddPathStream',
      'DeletePath',
      'ListPath',
      'WatchEvent',
    ]) {
      expect(ours.lookupService('apipb.GobgpApi').methods).to.have.property(rpc);
    }
    for (const m of [
      'OriginAttribute',
      'NextHopAttribute',
      'MpReachNLRIAttribute',
      'CommunitiesAttribute',
      'LargeCommunitiesAttribute',
      'LocalPrefAttribute',
      'IPAddressPrefix',
      'PeerConf',
      'Transport',
      'Timers',
      'GracefulRestart',
      'AfiSafi',
      'MpGracefulRestart',
      'EbgpMultihop',
      'PeerState',
      'Global',
      'ExtendedCommunitiesAttribute',
      'LinkBandwidthExtended',
    ]) {
      expect(names).to.include(`.apipb.${m}`);
    }
  });

  itMatchesUpstream(ours, () => upstream, 'apipb');

  it('the check itself notices a wrong field number (guards against a test that cannot fail)', function () {
    const broken = protobuf.parse('syntax = "proto3"; package apipb; message IPAddressPrefix { uint32 prefix_len = 2; string prefix = 1; }', {
      keepCase: true,
    }).root;
    broken.resolveAll();
    const f = broken.lookupType('apipb.IPAddressPrefix').fields.prefix_len!;
    const u = upstream.lookupType('apipb.IPAddressPrefix').fields.prefix_len!;
    expect(fieldShape(f)).to.not.deep.equal(fieldShape(u));
  });
});
