import { cidrContains, parseIp } from './net.js';
import { parseYamlDocuments } from './yaml.js';
import { readBgpConfiguration, SERVICE_CIDR_FIELDS } from './bgp-configuration.js';
import { readPeer, type PeerIdentity } from './bgp-peer.js';
import { isObject, type Obj } from './field-readers.js';
import { configMessage, Messages, render, where } from './messages.js';
import { IPPOOL_KIND, KUBE_CONTROLLERS_KIND, readIpPools } from './ip-pools.js';
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
} from './types.js';

// Still importable from here: both moved next to what they serve.

/**
 * Parses Calico-style BGP configuration: BGPPeer and BGPConfiguration documents under projectcalico.org/v3 or
 * svcbgp.io/v1alpha1, as YAML text or parsed objects. Pure; reports every problem at once so that the caller can keep
 * its last good configuration (docs/design.md § Reading the configuration: the decisions and the defaults).
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
    const message =
      err instanceof RangeError
        ? `the configuration is too deeply nested or too large to evaluate (${detail})`
        : `internal error while reading the configuration (please report it): ${detail}`;
    return { ok: false, errors: [configMessage({ index: 0 }, '', undefined, message)], warnings: [] };
  }
}

/** What the documents hold, before the cross-document checks and the defaults. */
interface Documents {
  globals: { settings: GlobalBgpSettings; ref: DocRef }[];
  overrides: NodeBgpOverride[];
  peers: PeerDefinition[];
  /** Every peer whose address could be read, valid or not. */
  peerIdentities: PeerIdentity[];
  /** kind/name -> the document that first used it. */
  names: Map<string, DocRef>;
}

function parseConfigInner(input: string | readonly unknown[], opts: ParseOptions): ParseResult {
  const msgs = new Messages();
  const found: Documents = { globals: [], overrides: [], peers: [], peerIdentities: [], names: new Map() };
  const docs = splitDocuments(msgs, input);
  for (const d of docs) readDocument(msgs, found, d.ref, d.value, opts);

  checkDuplicatePeers(msgs, found.peerIdentities);
  const first = found.globals[0];
  if (first) checkServiceCidrPlacement(msgs, first.ref, first.settings, found.peerIdentities);
  const allocation = readAllocation(
    msgs,
    docs.map((d) => d.value),
    first?.settings ?? defaultGlobal(),
  );

  // In document order (stable: within a document, in field order).
  const byDoc = (a: ConfigMessage, b: ConfigMessage): number => a.doc.index - b.doc.index || (a.doc.item ?? 0) - (b.doc.item ?? 0);
  msgs.errors.sort(byDoc);
  msgs.warnings.sort(byDoc);
  if (msgs.errors.length > 0) return { ok: false, errors: msgs.errors, warnings: msgs.warnings };
  const config = withDefaults(found);
  if (allocation) config.allocation = allocation;
  return { ok: true, config, warnings: msgs.warnings };
}

/**
 * The IPPool and KubeControllersConfiguration documents among the input's (docs/allocation.md § Pools and settings),
 * numbered as parseConfig numbers them; their messages join the others. Undefined when the input holds none.
 */
function readAllocation(msgs: Messages, values: readonly unknown[], global: GlobalBgpSettings): BgpConfig['allocation'] {
  const kinds = new Set([IPPOOL_KIND, KUBE_CONTROLLERS_KIND]);
  const holds = (v: unknown): boolean => isObject(v) && (kinds.has(String(v['kind'])) || (Array.isArray(v['items']) && (v['items'] as unknown[]).some(holds)));
  if (!values.some(holds)) return undefined;
  const r = readIpPools(values, global);
  msgs.warnings.push(...r.warnings);
  if (!r.ok) {
    msgs.errors.push(...r.errors);
    return undefined;
  }
  return { pools: r.pools, unused: r.unused, settings: r.settings };
}

/** The input's documents, numbered from 1; a YAML text's syntax errors and limits are reported. */
function splitDocuments(msgs: Messages, input: string | readonly unknown[]): { ref: DocRef; value: unknown }[] {
  if (typeof input !== 'string') return input.map((value, i) => ({ ref: { index: i + 1 }, value }));
  const parsed = parseYamlDocuments(input);
  for (const e of parsed.errors) msgs.error({ index: e.index ?? 0 }, '', undefined, e.message);
  return parsed.docs.map((value, i) => ({ ref: { index: i + 1 }, value }));
}

