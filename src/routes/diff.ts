import type { Route } from '../model/route.js';
import { sortByPrefix } from '../config/net.js';
import { joinKey } from '../text/key.js';

export interface RouteDiff<D extends Route = Route, A extends Route = Route> {
  /** Prefixes not advertised yet: AddPath. */
  add: D[];
  /**
   * Same prefix and family, other attributes (next hop, communities, local-pref, link bandwidth): sent as an AddPath, which
   * replaces the existing path in gobgpd — never delete+add, which would withdraw the route for a moment.
   */
  update: D[];
  /** Advertised but no longer wanted: DeletePath (with the path; never an empty DeletePath). */
  delete: A[];
}

/** Routes are identified by family and prefix: gobgpd keeps one local path per prefix. */
export function routeKey(r: Pick<Route, 'family' | 'prefix'>): string {
  return joinKey('|', r.family, r.prefix);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  // Most paths carry no community, or the same ones in the same order: no copies, no sort.
  if (a.every((x, i) => x === b[i])) return true;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((x, i) => x === sb[i]);
}

/** The attributes we set on a path; anything else (reasons, uuids, age) is not compared. */
export function sameAttributes(a: Route, b: Route): boolean {
  if (a === b) return true;
  return (
    a.nextHop === b.nextHop &&
    sameSet(a.communities, b.communities) &&
    sameSet(a.largeCommunities, b.largeCommunities) &&
    a.localPref === b.localPref &&
    sameLinkBandwidth(a.linkBandwidth, b.linkBandwidth)
  );
}

function sameLinkBandwidth(a: Route['linkBandwidth'], b: Route['linkBandwidth']): boolean {
  if (a === undefined || b === undefined) return a === b;
  // The wire carries a float32: compare as gobgpd reports it back, so a value that is not one never re-sends.
  return a.asn === b.asn && Math.fround(a.bytesPerSecond) === Math.fround(b.bytesPerSecond);
}

/** By family, then prefix (the family is part of the key: the same prefix text can exist in both tables). */
function sorted<T extends Route>(rs: readonly T[]): T[] {
  return sortByPrefix(rs, (r) => r.prefix).sort((a, b) => (a.family === b.family ? 0 : a.family < b.family ? -1 : 1));
}

/**
 * What turns `actual` into `desired`, leaving untouched every route that is already right.
 * Pure; outputs sorted by family then prefix. If a list holds the same prefix twice, the last entry counts.
 */
export function diff<D extends Route, A extends Route>(desired: readonly D[], actual: readonly A[]): RouteDiff<D, A> {
  const want = new Map<string, D>();
  for (const r of desired) want.set(routeKey(r), r);
  const have = new Map<string, A>();
  for (const r of actual) have.set(routeKey(r), r);
  return diffKeyed(want, have, (d) => d);
}

/**
 * diff() over maps already keyed by routeKey (the reconciler keeps both sides that way: no per-pass rebuild of two
 * maps the size of the RIB); `routeOf` reads the route out of a desired entry. A desired route that is the very
 * object applied last time is skipped at once. `only`: compare just these keys (the caller knows every other key
 * is equal on both sides: the keys one Service change touched).
 */
export function diffKeyed<W, D extends Route, A extends Route>(
  want: ReadonlyMap<string, W>,
  have: ReadonlyMap<string, A>,
  routeOf: (w: W) => D,
  only?: Iterable<string>,
): RouteDiff<D, A> {
  const out: RouteDiff<D, A> = { add: [], update: [], delete: [] };
  const compare = (w: W | undefined, a: A | undefined): void => {
    if (w === undefined) {
      if (a !== undefined) out.delete.push(a);
      return;
    }
    const d = routeOf(w);
    if (a === undefined) out.add.push(d);
    else if (!sameAttributes(d, a)) out.update.push(d);
  };
  if (only) {
    for (const k of only) compare(want.get(k), have.get(k));
  } else {
    for (const [k, w] of want) compare(w, have.get(k));
    if (have.size > want.size - out.add.length) for (const [k, a] of have) if (!want.has(k)) out.delete.push(a);
  }
  return { add: sorted(out.add), update: sorted(out.update), delete: sorted(out.delete) };
}
