import { EXCLUDE_LABEL, LOAD_BALANCER_CLASS } from '../model/annotations.js';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { Family } from '../model/route.js';
import type { BgpConfig } from '../config/types.js';
import { toNodeInfo, type NodeInput } from '../config/node.js';
import { prefixAdvertisementsForNode } from '../config/peers.js';
import { cidrContains, hostPrefix, parseIp, type ParsedCidr, type ParsedIp } from '../config/net.js';
import { indexSlices, localEndpointState, type LocalEndpointState } from './endpoints.js';
import { escapeControls, quoteValue } from '../text/escape.js';
import { RouteTable, type Contribution, type TableContext } from './table.js';
import { readServiceAttributes, type RouteContribution, type ServiceAttributes } from './service-attributes.js';
import { serviceKey } from '../model/service-key.js';
import { creationTime, MAX_MALFORMED_ADDRESS, malformedService, serviceRef, serviceUid, strings } from './service-fields.js';
import { label, whyNoLocal, whyNoneCanServe } from './withheld-texts.js';
import { routeKey } from './diff.js';
import {
  CIDR_FIELD,
  type AddressKind,
  type DesiredRoutesResult,
  type RefusalCode,
  type RefusedAddress,
  type ServiceAddress,
  type ServiceRef,
  type RouteRule,
  type WithheldCode,
} from './types.js';
import { errorText } from '../text/error.js';

/**
 * A node with this label advertises nothing, whatever its value: Kubernetes' service controller tests the key's
 * presence (k8s.io/cloud-provider controllers/service/controller.go getNodeConditionPredicate); kubeadm sets it
 * empty, Karpenter its own value. Calico's ExcludeServiceAdvertisement reads the same label.
 */

const ROUTABLE_TYPES = new Set(['ClusterIP', 'NodePort', 'LoadBalancer']);

