import type { V1Node } from '@kubernetes/client-node';
import { EXCLUDE_LABEL } from '../model/annotations.js';
import { quoteValue } from '../text/escape.js';

/**
 * Is this node going away (drain: GRACEFUL_SHUTDOWN, then withdraw) or only restarting (graceful restart keeps its
 * routes)? Read from the Node object, never guessed from a process signal: a Pod deletion looks the same for a rollout
 * and for a node going away. The signals are the exclude label (by presence), the autoscalers' removal taints, a
 * deletionTimestamp, the kubelet's graceful shutdown in the Ready condition and svcbgp.io/leaving=true; a cordon alone
 * is a restart. A wrong guess is safe either way (docs/design.md § Drains).
 */
export const LEAVING_ANNOTATION = 'svcbgp.io/leaving';
/** Taints that announce a node's removal (see above). */
export const REMOVAL_TAINTS: readonly string[] = ['ToBeDeletedByClusterAutoscaler', 'karpenter.sh/disrupted', 'karpenter.sh/disruption'];
/** RFC 8326's well-known community, and the LOCAL_PREF it asks for on iBGP. */
export const GRACEFUL_SHUTDOWN_COMMUNITY = '65535:0';
export const GRACEFUL_SHUTDOWN_LOCAL_PREF = 0;

export interface LeavingDecision {
  /** Why this node is leaving; absent when it is not. */
  reason?: string;
  /** A Node field svcbgp reads but does not understand (the caller logs it once per value). */
  warning?: string;
}

/** Is this node leaving, and why. Pure. */
export function leavingReason(node: V1Node): LeavingDecision {
  const annotation = readLeavingAnnotation(node.metadata?.annotations?.[LEAVING_ANNOTATION]);
  const warning = annotation.warning !== undefined ? { warning: annotation.warning } : {};
  const reason = leavingSignal(node, annotation.leaving);
  return { ...(reason !== undefined ? { reason } : {}), ...warning };
}

function leavingSignal(node: V1Node, annotated: boolean): string | undefined {
  const labels = node.metadata?.labels;
  if (labels && Object.hasOwn(labels, EXCLUDE_LABEL)) return `the Node is labelled ${EXCLUDE_LABEL} (value ${quoteValue(labels[EXCLUDE_LABEL] ?? '')})`;
  if (node.metadata?.deletionTimestamp) return 'the Node object is being deleted';
  const taint = removalTaint(node);
  if (taint !== undefined) return `the Node carries the taint ${taint}: an autoscaler is about to remove it`;
  if (annotated) return `the Node is annotated ${LEAVING_ANNOTATION}=true`;
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready && ready.status === 'False' && /node is shutting down/i.test(ready.message ?? '')) return 'the kubelet reports that the node is shutting down';
  return undefined;
}

function removalTaint(node: V1Node): string | undefined {
  const taints: unknown = node.spec?.taints;
  if (!Array.isArray(taints)) return undefined;
  for (const t of taints as unknown[]) {
    const key = typeof t === 'object' && t !== null ? (t as { key?: unknown }).key : undefined;
    if (typeof key === 'string' && REMOVAL_TAINTS.includes(key)) return key;
  }
  return undefined;
}

/** The svcbgp.io/leaving annotation: "true" or "false" in any case; anything else is not leaving, with a warning. */
function readLeavingAnnotation(value: unknown): { leaving: boolean; warning?: string } {
  if (value === undefined || value === null) return { leaving: false };
  const v = typeof value === 'string' ? value.toLowerCase() : undefined;
  if (v === 'true') return { leaving: true };
  if (v === 'false') return { leaving: false };
  return {
    leaving: false,
    warning:
      `Node annotation ${LEAVING_ANNOTATION}=${quoteValue(value)} is not understood, so the node is not taken as leaving: ` +
      `write "true" to drain it, "false" or remove the annotation otherwise`,
  };
}

/** The Node's fields the departure decision reads (the agent runs a pass when they change). */
export function departureFingerprint(node: V1Node | undefined): string {
  if (!node) return '';
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  return JSON.stringify([
    node.metadata?.deletionTimestamp ?? null,
    node.metadata?.annotations?.[LEAVING_ANNOTATION] ?? null,
    removalTaint(node) ?? null,
    ready && ready.status === 'False' && /node is shutting down/i.test(ready.message ?? ''),
  ]);
}
