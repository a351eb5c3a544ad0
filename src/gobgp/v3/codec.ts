/**
 * The GoBGP v3 codec (gobgpd 3.x, package apipb): our models <-> v3 wire messages.
 *
 * v3 carries NLRI and path attributes as google.protobuf.Any; we pack/unpack them with protobufjs from
 * the same protos (protos/gobgp/v3) that define the service. Attributes we do not model (MED, originator,
 * cluster list, unknown types) are skipped when decoding.
 */
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import protobuf from 'protobufjs';
import { sortCommunities, type Family, type Route } from '../../model/route.js';
import type { Peer } from '../../model/peer.js';
import type { WireCodec, WireMessage } from '../codec.js';
import { GobgpRequestError } from '../errors.js';
import { FAMILY_TO_WIRE, familyFromWire, peerToWire, readPeerSettings, type WireFamily } from '../peer-wire.js';
import { SVCBGP_PEER_MARKER } from '../types.js';
import type { GlobalConfig, PathTarget, Neighbor, PeerWriteOptions, RibPath, SessionState, StopOptions, WatchEvent, WatchOptions } from '../types.js';
import { V3_PROTO_DIR, V3_PROTO_FILES } from './protos.js';
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

export { communityFromWire, communityToWire } from '../wire-values.js';

const TYPE_URL_PREFIX = 'type.googleapis.com/apipb.';

/** google.protobuf.Any as proto-loader hands it over. */
interface Any {
  type_url: string;
  value: Uint8Array;
}

/** The parts of apipb.Path we read. */
interface WirePath {
  nlri: Any | null;
  pattrs: Any[];
  age: WireTimestamp | null;
  best: boolean;
  is_withdraw: boolean;
  family: WireFamily | null;
  stale: boolean;
  is_from_external: boolean;
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
  } | null;
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

/** gobgpd prints Go's nil net.IP as "<nil>"; we say "absent". */
function ip(s: string | undefined): string | undefined {
  return s && s !== '<nil>' && s !== '0.0.0.0' && s !== '::' ? s : undefined;
}

function sessionStateFromWire(s: string | undefined): SessionState {
  switch (s) {
    case 'IDLE':
      return 'idle';
    case 'CONNECT':
      return 'connect';
    case 'ACTIVE':
      return 'active';
    case 'OPENSENT':
      return 'opensent';
    case 'OPENCONFIRM':
      return 'openconfirm';
    case 'ESTABLISHED':
      return 'established';
    default:
      return 'unknown';
  }
}

export class V3Codec implements WireCodec {
  readonly version = 'v3' as const;
  readonly protoDir: string;
  readonly protoFiles: readonly string[];
  readonly serviceName = 'apipb.GobgpApi';
  private readonly root: protobuf.Root;

  constructor(protoDir: string = V3_PROTO_DIR, protoFiles: readonly string[] = V3_PROTO_FILES) {
    this.protoDir = protoDir;
    this.protoFiles = protoFiles;
    this.root = new protobuf.Root();
    this.root.loadSync(
      protoFiles.map((f) => path.join(protoDir, f)),
      { keepCase: true },
    );
    this.root.resolveAll();
  }

  // ---- Any ------------------------------------------------------------------------------------

  private pack(type: string, value: Record<string, unknown>): Any {
    const t = this.root.lookupType(`apipb.${type}`);
    return { type_url: TYPE_URL_PREFIX + type, value: t.encode(t.fromObject(value)).finish() };
  }

  /** Decodes an Any we know; undefined for types outside our subset. */
  private unpack(any: Any | null | undefined): { type: string; value: Record<string, unknown> } | undefined {
    if (!any?.type_url.startsWith(TYPE_URL_PREFIX)) return undefined;
    const type = any.type_url.slice(TYPE_URL_PREFIX.length);
    const t = this.root.lookup(`apipb.${type}`);
    if (!(t instanceof protobuf.Type)) return undefined;
    const msg = t.decode(any.value);
    return { type, value: t.toObject(msg, { longs: Number, enums: String, defaults: true, arrays: true }) };
  }

  // ---- global ---------------------------------------------------------------------------------

  startBgpRequest(global: GlobalConfig): WireMessage {
    checkGlobal(global);
    return {
      global: {
        asn: global.asn,
        router_id: global.routerId,
        listen_port: global.listenPort,
        listen_addresses: global.listenAddresses ?? [],
      },
    };
  }

  stopBgpRequest(options: StopOptions): WireMessage {
    if (options.allowGracefulRestart) {
      throw new GobgpRequestError('StopBgp without NOTIFICATION (allowGracefulRestart) needs gobgpd 4.x; gobgpd 3.x always sends Cease');
    }
    return {};
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
    return { peer: peerToWire(peer, options.localRestarting ?? false) };
  }

