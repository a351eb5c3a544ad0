import type { V1Service } from '@kubernetes/client-node';
import type { ServiceRef } from '../model/path.js';
import { quoteValue } from '../text/escape.js';

/** Reading a Service's fields as the route rules need them, safely: a hand-written dump or a fuzzer may send anything. */

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function serviceRef(svc: V1Service): ServiceRef {
  const m: Record<string, unknown> = isRecord(svc) && isRecord(svc.metadata) ? (svc.metadata as Record<string, unknown>) : {};
  const ns = m['namespace'];
  const name = m['name'];
  return {
    namespace: typeof ns === 'string' && ns !== '' ? ns : 'default',
    name: typeof name === 'string' && name !== '' ? name : '(unnamed)',
  };
}

/** The Service's metadata.uid, when it has one (a Service's refusals carry it: the Event names its involvedObject by it). */
export function serviceUid(svc: V1Service): string | undefined {
  const uid: unknown = isRecord(svc) && isRecord(svc.metadata) ? (svc.metadata as Record<string, unknown>)['uid'] : undefined;
  return typeof uid === 'string' && uid !== '' ? uid : undefined;
}

/** A value that cannot be an address is reported by at most this much of its text (a refusal is one line). */
export const MAX_MALFORMED_ADDRESS = 64;

export function strings(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`${what} is not a list: ${quoteValue(v, 60)}`);
  return v.map((x) => (typeof x === 'string' ? x : quoteValue(x, MAX_MALFORMED_ADDRESS)));
}

/**
 * The shape checks a Service needs before its fields are read: the problem, or undefined. Kubernetes never
 * serves such objects; a hand-written dump (explain) or a fuzzer does.
 */
export function malformedService(svc: V1Service): string | undefined {
  if (!isRecord(svc)) return `not an object: ${quoteValue(svc, 60)}`;
  const m = svc.metadata as unknown;
  if (m !== undefined && !isRecord(m)) return `metadata is not a mapping: ${quoteValue(m, 60)}`;
  const meta = isRecord(m) ? m : {};
  if (typeof meta['name'] !== 'string' || meta['name'] === '') return `metadata.name is missing or not a string: ${quoteValue(meta['name'], 60)}`;
  if (meta['namespace'] !== undefined && typeof meta['namespace'] !== 'string')
    return `metadata.namespace is not a string: ${quoteValue(meta['namespace'], 60)}`;
  for (const field of ['spec', 'status'] as const) {
    const v = svc[field] as unknown;
    if (v !== undefined && v !== null && !isRecord(v)) return `${field} is not a mapping: ${quoteValue(v, 60)}`;
  }
  const lb = (svc.status as Record<string, unknown> | undefined)?.['loadBalancer'];
  if (lb !== undefined && lb !== null && !isRecord(lb)) return `status.loadBalancer is not a mapping: ${quoteValue(lb, 60)}`;
  return undefined;
}

export function creationTime(svc: V1Service): string | undefined {
  const t: unknown = svc.metadata?.creationTimestamp;
  if (t instanceof Date) return Number.isNaN(t.getTime()) ? undefined : t.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return typeof t === 'string' ? t : undefined;
}
