import { expect } from 'chai';
import path from 'node:path';
import protobuf from 'protobufjs';

/**
 * The check behind protos.test.ts (v3) and protos-v4.test.ts (v4): our hand-written protos/gobgp/<v>/*.proto
 * are a wire-compatible subset of upstream's: every message, field (name, number, type, label, oneof), enum value
 * and RPC we declare exists upstream with exactly the same shape.
 */

/**
 * Loads proto files. `includeRoot`: imports are resolved against it (upstream v4 writes `import "api/nlri.proto"`
 * with proto/ as include root); without it, relative to the importing file (our protos, upstream v3).
 */
export function loadProtos(dir: string, files: readonly string[], includeRoot?: string): protobuf.Root {
  const root = new protobuf.Root();
  if (includeRoot) {
    root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : target.startsWith('google/') ? target : path.join(includeRoot, target));
  }
  root.loadSync(
    files.map((f) => path.join(dir, f)),
    { keepCase: true },
  );
  root.resolveAll();
  return root;
}

/** Every type and service declared under a namespace, nested ones included. */
export function declared(ns: protobuf.NamespaceBase): protobuf.ReflectionObject[] {
  const out: protobuf.ReflectionObject[] = [];
  for (const child of ns.nestedArray) {
    out.push(child);
    if (child instanceof protobuf.Type || child instanceof protobuf.Namespace) out.push(...declared(child));
  }
  return out;
}

export function fieldShape(f: protobuf.Field) {
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

/** One `it` per declared message, enum and service of `ours` under `pkg`, each compared with `upstream`. */
export function itMatchesUpstream(ours: protobuf.Root, upstream: () => protobuf.Root, pkg: string): void {
  for (const item of declared(ours.lookup(pkg) as protobuf.Namespace)) {
    if (item instanceof protobuf.Type) {
      it(`message ${item.fullName}: every field matches upstream`, function () {
        const up = upstream().lookupType(item.fullName);
        expect(item.fieldsArray.length, 'a message with no fields is only fine if upstream has none either').to.be.at.most(up.fieldsArray.length);
        for (const f of item.fieldsArray) {
          const u = up.fields[f.name];
          expect(u, `${item.fullName}.${f.name} does not exist upstream`).to.not.equal(undefined);
          expect(fieldShape(f), `${item.fullName}.${f.name}`).to.deep.equal(fieldShape(u!));
        }
        for (const o of item.oneofsArray) {
          const uo = up.oneofs[o.name];
          expect(uo, `oneof ${item.fullName}.${o.name} upstream`).to.not.equal(undefined);
          for (const n of o.oneof) expect(uo!.oneof, `oneof ${item.fullName}.${o.name} member ${n}`).to.include(n);
        }
      });
    } else if (item instanceof protobuf.Enum) {
      it(`enum ${item.fullName}: every value matches upstream`, function () {
        const up = upstream().lookupEnum(item.fullName);
        for (const [name, value] of Object.entries(item.values)) {
          expect(up.values[name], `${item.fullName}.${name}`).to.equal(value);
        }
      });
    } else if (item instanceof protobuf.Service) {
      it(`service ${item.fullName}: every RPC matches upstream`, function () {
        const up = upstream().lookupService(item.fullName);
        for (const m of item.methodsArray) {
          const u = up.methods[m.name];
          expect(u, `rpc ${m.name} upstream`).to.not.equal(undefined);
          m.resolve();
          u!.resolve();
          expect(
            {
              req: m.resolvedRequestType!.fullName,
              res: m.resolvedResponseType!.fullName,
              reqStream: !!m.requestStream,
              resStream: !!m.responseStream,
            },
            `rpc ${m.name}`,
          ).to.deep.equal({
            req: u!.resolvedRequestType!.fullName,
            res: u!.resolvedResponseType!.fullName,
            reqStream: !!u!.requestStream,
            resStream: !!u!.responseStream,
          });
        }
      });
    }
  }
}
