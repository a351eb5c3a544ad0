export type {
  AddressKind,
  AttributeSource,
  DesiredPath,
  LinkBandwidthSource,
  PathReason,
  RefusalCode,
  RefusedAddress,
  RouteKind,
  RouteRule,
  ServiceAddress,
  ServiceAttributes,
  ServiceAttributeSource,
  ServiceRef,
  WithheldAddress,
  WithheldCode,
} from '../model/path.js';
import type { AddressKind, DesiredPath, RefusedAddress, RouteRule, ServiceAddress, WithheldAddress } from '../model/path.js';

/** The BGPConfiguration field that lists the CIDRs for each kind. */
export const CIDR_FIELD: Record<AddressKind, string> = {
  'cluster-ip': 'serviceClusterIPs',
  'external-ip': 'serviceExternalIPs',
  'load-balancer-ip': 'serviceLoadBalancerIPs',
};

/** A rule's reason for a route (the first reasons of a DesiredPath: src/model/path.ts PathReason). */
export interface RouteReason {
  rule: RouteRule;
  kind: AddressKind;
  /** The configured CIDR the rule is based on. */
  cidr: string;
  /** Sorted by namespace, name, address. */
  services: ServiceAddress[];
  text: string;
}

export interface DesiredRoutesResult {
  node: string;
  /** The node carries node.kubernetes.io/exclude-from-external-load-balancers=true: it advertises nothing. */
  excluded: boolean;
  /** Sorted: IPv4 before IPv6, then by address, then by prefix length. */
  routes: readonly DesiredPath[];
  refused: readonly RefusedAddress[];
  withheld: readonly WithheldAddress[];
}
