import { cidrContains, parseIp } from './net.js';
import type { BgpConfig } from './types.js';
import type { NodeInfo } from './node.js';

/**
 * Warnings that need the node: a service CIDR that contains one of this node's own addresses. Every node
 * advertises its service CIDRs, so the ToR would route traffic for the node's address (its BGP session, the
 * kubelet, SSH) to whichever node it picks by ECMP. Not an error (a /32 external IP equal to a node address is a
 * known, if odd, setup), but worth saying once. Pure.
 */
export function nodeAddressWarnings(config: BgpConfig, node: NodeInfo): string[] {
  const out: string[] = [];
  const g = config.global;
  const lists = [
    ['serviceClusterIPs', g.serviceClusterIPs],
    ['serviceExternalIPs', g.serviceExternalIPs],
    ['serviceLoadBalancerIPs', g.serviceLoadBalancerIPs],
  ] as const;
  for (const a of node.addresses ?? []) {
    const ip = parseIp(a.address);
    if (!ip) continue;
    for (const [field, cidrs] of lists) {
      for (const c of cidrs) {
        if (cidrContains(c, ip.bytes)) {
          out.push(`${field} ${c.cidr} contains node ${node.name}'s ${a.type} ${ip.text}: every node advertises it, so the ToR may send traffic for this node's own address to another node`);
        }
      }
    }
  }
  return out;
}
