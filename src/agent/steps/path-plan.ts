import type { Logger } from '../../log/logger.js';
import type { Route } from '../../model/route.js';
import type { DesiredPath } from '../../model/path.js';
import { reasonTexts } from '../../model/path.js';
import { diffKeyed, routeKey } from '../../routes/diff.js';
import { logBounded } from '../../log/bounded.js';

/** What one pass sends: names that say what happens to each path. */
export interface PathPlan {
  /** Not in gobgpd yet: AddPath. */
  toAdvertise: Route[];
  /** In gobgpd with other attributes: AddPath replaces it (never delete+add, which would withdraw it for a moment). */
  toUpdate: Route[];
  /** Owned paths nothing wants any more: DeletePath (empty when withdrawals are suppressed). */
  toWithdraw: Route[];
}

/**
 * The plan of a pass. Pure. Both sides are keyed already; a route unchanged since the last pass is the same object on
 * both sides and is skipped at once. `only`: compare just these keys (the caller knows every other key is equal).
 * `allowDeletes` false (a stale view): nothing is withdrawn.
 */
export function planPaths(
  desired: ReadonlyMap<string, DesiredPath>,
  applied: ReadonlyMap<string, Route>,
  opts: { allowDeletes: boolean; only?: Iterable<string> },
): PathPlan {
  const d = diffKeyed(desired, applied, (p) => p.route, opts.only);
  return { toAdvertise: d.add, toUpdate: d.update, toWithdraw: opts.allowDeletes ? d.delete : [] };
}

export function isEmptyPlan(p: PathPlan): boolean {
  return p.toAdvertise.length === 0 && p.toUpdate.length === 0 && p.toWithdraw.length === 0;
}

/** What the plan's log lines need to say why: the reasons, what gobgpd held, and the route as it goes on the wire. */
export interface PlanContext {
  desired: ReadonlyMap<string, DesiredPath>;
  applied: ReadonlyMap<string, Route>;
  prior: (key: string) => DesiredPath | undefined;
  wire: (r: Route) => Route;
}

/**
 * One line per path change, capped per pass (src/log/bounded.ts): a first pass over 10,000 Services logs the first
 * ones and "advertise: ... and N more", not 10,000 lines.
 */
export function logPlan(log: Logger, plan: PathPlan, ctx: PlanContext): void {
  const fields = (r: Route): Record<string, unknown> => {
    const w = ctx.wire(r);
    const previous = ctx.applied.get(routeKey(r));
    return {
      prefix: w.prefix,
      family: w.family,
      nextHop: w.nextHop,
      communities: w.communities,
      largeCommunities: w.largeCommunities,
      localPref: w.localPref,
      linkBandwidth: w.linkBandwidth,
      reasons: reasonTexts(ctx.desired.get(routeKey(r))?.reasons),
      previous: previous && ctx.wire(previous),
    };
  };
  logBounded(log, 'info', 'advertise', plan.toAdvertise, (r) => ({ ...fields(r), previous: undefined }));
  logBounded(log, 'info', 'update attributes', plan.toUpdate, fields);
  logBounded(log, 'info', 'withdraw', plan.toWithdraw, (r) => {
    const was = ctx.prior(routeKey(r));
    return {
      prefix: r.prefix,
      family: r.family,
      reason: was
        ? 'no longer desired: no Service or configured CIDR wants it on this node any more'
        : 'owned path found in gobgpd that nothing wants (left over from an earlier configuration or agent)',
      previousReasons: reasonTexts(was?.reasons),
    };
  });
}
