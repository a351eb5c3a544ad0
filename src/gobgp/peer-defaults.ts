/**
 * gobgpd fills in defaults for what a neighbor config leaves out (internal/pkg/config/default.go in
 * GoBGP 3.10: hold time 90 s, keepalive = hold / 3, remote port 179). ListPeer then reports the filled-in
 * values. To compare what we want with what gobgpd has (and so never "update" a peer that is already
 * right), both sides are put through the same normalisation.
 */
import type { Family } from '../model/route.js';
import type { GracefulRestart, Peer } from '../model/peer.js';
import { DEFAULT_RESTART_TIME } from '../config/types.js';

export const DEFAULT_BGP_PORT = 179;
export const DEFAULT_HOLD_TIME = 90;
export const DEFAULT_FAMILIES: readonly Family[] = ['ipv4-unicast', 'ipv6-unicast'];

/**
 * The selection deferral time svcbgp gives gobgpd for every graceful-restart peer, seconds (gobgpd's default is
 * 360 s: internal/pkg/config/default.go; 0 on the wire means that default). Short, because gobgpd waits for an
 * End-of-RIB from every peer for every family we enable (pkg/server/peer.go recvedAllEOR), and a ToR that does not
 * carry one of our families never sends it (docs/design.md § Graceful restart).
 */
export const DEFAULT_DEFERRAL_TIME = 3;

/** The deferral time for a restart time: the default, but always below the restart time (at least 1 s: 0 = 360 s). */
export function deferralTimeFor(restartTime: number, configured?: number): number {
  const want = configured && configured > 0 ? configured : DEFAULT_DEFERRAL_TIME;
  return Math.max(1, Math.min(want, restartTime - 1));
}

/** A Peer with every optional setting resolved the way gobgpd resolves it. */
type OptionalSettings = 'password' | 'ebgpMultihopTtl' | 'localAddress' | 'bfd' | 'localAsn' | 'allowOwnAsn' | 'ttlSecurityMinTtl';
export type NormalizedPeer = Required<Omit<Peer, OptionalSettings | 'gracefulRestart'>> &
  Pick<Peer, OptionalSettings> & { gracefulRestart: Required<GracefulRestart> };

function gracefulRestartOf(peer: Peer): Required<GracefulRestart> {
  if (!peer.gracefulRestart.enabled) return { enabled: false, restartTime: 0, deferralTime: 0 };
  const restartTime = peer.gracefulRestart.restartTime || DEFAULT_RESTART_TIME;
  return { enabled: true, restartTime, deferralTime: deferralTimeFor(restartTime, peer.gracefulRestart.deferralTime) };
}

export function normalizePeer(peer: Peer): NormalizedPeer {
  const holdTime = peer.holdTime && peer.holdTime > 0 ? peer.holdTime : DEFAULT_HOLD_TIME;
  const keepaliveTime = peer.keepaliveTime && peer.keepaliveTime > 0 ? peer.keepaliveTime : Math.floor(holdTime / 3);
  const families = [...new Set(peer.families && peer.families.length > 0 ? peer.families : DEFAULT_FAMILIES)].sort();
  const out: NormalizedPeer = {
    address: peer.address,
    asn: peer.asn,
    port: peer.port && peer.port > 0 ? peer.port : DEFAULT_BGP_PORT,
    keepaliveTime,
    holdTime,
    gracefulRestart: gracefulRestartOf(peer),
    families,
  };
  if (peer.localAddress) out.localAddress = peer.localAddress;
  if (peer.password) out.password = peer.password;
  if (peer.ebgpMultihopTtl && peer.ebgpMultihopTtl > 0) out.ebgpMultihopTtl = peer.ebgpMultihopTtl;
  // 0 on the wire means "not set" for all three (gobgpd: the global AS, no own AS allowed, GTSM off).
  if (peer.localAsn && peer.localAsn > 0) out.localAsn = peer.localAsn;
  if (peer.allowOwnAsn && peer.allowOwnAsn > 0) out.allowOwnAsn = peer.allowOwnAsn;
  if (peer.ttlSecurityMinTtl && peer.ttlSecurityMinTtl > 0) out.ttlSecurityMinTtl = peer.ttlSecurityMinTtl;
  if (peer.bfd) out.bfd = { ...peer.bfd };
  return out;
}
