/**
 * The GoBGP v4 codec (gobgpd 4.x, package api, service GoBgpService): our models <-> v4 wire messages. Everything
 * that differs from v3 (src/gobgp/v3/codec.ts) is handled here and nowhere else: typed oneofs, enums that start at
 * UNSPECIFIED, listen addresses checked before StartBgp, the path's age, the short deferral time. Read in gobgpd
 * v4.8.0's sources, still so in v4.9.0 (docs/design.md § GoBGP facts).
 */
import ipaddr from 'ipaddr.js';
import { sortCommunities, type Family, type Route } from '../../model/route.js';
import type { BfdSettings, Peer } from '../../model/peer.js';
import type { WireCodec, WireMessage } from '../codec.js';
import { GobgpRequestError } from '../errors.js';
import { FAMILY_TO_WIRE, familyFromWire, peerToWire, readPeerSettings, type WireFamily } from '../peer-wire.js';
import { SVCBGP_PEER_MARKER } from '../types.js';
import type {
  BfdSessionState,
  GlobalConfig,
  PathTarget,
  Neighbor,
  PeerWriteOptions,
  RibPath,
  SessionState,
  StopOptions,
  WatchEvent,
  WatchOptions,
} from '../types.js';
import {
  checkGlobal,
  checkLinkBandwidth,
  checkLocalPref,
  checkNextHop,
  communityFromWire,
  communityToWire,
  dateFromWire,
  isIpAddress,
  largeCommunityFromWire,
  largeCommunityToWire,
  splitPrefix,
  type WireLargeCommunity,
  type WireTimestamp,
} from '../wire-values.js';
import { V4_PROTO_DIR, V4_PROTO_FILES } from './protos.js';

/** api.NLRI as proto-loader decodes it (oneofs: true adds the name of the member that is set). */
interface WireNlri {
  nlri?: string;
  prefix?: { prefix_len: number; prefix: string } | null;
}

/** api.Attribute: one member of the `attr` oneof. */
interface WireAttribute {
  attr?: string;
  next_hop?: { next_hop: string } | null;
  mp_reach?: { next_hops: string[] } | null;
  communities?: { communities: number[] } | null;
  large_communities?: { communities: WireLargeCommunity[] } | null;
  local_pref?: { local_pref: number } | null;
  as_path?: { segments: { numbers: number[] }[] } | null;
  extended_communities?: { communities: { link_bandwidth?: { asn: number; bandwidth: number } | null }[] } | null;
}

/** The parts of api.Path we read. */
interface WirePath {
  nlri: WireNlri | null;
  pattrs: WireAttribute[];
  age: WireTimestamp | null;
  best: boolean;
  is_withdraw: boolean;
  family: WireFamily | null;
  stale: boolean;
  neighbor_ip: string;
}

interface WirePeer {
  conf: {
    auth_password: string;
    description: string;
    neighbor_address: string;
    peer_asn: number;
    admin_down: boolean;
    type: string;
    local_asn: number;
    allow_own_asn: number;
  } | null;
  ebgp_multihop: { enabled: boolean; multihop_ttl: number } | null;
  ttl_security: { enabled: boolean; ttl_min: number } | null;
  state: {
    neighbor_address: string;
    peer_asn: number;
    session_state: string;
    admin_state: string;
    flops: number;
    router_id: string;
    type: string;
    bfd_state: { session_state: string; failure_transitions: number | string } | null;
  } | null;
  /** Absent before gobgpd 4.6 (no BFD); 4.6+ always reports it, with its defaults filled in. */
  bfd: WireBfd | null;
  timers: {
    config: { hold_time: number; keepalive_interval: number } | null;
    state: { uptime: WireTimestamp | null } | null;
  } | null;
  transport: { remote_port: number; local_address: string } | null;
  graceful_restart: { enabled: boolean; restart_time: number; local_restarting: boolean } | null;
  afi_safis: {
    mp_graceful_restart: { config: { enabled: boolean } | null } | null;
    config: { family: WireFamily | null; enabled: boolean } | null;
  }[];
}

const TABLE_GLOBAL = 'TABLE_TYPE_GLOBAL';

