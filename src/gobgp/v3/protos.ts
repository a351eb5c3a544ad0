import { findProtoDir } from '../proto-dir.js';

export const V3_PROTO_DIR = findProtoDir('v3');
export const V3_PROTO_FILES: readonly string[] = ['gobgp.proto', 'attribute.proto'];