  updatePeerRequest(peer: Peer): WireMessage {
    return { peer: peerToWire(peer, false), do_soft_reset_in: false };
  }

  needsSoftResetIn(response: WireMessage): boolean {
    return response.needs_soft_reset_in === true;
  }

  deletePeerRequest(address: string): WireMessage {
    if (!isIpAddress(address)) throw new GobgpRequestError(`invalid neighbor address "${address}"`);
    return { address, interface: '' };
  }

  listPeerRequest(address?: string): WireMessage {
    return { address: address ?? '', enableAdvertised: false };
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
      address: w.conf.neighbor_address || w.state?.neighbor_address || '',
      asn: w.conf.peer_asn || w.state?.peer_asn || 0,
      port: w.transport?.remote_port || 179,
      keepaliveTime: w.timers?.config?.keepalive_interval ?? 0,
      holdTime: w.timers?.config?.hold_time ?? 0,
      gracefulRestart: { enabled: grEnabled, restartTime: grEnabled ? (w.graceful_restart?.restart_time ?? 0) : 0 },
      families: [...new Set(families)].sort(),
    };
    // ListPeer reports the session's actual local address once connected, the configured one (or 0.0.0.0)
    // before; "any" is reported as undefined.
    const local = ip(w.transport?.local_address);
    if (local) peer.localAddress = local;
    if (w.conf.auth_password) peer.password = w.conf.auth_password;
    if (w.ebgp_multihop?.enabled) peer.ebgpMultihopTtl = w.ebgp_multihop.multihop_ttl;
    readPeerSettings(w, peer);
    const status: Neighbor = {
      peer,
      description: w.conf.description,
      ours: w.conf.description === SVCBGP_PEER_MARKER,
      sessionState: sessionStateFromWire(w.state?.session_state),
      adminDown: w.conf.admin_down || w.state?.admin_state === 'DOWN',
      type: (w.state?.type ?? w.conf.type) === 'EXTERNAL' ? 'external' : 'internal',
      flaps: w.state?.flops ?? 0,
      localRestarting: w.graceful_restart?.local_restarting ?? false,
      mpGracefulRestart: grEnabled && mpGr,
      // The v3 API has no BFD (gobgpd has it from 4.6): the codec never sends Peer.bfd.
      bfdSupported: false,
    };
    const uptime = dateFromWire(w.timers?.state?.uptime);
    if (uptime) status.uptime = uptime;
    const rid = ip(w.state?.router_id);
    if (rid) status.remoteRouterId = rid;
    return status;
  }

  // ---- paths ----------------------------------------------------------------------------------

  /** A v3 Path for one route: NLRI + ORIGIN (IGP) + NEXT_HOP (v4) or MP_REACH (v6) + optional attributes. */
  pathToWire(route: Route, withdraw: boolean): WireMessage {
    const [prefix, prefixLen] = splitPrefix(route);
    const nextHop = checkNextHop(route);
    const nlri = this.pack('IPAddressPrefix', { prefix, prefix_len: prefixLen });
    // Attributes in ascending type code, as RFC 4271 recommends and `gobgp global rib` prints them:
    // ORIGIN (1), NEXT_HOP (3), LOCAL_PREF (5), COMMUNITIES (8), MP_REACH_NLRI (14), EXTENDED_COMMUNITIES (16), LARGE_COMMUNITY (32).
    const pattrs: Any[] = [this.pack('OriginAttribute', { origin: 0 })];
    if (route.family === 'ipv4-unicast') pattrs.push(this.pack('NextHopAttribute', { next_hop: nextHop }));
    const localPref = checkLocalPref(route);
    if (localPref !== undefined) pattrs.push(this.pack('LocalPrefAttribute', { local_pref: localPref }));
    if (route.communities.length > 0) {
      pattrs.push(this.pack('CommunitiesAttribute', { communities: route.communities.map(communityToWire) }));
    }
    if (route.family === 'ipv6-unicast') {
      // IPv6 unicast has no NEXT_HOP attribute: the next hop travels in MP_REACH_NLRI (RFC 4760).
      pattrs.push(
        this.pack('MpReachNLRIAttribute', {
          family: FAMILY_TO_WIRE[route.family],
          next_hops: [nextHop],
          nlris: [nlri],
        }),
      );
    }
    const lb = checkLinkBandwidth(route);
    if (lb !== undefined) {
      // EXTENDED_COMMUNITIES (16), between MP_REACH_NLRI (14) and LARGE_COMMUNITY (32); each entry an Any.
      pattrs.push(
        this.pack('ExtendedCommunitiesAttribute', {
          communities: [this.pack('LinkBandwidthExtended', { asn: lb.asn, bandwidth: lb.bytesPerSecond })],
        }),
      );
    }
    if (route.largeCommunities.length > 0) {
      pattrs.push(this.pack('LargeCommunitiesAttribute', { communities: route.largeCommunities.map(largeCommunityToWire) }));
    }
    return { nlri, pattrs, family: FAMILY_TO_WIRE[route.family], is_withdraw: withdraw };
  }

  addPathRequest(route: Route): WireMessage {
    return { table_type: 'GLOBAL', path: this.pathToWire(route, false) };
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
      request = { table_type: 'GLOBAL', uuid: Buffer.from(target.uuid, 'hex') };
    } else if (typeof target.prefix === 'string' && typeof target.family === 'string') {
      request = { table_type: 'GLOBAL', family: FAMILY_TO_WIRE[target.family], path: this.pathToWire(target, true) };
    } else {
      throw new GobgpRequestError('DeletePath needs a route or a uuid (a request with neither deletes every local path)');
    }
    // The one rule that matters most here: gobgpd treats "no path and no uuid" as "delete all local paths".
    if (!request.path && !(request.uuid && request.uuid.length > 0)) {
      throw new GobgpRequestError('refusing to build a DeletePath request without path and uuid');
    }
    return request;
  }

  addPathStreamRequest(routes: readonly Route[], withdraw: boolean): WireMessage {
    return { table_type: 'GLOBAL', paths: routes.map((r) => this.pathToWire(r, withdraw)) };
  }

  listPathRequest(family: Family): WireMessage {
    return { table_type: 'GLOBAL', family: FAMILY_TO_WIRE[family], sort_type: 'PREFIX' };
  }

  pathsFromListPathResponse(response: WireMessage): RibPath[] {
    const d = response.destination as { prefix: string; paths: WirePath[] } | null;
    if (!d) return [];
    return d.paths.map((p) => this.pathFromWire(p)).filter((p): p is RibPath => p !== undefined);
  }

  pathFromWire(p: WirePath): RibPath | undefined {
    const family = familyFromWire(p.family);
    const nlri = this.unpack(p.nlri);
    if (!family || !nlri || nlri.type !== 'IPAddressPrefix') return undefined;
    const addr = ipaddr.parse(String(nlri.value.prefix));
    const route: Route = {
      prefix: `${addr.toString()}/${Number(nlri.value.prefix_len)}`,
      family,
      nextHop: family === 'ipv4-unicast' ? '0.0.0.0' : '::',
      communities: [],
      largeCommunities: [],
    };
    const asPath: number[] = [];
    for (const any of p.pattrs) {
      const a = this.unpack(any);
      if (!a) continue;
      switch (a.type) {
        case 'NextHopAttribute':
          route.nextHop = String(a.value.next_hop);
          break;
        case 'MpReachNLRIAttribute': {
          const [hop] = a.value.next_hops as string[];
          if (hop !== undefined) route.nextHop = ipaddr.parse(hop).toString();
          break;
        }
        case 'CommunitiesAttribute':
          route.communities = sortCommunities((a.value.communities as number[]).map(communityFromWire));
          break;
        case 'LargeCommunitiesAttribute':
          route.largeCommunities = sortCommunities((a.value.communities as WireLargeCommunity[]).map(largeCommunityFromWire));
          break;
        case 'LocalPrefAttribute':
          route.localPref = Number(a.value.local_pref);
          break;
        case 'ExtendedCommunitiesAttribute': {
          // Other extended community types are outside our subset (unpack gives undefined): skipped.
          for (const c of a.value.communities as Any[]) {
            const e = this.unpack(c);
            if (e?.type === 'LinkBandwidthExtended' && route.linkBandwidth === undefined) {
              route.linkBandwidth = { asn: Number(e.value.asn), bytesPerSecond: Math.fround(Number(e.value.bandwidth)) };
            }
          }
          break;
        }
        case 'AsPathAttribute':
          for (const seg of a.value.segments as { numbers: number[] }[]) asPath.push(...seg.numbers);
          break;
        default:
          break;
      }
    }
    // Locally originated paths have no source address: gobgpd prints Go's nil IP as "<nil>".
    const neighbor =
      p.neighbor_ip &&
      p.neighbor_ip !== '<nil>' &&
      ipaddr.isValid(p.neighbor_ip) &&
      !ipaddr
        .parse(p.neighbor_ip)
        .toString()
        .match(/^(0\.0\.0\.0|::)$/)
        ? p.neighbor_ip
        : undefined;
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
    if (options.table) request.table = { filters: [{ type: 'BEST', init: options.initial ?? false }] };
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
      if (r.peer.type === 'END_OF_INIT') return { kind: 'end-of-init' };
      const peer = this.peerFromWire(r.peer.peer);
      if (!peer) return undefined;
      const types: Record<string, 'init' | 'state'> = { INIT: 'init', STATE: 'state' };
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
