import { cidrContains, cidrsOverlap, isCidr, MIN_SERVICE_PREFIX_LENGTH, parseCidr, parseIp, reservedRangeOf, type ParsedCidr } from './net.js';
import { parseYamlDocuments, YamlNumber } from './yaml.js';
import { parseGoDuration } from './duration.js';
import { BFD_INTERVAL_RANGE_MS, BFD_MULTIPLIER_RANGE, DEFAULT_BFD, MAX_HOLD_TIME, timerProblems } from './timers.js';
import type { BfdSettings } from '../model/peer.js';
import { escapeControls, quoteValue } from '../text/escape.js';
import { readServiceAttributeLimits, readWeightedEcmp, type ReadResult } from './service-limits.js';
import { GOBGPD_RESERVE, MAX_BGP_MESSAGE, MAX_SERVICE_COMMUNITIES, MAX_SERVICE_LARGE_COMMUNITIES, operatorCommunitiesFit } from '../model/path-size.js';
import { parseSelector, SelectorError, SELECTOR_SUPPORTED } from './selector.js';
import { BGPCONFIGURATION_CHECKS, BGPPEER_CHECKS, calicoFieldProblems, type FieldCheck } from './calico-fields.js';
import {
  ACCEPTED_API_VERSIONS,
  DEFAULT_AS_NUMBER,
  DEFAULT_LISTEN_PORT,
  DEFAULT_PEER_ADDRESS,
  DEFAULT_PEER_NAME,
  type BgpConfig,
  type ConfigMessage,
  type DocRef,
  type GlobalBgpSettings,
  type NodeBgpOverride,
  type ParseResult,
  type PeerDefinition,
  type PrefixAdvertisement,
} from './types.js';

/**
 * Parses Calico-style BGP configuration: BGPPeer and BGPConfiguration documents under
 * projectcalico.org/v3 (as the seed article writes them) or svcbgp.io/v1alpha1 (our CRDs, same spec fields).
 *
 * Pure: takes the YAML text (multi-document) or already-parsed objects (e.g. from an informer), returns
 * {ok, config, warnings} or {ok: false, errors, warnings} with EVERY problem found, so the caller can keep
 * its last good configuration and show the operator the full list at once.
 *
 * Decisions (Calico's confd client.go / bird.cfg.template, read with the search tool):
 * - BGPConfiguration "default" holds the cluster-wide settings. "node.<nodename>" is a per-node override of
 *   listenPort and prefixAdvertisements only (the only per-node fields Calico's confd reads); other fields
 *   there get a warning. Any other name is an error (Calico would ignore it silently — a trap at 3 a.m.).
 * - Defaults per kind: no BGPConfiguration "default" -> AS 64512, listen port 179, no service CIDRs;
 *   no BGPPeer at all -> one peer 192.168.1.1 AS 64512 (the seed's ToR). Every peer gets graceful restart
 *   (Calico's BIRD template always enables it), restart time = maxRestartTime or 120 s.
 * - An empty key (`serviceClusterIPs:` with no value, as in the article) means "none".
 * - An entry of prefixAdvertisements[].communities is a literal ("aa:nn" / "aa:nn:mm") or a name from
 *   spec.communities of the same document; an unknown name is an error (Calico drops it silently).
 */
export interface ParseOptions {
  /**
   * Accept BGPPeers on loopback addresses (127.0.0.0/8, ::1). Only tests and labs that run gobgpd and its peer on
   * one host want this (`svcbgp run --allow-loopback-peers`); a real ToR is never on loopback.
   */
  allowLoopbackPeers?: boolean;
}

/**
 * Never throws: every problem, including a limit hit by hostile input (src/config/yaml.ts), is a message. A bug
 * that still throws is turned into an error message here rather than ending the agent on a reload.
 */
export function parseConfig(input: string | readonly unknown[], opts: ParseOptions = {}): ParseResult {
  try {
    return parseConfigInner(input, opts);
  } catch (err) {
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const message = err instanceof RangeError
      ? `the configuration is too deeply nested or too large to evaluate (${detail})`
      : `internal error while reading the configuration (please report it): ${detail}`;
    return { ok: false, errors: [make({ index: 0 }, '', undefined, message)], warnings: [] };
  }
}

function parseConfigInner(input: string | readonly unknown[], opts: ParseOptions): ParseResult {
  const ctx = new Ctx();
  const docs: { ref: DocRef; value: unknown }[] = [];

  if (typeof input === 'string') {
    const parsed = parseYamlDocuments(input);
    for (const e of parsed.errors) ctx.error({ index: e.index ?? 0 }, '', undefined, e.message);
    parsed.docs.forEach((value, i) => docs.push({ ref: { index: i + 1 }, value }));
  } else {
    input.forEach((value, i) => docs.push({ ref: { index: i + 1 }, value }));
  }

  const globals: { settings: GlobalBgpSettings; ref: DocRef }[] = [];
  const overrides: NodeBgpOverride[] = [];
  const peers: PeerDefinition[] = [];
  const names = new Map<string, DocRef>();
  const peerIdentities: PeerIdentity[] = [];

  const handle = (ref: DocRef, value: unknown): void => {
    if (value === null || value === undefined) return; // empty document ("---" at the top or the end)
    if (!isObject(value)) {
      ctx.error(ref, '', render(value), 'a document must be a mapping with apiVersion, kind, metadata and spec');
      return;
    }
    const kind = value['kind'];
    if (typeof kind === 'string' && (kind === 'List' || kind.endsWith('List')) && Array.isArray(value['items'])) {
      (value['items'] as unknown[]).forEach((item, j) => handle({ index: ref.index, item: j + 1 }, item));
      return;
    }
    const doc = readHeader(ctx, ref, value);
    if (!doc) return;
    const key = `${doc.kind}/${doc.name}`;
    const seen = names.get(key);
    if (seen) {
      ctx.error(doc.ref, 'metadata.name', render(doc.name), `duplicate ${doc.kind} name: ${where(seen)} has the same name; names must be unique`);
      return;
    }
    names.set(key, doc.ref);
    if (doc.kind === 'BGPConfiguration') {
      if (doc.name === 'default') {
        const g = readGlobal(ctx, doc.ref, doc.spec);
        if (g) globals.push({ settings: g, ref: doc.ref });
      } else if (doc.name.startsWith('node.') && doc.name.length > 'node.'.length) {
        const o = readNodeOverride(ctx, doc.ref, doc.name.slice('node.'.length), doc.spec);
        if (o) overrides.push(o);
      } else {
        ctx.error(doc.ref, 'metadata.name', render(doc.name),
          "a BGPConfiguration must be named 'default' (cluster-wide settings) or 'node.<nodename>' (per-node listenPort/prefixAdvertisements)");
      }
    } else {
      const p = readPeer(ctx, doc.ref, doc.name, doc.spec, peerIdentities, opts);
      if (p) peers.push(p);
    }
  };
  for (const d of docs) handle(d.ref, d.value);

  // Duplicate peers: same address for the same set of nodes. The port does not tell them apart: gobgpd keys
  // neighbors by address alone, so a second port cannot be a second session. Checked on every peer whose address
  // could be read, even if another of its fields is wrong, so the operator sees all problems at once.
  const byKey = new Map<string, PeerIdentity>();
  for (const p of peerIdentities) {
    const scope = p.node !== undefined ? `node ${p.node}` : p.nodeSelector !== undefined ? `nodeSelector ${p.nodeSelector}` : 'all nodes';
    const key = `${p.address}|${scope}`;
    const other = byKey.get(key);
    if (other) {
      ctx.error(p.ref, 'spec.peerIP', render(p.address + (p.port ? `:${p.port}` : '')),
        `duplicate peer: ${where(other.ref)} already peers with this address for ${scope}; remove one of them`);
    } else {
      byKey.set(key, p);
    }
  }

  const first0 = globals[0];
  if (first0) checkServiceCidrPlacement(ctx, first0.ref, first0.settings, peerIdentities);

  // In document order (stable: within a document, in field order).
  const byDoc = (a: ConfigMessage, b: ConfigMessage): number => a.doc.index - b.doc.index || (a.doc.item ?? 0) - (b.doc.item ?? 0);
  ctx.errors.sort(byDoc);
  ctx.warnings.sort(byDoc);
  if (ctx.errors.length > 0) return { ok: false, errors: ctx.errors, warnings: ctx.warnings };

  const first = globals[0];
  const config: BgpConfig = {
    global: first?.settings ?? defaultGlobal(),
    nodeOverrides: overrides.sort((a, b) => cmp(a.node, b.node)),
    peers: peers.length > 0 ? peers.sort((a, b) => cmp(a.name, b.name)) : [defaultPeer()],
    defaulted: { global: first === undefined, peers: peers.length === 0 },
  };
  return { ok: true, config, warnings: ctx.warnings };
}

