import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';

/**
 * What the caches keep of each object: only the fields the route rules (src/routes) and the Events read. Applied in
 * place at ingest (the informer hands its callbacks the very object it keeps), so the full objects the API server
 * sends are never held: a Service's ports, selector and session affinity, an EndpointSlice's ports, target refs,
 * zones and hints, and everyone's managedFields are dropped as they arrive.
 *
 * Kept, Service: metadata name, namespace, uid, resourceVersion, deletionTimestamp, the svcbgp.io/ annotations;
 * spec type, clusterIP(s), externalIPs, externalTrafficPolicy, internalTrafficPolicy, ipFamilies; status
 * loadBalancer.ingress[].ip. EndpointSlice: metadata name, namespace, resourceVersion, the service-name label;
 * addressType; endpoints[].addresses, conditions, nodeName. (resourceVersion: the informer compares it.)
 */
const SERVICE_SPEC = new Set(['type', 'clusterIP', 'clusterIPs', 'externalIPs', 'externalTrafficPolicy', 'internalTrafficPolicy', 'ipFamilies']);
const METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'deletionTimestamp', 'labels', 'annotations']);
const ENDPOINT = new Set(['addresses', 'conditions', 'nodeName']);
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

type Obj = Record<string, unknown>;

function keepOnly(o: unknown, keep: ReadonlySet<string>): void {
  if (o === null || typeof o !== 'object') return;
  for (const k of Object.keys(o)) if (!keep.has(k)) delete (o as Obj)[k];
}

function keepEntries(o: Obj, field: string, keep: (key: string) => boolean): void {
  const m = o[field];
  if (m === null || typeof m !== 'object') return;
  const kept = Object.entries(m as Obj).filter(([k]) => keep(k));
  if (kept.length === 0) delete o[field];
  else o[field] = Object.fromEntries(kept);
}

function projectMetadata(meta: unknown, labels: (key: string) => boolean): void {
  if (meta === null || typeof meta !== 'object') return;
  keepOnly(meta, METADATA);
  keepEntries(meta as Obj, 'labels', labels);
  keepEntries(meta as Obj, 'annotations', (k) => k.startsWith('svcbgp.io/'));
}

export function projectService(svc: V1Service): void {
  const s = svc as unknown as Obj;
  keepOnly(s, new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']));
  projectMetadata(s['metadata'], () => false);
  keepOnly(s['spec'], SERVICE_SPEC);
  const status = s['status'];
  if (status !== null && typeof status === 'object') {
    keepOnly(status, new Set(['loadBalancer']));
    const lb = (status as Obj)['loadBalancer'];
    keepOnly(lb, new Set(['ingress']));
    const ingress = lb !== null && typeof lb === 'object' ? (lb as Obj)['ingress'] : undefined;
    if (Array.isArray(ingress)) for (const i of ingress) keepOnly(i, new Set(['ip']));
  }
}

export function projectEndpointSlice(slice: V1EndpointSlice): void {
  const s = slice as unknown as Obj;
  keepOnly(s, new Set(['apiVersion', 'kind', 'metadata', 'addressType', 'endpoints']));
  projectMetadata(s['metadata'], (k) => k === SERVICE_NAME_LABEL);
  const eps = s['endpoints'];
  if (Array.isArray(eps)) for (const e of eps) keepOnly(e, ENDPOINT);
}
