import ipaddr from 'ipaddr.js';

/**
 * Pure parsing of `ip -j route show` output (iproute2 JSON) into the shape the lab's assertions use.
 * No I/O here: the lab feeds it the text it read from the ToR namespace.
 */

/** One kernel route as the ToR holds it. */
export interface KernelRoute {
  /** Canonical CIDR: ip prints a /32 (/128) as a bare address; we always add the length. "default" stays "default". */
  prefix: string;
  family: 'inet' | 'inet6';
  /** Route type: "unicast" (ip omits it), "unreachable", "blackhole", ... */
  type: string;
  /** Installing protocol as ip names it: "bird", "bgp" (FRR's zebra), "kernel", "static", ... */
  protocol: string;
  /** Gateways, sorted by address (numerically). Empty for connected/unreachable routes. */
  nextHops: string[];
  /** Output devices, in the same order as nextHops (or the route's device when there is no gateway). */
  devs: string[];
}

/** prefix -> sorted next hops: what `ip route` shows for routes learned from BGP. */
export type RouteTable = Record<string, string[]>;

interface IpJsonNexthop {
  gateway?: string;
  via?: { family?: string; host?: string };
  dev?: string;
  weight?: number;
}
interface IpJsonRoute extends IpJsonNexthop {
  dst?: string;
  type?: string;
  protocol?: string;
  nexthops?: IpJsonNexthop[];
}

/** Compare two IP addresses numerically (IPv4 before IPv6). */
export function compareAddresses(a: string, b: string): number {
  const pa = ipaddr.parse(a).toByteArray();
  const pb = ipaddr.parse(b).toByteArray();
  if (pa.length !== pb.length) return pa.length - pb.length;
  for (let i = 0; i < pa.length; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

/** "10.49.62.131" -> "10.49.62.131/32", "fd00::1" -> "fd00::1/128", "10.49.0.0/16" unchanged (normalised). */
export function canonicalPrefix(dst: string): string {
  if (dst === 'default') return dst;
  if (dst.includes('/')) {
    const [addr, len] = ipaddr.parseCIDR(dst);
    return `${addr.toString()}/${len}`;
  }
  const addr = ipaddr.parse(dst);
  return `${addr.toString()}/${addr.kind() === 'ipv4' ? 32 : 128}`;
}

function gatewayOf(n: IpJsonNexthop): string | undefined {
  // IPv4 routes via an IPv6 next hop (RFC 5549) print as "via": {"family":"inet6","host":...}.
  return n.gateway ?? n.via?.host;
}

/** Parse the JSON text of `ip [-4|-6] -j route show`. `family` labels the entries (ip's JSON omits it). */
export function parseIpRouteJson(json: string, family: 'inet' | 'inet6'): KernelRoute[] {
  const text = json.trim();
  if (text === '') return [];
  const raw = JSON.parse(text) as IpJsonRoute[];
  if (!Array.isArray(raw)) throw new Error('ip -j route: expected a JSON array');
  return raw.map((r) => {
    const hops = r.nexthops && r.nexthops.length > 0 ? r.nexthops : [r];
    const pairs = hops
      .map((h) => ({ gw: gatewayOf(h), dev: h.dev ?? r.dev ?? '' }))
      .filter((p): p is { gw: string; dev: string } => p.gw !== undefined)
      .sort((a, b) => compareAddresses(a.gw, b.gw));
    return {
      prefix: canonicalPrefix(r.dst ?? 'default'),
      family,
      type: r.type ?? 'unicast',
      protocol: r.protocol ?? 'boot',
      nextHops: pairs.map((p) => p.gw),
      devs: pairs.length > 0 ? pairs.map((p) => p.dev) : r.dev ? [r.dev] : [],
    };
  });
}

/**
 * next hop -> weight of the routes in `ip -j route show <prefix>`: FRR turns the link-bandwidth extended community
 * into these weights (weighted ECMP); a plain ECMP route has weight 1 on every next hop, a single next hop has 1.
 */
export function parseNextHopWeights(json: string): Record<string, number> {
  const text = json.trim();
  if (text === '') return {};
  const raw = JSON.parse(text) as IpJsonRoute[];
  const out: Record<string, number> = {};
  for (const r of raw) {
    for (const h of r.nexthops && r.nexthops.length > 0 ? r.nexthops : [r]) {
      const gw = gatewayOf(h);
      if (gw !== undefined) out[gw] = h.weight ?? 1;
    }
  }
  return out;
}

/** The protocols a routing daemon installs routes as: BIRD -> "bird", FRR's zebra -> "bgp". */
export const ROUTER_PROTOCOLS: readonly string[] = ['bird', 'bgp'];

/**
 * Reduce kernel routes to {prefix -> sorted next hops}, keeping only unicast routes with at least one
 * gateway that a routing daemon installed (connected and kernel routes are not BGP's business).
 */
export function toRouteTable(routes: KernelRoute[], protocols: readonly string[] = ROUTER_PROTOCOLS): RouteTable {
  const table: RouteTable = {};
  for (const r of routes) {
    if (r.type !== 'unicast' || r.nextHops.length === 0 || !protocols.includes(r.protocol)) continue;
    table[r.prefix] = [...r.nextHops];
  }
  return table;
}

/** Render a route table the way the article prints `ip r` (for demo output and failure messages). */
export function formatRouteTable(table: RouteTable): string {
  const prefixes = Object.keys(table).sort();
  if (prefixes.length === 0) return '(no BGP routes)';
  return prefixes
    .map((p) => {
      const hops = table[p]!;
      const shown = p.endsWith('/32') || p.endsWith('/128') ? p.slice(0, p.lastIndexOf('/')) : p;
      if (hops.length === 1) return `${shown} via ${hops[0]}`;
      return [shown, ...hops.map((h) => `    nexthop via ${h} weight 1`)].join('\n');
    })
    .join('\n');
}