/** api.BfdPeerConfig: intervals in microseconds (gobgpd's docs/sources/bfd.md). */
interface WireBfd {
  enabled: boolean;
  port: number;
  desired_minimum_tx_interval: number;
  required_minimum_receive: number;
  detection_multiplier: number;
}

/** Our BFD settings as api.BfdPeerConfig; off = `enabled: false` (gobgpd removes its BFD peer on UpdatePeer). */
export function bfdToWire(bfd: BfdSettings | undefined): WireBfd {
  if (!bfd) return { enabled: false, port: 0, desired_minimum_tx_interval: 0, required_minimum_receive: 0, detection_multiplier: 0 };
  return {
    enabled: true,
    port: 0, // gobgpd's default, RFC 5881's 3784
    desired_minimum_tx_interval: bfd.minimumSendIntervalMs * 1000,
    required_minimum_receive: bfd.minimumRecvIntervalMs * 1000,
    detection_multiplier: bfd.multiplier,
  };
}

function bfdFromWire(w: WireBfd | null | undefined): BfdSettings | undefined {
  if (!w?.enabled) return undefined;
  return {
    minimumSendIntervalMs: Math.round(w.desired_minimum_tx_interval / 1000),
    minimumRecvIntervalMs: Math.round(w.required_minimum_receive / 1000),
    multiplier: w.detection_multiplier,
  };
}

const BFD_STATES: Record<string, BfdSessionState> = {
  BFD_SESSION_STATE_UP: 'up',
  BFD_SESSION_STATE_DOWN: 'down',
  BFD_SESSION_STATE_ADMIN_DOWN: 'admin-down',
  BFD_SESSION_STATE_INIT: 'init',
};

/** gobgpd 4.x prints Go's zero netip.Addr as "invalid IP"; we say "absent" (also for "", "<nil>", any). */
function ip(s: string | undefined): string | undefined {
  if (!s || s === 'invalid IP' || s === '<nil>' || !ipaddr.isValid(s)) return undefined;
  const a = ipaddr.parse(s).toString();
  return a === '0.0.0.0' || a === '::' ? undefined : s;
}

const SESSION_STATES: Record<string, SessionState> = {
  SESSION_STATE_IDLE: 'idle',
  SESSION_STATE_CONNECT: 'connect',
  SESSION_STATE_ACTIVE: 'active',
  SESSION_STATE_OPENSENT: 'opensent',
  SESSION_STATE_OPENCONFIRM: 'openconfirm',
  SESSION_STATE_ESTABLISHED: 'established',
};

export class V4Codec implements WireCodec {
  readonly version = 'v4' as const;
  readonly protoDir: string;
  readonly protoFiles: readonly string[];
  readonly serviceName = 'api.GoBgpService';

  constructor(protoDir: string = V4_PROTO_DIR, protoFiles: readonly string[] = V4_PROTO_FILES) {
    this.protoDir = protoDir;
    this.protoFiles = protoFiles;
  }

  // ---- global ---------------------------------------------------------------------------------

  startBgpRequest(global: GlobalConfig): WireMessage {
    checkGlobal(global);
    const listen = global.listenAddresses ?? [];
    for (const a of listen) {
      // gobgpd 4.x: netip.MustParseAddr(addr) in newGlobalFromAPIStruct, i.e. a panic, not an error.
      if (typeof a !== 'string' || !isIpAddress(a)) {
        throw new GobgpRequestError(`invalid listen address "${String(a)}": expected an IPv4 or IPv6 address like 192.168.1.10 or ::`);
      }
    }
    if (!Number.isInteger(global.listenPort) || global.listenPort < -1 || global.listenPort > 65535) {
      throw new GobgpRequestError(`invalid listen port ${global.listenPort}: expected 1..65535, or -1 (do not listen)`);
    }
    return {
      global: {
        asn: global.asn,
        router_id: global.routerId,
        listen_port: global.listenPort,
        listen_addresses: listen,
      },
    };
  }

  stopBgpRequest(options: StopOptions): WireMessage {
    return { allow_graceful_restart: options.allowGracefulRestart ?? false };
  }

  globalFromGetBgpResponse(response: WireMessage): GlobalConfig | undefined {
    const g = response.global as { asn: number; router_id: string; listen_port: number; listen_addresses: string[] } | null;
    if (!g?.asn) return undefined;
    const out: GlobalConfig = { asn: g.asn, routerId: g.router_id, listenPort: g.listen_port };
    if (g.listen_addresses.length > 0) out.listenAddresses = [...g.listen_addresses];
    return out;
  }

