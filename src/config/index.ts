export * from './types.js';
export { parseConfig, defaultConfig, type ParseOptions } from './parse.js';
export { where } from './messages.js';
export { peersForNode, speakerConfigForNode, listenPortForNode, prefixAdvertisementsForNode, appliesToNode, type NodePeer } from './peers.js';
export { parseSelector, matchSelector, SelectorError, type Selector } from './selector.js';
export { parseGoDuration } from './duration.js';
export { toNodeInfo, type NodeInfo, type NodeInput } from './node.js';