/**
 * The routes this node must advertise, each with the reasons it exists, and every Service address that is
 * refused (policy violation) or withheld on this node (no local endpoint / kind not configured).
 *
 * Rules (docs/design.md § Route semantics; from Calico's confd routes.go / client.go):
 * 1. Every configured CIDR of serviceClusterIPs / serviceExternalIPs / serviceLoadBalancerIPs is advertised by
 *    every node — except single-address (/32, /128) entries of serviceExternalIPs and serviceLoadBalancerIPs, which
 *    are advertised per Service (so that Local services stay local: perServiceEntry, Calico v3.30.0+), and every
 *    serviceLoadBalancerIPs entry under rule 8.
 * 2. externalTrafficPolicy: Local -> /32 or /128 for the Service's external IPs, load-balancer ingress IPs and
 *    (like Calico) its cluster IPs; internalTrafficPolicy: Local -> the same for its cluster IPs. Only on a node
 *    with a local endpoint of the address's family that is ready, or serving while terminating. We honour
 *    eTP Local whatever the Service type, like Calico (routes.go advertiseThisService checks no type): Kubernetes
 *    itself rejects eTP on a ClusterIP Service without externalIPs ("may only be set for externally-accessible
 *    services"), so that case only occurs in hand-written dumps. With no usable local endpoint the node simply
 *    does not advertise the host route (withheld); the aggregate still carries the address (as in Calico).
 * 3. A host route is only advertised inside a configured CIDR of its kind; an external or load-balancer IP
 *    outside every CIDR is refused, and so is a cluster IP outside every serviceClusterIPs CIDR when that list is
 *    not empty. (Calico checks external/LB IPs only; we also check cluster IPs so no Service can pull in a foreign prefix.)
 *    An external or load-balancer IP inside a serviceClusterIPs CIDR is refused too (it could shadow another
 *    Service's cluster IP; kube-router refuses it in its strict mode), unless allowAddressesInClusterIPRange.
 *    Load-balancer ingress IPs are skipped (withheld) when the Service's spec.loadBalancerClass names another
 *    implementation, or the ingress has ipMode: Proxy (the load balancer proxies; nodes do not accept it).
 * 4. Headless (clusterIP None) and ExternalName Services are never advertised. Dual-stack: every entry of
 *    clusterIPs, each in its own family; endpoints are matched by addressType and the kubernetes.io/service-name label.
 * 5. A prefix wanted several times is one route carrying all reasons.
 * 6. Communities: every prefixAdvertisements entry whose CIDR contains the route contributes its communities
 *    (Calico's BIRD template: `if (net ~ cidr) then bgp_community.add(...)` for each entry — all matches, not the
 *    longest). localPref (svcbgp extension) comes from the most specific matching entry that sets it.
 *    A node.<name> BGPConfiguration with prefixAdvertisements replaces the global list on that node.
 * 7. Per-Service attributes and weights (./service-attributes.ts): svcbgp.io/* annotations add communities, large
 *    communities and LOCAL_PREF to the Service's own routes within serviceAttributeLimits (a value outside is
 *    refused); svcbgp.io/advertise: "false" withholds them. With weightedECMP on, a Local-policy host route carries a
 *    link bandwidth proportional to its usable local endpoints (./weights.ts). Several Services' contributions to
 *    one prefix merge in mergeContributions.
 * 8. serviceLoadBalancerAggregation: Disabled (Calico 3.31; confd client.go onLoadBalancerIPsUpdate, routes.go
 *    advertiseThisService, and routes_test.go "Service Load Balancer Aggregation", read at v3.32.1): no
 *    serviceLoadBalancerIPs CIDR is advertised; each load-balancer IP of a Cluster-policy Service gets a /32 or /128
 *    from every node while the Service has an endpoint that can serve (rule 'per-service'); with none, no node
 *    advertises it (withheld 'no-ready-endpoint'): a failed Service is withdrawn, which is what Disabled is for
 *    (anycast failover). Local-policy Services keep rule 2, single-address entries rule 1's exception.
 *    What can serve: what kube-proxy sends Cluster-policy traffic to (KEP-1669, ./endpoints.ts usableInCluster): a
 *    ready endpoint of the address's family on any node, or when none is ready one serving while terminating (a
 *    rolling update drains). Calico counts any endpoint listed in a slice of one of the Service's families, ready or
 *    not, so it keeps advertising a Service whose Pods all fail their readiness probes, and advertises an IPv6
 *    address with IPv4 endpoints only; svcbgp does neither, since kube-proxy would drop that traffic.
 *    Calico also adds /32s of such a Service's cluster and external IPs (getAllRoutesForService) while still
 *    advertising their CIDRs; the router forwards those exactly as along the CIDRs, so svcbgp leaves them out.
 * Next hop: 0.0.0.0 for IPv4 (gobgpd uses the session's local address); for IPv6 the node's IPv6 InternalIP, else "::".
 * Deterministic: the output is sorted and does not depend on the order of the inputs.
 * A Service with broken data becomes a refusal; it never throws and never affects other Services. A malformed
 * Node or EndpointSlice is read as far as it makes sense (src/config/node.ts, ./endpoints.ts), never thrown on.
 * Names and values from the cluster are escaped where they are written into a text (src/text/escape.ts): a
 * newline in a Service name cannot forge a line in explain's output or an Event.
 */
export function desiredRoutes(
  config: BgpConfig,
  nodeInput: NodeInput,
  services: readonly V1Service[],
  endpointSlices: readonly V1EndpointSlice[],
): DesiredRoutesResult {
  const scope = routeScope(config, nodeInput);
  const table = new RouteTable(scope.context);
  table.add(CONFIG_OWNER, configContribution(scope));
  const slicesBySvc = indexSlices(endpointSlices);
  for (const svc of services) {
    const ref = serviceRef(svc);
    const owner = ownerKey(ref);
    table.add(owner, serviceContribution(scope, svc, slicesBySvc.get(owner) ?? []), ref);
  }
  return table.result();
}

/** The contributor of the configured aggregates (a name no Service key can take: those always contain a "/"). */
export const CONFIG_OWNER = '#config';

/** What every contribution on this node is computed from (besides the Service and its EndpointSlices). */
export interface RouteScope {
  config: BgpConfig;
  context: TableContext;
  cidrs: Record<AddressKind, ParsedCidr[]>;
}

export function routeScope(config: BgpConfig, nodeInput: NodeInput): RouteScope {
  const node = toNodeInfo(nodeInput);
  const v6NextHop =
    node.addresses?.map((a) => (a.type === 'InternalIP' ? parseIp(a.address) : undefined)).find((ip) => ip?.family === 'ipv6-unicast')?.text ?? '::';
  return {
    config,
    context: {
      nodeName: node.name,
      merge: { asNumber: config.global.asNumber, ...(config.global.weightedEcmp ? { weightedEcmp: config.global.weightedEcmp } : {}) },
      prefixAdvertisements: prefixAdvertisementsForNode(config, node.name),
      v6NextHop,
      excluded: Object.hasOwn(node.labels, EXCLUDE_LABEL),
    },
    cidrs: {
      'cluster-ip': config.global.serviceClusterIPs,
      'external-ip': config.global.serviceExternalIPs,
      'load-balancer-ip': config.global.serviceLoadBalancerIPs,
    },
  };
}

