import type { Route } from '../../src/model/route.js';
import { routeKey, type RouteDiff } from '../../src/routes/index.js';
import { sortByPrefix } from '../../src/config/net.js';

/**
 * The local RIB gobgpd holds after a diff is sent to it (AddPath replaces by prefix, DeletePath removes), sorted by
 * family then prefix as diff() sorts: what the diff's property tests compare with the desired routes.
 */
export function ribAfter(actual: readonly Route[], d: RouteDiff): Route[] {
  const m = new Map<string, Route>();
  for (const r of actual) m.set(routeKey(r), r);
  for (const r of d.delete) m.delete(routeKey(r));
  for (const r of [...d.add, ...d.update]) m.set(routeKey(r), r);
  return sortByPrefix([...m.values()], (r) => r.prefix).sort((a, b) => (a.family === b.family ? 0 : a.family < b.family ? -1 : 1));
}
