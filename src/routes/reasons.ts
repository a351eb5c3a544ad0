import { escapeControls } from '../text/escape.js';
import type { Route } from '../model/route.js';
import { serviceAttributeReasons } from './service-attributes.js';
import {
  CIDR_FIELD,
  type AddressKind,
  type AttributeSource,
  type DesiredPath,
  type LinkBandwidthSource,
  type PathReason,
  type RouteKind,
  type RouteReason,
  type RouteRule,
  type ServiceAddress,
  type ServiceAttributeSource,
} from './types.js';

/** The kinds of a path, one array per distinct list (a handful exist): not one array per path. */
const KINDS = new Map<string, RouteKind[]>();

/** The kinds a route exists for, from its rules' reasons (an aggregate counts as its kind's CIDR). */
export function kindsOf(reasons: readonly RouteReason[]): RouteKind[] {
  const list = [...new Set(reasons.map((why): RouteKind => (why.rule === 'aggregate' ? `${why.kind}-cidr` : why.kind)))];
  const key = list.join(',');
  let kinds = KINDS.get(key);
  if (!kinds) KINDS.set(key, (kinds = list));
  return kinds;
}

/**
 * A route with its reasons: the rules' (sorted), then where its weight and its Service attributes come from, so
 * the add log and `svcbgp status` show both.
 */
export function desiredPath(
  route: Route,
  reasons: RouteReason[],
  attributesFrom: readonly AttributeSource[],
  serviceAttributesFrom: readonly ServiceAttributeSource[] | undefined,
  linkBandwidthFrom: LinkBandwidthSource | undefined,
): DesiredPath {
  const path: DesiredPath = { route, kinds: kindsOf(reasons), reasons, attributesFrom };
  if (serviceAttributesFrom) path.serviceAttributesFrom = serviceAttributesFrom;
  if (linkBandwidthFrom) path.linkBandwidthFrom = linkBandwidthFrom;
  const extra = serviceAttributeReasons(path);
  if (extra.length > 0) path.reasons = [...reasons, ...extra];
  return path;
}

/** A reason that says where an attribute comes from (the weight, a Service's annotations), not why the route exists. */
export function isAttributeReason(why: PathReason): boolean {
  return why.rule === 'link-bandwidth' || why.rule === 'service-attributes';
}

/** The rules' reasons of a path (the first of its reasons): why the route exists. */
export function ruleReasons(path: Pick<DesiredPath, 'reasons'>): RouteReason[] {
  return path.reasons.filter((why): why is RouteReason => !isAttributeReason(why) && why.rule !== 'node-leaving');
}

/** The text of a rule's reason: what the route is for, the rule, and the CIDR it is based on. */
export function reasonText(rule: RouteRule, kind: AddressKind, cidr: string, services: ServiceAddress[], rawNodeName: string): string {
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
      return [list, ': Local traffic policy and a ready (or serving, terminating) endpoint on node ', nodeName, '; inside ', CIDR_FIELD[kind], ' ', cidr].join(
        '',
      );
    case 'single-address-cidr':
      return [list, ': matched by the single-address ', CIDR_FIELD[kind], ' entry ', cidr, '; advertised by every node (Cluster traffic policy)'].join('');
    case 'per-service':
      return [
        list,
        ': serviceLoadBalancerAggregation Disabled and a ready (or serving, terminating) endpoint in the cluster; advertised by every node (Cluster traffic policy) instead of ',
        CIDR_FIELD[kind],
        ' CIDR ',
        cidr,
      ].join('');
  }
}

export function compareServiceAddress(a: ServiceAddress, b: ServiceAddress): number {
  return cmp(a.namespace, b.namespace) || cmp(a.name, b.name) || cmp(a.address, b.address);
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
