import type { LinkBandwidth } from '../model/route.js';
import { NO_COMMUNITIES, sortCommunities } from '../model/route.js';
import type { ServiceAttributeLimits, ValueRange, WeightedEcmpSettings } from '../config/types.js';
import { patternMatches } from '../config/service-limits.js';
import { escapeControls, quoteValue } from '../text/escape.js';
import { aggregateLinkBandwidth, endpointsLinkBandwidth } from './weights.js';
import type { DesiredRoute, RouteRule, ServiceRef } from './types.js';
import { joinKey } from '../text/key.js';

/**
 * Per-Service BGP attributes, within the operator's limits, and how the contributions of several Services to one
 * prefix merge. Pure.
 *
 * Annotations on a Service (values: comma- or space-separated lists):
 * - svcbgp.io/communities: "64512:100, 64512:200"   standard communities
 * - svcbgp.io/large-communities: "64512:1:100"        large communities
 * - svcbgp.io/local-pref: "150"                       LOCAL_PREF
 * - svcbgp.io/advertise: "false"                      opt out: the Service makes no route of its own
 * They apply to the routes that exist because of the Service (its host routes: Local traffic policy, single-address
 * load-balancer entries), never to aggregates, which exist because of the configuration. Only values inside the
 * BGPConfiguration's serviceAttributeLimits are taken (none by default); each value outside is refused — reported
 * as a foreign external IP is (log, svcbgp_refused_addresses{reason}), with a Warning Event of its own on the Service
 * (AttributeNotAllowed / InvalidAnnotation, src/kube/events.ts) — and the Service's routes are advertised without it.
 * Opting out is always allowed: it can only take routes away.
 */

export const ANNOTATION_COMMUNITIES = 'svcbgp.io/communities';
export const ANNOTATION_LARGE_COMMUNITIES = 'svcbgp.io/large-communities';
export const ANNOTATION_LOCAL_PREF = 'svcbgp.io/local-pref';
export const ANNOTATION_ADVERTISE = 'svcbgp.io/advertise';

/** Values read from one annotation at most; the rest is one refusal (a refusal is bounded, whatever a tenant writes). */
export const MAX_ANNOTATION_VALUES = 32;

export interface ServiceAttributes {
  communities: readonly string[];
  largeCommunities: readonly string[];
  localPref?: number;
}

export type AttributeRefusalCode = 'attribute-not-allowed' | 'invalid-annotation';

/**
 * A refusal of an annotation value, not of an address: the Service keeps its routes, only without the value. Reports
 * (Events, `explain`, `status`) say so apart from refused addresses.
 */
export function isAttributeRefusal(code: string): code is AttributeRefusalCode {
  return code === 'attribute-not-allowed' || code === 'invalid-annotation';
}

export interface AttributeRefusal {
  /** The refused value as written (escaped, bounded); '' when the whole annotation is the problem. */
  value: string;
  code: AttributeRefusalCode;
  text: string;
  summary: string;
}

export interface ServiceAttributeReading {
  /** false: svcbgp.io/advertise is "false". */
  advertise: boolean;
  attributes: ServiceAttributes;
  refused: AttributeRefusal[];
}

const STD = /^(0|[1-9][0-9]{0,4}):(0|[1-9][0-9]{0,4})$/;
const LARGE = /^(0|[1-9][0-9]{0,9}):(0|[1-9][0-9]{0,9}):(0|[1-9][0-9]{0,9})$/;

function rangeText(r: ValueRange): string {
  return r.min === r.max ? String(r.min) : `${r.min}-${r.max}`;
}

function allowedText(list: readonly { text: string }[]): string {
  const shown = list.slice(0, 5).map((x) => x.text);
  return list.length > 5 ? `${shown.join(', ')} and ${list.length - 5} more` : shown.join(', ');
}

function splitValues(raw: string): string[] {
  return raw.split(/[\s,]+/).filter((x) => x !== '');
}

const WITHOUT = "the Service's routes are advertised without it";

/** The fix an operator applies, named in the refusal (log, Event, explain, status): the field of the BGPConfiguration. */
function toAllow(field: string, how: 'add it to' | 'set' | 'widen'): string {
  return `to allow it, ${how} spec.serviceAttributeLimits.${field} in the BGPConfiguration "default"`;
}

/** The attributes of a Service that adds none: one frozen object for all of them. */
const NO_ATTRIBUTES: ServiceAttributes = Object.freeze({ communities: NO_COMMUNITIES, largeCommunities: NO_COMMUNITIES });

