/**
 * The public, version-independent surface of svcbgp's GoBGP client. Callers (the reconciler, the CLI,
 * provisioning) use only these types; the wire shapes of a particular gobgpd API version stay inside its
 * codec (src/gobgp/v3/). Everything here is plain data in the internal models (Route, Peer).
 */
import type { Family, Route } from '../model/route.js';
import type { Peer } from '../model/peer.js';

/**
 * gobgpd wire API versions svcbgp can speak: v3 (gobgpd 3.x, package apipb) and v4 (gobgpd 4.x, package api).
 * Chosen in exactly one place: src/gobgp/api-version.ts.
 */
export type ApiVersion = 'v3' | 'v4';
export const API_VERSIONS: readonly ApiVersion[] = ['v3', 'v4'];

/** What the agent is told to speak: a version, or `auto` (probe gobgpd on connect and after every outage). */
export type ApiChoice = ApiVersion | 'auto';

/**
 * The text svcbgp writes into a peer's description (PeerConf.description). gobgpd keeps it and returns it
 * in ListPeer, so an agent that restarted still knows which peers it configured; peers without it were
 * added by someone else (an operator with `gobgp neighbor add`) and are never touched.
 */
export const SVCBGP_PEER_MARKER = 'svcbgp';

/** gobgpd's global (speaker) settings. */
export interface GlobalConfig {
  asn: number;
  /** IPv4 address used as BGP identifier. */
  routerId: string;
  /** BGP listen port; -1 = do not listen (gobgpd only dials out). */
  listenPort: number;
  /** Addresses to listen on; empty/undefined = gobgpd's default (all). */
  listenAddresses?: string[];
}

export type BfdSessionState = 'unknown' | 'down' | 'init' | 'up' | 'admin-down';

export type SessionState = 'unknown' | 'idle' | 'connect' | 'active' | 'opensent' | 'openconfirm' | 'established';

/** A neighbor as gobgpd reports it: its configuration (in our model) plus session state. */
export interface Neighbor {
  /**
   * The configuration gobgpd holds, in our model, with gobgpd's defaults filled in (port 179, hold 90 s,
   * keepalive hold/3). `password` is included when set: never log this object as a whole.
   */
  peer: Peer;
  /** PeerConf.description as gobgpd stores it. */
  description: string;
  /** True when svcbgp configured this peer (description === SVCBGP_PEER_MARKER). */
  ours: boolean;
  sessionState: SessionState;
  adminDown: boolean;
  /** iBGP (same AS) or eBGP. */
  type: 'internal' | 'external';
  /** When the session last came up (only meaningful while established). */
  uptime?: Date;
  /** How often the session went down since the peer was configured ("flops" in gobgpd). */
  flaps: number;
  /** Graceful restart enabled with multiprotocol GR on the peer's families (what svcbgp configures). */
  mpGracefulRestart: boolean;
  /** GracefulRestart.local_restarting as gobgpd reports it. */
  localRestarting: boolean;
  /** This gobgpd has BFD (4.6+: ListPeer carries the peer's BFD config); false on 3.x and 4.0-4.5. */
  bfdSupported: boolean;
  /** The BFD session's state, when BFD is on for this peer. */
  bfdState?: BfdSessionState;
  /** The peer's BGP identifier, once a session was up. */
  remoteRouterId?: string;
}

/** A path in gobgpd's global RIB. */
export interface RibPath {
  route: Route;
  /** True: originated by this gobgpd (AddPath / AddPathStream / `gobgp global rib add`); false: learned. */
  local: boolean;
  /** The neighbor a learned path came from. */
  neighbor?: string;
  best: boolean;
  /** When gobgpd installed the path. */
  age?: Date;
  stale: boolean;
  /** AS_PATH as a flat list (empty for local paths). */
  asPath: number[];
  /** Set on paths in table events that withdraw the route. */
  withdrawn: boolean;
}

/** What to delete: a route (matched by prefix and family in gobgpd's local RIB) or the uuid AddPath returned. */
export type PathTarget = Route | { uuid: string };

export type WatchEvent =
  /** A peer's state changed ('state'), or, with `initial`, one event per existing peer ('init'). */
  | { kind: 'peer'; type: 'init' | 'state' | 'unknown'; peer: Neighbor }
  /** gobgpd registered the watch (and sent the initial peers, if asked): later changes will be seen. */
  | { kind: 'end-of-init' }
  /** Best paths that changed in the global RIB (withdrawn ones flagged). */
  | { kind: 'table'; paths: RibPath[] };

export interface WatchOptions {
  /** Stream peer state changes. */
  peers?: boolean;
  /** Stream best-path changes in the global RIB. */
  table?: boolean;
  /** Start with the current state (INIT events / all current best paths). */
  initial?: boolean;
}

export interface WatchHandle {
  /** Stop watching; `done` resolves. */
  close(): void;
  /** Resolves when the stream ends (closed by us), rejects with a GobgpError when it fails. */
  readonly done: Promise<void>;
}

export interface BulkOptions {
  /** Paths per AddPathStreamRequest message (default 500). */
  batchSize?: number;
}

export interface StopOptions {
  /**
   * Stop without a NOTIFICATION to graceful-restart peers, so they keep our routes as stale (v4 only: gobgpd
   * 3.x always sends Cease, and the v3 codec refuses this option rather than silently drop it).
   */
  allowGracefulRestart?: boolean;
}

export interface PeerWriteOptions {
  /**
   * Set graceful restart local_restarting (the R bit in our OPEN): after gobgpd itself restarted, the peer
   * keeps forwarding on our stale routes until we send End-of-RIB. Only meaningful when adding a peer.
   */
  localRestarting?: boolean;
}

/** A typed, promise-based client for one gobgpd. Every unary call and list stream has a deadline. */
export interface GobgpClient {
  readonly address: string;
  /** The wire API this client speaks; undefined while `auto` has not reached gobgpd yet. */
  readonly apiVersion: ApiVersion | undefined;
  /** gobgpd's global settings, or undefined when BGP has not been started yet (AS 0). */
  getGlobal(): Promise<GlobalConfig | undefined>;
  startBgp(global: GlobalConfig): Promise<void>;
  /** All neighbors (or one, by address), ours and others. */
  listPeers(address?: string): Promise<Neighbor[]>;
  /** Adds a peer marked as ours (description = SVCBGP_PEER_MARKER). */
  addPeer(peer: Peer, options?: PeerWriteOptions): Promise<void>;
  /** Replaces a peer's configuration (marked as ours). See provision.ts for when gobgpd resets the session. */
  updatePeer(peer: Peer): Promise<{ needsSoftResetIn: boolean }>;
  deletePeer(address: string): Promise<void>;
  /** Bulk add through AddPathStream. gobgpd returns no uuids for these. */
  addPaths(routes: readonly Route[], options?: BulkOptions): Promise<void>;
  /** Bulk withdraw through AddPathStream with is_withdraw. */
  deletePaths(routes: readonly Route[], options?: BulkOptions): Promise<void>;
  /** Every path in the global RIB of one family, local and learned. */
  listPaths(family: Family): Promise<RibPath[]>;
  /** Streams peer and/or table events until closed. No deadline (long-lived). */
  watch(options: WatchOptions, onEvent: (event: WatchEvent) => void): WatchHandle;
  close(): void;
}

export interface ConnectOptions {
  /** Deadline of each call, ms (default 5000). Bulk streams get this per message sent. */
  deadlineMs?: number;
}
