import { sortCommunities, type Route } from './route.js';

/**
 * svcbgp's ownership marker: one BGP large community (RFC 8092) on every path it adds,
 *
 *     <localAS>:7376:1        e.g. 64512:7376:1   (7376 = 0x73 0x76 = "sv" in ASCII, 1 = "svcbgp path")
 *
 * svcbgp deletes only locally originated paths whose large community has the local parts 7376:1 (the AS is not
 * compared, so an AS change orphans nothing). The speaker adds it at the wire (docs/design.md § Ownership).
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
