import type { Route } from './route.js';

/**
 * The vocabulary of a path and its reasons, shared by every layer: the route model builds it, the agent applies
 * it, the status, Events and metrics report it.
 */

/** Which Service address a rule is about. */
export type AddressKind = 'cluster-ip' | 'external-ip' | 'load-balancer-ip';

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

/** The kinds a route can exist for (label values of svcbgp_routes_advertised). */
export type RouteKind = 'cluster-ip-cidr' | 'external-ip-cidr' | 'load-balancer-ip-cidr' | 'cluster-ip' | 'external-ip' | 'load-balancer-ip' | 'other';

/**
 * Why a path is advertised, as the route model says it (src/routes/types.ts RouteReason: the rule, the CIDR, the
 * Services), plus what svcbgp adds beside the rules: where the weight and the Service attributes come from, and a
 * leaving node's GRACEFUL_SHUTDOWN. `text` is the one-line form the logs and `svcbgp status` print.
 */
export interface PathReason {
  rule: RouteRule | 'link-bandwidth' | 'service-attributes' | 'node-leaving';
  text: string;
  kind?: AddressKind;
  cidr?: string;
  services?: readonly ServiceAddress[];
}

/**
 * One route this node advertises, as the route model (src/routes) builds it and the agent applies it: the path on the
 * wire (`route`), the kinds it exists for, and every reason it exists, structured. The route model fills in where its
 * attributes come from as well (explain, status); paths the agent makes itself (a leaving node's) may leave them out.
 */
export interface DesiredPath {
  /** Exactly what is sent to gobgpd. */
  route: Route;
  kinds: RouteKind[];
  /**
   * The rules' reasons (sorted by rule, kind, CIDR), then where the weight and the Service attributes come from;
   * logged with every add as their texts.
   */
  reasons: readonly PathReason[];
  /** The prefixAdvertisements entries whose attributes the route carries. */
  attributesFrom?: readonly AttributeSource[];
  /** Services whose annotations add attributes to this route; absent when none. */
  serviceAttributesFrom?: readonly ServiceAttributeSource[];
  /** Why the route carries its link bandwidth (weightedECMP); absent when it carries none. */
  linkBandwidthFrom?: LinkBandwidthSource;
}

/** Where the BGP attributes of a route come from: each matching prefixAdvertisements entry. */
export interface AttributeSource {
  cidr: string;
  communities: readonly string[];
  largeCommunities: readonly string[];
  localPref?: number;
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

/** The one-line texts of a path's reasons (logs, status). */
export function reasonTexts(reasons: readonly PathReason[] | undefined): string[] {
  return (reasons ?? []).map((r) => r.text);
}

/**
 * Why a Service address is not advertised by any node (reported: log, Event, metric).
 * attribute-not-allowed / invalid-annotation: a value of a svcbgp.io/* annotation outside serviceAttributeLimits, or
 * unreadable; the Service's routes are advertised without it (`address` holds the value).
 * inside-cluster-ip-range: an external or load-balancer IP inside a serviceClusterIPs CIDR (it could shadow another
 * Service's cluster IP), unless the BGPConfiguration sets allowAddressesInClusterIPRange.
 * attribute-not-applied: allowed values a route does not carry (src/routes/service-attributes.ts mergeContributions;
 * `address` holds the route's address, '' when the Service has no route of its own).
 */
export type RefusalCode =
  | 'outside-configured-cidrs'
  | 'malformed-address'
  | 'invalid-service'
  | 'attribute-not-allowed'
  | 'invalid-annotation'
  | 'attribute-not-applied'
  | 'inside-cluster-ip-range';

/** An address (or annotation value) a Service asks for that no node advertises, and why. */
export interface RefusedAddress {
  namespace: string;
  /** The Service's name. */
  service: string;
  /** The Service's metadata.uid: the Event's involvedObject names it, or `kubectl describe service` does not list the Event. */
  uid?: string;
  /** The address as written in the Service ('' when the problem is the Service itself). */
  address: string;
  kind?: AddressKind;
  /** Machine-readable reason code (metric label). */
  code: RefusalCode;
  /** The whole reason, naming the address (control characters in names and values escaped). */
  message: string;
  /**
   * The reason without the address: the same for every address of a Service refused alike, so reports can group
   * them ("does not advertise 100000 addresses (a, b, c, ... and 99997 more): <summary>"); default `message`.
   */
  summary?: string;
}

/**
 * Why an address is deliberately not advertised from THIS node (other nodes may advertise it):
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

/** An address deliberately not advertised from this node (another node may advertise it). */
export interface WithheldAddress {
  namespace: string;
  /** The Service's name. */
  service: string;
  address: string;
  kind: AddressKind;
  code: WithheldCode;
  message: string;
}

export interface DesiredState {
  paths: readonly DesiredPath[];
  refused: readonly RefusedAddress[];
  withheld?: readonly WithheldAddress[];
  /** Identifies this state for a later state's delta (unique in the process). */
  generation?: number;
  /**
   * What differs from the state whose generation is `since` (same source): each route key (routeKey) whose path
   * was added, changed or dropped, with its path now (undefined: dropped). An optimisation only — `paths` is always
   * complete — that lets a pass after one Service change look at that Service's routes, not at every route.
   * Absent: compare everything.
   */
  delta?: { since: number; changed: ReadonlyMap<string, DesiredPath | undefined> };
}

/**
 * attribute-not-applied: a value the limits allow that a route does not carry: the Service has no route of its own
 * (only aggregates carry its addresses), or the merge of a shared prefix left it out (mergeContributions).
 */
export type AttributeRefusalCode = 'attribute-not-allowed' | 'invalid-annotation' | 'attribute-not-applied';

/**
 * A refusal of an annotation value, not of an address: the Service keeps its routes, only without the value. Reports
 * (Events, `explain`, `status`) say so apart from refused addresses.
 */
export function isAttributeRefusal(code: string): code is AttributeRefusalCode {
  return code === 'attribute-not-allowed' || code === 'invalid-annotation' || code === 'attribute-not-applied';
}
