import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.js';

/**
 * The lab's addressing plan (the article's network) and the names of one run's namespaces.
 * Every name carries the run's prefix `sb<4 hex>` so two runs never collide and a crashed run's
 * leftovers can be found by prefix (see cleanup.ts). Names stay short: `sb1a2b-tor`, `sb1a2b-n1`.
 */

export const LAN_V4 = '192.168.1.0/24';
export const LAN_V6 = 'fd00:1::/64';
export const TOR_V4 = '192.168.1.1';
export const TOR_V6 = 'fd00:1::1';
export const EXT_NET_V4 = '172.30.0.0/24';
export const TOR_EXT_V4 = '172.30.0.1';
export const EXT_V4 = '172.30.0.2';
export const TOR_EXT_V6 = 'fd00:30::1';
export const EXT_V6 = 'fd00:30::2';
export const LAB_ASN = 64512;
/** Node i (1-based) gets 192.168.1.(9+i) and fd00:1::(9+i): node-1 = .10, node-2 = .11, node-3 = .12. */
export const nodeV4 = (i: number): string => `192.168.1.${9 + i}`;
export const nodeV6 = (i: number): string => `fd00:1::${9 + i}`;

/** Matches every namespace name the lab creates (Pods' too: `sb1a2b-p3`); used to find leftovers of crashed runs. */
export const LAB_NS_PATTERN = /^sb[0-9a-f]{4}-(tor|ext|n[0-9]+|p[0-9]+)$/;

export interface LabNames {
  /** Short random run id, e.g. "1a2b". */
  id: string;
  /** "sb" + id: the prefix of every namespace of this run. */
  prefix: string;
  torNs: string;
  extNs: string;
  /** Node namespaces, index 0 = node-1. */
  nodeNs: string[];
  /** Run directory holding configs, sockets, logs and lab.json. */
  runDir: string;
}

/** Base directory of all run dirs (override with SVCBGP_LAB_DIR). Unix socket paths must stay < 108 bytes. */
export function labBaseDir(): string {
  return process.env.SVCBGP_LAB_DIR ?? '/tmp/svcbgp-lab';
}

export function makeNames(nodeCount: number, id = randomBytes(2).toString('hex')): LabNames {
  const prefix = `sb${id}`;
  return {
    id,
    prefix,
    torNs: `${prefix}-tor`,
    extNs: `${prefix}-ext`,
    nodeNs: Array.from({ length: nodeCount }, (_, i) => `${prefix}-n${i + 1}`),
    runDir: join(labBaseDir(), prefix),
  };
}

/** Pick a run id whose namespaces and run dir do not exist yet. */
export function freshNames(nodeCount: number): LabNames {
  for (let attempt = 0; attempt < 50; attempt++) {
    const names = makeNames(nodeCount);
    const all = [names.torNs, names.extNs, ...names.nodeNs];
    if (!existsSync(names.runDir) && all.every((ns) => !existsSync(`/run/netns/${ns}`))) return names;
  }
  throw new Error('could not find an unused lab id');
}

/** `ip -n <ns> -batch -`: one process per namespace instead of one per command. */
export async function ipBatch(ns: string, lines: string[]): Promise<void> {
  await run('ip', ['-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n` });
}

export async function sysctl(ns: string, settings: string[]): Promise<void> {
  await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...settings]);
}

/**
 * Build the topology. The root namespace gets nothing: the LAN bridge `br0` lives inside the ToR namespace,
 * veths are created from inside the ToR namespace straight into their peer namespace.
 *
 *   ext (172.30.0.2) --eth0/ext0-- ToR [ext0 172.30.0.1 | br0 192.168.1.1] --n1/n2/n3 ports-- nodes (eth0 .10/.11/.12)
 */
export interface TopologyOptions {
  /**
   * What the ToR does with traffic to an address no node advertises: 'unreachable' (default: no route, the ToR
   * answers ICMP unreachable, a client fails at once with ENETUNREACH) or 'drop' (a `blackhole default` route:
   * packets vanish and a client times out, as `curl -m 10` does in the article).
   */
  unknownDestinations?: 'unreachable' | 'drop';
}

export async function createTopology(names: LabNames, opts: TopologyOptions = {}): Promise<void> {
  const all = [names.torNs, names.extNs, ...names.nodeNs];
  for (const ns of all) await run('ip', ['netns', 'add', ns]);
  const tor: string[] = [
    'link set lo up',
    'link add br0 type bridge',
    'link set br0 up',
    `addr add ${TOR_V4}/24 dev br0`,
    `addr add ${TOR_V6}/64 dev br0 nodad`,
    `link add ext0 type veth peer name eth0 netns ${names.extNs}`,
    `addr add ${TOR_EXT_V4}/24 dev ext0`,
    `addr add ${TOR_EXT_V6}/64 dev ext0 nodad`,
    'link set ext0 up',
  ];
  names.nodeNs.forEach((ns, i) => {
    tor.push(`link add n${i + 1} type veth peer name eth0 netns ${ns}`, `link set n${i + 1} master br0`, `link set n${i + 1} up`);
  });
  if (opts.unknownDestinations === 'drop') tor.push('route add blackhole default', 'route add blackhole ::/0');
  await ipBatch(names.torNs, tor);
  // Forwarding is per namespace; rp_filter off so ECMP replies never get dropped by a strict reverse-path check.
  await sysctl(names.torNs, ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
  await ipBatch(names.extNs, [
    'link set lo up',
    `addr add ${EXT_V4}/24 dev eth0`,
    `addr add ${EXT_V6}/64 dev eth0 nodad`,
    'link set eth0 up',
    `route add default via ${TOR_EXT_V4}`,
    `route add ::/0 via ${TOR_EXT_V6}`,
  ]);
  for (const [i, ns] of names.nodeNs.entries()) {
    await ipBatch(ns, [
      'link set lo up',
      `addr add ${nodeV4(i + 1)}/24 dev eth0`,
      `addr add ${nodeV6(i + 1)}/64 dev eth0 nodad`,
      'link set eth0 up',
      `route add default via ${TOR_V4}`,
      `route add ::/0 via ${TOR_V6}`,
    ]);
    await sysctl(ns, ['net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
  }
}
