/**
 * Test helper: a second, independent BGP speaker — another real gobgpd, configured from its own TOML file
 * (not through svcbgp's code), so what it receives is an honest check of what our gobgpd sends.
 * It listens on its own address and port and peers with the gobgpd under test; for routes to survive the
 * session the two must sit on a real link (createLink below), not on 127.0.0.0/8.
 */
import { execFileSync } from 'node:child_process';
import { deleteNetns, onExit, startGobgpd, type Gobgpd } from './gobgpd.js';

export interface SpeakerOptions {
  asn: number;
  routerId: string;
  /** Address and port this speaker listens on and uses as session source. */
  address: string;
  port: number;
  /** The gobgpd under test. */
  neighbor: { address: string; asn: number; port: number; password?: string };
  /** Act as graceful restart helper/speaker (default true). */
  gracefulRestart?: boolean;
  /** Run in this network namespace (API on a unix socket). */
  netns?: string;
}

/** The TOML gobgpd reads (documented keys of gobgpd's config: docs/sources/configuration.md). */
export function speakerToml(o: SpeakerOptions): string {
  const gr = o.gracefulRestart ?? true;
  const afiSafi = (name: string) => `
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "${name}"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = ${gr}`;
  return `[global.config]
  as = ${o.asn}
  router-id = "${o.routerId}"
  port = ${o.port}
  local-address-list = ["${o.address}"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "${o.neighbor.address}"
    peer-as = ${o.neighbor.asn}${o.neighbor.password ? `\n    auth-password = "${o.neighbor.password}"` : ''}
  [neighbors.transport.config]
    local-address = "${o.address}"
    remote-port = ${o.neighbor.port}
  [neighbors.timers.config]
    connect-retry = 1
  [neighbors.graceful-restart.config]
    enabled = ${gr}
    restart-time = 120
${afiSafi('ipv4-unicast')}
${afiSafi('ipv6-unicast')}
`;
}

/**
 * The speaker runs SVCBGP_SPEAKER_GOBGPD's gobgpd if set, else the same version as the gobgpd under test
 * (SVCBGP_GOBGPD): the matrix can vary our gobgpd alone against a fixed helper.
 */
export function startSpeaker(o: SpeakerOptions): Promise<Gobgpd> {
  const version = process.env.SVCBGP_SPEAKER_GOBGPD;
  return startGobgpd({ name: 'speaker', configToml: speakerToml(o), ...(o.netns ? { netns: o.netns } : {}), ...(version ? { version } : {}) });
}

/** `gobgp global rib -a <family> -j` as {prefix: [{nexthop, ...}]}, flattened to prefix -> next hops. */
export async function ribNextHops(d: Gobgpd, family: 'ipv4' | 'ipv6'): Promise<Map<string, string[]>> {
  type CliPath = { nlri: { prefix: string }; attrs: { type: number; nexthop?: string; value?: unknown }[] };
  const rib = (await d.cliJson<Record<string, CliPath[]> | null>('global', 'rib', '-a', family)) ?? {};
  const out = new Map<string, string[]>();
  for (const [prefix, paths] of Object.entries(rib)) {
    const hops = paths.flatMap((p) => p.attrs.filter((a) => a.nexthop !== undefined).map((a) => a.nexthop!));
    out.set(prefix, [...new Set(hops)].sort());
  }
  return out;
}

/**
 * Two network namespaces joined by a veth pair — a point-to-point "wire" between a node and its ToR, like
 * the seed's 192.168.1.0/24. Needed for a session that carries routes: gobgpd treats an UPDATE whose
 * next hop is a loopback address (127.0.0.0/8) as a withdraw ("invalid nexthop address"), so a session
 * between 127.0.0.2 and 127.0.0.3 comes up but no route with next hop self survives it.
 */
export interface Link {
  nodeNs: string;
  torNs: string;
  destroy(): void;
}

export function createLink(o: { node: { v4: string; v6: string }; tor: { v4: string; v6: string }; v4Len: number; v6Len: number }): Link {
  const id = `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
  const nodeNs = `svcbgp-node-${id}`;
  const torNs = `svcbgp-tor-${id}`;
  const run = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const destroy = () => {
    deleteNetns(nodeNs);
    deleteNetns(torNs);
  };
  onExit(destroy);
  try {
    run('netns', 'add', nodeNs);
    run('netns', 'add', torNs);
    // veth names are at most 15 characters.
    run('-n', nodeNs, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', torNs);
    for (const [ns, addr] of [
      [nodeNs, o.node],
      [torNs, o.tor],
    ] as const) {
      run('-n', ns, 'link', 'set', 'lo', 'up');
      run('-n', ns, 'addr', 'add', `${addr.v4}/${o.v4Len}`, 'dev', 'eth0');
      run('-n', ns, 'addr', 'add', `${addr.v6}/${o.v6Len}`, 'dev', 'eth0', 'nodad');
      run('-n', ns, 'link', 'set', 'eth0', 'up');
    }
  } catch (err) {
    destroy();
    throw err;
  }
  return { nodeNs, torNs, destroy };
}
