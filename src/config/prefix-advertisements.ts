import { cidrsOverlap, type ParsedCidr } from './net.js';
import { GOBGPD_RESERVE, MAX_BGP_MESSAGE, MAX_SERVICE_COMMUNITIES, MAX_SERVICE_LARGE_COMMUNITIES, operatorCommunitiesFit } from '../model/path-size.js';
import { isObject, readCidr, refuseYamlNumber } from './field-readers.js';
import { render, type Messages } from './messages.js';
import type { DocRef, PrefixAdvertisement } from './types.js';

/**
 * spec.communities and spec.prefixAdvertisements of a BGPConfiguration ("default" or "node.<nodename>"). An entry of
 * prefixAdvertisements[].communities is a literal or a name from spec.communities of the same document; an unknown
 * name is an error, where Calico drops it silently.
 */

const STD_COMMUNITY = /^([0-9]+):([0-9]+)$/;
const LARGE_COMMUNITY = /^([0-9]+):([0-9]+):([0-9]+)$/;

/**
 * Returns the type and canonical text of a valid literal, an error text for an out-of-range literal, undefined if
 * not a literal. Canonical = plain decimal parts ("64512:0100" -> "64512:100"): that is how gobgpd reports the
 * community back, and desired and advertised attributes are compared as text, so a non-canonical literal would
 * re-send the path on every pass.
 */
function communityLiteral(v: string): { type: 'standard' | 'large'; canonical: string } | { problem: string } | undefined {
  const canonical = (parts: string[]): string => parts.map(Number).join(':');
  const s = STD_COMMUNITY.exec(v);
  if (s) {
    return Number(s[1]) <= 65535 && Number(s[2]) <= 65535
      ? { type: 'standard', canonical: canonical(s.slice(1, 3)) }
      : { problem: 'a standard community is "aa:nn" with both parts 0..65535' };
  }
  const l = LARGE_COMMUNITY.exec(v);
  if (l) {
    return [l[1], l[2], l[3]].every((x) => Number(x) <= 4294967295)
      ? { type: 'large', canonical: canonical(l.slice(1, 4)) }
      : { problem: 'a large community is "aa:nn:mm" with each part 0..4294967295' };
  }
  return undefined;
}

/** spec.communities: name -> canonical literal. */
export function readCommunities(msgs: Messages, ref: DocRef, v: unknown): Map<string, string> | undefined {
  const out = new Map<string, string>();
  if (v === null || v === undefined) return out;
  if (!Array.isArray(v)) {
    msgs.error(ref, 'spec.communities', render(v), 'expected a list of {name, value} entries');
    return undefined;
  }
  let ok = true;
  v.forEach((item, i) => {
    const p = `spec.communities[${i}]`;
    if (!isObject(item)) {
      msgs.error(ref, p, render(item), 'expected a mapping {name: ..., value: "aa:nn" or "aa:nn:mm"}');
      ok = false;
      return;
    }
    for (const k of Object.keys(item)) if (k !== 'name' && k !== 'value') msgs.warn(ref, `${p}.${k}`, undefined, 'unknown field; ignored');
    const name = item['name'];
    const value = item['value'];
    if (typeof name !== 'string' || name === '') {
      msgs.error(ref, `${p}.name`, render(name), 'expected a non-empty name');
      ok = false;
    } else if (out.has(name)) {
      msgs.error(ref, `${p}.name`, render(name), 'defined twice; community names must be unique');
      ok = false;
    }
    const lit = typeof value === 'string' ? communityLiteral(value) : undefined;
    if (typeof value !== 'string' || lit === undefined || 'problem' in lit) {
      msgs.error(ref, `${p}.value`, render(value), lit && 'problem' in lit ? lit.problem : 'expected "aa:nn" (standard) or "aa:nn:mm" (large community)');
      ok = false;
      return;
    }
    if (typeof name === 'string') out.set(name, lit.canonical);
  });
  return ok ? out : undefined;
}

/** spec.prefixAdvertisements, with community names resolved through `defined` (spec.communities). */
export function readPrefixAdvertisements(msgs: Messages, ref: DocRef, v: unknown, defined: Map<string, string>): PrefixAdvertisement[] | undefined {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) {
    msgs.error(ref, 'spec.prefixAdvertisements', render(v), 'expected a list of {cidr, communities} entries');
    return undefined;
  }
  const out: PrefixAdvertisement[] = [];
  let ok = true;
  v.forEach((item, i) => {
    const p = `spec.prefixAdvertisements[${i}]`;
    if (!isObject(item)) {
      msgs.error(ref, p, render(item), 'expected a mapping {cidr: ..., communities: [...]}');
      ok = false;
      return;
    }
    for (const k of Object.keys(item)) {
      if (!['cidr', 'communities', 'localPref'].includes(k))
        msgs.warn(ref, `${p}.${k}`, undefined, 'unknown field; ignored (supported: cidr, communities, localPref)');
    }
    const cidr = readCidr(msgs, ref, `${p}.cidr`, item['cidr']);
    const pa: PrefixAdvertisement = { cidr: cidr as ParsedCidr, communities: [], largeCommunities: [] };
    if (!readEntryCommunities(msgs, ref, p, item['communities'], defined, pa)) ok = false;
    if (!readEntryLocalPref(msgs, ref, p, item['localPref'], pa)) ok = false;
    if (!cidr) {
      ok = false;
      return;
    }
    out.push(pa);
  });
  if (ok && !checkPathRoom(msgs, ref, out)) return undefined;
  return ok ? out : undefined;
}

