import type { LinkBandwidth } from '../model/route.js';

/**
 * The link-bandwidth value of weighted ECMP (BGPConfiguration `weightedECMP`, svcbgp extension): the draft's
 * non-transitive extended community (gobgpd has no other form), the local AS or AS_TRANS, and 1 Mbit/s per usable
 * local endpoint, so FRR's `show bgp` reads the endpoint count. Decided from draft-ietf-idr-link-bandwidth and the
 * gobgpd and FRR sources (docs/design.md § Weighted ECMP encoding).
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
