import type { Family } from '../model/route.js';
import { bytesToText, cidrContains, type ParsedIp } from '../config/net.js';
import type { LoadBalancerPool } from '../config/ip-pools.js';

/**
 * The address space of the pools: which pool an address lies in, and the lowest free address of a pool. Pools are
 * taken in name order (the operator chooses the preference by naming), each from its first address: every address of
 * the CIDR is assignable, as in Calico's load-balancer IPAM (a /32 pool is one address).
 */

export interface PoolRange {
  pool: LoadBalancerPool;
  family: Family;
  base: bigint;
  size: bigint;
}

export function ipToBigInt(bytes: readonly number[]): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

export function bigIntToText(n: bigint, width: 4 | 16): string {
  const bytes: number[] = new Array<number>(width).fill(0);
  let v = n;
  for (let i = width - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return bytesToText(bytes);
}

/** Sort key of an address: IPv4 before IPv6, then numeric. */
export function compareAddresses(a: ParsedIp, b: ParsedIp): number {
  if (a.bytes.length !== b.bytes.length) return a.bytes.length - b.bytes.length;
  const x = ipToBigInt(a.bytes);
  const y = ipToBigInt(b.bytes);
  return x < y ? -1 : x > y ? 1 : 0;
}

export class PoolSpace {
  readonly ranges: readonly PoolRange[];
  /** Per pool: every offset below it is known to be used (the used set only grows while addresses are handed out). */
  private readonly cursor = new Map<string, bigint>();

  constructor(pools: readonly LoadBalancerPool[]) {
    this.ranges = [...pools]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((pool) => ({
        pool,
        family: pool.cidr.family,
        base: ipToBigInt(pool.cidr.bytes),
        size: 1n << BigInt(pool.cidr.bytes.length * 8 - pool.cidr.length),
      }));
  }

  /** The first pool (in pool order) holding the address; pools do not overlap once read (src/config/ip-pools.ts). */
  poolOf(ip: ParsedIp): PoolRange | undefined {
    return this.ranges.find((r) => cidrContains(r.pool.cidr, ip.bytes));
  }

  /** The lowest address of the pool for which `used` is false; undefined when the pool is full. */
  lowestFree(range: PoolRange, used: (address: string) => boolean): string | undefined {
    const width = range.family === 'ipv4-unicast' ? 4 : 16;
    let offset = this.cursor.get(range.pool.name) ?? 0n;
    while (offset < range.size) {
      const text = bigIntToText(range.base + offset, width);
      if (!used(text)) {
        this.cursor.set(range.pool.name, offset);
        return text;
      }
      offset++;
    }
    this.cursor.set(range.pool.name, offset);
    return undefined;
  }
}
