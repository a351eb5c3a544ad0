import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, run, spawnDaemon, waitFor } from './exec.js';
import type { BgpSession, TorRouter, TorSettings } from './tor.js';

/** BIRD protocol name for a node: "node-1" -> "node_1" (BIRD names are symbols: no dashes). */
export const birdProtocolName = (nodeName: string): string => nodeName.replace(/[^A-Za-z0-9_]/g, '_');

/**
 * BIRD 2 as the ToR. Why each line is there:
 * - `protocol direct`: iBGP next hops are resolved recursively through the routing table; without the LAN's
 *   direct route in BIRD's table every learned route is `unreachable`.
 * - kernel `merge paths on`: BIRD merges equal BGP routes from several nodes into one multipath kernel route
 *   (`nexthop via .10 / .11 / .12 weight 1`), what the article's ToR shows. Only BGP routes go to the kernel.
 * - `rr client` + `graceful restart on` on every node session, as the article's ToR would run it; BIRD is then the
 *   graceful-restart helper: it keeps a restarting node's routes (stale) for the restart time the node advertised.
 * - export to nodes: none unless reflectToNodes (see TorSettings).
 * - import filter honour_graceful_shutdown: see birdGracefulShutdownFilter().
 */
/**
 * RFC 8326 on the receiving side: a path tagged GRACEFUL_SHUTDOWN (65535:0) gets LOCAL_PREF 0, so BIRD prefers
 * (and `merge paths` merges) only the other nodes' paths while the leaving node still forwards. Over iBGP svcbgp
 * also sends LOCAL_PREF 0 itself; over eBGP (no LOCAL_PREF on the wire) this filter is what moves the traffic.
 * BIRD 2's filter language: `(65535, 0) ~ bgp_community` tests membership of a community pair; a filter must end
 * with accept or reject.
 */
export const BIRD_GRACEFUL_SHUTDOWN_FILTER = 'honour_graceful_shutdown';
export function birdGracefulShutdownFilter(): string[] {
  return [
    `# RFC 8326: GRACEFUL_SHUTDOWN (65535:0) means "about to go away": least preferred, out of the ECMP set.`,
    `filter ${BIRD_GRACEFUL_SHUTDOWN_FILTER} {`,
    `  if (65535, 0) ~ bgp_community then bgp_local_pref = 0;`,
    `  accept;`,
    `}`,
  ];
}

export function renderBirdConfig(s: TorSettings): string {
  const ipv6 = s.ipv6 ?? true;
  const exportToNodes = s.reflectToNodes ? 'all' : 'none';
  const lines = [
    `# svcbgp lab ToR (BIRD 2), generated`,
    `log "${join(s.dir, 'bird.log')}" all;`,
    `router id ${s.routerId};`,
    ``,
    `protocol device { scan time 10; }`,
    `protocol direct { ipv4;${ipv6 ? ' ipv6;' : ''} }`,
    ...birdBfdProtocol(s),
    `protocol kernel kernel4 {`,
    `  merge paths on;`,
    `  ipv4 { import none; export where source = RTS_BGP; };`,
    `}`,
  ];
  if (ipv6) {
    lines.push(`protocol kernel kernel6 {`, `  merge paths on;`, `  ipv6 { import none; export where source = RTS_BGP; };`, `}`);
  }
  lines.push(
    ``,
    ...birdGracefulShutdownFilter(),
    ``,
    `template bgp svcbgp_node {`,
    `  local as ${s.asn};`,
    `  rr client;`,
    `  graceful restart on;`,
    // Lab timers: first connect attempt after 1 s instead of 5 s (sessions come up faster, nothing else changes).
    `  connect delay time 1;`,
    // BIRD takes iBGP as multihop (multihop BFD, port 4784; GTSM's minimum TTL 256 - hops far below 255); `direct`
    // makes it single-hop: BFD as gobgpd runs it (RFC 5881), GTSM accepting TTL 255 only (proto/bgp/bgp.c).
    ...(s.bfd || s.ttlSecurity ? [`  direct;`] : []),
    ...(s.bfd ? [`  bfd ${s.bfd.graceful ? 'graceful' : 'on'};`] : []),
    ...(s.ttlSecurity ? [`  ttl security on;`] : []),
    ...(s.passive ? [`  passive on;`] : []),
    `  ipv4 { import filter ${BIRD_GRACEFUL_SHUTDOWN_FILTER}; export ${exportToNodes}; };`,
  );
  // IPv6 routes arrive over the IPv4 session (MP-BGP); their next hop is the node's IPv6 LAN address or an
  // IPv4-mapped one, resolved through `protocol direct`'s fd00:1::/64.
  if (ipv6) lines.push(`  ipv6 { import filter ${BIRD_GRACEFUL_SHUTDOWN_FILTER}; export ${exportToNodes}; };`);
  lines.push(`}`, ``);
  for (const n of s.neighbors) {
    lines.push(`protocol bgp ${birdProtocolName(n.name)} from svcbgp_node { neighbor ${n.address} as ${s.asn}; }`);
  }
  return `${lines.join('\n')}\n`;
}