/** The configured CIDRs every node advertises (rule 1). */
export function configContribution(scope: RouteScope): Contribution {
  const b = new Collector(scope.config, scope.context.nodeName);
  const perService = aggregationDisabled(scope.config);
  for (const kind of Object.keys(scope.cidrs) as AddressKind[]) {
    for (const c of scope.cidrs[kind]) {
      if (perServiceEntry(kind, c) || (kind === 'load-balancer-ip' && perService)) continue;
      b.addRoute(c.cidr, c.family, 'aggregate', kind, c.cidr, undefined);
    }
  }
  return b.contribution();
}

/** The key of a Service's contribution and of its EndpointSlices (indexSlices): "namespace/name". */
export function ownerKey(ref: ServiceRef): string {
  return serviceKey(ref.namespace, ref.name);
}

/** What one Service asks of this node, from the Service and its EndpointSlices alone. Never throws. */
export function serviceContribution(scope: RouteScope, svc: V1Service, slices: readonly V1EndpointSlice[]): Contribution {
  const b = new Collector(scope.config, scope.context.nodeName, serviceUid(svc));
  const ref = serviceRef(svc);
  try {
    processService(b, scope.cidrs, svc, ref, slices, scope.context.nodeName);
  } catch (e) {
    const why = escapeControls(errorText(e)).slice(0, 200);
    b.refuse(ref, '', undefined, 'invalid-service', `Service data could not be read (${why}); its addresses are not advertised`);
  }
  return b.contribution();
}

/** Rule 8: load-balancer IPs per Service rather than as serviceLoadBalancerIPs aggregates. */
function aggregationDisabled(config: BgpConfig): boolean {
  return config.global.serviceLoadBalancerAggregation === 'Disabled';
}

function isSingleAddress(c: ParsedCidr): boolean {
  return c.length === c.bytes.length * 8;
}

/**
 * A single-address (/32, /128) entry of serviceExternalIPs or serviceLoadBalancerIPs is advertised per Service, not as
 * an aggregate: only while a Service uses the address, from every node for a Cluster policy and only from the nodes
 * with a local endpoint for a Local one. Calico does so for load-balancer entries, and for external ones since v3.30.0
 * (projectcalico/calico #9422: an aggregate /32 from every node sent a Local Service's traffic to nodes that drop it).
 * A single-address serviceClusterIPs entry stays an aggregate (cluster IPs are allocated from a range).
 */
function perServiceEntry(kind: AddressKind, c: ParsedCidr): boolean {
  return kind !== 'cluster-ip' && isSingleAddress(c);
}

