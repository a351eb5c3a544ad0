import { quoteValue } from '../text/escape.js';
import { ANNOTATION_SHARING_KEY, serviceName } from './request.js';
import type { LbService, Reason } from './types.js';

/**
 * When two Services may hold the same address (MetalLB's allocator, internal/allocator/allocator.go, checkSharing; the
 * same three rules in Cilium's LB-IPAM sharing-key):
 * 1. both carry svcbgp.io/sharing-key with the same value (the owners agree; without it an address is never shared);
 * 2. no port+protocol in common (kube-proxy could not tell their traffic apart);
 * 3. both externalTrafficPolicy Cluster, or both Local with the same selector: a Local address is advertised only from
 *    the nodes with an endpoint (src/routes/desired.ts rule 2), which must be the same nodes for both.
 * Compatibility is pairwise and not transitive (A~B and B~C says nothing of A~C): a Service joins an address only if
 * it is compatible with every Service already holding it.
 */

export interface Sharer {
  svc: LbService;
  sharingKey?: string;
}

export type SharingCode = 'no-key' | 'key-differs' | 'port-overlap' | 'traffic-policy-differs' | 'selector-differs';

/** Why `a` may not hold an address `b` holds; undefined when it may. */
export function sharingProblem(a: Sharer, b: Sharer): Reason<SharingCode> | undefined {
  const other = serviceName(b.svc);
  if (a.sharingKey === undefined || b.sharingKey === undefined) {
    return {
      code: 'no-key',
      text: `${other} holds it and ${a.sharingKey === undefined ? 'this Service' : 'that Service'} has no ${ANNOTATION_SHARING_KEY} annotation`,
    };
  }
  if (a.sharingKey !== b.sharingKey) {
    return { code: 'key-differs', text: `${other} holds it with ${ANNOTATION_SHARING_KEY} ${quoteValue(b.sharingKey)}, not ${quoteValue(a.sharingKey)}` };
  }
  const ports = new Set(b.svc.ports.map(portKey));
  const clash = a.svc.ports.find((p) => ports.has(portKey(p)));
  if (clash) return { code: 'port-overlap', text: `${other} shares the key but uses port ${portKey(clash)} too` };
  const pa = policyOf(a.svc);
  const pb = policyOf(b.svc);
  if (pa !== pb) return { code: 'traffic-policy-differs', text: `${other} shares the key but has externalTrafficPolicy ${pb}, this Service ${pa}` };
  if (pa === 'Local' && selectorText(a.svc) !== selectorText(b.svc)) {
    return {
      code: 'selector-differs',
      text: `${other} shares the key, but both have externalTrafficPolicy Local and their selectors differ (${quoteValue(selectorText(b.svc))} against ${quoteValue(selectorText(a.svc))})`,
    };
  }
  return undefined;
}

function portKey(p: { port: number; protocol: string }): string {
  return `${p.port}/${p.protocol || 'TCP'}`;
}

function policyOf(svc: LbService): 'Cluster' | 'Local' {
  return svc.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster';
}

function selectorText(svc: LbService): string {
  const s = svc.selector ?? {};
  return Object.keys(s)
    .sort()
    .map((k) => `${k}=${s[k]}`)
    .join(',');
}
