import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import type { Command } from 'commander';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import {
  parseConfig,
  peersForNode,
  listenPortForNode,
  defaultConfig,
  type BgpConfig,
  type ConfigMessage,
  type NodeInfo,
  type NodePeer,
} from '../config/index.js';
import { EXCLUDE_LABEL } from '../model/annotations.js';
import {
  desiredRoutes,
  ruleReasons,
  type AddressKind,
  type AttributeSource,
  type DesiredPath,
  type LinkBandwidthSource,
  type RefusalCode,
  type RefusedAddress,
  type RouteReason,
  type ServiceAttributeSource,
  type ServiceRef,
  type WithheldAddress,
  type WithheldCode,
} from '../routes/index.js';
import type { Route } from '../model/route.js';
import { describeLinkBandwidth } from '../routes/weights.js';
import { isAttributeRefusal } from '../model/path.js';
import { serviceAttributeLines } from '../routes/service-attributes.js';
import { malformedSlice } from '../routes/endpoints.js';
import { readNode } from '../config/node.js';
import { bfdText } from '../model/peer.js';
import { escapeControls, quoteValue, safeJson } from '../text/escape.js';
import { yamlNestingProblem } from '../text/yaml-nesting.js';
import { errorText } from '../text/error.js';

/**
 * `svcbgp explain`: offline. Reads a configuration file, a cluster dump (`kubectl get services,endpointslices -A -o
 * yaml`, optionally with nodes) and a node name, and prints the routes that node would advertise and why, and every
 * refused / withheld address with its reason. Exit 0 done, 2 unusable input (every message on stderr), 1 unexpected.
 * Every line printed is escaped (docs/design.md § Text from outside).
 */

export interface ClusterDump {
  services: V1Service[];
  endpointSlices: V1EndpointSlice[];
  nodes: V1Node[];
  /** Items of other kinds (ignored) and similar notes. */
  notes: string[];
}

export class InputError extends Error {
  constructor(readonly messages: string[]) {
    super(messages.join('\n'));
  }
}

/** A dump is data kubectl wrote: a YAML alias bomb in it is refused, not expanded. */
const MAX_ALIAS_COUNT = 100;

/** Parses the YAML (or JSON) that kubectl prints: a v1 List with items, or several documents. Pure. */
export function parseClusterDump(text: string, source = 'cluster dump'): ClusterDump {
  const out: ClusterDump = { services: [], endpointSlices: [], nodes: [], notes: [] };
  const errors: string[] = [];
  const ignored = new Map<string, number>();
  const visit = (item: unknown, where: string): void => {
    if (item === null || item === undefined) return;
    if (typeof item !== 'object' || Array.isArray(item)) {
      errors.push(`${source}: ${where}: expected a Kubernetes object, got ${quoteValue(item, 60)}`);
      return;
    }
    const o = item as { kind?: unknown; items?: unknown };
    if (Array.isArray(o.items)) {
      for (const [i, x] of o.items.entries()) visit(x, `${where} item ${i + 1}`);
      return;
    }
    switch (o.kind) {
      case 'Service':
        out.services.push(item as V1Service);
        break;
      case 'EndpointSlice': {
        const problem = malformedSlice(item);
        if (problem !== undefined) out.notes.push(`${where} (EndpointSlice ${objectName(item)}): ${problem}; its malformed parts are ignored`);
        out.endpointSlices.push(item as V1EndpointSlice);
        break;
      }
      case 'Node':
        out.nodes.push(item as V1Node);
        break;
      default: {
        const kind = typeof o.kind === 'string' ? o.kind.slice(0, 60) : quoteValue(o.kind, 60);
        ignored.set(kind, (ignored.get(kind) ?? 0) + 1);
      }
    }
  };
  // The YAML library throws on some inputs (an alias count over the limit, nesting deep enough to overflow
  // the stack): each becomes a message naming the document, like a syntax error.
  const yamlProblem = (e: unknown): string => (e instanceof RangeError ? 'nested too deeply' : (errorText(e).split('\n')[0] ?? ''));
  const tooDeep = yamlNestingProblem(text);
  if (tooDeep !== undefined) throw new InputError([`${source}: ${tooDeep}`]);
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text);
  } catch (e) {
    throw new InputError([`${source}: cannot be read as YAML: ${yamlProblem(e)}`]);
  }
  (Array.isArray(docs) ? docs : [docs]).forEach((doc, i) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) errors.push(`${source}: document ${i + 1}: YAML syntax error: ${(e.message.split('\n')[0] ?? '').replace(/:$/, '')}`);
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
    } catch (e) {
      errors.push(`${source}: document ${i + 1}: ${yamlProblem(e)} (at most ${MAX_ALIAS_COUNT} alias expansions per document)`);
      return;
    }
    try {
      visit(value, `document ${i + 1}`);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      errors.push(`${source}: document ${i + 1}: nested too deeply`);
    }
  });
  if (errors.length > 0) throw new InputError(errors);
  for (const [kind, n] of [...ignored].sort()) out.notes.push(`ignored ${n} object(s) of kind ${kind}`);
  return out;
}

