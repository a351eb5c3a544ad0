import { parseIp } from '../config/net.js';
import type { Decision, LbService } from './types.js';

/**
 * The Service's status once its decision is written: the ingress addresses (svcbgp's released ones removed, the new
 * ones appended, every other entry left as it was) and the addresses the ownership condition lists. What the
 * Kubernetes side writes, and what the tests feed back to the allocator.
 */
export function statusAfter(svc: LbService, d: Decision | undefined): { ingress: string[]; assignedBySvcbgp: string[] } {
  if (!d?.write) return { ingress: [...svc.ingress], assignedBySvcbgp: [...svc.assignedBySvcbgp] };
  const gone = new Set(d.released);
  const ingress = svc.ingress.filter((t) => !gone.has(parseIp(t)?.text ?? t));
  for (const a of d.added) if (!ingress.some((t) => parseIp(t)?.text === a.address)) ingress.push(a.address);
  return { ingress, assignedBySvcbgp: d.addresses.map((a) => a.address) };
}
