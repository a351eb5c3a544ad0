import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import protobuf from 'protobufjs';
import { V4_PROTO_DIR, V4_PROTO_FILES } from '../../../src/gobgp/v4/protos.js';
import { GOBGPD_VERSIONS } from '../../helpers/gobgpd-version.js';
import { declared, fieldShape, itMatchesUpstream, loadProtos } from './proto-subset.js';

/**
 * Our protos/gobgp/v4/*.proto are a hand-written subset of GoBGP's v4 API (package api, service GoBgpService).
 * This test proves the subset is wire-compatible with every v4 of the gobgpd matrix (svcbgp drives each of them):
 * every message, field (name, number, type, label, oneof member), enum value and RPC we declare exists upstream
 * with exactly the same shape, in each version's protos.
 * Upstream = the module's own proto/api/*.proto in the Go module cache, put there by scripts/build-gobgpd.sh
 * (`go mod download github.com/osrg/gobgp/v4@<version>`). GOBGP_V4_UPSTREAM_PROTO_DIR checks one proto/ dir instead.
 */
const UPSTREAM_V4_VERSIONS = Object.values(GOBGPD_VERSIONS)
  .filter((v) => v.api === 'v4')
  .map((v) => v.module!);

function goModCache(): string {
  try {
    return execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
  } catch {
    return path.join(process.env.GOPATH ?? path.join(os.homedir(), 'go'), 'pkg', 'mod');
  }
}

/** Each upstream to check: its name and its proto/ dir. */
const UPSTREAMS: { version: string; root: string }[] = process.env.GOBGP_V4_UPSTREAM_PROTO_DIR
  ? [{ version: `in ${process.env.GOBGP_V4_UPSTREAM_PROTO_DIR}`, root: process.env.GOBGP_V4_UPSTREAM_PROTO_DIR }]
  : UPSTREAM_V4_VERSIONS.map((version) => ({
      version,
      root: path.join(goModCache(), 'github.com', 'osrg', 'gobgp', `v4@${version}`, 'proto'),
    }));

for (const { version, root } of UPSTREAMS)
  describe(`protos/gobgp/v4 (our subset) against the upstream GoBGP ${version} protos`, function () {
    const ours = loadProtos(V4_PROTO_DIR, V4_PROTO_FILES);
    const api = path.join(root, 'api');
    let upstreamRoot: protobuf.Root | undefined;
    const upstream = (): protobuf.Root => {
      if (!existsSync(path.join(api, 'gobgp.proto'))) {
        throw new Error(`upstream v4 protos not found in ${api}: run scripts/build-gobgpd.sh ` + `(or: go mod download github.com/osrg/gobgp/v4@${version})`);
      }
      upstreamRoot ??= loadProtos(api, ['gobgp.proto'], root);
      return upstreamRoot;
    };
    const items = declared(ours.lookup('api') as protobuf.Namespace);

    it('declares the RPCs, typed oneofs and messages svcbgp needs', function () {
      const names = items.map((i) => i.fullName);
      const service = ours.lookupService('api.GoBgpService');
      for (const rpc of [
        'GetBgp',
        'StartBgp',
        'StopBgp',
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
        expect(service.methods).to.have.property(rpc);
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
        'NLRI',
        'Attribute',
        'ExtendedCommunity',
        'LinkBandwidthExtended',
      ]) {
        expect(names).to.include(`.api.${m}`);
      }
      expect(ours.lookupType('api.NLRI').oneofs.nlri!.oneof).to.include('prefix');
      expect(ours.lookupType('api.Attribute').oneofs.attr!.oneof).to.include.members([
        'origin',
        'next_hop',
        'mp_reach',
        'communities',
        'large_communities',
        'local_pref',
        'extended_communities',
      ]);
      expect(ours.lookupType('api.ExtendedCommunity').oneofs.extcom!.oneof).to.include('link_bandwidth');
    });

    it('every enum of ours starts with *_UNSPECIFIED = 0, as v4 does', function () {
      const enums = items.filter((i): i is protobuf.Enum => i instanceof protobuf.Enum);
      expect(enums.length).to.be.greaterThan(5);
      for (const e of enums) {
        const zero = Object.entries(e.values).find(([, v]) => v === 0);
        expect(zero?.[0], e.fullName).to.match(/_UNSPECIFIED$/);
      }
    });

    itMatchesUpstream(ours, upstream, 'api');

    it('the check itself notices a v3 enum number in a v4 enum (guards against a test that cannot fail)', function () {
      const broken = protobuf.parse('syntax = "proto3"; package api; enum TableType { TABLE_TYPE_UNSPECIFIED = 1; TABLE_TYPE_GLOBAL = 0; }', {
        keepCase: true,
      }).root;
      expect(upstream().lookupEnum('api.TableType').values.TABLE_TYPE_GLOBAL).to.not.equal(broken.lookupEnum('api.TableType').values.TABLE_TYPE_GLOBAL);
      const field = protobuf.parse('syntax = "proto3"; package api; message LinkBandwidthExtended { double bandwidth = 2; }', { keepCase: true }).root;
      field.resolveAll();
      expect(fieldShape(field.lookupType('api.LinkBandwidthExtended').fields.bandwidth!)).to.not.deep.equal(
        fieldShape(upstream().lookupType('api.LinkBandwidthExtended').fields.bandwidth!),
      );
    });
  });
