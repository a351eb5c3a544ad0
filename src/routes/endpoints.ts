import type { V1EndpointSlice } from '@kubernetes/client-node';
import type { Family } from '../model/route.js';

/** The label EndpointSlice controllers put on every slice of a Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface LocalEndpointState {
  /** Endpoints of this family anywhere in the cluster. */
  total: number;
  /** Endpoints of this family on this node. */
  local: number;
  /** Local endpoints that can take traffic: ready, or serving while terminating. */
  usable: number;
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
export function indexSlices(slices: readonly V1EndpointSlice[]): Map<string, V1EndpointSlice[]> {
  const out = new Map<string, V1EndpointSlice[]>();
  for (const s of slices) {
    if (typeof s !== 'object' || s === null) continue;
    const ns = s.metadata?.namespace ?? 'default';
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (typeof svc !== 'string' || svc === '') continue;
    const key = `${ns}/${svc}`;
    const list = out.get(key);
    if (list) list.push(s);
    else out.set(key, [s]);
  }
  return out;
}

export function localEndpointState(slices: readonly V1EndpointSlice[], family: Family, nodeName: string): LocalEndpointState {
  const wanted = family === 'ipv4-unicast' ? 'IPv4' : 'IPv6';
  const state: LocalEndpointState = { total: 0, local: 0, usable: 0, nodes: [], otherFamily: 0 };
  const nodes = new Set<string>();
  for (const s of slices) {
    const endpoints = Array.isArray(s.endpoints) ? s.endpoints : [];
    if (s.addressType !== wanted) {
      // FQDN slices never carry node-local endpoints for routing purposes.
      if (s.addressType === 'IPv4' || s.addressType === 'IPv6') state.otherFamily += endpoints.length;
      continue;
    }
    for (const e of endpoints) {
      if (typeof e !== 'object' || e === null) continue;
      state.total++;
      if (typeof e.nodeName === 'string') nodes.add(e.nodeName);
      if (e.nodeName !== nodeName) continue;
      state.local++;
      if (canServe(e.conditions)) state.usable++;
    }
  }
  state.nodes = [...nodes].sort();
  return state;
}