  // ---- peers ----------------------------------------------------------------------------------

  addPeerRequest(peer: Peer, options: PeerWriteOptions): WireMessage {
    return { peer: { ...peerToWire(peer, options.localRestarting ?? false), bfd: bfdToWire(peer.bfd) } };
  }

  updatePeerRequest(peer: Peer): WireMessage {
    return { peer: { ...peerToWire(peer, false), bfd: bfdToWire(peer.bfd) }, do_soft_reset_in: false };
  }

  needsSoftResetIn(response: WireMessage): boolean {
    return response.needs_soft_reset_in === true;
  }

  deletePeerRequest(address: string): WireMessage {
    if (!isIpAddress(address)) throw new GobgpRequestError(`invalid neighbor address "${address}"`);
    return { address, interface: '' };
  }

  listPeerRequest(address?: string): WireMessage {
    return { address: address ?? '', enable_advertised: false };
  }

  peerFromListPeerResponse(response: WireMessage): Neighbor | undefined {
    return this.peerFromWire(response.peer as WirePeer | null);
  }

  private peerFromWire(w: WirePeer | null): Neighbor | undefined {
    if (!w?.conf) return undefined;
    const families: Family[] = [];
    let mpGr = false;
    for (const a of w.afi_safis ?? []) {
      const f = familyFromWire(a.config?.family);
      if (f && a.config?.enabled !== false) families.push(f);
      if (a.mp_graceful_restart?.config?.enabled) mpGr = true;
    }
    const grEnabled = w.graceful_restart?.enabled ?? false;
    const peer: Peer = {
      address: ip(w.conf.neighbor_address) ?? ip(w.state?.neighbor_address) ?? '',
      asn: w.conf.peer_asn || w.state?.peer_asn || 0,
      port: w.transport?.remote_port || 179,
      keepaliveTime: w.timers?.config?.keepalive_interval ?? 0,
      holdTime: w.timers?.config?.hold_time ?? 0,
      gracefulRestart: { enabled: grEnabled, restartTime: grEnabled ? (w.graceful_restart?.restart_time ?? 0) : 0 },
      families: [...new Set(families)].sort(),
    };
    const local = ip(w.transport?.local_address);
    if (local) peer.localAddress = local;
    if (w.conf.auth_password) peer.password = w.conf.auth_password;
    if (w.ebgp_multihop?.enabled) peer.ebgpMultihopTtl = w.ebgp_multihop.multihop_ttl;
    readPeerSettings(w, peer);
    const bfd = bfdFromWire(w.bfd);
    if (bfd) peer.bfd = bfd;
    const type = w.state?.type && w.state.type !== 'PEER_TYPE_UNSPECIFIED' ? w.state.type : w.conf.type;
    const status: Neighbor = {
      peer,
      description: w.conf.description,
      ours: w.conf.description === SVCBGP_PEER_MARKER,
      sessionState: SESSION_STATES[w.state?.session_state ?? ''] ?? 'unknown',
      adminDown: w.conf.admin_down || w.state?.admin_state === 'ADMIN_STATE_DOWN',
      type: type === 'PEER_TYPE_EXTERNAL' ? 'external' : 'internal',
      flaps: w.state?.flops ?? 0,
      localRestarting: w.graceful_restart?.local_restarting ?? false,
      mpGracefulRestart: grEnabled && mpGr,
      bfdSupported: w.bfd !== null && w.bfd !== undefined,
    };
    if (bfd) status.bfdState = BFD_STATES[w.state?.bfd_state?.session_state ?? ''] ?? 'unknown';
    const uptime = dateFromWire(w.timers?.state?.uptime);
    if (uptime) status.uptime = uptime;
    const rid = ip(w.state?.router_id);
    if (rid) status.remoteRouterId = rid;
    return status;
  }

  // ---- paths ----------------------------------------------------------------------------------