/** "namespace/name" of a dump object for a message, whatever its metadata holds. */
function objectName(item: unknown): string {
  const m = (item as { metadata?: unknown }).metadata;
  const meta = typeof m === 'object' && m !== null ? (m as Record<string, unknown>) : {};
  const ns = typeof meta['namespace'] === 'string' ? `${meta['namespace']}/` : '';
  return typeof meta['name'] === 'string' ? `${ns}${meta['name']}` : '(unnamed)';
}

/** "k=v,k2=v2" -> labels. */
export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new InputError([`--node-labels: "${part}" is not key=value`]);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

export interface ExplainInput {
  config: BgpConfig;
  configSource: string;
  warnings: ConfigMessage[];
  node: NodeInfo;
  dump: ClusterDump;
}

export interface ExplainReport {
  node: { name: string; labels: Record<string, string>; excluded: boolean };
  config: {
    source: string;
    asNumber: number;
    listenPort: number;
    serviceClusterIPs: string[];
    serviceExternalIPs: string[];
    serviceLoadBalancerIPs: string[];
    /** Only when written in the BGPConfiguration (absent: Enabled). */
    serviceLoadBalancerAggregation?: 'Enabled' | 'Disabled';
    defaulted: { global: boolean; peers: boolean };
  };
  peers: {
    name: string;
    address: string;
    port: number;
    asNumber: number;
    gracefulRestartTime: number;
    keepaliveTime: number;
    holdTime: number;
    bfd?: string;
    passwordSecret?: string;
    localAsNumber?: number;
    sourceAddress?: string;
    ttlSecurityMinTtl?: number;
    allowOwnAsn?: number;
  }[];
  routes: ExplainRoute[];
  refused: ExplainRefusal[];
  withheld: ExplainWithheld[];
  warnings: string[];
  notes: string[];
}

/** A route as `explain -o json` prints it (a stable format): the path's route, its rules' reasons, and its sources. */
export interface ExplainRoute extends Route {
  reasons: RouteReason[];
  attributesFrom: readonly AttributeSource[];
  linkBandwidthFrom?: LinkBandwidthSource;
  serviceAttributesFrom?: readonly ServiceAttributeSource[];
}

export interface ExplainRefusal {
  service: ServiceRef;
  address: string;
  code: RefusalCode;
  text: string;
  summary: string;
  kind?: AddressKind;
}

export interface ExplainWithheld {
  service: ServiceRef;
  address: string;
  kind: AddressKind;
  code: WithheldCode;
  text: string;
}

function explainRoute(p: DesiredPath): ExplainRoute {
  const r: ExplainRoute = { ...p.route, reasons: ruleReasons(p), attributesFrom: p.attributesFrom ?? [] };
  if (p.route.localPref !== undefined) r.localPref = p.route.localPref;
  if (p.route.linkBandwidth !== undefined) r.linkBandwidth = p.route.linkBandwidth;
  if (p.linkBandwidthFrom) r.linkBandwidthFrom = p.linkBandwidthFrom;
  if (p.serviceAttributesFrom) r.serviceAttributesFrom = p.serviceAttributesFrom;
  return r;
}

function explainRefusal(x: RefusedAddress): ExplainRefusal {
  return {
    service: { namespace: x.namespace, name: x.service },
    address: x.address,
    code: x.code,
    text: x.message,
    summary: x.summary ?? x.message,
    ...(x.kind ? { kind: x.kind } : {}),
  };
}

