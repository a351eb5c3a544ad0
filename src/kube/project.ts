import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { ALLOCATOR_ANNOTATIONS, ANNOTATION_ADVERTISE, KNOWN_ANNOTATIONS, MAX_UNKNOWN_ANNOTATIONS, OWNERSHIP_CONDITION_TYPE } from '../model/annotations.js';
import { SERVICE_NAME_LABEL } from '../model/service-key.js';

/**
 * What the caches keep of each object: only the fields the route rules (src/routes) and the Events read, built at
 * ingest as a new, small object, so the full object the API server sent is garbage at once. New objects rather than
 * `delete` on the parsed ones, which V8 would turn into hash tables (docs/design.md § Memory lists the fields kept).
 */

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);

/** The named fields of `from` that are present, in the order given (objects built alike share one V8 shape). */
function pick(from: Obj | undefined, keys: readonly string[]): Obj | undefined {
  if (!from) return undefined;
  const out: Obj = {};
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}

function entries(m: unknown, keep: (key: string) => boolean): Obj | undefined {
  const o = obj(m);
  if (!o) return undefined;
  let out: Obj | undefined;
  for (const k of Object.keys(o)) {
    if (!keep(k)) continue;
    out ??= {};
    out[k] = o[k];
  }
  return out;
}

function metadata(meta: unknown, labels: (key: string) => boolean): Obj {
  const m = obj(meta) ?? {};
  const out = pick(m, ['name', 'namespace', 'uid', 'resourceVersion', 'deletionTimestamp']) ?? {};
  const l = entries(m['labels'], labels);
  if (l) out['labels'] = l;
  return out;
}

/**
 * A known annotation's value is read up to its first 32 values (src/routes/service-attributes.ts): 4 KiB holds them
 * with room for any spacing.
 */
export const MAX_ANNOTATION_TEXT = 4096;

/**
 * The svcbgp.io/ annotations of a Service, bounded: the known ones (values cut), the first unknown names (values '');
 * for a LoadBalancer Service also the allocator's (values cut).
 */
function serviceAnnotations(m: Obj, loadBalancer: boolean): Obj | undefined {
  const a = obj(m['annotations']);
  if (!a) return undefined;
  let out: Obj | undefined;
  let unknown = 0;
  for (const k of Object.keys(a)) {
    if (!k.startsWith('svcbgp.io/')) {
      if (loadBalancer && ALLOCATOR_ANNOTATIONS.includes(k)) {
        const v = a[k];
        out ??= {};
        out[k] = typeof v === 'string' && v.length > MAX_ANNOTATION_TEXT ? v.slice(0, MAX_ANNOTATION_TEXT) : v;
      }
      continue;
    }
    const v = a[k];
    if (KNOWN_ANNOTATIONS.includes(k)) {
      out ??= {};
      out[k] = typeof v === 'string' && v.length > MAX_ANNOTATION_TEXT ? v.slice(0, MAX_ANNOTATION_TEXT) : v;
    } else if (unknown++ < MAX_UNKNOWN_ANNOTATIONS) {
      out ??= {};
      out[k.length > 320 ? k.slice(0, 320) : k] = '';
    }
  }
  return out;
}

const SERVICE_SPEC = [
  'type',
  'clusterIP',
  'clusterIPs',
  'externalIPs',
  'externalTrafficPolicy',
  'internalTrafficPolicy',
  'ipFamilies',
  'loadBalancerClass',
] as const;

/**
 * What the address allocator reads besides (src/alloc/service-input.ts), kept only for `type: LoadBalancer` Services:
 * the other types pay nothing for it.
 */
const LOAD_BALANCER_SPEC = ['ipFamilyPolicy', 'loadBalancerIP', 'selector'] as const;

export function projectService(raw: unknown): V1Service {
  const s = obj(raw) ?? {};
  const meta = metadata(s['metadata'], () => false);
  const rawMeta = obj(s['metadata']) ?? {};
  const rawSpec = obj(s['spec']);
  const loadBalancer = rawSpec?.['type'] === 'LoadBalancer';
  const annotations = serviceAnnotations(rawMeta, loadBalancer);
  if (annotations) meta['annotations'] = annotations;
  const keepCreated = loadBalancer || (annotations !== undefined && KNOWN_ANNOTATIONS.some((k) => k !== ANNOTATION_ADVERTISE && annotations[k] !== undefined));
  if (keepCreated && rawMeta['creationTimestamp'] !== undefined) meta['creationTimestamp'] = rawMeta['creationTimestamp'];
  const out: Obj = { metadata: meta };
  const spec = pick(rawSpec, SERVICE_SPEC);
  if (spec && loadBalancer) {
    const ports = rawSpec?.['ports'];
    if (Array.isArray(ports)) spec['ports'] = ports.map((p) => pick(obj(p), ['port', 'protocol']) ?? {});
    for (const k of LOAD_BALANCER_SPEC) if (rawSpec?.[k] !== undefined) spec[k] = rawSpec[k];
  }
  if (spec) out['spec'] = spec;
  const status = obj(s['status']);
  if (status) {
    const lb = obj(status['loadBalancer']);
    const ingress = lb?.['ingress'];
    const st: Obj = lb
      ? { loadBalancer: Array.isArray(ingress) ? { ingress: ingress.map((i) => pick(obj(i), ['ip', 'ipMode', 'hostname', 'ports']) ?? {}) } : {} }
      : {};
    // svcbgp's ownership condition, whatever the type: a Service that stops being a LoadBalancer still has to lose
    // the addresses svcbgp wrote.
    const conditions = status['conditions'];
    const own = Array.isArray(conditions) ? conditions.map(obj).find((c) => c?.['type'] === OWNERSHIP_CONDITION_TYPE) : undefined;
    if (own) st['conditions'] = [pick(own, ['type', 'status', 'message'])];
    out['status'] = st;
  }
  return out as V1Service;
}

export function projectEndpointSlice(raw: unknown): V1EndpointSlice {
  const s = obj(raw) ?? {};
  const out: Obj = { metadata: metadata(s['metadata'], (k) => k === SERVICE_NAME_LABEL) };
  if (s['addressType'] !== undefined) out['addressType'] = s['addressType'];
  const eps = s['endpoints'];
  if (Array.isArray(eps)) out['endpoints'] = eps.map((e) => pick(obj(e), ['addresses', 'conditions', 'nodeName']) ?? {});
  return out as unknown as V1EndpointSlice;
}
