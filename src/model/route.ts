/**
 * The one internal model of a BGP route that svcbgp advertises. Every codec (GoBGP v3 today, v4 later)
 * translates to and from this shape; nothing outside src/gobgp/ sees wire messages.
 */
export type Family = 'ipv4-unicast' | 'ipv6-unicast';

export interface Route {
  /** Canonical CIDR, network address only: "10.49.0.0/16", "10.49.62.131/32", "fd00::1/128". */
  prefix: string;
  family: Family;
  /** Next hop; "0.0.0.0" / "::" means "the session's local address" (gobgpd fills it in). */
  nextHop: string;
  /** Standard communities as "ASN:value" strings (RFC 1997), sorted, unique. */
  communities: readonly string[];
  /** Large communities as "global:local1:local2" strings (RFC 8092), sorted, unique. */
  largeCommunities: readonly string[];
  /** LOCAL_PREF attribute; only meaningful towards iBGP peers. */
  localPref?: number;
  /**
   * The link-bandwidth extended community (draft-ietf-idr-link-bandwidth; gobgpd sends the non-transitive form,
   * type 0x40 subtype 0x04), which FRR turns into next-hop weights. src/routes/weights.ts says how svcbgp fills it.
   */
  linkBandwidth?: LinkBandwidth;
}

export interface LinkBandwidth {
  /** The 2-octet AS field (a 4-octet local AS is sent as AS_TRANS 23456). */
  asn: number;
  /** Bytes per second, as an IEEE single-precision float on the wire: always a value Math.fround keeps unchanged. */
  bytesPerSecond: number;
}

/**
 * The empty community list, one frozen array for every route without communities: nearly all routes, and at
 * 10,000 Services an empty array each was 20,000 arrays beside the routes (a heap snapshot at 10,000 Services).
 */
export const NO_COMMUNITIES: readonly string[] = Object.freeze([]);

/**
 * The canonical order of a community list (standard "a:b" or large "a:b:c"): unique, numerically by part.
 * Every producer of a Route (the route model, the codec, the ownership marker) uses it, so two Routes with
 * the same communities compare equal as text and a reconcile pass sends nothing.
 */
export function sortCommunities(list: readonly string[]): readonly string[] {
  if (list.length === 0) return NO_COMMUNITIES;
  return [...new Set(list)].sort((a, b) => {
    const pa = a.split(':').map(Number);
    const pb = b.split(':').map(Number);
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
      const d = (pa[i] ?? -1) - (pb[i] ?? -1);
      if (d !== 0) return d;
    }
    return a < b ? -1 : a > b ? 1 : 0;
  });
}