function explainWithheld(x: WithheldAddress): ExplainWithheld {
  return { service: { namespace: x.namespace, name: x.service }, address: x.address, kind: x.kind, code: x.code, text: x.message };
}

/** Pure: builds the report for one node. */
export function explain(input: ExplainInput): ExplainReport {
  const res = desiredRoutes(input.config, input.node, input.dump.services, input.dump.endpointSlices);
  const g = input.config.global;
  const labels: Record<string, string> = {};
  for (const k of Object.keys(input.node.labels).sort()) labels[k] = input.node.labels[k] as string;
  return {
    node: { name: input.node.name, labels, excluded: res.excluded },
    config: {
      source: input.configSource,
      asNumber: g.asNumber,
      listenPort: listenPortForNode(input.config, input.node.name),
      serviceClusterIPs: g.serviceClusterIPs.map((c) => c.cidr),
      serviceExternalIPs: g.serviceExternalIPs.map((c) => c.cidr),
      serviceLoadBalancerIPs: g.serviceLoadBalancerIPs.map((c) => c.cidr),
      ...(g.serviceLoadBalancerAggregation ? { serviceLoadBalancerAggregation: g.serviceLoadBalancerAggregation } : {}),
      defaulted: { ...input.config.defaulted },
    },
    peers: peersForNode(input.config, input.node).map(peerSummary),
    routes: res.routes.map(explainRoute),
    refused: res.refused.map(explainRefusal),
    withheld: res.withheld.map(explainWithheld),
    warnings: input.warnings.map((w) => w.text),
    notes: input.dump.notes,
  };
}

function peerSummary(p: NodePeer): ExplainReport['peers'][number] {
  const s: ExplainReport['peers'][number] = {
    name: p.name,
    address: p.address,
    port: p.port ?? 179,
    asNumber: p.asn,
    gracefulRestartTime: p.gracefulRestart.restartTime,
    // src/config/peers.ts always sets both (svcbgp's defaults when the BGPPeer does not).
    keepaliveTime: p.keepaliveTime ?? 0,
    holdTime: p.holdTime ?? 0,
  };
  if (p.bfd) s.bfd = bfdText(p.bfd);
  if (p.localAsn !== undefined) s.localAsNumber = p.localAsn;
  if (p.localAddress !== undefined) s.sourceAddress = p.localAddress;
  if (p.ttlSecurityMinTtl !== undefined) s.ttlSecurityMinTtl = p.ttlSecurityMinTtl;
  if (p.allowOwnAsn !== undefined) s.allowOwnAsn = p.allowOwnAsn;
  // The reference only (Secret name/key), never a password.
  if (p.passwordSecretRef) s.passwordSecret = `${p.passwordSecretRef.name}/${p.passwordSecretRef.key}`;
  return s;
}

const FAMILY_SHORT = { 'ipv4-unicast': 'IPv4', 'ipv6-unicast': 'IPv6' } as const;

