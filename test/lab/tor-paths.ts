import { BirdRouter } from './bird.js';
import { FrrRouter } from './frr.js';
import type { TorRouter } from './tor.js';

/**
 * The ToR's BGP view of one prefix: every path it received (one per node), with the attributes that decide whether
 * it is in the ECMP set. What an operator reads with `birdc show route <prefix> all` or
 * `vtysh -c 'show bgp ipv4 unicast <prefix> json'` to see a node draining with GRACEFUL_SHUTDOWN.
 */
export interface TorPath {
  /** The BGP next hop: the node's address. */
  nextHop: string;
  /** LOCAL_PREF as the ToR holds it after its import policy. */
  localPref: number | undefined;
  /** Standard communities, "65535:0" form. */
  communities: string[];
  /** FRR only, when the path has any: extended communities as FRR prints them ("LB:64512:125000 (1.000 Mbps)"). */
  extendedCommunity?: string;
}

/** RFC 8326's GRACEFUL_SHUTDOWN community. */
export const GSHUT = '65535:0';

/** Does the ToR hold this path as draining: GRACEFUL_SHUTDOWN and LOCAL_PREF 0? */
export const isDraining = (p: TorPath): boolean => p.communities.includes(GSHUT) && p.localPref === 0;

/**
 * Parse `birdc show route <prefix> all`: one block per path, starting with the prefix or with indentation and
 * "unicast [proto time] ...", then tab-indented attribute lines (BGP.next_hop, BGP.local_pref, BGP.community:
 * (65535,0) (64512,1) ...). "Network not found" gives no path.
 */
export function parseBirdRouteAll(text: string): TorPath[] {
  const paths: TorPath[] = [];
  let cur: TorPath | undefined;
  for (const line of text.split('\n')) {
    if (/\bunicast \[/.test(line)) {
      cur = { nextHop: '', localPref: undefined, communities: [] };
      paths.push(cur);
      continue;
    }
    if (!cur) continue;
    const attr = /^\s+BGP\.(\w+):\s*(.*)$/.exec(line);
    if (!attr) continue;
    const [, name, value] = attr;
    if (name === 'next_hop') cur.nextHop = value!.trim().split(/\s+/)[0]!;
    else if (name === 'local_pref') cur.localPref = Number(value);
    else if (name === 'community') cur.communities = [...value!.matchAll(/\((\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`);
  }
  return paths.filter((p) => p.nextHop !== '');
}

/** FRR's names for well-known communities in `community.string`. */
const FRR_WELL_KNOWN: Record<string, string> = {
  'graceful-shutdown': GSHUT,
  'no-export': '65535:65281',
  'no-advertise': '65535:65282',
  'local-AS': '65535:65283',
  'no-peer': '65535:65284',
  blackhole: '65535:666',
};

interface FrrPathJson {
  locPrf?: number;
  community?: { string?: string };
  extendedCommunity?: { string?: string };
  nexthops?: { ip?: string; afi?: string }[];
}

/** Parse `vtysh -c 'show bgp ipv4 unicast <prefix> json'` (also ipv6); `{}` when FRR has no such prefix. */
export function parseFrrPrefixJson(json: string): TorPath[] {
  const doc = JSON.parse(json.trim() === '' ? '{}' : json) as { paths?: FrrPathJson[] };
  return (doc.paths ?? []).map((p) => ({
    nextHop: p.nexthops?.[0]?.ip ?? '',
    localPref: p.locPrf,
    communities: (p.community?.string ?? '')
      .split(/\s+/)
      .filter((c) => c !== '')
      .map((c) => FRR_WELL_KNOWN[c] ?? c),
    ...(p.extendedCommunity?.string ? { extendedCommunity: p.extendedCommunity.string } : {}),
  }));
}

/** The paths the ToR holds for `prefix` ("10.49.0.0/16", "192.168.3.180/32"). */
export async function torBgpPaths(router: TorRouter, prefix: string): Promise<TorPath[]> {
  if (router instanceof BirdRouter) return parseBirdRouteAll(await router.birdc(['show', 'route', prefix, 'all']));
  if (router instanceof FrrRouter) {
    const family = prefix.includes(':') ? 'ipv6' : 'ipv4';
    return parseFrrPrefixJson(await router.vtysh([`show bgp ${family} unicast ${prefix} json`]));
  }
  throw new Error(`no BGP path reader for ToR ${router.kind}`);
}
