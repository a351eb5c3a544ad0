export * from './types.js';
export { desiredRoutes } from './desired.js';
export { sortCommunities } from '../model/route.js';
export { diff, routeKey, sameAttributes, type RouteDiff } from './diff.js';
export { canServe, localEndpointState, indexSlices, SERVICE_NAME_LABEL, type LocalEndpointState } from './endpoints.js';
export { ruleReasons, isAttributeReason } from './reasons.js';
