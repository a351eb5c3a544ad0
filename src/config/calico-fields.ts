import type { FieldProblem } from './service-limits.js';

/**
 * Every spec field of Calico's BGPConfiguration and BGPPeer (Calico Open Source 3.30 to 3.32), and what svcbgp does
 * with the ones it does not read like Calico: honoured, refused or warned (docs/design.md § Calico fields svcbgp does
 * not read). docs/calico-fields.md is the same table for operators; the unit tests keep the two in step.
 */

/** The Calico release that added a field (3.30: the fields every supported release has). */
export type CalicoRelease = '3.30' | '3.31' | '3.32';

export const CALICO_BGPCONFIGURATION_FIELDS: Readonly<Record<string, CalicoRelease>> = {
  logSeverityScreen: '3.30',
  nodeToNodeMeshEnabled: '3.30',
  asNumber: '3.30',
  serviceLoadBalancerIPs: '3.30',
  serviceExternalIPs: '3.30',
  serviceClusterIPs: '3.30',
  serviceLoadBalancerAggregation: '3.31',
  communities: '3.30',
  prefixAdvertisements: '3.30',
  listenPort: '3.30',
  nodeMeshPassword: '3.30',
  nodeMeshMaxRestartTime: '3.30',
  bindMode: '3.30',
  ignoredInterfaces: '3.30',
  localWorkloadPeeringIPV4: '3.30',
  localWorkloadPeeringIPV6: '3.30',
  programClusterRoutes: '3.32',
  ipv4NormalRoutePriority: '3.32',
  ipv6NormalRoutePriority: '3.32',
};

export const CALICO_BGPPEER_FIELDS: Readonly<Record<string, CalicoRelease>> = {
  node: '3.30',
  nodeSelector: '3.30',
  peerIP: '3.30',
  asNumber: '3.30',
  localASNumber: '3.31',
  peerSelector: '3.30',
  keepOriginalNextHop: '3.30',
  nextHopMode: '3.30',
  password: '3.30',
  sourceAddress: '3.30',
  maxRestartTime: '3.30',
  keepaliveTime: '3.32',
  numAllowedLocalASNumbers: '3.30',
  ttlSecurity: '3.30',
  reachableBy: '3.30',
  filters: '3.30',
  localWorkloadSelector: '3.30',
  reversePeering: '3.30',
};

/**
 * BGPPeer fields of Calico Enterprise (docs.tigera.io reference/resources/bgppeer), not of Calico Open Source:
 * failureDetectionMode is honoured (src/config/bgp-peer.ts readFailureDetection), these two are checked here.
 */
export const CALICO_ENTERPRISE_BGPPEER_FIELDS = ['failureDetectionMode', 'restartMode', 'birdGatewayMode'] as const;

/** What a field means when svcbgp does not honour it: the problems for the value written (none: accepted as is). */
export type FieldCheck = (value: unknown, path: string) => FieldProblem[];

const warn =
  (message: string): FieldCheck =>
  (value, path) => [{ severity: 'warning', path, value, message }];
const refuse =
  (message: string): FieldCheck =>
  (value, path) => [{ severity: 'error', path, value, message }];

/** A field whose valid values Calico lists (an enum or a boolean): anything else is an error that names them. */
interface Valid {
  values: readonly unknown[];
  /** What they are, e.g. "Calico's values, case-sensitive". */
  what: string;
}

/**
 * Accepted without a word for the values that say what svcbgp does anyway; `other` for the rest of `valid`; an error
 * for a value outside `valid`.
 */
function acceptOnly(accepted: readonly unknown[], other: FieldCheck, valid?: Valid): FieldCheck {
  return (value, path) => {
    if (accepted.includes(value)) return [];
    if (valid !== undefined && !valid.values.includes(value)) {
      const list = valid.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
      return [{ severity: 'error', path, value, message: `expected ${list} (${valid.what})` }];
    }
    return other(value, path);
  };
}

const BOOLEAN: Valid = { values: [true, false], what: 'a boolean' };
const calicoEnum = (...values: string[]): Valid => ({ values, what: "Calico's values, case-sensitive" });

const MESH = 'svcbgp runs no node-to-node mesh: each node peers only with the BGPPeers that select it, and the mesh carries no Service route to a router';
const NO_KERNEL = 'svcbgp programs no route into the node and installs none it receives';

