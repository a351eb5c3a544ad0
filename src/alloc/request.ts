import type { Family } from '../model/route.js';
import {
  ALLOCATOR_ANNOTATIONS,
  ANNOTATION_IPV4_POOLS,
  ANNOTATION_IPV6_POOLS,
  ANNOTATION_LOAD_BALANCER_IPS,
  ANNOTATION_SHARING_KEY,
  LOAD_BALANCER_CLASS,
} from '../model/annotations.js';
import { parseIp, type ParsedIp } from '../config/net.js';
import type { LoadBalancerPool } from '../config/ip-pools.js';
import { escapeControls, quoteValue } from '../text/escape.js';
import type { LbService, Reason } from './types.js';

/**
 * What a Service asks of the allocator: which families, which addresses or pools, which sharing key. Read from the
 * annotations Calico's kube-controllers reads (kube-controllers/pkg/controllers/loadbalancer, parseAnnotations and
 * IsCalicoManagedLoadBalancer), Kubernetes' spec.loadBalancerIP, and svcbgp's own sharing key.
 */

export { ALLOCATOR_ANNOTATIONS, ANNOTATION_IPV4_POOLS, ANNOTATION_IPV6_POOLS, ANNOTATION_LOAD_BALANCER_IPS, ANNOTATION_SHARING_KEY };

export type FamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

export interface LbRequest {
  policy: FamilyPolicy;
  /** The families to serve, primary first. */
  families: Family[];
  /** Addresses asked for by name, per family; when present the pools annotations are not read (as Calico). */
  addresses: Map<Family, ParsedIp>;
  /** Pools named per family (resolved); absent: every Automatic pool of the family. */
  pools: Map<Family, LoadBalancerPool[]>;
  sharingKey?: string;
  /** The Service asks explicitly: an address, a pool, or spec.loadBalancerClass svcbgp.io/bgp. */
  explicit: boolean;
}

export const FAMILY_NAME: Readonly<Record<Family, string>> = { 'ipv4-unicast': 'IPv4', 'ipv6-unicast': 'IPv6' };
const FAMILY_OF: Readonly<Record<string, Family>> = { IPv4: 'ipv4-unicast', IPv6: 'ipv6-unicast' };

export function serviceName(s: { namespace: string; name: string }): string {
  return `Service ${escapeControls(s.namespace)}/${escapeControls(s.name)}`;
}

/** True when spec.loadBalancerClass leaves the Service to svcbgp (no class, or svcbgp's). */
export function classIsOurs(svc: LbService): boolean {
  return svc.loadBalancerClass === undefined || svc.loadBalancerClass === '' || svc.loadBalancerClass === LOAD_BALANCER_CLASS;
}

/**
 * The Service's request, or why it cannot be read (invalid-request, unknown-pool). Decides the families rule:
 * SingleStack (or no policy): the first of spec.ipFamilies; PreferDualStack and RequireDualStack: every listed family.
 * No spec.ipFamilies (the API server always fills it; hand-written input may not): IPv4.
 */
