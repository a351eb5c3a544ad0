import type { V1EndpointSlice } from '@kubernetes/client-node';
import type { Family } from '../model/route.js';
import { parseIp } from '../config/net.js';
import { sliceServiceKey } from '../model/service-key.js';

export { SERVICE_NAME_LABEL } from '../model/service-key.js';

export interface LocalEndpointState {
  /** Endpoints of this family anywhere in the cluster, each address counted once. */
  total: number;
  /** Endpoints of this family on this node, each address counted once. */
  local: number;
  /**
   * Local endpoints kube-proxy sends traffic to: the ready ones, or when none is ready the ones serving while
   * terminating. More than 0 iff a local endpoint can take traffic.
   */
  usable: number;
  /**
   * Endpoints anywhere in the cluster kube-proxy sends traffic to under a Cluster policy: the ready ones, or when none
   * is ready the ones serving while terminating (KEP-1669: "all endpoints terminating and traffic policy is Cluster").
   */
  usableInCluster: number;
  /** Nodes that hold endpoints of this family (sorted), for the operator's "where are they then?". */
  nodes: string[];
  /** Endpoints of the OTHER family (to explain a family mismatch). */
  otherFamily: number;
}

/**
 * Can this endpoint take traffic for a Local-policy Service?
 * EndpointSlice conditions (discovery.k8s.io/v1): a nil `ready` or `serving` means "unknown, treat as true",
 * a nil `terminating` means "not terminating". Like kube-proxy (ProxyTerminatingEndpoints, GA since 1.28) we use
 * ready endpoints, and a terminating endpoint that is still serving, so a rolling update drains rather than
 * black-holes: the route stays while the old Pod serves its last connections.
 */
export function canServe(conditions: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null } | undefined | null): boolean {
  const ready = conditions?.ready !== false;
  const serving = conditions?.serving !== false;
  const terminating = conditions?.terminating === true;
  if (terminating) return serving;
  return ready;
}

/**
 * Indexes slices by Service (namespace/name, from the kubernetes.io/service-name label), skipping
 * malformed ones rather than failing: one broken slice must not break the other Services.
 */
export function indexSlices(
  slices: readonly V1EndpointSlice[],
  keyOf: (s: V1EndpointSlice) => string | undefined = sliceServiceKey,
): Map<string, V1EndpointSlice[]> {
  const out = new Map<string, V1EndpointSlice[]>();
  for (const s of slices) {
    const key = keyOf(s);
    if (key === undefined) continue;
    const list = out.get(key);
    if (list) list.push(s);
    else out.set(key, [s]);
  }
  return out;
}

/** What kube-proxy makes of an endpoint for a Local policy: ready, serving while terminating, or neither. */
type EndpointCondition = 'ready' | 'serving-terminating' | 'none';
const RANK: Record<EndpointCondition, number> = { none: 0, 'serving-terminating': 1, ready: 2 };

/**
 * The endpoint's condition. Conditions that are not a mapping (a hand-written dump) say nothing trustworthy:
 * neither. Otherwise canServe decides whether it can take traffic, and kube-proxy's order (its IsReady first)
 * whether it counts as ready or as serving while terminating.
 */
function endpointCondition(conditions: unknown): EndpointCondition {
  if (conditions !== undefined && conditions !== null && (typeof conditions !== 'object' || Array.isArray(conditions))) return 'none';
  const c = conditions as Parameters<typeof canServe>[0];
  if (!canServe(c)) return 'none';
  return c?.ready !== false ? 'ready' : 'serving-terminating';
}

/**
 * The key an endpoint is counted under: its first address in canonical form, so an endpoint listed in two
 * EndpointSlices of the Service (or twice in one) counts once, as kube-proxy keys them by address
 * (pkg/proxy/endpointslicecache.go addEndpoints). An endpoint without a readable address is its own entry.
 */
