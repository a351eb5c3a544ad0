import type { ServiceAttributeLimits, ValueRange, WeightedEcmpSettings } from './types.js';

/**
 * Two svcbgp extensions of BGPConfiguration "default" (not Calico fields), read here so that parse.ts only
 * reports what these functions find:
 *
 *   weightedECMP:                      # off by default
 *     enabled: true
 *     aggregateLinkBandwidthMbps: 1000 # optional: the link bandwidth every aggregate carries
 *   serviceAttributeLimits:            # off by default: Service annotations may add nothing
 *     communities: ["64512:100", "64512:200-299"]
 *     largeCommunities: ["64512:1:0-99"]
 *     localPref: "50-200"              # or a single number
 *
 * An allow-list entry is a community whose every part is a number or an inclusive range "lo-hi".
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
    return { value: undefined, problems: [{ severity: 'error', path, value: v, message: 'expected a mapping {enabled: true, aggregateLinkBandwidthMbps: N} (svcbgp extension)' }] };
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
    else problems.push({ severity: 'error', path: `${path}.aggregateLinkBandwidthMbps`, value: agg, message: `expected a whole number of Mbit/s, 1..${MAX_AGGREGATE_MBPS}` });
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

/** Does the community text ("a:b" / "a:b:c") lie inside the pattern's ranges? */
export function patternMatches(ranges: readonly ValueRange[], community: string): boolean {
  const parts = community.split(':').map(Number);
  return parts.length === ranges.length && parts.every((p, i) => p >= ranges[i]!.min && p <= ranges[i]!.max);
}

function readPatternList(v: unknown, parts: 2 | 3, path: string, problems: FieldProblem[]): { parts: ValueRange[]; text: string }[] {
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
    if ('problem' in r) problems.push({ severity: 'error', path: p, value: item, message: r.problem });
    else out.push({ parts: r.ranges, text: item });
  });
  return out;
}

function readLocalPrefRange(v: unknown, path: string, problems: FieldProblem[]): ValueRange | undefined {
  if (v === undefined || v === null) return undefined;
  if (isPlainInteger(v) && v >= 0 && v <= 0xffffffff) return { min: v, max: v };
  if (typeof v === 'string') {
    const m = /^(0|[1-9][0-9]{0,9})-(0|[1-9][0-9]{0,9})$/.exec(v);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2]) : NaN;
    if (m && lo <= hi && hi <= 0xffffffff) return { min: lo, max: hi };
  }
  problems.push({ severity: 'error', path, value: v, message: 'expected a LOCAL_PREF 0..4294967295 or a range "lo-hi", e.g. "50-200"' });
  return undefined;
}

export function readServiceAttributeLimits(v: unknown, path = 'spec.serviceAttributeLimits'): ReadResult<ServiceAttributeLimits> {
  if (v === undefined || v === null) return { value: undefined, problems: [] };
  if (!isRecord(v)) {
    return { value: undefined, problems: [{ severity: 'error', path, value: v, message: 'expected a mapping {communities: [...], largeCommunities: [...], localPref: "lo-hi"} (svcbgp extension)' }] };
  }
  const problems = unknownKeys(v, ['communities', 'largeCommunities', 'localPref'], path);
  const limits: ServiceAttributeLimits = {
    communities: readPatternList(v['communities'], 2, `${path}.communities`, problems),
    largeCommunities: readPatternList(v['largeCommunities'], 3, `${path}.largeCommunities`, problems),
  };
  const lp = readLocalPrefRange(v['localPref'], `${path}.localPref`, problems);
  if (lp) limits.localPref = lp;
  return { value: problems.some((p) => p.severity === 'error') ? undefined : limits, problems };
}
