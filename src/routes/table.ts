import { NO_COMMUNITIES, sortCommunities, type Family } from '../model/route.js';
import type { PrefixAdvertisement } from '../config/types.js';
import { cidrContains, comparePrefixes, mustParseCidr, prefixSortKey } from '../config/net.js';
import { escapeControls } from '../text/escape.js';
import { mergeContributions, type MergeSettings, type RouteContribution } from './service-attributes.js';
import { SmallMap } from './small-map.js';
import { joinKey } from '../text/key.js';
import { routeKey } from './diff.js';
import { MAX_UPDATE_BYTES, wireBytes } from '../model/path-size.js';
import {
  CIDR_FIELD,
  type AddressKind,
  type AttributeSource,
  type DesiredRoute,
  type DesiredRoutesResult,
  type Refusal,
  type RouteReason,
  type RouteRule,
  type ServiceAddress,
  type ServiceRef,
  type Withheld,
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
 * DesiredRoute keeps its identity (the reconciler and the diff skip identical objects).
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
  refused: Refusal[];
  withheld: Withheld[];
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

/** One contributor's refusals and withheld addresses, deduplicated and sorted as the result lists them. */
interface OwnerReports {
  ref: ServiceRef;
  refused: Refusal[];
  withheld: Withheld[];
}

/** A built route in result order: its key, the string its order sorts by (computed once), the route. */
interface OrderItem {
  key: string;
  sortKey: string;
  route: DesiredRoute;
}

/** The attribute sources of a route no prefixAdvertisements entry matches (most /32s): one frozen array for all. */
const NO_SOURCES: readonly AttributeSource[] = Object.freeze([]);

/** Up to this many routes added or dropped at once are placed one by one; more are merged by one sort. */
const FEW = 32;

export class RouteTable {
  private readonly entries = new Map<string, RouteEntry>();
  private readonly coverage = new Map<string, Map<string, Counted<ServiceAddress>>>();
  private readonly contributions = new Map<string, Contribution[]>();
  private readonly reports = new Map<string, OwnerReports>();
  /** Contributors with reports, in result order (namespace, name). */
  private reportOrder: string[] = [];
  /** The built routes by key; the same items as `order` (a rebuilt route replaces its item's `route`). */
  private readonly built = new Map<string, OrderItem>();
  private readonly dirty = new Set<string>();
  /** The keys the last routes() rebuilt or dropped (the routes whose object changed since the call before). */
  private changed: ReadonlySet<string> = new Set();
  /** Route keys in result order (IPv4 first, then address, then length), each with its sort key. */
  private order: OrderItem[] = [];
  private reportsChanged = true;
  private refusedList: Refusal[] = [];
  private withheldList: Withheld[] = [];
  private readonly sources = new Map<PrefixAdvertisement, AttributeSource>();
  /** Host-route key -> the namespaces whose Services use the address, each with its count of uses. */
  private readonly users = new Map<string, Map<string, number>>();
  /** Host-route key -> the Services whose attributes the merge left out of that route (attribute-not-applied). */
  private readonly mergeReports = new Map<string, Refusal[]>();

  constructor(readonly context: TableContext) {}

  /** Adds a contribution beside the owner's others (the full computation: a dump may list a Service twice). */
  add(owner: string, c: Contribution, ref?: ServiceRef): void {
    const list = this.contributions.get(owner);
    if (list) list.push(c);
    else this.contributions.set(owner, [c]);
    this.apply(owner, c, +1);
    if (c.refused.length > 0 || c.withheld.length > 0 || list !== undefined) this.rebuildReports(owner, ref);
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
    if (hadReports || (c !== undefined && (c.refused.length > 0 || c.withheld.length > 0))) this.rebuildReports(owner, ref);
  }

  result(): DesiredRoutesResult {
    const { nodeName, excluded } = this.context;
    const routes = excluded ? this.noRoutes() : this.routes();
    if (this.reportsChanged) {
      this.refusedList = this.reportOrder.flatMap((o) => this.reports.get(o)?.refused ?? []);
      if (this.mergeReports.size > 0) this.refusedList = [...this.refusedList, ...[...this.mergeReports.values()].flat()].sort(compareRefusals);
      this.withheldList = this.reportOrder.flatMap((o) => this.reports.get(o)?.withheld ?? []);
      this.reportsChanged = false;
    }
    return {
      node: nodeName,
      excluded,
      routes,
      refused: excluded ? this.refusedList.filter((r) => r.code !== 'attribute-not-applied') : [...this.refusedList],
      withheld: excluded ? [] : [...this.withheldList],
    };
  }

  /**
   * The route keys whose route object changed (rebuilt, added or dropped) in the last result(): what a consumer
   * holding the result before it must look at again. For a fresh table, every key.
   */
  lastChanges(): ReadonlySet<string> {
    return this.changed;
  }

  /** The current route of a key (after result()). */
  route(key: string): DesiredRoute | undefined {
    return this.built.get(key)?.route;
  }

  /** An excluded node advertises nothing: no route, and no route changed (exclusion itself means a fresh table). */
  private noRoutes(): DesiredRoute[] {
    this.changed = new Set();
    return [];
  }

  private routes(): DesiredRoute[] {
    const added: OrderItem[] = [];
    const dropped = new Set<string>();
    for (const key of this.dirty) {
      const e = this.entries.get(key);
      const item = this.built.get(key);
      if (e) {
        const route = this.build(e, key);
        if (item) {
          item.route = route;
        } else {
          const fresh = { key, sortKey: prefixSortKey(route.prefix), route };
          this.built.set(key, fresh);
          added.push(fresh);
        }
      } else if (item) {
        this.built.delete(key);
        dropped.add(key);
      }
      if (!e && this.mergeReports.delete(key)) this.reportsChanged = true;
    }
    this.changed = this.dirty.size === 0 ? new Set() : new Set(this.dirty);
    this.dirty.clear();
    this.reorder(added, dropped);
    return this.order.map((o) => o.route);
  }

  /**
   * Keeps `order` sorted without sorting it again: a few routes added or dropped (one Service changed) are
   * placed by binary search, each prefix parsed once, when it first appears; many (a fresh table) are sorted at once.
   */
  private reorder(added: OrderItem[], dropped: ReadonlySet<string>): void {
    if (dropped.size > FEW) {
      this.order = this.order.filter((o) => !dropped.has(o.key));
    } else {
      for (const key of dropped) {
        const at = this.position(prefixSortKey(key.slice(key.indexOf('|') + 1)));
        if (this.order[at]?.key === key) this.order.splice(at, 1);
        else this.order = this.order.filter((o) => o.key !== key); // cannot happen (keys and sort keys are 1:1)
      }
    }
    if (added.length > FEW) {
      this.order = [...this.order, ...added].sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    } else {
      for (const a of added) this.order.splice(this.position(a.sortKey), 0, a);
    }
  }

  /** Where a sort key is, or would be inserted, in `order`. */
  private position(sortKey: string): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.order[mid]!.sortKey < sortKey) lo = mid + 1;
      else hi = mid;
    }
    return lo;
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

  private build(e: RouteEntry, key: string): DesiredRoute {
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
    let route: DesiredRoute = {
      prefix: e.prefix,
      family: e.family,
      nextHop: e.family === 'ipv4-unicast' ? '0.0.0.0' : v6NextHop,
      communities: sortCommunities(matching.flatMap((pa) => pa.communities)),
      largeCommunities: sortCommunities(matching.flatMap((pa) => pa.largeCommunities)),
      reasons,
      attributesFrom,
    };
    const namespaces = this.users.get(key);
    const merged = mergeContributions(routeContributions(e), this.context.merge, namespaces && namespaces.size > 1 ? [...namespaces.keys()].sort() : []);
    const lp = matching.filter((pa) => pa.localPref !== undefined).sort((a, b) => b.cidr.length - a.cidr.length)[0];
    if (lp?.localPref !== undefined) route.localPref = lp.localPref;
    if (merged.linkBandwidth) route.linkBandwidth = merged.linkBandwidth;
    if (merged.linkBandwidthFrom) route.linkBandwidthFrom = merged.linkBandwidthFrom;
    let notApplied = merged.notApplied;
    if (merged.serviceAttributesFrom.length > 0) {
      const withServices: DesiredRoute = {
        ...route,
        communities: sortCommunities([...route.communities, ...merged.communities]),
        largeCommunities: sortCommunities([...route.largeCommunities, ...merged.largeCommunities]),
        serviceAttributesFrom: merged.serviceAttributesFrom,
      };
      // A Service's svcbgp.io/local-pref (within the limits) replaces prefixAdvertisements' for its own routes.
      if (merged.localPref !== undefined) withServices.localPref = merged.localPref;
      // The configuration and the Service bounds keep every path inside one BGP message (src/model/path-size.ts);
      // should they ever fail to, the Services' attributes give way, never the operator's.
      if (wireBytes(withServices) <= MAX_UPDATE_BYTES) route = withServices;
      else notApplied = [...notApplied, ...merged.serviceAttributesFrom.map((x) => ({ service: x.service, text: `its annotations are not applied: the path would not fit one BGP message (${MAX_UPDATE_BYTES} bytes before gobgpd's additions)`, summary: 'annotations not applied: the path would not fit one BGP message' }))];
    }
    this.setMergeReports(key, e, notApplied);
    return route;
  }

  /** The attribute-not-applied reports of one route, one per Service, naming the route's address. */
  private setMergeReports(key: string, e: RouteEntry, notApplied: readonly { service: ServiceRef; text: string; summary: string }[]): void {
    if (notApplied.length === 0) {
      if (this.mergeReports.delete(key)) this.reportsChanged = true;
      return;
    }
    const address = e.prefix.slice(0, e.prefix.indexOf('/'));
    const reports = notApplied.map((n): Refusal => {
      const claim = e.claims.get(joinKey('/', n.service.namespace, n.service.name))?.[0];
      const r: Refusal = { service: { ...n.service }, address, code: 'attribute-not-applied', text: `${address}: ${n.text}`, summary: n.summary };
      if (claim) r.kind = claim.kind;
      return r;
    });
    const before = this.mergeReports.get(key);
    if (before && before.length === reports.length && before.every((b, i) => b.text === reports[i]!.text && b.service.namespace === reports[i]!.service.namespace && b.service.name === reports[i]!.service.name)) return;
    this.mergeReports.set(key, reports);
    this.reportsChanged = true;
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

  /** Dedupe and sort one owner's reports (the same keys and order the whole result uses). */
  private rebuildReports(owner: string, ref: ServiceRef | undefined): void {
    this.reportsChanged = true;
    const list = this.contributions.get(owner) ?? [];
    const refused = new Map<string, Refusal>();
    const withheld = new Map<string, Withheld>();
    for (const c of list) {
      for (const r of c.refused) refused.set(`${r.service.namespace}/${r.service.name}/${r.address}/${r.kind ?? ''}/${r.code}/${r.text}`, r);
      for (const w of c.withheld) withheld.set(`${w.service.namespace}/${w.service.name}/${w.address}/${w.kind}/${w.code}`, w);
    }
    const had = this.reports.has(owner);
    if (refused.size === 0 && withheld.size === 0) {
      if (had) {
        this.reports.delete(owner);
        this.reportOrder.splice(this.reportOrder.indexOf(owner), 1);
      }
      return;
    }
    const first = [...refused.values()][0]?.service ?? [...withheld.values()][0]!.service;
    const reports: OwnerReports = {
      ref: ref ?? first,
      refused: [...refused.values()].sort(compareRefusals),
      withheld: [...withheld.values()].sort(compareWithheld),
    };
    this.reports.set(owner, reports);
    if (!had) this.reportOrder.splice(this.insertionPoint(reports.ref), 0, owner);
  }

  private insertionPoint(ref: ServiceRef): number {
    let lo = 0;
    let hi = this.reportOrder.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const other = this.reports.get(this.reportOrder[mid]!)!.ref;
      if ((cmp(other.namespace, ref.namespace) || cmp(other.name, ref.name)) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
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

function compareRefusals(a: Refusal, b: Refusal): number {
  return cmp(a.service.namespace, b.service.namespace) || cmp(a.service.name, b.service.name) || cmp(a.address, b.address) || cmp(a.kind ?? '', b.kind ?? '') || cmp(a.code, b.code) || cmp(a.text, b.text);
}

function compareWithheld(a: Withheld, b: Withheld): number {
  return cmp(a.service.namespace, b.service.namespace) || cmp(a.service.name, b.service.name) || cmp(a.address, b.address) || cmp(a.kind, b.kind);
}

function reasonText(rule: RouteRule, kind: AddressKind, cidr: string, services: ServiceAddress[], rawNodeName: string): string {
  const nodeName = escapeControls(rawNodeName);
  // The text names at most 5 Services (an aggregate may carry thousands); `services` holds them all.
  const shown = services.slice(0, 5).map((s) => `${escapeControls(s.namespace)}/${escapeControls(s.name)} (${s.address})`);
  const list = services.length > 5 ? `${shown.join(', ')} and ${services.length - 5} more` : shown.join(', ');
  // The text kept with the route is built by join, not a template literal: one flat string, not a rope of its parts
  // (src/text/key.ts). `shown` and `list` are only its parts.
  switch (rule) {
    case 'aggregate':
      return [CIDR_FIELD[kind], ' CIDR ', cidr, ': advertised by every node', services.length ? `; carries ${list}` : ''].join('');
    case 'local-endpoint':
      return [list, ': Local traffic policy and a ready (or serving, terminating) endpoint on node ', nodeName, '; inside ', CIDR_FIELD[kind], ' ', cidr].join('');
    case 'single-address-cidr':
      return [list, ': matched by the single-address ', CIDR_FIELD[kind], ' entry ', cidr, '; advertised by every node (Cluster traffic policy)'].join('');
    case 'per-service':
      return [list, ': serviceLoadBalancerAggregation Disabled and a ready (or serving, terminating) endpoint in the cluster; advertised by every node (Cluster traffic policy) instead of ',
        CIDR_FIELD[kind], ' CIDR ', cidr].join('');
  }
}

function compareServiceAddress(a: ServiceAddress, b: ServiceAddress): number {
  return cmp(a.namespace, b.namespace) || cmp(a.name, b.name) || cmp(a.address, b.address);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