/** The configuration used when there is none: the seed's. */
export function defaultConfig(): BgpConfig {
  return {
    global: defaultGlobal(),
    nodeOverrides: [],
    peers: [defaultPeer()],
    defaulted: { global: true, peers: true },
  };
}

function defaultGlobal(): GlobalBgpSettings {
  return {
    asNumber: DEFAULT_AS_NUMBER,
    listenPort: DEFAULT_LISTEN_PORT,
    serviceClusterIPs: [],
    serviceExternalIPs: [],
    serviceLoadBalancerIPs: [],
    prefixAdvertisements: [],
  };
}

function defaultPeer(): PeerDefinition {
  return { name: DEFAULT_PEER_NAME, address: DEFAULT_PEER_ADDRESS, asNumber: DEFAULT_AS_NUMBER };
}

// ---------------------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function render(v: unknown): string {
  // A YamlNumber is shown as written (unquoted: it was not a string in the YAML).
  return v instanceof YamlNumber ? quoteValue(v.source, 80).slice(1, -1) : quoteValue(v, 80);
}

export function where(ref: DocRef): string {
  if (ref.index === 0) return 'the configuration text';
  const pos = ref.item !== undefined ? `document ${ref.index}, item ${ref.item}` : `document ${ref.index}`;
  if (ref.kind && ref.name !== undefined) return `${pos} (${escapeControls(ref.kind)} ${quoteValue(ref.name, 80)})`;
  if (ref.kind) return `${pos} (${escapeControls(ref.kind)})`;
  return pos;
}

class Ctx {
  readonly errors: ConfigMessage[] = [];
  readonly warnings: ConfigMessage[] = [];

  error(doc: DocRef, path: string, value: string | undefined, message: string): void {
    this.errors.push(make(doc, path, value, message));
  }
  warn(doc: DocRef, path: string, value: string | undefined, message: string): void {
    this.warnings.push(make(doc, path, value, message));
  }
}

function make(doc: DocRef, path: string, value: string | undefined, message: string): ConfigMessage {
  const field = path ? `${path}${value !== undefined ? ` = ${value}` : ''}: ` : value !== undefined ? `${value}: ` : '';
  const m: ConfigMessage = { doc: { ...doc }, path, message, text: `${where(doc)}: ${field}${message}` };
  if (value !== undefined) m.value = value;
  return m;
}

interface Header {
  ref: DocRef;
  kind: 'BGPPeer' | 'BGPConfiguration';
  name: string;
  spec: Obj;
}

const TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

function readHeader(ctx: Ctx, ref: DocRef, v: Obj): Header | undefined {
  let ok = true;
  const apiVersion = v['apiVersion'];
  const kind = v['kind'];
  if (typeof kind === 'string') ref.kind = kind;
  const meta = v['metadata'];
  if (isObject(meta) && typeof meta['name'] === 'string') ref.name = meta['name'];

  if (!(ACCEPTED_API_VERSIONS as readonly unknown[]).includes(apiVersion)) {
    ctx.error(ref, 'apiVersion', render(apiVersion), `expected one of ${ACCEPTED_API_VERSIONS.map((a) => `"${a}"`).join(', ')}`);
    ok = false;
  }
  if (kind !== 'BGPPeer' && kind !== 'BGPConfiguration') {
    ctx.error(ref, 'kind', render(kind), 'expected "BGPPeer" or "BGPConfiguration"');
    return undefined;
  }
  if (!isObject(meta) || typeof meta['name'] !== 'string' || meta['name'] === '') {
    ctx.error(ref, 'metadata.name', render(isObject(meta) ? meta['name'] : meta), 'every document needs a non-empty metadata.name');
    ok = false;
  }
  for (const k of Object.keys(v)) {
    if (!TOP_LEVEL.has(k)) ctx.warn(ref, k, undefined, 'unknown top-level field; ignored');
  }
  let spec = v['spec'];
  if (spec === undefined || spec === null) spec = {};
  if (!isObject(spec)) {
    ctx.error(ref, 'spec', render(spec), 'expected a mapping');
    return undefined;
  }
  if (!ok) return undefined;
  return { ref, kind, name: ref.name as string, spec };
}

// --- shared field readers ---------------------------------------------------------------------------------

/**
 * A number YAML read from another form than a plain decimal integer: refused with what was written and what YAML
 * made of it (src/config/yaml.ts says why). Returns true when it reported.
 */