/** Human-readable report: what is advertised, why, and what is not and why. */
export function formatText(r: ExplainReport): string {
  const L: string[] = [];
  // Each entry of L is one line: escaping it (below) turns any newline a name smuggled in into a visible "\n".
  const labelText = Object.entries(r.node.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  L.push(`Node ${r.node.name}${labelText ? ` (labels: ${labelText})` : ''}`);
  const c = r.config;
  L.push(
    `Configuration ${c.source}${c.defaulted.global ? ' (no BGPConfiguration "default": defaults)' : ''}: local AS ${c.asNumber}, listen port ${c.listenPort}`,
  );
  const list = (xs: string[]): string => (xs.length ? xs.join(', ') : '(none)');
  L.push(`  serviceClusterIPs:      ${list(c.serviceClusterIPs)}`);
  L.push(`  serviceExternalIPs:     ${list(c.serviceExternalIPs)}`);
  L.push(
    `  serviceLoadBalancerIPs: ${list(c.serviceLoadBalancerIPs)}${c.serviceLoadBalancerAggregation === 'Disabled' ? '  (serviceLoadBalancerAggregation Disabled: a /32 or /128 per Service, no CIDR)' : ''}`,
  );
  L.push(`Peers of this node${c.defaulted.peers ? ' (no BGPPeer documents: the default peer)' : ''}:`);
  if (r.peers.length === 0) L.push('  (none: no BGPPeer applies to this node; nothing will be advertised to anyone)');
  for (const p of r.peers) {
    const more = [
      p.localAsNumber !== undefined ? `local AS ${p.localAsNumber}` : '',
      p.sourceAddress !== undefined ? `source ${p.sourceAddress}` : '',
      p.ttlSecurityMinTtl !== undefined ? `TTL security (GTSM, minimum TTL ${p.ttlSecurityMinTtl})` : '',
      p.allowOwnAsn !== undefined ? `own AS allowed ${p.allowOwnAsn}x in received paths` : '',
    ]
      .filter((x) => x !== '')
      .map((x) => `; ${x}`)
      .join('');
    L.push(
      `  ${p.address}${p.port !== 179 ? ` port ${p.port}` : ''} AS ${p.asNumber}  [BGPPeer ${p.name}; graceful restart ${p.gracefulRestartTime}s; keepalive ${p.keepaliveTime}s, hold ${p.holdTime}s${p.bfd ? `; BFD ${p.bfd}` : ''}${p.passwordSecret ? `; password from Secret ${p.passwordSecret}` : ''}${more}]`,
    );
  }
  L.push('');
  if (r.node.excluded) {
    L.push(`This node advertises NOTHING: it has the label ${EXCLUDE_LABEL} (any value excludes it, as in Kubernetes).`);
  } else {
    L.push(`Routes ${r.node.name} advertises (${r.routes.length}):`);
    if (r.routes.length === 0) L.push('  (none: no service CIDR is configured, or nothing matches)');
    const width = Math.max(18, ...r.routes.map((x) => x.prefix.length));
    for (const rt of r.routes) {
      const attrs = [
        rt.communities.length ? `communities ${rt.communities.join(' ')}` : '',
        rt.largeCommunities.length ? `large communities ${rt.largeCommunities.join(' ')}` : '',
        rt.localPref !== undefined ? `local-pref ${rt.localPref}` : '',
        rt.linkBandwidth ? describeLinkBandwidth(rt.linkBandwidth) : '',
      ].filter((x) => x !== '');
      L.push(`  ${rt.prefix.padEnd(width)}  ${FAMILY_SHORT[rt.family]}  next hop ${rt.nextHop}${attrs.length ? `  ${attrs.join(', ')}` : ''}`);
      for (const why of rt.reasons) L.push(`      because ${why.text}`);
      if (rt.attributesFrom.length) L.push(`      attributes from prefixAdvertisements ${rt.attributesFrom.map((a) => a.cidr).join(', ')}`);
      for (const line of serviceAttributeLines(rt)) L.push(`      ${line}`);
    }
  }
  L.push('');
  const addresses = r.refused.filter((x) => !isAttributeRefusal(x.code));
  const values = r.refused.filter((x) => isAttributeRefusal(x.code));
  const refusal = (x: (typeof r.refused)[number]): string =>
    `  ${x.service.namespace}/${x.service.name}${x.address ? ` ${x.address}` : ''}  [${x.code}]  ${x.text}`;
  L.push(`Refused addresses (${addresses.length})${addresses.length ? ' — no node advertises these; fix the Service or the BGPConfiguration:' : ': none'}`);
  for (const x of addresses) L.push(refusal(x));
  if (values.length > 0) {
    L.push(`Refused annotation values (${values.length}) — the Services' routes are advertised without these; fix the annotation or serviceAttributeLimits:`);
    for (const x of values) L.push(refusal(x));
  }
  if (!r.node.excluded) {
    L.push(`Not advertised from this node (${r.withheld.length})${r.withheld.length ? ':' : ': none'}`);
    for (const x of r.withheld) L.push(`  ${x.service.namespace}/${x.service.name} ${x.address}  [${x.code}]  ${x.text}`);
  }
  if (r.notes.length) {
    L.push('');
    L.push(`Notes on the cluster dump (${r.notes.length}):`);
    for (const n of r.notes) L.push(`  ${n}`);
  }
  if (r.warnings.length) {
    L.push('');
    L.push(`Configuration warnings (${r.warnings.length}):`);
    for (const w of r.warnings) L.push(`  ${w}`);
  }
  return `${L.map(escapeControls).join('\n')}\n`;
}

/** Stable JSON: fixed key order, sorted lists (the core sorts), two-space indent; terminal-safe (safeJson). */
export function formatJson(r: ExplainReport): string {
  return `${safeJson(r, 2)}\n`;
}

/** One line to stderr, escaped. */
function errLine(err: (s: string) => void, line: string): void {
  err(`${escapeControls(line)}\n`);
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError([`cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : errorText(e)}`]);
  }
}

