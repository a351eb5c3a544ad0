import type { Route } from '../../model/route.js';
import type { RouteKind } from '../../model/path.js';

const OTHER: readonly RouteKind[] = ['other'];

/**
 * svcbgp_routes_advertised's counts, `kind|family` -> paths, from what gobgpd holds for us and the kinds the desired
 * set gives each key (a path nothing wants any more counts as 'other'). Pure; run when /metrics is read, not by a pass
 * (it walks every path).
 */
export function routeCounts(applied: ReadonlyMap<string, Route>, kindsOf: (key: string) => readonly RouteKind[] | undefined): Map<string, number> {
  const byKind = new Map<string, { v4: number; v6: number }>();
  for (const [key, r] of applied) {
    for (const k of kindsOf(key) ?? OTHER) {
      let c = byKind.get(k);
      if (!c) byKind.set(k, (c = { v4: 0, v6: 0 }));
      if (r.family === 'ipv4-unicast') c.v4++;
      else c.v6++;
    }
  }
  const counts = new Map<string, number>();
  for (const [k, c] of byKind) {
    if (c.v4 > 0) counts.set(`${k}|ipv4-unicast`, c.v4);
    if (c.v6 > 0) counts.set(`${k}|ipv6-unicast`, c.v6);
  }
  return counts;
}
