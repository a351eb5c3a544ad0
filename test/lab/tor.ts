/** What the lab needs from a ToR implementation (BIRD 2 or FRR). */
export type RouterKind = 'bird' | 'frr';

export interface TorNeighbor {
  /** Node name, e.g. "node-1". */
  name: string;
  /** Neighbor address on the LAN, e.g. "192.168.1.10". */
  address: string;
}

export interface TorSettings {
  /** The ToR namespace. */
  ns: string;
  /** Directory for the router's config, sockets, pid files and logs. */
  dir: string;
  asn: number;
  routerId: string;
  neighbors: TorNeighbor[];
  /**
   * Reflect routes learned from one node to the others (default false). The ToR is a route reflector
   * (`rr client`, as asked) but by default exports nothing to the nodes, so each node's `gobgp global rib`
   * shows exactly the routes that node originates: what the agent's tests assert.
   */
  reflectToNodes?: boolean;
  /** Accept and install IPv6 unicast routes (MP-BGP over the IPv4 session) too (default true). */
  ipv6?: boolean;
  /** BFD on every node session (default off); see TorBfd. */
  bfd?: TorBfd;
  /**
   * GTSM (RFC 5082) on every node session, the nodes directly connected (default off): packets leave with TTL 255
   * and the router drops received ones below 255. The nodes' BGPPeer needs ttlSecurity: 1 (else gobgpd sends TTL 64).
   */
  ttlSecurity?: boolean;
  /**
   * The ToR never connects, it waits for the nodes to (default off). With GTSM this makes the nodes' own packets
   * decide: gobgpd's listener sends with TTL 255 whatever the peer's settings (pkg/server/server.go newTCPListener,
   * "in case the neighbor has TTL Security settings"), so a session the ToR opens says nothing about the node's TTL.
   */
  passive?: boolean;
}

/**
 * BFD on the ToR's node sessions (300 ms x 3 both ways: svcbgp's default). `graceful` picks each router's way of
 * keeping a node's routes when BFD fails during a graceful restart: BIRD `bfd graceful` (a BFD failure starts a
 * graceful restart instead of a hard down), FRR `neighbor X bfd check-control-plane-failure` (a BFD down is ignored
 * while the peer restarts, when the peer's BFD says it shares fate with its control plane: C bit clear).
 */
export interface TorBfd {
  graceful?: boolean;
}

/** One BGP session as the ToR sees it. */
export interface BgpSession {
  /** Neighbor address. */
  peer: string;
  /** The router's own name for it (BIRD protocol name, FRR neighbor address). */
  name: string;
  /** The router's own word: "Established", "Active", "Connect", ... */
  state: string;
  established: boolean;
}

export interface TorRouter {
  readonly kind: RouterKind;
  /** Write the config, start the daemon(s) in the ToR namespace, wait until they answer their control socket. */
  start(): Promise<void>;
  /** Parsed session states. */
  sessions(): Promise<BgpSession[]>;
  /** The router's own text for its sessions (`birdc show protocols` / `vtysh show bgp summary`). */
  showSessions(): Promise<string>;
  /** The router's own text for its BGP table (`birdc show route` / `vtysh show ip bgp`). */
  showRoutes(): Promise<string>;
  /** Pids of the router's daemons (for memory accounting). */
  pids(): number[];
  /** Commands an operator runs (from the root namespace) to look at this router. */
  operatorCommands(): string[];
}
