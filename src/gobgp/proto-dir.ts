import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where our protos of one API version live (protos/gobgp/<version>/). Compiled code runs from dist/src/gobgp/...,
 * tests from dist/test/..., sources from src/gobgp/..., so we look for the first `protos/gobgp/<version>/` upwards.
 * SVCBGP_PROTO_DIR overrides the `protos/gobgp` directory (e.g. for a container image that puts the protos
 * elsewhere): it must hold v3/ and v4/.
 */
export function findProtoDir(version: 'v3' | 'v4', probeFile = 'gobgp.proto'): string {
  if (process.env.SVCBGP_PROTO_DIR) return path.join(process.env.SVCBGP_PROTO_DIR, version);
  const here = path.dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'protos', 'gobgp', version);
    if (existsSync(path.join(candidate, probeFile))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`svcbgp: protos/gobgp/${version}/${probeFile} not found in any parent of ${here}`);
}
