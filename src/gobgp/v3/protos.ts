import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where our v3 protos live. Compiled code runs from dist/src/gobgp/v3/, tests from dist/test/..., sources
 * from src/gobgp/v3/, so we look for the first `protos/gobgp/v3/` upwards. SVCBGP_PROTO_DIR overrides
 * (e.g. for a container image that puts the protos elsewhere).
 */
function findProtoDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'protos', 'gobgp', 'v3');
    if (existsSync(path.join(candidate, 'gobgp.proto'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`svcbgp: protos/gobgp/v3/gobgp.proto not found in any parent of ${here}`);
}

export const V3_PROTO_DIR = process.env.SVCBGP_PROTO_DIR ?? findProtoDir();
export const V3_PROTO_FILES: readonly string[] = ['gobgp.proto', 'attribute.proto'];
