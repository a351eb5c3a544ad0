/** The svcbgp network lab: the article's network in namespaces, with BIRD 2 or FRR as the ToR. */
export { Lab, createLab, preflight, type LabOptions, type LabNode, type MemoryReport, type BringUpTimings, type RouteChanges } from './lab.js';
export { cleanupStale, destroyByPrefix, readState, type StaleReport, type LabState } from './cleanup.js';
export { GOBGP, Gobgpd, LAB_GOBGPD, renderGobgpdToml, type GobgpdBootstrap, type GobgpdStartOptions } from './gobgpd.js';
export { httpGetFrom, urlFor, type HttpResult } from './http.js';
export {
  parseIpRouteJson,
  parseNextHopWeights,
  toRouteTable,
  formatRouteTable,
  canonicalPrefix,
  compareAddresses,
  type KernelRoute,
  type RouteTable,
} from './routes.js';
export { renderBirdConfig, parseBirdProtocols } from './bird.js';
export { renderBgpdConfig, parseFrrSummary } from './frr.js';
export { nsRun, run, waitFor, sleep, type ExecResult } from './exec.js';
export * from './topology.js';
export type { BgpSession, RouterKind, TorRouter } from './tor.js';
export { LabPods, isNginxImage, nginxConfig, NGINX, type LabPod } from './pods.js';
export {
  DataPath,
  startDataPath,
  dataPathPreflight,
  curlFrom,
  kubeconfigServer,
  CLUSTER_CIDRS,
  type DataPathOptions,
  type CurlResult,
  type ProxyMode,
} from './data-path.js';