function refuseYamlNumber(ctx: Ctx, ref: DocRef, path: string, v: unknown, hint: string): boolean {
  if (!(v instanceof YamlNumber)) return false;
  ctx.error(ref, path, v.source,
    `YAML reads this as the number ${String(v.value)}, which is probably not what was meant; ${hint}`);
  return true;
}

function readAsNumber(ctx: Ctx, ref: DocRef, path: string, v: unknown): number | undefined {
  const expected = 'expected an AS number 1..4294967295 (or asdot "a.b")';
  if (refuseYamlNumber(ctx, ref, path, v,
    /^[0-9]+\.[0-9]+$/.test(v instanceof YamlNumber ? v.source : '')
      ? `quote an asdot AS number ("${(v as YamlNumber).source}") or write it as a plain decimal integer`
      : 'write the AS number as a plain decimal integer, e.g. 64512')) return undefined;
  let n: number | undefined;
  if (typeof v === 'number' && Number.isInteger(v)) n = v;
  else if (typeof v === 'string' && /^(0|[1-9][0-9]*)$/.test(v)) n = Number(v);
  else if (typeof v === 'string' && /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$/.test(v)) {
    const [hi, lo] = v.split('.').map(Number) as [number, number];
    if (hi > 65535 || lo > 65535) {
      ctx.error(ref, path, render(v), `${expected}; each half of an asdot number is 0..65535`);
      return undefined;
    }
    n = hi * 65536 + lo;
  }
  if (n === undefined) {
    ctx.error(ref, path, render(v), expected);
    return undefined;
  }
  if (n === 0) {
    ctx.error(ref, path, render(v), 'AS 0 is reserved (RFC 7607) and cannot be used; expected 1..4294967295');
    return undefined;
  }
  if (n < 0) {
    ctx.error(ref, path, render(v), `negative: ${expected}`);
    return undefined;
  }
  if (n > 4294967295) {
    ctx.error(ref, path, render(v), `out of range: ${expected}`);
    return undefined;
  }
  if (n === 23456) ctx.warn(ref, path, render(v), 'AS 23456 is AS_TRANS (RFC 6793), normally never configured');
  return n;
}

/** An optional integer field min..255 (a Calico uint8, or what gobgpd keeps in 8 bits); `expected` says what it is. */
function readByte(ctx: Ctx, ref: DocRef, spec: Obj, field: string, min: number, expected: string): number | undefined {
  const v = spec[field];
  if (v === undefined || v === null) return undefined;
  const path = `spec.${field}`;
  if (refuseYamlNumber(ctx, ref, path, v, `write ${field} as a plain decimal integer`)) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= 255) return v;
  ctx.error(ref, path, render(v), `expected ${expected}`);
  return undefined;
}

function readPort(ctx: Ctx, ref: DocRef, path: string, v: unknown): number | undefined {
  if (refuseYamlNumber(ctx, ref, path, v, 'write the port as a plain decimal integer 1..65535, e.g. 179')) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535) return v;
  ctx.error(ref, path, render(v), 'expected a TCP port 1..65535');
  return undefined;
}

function readCidrList(ctx: Ctx, ref: DocRef, path: string, v: unknown): ParsedCidr[] | undefined {
  if (v === null || v === undefined) return []; // `serviceClusterIPs:` with no value = none
  if (!Array.isArray(v)) {
    ctx.error(ref, path, render(v), 'expected a list of {cidr: ...} entries, e.g. "- cidr: 10.49.0.0/16"');
    return undefined;
  }
  const out: ParsedCidr[] = [];
  let ok = true;
  v.forEach((item, i) => {
    const p = `${path}[${i}]`;
    if (typeof item === 'string') {
      const shown = render(item).slice(1, -1); // the value as written, escaped and cut like every echoed value
      ctx.error(ref, p, render(item), `expected a mapping {cidr: ${shown}}: write "- cidr: ${shown}"`);
      ok = false;
      return;
    }
    if (!isObject(item)) {
      ctx.error(ref, p, render(item), 'expected a mapping {cidr: ...}');
      ok = false;
      return;
    }
    for (const k of Object.keys(item)) if (k !== 'cidr') ctx.warn(ref, `${p}.${k}`, undefined, 'unknown field; ignored (an entry has only "cidr")');
    const c = readCidr(ctx, ref, `${p}.cidr`, item['cidr']);
    if (!c) {
      ok = false;
      return;
    }
    if (out.some((o) => o.cidr === c.cidr)) {
      ctx.warn(ref, `${p}.cidr`, render(item['cidr']), 'listed twice; the duplicate is ignored');
      return;
    }
    out.push(c);
  });
  return ok ? out : undefined;
}

function readCidr(ctx: Ctx, ref: DocRef, path: string, v: unknown): ParsedCidr | undefined {
  if (typeof v !== 'string') {
    ctx.error(ref, path, render(v), 'expected a CIDR string such as "10.49.0.0/16" or "fd00:49::/112"');
    return undefined;
  }
  const c = parseCidr(v);
  if (isCidr(c)) return c;
  if (c.kind === 'host-bits') {
    ctx.error(ref, path, render(v), `this is a host address, not a network: the bits after the prefix length must be zero; did you mean ${c.network}?`);
  } else if (parseIp(v)) {
    ctx.error(ref, path, render(v), `missing prefix length; write ${v}${v.includes(':') ? '/128' : '/32'} for a single address or the network, e.g. 10.49.0.0/16`);
  } else {
    ctx.error(ref, path, render(v), 'not a valid CIDR; expected "address/length" such as "10.49.0.0/16" or "fd00:49::/112"');
  }
  return undefined;
}

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
      ? { type: 'standard', canonical: canonical([s[1]!, s[2]!]) }
      : { problem: 'a standard community is "aa:nn" with both parts 0..65535' };
  }
  const l = LARGE_COMMUNITY.exec(v);
  if (l) {
    return [l[1], l[2], l[3]].every((x) => Number(x) <= 4294967295)
      ? { type: 'large', canonical: canonical([l[1]!, l[2]!, l[3]!]) }
      : { problem: 'a large community is "aa:nn:mm" with each part 0..4294967295' };
  }
  return undefined;
}

