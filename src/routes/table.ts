import { NO_COMMUNITIES, sortCommunities, type Family, type Route } from '../model/route.js';
import type { PrefixAdvertisement } from '../config/types.js';
import { cidrContains, comparePrefixes, mustParseCidr, prefixSortKey } from '../config/net.js';
import { mergeContributions, type MergeSettings, type RouteContribution } from './service-attributes.js';
import { SmallMap } from './small-map.js';
import { joinKey } from '../text/key.js';
import { routeKey } from './diff.js';
import { MAX_UPDATE_BYTES, wireBytes } from '../model/path-size.js';
import { RouteOrder, type OrderItem } from './route-order.js';
import { OwnerReports } from './owner-reports.js';
import { cmp, compareServiceAddress, desiredPath, reasonText } from './reasons.js';
import type {
  AddressKind,
  AttributeSource,
  DesiredPath,
  DesiredRoutesResult,
  RefusedAddress,
  RouteReason,
  RouteRule,
  ServiceAddress,
  ServiceAttributeSource,
  ServiceRef,
  WithheldAddress,
} from './types.js';

/**
 * The route table of one node: what every contributor (the configuration's aggregates, each Service) asks for,
 * merged into routes with reasons. Both computations go through it — the full one (desiredRoutes: a fresh table,
 * every contribution added once) and the incremental one (./incremental.ts: one long-lived table, a changed
 * Service's contribution replaced) — so they merge by the same code, and the property test in
 * test/unit/routes/incremental.test.ts checks that they agree.
 *
 * A prefix is advertised while any contribution claims it; each reason counts its claims. Replacing a
 * contribution marks the prefixes it touches (before and after) dirty; only those routes are rebuilt, every other
 * DesiredPath keeps its identity (the reconciler and the diff skip identical objects).
 */

/** A claim on a route: this prefix, for this rule (and this Service address, except for the config's aggregates). */
export interface RouteClaim {
  prefix: string;
  family: Family;
  rule: RouteRule;
  kind: AddressKind;
  /** The configured CIDR the rule is based on. */
  cidr: string;
  service?: ServiceAddress;
  /** What the Service adds to the route (annotations, local endpoints for the weight); default: nothing. */
  contribution?: RouteContribution;
}

/** A Service address carried by an aggregate (Cluster traffic policy): listed in the aggregate's reason. */
export interface CoverageClaim {
  kind: AddressKind;
  /** The aggregate: a configured CIDR, the route's prefix. */
  cidr: string;
  family: Family;
  service: ServiceAddress;
}

/** Everything one contributor asks of this node. */
export interface Contribution {
  routes: RouteClaim[];
  coverage: CoverageClaim[];
  refused: RefusedAddress[];
  withheld: WithheldAddress[];
  /** The Service's metadata.uid (its refusals carry it); absent for the configuration's aggregates. */
  uid?: string;
  /**
   * The host-route keys of the external and load-balancer addresses the Service uses (inside a configured CIDR),
   * whether or not this node advertises them: several namespaces on one address take away the Services' attributes
   * on every node alike (./service-attributes.ts mergeContributions). Absent when there are none.
   */
  uses?: { namespace: string; keys: string[] };
}

/** What the emitted routes depend on beyond the contributions. A change of any of it means a new table. */
export interface TableContext {
  nodeName: string;
  /** The node's prefixAdvertisements (node.<name> override or the global list). */
  prefixAdvertisements: readonly PrefixAdvertisement[];
  /** Next hop of IPv6 routes: the node's IPv6 InternalIP, else "::". */
  v6NextHop: string;
  /** The node carries the exclude label: it advertises (and withholds) nothing. */
  excluded: boolean;
  /** How several contributions to one prefix merge their attributes (./service-attributes.ts). */
  merge: MergeSettings;
}

interface Counted<T> {
  value: T;
  count: number;
}

interface ReasonEntry {
  rule: RouteRule;
  kind: AddressKind;
  cidr: string;
  claims: number;
  services: SmallMap<Counted<ServiceAddress>>;
}

