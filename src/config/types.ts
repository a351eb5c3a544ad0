import type { ParsedCidr } from './net.js';
import type { Selector } from './selector.js';
import type { BfdSettings } from '../model/peer.js';

/** The API versions whose BGPPeer / BGPConfiguration documents we accept (same spec field names). */
export const CALICO_API_VERSION = 'projectcalico.org/v3';
export const SVCBGP_API_VERSION = 'svcbgp.io/v1alpha1';
export const ACCEPTED_API_VERSIONS = [CALICO_API_VERSION, SVCBGP_API_VERSION] as const;

export const DEFAULT_AS_NUMBER = 64512;
export const DEFAULT_LISTEN_PORT = 179;
/** Graceful-restart time (s) when a peer gives no maxRestartTime: BIRD's and Calico's default. */
export const DEFAULT_RESTART_TIME = 120;
/** The seed's top-of-rack router, used when the configuration holds no BGPPeer at all. */
export const DEFAULT_PEER_ADDRESS = '192.168.1.1';
export const DEFAULT_PEER_NAME = 'default-tor';

/** Where a message or a setting comes from: document number (1-based) in the input, List item, kind and name. */
export interface DocRef {
  index: number;
  /** 1-based position inside a `kind: List` / `BGPPeerList` document. */
  item?: number;
  kind?: string;
  name?: string;
}

export interface ConfigMessage {
  doc: DocRef;
  /** Field path inside the document, e.g. "spec.serviceClusterIPs[0].cidr". Empty for whole-document problems. */
  path: string;
  /** The offending value, rendered (JSON, truncated). */
  value?: string;
  /** What is wrong and what is expected. */
  message: string;
  /** The whole line an operator reads: where, field, value, message. */
  text: string;
}

export interface PrefixAdvertisement {
  cidr: ParsedCidr;
  /** Standard communities "aa:nn" after resolving names. */
  communities: string[];
  /** Large communities "aa:nn:mm" after resolving names. */
  largeCommunities: string[];
  /** svcbgp extension (not a Calico field): LOCAL_PREF for matching routes. */
  localPref?: number;
}

/** One part of an allow-list entry: a single value or an inclusive range. */
export interface ValueRange {
  min: number;
  max: number;
}

/**
 * svcbgp extension: what Service annotations may add to the routes of their Service (svcbgp.io/communities,
 * svcbgp.io/large-communities, svcbgp.io/local-pref). Absent (the default): nothing may be added.
 */
export interface ServiceAttributeLimits {
  /** Each entry: the allowed range of each part ("64512:100" -> [{64512,64512},{100,100}]), and its text as written. */
  communities: { parts: ValueRange[]; text: string }[];
  largeCommunities: { parts: ValueRange[]; text: string }[];
  /** Allowed LOCAL_PREF values; undefined: none. */
  localPref?: ValueRange;
  /** `allowWellKnownCommunities: true`: the reserved ranges 0:* and 65535:* (RFC 1997) may match too. */
  allowWellKnownCommunities: boolean;
  /** The lists above as indexes (src/config/allow-list.ts): a lookup costs O(log n), not one check per entry. */
  communityIndex: CommunityIndex;
  largeCommunityIndex: CommunityIndex;
}

/** Membership in an allow-list of community ranges (src/config/allow-list.ts RangeIndex). */
export interface CommunityIndex {
  has(parts: readonly number[]): boolean;
}

/**
 * svcbgp extension: weighted ECMP. Host routes that exist because of a Local traffic policy carry the
 * link-bandwidth extended community, proportional to this node's usable local endpoints (src/routes/weights.ts).
 */
export interface WeightedEcmpSettings {
  /** The link bandwidth every aggregate carries, in Mbit/s; undefined: aggregates carry none. */
  aggregateMbps?: number;
}

/** The cluster-wide settings: BGPConfiguration "default", or the defaults. */
export interface GlobalBgpSettings {
  asNumber: number;
  listenPort: number;
  serviceClusterIPs: ParsedCidr[];
  serviceExternalIPs: ParsedCidr[];
  serviceLoadBalancerIPs: ParsedCidr[];
  prefixAdvertisements: PrefixAdvertisement[];
  /**
   * Calico's serviceLoadBalancerAggregation (3.31): Disabled advertises no serviceLoadBalancerIPs CIDR, and a host route
   * per load-balancer IP of a Service instead (src/routes/desired.ts rule 8). Undefined: Enabled, Calico's default.
   */
  serviceLoadBalancerAggregation?: 'Enabled' | 'Disabled';
  /**
   * Calico's bindMode: NodeIP makes gobgpd listen for BGP on the node's InternalIPs only (src/config/peers.ts
   * speakerConfigForNode). Undefined or None: every address.
   */
  bindMode?: 'None' | 'NodeIP';
  /** svcbgp extension `weightedECMP`; undefined: off (plain ECMP). */
  weightedEcmp?: WeightedEcmpSettings;
  /** svcbgp extension `serviceAttributeLimits`; undefined: Service annotations may add no attribute. */
  serviceAttributeLimits?: ServiceAttributeLimits;
  /**
   * svcbgp extension: accept external and load-balancer addresses inside a serviceClusterIPs CIDR (refused by
   * default: such an address can shadow another Service's cluster IP).
   */
  allowAddressesInClusterIPRange?: boolean;
  /** The document these came from; undefined = defaults. */
  source?: DocRef;
}

