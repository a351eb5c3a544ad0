import type { ServiceAttributeLimits, ValueRange, WeightedEcmpSettings } from './types.js';
import { IndexTooLarge, MAX_INDEX_FRAGMENTS, RangeIndex } from './allow-list.js';
import { OWNER_LOCAL_DATA1, OWNER_LOCAL_DATA2 } from '../model/owner-marker.js';

/**
 * Two svcbgp extensions of BGPConfiguration "default", weightedECMP and serviceAttributeLimits: read here, reported
 * by ./bgp-configuration.ts. No allow-list opens the well-known communities or svcbgp's ownership marker by accident
 * (docs/design.md § Service attribute limits and weighted ECMP).
 */

/** What a reader found: an error (the document is rejected) or a warning (accepted, said). */
export interface FieldProblem {
  severity: 'error' | 'warning';
  /** Field path from the document, e.g. "spec.serviceAttributeLimits.communities[1]". */
  path: string;
  /** The offending value as read (rendered by the caller); undefined for a whole-field problem. */
  value?: unknown;
  message: string;
}

export type ReadResult<T> = { value: T | undefined; problems: FieldProblem[] };

/** FRR keeps the bandwidth in a uint32 of bytes per second (bgpd's attr->link_bw): 34,359 Mbit/s at most. */
export const MAX_AGGREGATE_MBPS = 34_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPlainInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function unknownKeys(v: Record<string, unknown>, known: readonly string[], path: string): FieldProblem[] {
  return Object.keys(v)
    .filter((k) => !known.includes(k))
    .map((k) => ({ severity: 'warning' as const, path: `${path}.${k}`, message: `unknown field; ignored (supported: ${known.join(', ')})` }));
}

export function readWeightedEcmp(v: unknown, path = 'spec.weightedECMP'): ReadResult<WeightedEcmpSettings> {
  if (v === undefined || v === null) return { value: undefined, problems: [] };
  if (!isRecord(v)) {
    return {
      value: undefined,
      problems: [{ severity: 'error', path, value: v, message: 'expected a mapping {enabled: true, aggregateLinkBandwidthMbps: N} (svcbgp extension)' }],
    };
  }
  const problems = unknownKeys(v, ['enabled', 'aggregateLinkBandwidthMbps'], path);
  const enabled = v['enabled'];
  if (enabled !== undefined && enabled !== null && typeof enabled !== 'boolean') {
    problems.push({ severity: 'error', path: `${path}.enabled`, value: enabled, message: 'expected true or false' });
  }
  const settings: WeightedEcmpSettings = {};
  const agg = v['aggregateLinkBandwidthMbps'];
  if (agg !== undefined && agg !== null) {
    if (isPlainInteger(agg) && agg >= 1 && agg <= MAX_AGGREGATE_MBPS) settings.aggregateMbps = agg;
    else
      problems.push({
        severity: 'error',
        path: `${path}.aggregateLinkBandwidthMbps`,
        value: agg,
        message: `expected a whole number of Mbit/s, 1..${MAX_AGGREGATE_MBPS}`,
      });
  }
  if (problems.some((p) => p.severity === 'error')) return { value: undefined, problems };
  if (enabled !== true) {
    if (settings.aggregateMbps !== undefined) {
      problems.push({ severity: 'warning', path: `${path}.aggregateLinkBandwidthMbps`, value: agg, message: 'ignored while weightedECMP.enabled is not true' });
    }
    return { value: undefined, problems };
  }
  return { value: settings, problems };
}

/** "64512:200-299" with `parts` parts -> the ranges, or a problem. Each part: 0..max. */
export function parseCommunityPattern(text: string, parts: 2 | 3): { ranges: ValueRange[] } | { problem: string } {
  const max = parts === 2 ? 0xffff : 0xffffffff;
  const example = parts === 2 ? '"64512:100" or "64512:200-299"' : '"64512:1:100" or "64512:1:0-99"';
  const fields = text.split(':');
  if (fields.length !== parts) return { problem: `expected ${parts} parts separated by ":", e.g. ${example}` };
  const ranges: ValueRange[] = [];
  for (const f of fields) {
    const m = /^(0|[1-9][0-9]{0,9})(?:-(0|[1-9][0-9]{0,9}))?$/.exec(f);
    if (!m) return { problem: `"${f}" is neither a number nor a range "lo-hi"; expected e.g. ${example}` };
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi > max) return { problem: `${hi} is out of range: each part is 0..${max}` };
    if (lo > hi) return { problem: `range ${f} is empty: write the lower bound first` };
    ranges.push({ min: lo, max: hi });
  }
  return { ranges };
}

