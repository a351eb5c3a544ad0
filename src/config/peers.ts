import type { Peer, SpeakerConfig } from '../model/peer.js';
import { matchSelector } from './selector.js';
import { toNodeInfo, type NodeInfo, type NodeInput } from './node.js';
import { parseIp } from './net.js';
import { resolveTimers } from './timers.js';
import { DEFAULT_RESTART_TIME, type BgpConfig, type PeerDefinition, type PrefixAdvertisement, type SecretKeyRef } from './types.js';

/** A Peer for this node, with the name of the BGPPeer it came from and the password reference still unresolved. */
export interface NodePeer extends Peer {
  /** metadata.name of the BGPPeer document. */
  name: string;
  /** The agent reads this Secret key and fills in `password`. */
  passwordSecretRef?: SecretKeyRef;
}

export function appliesToNode(p: PeerDefinition, node: { name: string; labels: Readonly<Record<string, string>> }): boolean {
  if (p.node !== undefined) return p.node === node.name;
  if (p.selector !== undefined) return matchSelector(p.selector, node.labels);
  return true; // neither node nor nodeSelector: a global peer
}

/**
 * The peers this node must have. A BGPPeer with neither node nor nodeSelector is global.
 * Like Calico's confd (client.go updatePeersV1), global peers are taken first and a later peer to the same address
 * is skipped; among node-specific ones the first by name wins. Unlike Calico (BIRD can run two sessions to one
 * address on different ports) the port does not make a second peer: gobgpd keys neighbors by address alone.
 * A peer at one of the node's own addresses is skipped (Calico does the same). Result sorted by address.
 */
export function peersForNode(config: BgpConfig, nodeInput: NodeInput): NodePeer[] {
  const node = toNodeInfo(nodeInput);
  const chosen = new Map<string, NodePeer>();
  const isGlobal = (p: PeerDefinition): boolean => p.node === undefined && p.selector === undefined;
  const ordered = [...config.peers.filter(isGlobal), ...config.peers.filter((p) => !isGlobal(p))];
  // Like Calico's BIRD template ("Skipping ourselves"): never peer with one of this node's own addresses.
  const own = new Set((node.addresses ?? []).map((a) => a.address));
  for (const def of ordered) {
    if (!appliesToNode(def, node) || own.has(def.address)) continue;
    if (chosen.has(def.address)) continue;
    chosen.set(def.address, toPeer(def, node));
  }
  return [...chosen.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

function toPeer(def: PeerDefinition, node: NodeInfo): NodePeer {
  const peer: NodePeer = {
    name: def.name,
    address: def.address,
    asn: def.asNumber,
    gracefulRestart: { enabled: true, restartTime: def.maxRestartTime ?? DEFAULT_RESTART_TIME },
  };
  if (def.port !== undefined) peer.port = def.port;
  if (def.localAsNumber !== undefined) peer.localAsn = def.localAsNumber;
  if (def.sourceAddressNodeIP) {
    const own = nodeSourceAddress(node, def.address);
    if (own !== undefined) peer.localAddress = own;
  }
  if (def.allowedLocalAsNumbers !== undefined) peer.allowOwnAsn = def.allowedLocalAsNumbers;
  // BIRD's GTSM for "ttl security on; multihop N": send with TTL 255, accept TTL >= 256 - N (bgp-peer.ts says where from).
  if (def.ttlSecurityHops !== undefined) peer.ttlSecurityMinTtl = 256 - def.ttlSecurityHops;
  // Always explicit: svcbgp's defaults (3 s / 9 s), not gobgpd's 90 s (docs/design.md § BGP and BFD timers).
  const timers = resolveTimers(def.keepaliveTime, def.holdTime);
  peer.keepaliveTime = timers.keepaliveTime;
  peer.holdTime = timers.holdTime;
  if (def.bfd) peer.bfd = { ...def.bfd };
  if (def.passwordSecretRef) peer.passwordSecretRef = { ...def.passwordSecretRef };
  return peer;
}

/**
 * sourceAddress UseNodeIP: Calico's BIRD takes the node's IPv4 (or IPv6) address of its Calico Node resource
 * (confd bgp_processor.go, `source address`); svcbgp's node address is its first InternalIP of the peer's family, as
 * for the router-id and the IPv6 next hop. Undefined when the node has none (node-checks.ts warns).
 */
export function nodeSourceAddress(node: NodeInfo, peerAddress: string): string | undefined {
  const family = parseIp(peerAddress)?.family;
  return (node.addresses ?? [])
    .filter((a) => a.type === 'InternalIP')
    .map((a) => parseIp(a.address))
    .find((ip) => ip !== undefined && ip.family === family)?.text;
}

/** The listen port for this node: BGPConfiguration node.<name> overrides default. */
export function listenPortForNode(config: BgpConfig, nodeName: string): number {
  return config.nodeOverrides.find((o) => o.node === nodeName)?.listenPort ?? config.global.listenPort;
}

/** prefixAdvertisements for this node: a node.<name> document that sets them replaces the global list entirely. */
export function prefixAdvertisementsForNode(config: BgpConfig, nodeName: string): PrefixAdvertisement[] {
  return config.nodeOverrides.find((o) => o.node === nodeName)?.prefixAdvertisements ?? config.global.prefixAdvertisements;
}

/** The speaker settings for this node (router-id comes from the node, not from the configuration). */
export function speakerConfigForNode(config: BgpConfig, node: NodeInput, routerId: string): SpeakerConfig {
  const info = toNodeInfo(node);
  const sc: SpeakerConfig = {
    asn: config.global.asNumber,
    routerId,
    listenPort: listenPortForNode(config, info.name),
    peers: peersForNode(config, info),
  };
  const listen = config.global.bindMode === 'NodeIP' ? nodeListenAddresses(info) : [];
  if (listen.length > 0) sc.listenAddresses = listen;
  return sc;
}

/**
 * bindMode NodeIP: Calico's BIRD listens on the node's IPv4 address (bird.cfg) and its IPv6 address (bird6.cfg),
 * `listen bgp address <node IP>` (confd bgp_processor.go); svcbgp's node address is its first InternalIP of each family.
 * None (a node without InternalIP: every address, and node-checks.ts warns).
 */
export function nodeListenAddresses(node: NodeInfo): string[] {
  const out: string[] = [];
  for (const family of ['ipv4-unicast', 'ipv6-unicast'] as const) {
    const ip = (node.addresses ?? [])
      .filter((a) => a.type === 'InternalIP')
      .map((a) => parseIp(a.address))
      .find((x) => x?.family === family);
    if (ip) out.push(ip.text);
  }
  return out;
}
