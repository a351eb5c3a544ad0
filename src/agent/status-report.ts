import type { ReconcilerSnapshot, PassRecord } from './reconciler.js';
import type { LinkBandwidth } from '../model/route.js';
import type { RefusedAddress, RouteKind, WithheldAddress } from '../model/path.js';
import { reasonTexts } from '../model/path.js';
import type { ConfigInForce } from '../config/source.js';

/**
 * The agent's own view, served read-only as JSON on GET /status (the health server's address, loopback in the
 * DaemonSet) for `svcbgp status`. Nothing in it comes from the Kubernetes API at request time, so it answers
 * during an API-server outage. Passwords never appear (the document holds no peer configuration at all: the CLI
 * reads peers from gobgpd).
 */
export const AGENT_STATUS_KIND = 'svcbgp.io/AgentStatus/v1';

export interface DesiredPathStatus {
  prefix: string;
  family: string;
  nextHop: string;
  communities: readonly string[];
  largeCommunities: readonly string[];
  localPref?: number;
  linkBandwidth?: LinkBandwidth;
  kinds: RouteKind[];
  reasons: string[];
}

export interface AgentStatus {
  kind: typeof AGENT_STATUS_KIND;
  node: string;
  version: string;
  startedAt: string;
  now: string;
  gobgpAddress: string;
  ready: boolean;
  checks: Record<string, boolean>;
  config: { state: ConfigInForce['state']; errors: string[]; quarantined?: string[] };
  /** The desired paths come from a synced, connected view (false: the last good view is kept, no withdrawals). */
  fresh: boolean;
  hold?: string;
  /** The node is leaving: its paths carry GRACEFUL_SHUTDOWN until `until`, then are withdrawn. */
  leaving?: { why: string; since: string; until: string; withdrawn: boolean };
  globalConflict?: string;
  lastPass?: PassRecord;
  lastError?: PassRecord;
  desired: DesiredPathStatus[];
  refused: readonly RefusedAddress[];
  withheld: readonly WithheldAddress[];
}

export function agentStatus(input: {
  node: string;
  version: string;
  startedAt: Date;
  now: Date;
  gobgpAddress: string;
  ready: boolean;
  checks: Record<string, boolean>;
  config: ConfigInForce | undefined;
  snapshot: ReconcilerSnapshot;
}): AgentStatus {
  const { snapshot: s, config } = input;
  const out: AgentStatus = {
    kind: AGENT_STATUS_KIND,
    node: input.node,
    version: input.version,
    startedAt: input.startedAt.toISOString(),
    now: input.now.toISOString(),
    gobgpAddress: input.gobgpAddress,
    ready: input.ready,
    checks: input.checks,
    config: {
      state: config?.state ?? 'valid',
      errors: config && config.state !== 'valid' ? config.errors : [],
      ...(config?.state === 'never-valid' && config.fallback ? { quarantined: config.fallback.quarantined } : {}),
    },
    fresh: s.fresh,
    desired: (s.desired ?? []).map((p) => ({
      prefix: p.route.prefix,
      family: p.route.family,
      nextHop: p.route.nextHop,
      communities: p.route.communities,
      largeCommunities: p.route.largeCommunities,
      ...(p.route.localPref !== undefined ? { localPref: p.route.localPref } : {}),
      ...(p.route.linkBandwidth !== undefined ? { linkBandwidth: p.route.linkBandwidth } : {}),
      kinds: p.kinds,
      reasons: reasonTexts(p.reasons),
    })),
    refused: s.refused,
    withheld: s.withheld,
  };
  if (s.hold !== undefined) out.hold = s.hold;
  if (s.leaving) out.leaving = s.leaving;
  if (s.globalConflict !== undefined) out.globalConflict = s.globalConflict;
  if (s.lastPass) out.lastPass = s.lastPass;
  if (s.lastError) out.lastError = s.lastError;
  return out;
}
