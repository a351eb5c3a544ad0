import { cidrContains, parseIp } from './net.js';
import type { BgpConfig } from './types.js';
import type { NodeInfo } from './node.js';
import { appliesToNode, nodeListenAddresses, nodeSourceAddress } from './peers.js';

/**
 * Warnings that need the node: bindMode NodeIP or a BGPPeer's sourceAddress UseNodeIP on a node without an InternalIP
 * (of the peer's family); a service CIDR that contains one of this node's own addresses. Every node
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
          out.push(
            `${field} ${c.cidr} contains node ${node.name}'s ${a.type} ${ip.text}: every node advertises it, so the ToR may send traffic for this node's own address to another node`,
          );
        }
      }
    }
  }
  if (config.global.bindMode === 'NodeIP' && nodeListenAddresses(node).length === 0) {
    out.push(`bindMode NodeIP, but node ${node.name} has no InternalIP: gobgpd listens for BGP on every address`);
  }
  for (const p of config.peers) {
    if (p.sourceAddressNodeIP && appliesToNode(p, node) && nodeSourceAddress(node, p.address) === undefined) {
      out.push(
        `BGPPeer ${p.name}: sourceAddress UseNodeIP, but node ${node.name} has no ${p.address.includes(':') ? 'IPv6' : 'IPv4'} InternalIP: the kernel chooses the source address of the session with ${p.address}`,
      );
    }
  }
  return out;
}
