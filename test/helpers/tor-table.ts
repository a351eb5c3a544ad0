/**
 * A ToR's BGP routes as golden-file text (test/helpers/golden.ts): one line per route, `<prefix> via <next hops>`,
 * IPv4 before IPv6, next hops in address order. Only what identifies a route is kept (prefix and next hops, from
 * the lab's RouteTable): no device, protocol, metric or nexthop-group id, which differ between BIRD and FRR and
 * between runs.
 *
 * What the cluster chooses at run time is shown by name, so that the same walk gives the same text on every run:
 * an allocated cluster IP (`addresses`: '10.49.7.3' -> '<nginx-cluster-ip>') and the nodes the scheduler put the Pods
 * on (`nextHopSets`: a route whose next hops are exactly that set prints `via <nginx-nodes>`). Anything else prints
 * as it is, so a host route via the wrong nodes shows up in the diff with their addresses.
 */
import { compareAddresses, type RouteTable } from '../lab/routes.js';

export interface TableNames {
  /** Addresses chosen at run time, by the name shown instead (without the angle brackets). */
  addresses?: Readonly<Record<string, string>>;
  /** Next-hop sets chosen at run time, by name; a route's next hops are replaced only when they are exactly the set. */
  nextHopSets?: Readonly<Record<string, readonly string[]>>;
}

export function renderTorTable(table: RouteTable, names: TableNames = {}): string {
  const named = (address: string): string => {
    const name = names.addresses?.[address];
    return name === undefined ? address : `<${name}>`;
  };
  const sets = Object.entries(names.nextHopSets ?? {}).map(([name, hops]) => [name, sortedKey(hops)] as const);
  const lines = Object.entries(table).map(([prefix, hops]) => {
    const slash = prefix.lastIndexOf('/');
    const shownPrefix = slash < 0 ? named(prefix) : `${named(prefix.slice(0, slash))}${prefix.slice(slash)}`;
    const set = sets.find(([, key]) => key === sortedKey(hops));
    const shownHops = set ? `<${set[0]}>` : [...hops].sort(compareAddresses).join(' ');
    return { v6: prefix.includes(':'), line: `${shownPrefix} via ${shownHops}` };
  });
  lines.sort((a, b) => Number(a.v6) - Number(b.v6) || (a.line < b.line ? -1 : a.line > b.line ? 1 : 0));
  if (lines.length === 0) return '(no BGP routes)\n';
  return `${lines.map((l) => l.line).join('\n')}\n`;
}

function sortedKey(hops: readonly string[]): string {
  return [...hops].sort(compareAddresses).join(' ');
}
