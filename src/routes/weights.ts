import type { LinkBandwidth } from '../model/route.js';

/**
 * The link-bandwidth value of weighted ECMP (BGPConfiguration `weightedECMP`, svcbgp extension).
 *
 * Encoding, decided from draft-ietf-idr-link-bandwidth and the gobgpd and FRR sources:
 * - The draft defines the community as optional NON-transitive (type 0x40, sub-type 0x04): a 2-octet AS and the
 *   bandwidth in BYTES per second as an IEEE float. gobgpd builds exactly that from the API's LinkBandwidthExtended
 *   (pkg/packet/bgp/bgp.go NewLinkBandwidthExtended: EC_TYPE_NON_TRANSITIVE_LINK_BANDWIDTH); it has no transitive form.
 *   FRR reads both forms (bgpd/bgp_ecommunity.c ecommunity_linkbw_present: ENCODE_AS and ENCODE_AS_NON_TRANS).
 *   Non-transitive is right for a value that describes this node's link: it must not travel beyond the next AS.
 * - The AS field: the local AS when it fits in 2 octets, else AS_TRANS (23456, RFC 6793), as the draft's 2-octet
 *   field leaves no other choice. FRR ignores it when it computes weights.
 * - The unit: 1 Mbit/s (125,000 bytes/s) per usable local endpoint, so `show bgp` on FRR reads
 *   "LB:64512:375000 (3.000 Mbps)" for 3 endpoints: the figure is the endpoint count. FRR turns the values of the
 *   multipaths into next-hop weights (bgpd/bgp_zebra.c: weight = bw * 100 / sum of bw), so 1 and 3 endpoints give
 *   `weight 25` and `weight 75` in the kernel. Only ratios matter; FRR keeps the value in a uint32 of bytes per
 *   second, hence the cap on the count.
 * - FRR does weighted ECMP only when every multipath carries the community (its default `bgp bestpath bandwidth`
 *   handling); BIRD ignores it and keeps plain ECMP. A route that exists both because of a Local traffic policy and
 *   for another reason (an aggregate, a Cluster-policy single address) therefore carries none: see
 *   ./service-attributes.ts mergeContributions.
 */

export const AS_TRANS = 23456;
export const BYTES_PER_SECOND_PER_ENDPOINT = 125_000;
export const BYTES_PER_SECOND_PER_MBPS = 125_000;
/** 34,000 x 125,000 bytes/s stays below FRR's uint32 of bytes per second. */
export const MAX_WEIGHTED_ENDPOINTS = 34_000;

/** The 2-octet AS field for a local AS. */
export function linkBandwidthAsn(localAs: number): number {
  return localAs >= 1 && localAs <= 0xffff ? localAs : AS_TRANS;
}

/** The link bandwidth of a host route with `endpoints` usable local endpoints (at least 1: the route exists). */
export function endpointsLinkBandwidth(endpoints: number, localAs: number): LinkBandwidth {
  const n = Math.min(Math.max(1, Math.floor(endpoints)), MAX_WEIGHTED_ENDPOINTS);
  return { asn: linkBandwidthAsn(localAs), bytesPerSecond: Math.fround(n * BYTES_PER_SECOND_PER_ENDPOINT) };
}

/** The link bandwidth the operator gives every aggregate (weightedECMP.aggregateLinkBandwidthMbps). */
export function aggregateLinkBandwidth(mbps: number, localAs: number): LinkBandwidth {
  return { asn: linkBandwidthAsn(localAs), bytesPerSecond: Math.fround(mbps * BYTES_PER_SECOND_PER_MBPS) };
}

/** "3 Mbit/s (3 endpoints)": how explain and status show a value. */
export function describeLinkBandwidth(lb: LinkBandwidth): string {
  const mbps = lb.bytesPerSecond / BYTES_PER_SECOND_PER_MBPS;
  const shown = Number.isInteger(mbps) ? String(mbps) : mbps.toFixed(3);
  return `link-bandwidth ${lb.asn}:${shown} Mbit/s`;
}
