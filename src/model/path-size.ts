import type { Route } from './route.js';

/**
 * How big the BGP UPDATE that carries one path gets, and the bounds svcbgp keeps every path inside: a BGP message is
 * at most 4,096 bytes (RFC 4271 section 4; no RFC 8654 here), and gobgpd 3.10 panics on a path that does not fit, again
 * after every restart. So Services together add at most a fixed number of communities to a route, the operator's
 * prefixAdvertisements are checked when the configuration is read (src/config/prefix-advertisements.ts), and every
 * path is measured with wireBytes() (docs/design.md § Path-size budget).
 */

/** RFC 4271: the largest BGP message. */
export const MAX_BGP_MESSAGE = 4096;

/**
 * Room kept for what the path gains after svcbgp hands it over: gobgpd prepends its AS on eBGP sessions (AS_PATH,
 * AS4_PATH), may add MED, ORIGINATOR_ID and CLUSTER_LIST when it reflects, and a policy may add more. 256 bytes is
 * over 30 four-byte ASNs or cluster ids.
 */
export const GOBGPD_RESERVE = 256;

/** The largest UPDATE svcbgp lets a path of its own make (before gobgpd's additions). */
export const MAX_UPDATE_BYTES = MAX_BGP_MESSAGE - GOBGPD_RESERVE;

/** What all Services together may add to one route: the same as one Service may write in one annotation. */
export const MAX_SERVICE_COMMUNITIES = 32;
export const MAX_SERVICE_LARGE_COMMUNITIES = 32;

/**
 * What svcbgp itself adds to every route model path on the wire: the ownership marker (one large community) always,
 * GRACEFUL_SHUTDOWN (one standard community) and LOCAL_PREF 0 while the node drains (src/config/departure.ts).
 */
export const SVCBGP_ADDS = { communities: 1, largeCommunities: 1 } as const;

/** Marker header (16) + length (2) + type (1) + withdrawn length (2) + total path attribute length (2). */
const UPDATE_HEADER = 23;

/** An attribute's bytes: flags, type, a 1- or 2-byte length (extended length above 255), the value. */
function attribute(valueBytes: number): number {
  return (valueBytes > 255 ? 4 : 3) + valueBytes;
}

/** NLRI bytes of a prefix: one length byte and the significant octets. */
function nlriBytes(prefixLength: number): number {
  return 1 + Math.ceil(prefixLength / 8);
}

export interface PathShape {
  family: Route['family'];
  /** Prefix length (32 for an IPv4 host route). */
  prefixLength: number;
  communities: number;
  largeCommunities: number;
  localPref: boolean;
  linkBandwidth: boolean;
}

/**
 * The bytes of the UPDATE that carries one path of this shape, as gobgpd encodes it before its own additions:
 * ORIGIN, an empty AS_PATH (iBGP; eBGP prepends are in GOBGPD_RESERVE), NEXT_HOP and the NLRI for IPv4, MP_REACH_NLRI
 * with a global and a link-local next hop for IPv6 (the larger case), LOCAL_PREF, COMMUNITIES, LARGE_COMMUNITY and
 * EXTENDED_COMMUNITIES (the link bandwidth).
 */
export function shapeBytes(s: PathShape): number {
  let n = UPDATE_HEADER + attribute(1) /* ORIGIN */ + attribute(0) /* AS_PATH */;
  if (s.family === 'ipv4-unicast') n += attribute(4) /* NEXT_HOP */ + nlriBytes(s.prefixLength);
  else n += attribute(2 + 1 + 1 + 32 + 1 + nlriBytes(s.prefixLength)); // AFI, SAFI, next hop length, next hops, reserved, NLRI
  if (s.localPref) n += attribute(4);
  if (s.communities > 0) n += attribute(4 * s.communities);
  if (s.largeCommunities > 0) n += attribute(12 * s.largeCommunities);
  if (s.linkBandwidth) n += attribute(8);
  return n;
}

/** The bytes of the UPDATE that carries this route as it is. */
export function updateBytes(route: Route, adds: { communities: number; largeCommunities: number } = { communities: 0, largeCommunities: 0 }): number {
  const slash = route.prefix.indexOf('/');
  return shapeBytes({
    family: route.family,
    prefixLength: slash < 0 ? (route.family === 'ipv4-unicast' ? 32 : 128) : Number(route.prefix.slice(slash + 1)),
    communities: route.communities.length + adds.communities,
    largeCommunities: route.largeCommunities.length + adds.largeCommunities,
    localPref: route.localPref !== undefined || adds.communities > 0,
    linkBandwidth: route.linkBandwidth !== undefined,
  });
}

/** The most a route model path can become on the wire: with the marker, and while the node drains. */
export function wireBytes(route: Route): number {
  return updateBytes(route, SVCBGP_ADDS);
}

/**
 * The operator's share: how many standard and large communities prefixAdvertisements may give one route so that the
 * largest path svcbgp can build still fits. Counts the Services' maximum, what svcbgp adds (the ownership marker,
 * GRACEFUL_SHUTDOWN while draining), LOCAL_PREF and the link bandwidth, on an IPv6 host route (the larger NLRI and
 * next hop).
 */
export function operatorCommunitiesFit(communities: number, largeCommunities: number): boolean {
  return (
    shapeBytes({
      family: 'ipv6-unicast',
      prefixLength: 128,
      communities: communities + MAX_SERVICE_COMMUNITIES + SVCBGP_ADDS.communities,
      largeCommunities: largeCommunities + MAX_SERVICE_LARGE_COMMUNITIES + SVCBGP_ADDS.largeCommunities,
      localPref: true,
      linkBandwidth: true,
    }) <= MAX_UPDATE_BYTES
  );
}