function readCommunities(ctx: Ctx, ref: DocRef, v: unknown): Map<string, string> | undefined {
  const out = new Map<string, string>();
  if (v === null || v === undefined) return out;
  if (!Array.isArray(v)) {
    ctx.error(ref, 'spec.communities', render(v), 'expected a list of {name, value} entries');
    return undefined;
  }
  let ok = true;
  v.forEach((item, i) => {
    const p = `spec.communities[${i}]`;
    if (!isObject(item)) {
      ctx.error(ref, p, render(item), 'expected a mapping {name: ..., value: "aa:nn" or "aa:nn:mm"}');
      ok = false;
      return;
    }
    for (const k of Object.keys(item)) if (k !== 'name' && k !== 'value') ctx.warn(ref, `${p}.${k}`, undefined, 'unknown field; ignored');
    const name = item['name'];
    const value = item['value'];
    if (typeof name !== 'string' || name === '') {
      ctx.error(ref, `${p}.name`, render(name), 'expected a non-empty name');
      ok = false;
    } else if (out.has(name)) {
      ctx.error(ref, `${p}.name`, render(name), 'defined twice; community names must be unique');
      ok = false;
    }
    const lit = typeof value === 'string' ? communityLiteral(value) : undefined;
    if (typeof value !== 'string' || lit === undefined || 'problem' in lit) {
      ctx.error(ref, `${p}.value`, render(value), lit && 'problem' in lit ? lit.problem : 'expected "aa:nn" (standard) or "aa:nn:mm" (large community)');
      ok = false;
      return;
    }
    if (typeof name === 'string') out.set(name, lit.canonical);
  });
  return ok ? out : undefined;
}

function readPrefixAdvertisements(ctx: Ctx, ref: DocRef, v: unknown, defined: Map<string, string>): PrefixAdvertisement[] | undefined {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) {
    ctx.error(ref, 'spec.prefixAdvertisements', render(v), 'expected a list of {cidr, communities} entries');
    return undefined;
  }
  const out: PrefixAdvertisement[] = [];
  let ok = true;
  v.forEach((item, i) => {
    const p = `spec.prefixAdvertisements[${i}]`;
    if (!isObject(item)) {
      ctx.error(ref, p, render(item), 'expected a mapping {cidr: ..., communities: [...]}');
      ok = false;
      return;
    }
    for (const k of Object.keys(item)) {
      if (!['cidr', 'communities', 'localPref'].includes(k)) ctx.warn(ref, `${p}.${k}`, undefined, 'unknown field; ignored (supported: cidr, communities, localPref)');
    }
    const cidr = readCidr(ctx, ref, `${p}.cidr`, item['cidr']);
    const pa: PrefixAdvertisement = { cidr: cidr as ParsedCidr, communities: [], largeCommunities: [] };
    const cs = item['communities'];
    if (cs !== undefined && cs !== null && !Array.isArray(cs)) {
      ctx.error(ref, `${p}.communities`, render(cs), 'expected a list of community names or literals ("aa:nn", "aa:nn:mm")');
      ok = false;
    } else {
      (Array.isArray(cs) ? cs : []).forEach((c, j) => {
        const cp = `${p}.communities[${j}]`;
        if (typeof c !== 'string') {
          ctx.error(ref, cp, render(c), 'expected a community name or a literal "aa:nn" / "aa:nn:mm"');
          ok = false;
          return;
        }
        let lit = communityLiteral(c);
        if (lit === undefined) {
          const named = defined.get(c);
          if (named === undefined) {
            const known = [...defined.keys()];
            ctx.error(ref, cp, render(c),
              `neither a community literal ("aa:nn" or "aa:nn:mm") nor a name defined in spec.communities${known.length ? ` (defined: ${known.join(', ')})` : ' (none defined)'}`);
            ok = false;
            return;
          }
          lit = communityLiteral(named);
        }
        if (lit === undefined || 'problem' in lit) {
          ctx.error(ref, cp, render(c), lit && 'problem' in lit ? lit.problem : 'invalid community');
          ok = false;
          return;
        }
        const list = lit.type === 'standard' ? pa.communities : pa.largeCommunities;
        if (!list.includes(lit.canonical)) list.push(lit.canonical);
      });
    }
    if (item['localPref'] !== undefined) {
      const lp = item['localPref'];
      if (refuseYamlNumber(ctx, ref, `${p}.localPref`, lp, 'write LOCAL_PREF as a plain decimal integer 0..4294967295')) ok = false;
      else if (typeof lp === 'number' && Number.isInteger(lp) && lp >= 0 && lp <= 4294967295) pa.localPref = lp;
      else {
        ctx.error(ref, `${p}.localPref`, render(lp), 'expected an integer 0..4294967295 (svcbgp extension: LOCAL_PREF for matching routes)');
        ok = false;
      }
    }
    if (!cidr) {
      ok = false;
      return;
    }
    out.push(pa);
  });
  if (ok && !checkPathRoom(ctx, ref, out)) return undefined;
  return ok ? out : undefined;
}

/**
 * Every path must fit one BGP message (src/model/path-size.ts): a route gets the communities of every entry whose
 * CIDR contains it, so an entry is checked with those of every entry that overlaps it, leaving room for what
 * Services may add and gobgpd adds. The operator's communities never give way at run time: too many is an error here.
 */
function checkPathRoom(ctx: Ctx, ref: DocRef, pas: readonly PrefixAdvertisement[]): boolean {
  let ok = true;
  pas.forEach((pa, i) => {
    const std = new Set<string>();
    const large = new Set<string>();
    for (const other of pas) {
      if (!cidrsOverlap(pa.cidr, other.cidr)) continue;
      other.communities.forEach((c) => std.add(c));
      other.largeCommunities.forEach((c) => large.add(c));
    }
    if (operatorCommunitiesFit(std.size, large.size)) return;
    ctx.error(ref, `spec.prefixAdvertisements[${i}].communities`, undefined,
      `routes inside ${pa.cidr.cidr} would carry ${std.size} standard and ${large.size} large communities (with the entries overlapping it): ` +
        `with the ${MAX_SERVICE_COMMUNITIES} + ${MAX_SERVICE_LARGE_COMMUNITIES} Services may add, the path would not fit one BGP message ` +
        `(${MAX_BGP_MESSAGE} bytes, ${GOBGPD_RESERVE} of them kept for gobgpd); use fewer communities (each standard one takes 4 bytes, a large one 12)`);
    ok = false;
  });
  return ok;
}

// --- BGPConfiguration --------------------------------------------------------------------------------------

const GLOBAL_FIELDS = new Set([
  'asNumber', 'listenPort', 'serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs', 'serviceLoadBalancerAggregation', 'communities',
  'prefixAdvertisements', 'bindMode', 'allowUnsafeServiceCIDRs', 'weightedECMP', 'serviceAttributeLimits', 'allowAddressesInClusterIPRange',
]);
const SERVICE_CIDR_FIELDS = ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs'] as const;