export function readRequest(svc: LbService, pools: readonly LoadBalancerPool[]): LbRequest | Reason<'invalid-request' | 'unknown-pool'> {
  const who = serviceName(svc);
  const invalid = (text: string): Reason<'invalid-request'> => ({ code: 'invalid-request', text: `${who}: ${text}` });
  const policy: FamilyPolicy = svc.ipFamilyPolicy === 'PreferDualStack' || svc.ipFamilyPolicy === 'RequireDualStack' ? svc.ipFamilyPolicy : 'SingleStack';
  const listed: Family[] = [];
  for (const f of svc.ipFamilies) {
    const fam = FAMILY_OF[f];
    if (!fam) return invalid(`spec.ipFamilies holds ${quoteValue(f)}; expected IPv4 or IPv6`);
    if (!listed.includes(fam)) listed.push(fam);
  }
  if (listed.length === 0) listed.push('ipv4-unicast');
  let families = policy === 'SingleStack' ? listed.slice(0, 1) : listed;

  const addresses = new Map<Family, ParsedIp>();
  const lbIps = svc.annotations[ANNOTATION_LOAD_BALANCER_IPS];
  if (lbIps !== undefined && lbIps.trim() !== '') {
    const list = jsonStrings(lbIps);
    if (!list)
      return invalid(`annotation ${ANNOTATION_LOAD_BALANCER_IPS} = ${quoteValue(lbIps)} is not a JSON list of addresses; write e.g. '["192.168.4.10"]'`);
    for (const text of list) {
      const ip = parseIp(text);
      if (!ip) return invalid(`annotation ${ANNOTATION_LOAD_BALANCER_IPS}: ${quoteValue(text)} is not an IP address`);
      if (addresses.has(ip.family))
        return invalid(
          `annotation ${ANNOTATION_LOAD_BALANCER_IPS} names two ${FAMILY_NAME[ip.family]} addresses; a Service has at most one address per family`,
        );
      addresses.set(ip.family, ip);
    }
  }
  if (svc.loadBalancerIP !== undefined && svc.loadBalancerIP !== '') {
    const ip = parseIp(svc.loadBalancerIP);
    if (!ip) return invalid(`spec.loadBalancerIP = ${quoteValue(svc.loadBalancerIP)} is not an IP address`);
    const same = addresses.get(ip.family);
    if (addresses.size > 0 && same?.text !== ip.text) {
      return invalid(`spec.loadBalancerIP = ${ip.text} is not among annotation ${ANNOTATION_LOAD_BALANCER_IPS}; remove one of the two or make them agree`);
    }
    addresses.set(ip.family, ip);
  }
  if (addresses.size > 0) {
    for (const f of addresses.keys()) {
      if (!families.includes(f)) {
        return invalid(
          `asks for the ${FAMILY_NAME[f]} address ${addresses.get(f)?.text} but serves ${families.map((x) => FAMILY_NAME[x]).join(' and ')} only (spec.ipFamilies / ipFamilyPolicy)`,
        );
      }
    }
    if (policy === 'RequireDualStack' && addresses.size < families.length) {
      return invalid(
        `ipFamilyPolicy RequireDualStack wants one address per family, but ${ANNOTATION_LOAD_BALANCER_IPS} / spec.loadBalancerIP name only ${[...addresses.values()].map((a) => a.text).join(', ')}`,
      );
    }
    families = families.filter((f) => addresses.has(f));
  }

  const named = new Map<Family, LoadBalancerPool[]>();
  let poolsAsked = false;
  for (const [annotation, family] of [
    [ANNOTATION_IPV4_POOLS, 'ipv4-unicast'],
    [ANNOTATION_IPV6_POOLS, 'ipv6-unicast'],
  ] as const) {
    const v = svc.annotations[annotation];
    if (v === undefined || v.trim() === '') continue;
    poolsAsked = true;
    const list = jsonStrings(v);
    if (!list || list.length === 0) return invalid(`annotation ${annotation} = ${quoteValue(v)} is not a JSON list of IPPool names; write e.g. '["lb-pool"]'`);
    const out: LoadBalancerPool[] = [];
    for (const name of list) {
      const p = pools.find((x) => x.name === name || x.cidr.cidr === name);
      if (!p) {
        return {
          code: 'unknown-pool',
          text: `${who}: annotation ${annotation} names ${quoteValue(name)}, which is no load-balancer IPPool in use; known: ${pools.map((x) => quoteValue(x.name)).join(', ') || 'none'}`,
        };
      }
      if (p.cidr.family !== family)
        return invalid(`annotation ${annotation} names IPPool ${quoteValue(p.name)} (${p.cidr.cidr}), which is not ${FAMILY_NAME[family]}`);
      if (!out.includes(p)) out.push(p);
    }
    if (addresses.size === 0) named.set(family, out);
  }

  const key = svc.annotations[ANNOTATION_SHARING_KEY]?.trim();
  const request: LbRequest = {
    policy,
    families,
    addresses,
    pools: named,
    explicit: addresses.size > 0 || poolsAsked || svc.loadBalancerClass === LOAD_BALANCER_CLASS,
  };
  if (key) request.sharingKey = key;
  return request;
}

function jsonStrings(text: string): string[] | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}
