/** svcbgp's GoBGP adapter: import from here, not from the files behind it. */
export { connectGobgp, DEFAULT_BATCH_SIZE, DEFAULT_DEADLINE_MS, type ClientOptions } from './client.js';
export { parseGobgpAddress } from './address.js';
export { DEFAULT_API_CHOICE, parseApiChoice } from './api-version.js';
export { GobgpApiMismatchError, GobgpError, GobgpRequestError } from './errors.js';
export { provisionGlobal, provisionPeers, globalConflictMessage, type ProvisionOptions, type ProvisionResult } from './provision.js';
export { DEFAULT_BGP_PORT, DEFAULT_HOLD_TIME, DEFAULT_FAMILIES, normalizePeer } from './peer-defaults.js';
export { GobgpSpeaker, type GobgpSpeakerOptions } from './speaker.js';
export * from './types.js';
