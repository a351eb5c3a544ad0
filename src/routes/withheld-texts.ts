import type { AddressKind } from '../model/path.js';
import type { ParsedIp } from '../config/net.js';
import { escapeControls } from '../text/escape.js';
import type { LocalEndpointState } from './endpoints.js';

/** The words of the route rules' reasons: address kinds, and why an address is withheld. */

export function label(kind: AddressKind): string {
  return kind === 'cluster-ip' ? 'cluster IP' : kind === 'external-ip' ? 'external IP' : 'load-balancer IP';
}

export function whyNoLocal(st: LocalEndpointState, ip: ParsedIp, rawNodeName: string): string {
  const fam = ip.family === 'ipv4-unicast' ? 'IPv4' : 'IPv6';
  const nodeName = escapeControls(rawNodeName);
  if (st.local > 0) return `its ${st.local} ${fam} endpoint(s) on node ${nodeName} are neither ready nor serving while terminating`;
  if (st.total > 0) return `no ${fam} endpoint on node ${nodeName} (endpoints are on: ${listNodes(st.nodes)})`;
  if (st.otherFamily > 0) return `it has no ${fam} endpoints at all (only endpoints of the other address family)`;
  return 'it has no endpoints at all (no ready Pods, or no EndpointSlice for it)';
}

/** Why no endpoint in the cluster can take a Cluster-policy Service's traffic for this address (rule 8). */
export function whyNoneCanServe(st: LocalEndpointState, ip: ParsedIp): string {
  const fam = ip.family === 'ipv4-unicast' ? 'IPv4' : 'IPv6';
  if (st.total > 0) return `none of its ${st.total} ${fam} endpoint(s) is ready or serving while terminating`;
  if (st.otherFamily > 0) return `it has no ${fam} endpoints at all (only endpoints of the other address family)`;
  return 'it has no endpoints at all (no ready Pods, or no EndpointSlice for it)';
}

/** Endpoint node names (from EndpointSlices: any text) as one escaped, bounded list. */
function listNodes(nodes: readonly string[]): string {
  if (nodes.length === 0) return 'unknown nodes';
  const shown = nodes.slice(0, 5).map(escapeControls).join(', ');
  return nodes.length > 5 ? `${shown} and ${nodes.length - 5} more` : shown;
}
