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
 * 360 s: internal/pkg/config/default.go; 0 on the wire means that default).
 *
 * Why it must be short. svcbgp adds its peers with `local_restarting` whenever it starts BGP (a first start looks
 * the same as a Pod restart, and only the Restart State and Forwarding State bits that come with it make the ToR
 * keep our stale routes across the new session, RFC 4724 4.2). gobgpd (3.10 and v4) then holds every UPDATE and its
 * End-of-RIB until `recvedAllEOR()` (pkg/server/peer.go) is true for EVERY configured peer, or this timer fires.
 * recvedAllEOR counts every afi-safi whose mp-graceful-restart is enabled in OUR config (default.go copies
 * Config.Enabled into State.Enabled; fsm.go only ever adds the families the peer announced, never removes the
 * others), and the peer's End-of-RIB for a family it did not negotiate can never come:
 *  - BIRD with only an `ipv4` channel announces no IPv6 (no MP capability, no GR tuple) and sends End-of-RIB per
 *    channel (proto/bgp/packets.c bgp_create_end_mark): no ipv6-unicast End-of-RIB, ever;
 *  - a peer without graceful restart sends no End-of-RIB at all; a configured peer that is down sends nothing;
 *  - FRR escapes only because it sets the Restart State bit in its own OPEN, which makes gobgpd (fsm.go, "peer has
 *    restarted, skipping wait for EOR") mark every End-of-RIB received; BIRD sets it only when it restarts itself
 *    (`bird -R`, packets.c bgp_prepare_capabilities).
 * gobgpd's wait is RFC 4724's route-selection deferral; it matters for a router whose best paths depend on what its
 * peers send. svcbgp's gobgpd only originates: every path is in its RIB before the peer is added (the restore
 * order), so waiting only delays our routes. A conforming ToR's End-of-RIB ends the wait at once; this bounds it
 * for every other ToR, far below the restart time the ToR keeps our stale routes for.
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
