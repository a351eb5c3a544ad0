import { sortCommunities, type Route } from '../model/route.js';
import { isOwnerCommunity, ownerCommunity } from '../model/owner-marker.js';

/**
 * Ownership marker. svcbgp tags every path it adds with one BGP large community (RFC 8092):
 *
 *     <localAS>:7376:1        e.g. 64512:7376:1   (7376 = 0x73 0x76 = "sv" in ASCII, 1 = "svcbgp path")
 *
 * It is visible to operators in `gobgp global rib` (column "Attrs": `[{LargeCommunity: [ 64512:7376:1]}]`)
 * and it is how a restarted agent recognises the paths it may adopt and delete. svcbgp deletes a path only
 * if it is locally originated AND carries a large community whose two local parts are 7376:1 — the global
 * admin part (the AS) is not compared, so an AS number change does not orphan paths. Paths added with
 * `gobgp global rib add ...` carry no such community and are never touched.
 *
 * Large communities are optional transitive: the ToR receives the marker too (it can match on it, or strip it).
 */
export { OWNER_LOCAL_DATA1, OWNER_LOCAL_DATA2, ownerCommunity, isOwnerCommunity } from '../model/owner-marker.js';

/** True when the path carries the marker; callers also require that gobgpd originated it locally. */
export function isOwned(route: Route): boolean {
  return route.largeCommunities.some(isOwnerCommunity);
}

/** The route with exactly one ownership marker (for `localAs`) and canonically sorted attribute lists. */
export function markOwned(route: Route, localAs: number): Route {
  const large = route.largeCommunities.filter((c) => !isOwnerCommunity(c));
  large.push(ownerCommunity(localAs));
  return normalizeRoute({ ...route, largeCommunities: large });
}

/**
 * Canonical form used before comparing desired and actual paths: communities sorted numerically and unique,
 * so that "64512:10" vs "64512:9" ordering never causes a spurious update.
 */
export function normalizeRoute(route: Route): Route {
  const out: Route = {
    prefix: route.prefix,
    family: route.family,
    nextHop: route.nextHop,
    communities: sortCommunities(route.communities),
    largeCommunities: sortCommunities(route.largeCommunities),
  };
  if (route.localPref !== undefined) out.localPref = route.localPref;
  if (route.linkBandwidth !== undefined) out.linkBandwidth = { ...route.linkBandwidth };
  return out;
}

/**
 * Key that identifies a path in gobgpd's global RIB for our purposes (one path per prefix and family): the route
 * model's own key, so that the keys of a DesiredState delta (src/routes/table.ts) are the reconciler's.
 */
export { routeKey } from '../routes/diff.js';
