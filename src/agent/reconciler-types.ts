import type { Logger } from '../log/logger.js';
import type { SpeakerConfig } from '../model/peer.js';
import type { SpeakerPort } from '../model/speaker.js';
import type { DesiredPath, DesiredState, RefusedAddress, WithheldAddress } from '../model/path.js';
import type { AgentMetrics } from '../http/metrics.js';

/** The reconciler's vocabulary: what it reads, what it needs, what it reports. */

/** What the cluster side hands the reconciler at the start of every pass. */
export interface Inputs {
  /** Every cache has completed its first full list. */
  synced: boolean;
  /** No cache is currently failing (the API server is reachable); when false the view may be stale. */
  connected: boolean;
  /** The speaker configuration for this node; undefined while it cannot be computed yet (say why in `waiting`). */
  speaker?: SpeakerConfig & { keepAsIs?: readonly string[] };
  /** Desired paths; only present when synced (never computed from a partial cache). */
  desired?: DesiredState;
  waiting?: string;
  /**
   * Set when `speaker`/`desired` come from a fallback configuration because nothing valid has been in force since
   * the agent started (src/config/source.ts): they may bring up an empty gobgpd (or one this process brought
   * up), but a gobgpd that already runs BGP is left exactly as it is. The text says why.
   */
  holdIfRunning?: string;
  /** This node is going away (src/config/departure.ts says how that is decided): why. */
  leaving?: string;
}

/** Where the reconciler reads the cluster side at the start of every pass (src/agent/inputs.ts over the cluster). */
export interface InputsPort {
  /** `reasons`: why this pass runs (the scheduler's triggers; "drift" for the --resync-interval pass). */
  read(reasons: ReadonlySet<string>): Promise<Inputs>;
}

/** An inputs port that always answers with what a function returns (tests, fixed inputs). */
export function fixedInputs(fn: () => Inputs | Promise<Inputs>): InputsPort {
  return { read: async () => fn() };
}

export interface ReconcilerDeps {
  speaker: SpeakerPort;
  inputs: InputsPort;
  log: Logger;
  metrics?: AgentMetrics;
  /** Called with the refused addresses of every successful desired computation (Events are deduplicated there). */
  onRefused?: (refused: DesiredState['refused']) => void;
  /** Ask for a pass later (the end of a drain). */
  schedule?: (reason: string, delayMs: number) => void;
  /** How long a leaving node advertises its paths with GRACEFUL_SHUTDOWN before withdrawing them (default 10 s). */
  drainMs?: number;
  now?: () => number;
}

export const DEFAULT_DRAIN_MS = 10_000;

/** The last pass, for `svcbgp status`. */
export interface PassRecord {
  startedAt: string;
  durationMs: number;
  result: 'ok' | 'skipped' | 'error';
  reasons: string[];
  error?: string;
  /** Why nothing was sent (waiting for the caches, a held configuration, gobgpd unreachable). */
  waiting?: string;
}

/** What the reconciler knows, read-only, for the agent's /status endpoint. */
export interface ReconcilerSnapshot {
  readiness: Readiness;
  lastPass?: PassRecord;
  lastError?: PassRecord;
  /** The desired paths of the last good view (with their reasons), or undefined before the first. */
  desired?: DesiredPath[];
  refused: readonly RefusedAddress[];
  withheld: readonly WithheldAddress[];
  /** Is what is advertised computed from a synced, connected view (false: kept from the last good one). */
  fresh: boolean;
  globalConflict?: string;
  hold?: string;
  /** The node is leaving: draining until `until` (ISO), or withdrawn. */
  leaving?: { why: string; since: string; until: string; withdrawn: boolean };
}

export interface Readiness {
  cachesSynced: boolean;
  /** gobgpd answered the last probe (in any API). */
  gobgpReachable: boolean;
  /** ... in the API svcbgp speaks. */
  gobgpApiMatches: boolean;
  /** The wire API in use ("v3", "v4"), once known. */
  gobgpApi: string | undefined;
  provisioned: boolean;
  /** gobgpd runs the configured AS / router-id / listen port (false during a global-settings conflict). */
  globalMatches: boolean;
}
