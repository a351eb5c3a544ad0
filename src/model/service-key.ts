import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';

/**
 * How a Service and its EndpointSlices are found again: the Service's key ("namespace/name"), and the label
 * EndpointSlice controllers put on every slice of a Service. The watch records changes under these keys and the
 * route model keeps each Service's contribution under them, so both must build them alike.
 */

/** The label EndpointSlice controllers put on every slice of a Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** "namespace/name", built by join: one flat string, not a rope (src/text/key.ts says why). */
export function serviceKey(namespace: string, name: string): string {
  return [namespace, name].join('/');
}

/** The key of the Service an EndpointSlice belongs to, or undefined for a slice without the label (or malformed). */
export function sliceServiceKey(s: V1EndpointSlice): string | undefined {
  if (typeof s !== 'object' || s === null) return undefined;
  const ns = s.metadata?.namespace ?? 'default';
  const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (typeof svc !== 'string' || svc === '') return undefined;
  return serviceKey(ns, svc);
}

/**
 * The Services whose inputs changed since the route model last looked, as the watch recorded them: the keys of the
 * Services that were added, changed or deleted, or whose EndpointSlices were (a slice moved from one Service to
 * another names both), and the current objects of a key.
 */
export interface ServiceChanges {
  keys: ReadonlySet<string>;
  /** The Service of a key now; undefined: deleted. */
  service(key: string): V1Service | undefined;
  /** The EndpointSlices of a Service key now. */
  slices(key: string): readonly V1EndpointSlice[];
}