/** prefixAdvertisements[i].communities into `pa`; false when one entry could not be read. */
function readEntryCommunities(msgs: Messages, ref: DocRef, p: string, cs: unknown, defined: Map<string, string>, pa: PrefixAdvertisement): boolean {
  if (cs !== undefined && cs !== null && !Array.isArray(cs)) {
    msgs.error(ref, `${p}.communities`, render(cs), 'expected a list of community names or literals ("aa:nn", "aa:nn:mm")');
    return false;
  }
  let ok = true;
  (Array.isArray(cs) ? cs : []).forEach((c, j) => {
    const cp = `${p}.communities[${j}]`;
    if (typeof c !== 'string') {
      msgs.error(ref, cp, render(c), 'expected a community name or a literal "aa:nn" / "aa:nn:mm"');
      ok = false;
      return;
    }
    let lit = communityLiteral(c);
    if (lit === undefined) {
      const named = defined.get(c);
      if (named === undefined) {
        const known = [...defined.keys()];
        msgs.error(
          ref,
          cp,
          render(c),
          `neither a community literal ("aa:nn" or "aa:nn:mm") nor a name defined in spec.communities${known.length ? ` (defined: ${known.join(', ')})` : ' (none defined)'}`,
        );
        ok = false;
        return;
      }
      lit = communityLiteral(named);
    }
    if (lit === undefined || 'problem' in lit) {
      msgs.error(ref, cp, render(c), lit && 'problem' in lit ? lit.problem : 'invalid community');
      ok = false;
      return;
    }
    const list = lit.type === 'standard' ? pa.communities : pa.largeCommunities;
    if (!list.includes(lit.canonical)) list.push(lit.canonical);
  });
  return ok;
}

/** prefixAdvertisements[i].localPref (svcbgp extension) into `pa`; false when it could not be read. */
function readEntryLocalPref(msgs: Messages, ref: DocRef, p: string, lp: unknown, pa: PrefixAdvertisement): boolean {
  if (lp === undefined) return true;
  if (refuseYamlNumber(msgs, ref, `${p}.localPref`, lp, 'write LOCAL_PREF as a plain decimal integer 0..4294967295')) return false;
  if (typeof lp === 'number' && Number.isInteger(lp) && lp >= 0 && lp <= 4294967295) {
    pa.localPref = lp;
    return true;
  }
  msgs.error(ref, `${p}.localPref`, render(lp), 'expected an integer 0..4294967295 (svcbgp extension: LOCAL_PREF for matching routes)');
  return false;
}

/**
 * Every path must fit one BGP message (src/model/path-size.ts): a route gets the communities of every entry whose
 * CIDR contains it, so an entry is checked with those of every entry that overlaps it, leaving room for what
 * Services may add and gobgpd adds. The operator's communities never give way at run time: too many is an error here.
 */
function checkPathRoom(msgs: Messages, ref: DocRef, pas: readonly PrefixAdvertisement[]): boolean {
  let ok = true;
  pas.forEach((pa, i) => {
    const std = new Set<string>();
    const large = new Set<string>();
    for (const other of pas) {
      if (!cidrsOverlap(pa.cidr, other.cidr)) continue;
      for (const c of other.communities) std.add(c);
      for (const c of other.largeCommunities) large.add(c);
    }
    if (operatorCommunitiesFit(std.size, large.size)) return;
    msgs.error(
      ref,
      `spec.prefixAdvertisements[${i}].communities`,
      undefined,
      `routes inside ${pa.cidr.cidr} would carry ${std.size} standard and ${large.size} large communities (with the entries overlapping it): ` +
        `with the ${MAX_SERVICE_COMMUNITIES} + ${MAX_SERVICE_LARGE_COMMUNITIES} Services may add, the path would not fit one BGP message ` +
        `(${MAX_BGP_MESSAGE} bytes, ${GOBGPD_RESERVE} of them kept for gobgpd); use fewer communities (each standard one takes 4 bytes, a large one 12)`,
    );
    ok = false;
  });
  return ok;
}
