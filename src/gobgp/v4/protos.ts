import { findProtoDir } from '../proto-dir.js';

export const V4_PROTO_DIR = findProtoDir('v4');
/** gobgp.proto imports the others; all are listed so proto-loader and protobufjs see the same set. */
export const V4_PROTO_FILES: readonly string[] = ['gobgp.proto', 'attribute.proto', 'nlri.proto', 'extcom.proto', 'common.proto'];