function processService(
  b: Collector,
  cidrs: Record<AddressKind, ParsedCidr[]>,
  svc: V1Service,
  ref: ServiceRef,
  slices: readonly V1EndpointSlice[],
  nodeName: string,
): void {
  const malformed = malformedService(svc);
  if (malformed !== undefined) {
    b.refuse(ref, '', undefined, 'invalid-service', `malformed Service: ${malformed}; its addresses are not advertised`);
    return;
  }
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  if (type === 'ExternalName') return; // a DNS alias: nothing to route
  if (typeof type !== 'string' || !ROUTABLE_TYPES.has(type)) {
    b.refuse(ref, '', undefined, 'invalid-service', `unknown Service type ${quoteValue(type, 60)}; expected ClusterIP, NodePort or LoadBalancer`);
    return;
  }
  if (spec.clusterIP === 'None' || (Array.isArray(spec.clusterIPs) && spec.clusterIPs[0] === 'None')) return; // headless
  const annotated = readServiceAttributes(svc.metadata?.annotations, b.config.global.serviceAttributeLimits);
  if (annotated.advertise) for (const r of annotated.refused) b.refuse(ref, r.value, undefined, r.code, r.text, r.summary);
  const since = creationTime(svc);
  /** Whether any address of the Service can be a host route of its own (on this node or another): else annotations do nothing. */
  let ownRoutes = false;
  const optOut = (ip: ParsedIp, kind: AddressKind): void =>
    b.withhold(ref, ip.text, kind, 'advertise-disabled', 'the Service is annotated svcbgp.io/advertise: "false"; it makes no route of its own');

  const perService = aggregationDisabled(b.config);
  const etpLocal = spec.externalTrafficPolicy === 'Local';
  const itpLocal = spec.internalTrafficPolicy === 'Local';
  const wanted: { kind: AddressKind; raw: string; local: boolean; policy: string }[] = [];
  let clusterIPs = strings(spec.clusterIPs, 'spec.clusterIPs');
  if (clusterIPs.length === 0 && typeof spec.clusterIP === 'string' && spec.clusterIP !== '') clusterIPs = [spec.clusterIP];
  const cipPolicy = etpLocal ? 'externalTrafficPolicy: Local' : 'internalTrafficPolicy: Local';
  for (const raw of clusterIPs) wanted.push({ kind: 'cluster-ip', raw, local: etpLocal || itpLocal, policy: cipPolicy });
  for (const raw of strings(spec.externalIPs, 'spec.externalIPs'))
    wanted.push({ kind: 'external-ip', raw, local: etpLocal, policy: 'externalTrafficPolicy: Local' });
  const ingress = svc.status?.loadBalancer?.ingress;
  if (ingress !== undefined && ingress !== null && !Array.isArray(ingress)) throw new Error('status.loadBalancer.ingress is not a list');
  const lbClass: unknown = spec.loadBalancerClass;
  const otherClass = typeof lbClass === 'string' && lbClass !== '' && lbClass !== LOAD_BALANCER_CLASS ? lbClass : undefined;
  for (const ing of ingress ?? []) {
    if (typeof ing !== 'object' || ing === null) continue;
    if (ing.ip === undefined || ing.ip === null || ing.ip === '') continue; // hostname-only ingress (cloud LBs): nothing to route
    // The load balancer's own addresses are its implementation's to announce: another class, or ipMode Proxy (the
    // load balancer proxies to the nodes; kube-proxy does not accept traffic for the address: KEP-1860, 1.30+).
    if (otherClass !== undefined && typeof ing.ip === 'string') {
      b.withhold(
        ref,
        ing.ip,
        'load-balancer-ip',
        'other-load-balancer-class',
        `spec.loadBalancerClass ${quoteValue(otherClass, 60)} is another implementation's (svcbgp announces Services without a class or with ${LOAD_BALANCER_CLASS})`,
      );
      continue;
    }
    if ((ing as { ipMode?: unknown }).ipMode === 'Proxy' && typeof ing.ip === 'string') {
      b.withhold(
        ref,
        ing.ip,
        'load-balancer-ip',
        'ingress-proxied',
        'status.loadBalancer.ingress[].ipMode is Proxy: the load balancer proxies this address, and nodes do not accept its traffic (kube-proxy does not bind it)',
      );
      continue;
    }
    wanted.push({
      kind: 'load-balancer-ip',
      raw: typeof ing.ip === 'string' ? ing.ip : quoteValue(ing.ip, MAX_MALFORMED_ADDRESS),
      local: etpLocal,
      policy: 'externalTrafficPolicy: Local',
    });
  }

  const epState = new Map<Family, LocalEndpointState>();
  const stateFor = (f: Family): LocalEndpointState => {
    let s = epState.get(f);
    if (!s) {
      s = localEndpointState(slices, f, nodeName);
      epState.set(f, s);
    }
    return s;
  };

  for (const w of wanted) {
    const ip = parseIp(w.raw);
    if (!ip) {
      const raw = w.raw.length > MAX_MALFORMED_ADDRESS ? `${w.raw.slice(0, MAX_MALFORMED_ADDRESS - 3)}...` : w.raw;
      b.refuse(
        ref,
        raw,
        w.kind,
        'malformed-address',
        `${label(w.kind)} ${quoteValue(w.raw, MAX_MALFORMED_ADDRESS)} is not a valid IPv4 or IPv6 address; not advertised`,
        `${label(w.kind)} is not a valid IPv4 or IPv6 address`,
      );
      continue;
    }
    const configured = cidrs[w.kind];
    // Advertising cluster IPs is opt-in per family: with no serviceClusterIPs CIDR of this family (e.g. only an
    // IPv4 range on a dual-stack cluster) the cluster IP is withheld, not refused — no Event storm for every Service.
    if (w.kind === 'cluster-ip' && !configured.some((c) => c.family === ip.family)) {
      b.withhold(
        ref,
        ip.text,
        w.kind,
        'kind-not-configured',
        configured.length === 0
          ? `${CIDR_FIELD[w.kind]} is empty: cluster IPs are not advertised`
          : `${CIDR_FIELD[w.kind]} has no ${ip.family === 'ipv4-unicast' ? 'IPv4' : 'IPv6'} CIDR: these cluster IPs are not advertised`,
      );
      continue;
    }
    if (configured.length === 0) {
      b.refuse(
        ref,
        ip.text,
        w.kind,
        'outside-configured-cidrs',
        `${label(w.kind)} ${ip.text} is not advertised: ${CIDR_FIELD[w.kind]} is empty (add a CIDR that contains it to the BGPConfiguration "default")`,
        `${label(w.kind)}: ${CIDR_FIELD[w.kind]} is empty (add a CIDR that contains it to the BGPConfiguration "default")`,
      );
      continue;
    }
    const containing = configured.filter((c) => cidrContains(c, ip.bytes)).sort((a, b2) => b2.length - a.length);
    const best = containing[0];
    const clusterRange =
      w.kind === 'cluster-ip' || b.config.global.allowAddressesInClusterIPRange === true
        ? undefined
        : cidrs['cluster-ip'].find((c) => cidrContains(c, ip.bytes));
    if (best && clusterRange) {
      b.refuse(
        ref,
        ip.text,
        w.kind,
        'inside-cluster-ip-range',
        `${label(w.kind)} ${ip.text} lies inside the cluster-IP range ${clusterRange.cidr} (serviceClusterIPs): it could shadow another Service's cluster IP; not advertised (set allowAddressesInClusterIPRange: true in the BGPConfiguration "default" to accept it)`,
        `${label(w.kind)} inside the cluster-IP range ${clusterRange.cidr} (serviceClusterIPs)`,
      );
      continue;
    }
    if (!best) {
      const sameFamily = configured.filter((c) => c.family === ip.family).map((c) => c.cidr);
      const fam = ip.family === 'ipv4-unicast' ? 'IPv4' : 'IPv6';
      if (sameFamily.length > 0) {
        b.refuse(
          ref,
          ip.text,
          w.kind,
          'outside-configured-cidrs',
          `${label(w.kind)} ${ip.text} is outside every ${CIDR_FIELD[w.kind]} CIDR (${sameFamily.join(', ')}); not advertised`,
          `${label(w.kind)} outside every ${CIDR_FIELD[w.kind]} CIDR (${sameFamily.join(', ')})`,
        );
      } else {
        b.refuse(
          ref,
          ip.text,
          w.kind,
          'outside-configured-cidrs',
          `${label(w.kind)} ${ip.text} is not advertised: ${CIDR_FIELD[w.kind]} has no ${fam} CIDR`,
          `${label(w.kind)}: ${CIDR_FIELD[w.kind]} has no ${fam} CIDR`,
        );
      }
      continue;
    }
    const sa: ServiceAddress = { ...ref, address: ip.text };
    if (w.kind !== 'cluster-ip') b.use(ref.namespace, ip);
    if (w.local || perServiceEntry(w.kind, best) || (w.kind === 'load-balancer-ip' && perService)) ownRoutes = true;
    if (w.local) {
      const st = stateFor(ip.family);
      if (st.usable > 0 && !annotated.advertise) {
        optOut(ip, w.kind);
      } else if (st.usable > 0) {
        b.addRoute(
          hostPrefix(ip),
          ip.family,
          'local-endpoint',
          w.kind,
          best.cidr,
          sa,
          contribution('local-endpoint', ref, annotated.attributes, since, st.usable),
        );
      } else {
        b.withhold(ref, ip.text, w.kind, 'no-local-endpoint', `${w.policy} and ${whyNoLocal(st, ip, nodeName)}`);
      }
      continue;
    }
    if (perServiceEntry(w.kind, best)) {
      if (annotated.advertise)
        b.addRoute(
          hostPrefix(ip),
          ip.family,
          'single-address-cidr',
          w.kind,
          best.cidr,
          sa,
          contribution('single-address-cidr', ref, annotated.attributes, since),
        );
      else optOut(ip, w.kind);
    } else if (w.kind === 'load-balancer-ip' && perService) {
      const st = stateFor(ip.family);
      if (st.usableInCluster > 0 && !annotated.advertise) {
        optOut(ip, w.kind);
      } else if (st.usableInCluster > 0) {
        b.addRoute(hostPrefix(ip), ip.family, 'per-service', w.kind, best.cidr, sa, contribution('per-service', ref, annotated.attributes, since));
      } else {
        b.withhold(
          ref,
          ip.text,
          w.kind,
          'no-ready-endpoint',
          `serviceLoadBalancerAggregation is Disabled (no ${CIDR_FIELD[w.kind]} CIDR is advertised) and ${whyNoneCanServe(st, ip)}: no node advertises it`,
        );
      }
    } else {
      b.coverByAggregate(w.kind, best, sa);
    }
  }
  const a = annotated.attributes;
  if (annotated.advertise && !ownRoutes && (a.communities.length > 0 || a.largeCommunities.length > 0 || a.localPref !== undefined)) {
    b.refuse(
      ref,
      '',
      undefined,
      'attribute-not-applied',
      "its svcbgp.io annotations are not applied: they add attributes only to the Service's own host routes (externalTrafficPolicy: Local, single-address serviceExternalIPs and serviceLoadBalancerIPs entries, serviceLoadBalancerAggregation: Disabled), and the operator's aggregates carry all its addresses with the operator's attributes",
      "annotations not applied: the Service has no host route of its own (Cluster traffic policy: the operator's aggregates carry its addresses)",
    );
  }
}