/** Reads the svcbgp.io/* annotations of one Service against the operator's limits. Never throws. */
export function readServiceAttributes(annotations: unknown, limits: ServiceAttributeLimits | undefined): ServiceAttributeReading {
  // Most Services carry no attribute annotation (most have no annotation at all): they share one frozen empty set.
  const out: ServiceAttributeReading = { advertise: true, attributes: NO_ATTRIBUTES, refused: [] };
  if (typeof annotations !== 'object' || annotations === null || Array.isArray(annotations)) return out;
  const a = annotations as Record<string, unknown>;
  const refuse = (value: string, code: AttributeRefusalCode, text: string, summary: string): void => {
    out.refused.push({ value, code, text: escapeControls(text), summary: escapeControls(summary) });
  };

  const adv = a[ANNOTATION_ADVERTISE];
  if (adv !== undefined) {
    if (adv === 'false') out.advertise = false;
    else if (adv !== 'true') {
      refuse('', 'invalid-annotation', `annotation ${ANNOTATION_ADVERTISE} = ${quoteValue(adv, 40)}: expected "true" or "false"; ignored`,
        `annotation ${ANNOTATION_ADVERTISE}: expected "true" or "false"; ignored`);
    }
  }

  const communities: string[] = [];
  const largeCommunities: string[] = [];
  const lists: { key: string; what: string; pattern: RegExp; allowed: readonly { parts: ValueRange[]; text: string }[]; field: string; into: string[] }[] = [
    { key: ANNOTATION_COMMUNITIES, what: 'community', pattern: STD, allowed: limits?.communities ?? [], field: 'communities', into: communities },
    { key: ANNOTATION_LARGE_COMMUNITIES, what: 'large community', pattern: LARGE, allowed: limits?.largeCommunities ?? [], field: 'largeCommunities', into: largeCommunities },
  ];
  for (const l of lists) {
    const raw = a[l.key];
    if (raw === undefined) continue;
    if (typeof raw !== 'string') {
      refuse('', 'invalid-annotation', `annotation ${l.key} is not a string: ${quoteValue(raw, 40)}`, `annotation ${l.key} is not a string`);
      continue;
    }
    const values = splitValues(raw);
    if (values.length > MAX_ANNOTATION_VALUES) {
      refuse('', 'invalid-annotation', `annotation ${l.key} lists ${values.length} values; at most ${MAX_ANNOTATION_VALUES} are read, the rest is ignored`,
        `annotation ${l.key} lists more than ${MAX_ANNOTATION_VALUES} values`);
    }
    for (const v of values.slice(0, MAX_ANNOTATION_VALUES)) {
      const m = l.pattern.exec(v);
      const inRange = m !== null && m.slice(1).every((p) => Number(p) <= (l.what === 'community' ? 0xffff : 0xffffffff));
      if (!inRange) {
        refuse(quoteValue(v, 40), 'invalid-annotation', `${l.what} ${quoteValue(v, 40)} in annotation ${l.key} is not a valid ${l.what} (${l.what === 'community' ? '"aa:nn", each part 0..65535' : '"aa:nn:mm", each part 0..4294967295'}); ${WITHOUT}`,
          `annotation ${l.key}: not a valid ${l.what}; ${WITHOUT}`);
        continue;
      }
      const canonical = m.slice(1).map(Number).join(':');
      if (limits === undefined) {
        refuse(canonical, 'attribute-not-allowed', `${l.what} ${canonical} in annotation ${l.key} is not allowed: the BGPConfiguration sets no serviceAttributeLimits, so Services may add no attribute; ${WITHOUT} (${toAllow(l.field, 'set')})`,
          `annotation ${l.key}: the BGPConfiguration sets no serviceAttributeLimits; ${WITHOUT} (${toAllow(l.field, 'set')})`);
      } else if (!l.allowed.some((p) => patternMatches(p.parts, canonical))) {
        const allowed = l.allowed.length > 0 ? allowedText(l.allowed) : 'none';
        refuse(canonical, 'attribute-not-allowed', `${l.what} ${canonical} in annotation ${l.key} is outside serviceAttributeLimits.${l.field} (${allowed}); ${WITHOUT} (${toAllow(l.field, 'add it to')})`,
          `annotation ${l.key}: outside serviceAttributeLimits.${l.field} (${allowed}); ${WITHOUT} (${toAllow(l.field, 'add it to')})`);
      } else if (!l.into.includes(canonical)) {
        l.into.push(canonical);
      }
    }
  }
  let localPref: number | undefined;

  const lp = a[ANNOTATION_LOCAL_PREF];
  if (lp !== undefined) {
    const text = typeof lp === 'string' ? lp.trim() : '';
    const n = /^(0|[1-9][0-9]{0,9})$/.test(text) ? Number(text) : NaN;
    if (!(n <= 0xffffffff)) {
      refuse(quoteValue(lp, 40), 'invalid-annotation', `annotation ${ANNOTATION_LOCAL_PREF} = ${quoteValue(lp, 40)}: expected a LOCAL_PREF 0..4294967295; ${WITHOUT}`,
        `annotation ${ANNOTATION_LOCAL_PREF}: not a LOCAL_PREF; ${WITHOUT}`);
    } else if (limits?.localPref === undefined) {
      const why = limits === undefined ? 'the BGPConfiguration sets no serviceAttributeLimits' : 'serviceAttributeLimits sets no localPref range';
      refuse(String(n), 'attribute-not-allowed', `local-pref ${n} in annotation ${ANNOTATION_LOCAL_PREF} is not allowed: ${why}; ${WITHOUT} (${toAllow('localPref', 'set')})`,
        `annotation ${ANNOTATION_LOCAL_PREF}: ${why}; ${WITHOUT} (${toAllow('localPref', 'set')})`);
    } else if (n < limits.localPref.min || n > limits.localPref.max) {
      const range = rangeText(limits.localPref);
      refuse(String(n), 'attribute-not-allowed', `local-pref ${n} in annotation ${ANNOTATION_LOCAL_PREF} is outside serviceAttributeLimits.localPref (${range}); ${WITHOUT} (${toAllow('localPref', 'widen')})`,
        `annotation ${ANNOTATION_LOCAL_PREF}: outside serviceAttributeLimits.localPref (${range}); ${WITHOUT} (${toAllow('localPref', 'widen')})`);
    } else {
      localPref = n;
    }
  }
  if (communities.length > 0 || largeCommunities.length > 0 || localPref !== undefined) {
    out.attributes = { communities: sortCommunities(communities), largeCommunities: sortCommunities(largeCommunities) };
    if (localPref !== undefined) out.attributes.localPref = localPref;
  }
  return out;
}

