import type { V1Node } from '@kubernetes/client-node';

/** What the pure core needs to know about a node. */
export interface NodeInfo {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** status.addresses (type InternalIP / ExternalIP / Hostname). */
  addresses?: readonly { type: string; address: string }[];
}

/** Accepts a V1Node as the informer delivers it (camelCase) or a NodeInfo. */
export type NodeInput = NodeInfo | V1Node;

export function toNodeInfo(node: NodeInput): NodeInfo {
  if ('name' in node && typeof node.name === 'string') return node as NodeInfo;
  const n = node as V1Node;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(n.metadata?.labels ?? {})) if (typeof v === 'string') labels[k] = v;
  const addresses = (n.status?.addresses ?? []).filter(
    (a): a is { type: string; address: string } => typeof a?.type === 'string' && typeof a?.address === 'string',
  );
  return { name: n.metadata?.name ?? '', labels, addresses };
}
