import type { V1Service } from '@kubernetes/client-node';
import { ALLOCATOR_ANNOTATIONS } from './request.js';
import { readOwnership } from './ownership.js';
import type { LbService, ServicePort } from './types.js';

/**
 * The allocator's view of a Kubernetes Service, from the full object or the cache's cut-down one (src/kube/project.ts
 * keeps these fields for LoadBalancer Services, and svcbgp's condition for every Service).
 */
export function lbServiceFromObject(svc: V1Service): LbService {
  const meta = svc.metadata ?? {};
  const spec = svc.spec ?? {};
  const annotations: Record<string, string> = {};
  for (const k of ALLOCATOR_ANNOTATIONS) {
    const v = meta.annotations?.[k];
    if (typeof v === 'string') annotations[k] = v;
  }
  const created = meta.creationTimestamp as unknown;
  const out: LbService = {
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    creationTimestamp: created instanceof Date ? created.toISOString().replace(/\.\d{3}Z$/, 'Z') : typeof created === 'string' ? created : '',
    type: spec.type ?? 'ClusterIP',
    ipFamilies: spec.ipFamilies ?? [],
    ports: (spec.ports ?? []).map((p): ServicePort => ({ port: p.port, protocol: p.protocol ?? 'TCP' })),
    annotations,
    ingress: (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (typeof i.ip === 'string' && i.ip !== '' ? [i.ip] : [])),
    assignedBySvcbgp: readOwnership(svc.status?.conditions),
  };
  if (spec.loadBalancerClass !== undefined) out.loadBalancerClass = spec.loadBalancerClass;
  if (spec.ipFamilyPolicy !== undefined) out.ipFamilyPolicy = spec.ipFamilyPolicy;
  if (spec.externalTrafficPolicy !== undefined) out.externalTrafficPolicy = spec.externalTrafficPolicy;
  if (spec.selector !== undefined) out.selector = spec.selector;
  if (spec.loadBalancerIP !== undefined) out.loadBalancerIP = spec.loadBalancerIP;
  return out;
}
