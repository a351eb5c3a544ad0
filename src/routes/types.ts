import type { Route } from '../model/route.js';

export type { AddressKind, ServiceRef, ServiceAddress, RouteRule } from '../model/path.js';
import type { AddressKind, ServiceRef, ServiceAddress, RouteRule } from '../model/path.js';

/** The BGPConfiguration field that lists the CIDRs for each kind. */
export const CIDR_FIELD: Record<AddressKind, string> = {
  'cluster-ip': 'serviceClusterIPs',
  'external-ip': 'serviceExternalIPs',
  'load-balancer-ip': 'serviceLoadBalancerIPs',
};

export interface RouteReason {
  rule: RouteRule;
  kind: AddressKind;
  /** The configured CIDR the rule is based on. */
  cidr: string;
  /** Sorted by namespace, name, address. */
  services: ServiceAddress[];
  text: string;
}

/** Where the BGP attributes of a route come from: each matching prefixAdvertisements entry. */
export interface AttributeSource {
  cidr: string;
  communities: readonly string[];
  largeCommunities: readonly string[];
  localPref?: number;
}

export interface DesiredRoute extends Route {
  /** Sorted by rule, kind, cidr. */
  reasons: RouteReason[];
  attributesFrom: readonly AttributeSource[];
  /** Services whose annotations add attributes to this route (./service-attributes.ts); absent when none. */
  serviceAttributesFrom?: ServiceAttributeSource[];
  /** Why the route carries its link bandwidth (weightedECMP); absent when it carries none. */
  linkBandwidthFrom?: LinkBandwidthSource;
}

/**
 * An address a Service asks for that is not advertised by any node: reported (log, Event, metric).
 * attribute-not-allowed / invalid-annotation: a value of a svcbgp.io/* annotation outside serviceAttributeLimits, or
 * unreadable; the Service's routes are advertised without it (`address` holds the value).
 * inside-cluster-ip-range: an external or load-balancer IP inside a serviceClusterIPs CIDR (it could shadow another
 * Service's cluster IP), unless the BGPConfiguration sets allowAddressesInClusterIPRange.
 * attribute-not-applied: allowed values a route does not carry (./service-attributes.ts mergeContributions; `address`
 * holds the route's address, '' when the Service has no route of its own).
 */
export type RefusalCode =
  | 'outside-configured-cidrs'
  | 'malformed-address'
  | 'invalid-service'
  | 'attribute-not-allowed'
  | 'invalid-annotation'
  | 'attribute-not-applied'
  | 'inside-cluster-ip-range';

export interface Refusal {
  service: ServiceRef;
  /** The address as written in the Service ('' when the problem is the Service itself). */
  address: string;
  kind?: AddressKind;
  code: RefusalCode;
  /** The whole reason, naming the address (control characters in names and values escaped). */
  text: string;
  /**
   * The reason without the address: the same for every address of a Service refused alike, so reports can
   * group them ("does not advertise 100000 addresses (a, b, c, ... and 99997 more): <summary>").
   */
  summary: string;
}

/**
 * An address deliberately not advertised from THIS node (other nodes may advertise it):
 * - no-local-endpoint: Local traffic policy and no endpoint on this node that can serve;
 * - kind-not-configured: cluster IPs while serviceClusterIPs is empty (advertising cluster IPs is opt-in);
 * - advertise-disabled: the Service is annotated svcbgp.io/advertise: "false" (an aggregate may still carry it);
 * - ingress-proxied: a load-balancer ingress with ipMode: Proxy: the load balancer proxies, nodes do not take it;
 * - other-load-balancer-class: the Service's spec.loadBalancerClass names another implementation;
 * - no-ready-endpoint: serviceLoadBalancerAggregation Disabled, Cluster policy, and no endpoint of the address's family
 *   in the cluster can serve: no node advertises the load-balancer IP (the point of Disabled: withdraw a failed Service).
 */
export type WithheldCode =
  | 'no-local-endpoint'
  | 'kind-not-configured'
  | 'advertise-disabled'
  | 'ingress-proxied'
  | 'other-load-balancer-class'
  | 'no-ready-endpoint';

export interface Withheld {
  service: ServiceRef;
  address: string;
  kind: AddressKind;
  code: WithheldCode;
  text: string;
}

export interface DesiredRoutesResult {
  node: string;
  /** The node carries node.kubernetes.io/exclude-from-external-load-balancers=true: it advertises nothing. */
  excluded: boolean;
  /** Sorted: IPv4 before IPv6, then by address, then by prefix length. */
  routes: DesiredRoute[];
  refused: Refusal[];
  withheld: Withheld[];
}

export interface ServiceAttributes {
  communities: readonly string[];
  largeCommunities: readonly string[];
  localPref?: number;
}

/** Where a route's Service attributes came from: one entry per Service that adds any (explain, status). */
export interface ServiceAttributeSource extends ServiceAttributes {
  service: ServiceRef;
}

/** Where a route's link bandwidth came from. */
export interface LinkBandwidthSource {
  /** local-endpoints: the sum of the Services' usable local endpoints; aggregate: weightedECMP.aggregateLinkBandwidthMbps. */
  basis: 'local-endpoints' | 'aggregate';
  localEndpoints?: number;
  /** basis local-endpoints: each Service and its endpoints on this node. */
  services?: { service: ServiceRef; localEndpoints: number }[];
  aggregateMbps?: number;
}