interface RouteEntry {
  prefix: string;
  family: Family;
  reasons: SmallMap<ReasonEntry>;
  /** Each contributor's claims on this route (all of one contributor's are replaced together). */
  claims: SmallMap<RouteClaim[]>;
}

/** The attribute sources of a route no prefixAdvertisements entry matches (most /32s): one frozen array for all. */
const NO_SOURCES: readonly AttributeSource[] = Object.freeze([]);

export class RouteTable {
  private readonly entries = new Map<string, RouteEntry>();
  private readonly coverage = new Map<string, Map<string, Counted<ServiceAddress>>>();
  private readonly contributions = new Map<string, Contribution[]>();
  private readonly reports = new OwnerReports();
  /** The built paths by key; the same items as `order` (a rebuilt path replaces its item's `value`). */
  private readonly built = new Map<string, OrderItem<DesiredPath>>();
  private readonly dirty = new Set<string>();
  /** The keys the last routes() rebuilt or dropped (the paths whose object changed since the call before). */
  private changed: ReadonlySet<string> = new Set();
  private readonly order = new RouteOrder<DesiredPath>();
  /** Built by settle(): compared key by key, never in result order. */
  private unordered = false;
  private readonly sources = new Map<PrefixAdvertisement, AttributeSource>();
  /** Host-route key -> the namespaces whose Services use the address, each with its count of uses. */
  private readonly users = new Map<string, Map<string, number>>();

  constructor(readonly context: TableContext) {}

  /** How many owners contribute (the configuration's aggregates count as one). */
  get owners(): number {
    return this.contributions.size;
  }

  /** Whether the owner has a contribution. */
  has(owner: string): boolean {
    return this.contributions.has(owner);
  }

  /** Adds a contribution beside the owner's others (the full computation: a dump may list a Service twice). */
  add(owner: string, c: Contribution, ref?: ServiceRef): void {
    const list = this.contributions.get(owner);
    const all = list ?? [];
    all.push(c);
    if (list === undefined) this.contributions.set(owner, all);
    this.apply(owner, c, +1);
    if (c.refused.length > 0 || c.withheld.length > 0 || list !== undefined) this.reports.setOwner(owner, all, ref);
  }

  /** Replaces everything the owner contributed (undefined: the owner is gone). */
  set(owner: string, c: Contribution | undefined, ref?: ServiceRef): void {
    const old = this.contributions.get(owner);
    const hadReports = this.reports.has(owner);
    if (old) for (const o of old) this.apply(owner, o, -1);
    if (c) {
      this.contributions.set(owner, [c]);
      this.apply(owner, c, +1);
    } else {
      this.contributions.delete(owner);
    }
    if (hadReports || (c !== undefined && (c.refused.length > 0 || c.withheld.length > 0))) this.reports.setOwner(owner, c ? [c] : [], ref);
  }

  /**
   * The routes, refusals and withheld addresses now. Two lists are built only when read, as most passes never look
   * at them (the reconciler follows the changed keys; the withheld addresses are for status): `routes`
   * (RouteOrder.reader) must be read before the table changes again; `withheld` is the table's list when read.
   */
  result(): DesiredRoutesResult {
    if (this.unordered) throw new Error('RouteTable.result: this table is built by settle() and has no result order');
    const { nodeName, excluded } = this.context;
    const routes = excluded ? this.noRoutes() : this.routes();
    const refused = this.reports.refused();
    const reports = this.reports;
    return {
      node: nodeName,
      excluded,
      get routes() {
        return routes();
      },
      refused: excluded ? refused.filter((r) => r.code !== 'attribute-not-applied') : refused,
      get withheld() {
        return excluded ? [] : reports.withheld();
      },
    };
  }

  /**
   * The route keys whose route object changed (rebuilt, added or dropped) in the last result(): what a consumer
   * holding the result before it must look at again. For a fresh table, every key.
   */
  lastChanges(): ReadonlySet<string> {
    return this.changed;
  }

  /** The current path of a route key (after result(), or settle() for a table only compared key by key). */
  path(key: string): DesiredPath | undefined {
    return this.built.get(key)?.value;
  }

