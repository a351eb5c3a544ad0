import { KubeApiError, type KubeClient } from './client.js';

/**
 * The allocator's only write: a Service's status.loadBalancer.ingress and its ownership condition, in one request
 * to the /status subresource. Fenced twice:
 * - by the Service: the patch carries metadata.resourceVersion and uid, which the API server treats as
 *   preconditions, so a write computed from a stale view of the Service fails with 409 Conflict;
 * - by the Lease: `fence` is asked right before the request is sent, and the request is abandoned at the holder's
 *   deadline, so an agent that no longer holds the lease sends nothing (docs/allocation.md § Fencing).
 * A strategic merge patch, not a PUT: the agent's caches keep a cut-down Service (src/kube/project.ts), and a PUT of
 * it to /status could drop the metadata the cache does not keep. Conditions merge by type, so other products'
 * conditions stay; the ingress list is replaced whole (it is atomic in the API).
 */

/** One status.loadBalancer.ingress entry as the API holds it (the fields the caches keep). */
export interface IngressEntry {
  ip?: string;
  hostname?: string;
  ipMode?: string;
  ports?: unknown[];
}

export interface StatusCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface ServiceStatusWrite {
  namespace: string;
  name: string;
  uid: string;
  /** The resourceVersion the new status was computed from. */
  resourceVersion: string;
  /** The whole new ingress list. */
  ingress: IngressEntry[];
  /** The condition type the write owns. */
  conditionType: string;
  /** The condition to set; undefined: remove the condition of conditionType. */
  condition: StatusCondition | undefined;
}

/** The fence said no: this agent does not hold the lease (any more). Nothing was sent. */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
}

export interface Fence {
  /** The local monotonic time until which this agent may write; undefined: it may not write now. */
  validUntil(): number | undefined;
  now(): number;
}

/** The smallest wait for an answer: a deadline closer than this is not worth a request. */
const MIN_WRITE_MS = 200;

/** Writes the status (see the header); the Service as the API server returns it afterwards. */
export async function patchServiceStatus(client: KubeClient, w: ServiceStatusWrite, fence: Fence): Promise<unknown> {
  const until = fence.validUntil();
  const left = until === undefined ? 0 : until - fence.now();
  if (left < MIN_WRITE_MS) {
    throw new NotLeaderError(`not writing Service ${w.namespace}/${w.name}: this agent does not hold the allocator lease`);
  }
  const body = {
    metadata: { resourceVersion: w.resourceVersion, uid: w.uid },
    status: {
      loadBalancer: { ingress: w.ingress.length > 0 ? w.ingress : null },
      conditions: [w.condition ?? { $patch: 'delete', type: w.conditionType }],
    },
  };
  return client.patch<unknown>(`/api/v1/namespaces/${encodeURIComponent(w.namespace)}/services/${encodeURIComponent(w.name)}/status`, body, {
    timeoutMs: Math.round(left),
  });
}

/** 409: the Service changed since the view the write was computed from (or the uid is another Service's). */
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 409;
}

/** 404: the Service is gone. */
export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 404;
}
