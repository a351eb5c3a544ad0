export * from './types.js';
export { desiredRoutes, EXCLUDE_LABEL, sortCommunities } from './desired.js';
export { diff, applyDiff, routeKey, sameAttributes, type RouteDiff } from './diff.js';
export { canServe, localEndpointState, indexSlices, SERVICE_NAME_LABEL, type LocalEndpointState } from './endpoints.js';