/**
 * The fields of a spec svcbgp does not read itself: a Calico field gets what src/config/calico-fields.ts says of it
 * (accepted, warned by name, or refused), any other field an "unknown field" warning that lists the supported ones.
 */
function checkOtherFields(ctx: Ctx, ref: DocRef, spec: Obj, supported: ReadonlySet<string>, checks: Readonly<Record<string, FieldCheck>>): void {
  for (const [k, v] of Object.entries(spec)) {
    if (supported.has(k)) continue;
    if (Object.hasOwn(checks, k)) report(ctx, ref, { value: undefined, problems: calicoFieldProblems(k, v, checks) });
    else ctx.warn(ref, `spec.${k}`, undefined, `unknown field; ignored (supported: ${[...supported].join(', ')})`);
  }
}

function readGlobal(ctx: Ctx, ref: DocRef, spec: Obj): GlobalBgpSettings | undefined {
  checkOtherFields(ctx, ref, spec, GLOBAL_FIELDS, BGPCONFIGURATION_CHECKS);
  const before = ctx.errors.length;
  const asNumber = spec['asNumber'] === undefined || spec['asNumber'] === null ? DEFAULT_AS_NUMBER : readAsNumber(ctx, ref, 'spec.asNumber', spec['asNumber']);
  const listenPort = spec['listenPort'] === undefined || spec['listenPort'] === null ? DEFAULT_LISTEN_PORT : readPort(ctx, ref, 'spec.listenPort', spec['listenPort']);
  const clusterIPs = readCidrList(ctx, ref, 'spec.serviceClusterIPs', spec['serviceClusterIPs']);
  const externalIPs = readCidrList(ctx, ref, 'spec.serviceExternalIPs', spec['serviceExternalIPs']);
  const lbIPs = readCidrList(ctx, ref, 'spec.serviceLoadBalancerIPs', spec['serviceLoadBalancerIPs']);
  const allowUnsafe = spec['allowUnsafeServiceCIDRs'];
  if (allowUnsafe !== undefined && allowUnsafe !== null && typeof allowUnsafe !== 'boolean') {
    ctx.error(ref, 'spec.allowUnsafeServiceCIDRs', render(allowUnsafe), 'expected true or false (svcbgp extension)');
  }
  const aggregation = spec['serviceLoadBalancerAggregation'];
  if (aggregation !== undefined && aggregation !== null && aggregation !== 'Enabled' && aggregation !== 'Disabled') {
    ctx.error(ref, 'spec.serviceLoadBalancerAggregation', render(aggregation), "expected Enabled or Disabled (Calico's values, case-sensitive)");
  }
  const bindMode = spec['bindMode'];
  if (bindMode !== undefined && bindMode !== null && bindMode !== '' && bindMode !== 'None' && bindMode !== 'NodeIP') {
    ctx.error(ref, 'spec.bindMode', render(bindMode), "expected None or NodeIP (Calico's values, case-sensitive)");
  }
  const lists = { serviceClusterIPs: clusterIPs, serviceExternalIPs: externalIPs, serviceLoadBalancerIPs: lbIPs };
  checkServiceCidrSafety(ctx, ref, lists, allowUnsafe === true);
  const communities = readCommunities(ctx, ref, spec['communities']);
  const pas = readPrefixAdvertisements(ctx, ref, spec['prefixAdvertisements'], communities ?? new Map());
  const weighted = report(ctx, ref, readWeightedEcmp(spec['weightedECMP']));
  const limits = report(ctx, ref, readServiceAttributeLimits(spec['serviceAttributeLimits']));
  if (ctx.errors.length > before || asNumber === undefined || listenPort === undefined || !clusterIPs || !externalIPs || !lbIPs || !pas) return undefined;
  const inClusterRange = spec['allowAddressesInClusterIPRange'];
  if (inClusterRange !== undefined && inClusterRange !== null && typeof inClusterRange !== 'boolean') {
    ctx.error(ref, 'spec.allowAddressesInClusterIPRange', render(inClusterRange), 'expected true or false (svcbgp extension)');
    return undefined;
  }
  return {
    asNumber,
    listenPort,
    serviceClusterIPs: clusterIPs,
    serviceExternalIPs: externalIPs,
    serviceLoadBalancerIPs: lbIPs,
    prefixAdvertisements: pas,
    ...(aggregation === 'Enabled' || aggregation === 'Disabled' ? { serviceLoadBalancerAggregation: aggregation } : {}),
    ...(bindMode === 'None' || bindMode === 'NodeIP' ? { bindMode } : {}),
    ...(weighted ? { weightedEcmp: weighted } : {}),
    ...(limits ? { serviceAttributeLimits: limits } : {}),
    ...(inClusterRange === true ? { allowAddressesInClusterIPRange: true } : {}),
    source: ref,
  };
}

/** Reports what a reader of an svcbgp extension (./service-limits.ts) found; returns its value. */
function report<T>(ctx: Ctx, ref: DocRef, r: ReadResult<T>): T | undefined {
  for (const p of r.problems) {
    const value = p.value === undefined ? undefined : render(p.value);
    if (p.severity === 'error') ctx.error(ref, p.path, value, p.message);
    else ctx.warn(ref, p.path, value, p.message);
  }
  return r.value;
}

/**
 * Service CIDRs are an allow-list: an external or load-balancer IP is advertised only inside one. A very short
 * prefix (0.0.0.0/0, ::/0, 10.0.0.0/7) lets any tenant pull nearly any address into the network, and a range
 * that overlaps loopback, link-local, multicast or other reserved space is never a real Service range. Both are
 * refused unless the operator opts in with `allowUnsafeServiceCIDRs: true` (then a warning names each one).
 */
function checkServiceCidrSafety(
  ctx: Ctx,
  ref: DocRef,
  lists: Record<(typeof SERVICE_CIDR_FIELDS)[number], ParsedCidr[] | undefined>,
  allowUnsafe: boolean,
): void {
  const optIn = 'set spec.allowUnsafeServiceCIDRs: true to accept it anyway';
  const all: { path: string; c: ParsedCidr }[] = [];
  for (const field of SERVICE_CIDR_FIELDS) {
    (lists[field] ?? []).forEach((c, i) => {
      const path = `spec.${field}[${i}].cidr`;
      all.push({ path, c });
      const min = MIN_SERVICE_PREFIX_LENGTH[c.family];
      const reserved = reservedRangeOf(c);
      const problem = c.length < min
        ? `a /${c.length} is shorter than /${min}: as an allow-list it admits almost any address, so a Service could pull nearly any prefix into the network`
        : reserved !== undefined
          ? `overlaps ${reserved}, which is never a Service range`
          : undefined;
      if (problem === undefined) return;
      if (allowUnsafe) ctx.warn(ref, path, render(c.cidr), `${problem}; accepted because allowUnsafeServiceCIDRs is true`);
      else ctx.error(ref, path, render(c.cidr), `${problem}; ${optIn}`);
    });
  }
  // Overlaps between service CIDRs are legal (a /32 external IP inside a wider range) but usually a typo.
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const a = all[i]!;
      const b = all[j]!;
      if (cidrsOverlap(a.c, b.c)) {
        ctx.warn(ref, b.path, render(b.c.cidr), `overlaps ${a.path} (${a.c.cidr}); every node advertises both prefixes`);
      }
    }
  }
}