function endpointKey(e: object): unknown {
  const addresses: unknown = (e as { addresses?: unknown }).addresses;
  const ip = Array.isArray(addresses) ? parseIp(addresses[0]) : undefined;
  return ip ? ip.text : e;
}

/**
 * The Service's endpoints of one family, each counted once, and those on this node.
 *
 * `usable` counts what kube-proxy sends this node's traffic to under a Local policy (kube-proxy's
 * pkg/proxy/topology.go CategorizeEndpoints, KEP-1669): the ready local endpoints, and only when none is ready
 * the serving-but-terminating ones. A route exists iff either kind exists; the count weighs it. `usableInCluster`
 * is the same over every node: what a Cluster policy sends traffic to.
 */
export function localEndpointState(slices: readonly V1EndpointSlice[], family: Family, nodeName: string): LocalEndpointState {
  const wanted = family === 'ipv4-unicast' ? 'IPv4' : 'IPv6';
  const state: LocalEndpointState = { total: 0, local: 0, usable: 0, usableInCluster: 0, nodes: [], otherFamily: 0 };
  const nodes = new Set<string>();
  const all = new Map<unknown, EndpointCondition>();
  const local = new Map<unknown, EndpointCondition>();
  // Duplicates that disagree: the best condition wins (ready, then serving while terminating).
  const keep = (m: Map<unknown, EndpointCondition>, key: unknown, condition: EndpointCondition): void => {
    const seen = m.get(key);
    if (seen === undefined || RANK[condition] > RANK[seen]) m.set(key, condition);
  };
  for (const s of slices) {
    const endpoints = Array.isArray(s.endpoints) ? s.endpoints : [];
    if (s.addressType !== wanted) {
      // FQDN slices never carry node-local endpoints for routing purposes.
      if (s.addressType === 'IPv4' || s.addressType === 'IPv6') state.otherFamily += endpoints.length;
      continue;
    }
    for (const e of endpoints) {
      if (typeof e !== 'object' || e === null) continue;
      const key = endpointKey(e);
      const condition = endpointCondition(e.conditions);
      keep(all, key, condition);
      if (typeof e.nodeName === 'string') nodes.add(e.nodeName);
      if (e.nodeName === nodeName) keep(local, key, condition);
    }
  }
  state.total = all.size;
  state.local = local.size;
  state.usable = usableOf(local);
  state.usableInCluster = usableOf(all);
  state.nodes = [...nodes].sort();
  return state;
}

/** The endpoints kube-proxy uses of a set: the ready ones, or when none is ready the serving-but-terminating ones. */
function usableOf(conditions: ReadonlyMap<unknown, EndpointCondition>): number {
  const counts = { ready: 0, 'serving-terminating': 0, none: 0 };
  for (const c of conditions.values()) counts[c]++;
  return counts.ready > 0 ? counts.ready : counts['serving-terminating'];
}

/**
 * What is wrong with an EndpointSlice's shape, or undefined. Such a slice (or endpoint) is skipped by
 * indexSlices / localEndpointState; explain names it so the operator knows why an endpoint does not count.
 */
export function malformedSlice(s: unknown): string | undefined {
  const isMap = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(s)) return 'not an object';
  const o = s as Record<string, unknown>;
  if (o['metadata'] !== undefined && !isMap(o['metadata'])) return 'metadata is not a mapping';
  const labels = (o['metadata'] as Record<string, unknown> | undefined)?.['labels'];
  if (labels !== undefined && labels !== null && !isMap(labels)) return 'metadata.labels is not a mapping';
  const eps = o['endpoints'];
  if (eps !== undefined && eps !== null && !Array.isArray(eps)) return 'endpoints is not a list';
  for (const [i, e] of (Array.isArray(eps) ? eps : []).entries()) {
    if (!isMap(e)) return `endpoints[${i}] is not a mapping`;
    const c = (e as Record<string, unknown>)['conditions'];
    if (c !== undefined && c !== null && !isMap(c)) return `endpoints[${i}].conditions is not a mapping`;
  }
  return undefined;
}
