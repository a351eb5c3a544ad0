import { parseIp } from '../config/net.js';
import { OWNERSHIP_CONDITION_TYPE } from '../model/annotations.js';

/**
 * Which addresses of a Service's status svcbgp wrote: the condition svcbgp.io/AssignedAddresses, written in the same
 * /status update as the ingress entries so the two cannot disagree after a crash. An address is svcbgp's only when it
 * is in both (docs/allocation.md § Which addresses are svcbgp's).
 */

export { OWNERSHIP_CONDITION_TYPE };
export const OWNERSHIP_CONDITION_REASON = 'Assigned';
const MESSAGE_PREFIX = 'assigned by svcbgp: ';

/** The condition fields Kubernetes defines (metav1.Condition); lastTransitionTime is the writer's clock. */
export interface OwnershipCondition {
  type: string;
  status: 'True';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/** The condition to write with these addresses; undefined (remove the condition) when there are none. */
export function ownershipCondition(addresses: readonly string[], lastTransitionTime: string): OwnershipCondition | undefined {
  if (addresses.length === 0) return undefined;
  return {
    type: OWNERSHIP_CONDITION_TYPE,
    status: 'True',
    reason: OWNERSHIP_CONDITION_REASON,
    message: `${MESSAGE_PREFIX}${addresses.join(', ')}`,
    lastTransitionTime,
  };
}

/** The addresses svcbgp's condition lists (canonical text), from status.conditions as the API server returns them. */
export function readOwnership(conditions: unknown): string[] {
  if (!Array.isArray(conditions)) return [];
  const c = conditions.find((x: unknown) => typeof x === 'object' && x !== null && (x as Record<string, unknown>)['type'] === OWNERSHIP_CONDITION_TYPE) as
    | Record<string, unknown>
    | undefined;
  const message = c?.['message'];
  if (c?.['status'] !== 'True' || typeof message !== 'string' || !message.startsWith(MESSAGE_PREFIX)) return [];
  const out: string[] = [];
  for (const part of message.slice(MESSAGE_PREFIX.length).split(',')) {
    const ip = parseIp(part.trim());
    if (ip && !out.includes(ip.text)) out.push(ip.text);
  }
  return out;
}