  /**
   * Builds up to `max` of the routes that changed since the last build, outside the result order: for a table that
   * is only compared key by key (the drift check's, ./check.ts), a bounded piece of work at a time. True when none is
   * left. Such a table has no result().
   */
  settle(max: number): boolean {
    this.unordered = true;
    let n = 0;
    for (const key of this.dirty) {
      if (n++ >= max) return false;
      this.dirty.delete(key);
      this.buildKey(key, false);
    }
    return true;
  }

  /** The keys of the built routes. */
  builtKeys(): IterableIterator<string> {
    return this.built.keys();
  }

  /** The attribute-not-applied refusals the merge made for one route key. */
  mergedReports(key: string): readonly RefusedAddress[] {
    return this.reports.mergedOf(key);
  }

  /** One owner's refusals and withheld addresses. */
  reportsOf(owner: string): { refused: readonly RefusedAddress[]; withheld: readonly WithheldAddress[] } {
    return this.reports.of(owner);
  }

  /** Whether the owner has refusals or withheld addresses. */
  hasReports(owner: string): boolean {
    return this.reports.has(owner);
  }

  /** The owners with refusals or withheld addresses. */
  reportOwners(): IterableIterator<string> {
    return this.reports.owners();
  }

  /** An excluded node advertises nothing: no route, and no route changed (exclusion itself means a fresh table). */
  private noRoutes(): () => readonly DesiredPath[] {
    this.changed = new Set();
    return () => [];
  }

  private routes(): () => readonly DesiredPath[] {
    const added: OrderItem<DesiredPath>[] = [];
    const replaced: OrderItem<DesiredPath>[] = [];
    const dropped = new Set<string>();
    for (const key of this.dirty) {
      const r = this.buildKey(key, true);
      if (r.added) added.push(r.added);
      else if (r.replaced) replaced.push(r.replaced);
      else if (r.dropped) dropped.add(key);
    }
    this.changed = this.dirty.size === 0 ? new Set() : new Set(this.dirty);
    this.dirty.clear();
    this.order.update(added, dropped, replaced);
    return this.order.reader();
  }

  /**
   * Builds one changed key into `built` (routes() and settle() both): the item it added or replaced, or that the
   * route is gone. `ordered`: compute the item's sort key (settle()'s table has no order).
   */
  private buildKey(key: string, ordered: boolean): { added?: OrderItem<DesiredPath>; replaced?: OrderItem<DesiredPath>; dropped?: boolean } {
    const e = this.entries.get(key);
    const item = this.built.get(key);
    if (!e) {
      this.reports.setMerged(key, []);
      if (!item) return {};
      this.built.delete(key);
      return { dropped: true };
    }
    const path = this.build(e, key);
    if (item) {
      item.value = path;
      return { replaced: item };
    }
    const fresh = { key, sortKey: ordered ? prefixSortKey(e.prefix) : '', value: path };
    this.built.set(key, fresh);
    return { added: fresh };
  }

  private apply(owner: string, c: Contribution, delta: 1 | -1): void {
    for (const claim of c.routes) this.claimRoute(owner, claim, delta);
    for (const cov of c.coverage) {
      const k = coverageKey(cov.kind, cov.cidr);
      let m = this.coverage.get(k);
      if (!m) {
        m = new Map();
        this.coverage.set(k, m);
      }
      count(m, serviceAddressKey(cov.service), cov.service, delta);
      if (m.size === 0) this.coverage.delete(k);
      this.dirty.add(routeKey({ family: cov.family, prefix: cov.cidr }));
    }
    if (c.uses) for (const key of c.uses.keys) this.countUse(key, c.uses.namespace, delta);
  }

  /** One use of an address by a namespace's Service; a change in the set of namespaces rebuilds its route. */
  private countUse(key: string, namespace: string, delta: 1 | -1): void {
    let m = this.users.get(key);
    if (!m) {
      if (delta < 0) return;
      m = new Map();
      this.users.set(key, m);
    }
    const n = (m.get(namespace) ?? 0) + delta;
    const before = m.size;
    if (n > 0) m.set(namespace, n);
    else m.delete(namespace);
    if (m.size === 0) this.users.delete(key);
    if (m.size !== before && this.entries.has(key)) this.dirty.add(key);
  }

