import type { Route } from '../model/route.js';
import type { AddressKind, RouteRule, ServiceAddress } from '../routes/types.js';
import type { SpeakerConfig } from '../model/peer.js';

/**
 * The two edges the reconciler talks to, as narrow interfaces. The adapters (speaker-adapter.ts over
 * src/gobgp, desired.ts over src/routes + src/config) implement them; the reconciler stays
 * free of gRPC and Kubernetes types.
 */

/** What a cheap probe of gobgpd tells (GetBgp). */
export type SpeakerProbe =
  | { state: 'unreachable'; error: string }
  /**
   * gobgpd answers, but not in the API svcbgp speaks (a forced --gobgp-api that does not match, or a server that
   * serves neither). Never "unreachable": `error` says which API it speaks and what to set. Nothing is sent.
   */
  | { state: 'incompatible'; error: string }
  /** gobgpd answers but BGP is not started (fresh or restarted gobgpd: its RIB is empty). */
  | { state: 'unprovisioned' }
  | { state: 'running'; asn: number; routerId: string; listenPort: number };

export interface PeerStatus {
  address: string;
  /** Session state as gobgpd names it, lower-case: idle, connect, active, opensent, openconfirm, established, unknown. */
  state: string;
  /** Configured by svcbgp (recognised by its marker), as opposed to an operator's peer. */
  ours: boolean;
}

export interface PeersResult {
  added: string[];
  updated: string[];
  deleted: string[];
}

/** What gobgpd runs as its global BGP settings. */
export interface RunningGlobal {
  asn: number;
  routerId: string;
  listenPort: number;
}

/**
 * Outcome of making gobgpd's global settings match. A conflict is a value, not an exception: svcbgp never
 * restarts a running speaker's global config (StopBgp/StartBgp drops every session), and paths and peers
 * are reconciled against the speaker as it runs.
 */
export type GlobalOutcome =
  | { result: 'started' }
  | { result: 'matches' }
  | { result: 'conflict'; running: RunningGlobal; differences: { field: string; have: string | number; want: string | number }[]; message: string };

export interface SpeakerPort {
  probe(): Promise<SpeakerProbe>;
  /** The gobgpd wire API in use ("v3", "v4"), once known. */
  apiVersion?(): string | undefined;
  /** StartBgp if not started; a running speaker with other global settings is reported as a conflict and left alone. */
  provisionGlobal(speaker: SpeakerConfig): Promise<GlobalOutcome>;
  /**
   * Make our peers match (never touches operator peers). `localRestarting` for peers being (re-)added.
   * `keepAsIs`: addresses of our peers to leave exactly as gobgpd has them (their password is unreadable now).
   */
  provisionPeers(speaker: SpeakerConfig, opts: { localRestarting: boolean; keepAsIs?: readonly string[]; runningAsn?: number }): Promise<PeersResult>;
  /** Locally originated paths of both unicast families (learned paths are not returned). */
  listLocalPaths(): Promise<Route[]>;
  /** Bulk add/replace (AddPathStream). */
  addPaths(routes: Route[]): Promise<void>;
  /** Bulk withdraw of exactly these paths (never an empty/unqualified DeletePath). */
  deletePaths(routes: Route[]): Promise<void>;
  listPeers(): Promise<PeerStatus[]>;
  /**
   * Subscribe to gobgpd's peer-state events. `onEnd` fires when the stream ends or fails (gobgpd died or
   * restarted): the caller probes at once. Returns a cancel function.
   */
  watchPeers(onPeer: (p: PeerStatus) => void, onEnd: (err?: Error) => void): () => void;
  close(): void;
}

/** The kinds a route can exist for (label values of svcbgp_routes_advertised). */
export type RouteKind = 'cluster-ip-cidr' | 'external-ip-cidr' | 'load-balancer-ip-cidr' | 'cluster-ip' | 'external-ip' | 'load-balancer-ip' | 'other';

/**
 * Why a path is advertised, as the route model says it (src/routes/types.ts RouteReason: the rule, the CIDR, the
 * Services), plus what svcbgp adds beside the rules: where the weight and the Service attributes come from, and a
 * leaving node's GRACEFUL_SHUTDOWN. `text` is the one-line form the logs and `svcbgp status` print.
 */
export interface PathReason {
  rule: RouteRule | 'link-bandwidth' | 'service-attributes' | 'node-leaving';
  text: string;
  kind?: AddressKind;
  cidr?: string;
  services?: readonly ServiceAddress[];
}

export interface DesiredPath {
  route: Route;
  kinds: RouteKind[];
  /** The reasons, structured (the route model's own objects, not copies); logged with every add as their texts. */
  reasons: readonly PathReason[];
}

/** The one-line texts of a path's reasons (logs, status). */
export function reasonTexts(reasons: readonly PathReason[] | undefined): string[] {
  return (reasons ?? []).map((r) => r.text);
}

export interface RefusedAddress {
  namespace: string;
  service: string;
  /** The Service's metadata.uid: the Event's involvedObject names it, or `kubectl describe service` does not list the Event. */
  uid?: string;
  address: string;
  /** Machine-readable reason code (metric label). */
  code: string;
  message: string;
  /** The reason without the address (Refusal.summary): equal for every address of the Service refused alike; default `message`. */
  summary?: string;
}

/** An address deliberately not advertised from this node (another node may advertise it). */
export interface WithheldAddress {
  namespace: string;
  service: string;
  address: string;
  code: string;
  message: string;
}

export interface DesiredState {
  paths: DesiredPath[];
  refused: RefusedAddress[];
  withheld?: WithheldAddress[];
  /** Identifies this state for a later state's delta (unique in the process). */
  generation?: number;
  /**
   * What differs from the state whose generation is `since` (same source): each route key (routeKey) whose path
   * was added, changed or dropped, with its path now (undefined: dropped). An optimisation only — `paths` is always
   * complete — that lets a pass after one Service change look at that Service's routes, not at every route.
   * Absent: compare everything.
   */
  delta?: { since: number; changed: ReadonlyMap<string, DesiredPath | undefined> };
}
