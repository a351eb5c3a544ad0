import { expect } from 'chai';
import { existsSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { V3_PROTO_DIR, V3_PROTO_FILES } from '../../../src/gobgp/v3/protos.js';

/**
 * Our protos/gobgp/v3/*.proto are a hand-written subset of GoBGP's v3 API. This test proves the subset is
 * wire-compatible: every message, field (name, number, type, label, oneof), enum value and RPC we declare
 * exists upstream with exactly the same shape. Upstream = Debian's golang-github-osrg-gobgp-dev (3.10).
 */
const UPSTREAM_DIR = process.env.GOBGP_UPSTREAM_PROTO_DIR ?? '/usr/share/gocode/src/github.com/osrg/gobgp/api';

function load(dir: string, files: readonly string[]): protobuf.Root {
  const root = new protobuf.Root();
  root.loadSync(files.map((f) => path.join(dir, f)), { keepCase: true });
  root.resolveAll();
  return root;
}

/** Every type and service declared under `apipb`, nested ones included. */
function declared(ns: protobuf.NamespaceBase): protobuf.ReflectionObject[] {
  const out: protobuf.ReflectionObject[] = [];
  for (const child of ns.nestedArray) {
    out.push(child);
    if (child instanceof protobuf.Type || child instanceof protobuf.Namespace) out.push(...declared(child));
  }
  return out;
}

function fieldShape(f: protobuf.Field) {
  f.resolve();
  return {
    id: f.id,
    // Resolved full name for message/enum types, the scalar name otherwise.
    type: f.resolvedType ? f.resolvedType.fullName : f.type,
    repeated: f.repeated,
    map: f.map,
    oneof: f.partOf ? f.partOf.name : null,
  };
}

describe('protos/gobgp/v3 (our subset) against the upstream GoBGP v3 protos', function () {
  before(function () {
    if (!existsSync(path.join(UPSTREAM_DIR, 'gobgp.proto'))) {
      throw new Error(`upstream protos not found in ${UPSTREAM_DIR}: apt-get install golang-github-osrg-gobgp-dev`);
    }
  });

  const ours = load(V3_PROTO_DIR, V3_PROTO_FILES);
  const upstream = load(UPSTREAM_DIR, ['gobgp.proto', 'attribute.proto', 'capability.proto']);
  const items = declared(ours.lookup('apipb') as protobuf.Namespace);

  it('declares the RPCs and messages svcbgp needs', function () {
    const names = items.map((i) => i.fullName);
    for (const rpc of ['GetBgp', 'StartBgp', 'AddPeer', 'UpdatePeer', 'DeletePeer', 'ListPeer', 'AddPath',
      'AddPathStream', 'DeletePath', 'ListPath', 'WatchEvent']) {
      expect(ours.lookupService('apipb.GobgpApi').methods).to.have.property(rpc);
    }
    for (const m of ['OriginAttribute', 'NextHopAttribute', 'MpReachNLRIAttribute', 'CommunitiesAttribute',
      'LargeCommunitiesAttribute', 'LocalPrefAttribute', 'IPAddressPrefix', 'PeerConf', 'Transport', 'Timers',
      'GracefulRestart', 'AfiSafi', 'MpGracefulRestart', 'EbgpMultihop', 'PeerState', 'Global']) {
      expect(names).to.include(`.apipb.${m}`);
    }
  });

  for (const item of items) {
    if (item instanceof protobuf.Type) {
      it(`message ${item.fullName}: every field matches upstream`, function () {
        const up = upstream.lookupType(item.fullName);
        expect(item.fieldsArray.length, 'a message with no fields is only fine if upstream has none either')
          .to.be.at.most(up.fieldsArray.length);
        for (const f of item.fieldsArray) {
          const u = up.fields[f.name];
          expect(u, `${item.fullName}.${f.name} does not exist upstream`).to.not.equal(undefined);
          expect(fieldShape(f), `${item.fullName}.${f.name}`).to.deep.equal(fieldShape(u!));
        }
        for (const o of item.oneofsArray) {
          const uo = up.oneofs[o.name];
          expect(uo, `oneof ${item.fullName}.${o.name} upstream`).to.not.equal(undefined);
          expect(o.oneof.every((n) => uo!.oneof.includes(n))).to.equal(true);
        }
      });
    } else if (item instanceof protobuf.Enum) {
      it(`enum ${item.fullName}: every value matches upstream`, function () {
        const up = upstream.lookupEnum(item.fullName);
        for (const [name, value] of Object.entries(item.values)) {
          expect(up.values[name], `${item.fullName}.${name}`).to.equal(value);
        }
      });
    } else if (item instanceof protobuf.Service) {
      it(`service ${item.fullName}: every RPC matches upstream`, function () {
        const up = upstream.lookupService(item.fullName);
        for (const m of item.methodsArray) {
          const u = up.methods[m.name];
          expect(u, `rpc ${m.name} upstream`).to.not.equal(undefined);
          m.resolve();
          u!.resolve();
          expect({
            req: m.resolvedRequestType!.fullName, res: m.resolvedResponseType!.fullName,
            reqStream: !!m.requestStream, resStream: !!m.responseStream,
          }, `rpc ${m.name}`).to.deep.equal({
            req: u!.resolvedRequestType!.fullName, res: u!.resolvedResponseType!.fullName,
            reqStream: !!u!.requestStream, resStream: !!u!.responseStream,
          });
        }
      });
    }
  }

  it('the check itself notices a wrong field number (guards against a test that cannot fail)', function () {
    const broken = protobuf.parse(
      'syntax = "proto3"; package apipb; message IPAddressPrefix { uint32 prefix_len = 2; string prefix = 1; }',
      { keepCase: true },
    ).root;
    broken.resolveAll();
    const f = broken.lookupType('apipb.IPAddressPrefix').fields.prefix_len!;
    const u = upstream.lookupType('apipb.IPAddressPrefix').fields.prefix_len!;
    expect(fieldShape(f)).to.not.deep.equal(fieldShape(u));
  });
});
