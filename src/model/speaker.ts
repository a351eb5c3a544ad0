import type { Route } from './route.js';
import type { SpeakerConfig } from './peer.js';

/**
 * The speaker as the agent sees it: a narrow port that src/gobgp implements (src/gobgp/speaker.ts), so the reconciler
 * stays free of gRPC. Routes cross it as the route model builds them: the speaker puts svcbgp's ownership marker
 * (src/model/owner-marker.ts) on every path it sends and takes it off the paths it lists.
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
  /**
   * StartBgp if not started; a running speaker with other global settings is reported as a conflict and left alone.
   * `running`: what this pass's probe found (undefined: BGP not started), so that a pass asks gobgpd once. From here
   * on the ownership marker carries the AS gobgpd runs (the running one during a conflict).
   */
  provisionGlobal(speaker: SpeakerConfig, running: RunningGlobal | undefined): Promise<GlobalOutcome>;
  /**
   * Make our peers match (never touches operator peers). `localRestarting` for peers being (re-)added.
   * `keepAsIs`: addresses of our peers to leave exactly as gobgpd has them (their password is unreadable now).
   * A peer without a local AS of its own uses the AS gobgpd runs.
   */
  provisionPeers(speaker: SpeakerConfig, opts: { localRestarting: boolean; keepAsIs?: readonly string[] }): Promise<PeersResult>;
  /**
   * svcbgp's paths in gobgpd, both unicast families: locally originated AND carrying the ownership marker, returned
   * without it (as the agent sent them). `local`: how many locally originated paths gobgpd holds in all.
   */
  listOwnedPaths(): Promise<{ owned: Route[]; local: number }>;
  /** Bulk add/replace (AddPathStream), each path with the ownership marker. */
  addPaths(routes: Route[]): Promise<void>;
  /** Bulk withdraw of exactly these paths (never an empty/unqualified DeletePath). */
  deletePaths(routes: Route[]): Promise<void>;
  /** The route as gobgpd holds it once sent (with the marker): what logs and /status show. Default: as it is. */
  wireRoute?(route: Route): Route;
  listPeers(): Promise<PeerStatus[]>;
  /**
   * Subscribe to gobgpd's peer-state events. `onEnd` fires when the stream ends or fails (gobgpd died or
   * restarted): the caller probes at once. Returns a cancel function.
   */
  watchPeers(onPeer: (p: PeerStatus) => void, onEnd: (err?: Error) => void): () => void;
  close(): void;
}
