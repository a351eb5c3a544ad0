import { sortCommunities, type Route } from './route.js';

/**
 * svcbgp's ownership marker: one BGP large community (RFC 8092) on every path it adds,
 *
 *     <localAS>:7376:1        e.g. 64512:7376:1   (7376 = 0x73 0x76 = "sv" in ASCII, 1 = "svcbgp path")
 *
 * It is visible to operators in `gobgp global rib` (column "Attrs": `[{LargeCommunity: [ 64512:7376:1]}]`) and it is
 * how a restarted agent recognises the paths it may adopt and delete: svcbgp deletes a path only if gobgpd originated
 * it locally AND it carries a large community whose two local parts are 7376:1. The global admin part (the AS) is not
 * compared, so an AS number change does not orphan paths; paths added with `gobgp global rib add ...` carry no such
 * community and are never touched. Large communities are optional transitive: the ToR receives the marker too (it can
 * match on it, or strip it).
 *
 * The marker is put on and taken off at the wire, by the speaker (src/gobgp/speaker.ts): the agent compares routes
 * without it. It lives in the model because the configuration (a Service allow-list must never admit it), the route
 * rules (src/model/path-size.ts counts it) and `svcbgp status` need it as much as the speaker.
 */
export const OWNER_LOCAL_DATA1 = 7376;
export const OWNER_LOCAL_DATA2 = 1;

export function ownerCommunity(localAs: number): string {
  return `${localAs}:${OWNER_LOCAL_DATA1}:${OWNER_LOCAL_DATA2}`;
}

/** True when a large-community string is an svcbgp ownership marker (any global admin). */
export function isOwnerCommunity(large: string): boolean {
  const parts = large.split(':');
  return parts.length === 3 && Number(parts[1]) === OWNER_LOCAL_DATA1 && Number(parts[2]) === OWNER_LOCAL_DATA2;
}

/** True when the path carries the marker; callers also require that gobgpd originated it locally. */
export function isOwned(route: Route): boolean {
  return route.largeCommunities.some(isOwnerCommunity);
}

/** The route with exactly one ownership marker (for `localAs`), attribute lists in canonical order. */
export function markOwned(route: Route, localAs: number): Route {
  const large = route.largeCommunities.filter((c) => !isOwnerCommunity(c));
  large.push(ownerCommunity(localAs));
  return { ...route, communities: sortCommunities(route.communities), largeCommunities: sortCommunities(large) };
}

/**
 * An owned path as the agent sent it: the marker of `localAs` taken off. A marker of another AS stays, so the path
 * differs from what the agent wants and is re-sent with the right one (the AS gobgpd runs).
 */
export function unmarkOwned(route: Route, localAs: number): Route {
  const own = ownerCommunity(localAs);
  return {
    ...route,
    communities: sortCommunities(route.communities),
    largeCommunities: sortCommunities(route.largeCommunities.filter((c) => c !== own)),
  };
}