function contribution(
  rule: RouteRule,
  service: ServiceRef,
  attributes: ServiceAttributes,
  since: string | undefined,
  localEndpoints?: number,
): RouteContribution {
  const hasAttributes = attributes.communities.length > 0 || attributes.largeCommunities.length > 0 || attributes.localPref !== undefined;
  return { rule, service, attributes, ...(hasAttributes && since !== undefined ? { since } : {}), ...(localEndpoints !== undefined ? { localEndpoints } : {}) };
}

/** metadata.creationTimestamp as RFC 3339 text (a Date from client-node's typed objects, a string from JSON). */
/** Collects one contributor's claims, refusals and withheld addresses (merged by RouteTable, ./table.ts). */
class Collector {
  private readonly out: Contribution;

  constructor(
    readonly config: BgpConfig,
    readonly nodeName: string,
    private readonly uid?: string,
  ) {
    this.out = { routes: [], coverage: [], refused: [], withheld: [], ...(uid !== undefined ? { uid } : {}) };
  }

  addRoute(prefix: string, family: Family, rule: RouteRule, kind: AddressKind, cidr: string, svc: ServiceAddress | undefined, c?: RouteContribution): void {
    this.out.routes.push({ prefix, family, rule, kind, cidr, ...(svc ? { service: svc } : {}), ...(c ? { contribution: c } : {}) });
  }