/** A service CIDR that contains a peer's address would make the ToR route its own BGP session into the cluster. */
function checkServiceCidrPlacement(ctx: Ctx, ref: DocRef, g: GlobalBgpSettings, peers: readonly PeerIdentity[]): void {
  for (const field of SERVICE_CIDR_FIELDS) {
    g[field].forEach((c, i) => {
      for (const p of peers) {
        const ip = parseIp(p.address);
        if (ip && cidrContains(c, ip.bytes)) {
          ctx.warn(ref, `spec.${field}[${i}].cidr`, render(c.cidr),
            `contains the address of the peer in ${where(p.ref)} (${p.address}); advertising it would route the BGP session itself into the cluster`);
        }
      }
    });
  }
}

const NODE_FIELDS = new Set(['listenPort', 'prefixAdvertisements', 'communities']);

/**
 * Calico's confd reads listenPort, prefixAdvertisements and logSeverityScreen from a node.<nodename> document
 * (client.go, the perNodeConfigNamePrefix branch) and nothing else; svcbgp reads the first two (and communities, for
 * the names prefixAdvertisements use) and says what the third means here.
 */
function readNodeOverride(ctx: Ctx, ref: DocRef, node: string, spec: Obj): NodeBgpOverride | undefined {
  for (const [k, v] of Object.entries(spec)) {
    if (NODE_FIELDS.has(k)) continue;
    if (k === 'logSeverityScreen') report(ctx, ref, { value: undefined, problems: calicoFieldProblems(k, v, BGPCONFIGURATION_CHECKS) });
    else if (GLOBAL_FIELDS.has(k) || Object.hasOwn(BGPCONFIGURATION_CHECKS, k)) {
      ctx.warn(ref, `spec.${k}`, undefined,
        "Calico and svcbgp read it only from the BGPConfiguration named 'default' (a node.<nodename> document may set listenPort and prefixAdvertisements); ignored here");
    } else {
      ctx.warn(ref, `spec.${k}`, undefined, 'unknown field; ignored (supported per node: listenPort, prefixAdvertisements, communities)');
    }
  }
  const before = ctx.errors.length;
  const o: NodeBgpOverride = { node, source: ref };
  if (spec['listenPort'] !== undefined && spec['listenPort'] !== null) {
    const port = readPort(ctx, ref, 'spec.listenPort', spec['listenPort']);
    if (port !== undefined) o.listenPort = port;
  }
  const communities = readCommunities(ctx, ref, spec['communities']);
  if (spec['prefixAdvertisements'] !== undefined && spec['prefixAdvertisements'] !== null) {
    const pas = readPrefixAdvertisements(ctx, ref, spec['prefixAdvertisements'], communities ?? new Map());
    if (pas) o.prefixAdvertisements = pas;
  }
  return ctx.errors.length > before ? undefined : o;
}

// --- BGPPeer -----------------------------------------------------------------------------------------------

// holdTime and bfd are svcbgp extensions; failureDetectionMode is Calico Enterprise's (Calico Open Source has none).
const PEER_FIELDS = new Set([
  'peerIP', 'asNumber', 'localASNumber', 'node', 'nodeSelector', 'password', 'keepaliveTime', 'holdTime', 'maxRestartTime',
  'ttlSecurity', 'numAllowedLocalASNumbers', 'sourceAddress', 'failureDetectionMode', 'bfd',
]);

/** "ip", "ip:port" (IPv4), "[v6]:port" or a bare IPv6 address. */
export function splitPeerIP(v: string): { address: string; port?: number } | { problem: string } {
  let host = v;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(v);
  if (bracket) {
    host = bracket[1] as string;
    portText = bracket[2];
  } else if (/^[0-9.]+:[0-9]+$/.test(v)) {
    const i = v.lastIndexOf(':');
    host = v.slice(0, i);
    portText = v.slice(i + 1);
  }
  const ip = parseIp(host);
  if (!ip) return { problem: 'expected an IPv4 or IPv6 address, optionally with a port: "192.168.1.1", "192.168.1.1:1179", "fd00::1", "[fd00::1]:1179"' };
  if (bracket && ip.family !== 'ipv6-unicast') return { problem: 'brackets are only for IPv6 addresses: write "192.168.1.1:1179"' };
  if (portText === undefined) return { address: ip.text };
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { problem: 'the port must be 1..65535' };
  return { address: ip.text, port };
}

function readDuration(ctx: Ctx, ref: DocRef, path: string, v: unknown, min: number, max: number): number | undefined {
  // 32 characters: the CRD's maxLength; a longer text is no duration anyone means.
  const secs = typeof v === 'string' && v.length <= 32 ? parseGoDuration(v) : undefined;
  if (secs === undefined) {
    ctx.error(ref, path, render(v), 'expected a duration such as "30s", "2m" or "1h2m3s"');
    return undefined;
  }
  const rounded = Math.round(secs);
  if (rounded < min || rounded > max) {
    ctx.error(ref, path, render(v), `out of range: expected ${min}s..${max}s (whole seconds)`);
    return undefined;
  }
  // Under half a second is not 0 (where 0 is allowed, it means something else: holdTime's "no keepalives").
  if (rounded === 0 && secs !== 0) {
    ctx.error(ref, path, render(v), 'out of range: shorter than 1s, it would round to 0 (whole seconds)');
    return undefined;
  }
  return rounded;
}

/**
 * keepaliveTime (Calico's) and holdTime (svcbgp's), checked together (src/config/timers.ts: the rules and why).
 * Written values only: the defaults are applied in peers.ts.
 */