/** BGPConfiguration "node.<nodename>": Calico honours only listenPort and prefixAdvertisements there. */
export interface NodeBgpOverride {
  node: string;
  listenPort?: number;
  /** When present, replaces the global prefixAdvertisements on this node (Calico's template does the same). */
  prefixAdvertisements?: PrefixAdvertisement[];
  source: DocRef;
}

export interface SecretKeyRef {
  name: string;
  key: string;
}

export interface PeerDefinition {
  /** metadata.name of the BGPPeer. */
  name: string;
  /** Canonical IP address. */
  address: string;
  /** Only when peerIP carried one ("ip:port", "[v6]:port"). */
  port?: number;
  asNumber: number;
  /** spec.localASNumber (Calico 3.31): this session's local AS instead of the global asNumber. */
  localAsNumber?: number;
  /** spec.ttlSecurity: GTSM with the peer this many hops away, 1..255 (0 or absent: off). */
  ttlSecurityHops?: number;
  /** spec.numAllowedLocalASNumbers: received routes may carry the local AS this many times, 1..255. */
  allowedLocalAsNumbers?: number;
  /**
   * spec.sourceAddress UseNodeIP: the session's source address is this node's InternalIP of the peer's family
   * (src/config/peers.ts). None or absent: the kernel chooses.
   */
  sourceAddressNodeIP?: boolean;
  /** spec.node: only this node peers. */
  node?: string;
  /** spec.nodeSelector as written, and parsed. */
  nodeSelector?: string;
  selector?: Selector;
  /** Resolved later by the agent (Secret in the agent's namespace); never logged. */
  passwordSecretRef?: SecretKeyRef;
  /** Seconds. */
  keepaliveTime?: number;
  /** Seconds (svcbgp extension: Calico's BGPPeer has no hold time field). */
  holdTime?: number;
  /** failureDetectionMode: BFDIfDirectlyConnected, with the `bfd` block's timers (svcbgp extension) or svcbgp's. */
  bfd?: BfdSettings;
  /** Seconds; graceful-restart time advertised to the peer. */
  maxRestartTime?: number;
  source?: DocRef;
}

// --- load-balancer address pools (read by ./ip-pools.ts) ----------------------------------------------------------

export type PoolAssignmentMode = 'Automatic' | 'Manual';
export type AssignIPs = 'AllServices' | 'RequestedServicesOnly';

export interface LoadBalancerPool {
  /** metadata.name: unique, and the pool order (src/alloc/pool-space.ts). */
  name: string;
  cidr: ParsedCidr;
  assignmentMode: PoolAssignmentMode;
  /** No new address is handed out; addresses already held stay. */
  disabled: boolean;
  source: DocRef;
}

export interface AllocatorSettings {
  /** AllServices (Calico's default): every Service of ours; RequestedServicesOnly: only those that ask (src/alloc/request.ts). */
  assignIPs: AssignIPs;
  /** The KubeControllersConfiguration it came from; undefined: the default. */
  source?: DocRef;
}

export const DEFAULT_ALLOCATOR_SETTINGS: AllocatorSettings = { assignIPs: 'AllServices' };

/** A load-balancer pool that was read but is not used, and why (the same text is a warning). */
export interface UnusedPool {
  name: string;
  cidr: string;
  reason: 'outside-service-load-balancer-ips' | 'inside-service-cluster-ips';
  text: string;
}

/** The load-balancer pools and settings in force (./ip-pools.ts); absent when the input holds no such document. */
export interface AllocationConfig {
  pools: LoadBalancerPool[];
  unused: UnusedPool[];
  settings: AllocatorSettings;
}

export interface BgpConfig {
  global: GlobalBgpSettings;
  /** Sorted by node name. */
  nodeOverrides: NodeBgpOverride[];
  /** Sorted by name. */
  peers: PeerDefinition[];
  /** Which parts are defaults because the input held no such document. */
  defaulted: { global: boolean; peers: boolean };
  /** IPPool / KubeControllersConfiguration documents, when the input holds any: what the allocator hands out. */
  allocation?: AllocationConfig;
}

export type ParseResult = { ok: true; config: BgpConfig; warnings: ConfigMessage[] } | { ok: false; errors: ConfigMessage[]; warnings: ConfigMessage[] };
