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

export interface DesiredPath {
  route: Route;
  kinds: RouteKind[];
  /** The reasons, structured (the route model's own objects, not copies); logged with every add as their texts. */
  reasons: readonly PathReason[];
}

/** The one-line texts of a path's reasons (logs, status). */
export function reasonTexts(reasons: readonly PathReason[] | undefined): string[] {
  return (reasons ?? []).map((r) => r.text);
}

export interface RefusedAddress {
  namespace: string;
  service: string;
  /** The Service's metadata.uid: the Event's involvedObject names it, or `kubectl describe service` does not list the Event. */
  uid?: string;
  address: string;
  /** Machine-readable reason code (metric label). */
  code: string;
  message: string;
  /** The reason without the address (Refusal.summary): equal for every address of the Service refused alike; default `message`. */
  summary?: string;
}

/** An address deliberately not advertised from this node (another node may advertise it). */
export interface WithheldAddress {
  namespace: string;
  service: string;
  address: string;
  code: string;
  message: string;
}

export interface DesiredState {
  paths: DesiredPath[];
  refused: RefusedAddress[];
  withheld?: WithheldAddress[];
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
