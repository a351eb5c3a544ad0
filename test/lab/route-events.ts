import { spawn } from 'node:child_process';
import { canonicalPrefix, compareAddresses, ROUTER_PROTOCOLS } from './routes.js';
import { sleep } from './exec.js';

/**
 * The ToR's kernel route changes as `ip -n <tor> monitor route` prints them, each with the moment it arrived: the
 * ground truth of the chaos suite and the node-leaving test ("did the ToR delete a live route, and when?"). Sampling
 * `ip route` can miss a delete and re-add milliseconds apart; the monitor cannot.
 *
 * Line shapes (iproute2 6.1, BIRD's and FRR's zebra's routes):
 *   10.49.0.0/16 proto bird metric 32 \n\tnexthop via 192.168.1.11 dev br0 weight 1 \n\tnexthop via ...
 *   Deleted 192.168.3.180 proto bgp metric 20 \n\tnexthop via 192.168.1.10 dev br0 weight 1 ...
 *   10.49.62.131 via 192.168.1.11 dev br0 proto bird metric 32
 * A multipath route continues on indented `nexthop` lines; a replace prints the new route without "Deleted".
 */

/** One change of one route. */
export interface RouteEvent {
  /** Date.now() when the line arrived. */
  at: number;
  /** "Deleted ..." (the route is gone) or not (added or replaced: the route now has `nextHops`). */
  deleted: boolean;
  /** Canonical prefix: "10.49.62.131/32". */
  prefix: string;
  /** Gateways, sorted. */
  nextHops: string[];
  /** Gateway -> weight ("nexthop via X ... weight N"; 1 for a single next hop): FRR's weighted ECMP changes only these. */
  weights: Record<string, number>;
  /** Installing protocol ("bird", "bgp", "kernel", ...). */
  protocol: string;
  /** The text as ip printed it (continuation lines joined). */
  line: string;
}

/** Join continuation lines (indented `nexthop ...`) to their route; returns whole route lines. */
export function joinMonitorLines(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    if (/^\s/.test(l) && out.length > 0) out[out.length - 1] += ` ${l.trim()}`;
    else if (l.trim() !== '') out.push(l.trim());
  }
  return out;
}

/**
 * Parse one joined `ip monitor route` line; undefined for what is not a unicast route change (local/anycast/
 * multicast table entries, "unreachable", the kernel's own link routes are still parsed: filter on `protocol`).
 */
export function parseMonitorLine(line: string, at: number): RouteEvent | undefined {
  let rest = line.trim();
  const deleted = rest.startsWith('Deleted ');
  if (deleted) rest = rest.slice('Deleted '.length);
  const words = rest.split(/\s+/);
  let i = 0;
  if (['local', 'anycast', 'broadcast', 'multicast', 'unreachable', 'blackhole', 'prohibit', 'throw'].includes(words[0] ?? '')) return undefined;
  if (words[0] === 'unicast') i++;
  const dst = words[i];
  if (dst === undefined || !/^[0-9a-f:.]+(\/\d+)?$|^default$/i.test(dst)) return undefined;
  let prefix: string;
  try {
    prefix = canonicalPrefix(dst);
  } catch {
    return undefined;
  }
  const hops: string[] = [];
  const weights: Record<string, number> = {};
  let protocol = 'boot';
  let last: string | undefined;
  for (let j = i + 1; j < words.length - 1; j++) {
    if (words[j] === 'via') {
      last = words[j + 1] === 'inet6' || words[j + 1] === 'inet' ? words[j + 2] : words[j + 1];
      if (last !== undefined) {
        hops.push(last);
        weights[last] = 1;
      }
    }
    if (words[j] === 'weight' && last !== undefined) weights[last] = Number(words[j + 1]);
    if (words[j] === 'proto') protocol = words[j + 1]!;
  }
  hops.sort(compareAddresses);
  return { at, deleted, prefix, nextHops: hops, weights, protocol, line: line.trim() };
}

/** The changes a routing daemon made (BIRD "bird", FRR "bgp"), in arrival order. */
export function routerEvents(events: readonly RouteEvent[], protocols: readonly string[] = ROUTER_PROTOCOLS): RouteEvent[] {
  return events.filter((e) => protocols.includes(e.protocol));
}

/** Deletions of `prefixes` (routes that should have stayed) between `from` and `to` (inclusive; ms). */
export function deletionsOf(events: readonly RouteEvent[], prefixes: ReadonlySet<string>, from = -Infinity, to = Infinity): RouteEvent[] {
  return events.filter((e) => e.deleted && prefixes.has(e.prefix) && e.at >= from && e.at <= to);
}

export interface RouteMonitor {
  /** Every router change seen so far (copy). */
  events(): RouteEvent[];
  /** End the monitor (after a short wait for the last events); returns every change. */
  stop(): Promise<RouteEvent[]>;
}

/** Spawn `ip -n <ns> monitor route` (both families) for as long as the test needs it. */
export function monitorRoutes(ns: string): RouteMonitor {
  const child = spawn('ip', ['-n', ns, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const events: RouteEvent[] = [];
  let buffered = '';
  let pending: { text: string; at: number } | undefined;
  const flush = (): void => {
    if (!pending) return;
    const e = parseMonitorLine(pending.text, pending.at);
    if (e && ROUTER_PROTOCOLS.includes(e.protocol)) events.push(e);
    pending = undefined;
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const at = Date.now();
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const l of parts) {
      if (/^\s/.test(l) && pending) pending.text += ` ${l.trim()}`;
      else {
        flush();
        if (l.trim() !== '') pending = { text: l, at };
      }
    }
    // A route's continuation lines arrive in the same message as the route: nothing more is coming for it.
    flush();
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return {
    events: () => [...events],
    stop: async () => {
      await sleep(300);
      child.kill('SIGTERM');
      await exited;
      if (buffered.trim() !== '') pending = { text: buffered, at: Date.now() };
      flush();
      return [...events];
    },
  };
}
