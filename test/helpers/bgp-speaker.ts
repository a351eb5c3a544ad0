/**
 * Test helper: a second, independent BGP speaker — another real gobgpd, configured from its own TOML file
 * (not through svcbgp's code), so what it receives is an honest check of what our gobgpd sends.
 * It listens on its own loopback address and port (e.g. 127.0.0.3:<free port>) and peers with the
 * gobgpd under test (e.g. 127.0.0.2:<free port>); all of 127.0.0.0/8 is local on Linux, no setup needed.
 */
import { startGobgpd, type Gobgpd } from './gobgpd.js';

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

export function startSpeaker(o: SpeakerOptions): Promise<Gobgpd> {
  return startGobgpd({ name: 'speaker', configToml: speakerToml(o) });
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
