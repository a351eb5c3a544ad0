import ipaddr from 'ipaddr.js';
import type { Family } from '../model/route.js';

/**
 * Strict IP and CIDR helpers shared by the configuration parser and the route model.
 * Strict on purpose: ipaddr.js alone also accepts "10.1", octal and hex IPv4 forms, which Kubernetes
 * and Calico never produce; accepting them would let a typo become a route.
 */

export interface ParsedIp {
  /** Canonical text: dotted quad, or RFC 5952 compressed IPv6. */
  text: string;
  family: Family;
  bytes: number[];
}

export interface ParsedCidr {
  /** Canonical "network/len". */
  cidr: string;
  family: Family;
  /** Network address bytes. */
  bytes: number[];
  length: number;
}

export function familyOfBytes(bytes: number[]): Family {
  return bytes.length === 4 ? 'ipv4-unicast' : 'ipv6-unicast';
}

/** Parses one IP address; undefined if it is not a plain IPv4 dotted quad or IPv6 address (no zone). */
export function parseIp(text: unknown): ParsedIp | undefined {
  if (typeof text !== 'string') return undefined;
  const s = text.trim();
  if (s !== text || s === '') return undefined;
  if (s.includes(':')) {
    if (s.includes('%') || !ipaddr.IPv6.isValid(s)) return undefined;
    const a = ipaddr.IPv6.parse(s);
    // An IPv4-mapped IPv6 address is not a Service address we can route as IPv6.
    if (a.isIPv4MappedAddress()) return undefined;
    return { text: a.toRFC5952String(), family: 'ipv6-unicast', bytes: a.toByteArray() };
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(s)) return undefined;
  // isValidFourPartDecimal accepts leading zeros ("010.1.1.1"); reject them (ambiguous: octal?).
  if (s.split('.').some((o) => o.length > 1 && o.startsWith('0'))) return undefined;
  const a = ipaddr.IPv4.parse(s);
  return { text: a.toString(), family: 'ipv4-unicast', bytes: a.toByteArray() };
}

export type CidrProblem = { kind: 'syntax' } | { kind: 'host-bits'; network: string };

/** Parses "addr/len"; a host address with bits set beyond the mask (10.49.0.1/16) is a problem, not silently masked. */
export function parseCidr(text: unknown): ParsedCidr | CidrProblem {
  if (typeof text !== 'string') return { kind: 'syntax' };
  const slash = text.indexOf('/');
  if (slash < 0) return { kind: 'syntax' };
  const ip = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!ip || !/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return { kind: 'syntax' };
  const length = Number(lenText);
  const max = ip.bytes.length * 8;
  if (length > max) return { kind: 'syntax' };
  const net = maskBytes(ip.bytes, length);
  const network = `${bytesToText(net)}/${length}`;
  if (!sameBytes(net, ip.bytes)) return { kind: 'host-bits', network };
  return { cidr: network, family: ip.family, bytes: net, length };
}

export function isCidr(x: ParsedCidr | CidrProblem): x is ParsedCidr {
  return 'cidr' in x;
}

export function maskBytes(bytes: number[], length: number): number[] {
  return bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, length - i * 8));
    return bits === 8 ? b : b & ((0xff << (8 - bits)) & 0xff);
  });
}

function sameBytes(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function bytesToText(bytes: number[]): string {
  return ipaddr.fromByteArray(bytes).toString();
}

/** True if the address (or prefix network) lies inside the CIDR. */
export function cidrContains(cidr: ParsedCidr, bytes: number[], length = bytes.length * 8): boolean {
  if (bytes.length !== cidr.bytes.length || length < cidr.length) return false;
  return sameBytes(maskBytes(bytes, cidr.length), cidr.bytes);
}

/** Host route for an address: "/32" or "/128". */
export function hostPrefix(ip: ParsedIp): string {
  return `${ip.text}/${ip.bytes.length * 8}`;
}

/** Parses a canonical prefix produced by this module (throws if it is not one: a programming error). */
export function mustParseCidr(text: string): ParsedCidr {
  const c = parseCidr(text);
  if (!isCidr(c)) throw new Error(`internal: not a canonical CIDR: ${text}`);
  return c;
}

/**
 * A string whose plain order is the prefix order below ("4"/"6", address bytes in hex, length): compute once per
 * item and sort by it, instead of parsing inside every comparison.
 */
export function prefixSortKey(prefix: string): string {
  const p = parseCidr(prefix);
  if (!isCidr(p)) return `z${prefix}`;
  return `${p.bytes.length === 4 ? '4' : '6'}${p.bytes.map((b) => b.toString(16).padStart(2, '0')).join('')}${p.length.toString().padStart(3, '0')}`;
}

/** Sorts items by prefix order (IPv4 first, then address, then length), parsing each prefix once. */
export function sortByPrefix<T>(items: readonly T[], prefixOf: (t: T) => string): T[] {
  return items
    .map((t) => ({ t, k: prefixSortKey(prefixOf(t)) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((x) => x.t);
}

/** Total order on prefixes: IPv4 before IPv6, then by network address, then by length. */
export function comparePrefixes(a: string, b: string): number {
  if (a === b) return 0;
  const pa = parseCidr(a);
  const pb = parseCidr(b);
  if (!isCidr(pa) || !isCidr(pb)) return a < b ? -1 : 1;
  if (pa.bytes.length !== pb.bytes.length) return pa.bytes.length - pb.bytes.length;
  for (let i = 0; i < pa.bytes.length; i++) {
    const d = (pa.bytes[i] ?? 0) - (pb.bytes[i] ?? 0);
    if (d !== 0) return d;
  }
  return pa.length - pb.length;
}

/** True if the two prefixes share any address (one contains the other). */
export function cidrsOverlap(a: ParsedCidr, b: ParsedCidr): boolean {
  if (a.bytes.length !== b.bytes.length) return false;
  return a.length <= b.length ? cidrContains(a, b.bytes, b.length) : cidrContains(b, a.bytes, a.length);
}

/**
 * Ranges that are never Service addresses: traffic to them is not routed across a data-center network (RFC 6890,
 * RFC 4291), so a service CIDR that overlaps one is a mistake that also widens the allow-list to nonsense.
 */
const RESERVED_RANGES: readonly { cidr: string; name: string }[] = [
  { cidr: '0.0.0.0/8', name: '"this network" (RFC 791)' },
  { cidr: '127.0.0.0/8', name: 'loopback' },
  { cidr: '169.254.0.0/16', name: 'link-local' },
  { cidr: '224.0.0.0/4', name: 'multicast' },
  { cidr: '240.0.0.0/4', name: 'reserved (class E) and broadcast' },
  { cidr: '::/128', name: 'the unspecified address' },
  { cidr: '::1/128', name: 'loopback' },
  { cidr: 'fe80::/10', name: 'link-local' },
  { cidr: 'ff00::/8', name: 'multicast' },
];

/** The first reserved range the prefix overlaps, as "loopback 127.0.0.0/8"; undefined if none. */
export function reservedRangeOf(c: ParsedCidr): string | undefined {
  for (const r of RESERVED_RANGES) {
    const rc = parseCidr(r.cidr);
    if (isCidr(rc) && cidrsOverlap(rc, c)) return `${r.name} ${r.cidr}`;
  }
  return undefined;
}

/** The shortest service prefix length accepted without an explicit opt-in, per family. */
export const MIN_SERVICE_PREFIX_LENGTH = { 'ipv4-unicast': 8, 'ipv6-unicast': 32 } as const;