  private claimRoute(owner: string, claim: RouteClaim, delta: 1 | -1): void {
    const key = routeKey(claim);
    this.dirty.add(key);
    let e = this.entries.get(key);
    if (!e) {
      if (delta < 0) return;
      e = { prefix: claim.prefix, family: claim.family, reasons: new SmallMap(), claims: new SmallMap() };
      this.entries.set(key, e);
    }
    if (delta < 0) {
      e.claims.delete(owner);
    } else {
      const mine = e.claims.get(owner);
      if (mine) mine.push(claim);
      else e.claims.set(owner, [claim]);
    }
    const rk = joinKey('|', claim.rule, claim.kind, claim.cidr);
    let reason = e.reasons.get(rk);
    if (!reason) {
      if (delta < 0) return;
      reason = { rule: claim.rule, kind: claim.kind, cidr: claim.cidr, claims: 0, services: new SmallMap() };
      e.reasons.set(rk, reason);
    }
    reason.claims += delta;
    if (claim.service) count(reason.services, serviceAddressKey(claim.service), claim.service, delta);
    if (reason.claims <= 0) e.reasons.delete(rk);
    if (e.reasons.size === 0) this.entries.delete(key);
  }

  private build(e: RouteEntry, key: string): DesiredPath {
    const { nodeName, prefixAdvertisements: pas, v6NextHop } = this.context;
    const reasons: RouteReason[] = [...e.reasons.values()].map((x) => {
      const from = x.rule === 'aggregate' ? this.coverage.get(coverageKey(x.kind, x.cidr)) : x.services;
      const services = [...(from?.values() ?? [])].map((c) => c.value);
      services.sort(compareServiceAddress);
      return { rule: x.rule, kind: x.kind, cidr: x.cidr, services, text: reasonText(x.rule, x.kind, x.cidr, services, nodeName) };
    });
    reasons.sort((a, b) => cmp(a.rule, b.rule) || cmp(a.kind, b.kind) || comparePrefixes(a.cidr, b.cidr));
    const p = mustParseCidr(e.prefix);
    const matching = pas.filter((pa) => cidrContains(pa.cidr, p.bytes, p.length));
    const attributesFrom = matching.length === 0 ? NO_SOURCES : matching.map((pa) => this.attributeSource(pa));
    let route: Route = {
      prefix: e.prefix,
      family: e.family,
      nextHop: e.family === 'ipv4-unicast' ? '0.0.0.0' : v6NextHop,
      communities: sortCommunities(matching.flatMap((pa) => pa.communities)),
      largeCommunities: sortCommunities(matching.flatMap((pa) => pa.largeCommunities)),
    };
    const namespaces = this.users.get(key);
    const merged = mergeContributions(routeContributions(e), this.context.merge, namespaces && namespaces.size > 1 ? [...namespaces.keys()].sort() : []);
    const lp = matching.filter((pa) => pa.localPref !== undefined).sort((a, b) => b.cidr.length - a.cidr.length)[0];
    if (lp?.localPref !== undefined) route.localPref = lp.localPref;
    if (merged.linkBandwidth) route.linkBandwidth = merged.linkBandwidth;
    let notApplied = merged.notApplied;
    let serviceAttributesFrom: readonly ServiceAttributeSource[] | undefined;
    if (merged.serviceAttributesFrom.length > 0) {
      const withServices: Route = {
        ...route,
        communities: sortCommunities([...route.communities, ...merged.communities]),
        largeCommunities: sortCommunities([...route.largeCommunities, ...merged.largeCommunities]),
      };
      // A Service's svcbgp.io/local-pref (within the limits) replaces prefixAdvertisements' for its own routes.
      if (merged.localPref !== undefined) withServices.localPref = merged.localPref;
      // The configuration and the Service bounds keep every path inside one BGP message (src/model/path-size.ts);
      // should they ever fail to, the Services' attributes give way, never the operator's.
      if (wireBytes(withServices) <= MAX_UPDATE_BYTES) {
        route = withServices;
        serviceAttributesFrom = merged.serviceAttributesFrom;
      } else
        notApplied = [
          ...notApplied,
          ...merged.serviceAttributesFrom.map((x) => ({
            service: x.service,
            text: `its annotations are not applied: the path would not fit one BGP message (${MAX_UPDATE_BYTES} bytes before gobgpd's additions)`,
            summary: 'annotations not applied: the path would not fit one BGP message',
          })),
        ];
    }
    this.setMergeReports(key, e, notApplied);
    return desiredPath(route, reasons, attributesFrom, serviceAttributesFrom, merged.linkBandwidthFrom);
  }