  /**
   * A v4 Path for one route: NLRI + ORIGIN (IGP) + NEXT_HOP (v4) or MP_REACH (v6) + optional attributes, and its
   * age (`now`: gobgpd 4.x installs the path with the age it is given).
   */
  pathToWire(route: Route, withdraw: boolean, now: Date = new Date()): WireMessage {
    const [prefix, prefixLen] = splitPrefix(route);
    const nextHop = checkNextHop(route);
    const localPref = checkLocalPref(route);
    const nlri = { prefix: { prefix, prefix_len: prefixLen } };
    // Attributes in ascending type code, as in the v3 codec: ORIGIN (1), NEXT_HOP (3), LOCAL_PREF (5),
    // COMMUNITIES (8), MP_REACH_NLRI (14), EXTENDED_COMMUNITIES (16), LARGE_COMMUNITY (32).
    const pattrs: WireMessage[] = [{ origin: { origin: 0 } }];
    if (route.family === 'ipv4-unicast') pattrs.push({ next_hop: { next_hop: nextHop } });
    if (localPref !== undefined) pattrs.push({ local_pref: { local_pref: localPref } });
    if (route.communities.length > 0) pattrs.push({ communities: { communities: route.communities.map(communityToWire) } });
    if (route.family === 'ipv6-unicast') {
      // IPv6 unicast has no NEXT_HOP attribute: the next hop travels in MP_REACH_NLRI (RFC 4760).
      pattrs.push({ mp_reach: { family: FAMILY_TO_WIRE[route.family], next_hops: [nextHop], nlris: [nlri] } });
    }
    const lb = checkLinkBandwidth(route);
    if (lb !== undefined) {
      // EXTENDED_COMMUNITIES (16), between MP_REACH_NLRI (14) and LARGE_COMMUNITY (32).
      pattrs.push({ extended_communities: { communities: [{ link_bandwidth: { asn: lb.asn, bandwidth: lb.bytesPerSecond } }] } });
    }
    if (route.largeCommunities.length > 0) {
      pattrs.push({ large_communities: { communities: route.largeCommunities.map(largeCommunityToWire) } });
    }
    return {
      nlri,
      pattrs,
      family: FAMILY_TO_WIRE[route.family],
      is_withdraw: withdraw,
      age: { seconds: Math.floor(now.getTime() / 1000), nanos: 0 },
    };
  }

  addPathRequest(route: Route): WireMessage {
    return { table_type: TABLE_GLOBAL, path: this.pathToWire(route, false) };
  }

  uuidFromAddPathResponse(response: WireMessage): string {
    const uuid = response.uuid as Uint8Array | undefined;
    return uuid ? Buffer.from(uuid).toString('hex') : '';
  }

  deletePathRequest(target: PathTarget): WireMessage {
    let request: { table_type: string; family?: WireFamily; path?: WireMessage; uuid?: Buffer };
    if (target === null || typeof target !== 'object') {
      throw new GobgpRequestError('DeletePath needs a route or a uuid (a request with neither deletes every local path)');
    }
    if ('uuid' in target) {
      if (typeof target.uuid !== 'string' || !/^[0-9a-f]{32}$/i.test(target.uuid)) {
        throw new GobgpRequestError(`DeletePath: invalid uuid "${String(target.uuid)}": expected 32 hex digits`);
      }
      // gobgpd 4.x takes the uuid branch before it looks at the family (pkg/server/grpc_server.go DeletePath).
      request = { table_type: TABLE_GLOBAL, uuid: Buffer.from(target.uuid, 'hex') };
    } else if (typeof target.prefix === 'string' && typeof target.family === 'string' && target.family in FAMILY_TO_WIRE) {
      request = { table_type: TABLE_GLOBAL, family: FAMILY_TO_WIRE[target.family], path: this.pathToWire(target, true) };
    } else {
      throw new GobgpRequestError('DeletePath needs a route or a uuid (a request with neither deletes every local path)');
    }
    // gobgpd treats "no path and no uuid" as "delete all local paths" (of the family; no family: and forget every
    // uuid). Never build one.
    if (!request.path && !(request.uuid && request.uuid.length > 0)) {
      throw new GobgpRequestError('refusing to build a DeletePath request without path and uuid');
    }
    if (request.path && !request.family) throw new GobgpRequestError('refusing to build a DeletePath request without a family');
    return request;
  }

  addPathStreamRequest(routes: readonly Route[], withdraw: boolean): WireMessage {
    return { table_type: TABLE_GLOBAL, paths: routes.map((r) => this.pathToWire(r, withdraw)) };
  }