/** BGPConfiguration fields svcbgp does not read like Calico, by name. */
export const BGPCONFIGURATION_CHECKS: Readonly<Record<string, FieldCheck>> = {
  logSeverityScreen: warn(
    "Calico's BIRD log level; svcbgp's is `svcbgp run --log-level` (SVCBGP_LOG_LEVEL) and gobgpd's its own -l flag. It changes no route; remove it",
  ),
  nodeToNodeMeshEnabled: acceptOnly([false], warn(`${MESH}; it changes no route. Set it to false (what svcbgp does) or remove it`), BOOLEAN),
  nodeMeshPassword: warn(`the password of node-to-node mesh sessions; ${MESH}. It changes no session and no route; remove it`),
  nodeMeshMaxRestartTime: warn(
    `the graceful-restart time of node-to-node mesh sessions; ${MESH}. It changes no session and no route; set a peer's maxRestartTime instead`,
  ),
  ignoredInterfaces: warn(
    "interfaces whose device routes Calico's BIRD leaves alone; svcbgp reads no interface and advertises only Service addresses, so there is nothing to leave out. It changes no route; remove it",
  ),
  localWorkloadPeeringIPV4: warn(
    'the address workloads on the node peer with (BGPPeer localWorkloadSelector), a peering svcbgp refuses; it changes no route. Remove it',
  ),
  localWorkloadPeeringIPV6: warn(
    'the address workloads on the node peer with (BGPPeer localWorkloadSelector), a peering svcbgp refuses; it changes no route. Remove it',
  ),
  programClusterRoutes: warn(
    `whether BIRD programs routes to workloads on other nodes; ${NO_KERNEL} (routes to pods are the CNI's). It changes no advertised route; remove it`,
  ),
  ipv4NormalRoutePriority: warn(
    `the kernel route metric Felix gives IPv4 workload routes, which BIRD compares with the routes it learns; ${NO_KERNEL}. It changes no advertised route; remove it`,
  ),
  ipv6NormalRoutePriority: warn(
    `the kernel route metric Felix gives IPv6 workload routes, which BIRD compares with the routes it learns; ${NO_KERNEL}. It changes no advertised route; remove it`,
  ),
};

const OWN_ROUTES =
  'the routes svcbgp adds have this node as next hop either way (next hop keep matters for routes passed on from another peer, which svcbgp does not add; docs/calico-fields.md)';

/** BGPPeer fields svcbgp does not read like Calico, by name. */
export const BGPPEER_CHECKS: Readonly<Record<string, FieldCheck>> = {
  peerSelector: refuse(
    "svcbgp makes no node-to-node peering (peerSelector selects Calico nodes to peer with); give the router's address in peerIP and choose the nodes with node or nodeSelector",
  ),
  localWorkloadSelector: refuse(
    'svcbgp does not peer with workloads on the node; it advertises Service addresses to the routers given by peerIP. Give peerIP, or remove this BGPPeer',
  ),
  keepOriginalNextHop: acceptOnly([false], warn(`${OWN_ROUTES}; it changes no route. Remove it`), BOOLEAN),
  nextHopMode: acceptOnly(['Auto', 'Self'], warn(`${OWN_ROUTES}; Keep changes no route. Remove it or set Self`), calicoEnum('Auto', 'Self', 'Keep')),
  reachableBy: warn(
    `the gateway of a static route Calico adds to the peer, so that a route learned over BGP cannot take the path to the peer away; ${NO_KERNEL}, so the node's own routing reaches the peer. It changes no advertised route; remove it`,
  ),
  filters: (value, path) => {
    if (value === null || (Array.isArray(value) && value.length === 0)) return [];
    return [
      {
        severity: 'error',
        path,
        value,
        message:
          'svcbgp does not implement BGPFilter, and an export filter changes which routes a peer receives; remove filters. ' +
          'To limit what is advertised narrow serviceClusterIPs, serviceExternalIPs or serviceLoadBalancerIPs; to tag routes use prefixAdvertisements',
      },
    ];
  },
  reversePeering: warn('it applies to node-to-node peerings made by peerSelector, which svcbgp refuses; it changes nothing here. Remove it'),
  // Calico Enterprise's.
  restartMode: acceptOnly(
    ['GracefulRestart'],
    refuse(
      "svcbgp's sessions use graceful restart (RFC 4724) only; long-lived graceful restart would keep a dead node's routes at the router for hours. Remove restartMode or set GracefulRestart",
    ),
    { values: ['GracefulRestart', 'LongLivedGracefulRestart'], what: "Calico Enterprise's values, case-sensitive" },
  ),
  birdGatewayMode: warn(`how BIRD resolves the next hops of the routes it receives; ${NO_KERNEL}. It changes no route; remove it`),
};

/** The problems of one spec field that has a check (none for one that has not: the caller's, honoured or unknown). */
export function calicoFieldProblems(field: string, value: unknown, checks: Readonly<Record<string, FieldCheck>>): FieldProblem[] {
  // Own properties only: a field named "toString" is no check.
  const check = Object.hasOwn(checks, field) ? checks[field] : undefined;
  // Unset: absent, null, or (as Calico's omitempty JSON reads a string) empty.
  if (check === undefined || value === undefined || value === null || value === '') return [];
  return check(value, `spec.${field}`);
}
