import {
  ANNOTATION_ADVERTISE,
  ANNOTATION_COMMUNITIES,
  ANNOTATION_LARGE_COMMUNITIES,
  ANNOTATION_LOCAL_PREF,
  KNOWN_ANNOTATIONS,
  MAX_UNKNOWN_ANNOTATIONS,
} from '../model/annotations.js';
import type { AttributeRefusalCode } from '../model/path.js';
import type { LinkBandwidth } from '../model/route.js';
import { NO_COMMUNITIES, sortCommunities } from '../model/route.js';
import type { CommunityIndex, ServiceAttributeLimits, ValueRange, WeightedEcmpSettings } from '../config/types.js';
import { isMarkerCommunity, isReservedCommunity } from '../config/service-limits.js';
import { escapeControls, quoteValue } from '../text/escape.js';
import { aggregateLinkBandwidth, endpointsLinkBandwidth } from './weights.js';
import type { DesiredPath, LinkBandwidthSource, RouteRule, ServiceAttributes, ServiceAttributeSource, ServiceRef } from './types.js';
export type { LinkBandwidthSource, ServiceAttributes, ServiceAttributeSource } from './types.js';
import { joinKey } from '../text/key.js';
import { MAX_SERVICE_COMMUNITIES, MAX_SERVICE_LARGE_COMMUNITIES } from '../model/path-size.js';

/**
 * Per-Service BGP attributes (svcbgp.io/communities, large-communities, local-pref, advertise), within the operator's
 * serviceAttributeLimits, and how the contributions of several Services to one prefix merge. Pure. A value outside
 * the limits is refused and reported like a foreign address, and the routes go out without it
 * (docs/design.md § Tenant attribute merge rules; for operators: docs/configuration.md § Per-Service attributes).
 */

/** Values read from one annotation at most; the rest is one refusal (a refusal is bounded, whatever a tenant writes). */
export const MAX_ANNOTATION_VALUES = 32;

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

/** Refused values of one annotation kept one by one; the rest is counted in one more refusal (a tenant writes any number). */
export const MAX_REFUSALS_PER_ANNOTATION = 3;