/** Standard communities of the RFC 1997 reserved ranges (0:*, 65535:*): the well-known ones live there. */
export function isReservedCommunity(parts: readonly number[]): boolean {
  return parts.length === 2 && (parts[0] === 0 || parts[0] === 0xffff);
}

/** Large communities of the ownership-marker form *:7376:1. */
export function isMarkerCommunity(parts: readonly number[]): boolean {
  return parts.length === 3 && parts[1] === OWNER_LOCAL_DATA1 && parts[2] === OWNER_LOCAL_DATA2;
}

const WELL_KNOWN_EXAMPLES = 'GRACEFUL_SHUTDOWN 65535:0, BLACKHOLE 65535:666, NO_EXPORT 65535:65281, NO_ADVERTISE 65535:65282, NO_PEER 65535:65284';

function inRange(r: ValueRange, v: number): boolean {
  return r.min <= v && v <= r.max;
}

/** What an allow-list entry opens that it should not, as problems (errors: the entry is refused). */
function entryProblems(ranges: readonly ValueRange[], optIn: boolean, path: string, text: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  const [first, second, third] = ranges;
  if (first === undefined) throw new Error('entryProblems: a parsed community pattern has no parts');
  if (ranges.length === 2) {
    const inside = (first.min === 0 && first.max === 0) || first.min === 0xffff;
    const overlaps = inRange(first, 0) || inRange(first, 0xffff);
    if (!optIn && inside) {
      out.push({
        severity: 'error',
        path,
        value: text,
        message: `lies in the reserved ranges 0:* / 65535:* (RFC 1997), which hold the well-known communities routers act on (${WELL_KNOWN_EXAMPLES}); set spec.serviceAttributeLimits.allowWellKnownCommunities: true to let tenants set them`,
      });
    } else if (!optIn && overlaps) {
      out.push({
        severity: 'warning',
        path,
        value: text,
        message: `overlaps the reserved ranges 0:* / 65535:* (RFC 1997: ${WELL_KNOWN_EXAMPLES}); those values stay refused unless spec.serviceAttributeLimits.allowWellKnownCommunities is true`,
      });
    }
    if (first.min === 0 && first.max === 0xffff)
      out.push({
        severity: 'warning',
        path,
        value: text,
        message: "allows the communities of every AS: tenants may set values the operator's and upstream routers act on",
      });
  } else {
    if (second === undefined || third === undefined) throw new Error('entryProblems: a parsed large community pattern has fewer than three parts');
    const marker = inRange(second, OWNER_LOCAL_DATA1) && inRange(third, OWNER_LOCAL_DATA2);
    const onlyMarker = marker && second.min === second.max && third.min === third.max;
    if (onlyMarker)
      out.push({
        severity: 'error',
        path,
        value: text,
        message: `is svcbgp's ownership marker (*:${OWNER_LOCAL_DATA1}:${OWNER_LOCAL_DATA2}, on every path svcbgp adds): a Service may never set it`,
      });
    else if (marker)
      out.push({
        severity: 'warning',
        path,
        value: text,
        message: `includes svcbgp's ownership marker *:${OWNER_LOCAL_DATA1}:${OWNER_LOCAL_DATA2}, which stays refused`,
      });
    if (first.min === 0 && first.max === 0xffffffff)
      out.push({
        severity: 'warning',
        path,
        value: text,
        message: "allows the large communities of every AS: tenants may set values the operator's and upstream routers act on",
      });
  }
  return out;
}

function readPatternList(v: unknown, parts: 2 | 3, path: string, problems: FieldProblem[], optIn: boolean): { parts: ValueRange[]; text: string }[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    problems.push({ severity: 'error', path, value: v, message: 'expected a list of communities or ranges' });
    return [];
  }
  const out: { parts: ValueRange[]; text: string }[] = [];
  v.forEach((item, i) => {
    const p = `${path}[${i}]`;
    if (typeof item !== 'string') {
      problems.push({ severity: 'error', path: p, value: item, message: 'expected a quoted community or range, e.g. "64512:200-299"' });
      return;
    }
    const r = parseCommunityPattern(item, parts);
    if ('problem' in r) {
      problems.push({ severity: 'error', path: p, value: item, message: r.problem });
      return;
    }
    const found = entryProblems(r.ranges, optIn, p, item);
    problems.push(...found);
    if (!found.some((f) => f.severity === 'error')) out.push({ parts: r.ranges, text: item });
  });
  return out;
}