  /** The attribute-not-applied reports of one route, one per Service, naming the route's address. */
  private setMergeReports(key: string, e: RouteEntry, notApplied: readonly { service: ServiceRef; text: string; summary: string }[]): void {
    const address = e.prefix.slice(0, e.prefix.indexOf('/'));
    const reports = notApplied.map((n): RefusedAddress => {
      const owner = joinKey('/', n.service.namespace, n.service.name);
      const claim = e.claims.get(owner)?.[0];
      const uid = this.contributions.get(owner)?.[0]?.uid;
      const r: RefusedAddress = {
        namespace: n.service.namespace,
        service: n.service.name,
        ...(uid !== undefined ? { uid } : {}),
        address,
        code: 'attribute-not-applied',
        message: `${address}: ${n.text}`,
        summary: n.summary,
      };
      if (claim) r.kind = claim.kind;
      return r;
    });
    this.reports.setMerged(key, reports);
  }

  /** One AttributeSource object per prefixAdvertisements entry, shared by every route it matches. */
  private attributeSource(pa: PrefixAdvertisement): AttributeSource {
    let a = this.sources.get(pa);
    if (!a) {
      a = { cidr: pa.cidr.cidr, communities: pa.communities, largeCommunities: pa.largeCommunities };
      if (pa.localPref !== undefined) a.localPref = pa.localPref;
      this.sources.set(pa, a);
    }
    return a;
  }
}

/**
 * The contributions to one route: one per (rule, Service), the one with the most local endpoints when a Service
 * claims the prefix twice under one rule (e.g. its cluster IP and its external IP are the same address); a claim
 * without one (the configuration's aggregates) contributes nothing but its rule.
 */
function routeContributions(e: RouteEntry): RouteContribution[] {
  const byKey = new Map<string, RouteContribution>();
  for (const claims of e.claims.values()) {
    for (const claim of claims) {
      const c = claim.contribution ?? { rule: claim.rule, attributes: { communities: NO_COMMUNITIES, largeCommunities: NO_COMMUNITIES } };
      const k = `${c.rule}|${c.service ? `${c.service.namespace}/${c.service.name}` : ''}`;
      const prev = byKey.get(k);
      if (!prev || (c.localEndpoints ?? 0) > (prev.localEndpoints ?? 0)) byKey.set(k, c);
    }
  }
  return [...byKey.values()];
}

/** What count() needs of a map: a Map (the aggregates' coverage) or a SmallMap (a reason's Services). */
interface CountMap<T> {
  get(key: string): Counted<T> | undefined;
  set(key: string, value: Counted<T>): unknown;
  delete(key: string): boolean;
}

function count<T>(m: CountMap<T>, key: string, value: T, delta: 1 | -1): void {
  const c = m.get(key);
  if (c) {
    c.count += delta;
    if (c.count <= 0) m.delete(key);
  } else if (delta > 0) {
    m.set(key, { value, count: 1 });
  }
}

/** The Services an aggregate (a configured CIDR of one address kind) carries are counted under this key. */
function coverageKey(kind: AddressKind, cidr: string): string {
  return joinKey('|', kind, cidr);
}

function serviceAddressKey(s: ServiceAddress): string {
  return joinKey('/', s.namespace, s.name, s.address);
}