  /** The Service uses this address (an external or load-balancer IP inside a configured CIDR), routed here or not. */
  use(namespace: string, ip: ParsedIp): void {
    const key = routeKey({ family: ip.family, prefix: hostPrefix(ip) });
    if (this.out.uses) {
      if (!this.out.uses.keys.includes(key)) this.out.uses.keys.push(key);
    } else this.out.uses = { namespace, keys: [key] };
  }

  coverByAggregate(kind: AddressKind, cidr: ParsedCidr, svc: ServiceAddress): void {
    this.out.coverage.push({ kind, cidr: cidr.cidr, family: cidr.family, service: svc });
  }

  /** `summary`: the reason without the address (the same for every address refused alike); default `text`. */
  refuse(svc: ServiceRef, address: string, kind: AddressKind | undefined, code: RefusalCode, message: string, summary = message): void {
    const r: RefusedAddress = {
      namespace: svc.namespace,
      service: svc.name,
      ...(this.uid !== undefined ? { uid: this.uid } : {}),
      address,
      code,
      message,
      summary,
    };
    if (kind) r.kind = kind;
    this.out.refused.push(r);
  }

  withhold(svc: ServiceRef, address: string, kind: AddressKind, code: WithheldCode, message: string): void {
    this.out.withheld.push({ namespace: svc.namespace, service: svc.name, address, kind, code, message });
  }

  contribution(): Contribution {
    return this.out;
  }
}

export { serviceRef };
