/**
 * Checks and conversions of the values inside GoBGP requests that are the same in every wire API version
 * (v3 and v4 carry prefixes, next hops, communities and AS numbers identically). Each codec builds its own
 * message shapes around them. Every check throws GobgpRequestError before anything is sent.
 */
import ipaddr from 'ipaddr.js';
import type { LinkBandwidth, Route } from '../model/route.js';
import { GobgpRequestError } from './errors.js';
import type { GlobalConfig } from './types.js';

/** Strict: dotted-quad IPv4 or IPv6 (ipaddr.isValid also takes shorthands like "192.168.1"). */
export function isIpAddress(s: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(s) || (s.includes(':') && ipaddr.IPv6.isValid(s));
}

export interface WireTimestamp {
  seconds: number;
  nanos: number;
}

export function dateFromWire(t: WireTimestamp | null | undefined): Date | undefined {
  if (!t || (!t.seconds && !t.nanos)) return undefined;
  return new Date(t.seconds * 1000 + Math.floor(t.nanos / 1e6));
}

/** "65000:100" -> (65000 << 16) | 100, as RFC 1997 lays it out. */
export function communityToWire(c: string): number {
  const m = /^(\d+):(\d+)$/.exec(c);
  const hi = m ? Number(m[1]) : NaN;
  const lo = m ? Number(m[2]) : NaN;
  if (!(hi >= 0 && hi <= 0xffff && lo >= 0 && lo <= 0xffff)) {
    throw new GobgpRequestError(`invalid community "${c}": expected "<0-65535>:<0-65535>"`);
  }
  return ((hi << 16) | lo) >>> 0;
}

export function communityFromWire(n: number): string {
  return `${n >>> 16}:${n & 0xffff}`;
}

export interface WireLargeCommunity {
  global_admin: number;
  local_data1: number;
  local_data2: number;
}

export function largeCommunityToWire(c: string): WireLargeCommunity {
  const m = /^(\d+):(\d+):(\d+)$/.exec(c);
  const parts = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
  const [global_admin, local_data1, local_data2] = parts;
  if (global_admin === undefined || local_data1 === undefined || local_data2 === undefined || parts.some((p) => !(p >= 0 && p <= 0xffffffff))) {
    throw new GobgpRequestError(`invalid large community "${c}": expected "<uint32>:<uint32>:<uint32>"`);
  }
  return { global_admin, local_data1, local_data2 };
}

export function largeCommunityFromWire(c: WireLargeCommunity): string {
  return `${c.global_admin}:${c.local_data1}:${c.local_data2}`;
}

/** Validates a route's prefix against its family and returns [address, length]. */
export function splitPrefix(route: Route): [string, number] {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(route.prefix);
  } catch {
    throw new GobgpRequestError(`invalid prefix "${route.prefix}": expected a CIDR like 10.49.0.0/16 or fd00::1/128`);
  }
  const [addr, len] = parsed;
  const kind = addr.kind() === 'ipv4' ? 'ipv4-unicast' : 'ipv6-unicast';
  if (kind !== route.family) {
    throw new GobgpRequestError(`prefix "${route.prefix}" is not in family ${route.family}`);
  }
  const network = addr.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(route.prefix) : ipaddr.IPv6.networkAddressFromCIDR(route.prefix);
  if (network.toString() !== addr.toString()) {
    throw new GobgpRequestError(`prefix "${route.prefix}" has host bits set: the network is ${network.toString()}/${len}`);
  }
  return [addr.toString(), len];
}

export function checkNextHop(route: Route): string {
  const nh = route.nextHop || (route.family === 'ipv4-unicast' ? '0.0.0.0' : '::');
  if (!isIpAddress(nh)) throw new GobgpRequestError(`invalid next hop "${nh}" for ${route.prefix}`);
  const kind = ipaddr.parse(nh).kind();
  if ((route.family === 'ipv4-unicast') !== (kind === 'ipv4')) {
    // gobgpd would accept an IPv4 next hop for IPv6 NLRI only with extended next hop encoding; we keep
    // families apart, so a mismatch is a caller bug.
    throw new GobgpRequestError(`next hop ${nh} does not match family ${route.family} of ${route.prefix}`);
  }
  return nh;
}

export function checkLocalPref(route: Route): number | undefined {
  const lp = route.localPref;
  if (lp !== undefined && (!Number.isInteger(lp) || lp < 0 || lp > 0xffffffff)) {
    throw new GobgpRequestError(`invalid local-pref ${lp} for ${route.prefix}`);
  }
  return lp;
}

/**
 * The link bandwidth of a route, checked: a 2-octet AS (gobgpd truncates the API's uint32 to 16 bits) and a finite,
 * non-negative bandwidth that a float32 holds (the wire carries an IEEE single).
 */
export function checkLinkBandwidth(route: Route): LinkBandwidth | undefined {
  const lb = route.linkBandwidth;
  if (lb === undefined) return undefined;
  if (!Number.isInteger(lb.asn) || lb.asn < 0 || lb.asn > 0xffff) {
    throw new GobgpRequestError(`invalid link-bandwidth AS ${lb.asn} for ${route.prefix}: expected 0..65535 (the community has a 2-octet AS field)`);
  }
  const bw = Math.fround(lb.bytesPerSecond);
  if (!Number.isFinite(bw) || bw < 0) {
    throw new GobgpRequestError(`invalid link bandwidth ${lb.bytesPerSecond} for ${route.prefix}: expected a finite number of bytes per second >= 0`);
  }
  return { asn: lb.asn, bytesPerSecond: bw };
}

/** `what` names the AS ("local AS", "peer AS"), `context` where it came from (" for 192.168.1.1"). */
export function checkAsn(asn: number, what: string, context = ''): void {
  if (!Number.isInteger(asn) || asn < 1 || asn > 0xffffffff) {
    throw new GobgpRequestError(`invalid ${what} ${asn}${context}: expected 1..4294967295`);
  }
}

/** AS and router-id of a StartBgp request. */
export function checkGlobal(global: GlobalConfig): void {
  checkAsn(global.asn, 'local AS');
  if (!ipaddr.IPv4.isValidFourPartDecimal(global.routerId)) {
    throw new GobgpRequestError(`invalid router-id "${global.routerId}": expected an IPv4 address`);
  }
}