// ---- merging ------------------------------------------------------------------------------------------------

/** Why and with what one Service (or the configuration, for an aggregate) wants one prefix. */
export interface RouteContribution {
  rule: RouteRule;
  /** undefined for an aggregate: it exists because of the configuration. */
  service?: ServiceRef;
  /** rule local-endpoint: this Service's usable local endpoints for the prefix's family (./endpoints.ts LocalEndpointState.usable). */
  localEndpoints?: number;
  /** What the Service's annotations add (within the limits); empty for an aggregate. */
  attributes: ServiceAttributes;
}

/** Where a route's Service attributes came from: one entry per Service that adds any (explain, status). */
export interface ServiceAttributeSource extends ServiceAttributes {
  service: ServiceRef;
}

/** Where a route's link bandwidth came from. */
export interface LinkBandwidthSource {
  /** local-endpoints: the sum of the Services' usable local endpoints; aggregate: weightedECMP.aggregateLinkBandwidthMbps. */
  basis: 'local-endpoints' | 'aggregate';
  localEndpoints?: number;
  /** basis local-endpoints: each Service and its endpoints on this node. */
  services?: { service: ServiceRef; localEndpoints: number }[];
  aggregateMbps?: number;
}

export interface MergedAttributes extends ServiceAttributes {
  linkBandwidth?: LinkBandwidth;
  serviceAttributesFrom: ServiceAttributeSource[];
  linkBandwidthFrom?: LinkBandwidthSource;
}

export interface MergeSettings {
  asNumber: number;
  weightedEcmp?: WeightedEcmpSettings;
}

function refKey(s: ServiceRef): string {
  return joinKey('/', s.namespace, s.name);
}

function compareRefs(a: ServiceRef, b: ServiceRef): number {
  const x = refKey(a);
  const y = refKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * How the contributions of several Services (and the configuration) to one prefix merge. The one place that
 * decides it, for the full computation (./desired.ts) and an incremental one alike. Order-independent.
 * - communities and large communities: the union of every Service's (added to those of prefixAdvertisements);
 * - LOCAL_PREF: the lowest any Service asks for (a Service can make a shared prefix less preferred, never pull it
 *   above what its co-tenants chose); it replaces prefixAdvertisements' localPref for that route;
 * - link bandwidth (weightedECMP on): when every contribution is a Local traffic policy, the SUM of the Services'
 *   usable local endpoints (each of them serves traffic to that address on this node); when every contribution is
 *   an aggregate, the operator's aggregateLinkBandwidthMbps if set; otherwise (the route also exists on every node
 *   for another reason) none, since FRR weights only routes whose every path carries one, and a weight by local
 *   endpoints would misstate a route that every node advertises anyway.
 * A Service that contributes twice (two rules) counts once per rule; its endpoints are counted once.
 */
