/** The internal model of a BGP neighbor as svcbgp configures it on gobgpd. */
export interface GracefulRestart {
  enabled: boolean;
  /** Restart time advertised to the peer, seconds (default 120). */
  restartTime: number;
  /**
   * Selection deferral time, seconds: how long gobgpd, when it (re)starts a session with `local_restarting`, holds
   * its UPDATEs waiting for the peer's End-of-RIB (default: see src/gobgp/peer-defaults.ts DEFAULT_DEFERRAL_TIME,
   * never gobgpd's own 360 s). Our paths are all in gobgpd's RIB before the peer is added, so the wait protects
   * nothing of ours; it only has to be shorter than the time the ToR keeps our stale routes.
   */
  deferralTime?: number;
}

export interface Peer {
  /** Neighbor address, IPv4 or IPv6, no port. */
  address: string;
  /** Peer AS number. */
  asn: number;
  /** Remote TCP port (default 179). */
  port?: number;
  /**
   * Local address of the BGP session (gobgpd Transport.local_address); undefined = the kernel picks the source.
   * Needed when a node has several addresses and the peer expects one of them.
   */
  localAddress?: string;
  /** TCP MD5 password. Never logged. */
  password?: string;
  keepaliveTime?: number;
  holdTime?: number;
  /** eBGP multihop TTL; undefined = disabled. */
  ebgpMultihopTtl?: number;
  gracefulRestart: GracefulRestart;
  /** Address families negotiated with graceful restart (default both unicast families). */
  families?: ('ipv4-unicast' | 'ipv6-unicast')[];
}

export interface SpeakerConfig {
  /** Local AS (default 64512). */
  asn: number;
  /** BGP router-id, an IPv4 address (default: the node's IPv4 address). */
  routerId: string;
  /** BGP listen port (default 179; -1 = do not listen). */
  listenPort: number;
  /** Addresses gobgpd listens on for BGP (default: all). */
  listenAddresses?: string[];
  peers: Peer[];
}