function readPeerTimers(ctx: Ctx, ref: DocRef, spec: Obj, peer: Partial<PeerDefinition>): void {
  const given = (k: string): boolean => spec[k] !== undefined && spec[k] !== null;
  let ok = true;
  let keepalive: number | undefined;
  let hold: number | undefined;
  if (given('keepaliveTime')) {
    keepalive = readDuration(ctx, ref, 'spec.keepaliveTime', spec['keepaliveTime'], 1, Math.floor(MAX_HOLD_TIME / 3));
    ok &&= keepalive !== undefined;
  }
  if (given('holdTime')) {
    // 0 passes the range so that timerProblems can say why it is refused.
    hold = readDuration(ctx, ref, 'spec.holdTime', spec['holdTime'], 0, MAX_HOLD_TIME);
    ok &&= hold !== undefined;
  }
  if (!ok) return;
  const { errors, warnings } = timerProblems(keepalive, hold);
  const path = hold !== undefined ? 'spec.holdTime' : 'spec.keepaliveTime';
  const value = render(spec[hold !== undefined ? 'holdTime' : 'keepaliveTime']);
  for (const e of errors) ctx.error(ref, path, value, e);
  for (const w of warnings) ctx.warn(ref, path, value, w);
  if (errors.length > 0) return;
  if (keepalive !== undefined) peer.keepaliveTime = keepalive;
  if (hold !== undefined) peer.holdTime = hold;
}

const FAILURE_DETECTION_MODES = ['None', 'BFDIfDirectlyConnected'];
const BFD_FIELDS = ['minimumRecvInterval', 'minimumSendInterval', 'multiplier'];

/**
 * Calico's failureDetectionMode (None | BFDIfDirectlyConnected) and svcbgp's `bfd` block of timers, named after the
 * fields of Calico's BFDConfiguration interfaces. gobgpd runs single-hop BFD only (RFC 5881: TTL 255), which is
 * what "if directly connected" means; svcbgp cannot see the link, so a peer that is not on the node's LAN must not
 * set it (its BFD session never comes up). Needs gobgpd >= 4.6: on gobgpd 3.x the peer is configured without BFD and
 * the agent warns (src/gobgp/provision.ts).
 */
function readFailureDetection(ctx: Ctx, ref: DocRef, spec: Obj): BfdSettings | undefined {
  const mode = spec['failureDetectionMode'];
  const block = spec['bfd'];
  const on = mode === 'BFDIfDirectlyConnected';
  if (mode !== undefined && mode !== null && (typeof mode !== 'string' || !FAILURE_DETECTION_MODES.includes(mode))) {
    ctx.error(ref, 'spec.failureDetectionMode', render(mode), `expected one of ${FAILURE_DETECTION_MODES.join(', ')} (Calico's values, case-sensitive)`);
    return undefined;
  }
  if (block === undefined || block === null) return on ? { ...DEFAULT_BFD } : undefined;
  if (!isObject(block)) {
    ctx.error(ref, 'spec.bfd', render(block), `expected a mapping with ${BFD_FIELDS.join(', ')}`);
    return undefined;
  }
  for (const k of Object.keys(block)) if (!BFD_FIELDS.includes(k)) ctx.warn(ref, `spec.bfd.${k}`, undefined, `unknown field; ignored (supported: ${BFD_FIELDS.join(', ')})`);
  if (!on) ctx.warn(ref, 'spec.bfd', undefined, 'BFD timers without failureDetectionMode: BFDIfDirectlyConnected; BFD stays off');
  const before = ctx.errors.length;
  const out: BfdSettings = { ...DEFAULT_BFD };
  const interval = (k: 'minimumRecvInterval' | 'minimumSendInterval'): number | undefined => {
    const v = block[k];
    if (v === undefined || v === null) return undefined;
    const secs = typeof v === 'string' && v.length <= 32 ? parseGoDuration(v) : undefined;
    const ms = secs === undefined ? undefined : secs * 1000;
    const { min, max } = BFD_INTERVAL_RANGE_MS;
    // Whole milliseconds, as Calico's BFDConfiguration requires (1e-6: "0.3s" is 300.00000000000006 ms in floats).
    if (ms === undefined || Math.abs(ms - Math.round(ms)) > 1e-6 || ms < min || ms > max) {
      ctx.error(ref, `spec.bfd.${k}`, render(v), `expected a whole number of milliseconds ${min}ms..${max / 1000}s, e.g. "300ms"`);
      return undefined;
    }
    return Math.round(ms);
  };
  const rx = interval('minimumRecvInterval');
  const tx = interval('minimumSendInterval');
  if (rx !== undefined) out.minimumRecvIntervalMs = rx;
  if (tx !== undefined) out.minimumSendIntervalMs = tx;
  const m = block['multiplier'];
  if (m !== undefined && m !== null) {
    const { min, max } = BFD_MULTIPLIER_RANGE;
    if (!refuseYamlNumber(ctx, ref, 'spec.bfd.multiplier', m, `write the multiplier as a plain decimal integer ${min}..${max}`)) {
      if (typeof m === 'number' && Number.isInteger(m) && m >= min && m <= max) out.multiplier = m;
      else ctx.error(ref, 'spec.bfd.multiplier', render(m), `expected an integer ${min}..${max}: packets missed before the peer is declared down`);
    }
  }
  if (ctx.errors.length > before || !on) return undefined;
  return out;
}

/** What makes two BGPPeers the same session: address, port and the nodes they apply to. */
interface PeerIdentity {
  ref: DocRef;
  address: string;
  port?: number;
  node?: string;
  nodeSelector?: string;
}

/**
 * Addresses a BGP session can never be opened to: gobgpd would dial them forever (or, for the unspecified address,
 * treat the neighbor as dynamic). Loopback only with the explicit test/lab opt-in. IPv6 link-local needs an
 * interface zone, which peerIP cannot carry.
 */
function peerAddressProblem(address: string, opts: ParseOptions): string | undefined {
  const ip = parseIp(address);
  if (!ip) return undefined;
  const within = (cidr: string): boolean => {
    const r = parseCidr(cidr);
    return isCidr(r) && cidrContains(r, ip.bytes);
  };
  if (within('0.0.0.0/8') || ip.text === '::') return 'the unspecified address cannot be a BGP peer';
  if (ip.text === '255.255.255.255') return 'the broadcast address cannot be a BGP peer';
  if (within('224.0.0.0/4') || within('ff00::/8')) return 'a multicast address cannot be a BGP peer';
  if (within('fe80::/10')) return 'an IPv6 link-local address needs an interface, which peerIP cannot name; use a global or ULA address';
  if ((within('127.0.0.0/8') || ip.text === '::1') && !opts.allowLoopbackPeers) {
    return 'a loopback address is not a top-of-rack router (only tests and labs peer on loopback: svcbgp run --allow-loopback-peers)';
  }
  return undefined;
}