function readLocalPrefRange(v: unknown, path: string, problems: FieldProblem[]): ValueRange | undefined {
  if (v === undefined || v === null) return undefined;
  if (isPlainInteger(v) && v >= 0 && v <= 0xffffffff) return { min: v, max: v };
  if (typeof v === 'string') {
    // A single value, quoted or not ("150" as well as 150), or a range "lo-hi".
    const m = /^(0|[1-9][0-9]{0,9})(?:-(0|[1-9][0-9]{0,9}))?$/.exec(v.trim());
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2] ?? m[1]) : NaN;
    if (m && lo <= hi && hi <= 0xffffffff) {
      if (lo === 0 && hi === 0xffffffff)
        problems.push({
          severity: 'warning',
          path,
          value: v,
          message: "allows every LOCAL_PREF: a tenant may pull its routes above the operator's or push them to 0",
        });
      return { min: lo, max: hi };
    }
    if (m && lo > hi) {
      problems.push({ severity: 'error', path, value: v, message: 'the range is empty: write the lower bound first, e.g. "50-200"' });
      return undefined;
    }
  }
  problems.push({ severity: 'error', path, value: v, message: 'expected a LOCAL_PREF 0..4294967295 (150 or "150") or a range "lo-hi", e.g. "50-200"' });
  return undefined;
}

export function readServiceAttributeLimits(v: unknown, path = 'spec.serviceAttributeLimits'): ReadResult<ServiceAttributeLimits> {
  if (v === undefined || v === null) return { value: undefined, problems: [] };
  if (!isRecord(v)) {
    return {
      value: undefined,
      problems: [
        {
          severity: 'error',
          path,
          value: v,
          message: 'expected a mapping {communities: [...], largeCommunities: [...], localPref: "lo-hi"} (svcbgp extension)',
        },
      ],
    };
  }
  const problems = unknownKeys(v, ['communities', 'largeCommunities', 'localPref', 'allowWellKnownCommunities'], path);
  const optInRaw = v['allowWellKnownCommunities'];
  if (optInRaw !== undefined && optInRaw !== null && typeof optInRaw !== 'boolean') {
    problems.push({ severity: 'error', path: `${path}.allowWellKnownCommunities`, value: optInRaw, message: 'expected true or false' });
  }
  const optIn = optInRaw === true;
  const communities = readPatternList(v['communities'], 2, `${path}.communities`, problems, optIn);
  const largeCommunities = readPatternList(v['largeCommunities'], 3, `${path}.largeCommunities`, problems, optIn);
  const communityIndex = indexOf(communities, `${path}.communities`, problems);
  const largeCommunityIndex = indexOf(largeCommunities, `${path}.largeCommunities`, problems);
  if (!communityIndex || !largeCommunityIndex) return { value: undefined, problems };
  const limits: ServiceAttributeLimits = { communities, largeCommunities, allowWellKnownCommunities: optIn, communityIndex, largeCommunityIndex };
  const lp = readLocalPrefRange(v['localPref'], `${path}.localPref`, problems);
  if (lp) limits.localPref = lp;
  return { value: problems.some((p) => p.severity === 'error') ? undefined : limits, problems };
}

/**
 * The index of an allow-list. JSON.stringify (the route model compares configurations as text) sees only a short
 * name: the index is derived from the list beside it.
 */
function indexOf(list: readonly { parts: ValueRange[] }[], path: string, problems: FieldProblem[]): RangeIndex | undefined {
  try {
    const index = new RangeIndex(list.map((e) => e.parts));
    Object.defineProperty(index, 'toJSON', { value: () => 'index', enumerable: false });
    return index;
  } catch (e) {
    if (!(e instanceof IndexTooLarge)) throw e;
    problems.push({
      severity: 'error',
      path,
      message: `${list.length} entries whose ranges overlap in every part need an index of more than ${MAX_INDEX_FRAGMENTS} parts: merge overlapping entries, or write ranges of one AS`,
    });
    return undefined;
  }
}