/** Reads the svcbgp.io/* annotations of one Service against the operator's limits. Never throws. */
export function readServiceAttributes(annotations: unknown, limits: ServiceAttributeLimits | undefined): ServiceAttributeReading {
  // Most Services carry no attribute annotation (most have no annotation at all): they share one frozen empty set.
  const out: ServiceAttributeReading = { advertise: true, attributes: NO_ATTRIBUTES, refused: [] };
  if (typeof annotations !== 'object' || annotations === null || Array.isArray(annotations)) return out;
  const a = annotations as Record<string, unknown>;
  const refuse = (value: string, code: AttributeRefusalCode, text: string, summary: string): void => {
    out.refused.push({ value, code, text: escapeControls(text), summary: escapeControls(summary) });
  };

  const unknown = Object.keys(a).filter((k) => k.startsWith('svcbgp.io/') && !KNOWN_ANNOTATIONS.includes(k));
  if (unknown.length > 0) {
    const shown = unknown
      .slice(0, MAX_UNKNOWN_ANNOTATIONS)
      .map((k) => quoteValue(k, 80))
      .join(', ');
    const more = unknown.length > MAX_UNKNOWN_ANNOTATIONS ? ` and ${unknown.length - MAX_UNKNOWN_ANNOTATIONS} more` : '';
    refuse(
      '',
      'invalid-annotation',
      `unknown annotation ${shown}${more}; ignored (svcbgp reads ${KNOWN_ANNOTATIONS.join(', ')})`,
      `unknown svcbgp.io annotation; ignored (svcbgp reads ${KNOWN_ANNOTATIONS.join(', ')})`,
    );
  }

  const adv = a[ANNOTATION_ADVERTISE];
  if (adv !== undefined) {
    if (adv === 'false') out.advertise = false;
    else if (adv !== 'true') {
      refuse(
        '',
        'invalid-annotation',
        `annotation ${ANNOTATION_ADVERTISE} = ${quoteValue(adv, 40)}: expected "true" or "false"; ignored`,
        `annotation ${ANNOTATION_ADVERTISE}: expected "true" or "false"; ignored`,
      );
    }
  }

  const communities: string[] = [];
  const largeCommunities: string[] = [];
  const lists: {
    key: string;
    what: string;
    pattern: RegExp;
    max: number;
    allowed: readonly { text: string }[];
    index?: CommunityIndex;
    field: string;
    into: string[];
  }[] = [
    {
      key: ANNOTATION_COMMUNITIES,
      what: 'community',
      pattern: STD,
      max: 0xffff,
      allowed: limits?.communities ?? [],
      ...(limits ? { index: limits.communityIndex } : {}),
      field: 'communities',
      into: communities,
    },
    {
      key: ANNOTATION_LARGE_COMMUNITIES,
      what: 'large community',
      pattern: LARGE,
      max: 0xffffffff,
      allowed: limits?.largeCommunities ?? [],
      ...(limits ? { index: limits.largeCommunityIndex } : {}),
      field: 'largeCommunities',
      into: largeCommunities,
    },
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
      refuse(
        '',
        'invalid-annotation',
        `annotation ${l.key} lists more than ${MAX_ANNOTATION_VALUES} values; the first ${MAX_ANNOTATION_VALUES} are read, the rest is ignored`,
        `annotation ${l.key} lists more than ${MAX_ANNOTATION_VALUES} values`,
      );
    }
    const before = out.refused.length;
    let over = 0;
    const overCodes = new Set<AttributeRefusalCode>();
    const refuseValue = (value: string, code: AttributeRefusalCode, text: string, summary: string): void => {
      if (out.refused.length - before < MAX_REFUSALS_PER_ANNOTATION) refuse(value, code, text, summary);
      else {
        over++;
        overCodes.add(code);
      }
    };
    for (const v of values.slice(0, MAX_ANNOTATION_VALUES)) {
      const m = l.pattern.exec(v);
      const parts = m === null ? [] : m.slice(1).map(Number);
      if (m === null || parts.some((p) => p > l.max)) {
        refuseValue(
          quoteValue(v, 40),
          'invalid-annotation',
          `${l.what} ${quoteValue(v, 40)} in annotation ${l.key} is not a valid ${l.what} (${l.what === 'community' ? '"aa:nn", each part 0..65535' : '"aa:nn:mm", each part 0..4294967295'}); ${WITHOUT}`,
          `annotation ${l.key}: not a valid ${l.what}; ${WITHOUT}`,
        );
        continue;
      }
      const canonical = parts.join(':');
      if (limits === undefined || l.index === undefined) {
        refuseValue(
          canonical,
          'attribute-not-allowed',
          `${l.what} ${canonical} in annotation ${l.key} is not allowed: the BGPConfiguration sets no serviceAttributeLimits, so Services may add no attribute; ${WITHOUT} (${toAllow(l.field, 'set')})`,
          `annotation ${l.key}: the BGPConfiguration sets no serviceAttributeLimits; ${WITHOUT} (${toAllow(l.field, 'set')})`,
        );
      } else if (isMarkerCommunity(parts)) {
        refuseValue(
          canonical,
          'attribute-not-allowed',
          `${l.what} ${canonical} in annotation ${l.key} is svcbgp's ownership marker: a Service may never set it; ${WITHOUT}`,
          `annotation ${l.key}: svcbgp's ownership marker; ${WITHOUT}`,
        );
      } else if (isReservedCommunity(parts) && !limits.allowWellKnownCommunities && l.index.has(parts)) {
        refuseValue(
          canonical,
          'attribute-not-allowed',
          `${l.what} ${canonical} in annotation ${l.key} lies in the reserved ranges 0:* / 65535:* (RFC 1997: the well-known communities routers act on); ${WITHOUT} (to allow it, set spec.serviceAttributeLimits.allowWellKnownCommunities: true in the BGPConfiguration "default")`,
          `annotation ${l.key}: a reserved (well-known) community; ${WITHOUT} (to allow it, set spec.serviceAttributeLimits.allowWellKnownCommunities: true)`,
        );
      } else if (!l.index.has(parts)) {
        const allowed = l.allowed.length > 0 ? allowedText(l.allowed) : 'none';
        refuseValue(
          canonical,
          'attribute-not-allowed',
          `${l.what} ${canonical} in annotation ${l.key} is outside serviceAttributeLimits.${l.field} (${allowed}); ${WITHOUT} (${toAllow(l.field, 'add it to')})`,
          `annotation ${l.key}: outside serviceAttributeLimits.${l.field} (${allowed}); ${WITHOUT} (${toAllow(l.field, 'add it to')})`,
        );
      } else if (!l.into.includes(canonical)) {
        l.into.push(canonical);
      }
    }
    if (over > 0) {
      // One refusal for the rest, under their reason when they share one.
      const [only] = overCodes; // the one code when size is 1
      const code = overCodes.size === 1 && only !== undefined ? only : 'invalid-annotation';
      refuse(
        `(${over} more)`,
        code,
        `annotation ${l.key}: ${over} more value(s) refused as well (the first ${MAX_REFUSALS_PER_ANNOTATION} are named); ${WITHOUT}`,
        `annotation ${l.key}: ${over} more value(s) refused; ${WITHOUT}`,
      );
    }
  }
  let localPref: number | undefined;

  const lp = a[ANNOTATION_LOCAL_PREF];
  if (lp !== undefined) {
    const text = typeof lp === 'string' ? lp.trim() : '';
    const n = /^(0|[1-9][0-9]{0,9})$/.test(text) ? Number(text) : NaN;
    if (!(n <= 0xffffffff)) {
      refuse(
        quoteValue(lp, 40),
        'invalid-annotation',
        `annotation ${ANNOTATION_LOCAL_PREF} = ${quoteValue(lp, 40)}: expected a LOCAL_PREF 0..4294967295; ${WITHOUT}`,
        `annotation ${ANNOTATION_LOCAL_PREF}: not a LOCAL_PREF; ${WITHOUT}`,
      );
    } else if (limits?.localPref === undefined) {
      const why = limits === undefined ? 'the BGPConfiguration sets no serviceAttributeLimits' : 'serviceAttributeLimits sets no localPref range';
      refuse(
        String(n),
        'attribute-not-allowed',
        `local-pref ${n} in annotation ${ANNOTATION_LOCAL_PREF} is not allowed: ${why}; ${WITHOUT} (${toAllow('localPref', 'set')})`,
        `annotation ${ANNOTATION_LOCAL_PREF}: ${why}; ${WITHOUT} (${toAllow('localPref', 'set')})`,
      );
    } else if (n < limits.localPref.min || n > limits.localPref.max) {
      const range = rangeText(limits.localPref);
      refuse(
        String(n),
        'attribute-not-allowed',
        `local-pref ${n} in annotation ${ANNOTATION_LOCAL_PREF} is outside serviceAttributeLimits.localPref (${range}); ${WITHOUT} (${toAllow('localPref', 'widen')})`,
        `annotation ${ANNOTATION_LOCAL_PREF}: outside serviceAttributeLimits.localPref (${range}); ${WITHOUT} (${toAllow('localPref', 'widen')})`,
      );
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
  /** The Service's metadata.creationTimestamp, when it adds attributes: the older Service keeps them on a full route. */
  since?: string;
}

/** A contribution a Service made (not an aggregate's): the only kind whose attributes the merge weighs. */
type ServiceContribution = RouteContribution & { service: ServiceRef };

function fromService(c: RouteContribution): c is ServiceContribution {
  return c.service !== undefined;
}

/** A Service whose attributes the merge left out of a route, and why (reported as a refusal: log, Event, status). */
export interface AttributesNotApplied {
  service: ServiceRef;
  text: string;
  summary: string;
}

export interface MergedAttributes extends ServiceAttributes {
  linkBandwidth?: LinkBandwidth;
  serviceAttributesFrom: ServiceAttributeSource[];
  linkBandwidthFrom?: LinkBandwidthSource;
  notApplied: AttributesNotApplied[];
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
 * How the contributions of several Services (and the configuration) to one prefix merge: the one place that decides
 * it, for the full computation (./desired.ts) and an incremental one alike. Order-independent
 * (docs/design.md § Tenant attribute merge rules says why each):
 * - never on an aggregate: a prefix that is also a configured CIDR carries only the operator's attributes;
 * - never on an address that Services of several namespaces use (`namespaces`: counted in the whole cluster);
 * - communities and large communities: the union of the Services' (added to prefixAdvertisements'), at most
 *   MAX_SERVICE_COMMUNITIES + MAX_SERVICE_LARGE_COMMUNITIES per route (src/model/path-size.ts), Services taken oldest
 *   first (creationTimestamp, then namespace/name), each whole or not at all;
 * - LOCAL_PREF: the lowest any applied Service asks for; it replaces prefixAdvertisements' localPref for that route;
 * - link bandwidth (weightedECMP on): all Local contributions, the SUM of the Services' usable local endpoints; all
 *   aggregates, aggregateLinkBandwidthMbps if set; otherwise none.
 * A Service that contributes twice (two rules) counts once per rule; its endpoints are counted once.
 */
export function mergeContributions(contributions: readonly RouteContribution[], settings: MergeSettings, namespaces: readonly string[] = []): MergedAttributes {
  const wanting = new Map<string, ServiceContribution>();
  const endpoints = new Map<string, { service: ServiceRef; localEndpoints: number }>();
  for (const c of contributions) {
    if (!fromService(c)) continue;
    const k = refKey(c.service);
    const a = c.attributes;
    if (a.communities.length > 0 || a.largeCommunities.length > 0 || a.localPref !== undefined) wanting.set(k, c);
    if (c.rule === 'local-endpoint') {
      const n = Math.max(endpoints.get(k)?.localEndpoints ?? 0, c.localEndpoints ?? 0);
      endpoints.set(k, { service: { ...c.service }, localEndpoints: n });
    }
  }
  const applied = applicable([...wanting.values()], contributions, namespaces);
  const communities = new Set<string>();
  const large = new Set<string>();
  let localPref: number | undefined;
  for (const c of applied.taken) {
    for (const x of c.attributes.communities) communities.add(x);
    for (const x of c.attributes.largeCommunities) large.add(x);
    if (c.attributes.localPref !== undefined) localPref = localPref === undefined ? c.attributes.localPref : Math.min(localPref, c.attributes.localPref);
  }
  const out: MergedAttributes = {
    communities: sortCommunities([...communities]),
    largeCommunities: sortCommunities([...large]),
    serviceAttributesFrom: applied.taken.map((c) => attributeSource(c)).sort((a, b) => compareRefs(a.service, b.service)),
    notApplied: applied.left.sort((a, b) => compareRefs(a.service, b.service)),
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

function attributeSource(c: ServiceContribution): ServiceAttributeSource {
  const a = c.attributes;
  return {
    service: { ...c.service },
    communities: [...a.communities],
    largeCommunities: [...a.largeCommunities],
    ...(a.localPref !== undefined ? { localPref: a.localPref } : {}),
  };
}

/** Which Services' attributes a route takes (see mergeContributions), and why the others' are left out. */
function applicable(
  wanting: ServiceContribution[],
  all: readonly RouteContribution[],
  namespaces: readonly string[],
): { taken: ServiceContribution[]; left: AttributesNotApplied[] } {
  if (wanting.length === 0) return { taken: [], left: [] };
  const leaveAll = (text: string, summary: string): { taken: ServiceContribution[]; left: AttributesNotApplied[] } => ({
    taken: [],
    left: wanting.map((c) => ({ service: { ...c.service }, text, summary })),
  });
  if (all.some((c) => c.rule === 'aggregate')) {
    return leaveAll(
      "its annotations are not applied here: the prefix is also an operator's configured CIDR (an aggregate every node advertises), which carries only the operator's attributes",
      "annotations not applied: the prefix is also an operator's aggregate",
    );
  }
  if (namespaces.length > 1) {
    const list = namespaces.slice(0, 5).map(escapeControls).join(', ') + (namespaces.length > 5 ? ` and ${namespaces.length - 5} more` : '');
    return leaveAll(
      `its annotations are not applied: Services of several namespaces (${list}) use this address, and a Service's annotations never change the route of another namespace's traffic`,
      'annotations not applied: Services of several namespaces use this address',
    );
  }
  const ordered = [...wanting].sort((a, b) => cmpText(a.since ?? '', b.since ?? '') || compareRefs(a.service, b.service));
  const communities = new Set<string>();
  const large = new Set<string>();
  const taken: ServiceContribution[] = [];
  const left: AttributesNotApplied[] = [];
  for (const c of ordered) {
    const std = c.attributes.communities.filter((x) => !communities.has(x)).length;
    const lg = c.attributes.largeCommunities.filter((x) => !large.has(x)).length;
    if (communities.size + std <= MAX_SERVICE_COMMUNITIES && large.size + lg <= MAX_SERVICE_LARGE_COMMUNITIES) {
      for (const x of c.attributes.communities) communities.add(x);
      for (const x of c.attributes.largeCommunities) large.add(x);
      taken.push(c);
      continue;
    }
    const older =
      taken
        .slice(0, 3)
        .map((t) => `${escapeControls(t.service.namespace)}/${escapeControls(t.service.name)}`)
        .join(', ') + (taken.length > 3 ? ` and ${taken.length - 3} more` : '');
    left.push({
      service: { ...c.service },
      text: `its annotations are not applied: with them the route would carry more than ${MAX_SERVICE_COMMUNITIES} communities or ${MAX_SERVICE_LARGE_COMMUNITIES} large communities from Services (one BGP message must hold the path); Services created earlier keep theirs (${older})`,
      summary: `annotations not applied: the shared route already carries the most communities Services may add (${MAX_SERVICE_COMMUNITIES} + ${MAX_SERVICE_LARGE_COMMUNITIES})`,
    });
  }
  return { taken, left };
}

function cmpText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Where a route's weight and Service attributes come from (weightedECMP, svcbgp.io/* annotations), one line each. */
export function serviceAttributeLines(rt: Pick<DesiredPath, 'linkBandwidthFrom' | 'serviceAttributesFrom'>): string[] {
  return serviceAttributeReasons(rt).map((r) => r.text);
}

/** The same, each with what it is about (a DesiredPath carries these after the rules' reasons). */
export function serviceAttributeReasons(
  rt: Pick<DesiredPath, 'linkBandwidthFrom' | 'serviceAttributesFrom'>,
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