  listPathRequest(family: Family): WireMessage {
    return { table_type: TABLE_GLOBAL, family: FAMILY_TO_WIRE[family], sort_type: 'SORT_TYPE_PREFIX' };
  }

  pathsFromListPathResponse(response: WireMessage): RibPath[] {
    const d = response.destination as { prefix: string; paths: WirePath[] } | null;
    if (!d) return [];
    return d.paths.map((p) => this.pathFromWire(p)).filter((p): p is RibPath => p !== undefined);
  }

  pathFromWire(p: WirePath): RibPath | undefined {
    const family = familyFromWire(p.family);
    const nlri = p.nlri?.prefix;
    if (!family || !nlri) return undefined;
    const route: Route = {
      prefix: `${ipaddr.parse(nlri.prefix).toString()}/${nlri.prefix_len}`,
      family,
      nextHop: family === 'ipv4-unicast' ? '0.0.0.0' : '::',
      communities: [],
      largeCommunities: [],
    };
    const asPath: number[] = [];
    for (const a of p.pattrs) {
      // An attribute outside our subset decodes with no oneof member set: skipped, as v3 skips unknown Anys.
      if (a.next_hop) route.nextHop = a.next_hop.next_hop;
      else if (a.mp_reach) {
        const [hop] = a.mp_reach.next_hops;
        if (hop !== undefined) route.nextHop = ipaddr.parse(hop).toString();
      } else if (a.communities) route.communities = sortCommunities(a.communities.communities.map(communityFromWire));
      else if (a.large_communities) {
        route.largeCommunities = sortCommunities(a.large_communities.communities.map(largeCommunityFromWire));
      } else if (a.local_pref) route.localPref = a.local_pref.local_pref;
      else if (a.as_path) for (const seg of a.as_path.segments) asPath.push(...seg.numbers);
      else if (a.extended_communities) {
        // Other extended communities decode with the oneof unset: skipped. The first link bandwidth counts.
        const lb = a.extended_communities.communities.find((c) => c.link_bandwidth)?.link_bandwidth;
        if (lb) route.linkBandwidth = { asn: lb.asn, bytesPerSecond: Math.fround(lb.bandwidth) };
      }
    }
    // Locally originated paths have no source address: "invalid IP" in v4.
    const neighbor = ip(p.neighbor_ip);
    const out: RibPath = {
      route,
      local: neighbor === undefined,
      best: p.best,
      stale: p.stale,
      asPath,
      withdrawn: p.is_withdraw,
    };
    if (neighbor) out.neighbor = neighbor;
    const age = dateFromWire(p.age);
    if (age) out.age = age;
    return out;
  }

  // ---- events ---------------------------------------------------------------------------------

  watchEventRequest(options: WatchOptions): WireMessage {
    const request: WireMessage = {};
    if (options.peers) request.peer = {};
    if (options.table) request.table = { filters: [{ type: 'TYPE_BEST', init: options.initial ?? false }] };
    // gobgpd 4.x answers a request that watches nothing with InvalidArgument "no events to watch".
    if (!request.peer && !request.table) throw new GobgpRequestError('WatchEvent needs peers or table (or both)');
    return request;
  }

  eventFromWatchEventResponse(response: WireMessage): WatchEvent | undefined {
    const r = response as {
      event?: string;
      peer?: { type: string; peer: WirePeer | null } | null;
      table?: { paths: WirePath[] } | null;
    };
    if (r.peer && (r.event === 'peer' || r.event === undefined)) {
      // gobgpd sends END_OF_INIT with an empty peer once the watcher is registered.
      if (r.peer.type === 'TYPE_END_OF_INIT') return { kind: 'end-of-init' };
      const peer = this.peerFromWire(r.peer.peer);
      if (!peer) return undefined;
      const types: Record<string, 'init' | 'state'> = { TYPE_INIT: 'init', TYPE_STATE: 'state' };
      return { kind: 'peer', type: types[r.peer.type] ?? 'unknown', peer };
    }
    if (r.table) {
      return {
        kind: 'table',
        paths: r.table.paths.map((p) => this.pathFromWire(p)).filter((p): p is RibPath => p !== undefined),
      };
    }
    return undefined;
  }
}
