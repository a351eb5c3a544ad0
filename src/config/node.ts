import type { V1Node } from '@kubernetes/client-node';
import { quoteValue } from '../text/escape.js';

/** What the pure core needs to know about a node. */
export interface NodeInfo {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** status.addresses (type InternalIP / ExternalIP / Hostname). */
  addresses?: readonly { type: string; address: string }[];
}

/** Accepts a V1Node as the informer delivers it (camelCase) or a NodeInfo. */
export type NodeInput = NodeInfo | V1Node;

/** A NodeInfo, and what was wrong with the Node object it came from (each problem names the field). */
export interface NodeReading {
  info: NodeInfo;
  problems: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a Node without trusting its shape (a hand-edited cluster dump may hold `status.addresses: 5` or
 * `metadata: null`): a malformed field is skipped and named in `problems`, never thrown.
 */
export function readNode(node: unknown): NodeReading {
  const problems: string[] = [];
  if (!isRecord(node)) return { info: { name: '', labels: {}, addresses: [] }, problems: [`not an object: ${quoteValue(node, 60)}`] };
  if (typeof node['name'] === 'string' && !('metadata' in node)) return { info: node as unknown as NodeInfo, problems };
  const meta = node['metadata'];
  if (meta !== undefined && !isRecord(meta)) problems.push(`metadata is not a mapping: ${quoteValue(meta, 60)}`);
  const m = isRecord(meta) ? meta : {};
  let name = '';
  if (typeof m['name'] === 'string') name = m['name'];
  else if (m['name'] !== undefined) problems.push(`metadata.name is not a string: ${quoteValue(m['name'], 60)}`);

  const labels: Record<string, string> = {};
  const rawLabels = m['labels'];
  if (isRecord(rawLabels)) {
    for (const [k, v] of Object.entries(rawLabels)) {
      if (typeof v === 'string') labels[k] = v;
      else problems.push(`metadata.labels[${quoteValue(k, 60)}] is not a string: ${quoteValue(v, 60)}; ignored`);
    }
  } else if (rawLabels !== undefined && rawLabels !== null) {
    problems.push(`metadata.labels is not a mapping: ${quoteValue(rawLabels, 60)}; ignored`);
  }

  const addresses: { type: string; address: string }[] = [];
  const status = node['status'];
  if (status !== undefined && status !== null && !isRecord(status)) problems.push(`status is not a mapping: ${quoteValue(status, 60)}; ignored`);
  const rawAddresses = isRecord(status) ? status['addresses'] : undefined;
  if (Array.isArray(rawAddresses)) {
    rawAddresses.forEach((a: unknown, i) => {
      if (isRecord(a) && typeof a['type'] === 'string' && typeof a['address'] === 'string') addresses.push({ type: a['type'], address: a['address'] });
      else problems.push(`status.addresses[${i}] is not {type, address} strings: ${quoteValue(a, 60)}; ignored`);
    });
  } else if (rawAddresses !== undefined && rawAddresses !== null) {
    problems.push(`status.addresses is not a list: ${quoteValue(rawAddresses, 60)}; ignored`);
  }
  return { info: { name, labels, addresses }, problems };
}

export function toNodeInfo(node: NodeInput): NodeInfo {
  return readNode(node).info;
}
