import { chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { isAlive, run, spawnDaemon, waitFor } from './exec.js';
import type { BgpSession, TorRouter, TorSettings } from './tor.js';

/**
 * FRR as the ToR: its own zebra + bgpd instance inside the ToR namespace. `-N <ns>` (pathspace) puts the
 * vty sockets and zserv socket under /var/run/frr/<ns>/, which is what `vtysh -N <ns>` looks for, so an
 * operator queries this instance with `vtysh -N <ns> -c '...'` and never the host's FRR. Configs, pid files
 * and logs live in the lab's run dir (owned by user frr, as FRR drops privileges to it). `-P 0` turns the
 * TCP vty off: only the unix vty sockets exist.
 *
 * bgpd config: `maximum-paths ibgp 16` for ECMP over iBGP (FRR's default is 1 path), `bgp graceful-restart`
 * (helper + restarter), every node a `route-reflector-client`. FRR reflects to rr clients by default, so the
 * route-map SVCBGP-NOTHING on the way out keeps the nodes' RIBs to their own routes unless reflectToNodes.
 * On the way in, frrGracefulShutdownLines() (route-map SVCBGP-FROM-NODES).
 */
/**
 * RFC 8326 on the receiving side. `bgp graceful-shutdown` is FRR's own maintenance switch (it tags what FRR sends);
 * what a peer sends with GRACEFUL_SHUTDOWN is honoured only by an inbound route-map: match the well-known community
 * (FRR's name for 65535:0 is `graceful-shutdown`) and set LOCAL_PREF 0, so bestpath and `maximum-paths` leave the
 * leaving node's paths out while it still forwards; everything else passes unchanged (permit 20). Over iBGP svcbgp
 * sends LOCAL_PREF 0 itself; over eBGP this route-map is what moves the traffic.
 */
export const FRR_GRACEFUL_SHUTDOWN_ROUTE_MAP = 'SVCBGP-FROM-NODES';
export function frrGracefulShutdownLines(): string[] {
  return [
    'bgp community-list standard GSHUT permit graceful-shutdown',
    `route-map ${FRR_GRACEFUL_SHUTDOWN_ROUTE_MAP} permit 10`,
    ' match community GSHUT',
    ' set local-preference 0',
    `route-map ${FRR_GRACEFUL_SHUTDOWN_ROUTE_MAP} permit 20`,
    '!',
  ];
}

export function renderBgpdConfig(s: TorSettings): string {
  const ipv6 = s.ipv6 ?? true;
  const out = [
    `  neighbor NODES route-map ${FRR_GRACEFUL_SHUTDOWN_ROUTE_MAP} in`,
    ...(s.reflectToNodes ? [] : ['  neighbor NODES route-map SVCBGP-NOTHING out']),
  ];
  const lines = [
    '! svcbgp lab ToR (FRR bgpd), generated',
    `hostname ${s.ns}`,
    '!',
    'route-map SVCBGP-NOTHING deny 10',
    '!',
    ...frrGracefulShutdownLines(),
    `router bgp ${s.asn}`,
    ` bgp router-id ${s.routerId}`,
    ' bgp graceful-restart',
    ' no bgp default ipv4-unicast',
    ' neighbor NODES peer-group',
    ` neighbor NODES remote-as ${s.asn}`,
    ...s.neighbors.map((n) => ` neighbor ${n.address} peer-group NODES`),
    ...frrBfdNeighborLines(s),
    // GTSM: TTL 255 out, at least 256 - hops (255) in.
    ...(s.ttlSecurity ? [' neighbor NODES ttl-security hops 1'] : []),
    ...(s.passive ? [' neighbor NODES passive'] : []),
    ' !',
    ' address-family ipv4 unicast',
    '  maximum-paths ibgp 16',
    '  neighbor NODES activate',
    '  neighbor NODES route-reflector-client',
    ...out,
    ' exit-address-family',
  ];
  if (ipv6) {
    lines.push(
      ' !',
      ' address-family ipv6 unicast',
      '  maximum-paths ibgp 16',
      '  neighbor NODES activate',
      '  neighbor NODES route-reflector-client',
      ...out,
      ' exit-address-family',
    );
  }
  lines.push('!');
  return `${lines.join('\n')}\n`;
}

/** `neighbor NODES bfd` (bfdd's default profile: 300 ms x 3), plus check-control-plane-failure when graceful. */
function frrBfdNeighborLines(s: TorSettings): string[] {
  if (!s.bfd) return [];
  return [' neighbor NODES bfd', ...(s.bfd.graceful ? [' neighbor NODES bfd check-control-plane-failure'] : [])];
}

/** The FRR daemons of the ToR: bfdd too when the sessions use BFD (bgpd reaches it through zebra). */
export function frrDaemons(s: TorSettings): ('zebra' | 'bgpd' | 'bfdd')[] {
  return s.bfd ? ['zebra', 'bfdd', 'bgpd'] : ['zebra', 'bgpd'];
}

interface FrrSummaryPeer {
  state?: string;
}
interface FrrSummaryFamily {
  peers?: Record<string, FrrSummaryPeer>;
}

/** Parse `vtysh -c 'show bgp summary json'` (one object per address family; peers keyed by address). */
export function parseFrrSummary(json: string, peers: string[]): BgpSession[] {
  const doc = JSON.parse(json) as Record<string, FrrSummaryFamily>;
  const states = new Map<string, string>();
  for (const fam of Object.values(doc)) {
    for (const [addr, p] of Object.entries(fam.peers ?? {})) if (p.state && !states.has(addr)) states.set(addr, p.state);
  }
  return peers.map((peer) => {
    const state = states.get(peer) ?? 'Unknown';
    return { peer, name: peer, state, established: state === 'Established' };
  });
}

function frrIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'frr'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'frr'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** Where `-N <ns>` puts this instance's sockets. Removed at teardown. */
export const frrStateDir = (ns: string): string => `/var/run/frr/${ns}`;

export class FrrRouter implements TorRouter {
  readonly kind = 'frr' as const;
  private pidList: number[] = [];

  constructor(private readonly s: TorSettings) {}

  /** Run vtysh against this instance. The empty --config_dir silences "can't open vtysh.conf". */
  async vtysh(commands: string[]): Promise<string> {
    const args = ['-N', this.s.ns, '--config_dir', this.s.dir, ...commands.flatMap((c) => ['-c', c])];
    return (await run('vtysh', args)).stdout;
  }

  async start(): Promise<void> {
    const { uid, gid } = frrIds();
    const stateDir = frrStateDir(this.s.ns);
    rmSync(stateDir, { recursive: true, force: true });
    mkdirSync(stateDir, { recursive: true });
    chownSync(stateDir, uid, gid);
    chownSync(this.s.dir, uid, gid);
    const files: Record<string, string> = {
      'zebra.conf': `hostname ${this.s.ns}\n`,
      'bgpd.conf': renderBgpdConfig(this.s),
      'vtysh.conf': '',
      ...(this.s.bfd ? { 'bfdd.conf': `hostname ${this.s.ns}\n` } : {}),
    };
    for (const [name, text] of Object.entries(files)) {
      writeFileSync(join(this.s.dir, name), text);
      chownSync(join(this.s.dir, name), uid, gid);
    }
    for (const daemon of frrDaemons(this.s)) {
      const argv = [
        'ip',
        'netns',
        'exec',
        this.s.ns,
        `/usr/lib/frr/${daemon}`,
        '-N',
        this.s.ns,
        '-f',
        join(this.s.dir, `${daemon}.conf`),
        '-i',
        join(this.s.dir, `${daemon}.pid`),
        '-P',
        '0',
        '-u',
        'frr',
        '-g',
        'frr',
        '--log',
        `file:${join(this.s.dir, `${daemon}.log`)}`,
      ];
      const pid = spawnDaemon(argv, join(this.s.dir, `${daemon}.out`));
      this.pidList.push(pid);
      await waitFor(
        `FRR ${daemon} vty socket`,
        async () => {
          if (!isAlive(pid)) throw new Error(`${daemon} exited: ${readFileSync(join(this.s.dir, `${daemon}.out`), 'utf8').trim()}`);
          const r = await run('vtysh', ['-N', this.s.ns, '--config_dir', this.s.dir, '-d', daemon, '-c', 'show version'], {
            allowFail: true,
          });
          return r.code === 0 ? true : undefined;
        },
        15_000,
        100,
      );
    }
  }

  async sessions(): Promise<BgpSession[]> {
    const text = await this.vtysh(['show bgp summary json']);
    return parseFrrSummary(
      text,
      this.s.neighbors.map((n) => n.address),
    );
  }

  showSessions(): Promise<string> {
    return this.vtysh(['show bgp summary']);
  }

  showRoutes(): Promise<string> {
    return this.vtysh(['show ip bgp', 'show bgp ipv6 unicast']);
  }

  pids(): number[] {
    return [...this.pidList];
  }

  operatorCommands(): string[] {
    return [
      `vtysh -N ${this.s.ns} -c 'show bgp summary'`,
      `vtysh -N ${this.s.ns} -c 'show ip bgp'`,
      `vtysh -N ${this.s.ns} -c 'show ip route bgp'`,
      `ip netns exec ${this.s.ns} ip route`,
    ];
  }
}
