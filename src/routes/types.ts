import type { Route } from '../model/route.js';
import type { LinkBandwidthSource, ServiceAttributeSource } from './service-attributes.js';

/** Which Service address a rule is about. */
export type AddressKind = 'cluster-ip' | 'external-ip' | 'load-balancer-ip';

/** The BGPConfiguration field that lists the CIDRs for each kind. */
export const CIDR_FIELD: Record<AddressKind, string> = {
  'cluster-ip': 'serviceClusterIPs',
  'external-ip': 'serviceExternalIPs',
  'load-balancer-ip': 'serviceLoadBalancerIPs',
};

export interface ServiceRef {
  namespace: string;
  name: string;
}

export interface ServiceAddress extends ServiceRef {
  /** Canonical IP text. */
  address: string;
}

/**
 * Why a route exists.
 * - aggregate: a configured CIDR, advertised by every (non-excluded) node; `services` lists the
 *   Services with Cluster traffic policy whose addresses it carries (informational).
 * - local-endpoint: a /32 or /128 for a Service with externalTrafficPolicy: Local (or internalTrafficPolicy:
 *   Local for cluster IPs) that has a ready — or serving while terminating — endpoint on this node.
 * - single-address-cidr: a Cluster-policy external or load-balancer IP matched by a single-address (/32, /128) entry
 *   of serviceExternalIPs or serviceLoadBalancerIPs; advertised per Service, from every node, not as aggregates
 *   (Calico: load-balancer entries always, external ones since v3.30.0).
 * - per-service: a Cluster-policy load-balancer IP while serviceLoadBalancerAggregation is Disabled, from every node,
 *   while the Service has a ready (or, when none is, serving while terminating) endpoint of its family anywhere.
 */
export type RouteRule = 'aggregate' | 'local-endpoint' | 'single-address-cidr' | 'per-service';

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