/** BIRD's BFD protocol for `bfd on|graceful` in the node sessions: 300 ms x 3 (BIRD's defaults are 10 ms rx, x5). */
function birdBfdProtocol(s: TorSettings): string[] {
  if (!s.bfd) return [];
  return [`protocol bfd { interface "*" { min rx interval 300 ms; min tx interval 300 ms; multiplier 3; }; }`];
}

/**
 * Parse `birdc show protocols` ("Name Proto Table State Since Info" rows) for the BGP protocols.
 * `nameToPeer` maps protocol names back to neighbor addresses.
 */
export function parseBirdProtocols(text: string, nameToPeer: Map<string, string>): BgpSession[] {
  const out: BgpSession[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4 || cols[1] !== 'BGP') continue;
    const name = cols[0]!;
    const peer = nameToPeer.get(name);
    if (peer === undefined) continue;
    // Columns: name, BGP, table ("---"), state (up/start/down), since (date + time: 1 or 2 tokens), info.
    const info = cols
      .slice(5)
      .filter((c) => !/^\d{2}:\d{2}:\d{2}/.test(c))
      .join(' ');
    const state = info === '' ? cols[3]! : info.split(' ')[0]!;
    out.push({ peer, name, state, established: state === 'Established' });
  }
  return out;
}

export class BirdRouter implements TorRouter {
  readonly kind = 'bird' as const;
  readonly socket: string;
  private pid: number | undefined;

  constructor(private readonly s: TorSettings) {
    this.socket = join(s.dir, 'bird.ctl');
  }

  birdc(args: string[]): Promise<string> {
    return run('birdc', ['-s', this.socket, ...args]).then((r) => r.stdout);
  }

  async start(): Promise<void> {
    const conf = join(this.s.dir, 'bird.conf');
    writeFileSync(conf, renderBirdConfig(this.s));
    const pidFile = join(this.s.dir, 'bird.pid');
    // -f: stay in the foreground so the pid we get is BIRD's own (ip netns exec execs it).
    this.pid = spawnDaemon(['ip', 'netns', 'exec', this.s.ns, 'bird', '-f', '-c', conf, '-s', this.socket, '-P', pidFile], join(this.s.dir, 'bird.out'));
    await waitFor(
      'BIRD control socket',
      async () => {
        if (this.pid !== undefined && !isAlive(this.pid)) {
          throw new Error(`bird exited: ${readFileSync(join(this.s.dir, 'bird.out'), 'utf8').trim()}`);
        }
        const r = await run('birdc', ['-s', this.socket, 'show', 'status'], { allowFail: true });
        return r.code === 0 && r.stdout.includes('Daemon is up') ? true : undefined;
      },
      15_000,
      100,
    );
  }

  async sessions(): Promise<BgpSession[]> {
    const map = new Map(this.s.neighbors.map((n) => [birdProtocolName(n.name), n.address]));
    return parseBirdProtocols(await this.showSessions(), map);
  }

  showSessions(): Promise<string> {
    return this.birdc(['show', 'protocols']);
  }

  showRoutes(): Promise<string> {
    return this.birdc(['show', 'route', 'all']);
  }

  pids(): number[] {
    return this.pid === undefined ? [] : [this.pid];
  }

  operatorCommands(): string[] {
    return [
      `birdc -s ${this.socket} show protocols`,
      `birdc -s ${this.socket} show protocols all node_1`,
      `birdc -s ${this.socket} show route`,
      `ip netns exec ${this.s.ns} ip route`,
    ];
  }
}