/** One document (or each item of a List) by kind, into `found`. */
function readDocument(msgs: Messages, found: Documents, ref: DocRef, value: unknown, opts: ParseOptions): void {
  if (value === null || value === undefined) return; // empty document ("---" at the top or the end)
  if (!isObject(value)) {
    msgs.error(ref, '', render(value), 'a document must be a mapping with apiVersion, kind, metadata and spec');
    return;
  }
  const kind = value['kind'];
  if (typeof kind === 'string' && (kind === 'List' || kind.endsWith('List')) && Array.isArray(value['items'])) {
    (value['items'] as unknown[]).forEach((item, j) => {
      readDocument(msgs, found, { index: ref.index, item: j + 1 }, item, opts);
    });
    return;
  }
  // Read by readAllocation (./ip-pools.ts), from the same documents.
  if (kind === IPPOOL_KIND || kind === KUBE_CONTROLLERS_KIND) return;
  const doc = readHeader(msgs, ref, value);
  if (!doc) return;
  const key = `${doc.kind}/${doc.name}`;
  const seen = found.names.get(key);
  if (seen) {
    msgs.error(doc.ref, 'metadata.name', render(doc.name), `duplicate ${doc.kind} name: ${where(seen)} has the same name; names must be unique`);
    return;
  }
  found.names.set(key, doc.ref);
  if (doc.kind === 'BGPConfiguration') {
    const c = readBgpConfiguration(msgs, doc.ref, doc.name, doc.spec);
    if (c && 'global' in c) found.globals.push({ settings: c.global, ref: doc.ref });
    else if (c) found.overrides.push(c.override);
  } else {
    const p = readPeer(msgs, doc.ref, doc.name, doc.spec, found.peerIdentities, opts.allowLoopbackPeers === true);
    if (p) found.peers.push(p);
  }
}

interface Header {
  ref: DocRef;
  kind: 'BGPPeer' | 'BGPConfiguration';
  name: string;
  spec: Obj;
}

const TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

/** apiVersion, kind, metadata.name and spec; names the document in `ref` for every later message. */
function readHeader(msgs: Messages, ref: DocRef, v: Obj): Header | undefined {
  let ok = true;
  const apiVersion = v['apiVersion'];
  const kind = v['kind'];
  if (typeof kind === 'string') ref.kind = kind;
  const meta = v['metadata'];
  if (isObject(meta) && typeof meta['name'] === 'string') ref.name = meta['name'];

  if (!(ACCEPTED_API_VERSIONS as readonly unknown[]).includes(apiVersion)) {
    msgs.error(ref, 'apiVersion', render(apiVersion), `expected one of ${ACCEPTED_API_VERSIONS.map((a) => `"${a}"`).join(', ')}`);
    ok = false;
  }
  if (kind !== 'BGPPeer' && kind !== 'BGPConfiguration') {
    msgs.error(ref, 'kind', render(kind), 'expected "BGPPeer", "BGPConfiguration", "IPPool" or "KubeControllersConfiguration"');
    return undefined;
  }
  if (!isObject(meta) || typeof meta['name'] !== 'string' || meta['name'] === '') {
    msgs.error(ref, 'metadata.name', render(isObject(meta) ? meta['name'] : meta), 'every document needs a non-empty metadata.name');
    ok = false;
  }
  for (const k of Object.keys(v)) {
    if (!TOP_LEVEL.has(k)) msgs.warn(ref, k, undefined, 'unknown top-level field; ignored');
  }
  let spec = v['spec'];
  if (spec === undefined || spec === null) spec = {};
  if (!isObject(spec)) {
    msgs.error(ref, 'spec', render(spec), 'expected a mapping');
    return undefined;
  }
  if (!ok) return undefined;
  return { ref, kind, name: ref.name as string, spec };
}

/**
 * Duplicate peers: same address for the same set of nodes. The port does not tell them apart: gobgpd keys
 * neighbors by address alone, so a second port cannot be a second session. Checked on every peer whose address
 * could be read, even if another of its fields is wrong, so the operator sees all problems at once.
 */
function checkDuplicatePeers(msgs: Messages, identities: readonly PeerIdentity[]): void {
  const byKey = new Map<string, PeerIdentity>();
  for (const p of identities) {
    const scope = p.node !== undefined ? `node ${p.node}` : p.nodeSelector !== undefined ? `nodeSelector ${p.nodeSelector}` : 'all nodes';
    const key = `${p.address}|${scope}`;
    const other = byKey.get(key);
    if (other) {
      msgs.error(
        p.ref,
        'spec.peerIP',
        render(p.address + (p.port ? `:${p.port}` : '')),
        `duplicate peer: ${where(other.ref)} already peers with this address for ${scope}; remove one of them`,
      );
    } else {
      byKey.set(key, p);
    }
  }
}

/** A service CIDR that contains a peer's address would make the ToR route its own BGP session into the cluster. */
function checkServiceCidrPlacement(msgs: Messages, ref: DocRef, g: GlobalBgpSettings, peers: readonly PeerIdentity[]): void {
  for (const field of SERVICE_CIDR_FIELDS) {
    g[field].forEach((c, i) => {
      for (const p of peers) {
        const ip = parseIp(p.address);
        if (ip && cidrContains(c, ip.bytes)) {
          msgs.warn(
            ref,
            `spec.${field}[${i}].cidr`,
            render(c.cidr),
            `contains the address of the peer in ${where(p.ref)} (${p.address}); advertising it would route the BGP session itself into the cluster`,
          );
        }
      }
    });
  }
}

/** The configuration the documents make, with a default for each kind the input does not hold. */
function withDefaults(found: Documents): BgpConfig {
  const first = found.globals[0];
  const peers = found.peers;
  return {
    global: first?.settings ?? defaultGlobal(),
    nodeOverrides: found.overrides.sort((a, b) => cmp(a.node, b.node)),
    peers: peers.length > 0 ? peers.sort((a, b) => cmp(a.name, b.name)) : [defaultPeer()],
    defaulted: { global: first === undefined, peers: peers.length === 0 },
  };
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

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
