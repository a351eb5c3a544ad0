/**
 * gobgpd fills in defaults for what a neighbor config leaves out (internal/pkg/config/default.go in
 * GoBGP 3.10: hold time 90 s, keepalive = hold / 3, remote port 179). ListPeer then reports the filled-in
 * values. To compare what we want with what gobgpd has (and so never "update" a peer that is already
 * right), both sides are put through the same normalisation.
 */
import type { Family } from '../model/route.js';
import type { Peer } from '../model/peer.js';

export const DEFAULT_BGP_PORT = 179;
export const DEFAULT_HOLD_TIME = 90;
export const DEFAULT_RESTART_TIME = 120;
export const DEFAULT_FAMILIES: readonly Family[] = ['ipv4-unicast', 'ipv6-unicast'];

/** A Peer with every optional setting resolved the way gobgpd resolves it. */
export type NormalizedPeer = Required<Omit<Peer, 'password' | 'ebgpMultihopTtl' | 'localAddress'>> &
  Pick<Peer, 'password' | 'ebgpMultihopTtl' | 'localAddress'>;

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
    gracefulRestart: {
      enabled: peer.gracefulRestart.enabled,
      restartTime: peer.gracefulRestart.enabled ? peer.gracefulRestart.restartTime || DEFAULT_RESTART_TIME : 0,
    },
    families,
  };
  if (peer.localAddress) out.localAddress = peer.localAddress;
  if (peer.password) out.password = peer.password;
  if (peer.ebgpMultihopTtl && peer.ebgpMultihopTtl > 0) out.ebgpMultihopTtl = peer.ebgpMultihopTtl;
  return out;
}