export function mergeContributions(contributions: readonly RouteContribution[], settings: MergeSettings): MergedAttributes {
  const communities = new Set<string>();
  const large = new Set<string>();
  let localPref: number | undefined;
  const bySvc = new Map<string, ServiceAttributeSource>();
  const endpoints = new Map<string, { service: ServiceRef; localEndpoints: number }>();
  for (const c of contributions) {
    if (c.service !== undefined) {
      const a = c.attributes;
      if (a.communities.length > 0 || a.largeCommunities.length > 0 || a.localPref !== undefined) {
        bySvc.set(refKey(c.service), { service: { ...c.service }, communities: [...a.communities], largeCommunities: [...a.largeCommunities], ...(a.localPref !== undefined ? { localPref: a.localPref } : {}) });
      }
      a.communities.forEach((x) => communities.add(x));
      a.largeCommunities.forEach((x) => large.add(x));
      if (a.localPref !== undefined) localPref = localPref === undefined ? a.localPref : Math.min(localPref, a.localPref);
      if (c.rule === 'local-endpoint') {
        const k = refKey(c.service);
        const n = Math.max(endpoints.get(k)?.localEndpoints ?? 0, c.localEndpoints ?? 0);
        endpoints.set(k, { service: { ...c.service }, localEndpoints: n });
      }
    }
  }
  const out: MergedAttributes = {
    communities: sortCommunities([...communities]),
    largeCommunities: sortCommunities([...large]),
    serviceAttributesFrom: [...bySvc.values()].sort((a, b) => compareRefs(a.service, b.service)),
  };
  if (localPref !== undefined) out.localPref = localPref;
  const w = settings.weightedEcmp;
  if (w !== undefined && contributions.length > 0) {
    if (contributions.every((c) => c.rule === 'local-endpoint')) {
      const services = [...endpoints.values()].sort((a, b) => compareRefs(a.service, b.service));
      const total = services.reduce((s, x) => s + x.localEndpoints, 0);
      if (total > 0) {
        out.linkBandwidth = endpointsLinkBandwidth(total, settings.asNumber);
        out.linkBandwidthFrom = { basis: 'local-endpoints', localEndpoints: total, services };
      }
    } else if (contributions.every((c) => c.rule === 'aggregate') && w.aggregateMbps !== undefined) {
      out.linkBandwidth = aggregateLinkBandwidth(w.aggregateMbps, settings.asNumber);
      out.linkBandwidthFrom = { basis: 'aggregate', aggregateMbps: w.aggregateMbps };
    }
  }
  return out;
}

/** Where a route's weight and Service attributes come from (weightedECMP, svcbgp.io/* annotations), one line each. */
export function serviceAttributeLines(rt: Pick<DesiredRoute, 'linkBandwidthFrom' | 'serviceAttributesFrom'>): string[] {
  return serviceAttributeReasons(rt).map((r) => r.text);
}

/** The same, each with what it is about (the reconciler's DesiredPath carries these beside the route's reasons). */
export function serviceAttributeReasons(
  rt: Pick<DesiredRoute, 'linkBandwidthFrom' | 'serviceAttributesFrom'>,
): { rule: 'link-bandwidth' | 'service-attributes'; text: string }[] {
  const out: { rule: 'link-bandwidth' | 'service-attributes'; text: string }[] = [];
  const name = (s: { namespace: string; name: string }): string => `${escapeControls(s.namespace)}/${escapeControls(s.name)}`;
  const lb = rt.linkBandwidthFrom;
  if (lb?.basis === 'local-endpoints') {
    const shown = (lb.services ?? []).slice(0, 5).map((s) => `${name(s.service)} ${s.localEndpoints}`);
    const more = (lb.services ?? []).length > 5 ? ` and ${(lb.services ?? []).length - 5} more` : '';
    out.push({ rule: 'link-bandwidth', text: `weight from ${lb.localEndpoints ?? 0} usable local endpoint(s) (weightedECMP): ${shown.join(', ')}${more}` });
  } else if (lb?.basis === 'aggregate') {
    out.push({ rule: 'link-bandwidth', text: `weight from weightedECMP.aggregateLinkBandwidthMbps ${lb.aggregateMbps ?? 0}` });
  }
  for (const s of (rt.serviceAttributesFrom ?? []).slice(0, 5)) {
    const parts = [
      s.communities.length ? `communities ${s.communities.join(' ')}` : '',
      s.largeCommunities.length ? `large communities ${s.largeCommunities.join(' ')}` : '',
      s.localPref !== undefined ? `local-pref ${s.localPref}` : '',
    ].filter((x) => x !== '');
    out.push({ rule: 'service-attributes', text: `attributes from Service ${name(s.service)} annotations: ${parts.join(', ')}` });
  }
  return out;
}
