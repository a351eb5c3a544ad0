/**
 * The Peer message svcbgp sends to gobgpd, and the address families in it: the same field names and numbers in the
 * v3 (apipb) and v4 (api) APIs (both proto tests check our subsets against upstream), so both codecs build it here.
 */
import type { Family } from '../model/route.js';
import type { Peer } from '../model/peer.js';
import type { WireMessage } from './codec.js';
import { GobgpRequestError } from './errors.js';
import { normalizePeer } from './peer-defaults.js';
import { SVCBGP_PEER_MARKER } from './types.js';
import { checkAsn, isIpAddress } from './wire-values.js';

/** apipb.Family / api.Family as proto-loader gives it (enums as their names). */
export interface WireFamily {
  afi: string;
  safi: string;
}

export const FAMILY_TO_WIRE: Record<Family, WireFamily> = {
  'ipv4-unicast': { afi: 'AFI_IP', safi: 'SAFI_UNICAST' },
  'ipv6-unicast': { afi: 'AFI_IP6', safi: 'SAFI_UNICAST' },
};

export function familyFromWire(f: WireFamily | null | undefined): Family | undefined {
  if (f?.safi !== 'SAFI_UNICAST') return undefined;
  if (f.afi === 'AFI_IP') return 'ipv4-unicast';
  if (f.afi === 'AFI_IP6') return 'ipv6-unicast';
  return undefined;
}

/** Our Peer as gobgpd's Peer message, marked as ours (description), with gobgpd's defaults filled in. */
export function peerToWire(input: Peer, localRestarting: boolean): WireMessage {
  if (!isIpAddress(input.address)) throw new GobgpRequestError(`invalid neighbor address "${input.address}"`);
  checkAsn(input.asn, 'peer AS', ` for ${input.address}`);
  if (input.localAsn !== undefined) checkAsn(input.localAsn, 'local AS', ` for ${input.address}`);
  if (input.ttlSecurityMinTtl !== undefined && input.ebgpMultihopTtl !== undefined) {
    // gobgpd refuses the pair (pkg/config/oc/default.go: "ebgp-multihop and ttl-security are mututally exclusive").
    throw new GobgpRequestError(`peer ${input.address}: TTL security and eBGP multihop cannot both be set`);
  }
  checkByte(input.ttlSecurityMinTtl, 'TTL security minimum TTL', input.address);
  checkByte(input.allowOwnAsn, 'allowed own-AS count', input.address);
  const peer = normalizePeer(input);
  const gr = peer.gracefulRestart;
  return {
    conf: {
      neighbor_address: peer.address,
      peer_asn: peer.asn,
      // 0: gobgpd's global AS (pkg/config/oc/default.go setDefaultNeighborConfigValues).
      local_asn: peer.localAsn ?? 0,
      allow_own_asn: peer.allowOwnAsn ?? 0,
      auth_password: peer.password ?? '',
      description: SVCBGP_PEER_MARKER,
    },
    ebgp_multihop: { enabled: peer.ebgpMultihopTtl !== undefined, multihop_ttl: peer.ebgpMultihopTtl ?? 0 },
    ttl_security: { enabled: peer.ttlSecurityMinTtl !== undefined, ttl_min: peer.ttlSecurityMinTtl ?? 0 },
    timers: { config: { hold_time: peer.holdTime, keepalive_interval: peer.keepaliveTime } },
    transport: { remote_port: peer.port, local_address: peer.localAddress ?? '' },
    graceful_restart: {
      enabled: gr.enabled,
      restart_time: gr.restartTime,
      // Never 0 (gobgpd would use its 360 s), the same on AddPeer and UpdatePeer (so an update never sees a changed
      // GR config): peer-defaults.ts deferralTimeFor says why it is short.
      deferral_time: gr.deferralTime,
      local_restarting: gr.enabled && localRestarting,
    },
    // Multiprotocol graceful restart per family: gobgpd (pkg/server/fsm.go capabilitiesFromConfig) puts a family
    // into the GR capability only when its afi-safi has mp_graceful_restart enabled; without it the capability
    // lists no families and the peer keeps none of our routes as stale.
    afi_safis: peer.families.map((f) => ({
      config: { family: FAMILY_TO_WIRE[f], enabled: true },
      mp_graceful_restart: { config: { enabled: gr.enabled } },
    })),
  };
}

/** The parts of a ListPeer answer read alike in v3 and v4 (same field names and numbers). */
export interface WirePeerSettings {
  conf: { local_asn?: number; allow_own_asn?: number } | null;
  ttl_security?: { enabled: boolean; ttl_min: number } | null;
}

/** Local AS, own-AS count and TTL security as gobgpd reports them (0: not set), into `peer`. */
export function readPeerSettings(w: WirePeerSettings, peer: Peer): void {
  if (w.conf?.local_asn) peer.localAsn = w.conf.local_asn;
  if (w.conf?.allow_own_asn) peer.allowOwnAsn = w.conf.allow_own_asn;
  if (w.ttl_security?.enabled && w.ttl_security.ttl_min) peer.ttlSecurityMinTtl = w.ttl_security.ttl_min;
}

/** gobgpd keeps these in 8 bits (oc.TtlSecurityConfig.TtlMin, oc.NeighborConfig.AllowOwnAs): 1..255, else refused. */
function checkByte(v: number | undefined, what: string, address: string): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 1 && v <= 255)) throw new GobgpRequestError(`${what} for ${address} must be 1..255, got ${v}`);
}