export interface ExplainOptions {
  config?: string;
  cluster: string;
  node: string;
  nodeLabels?: string;
  nodeAddresses?: string;
  output: string;
}

/** The I/O shell: reads the files, prints the report. Returns the exit code. */
export async function runExplain(opts: ExplainOptions, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  try {
    if (opts.output !== 'text' && opts.output !== 'json') throw new InputError([`--output must be text or json, not "${opts.output}"`]);
    let config = defaultConfig();
    let warnings: ConfigMessage[] = [];
    if (opts.config !== undefined) {
      const parsed = parseConfig(await readText(opts.config, 'configuration file'));
      if (!parsed.ok) {
        errLine(
          err,
          `svcbgp explain: the configuration in ${opts.config} is invalid (${parsed.errors.length} error${parsed.errors.length === 1 ? '' : 's'}); nothing was evaluated:`,
        );
        for (const e of parsed.errors) errLine(err, `  error: ${e.text}`);
        for (const w of parsed.warnings) errLine(err, `  warning: ${w.text}`);
        return 2;
      }
      config = parsed.config;
      warnings = parsed.warnings;
    }
    const dump = parseClusterDump(await readText(opts.cluster, 'cluster dump'), opts.cluster);
    const fromDump = dump.nodes.map((n) => readNode(n)).find((n) => n.info.name === opts.node);
    const base: NodeInfo = fromDump ? fromDump.info : { name: opts.node, labels: {} };
    for (const p of fromDump?.problems ?? []) dump.notes.push(`Node ${opts.node} in ${opts.cluster}: ${p}`);
    const labels = { ...base.labels, ...(opts.nodeLabels !== undefined ? parseLabels(opts.nodeLabels) : {}) };
    const addresses =
      opts.nodeAddresses !== undefined
        ? opts.nodeAddresses
            .split(',')
            .map((a) => a.trim())
            .filter((a) => a !== '')
            .map((address) => ({ type: 'InternalIP', address }))
        : (base.addresses ?? []);
    const report = explain({
      config,
      configSource: opts.config ?? '(none: defaults)',
      warnings,
      node: { name: opts.node, labels, addresses },
      dump,
    });
    if (opts.output === 'json') {
      out(formatJson(report));
    } else {
      for (const w of warnings) errLine(err, `warning: ${w.text}`);
      out(formatText(report));
    }
    return 0;
  } catch (e) {
    if (e instanceof InputError) {
      for (const m of e.messages) errLine(err, `svcbgp explain: ${m}`);
      return 2;
    }
    // A bug, not bad input: the stack is what a bug report needs (each line escaped all the same).
    for (const l of `svcbgp explain: unexpected failure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`.split('\n')) errLine(err, l);
    return 1;
  }
}

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('Offline: which routes would a node advertise, and why; which Service addresses are refused, and why')
    .option('--config <file>', 'BGPPeer / BGPConfiguration documents (multi-document YAML); default: the built-in defaults')
    .requiredOption('--cluster <file>', 'cluster dump: kubectl get services,endpointslices -A -o yaml (nodes may be included)')
    .requiredOption('--node <name>', 'the node to explain')
    .option('--node-labels <k=v,...>', 'node labels (added to / overriding those of a Node in the dump)')
    .option('--node-addresses <ip,...>', "node InternalIPs (the IPv6 one is the IPv6 routes' next hop)")
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (opts: ExplainOptions) => {
      process.exitCode = await runExplain(
        opts,
        (s) => process.stdout.write(s),
        (s) => process.stderr.write(s),
      );
    });
}
