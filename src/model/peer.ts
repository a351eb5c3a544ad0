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

/** BFD (RFC 5880/5881) timers of one session. Detection time = the peer's multiplier x the agreed receive interval. */
export interface BfdSettings {
  /** Desired minimum transmit interval, ms. */
  minimumSendIntervalMs: number;
  /** Required minimum receive interval, ms. */
  minimumRecvIntervalMs: number;
  /** Detection multiplier: packets missed before the session is declared down. */
  multiplier: number;
}

/** "off" or "300ms/300ms x3" (send / receive interval, multiplier): for logs, plan changes and explain. */
export function bfdText(bfd: BfdSettings | undefined): string {
  return bfd ? `${bfd.minimumSendIntervalMs}ms/${bfd.minimumRecvIntervalMs}ms x${bfd.multiplier}` : 'off';
}

export interface Peer {
  /** Neighbor address, IPv4 or IPv6, no port. */
  address: string;
  /** Peer AS number. */
  asn: number;
  /** Local AS of this session (gobgpd PeerConf.local_asn); undefined = gobgpd's global AS. */
  localAsn?: number;
  /**
   * How many times this session's local AS may appear in the AS path of a received route (gobgpd
   * PeerConf.allow_own_asn, BIRD's `allow local as`); undefined = none (BGP's loop prevention).
   */
  allowOwnAsn?: number;
  /** Remote TCP port (default 179). */
  port?: number;
  /**
   * Local address of the BGP session (gobgpd Transport.local_address); undefined = the kernel picks the source.
   * Needed when a node has several addresses and the peer expects one of them.
   */
  localAddress?: string;
  /** TCP MD5 password. Never logged. */
  password?: string;
  /** Seconds between KEEPALIVEs (gobgpd: hold / 3 when unset). */
  keepaliveTime?: number;
  /** Hold time offered in our OPEN, seconds (gobgpd: 90 when unset); the session uses the smaller of both sides'. */
  holdTime?: number;
  /** Single-hop BFD for this session (gobgpd >= 4.6 only); undefined = off. */
  bfd?: BfdSettings;
  /** eBGP multihop TTL; undefined = disabled. */
  ebgpMultihopTtl?: number;
  /**
   * GTSM (RFC 5082, gobgpd's ttl_security): packets are sent with TTL 255 and received ones with a lower TTL than
   * this are dropped (IP_MINTTL); undefined = off. Excludes ebgpMultihopTtl (gobgpd refuses both).
   */
  ttlSecurityMinTtl?: number;
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
