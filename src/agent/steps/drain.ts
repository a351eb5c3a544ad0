import type { Route } from '../../model/route.js';
import { sortCommunities } from '../../model/route.js';
import type { DesiredPath } from '../../model/path.js';
import { GRACEFUL_SHUTDOWN_COMMUNITY, GRACEFUL_SHUTDOWN_LOCAL_PREF } from '../../config/departure.js';
import { DEFAULT_DRAIN_MS, type ReconcilerDeps } from '../reconciler-types.js';
import type { KeyedDesired } from './desired-view.js';

/** A leaving node's drain: since when, until when, and the paths it re-advertised with GRACEFUL_SHUTDOWN. */
export interface DrainState {
  why: string;
  since: number;
  until: number;
  paths: Map<string, DesiredPath>;
  /** The drain time is over and the paths were withdrawn. */
  withdrawn: boolean;
}

/**
 * Step "drain" (RFC 8326), for a leaving node. First pass: every path gobgpd holds for us is re-advertised with the
 * GRACEFUL_SHUTDOWN community and LOCAL_PREF 0 (gobgpd sends LOCAL_PREF on iBGP sessions only, as RFC 8326 asks), and
 * a pass is scheduled for the end of the drain time. Until then those paths stay as they are; afterwards every path
 * is withdrawn. The paths are the ones gobgpd held when the drain started: what the node advertised until then is
 * what the ToR must move away from (the route model already wants nothing from an excluded node).
 */
export class Drain {
  private state: DrainState | undefined;

  constructor(private readonly deps: Pick<ReconcilerDeps, 'log' | 'metrics' | 'schedule' | 'drainMs' | 'now'>) {}

  /** Why the node is draining, while it is. */
  get why(): string | undefined {
    return this.state?.why;
  }

  status(): { why: string; since: string; until: string; withdrawn: boolean } | undefined {
    const d = this.state;
    return d && { why: d.why, since: new Date(d.since).toISOString(), until: new Date(d.until).toISOString(), withdrawn: d.withdrawn };
  }

  /** The paths a leaving node holds this pass: GRACEFUL_SHUTDOWN until the drain time is over, then none. */
  step(why: string, applied: ReadonlyMap<string, Route>, prior: (key: string) => DesiredPath | undefined): KeyedDesired {
    const now = (this.deps.now ?? Date.now)();
    const drain = this.state ?? this.start(why, now, applied, prior);
    if (now < drain.until && !drain.withdrawn) return { paths: drain.paths };
    if (!drain.withdrawn) {
      this.deps.log.warn('node leaving: drain time over, withdrawing every path', { why: drain.why, paths: drain.paths.size });
      drain.withdrawn = true;
    }
    return { paths: new Map() };
  }

  /** The node stays after all: paths as usual again. */
  end(): void {
    if (!this.state) return;
    this.deps.log.info('node no longer leaving: paths advertised as usual again', { was: this.state.why });
    this.state = undefined;
    this.deps.metrics?.nodeLeaving.set(0);
  }

  private start(why: string, now: number, applied: ReadonlyMap<string, Route>, prior: (key: string) => DesiredPath | undefined): DrainState {
    const drainMs = this.deps.drainMs ?? DEFAULT_DRAIN_MS;
    const paths = new Map<string, DesiredPath>();
    for (const [key, r] of applied) {
      const before = prior(key);
      paths.set(key, {
        route: gracefulShutdown(r),
        kinds: before?.kinds ?? ['other'],
        reasons: [
          { rule: 'node-leaving', text: `node leaving (${why}): GRACEFUL_SHUTDOWN (RFC 8326) until the drain time is over` },
          ...(before?.reasons ?? []),
        ],
      });
    }
    this.state = { why, since: now, until: now + drainMs, paths, withdrawn: paths.size === 0 };
    this.deps.metrics?.nodeLeaving.set(1);
    this.deps.log.warn('node leaving: every path re-advertised with GRACEFUL_SHUTDOWN (65535:0) and LOCAL_PREF 0; withdrawn after the drain time', {
      why,
      paths: paths.size,
      drainMs,
      withdrawAt: new Date(now + drainMs).toISOString(),
    });
    if (paths.size > 0) this.deps.schedule?.('drain-time', drainMs);
    return this.state;
  }
}

/** The path with RFC 8326's GRACEFUL_SHUTDOWN community and LOCAL_PREF 0 (idempotent). */
export function gracefulShutdown(route: Route): Route {
  return {
    ...route,
    communities: sortCommunities([...route.communities, GRACEFUL_SHUTDOWN_COMMUNITY]),
    largeCommunities: sortCommunities(route.largeCommunities),
    localPref: GRACEFUL_SHUTDOWN_LOCAL_PREF,
  };
}