function readPeer(ctx: Ctx, ref: DocRef, name: string, spec: Obj, identities: PeerIdentity[], opts: ParseOptions): PeerDefinition | undefined {
  checkOtherFields(ctx, ref, spec, PEER_FIELDS, BGPPEER_CHECKS);
  const before = ctx.errors.length;
  const peer: Partial<PeerDefinition> & { name: string; source: DocRef } = { name, source: ref };

  // A peerSelector or localWorkloadSelector instead of peerIP is refused with its own message, which asks for peerIP;
  // Calico's peerSelector peer has no asNumber either (the selected nodes' own).
  const given = (k: string): boolean => spec[k] !== undefined && spec[k] !== null && spec[k] !== '';
  const selectsPeers = given('peerSelector');
  const peerIP = spec['peerIP'];
  if (peerIP === undefined || peerIP === null || peerIP === '') {
    if (!selectsPeers && !given('localWorkloadSelector')) ctx.error(ref, 'spec.peerIP', undefined, `required: the peer's address, e.g. "192.168.1.1"`);
  } else if (typeof peerIP !== 'string') {
    ctx.error(ref, 'spec.peerIP', render(peerIP), 'expected a string such as "192.168.1.1"');
  } else {
    const s = splitPeerIP(peerIP);
    const problem = 'problem' in s ? s.problem : peerAddressProblem(s.address, opts);
    if (problem !== undefined) ctx.error(ref, 'spec.peerIP', render(peerIP), problem);
    else if (!('problem' in s)) {
      peer.address = s.address;
      if (s.port !== undefined) peer.port = s.port;
    }
  }

  if (spec['asNumber'] === undefined || spec['asNumber'] === null) {
    if (!selectsPeers) ctx.error(ref, 'spec.asNumber', undefined, "required: the peer's AS number, e.g. 64512");
  } else {
    const asn = readAsNumber(ctx, ref, 'spec.asNumber', spec['asNumber']);
    if (asn !== undefined) peer.asNumber = asn;
  }

  if (spec['localASNumber'] !== undefined && spec['localASNumber'] !== null) {
    const asn = readAsNumber(ctx, ref, 'spec.localASNumber', spec['localASNumber']);
    if (asn !== undefined) peer.localAsNumber = asn;
  }

  const node = spec['node'];
  const sel = spec['nodeSelector'];
  if (node !== undefined && node !== null && node !== '') {
    if (typeof node !== 'string') ctx.error(ref, 'spec.node', render(node), 'expected a node name');
    else peer.node = node;
  }
  if (sel !== undefined && sel !== null && sel !== '') {
    if (typeof sel !== 'string') ctx.error(ref, 'spec.nodeSelector', render(sel), `expected a selector string such as "rack == 'r1'"`);
    else {
      try {
        peer.selector = parseSelector(sel);
        peer.nodeSelector = sel;
      } catch (e) {
        if (!(e instanceof SelectorError)) throw e;
        ctx.error(ref, 'spec.nodeSelector', render(sel), `${e.message}; supported: ${SELECTOR_SUPPORTED}`);
      }
    }
  }
  if (peer.node !== undefined && typeof sel === 'string' && sel !== '') {
    ctx.error(ref, 'spec.nodeSelector', render(sel), 'node and nodeSelector cannot both be set; use one of them');
  }

  const pw = spec['password'];
  if (pw !== undefined && pw !== null) {
    const ref2 = isObject(pw) ? pw['secretKeyRef'] : undefined;
    if (!isObject(pw) || !isObject(ref2) || typeof ref2['name'] !== 'string' || ref2['name'] === '' || typeof ref2['key'] !== 'string' || ref2['key'] === '') {
      // Never echo the value: it may be a password typed inline.
      ctx.error(ref, 'spec.password', '(hidden)', 'expected {secretKeyRef: {name: <secret>, key: <key>}}; an inline password is not accepted');
    } else {
      for (const k of Object.keys(pw)) if (k !== 'secretKeyRef') ctx.warn(ref, `spec.password.${k}`, undefined, 'unknown field; ignored');
      for (const k of Object.keys(ref2)) if (k !== 'name' && k !== 'key') ctx.warn(ref, `spec.password.secretKeyRef.${k}`, undefined, 'unknown field; ignored');
      peer.passwordSecretRef = { name: ref2['name'], key: ref2['key'] };
    }
  }

  readPeerTimers(ctx, ref, spec, peer);
  const bfd = readFailureDetection(ctx, ref, spec);
  if (bfd) peer.bfd = bfd;
  // Calico writes ttlSecurity into BIRD as "ttl security on; multihop N" (confd bgp_processor.go); BIRD then sends with
  // TTL 255 and accepts TTL >= 256 - N (proto/bgp/bgp.c sk_set_min_ttl): peers.ts gives gobgpd that minimum.
  const ttl = readByte(ctx, ref, spec, 'ttlSecurity', 0, 'the number of hops to the peer, 1..255 (1: directly connected; 0: off)');
  if (ttl !== undefined && ttl > 0) peer.ttlSecurityHops = ttl;
  const ownAs = readByte(ctx, ref, spec, 'numAllowedLocalASNumbers', 0,
    'how many times a received route\'s AS path may hold the local AS, 1..255 (0: none; gobgpd counts in 8 bits)');
  if (ownAs !== undefined && ownAs > 0) peer.allowedLocalAsNumbers = ownAs;
  const source = spec['sourceAddress'];
  if (source === 'UseNodeIP') peer.sourceAddressNodeIP = true;
  else if (source !== undefined && source !== null && source !== '' && source !== 'None') {
    ctx.error(ref, 'spec.sourceAddress', render(source), "expected UseNodeIP or None (Calico's values, case-sensitive)");
  }
  if (spec['maxRestartTime'] !== undefined && spec['maxRestartTime'] !== null) {
    // The graceful-restart capability carries the restart time in 12 bits (RFC 4724): at most 4095 s.
    const r = readDuration(ctx, ref, 'spec.maxRestartTime', spec['maxRestartTime'], 1, 4095);
    if (r !== undefined) peer.maxRestartTime = r;
  }
  if (peer.address !== undefined) {
    const id: PeerIdentity = { ref, address: peer.address };
    if (peer.port !== undefined) id.port = peer.port;
    if (typeof node === 'string' && node !== '') id.node = node;
    else if (typeof sel === 'string' && sel !== '') id.nodeSelector = sel;
    identities.push(id);
  }
  if (ctx.errors.length > before) return undefined;
  return peer as PeerDefinition;
}
