import { cidrContains, isCidr, parseCidr, parseIp } from './net.js';
import { parseGoDuration } from './duration.js';
import { BFD_INTERVAL_RANGE_MS, BFD_MULTIPLIER_RANGE, DEFAULT_BFD, MAX_HOLD_TIME, timerProblems } from './timers.js';
import type { BfdSettings } from '../model/peer.js';
import { parseSelector, SelectorError, SELECTOR_SUPPORTED } from './selector.js';
import { BGPPEER_CHECKS } from './calico-fields.js';
import { checkOtherFields, isObject, readAsNumber, refuseYamlNumber, type Obj } from './field-readers.js';
import { render, type Messages } from './messages.js';
import type { DocRef, PeerDefinition } from './types.js';

/** BGPPeer documents: one BGP session each, as written; the defaults are applied per node in ./peers.ts. */

// holdTime and bfd are svcbgp extensions; failureDetectionMode is Calico Enterprise's (Calico Open Source has none).
const PEER_FIELDS = new Set([
  'peerIP',
  'asNumber',
  'localASNumber',
  'node',
  'nodeSelector',
  'password',
  'keepaliveTime',
  'holdTime',
  'maxRestartTime',
  'ttlSecurity',
  'numAllowedLocalASNumbers',
  'sourceAddress',
  'failureDetectionMode',
  'bfd',
]);

/** What makes two BGPPeers the same session: address, port and the nodes they apply to. */
export interface PeerIdentity {
  ref: DocRef;
  address: string;
  port?: number;
  node?: string;
  nodeSelector?: string;
}

type PeerDraft = Partial<PeerDefinition> & { name: string; source: DocRef };

/**
 * Reads one BGPPeer. `identities` gets the peer's identity whenever its address could be read, even if another
 * field is wrong, so that duplicates across documents are reported with everything else.
 */
export function readPeer(
  msgs: Messages,
  ref: DocRef,
  name: string,
  spec: Obj,
  identities: PeerIdentity[],
  allowLoopbackPeers: boolean,
): PeerDefinition | undefined {
  checkOtherFields(msgs, ref, spec, PEER_FIELDS, BGPPEER_CHECKS);
  const before = msgs.errors.length;
  const peer: PeerDraft = { name, source: ref };
  readPeerAddressAndAs(msgs, ref, spec, peer, allowLoopbackPeers);
  readPeerNodes(msgs, ref, spec, peer);
  readPassword(msgs, ref, spec, peer);
  readPeerTimers(msgs, ref, spec, peer);
  const bfd = readFailureDetection(msgs, ref, spec);
  if (bfd) peer.bfd = bfd;
  readSessionOptions(msgs, ref, spec, peer);
  if (peer.address !== undefined) identities.push(peerIdentity(ref, spec, peer.address, peer.port));
  if (msgs.errors.length > before) return undefined;
  return peer as PeerDefinition;
}

/** spec.peerIP, spec.asNumber and spec.localASNumber. */
function readPeerAddressAndAs(msgs: Messages, ref: DocRef, spec: Obj, peer: PeerDraft, allowLoopbackPeers: boolean): void {
  // A peerSelector or localWorkloadSelector instead of peerIP is refused with its own message, which asks for peerIP;
  // Calico's peerSelector peer has no asNumber either (the selected nodes' own).
  const given = (k: string): boolean => spec[k] !== undefined && spec[k] !== null && spec[k] !== '';
  const selectsPeers = given('peerSelector');
  const peerIP = spec['peerIP'];
  if (peerIP === undefined || peerIP === null || peerIP === '') {
    if (!selectsPeers && !given('localWorkloadSelector')) msgs.error(ref, 'spec.peerIP', undefined, `required: the peer's address, e.g. "192.168.1.1"`);
  } else if (typeof peerIP !== 'string') {
    msgs.error(ref, 'spec.peerIP', render(peerIP), 'expected a string such as "192.168.1.1"');
  } else {
    const s = splitPeerIP(peerIP);
    const problem = 'problem' in s ? s.problem : peerAddressProblem(s.address, allowLoopbackPeers);
    if (problem !== undefined) msgs.error(ref, 'spec.peerIP', render(peerIP), problem);
    else if (!('problem' in s)) {
      peer.address = s.address;
      if (s.port !== undefined) peer.port = s.port;
    }
  }

  if (spec['asNumber'] === undefined || spec['asNumber'] === null) {
    if (!selectsPeers) msgs.error(ref, 'spec.asNumber', undefined, "required: the peer's AS number, e.g. 64512");
  } else {
    const asn = readAsNumber(msgs, ref, 'spec.asNumber', spec['asNumber']);
    if (asn !== undefined) peer.asNumber = asn;
  }

  if (spec['localASNumber'] !== undefined && spec['localASNumber'] !== null) {
    const asn = readAsNumber(msgs, ref, 'spec.localASNumber', spec['localASNumber']);
    if (asn !== undefined) peer.localAsNumber = asn;
  }
}

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

/**
 * Addresses a BGP session can never be opened to: gobgpd would dial them forever (or, for the unspecified address,
 * treat the neighbor as dynamic). Loopback only with the explicit test/lab opt-in. IPv6 link-local needs an
 * interface zone, which peerIP cannot carry.
 */
function peerAddressProblem(address: string, allowLoopbackPeers: boolean): string | undefined {
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
  if ((within('127.0.0.0/8') || ip.text === '::1') && !allowLoopbackPeers) {
    return 'a loopback address is not a top-of-rack router (only tests and labs peer on loopback: svcbgp run --allow-loopback-peers)';
  }
  return undefined;
}

/** spec.node and spec.nodeSelector: the nodes that open this session (at most one of the two). */
function readPeerNodes(msgs: Messages, ref: DocRef, spec: Obj, peer: PeerDraft): void {
  const node = spec['node'];
  const sel = spec['nodeSelector'];
  if (node !== undefined && node !== null && node !== '') {
    if (typeof node !== 'string') msgs.error(ref, 'spec.node', render(node), 'expected a node name');
    else peer.node = node;
  }
  if (sel !== undefined && sel !== null && sel !== '') {
    if (typeof sel !== 'string') msgs.error(ref, 'spec.nodeSelector', render(sel), `expected a selector string such as "rack == 'r1'"`);
    else {
      try {
        peer.selector = parseSelector(sel);
        peer.nodeSelector = sel;
      } catch (e) {
        if (!(e instanceof SelectorError)) throw e;
        msgs.error(ref, 'spec.nodeSelector', render(sel), `${e.message}; supported: ${SELECTOR_SUPPORTED}`);
      }
    }
  }
  if (peer.node !== undefined && typeof sel === 'string' && sel !== '') {
    msgs.error(ref, 'spec.nodeSelector', render(sel), 'node and nodeSelector cannot both be set; use one of them');
  }
}

/** spec.password: a Secret reference only, resolved later by the agent. */
function readPassword(msgs: Messages, ref: DocRef, spec: Obj, peer: PeerDraft): void {
  const pw = spec['password'];
  if (pw === undefined || pw === null) return;
  const secretRef = isObject(pw) ? pw['secretKeyRef'] : undefined;
  if (
    !isObject(pw) ||
    !isObject(secretRef) ||
    typeof secretRef['name'] !== 'string' ||
    secretRef['name'] === '' ||
    typeof secretRef['key'] !== 'string' ||
    secretRef['key'] === ''
  ) {
    // Never echo the value: it may be a password typed inline.
    msgs.error(ref, 'spec.password', '(hidden)', 'expected {secretKeyRef: {name: <secret>, key: <key>}}; an inline password is not accepted');
    return;
  }
  for (const k of Object.keys(pw)) if (k !== 'secretKeyRef') msgs.warn(ref, `spec.password.${k}`, undefined, 'unknown field; ignored');
  for (const k of Object.keys(secretRef))
    if (k !== 'name' && k !== 'key') msgs.warn(ref, `spec.password.secretKeyRef.${k}`, undefined, 'unknown field; ignored');
  peer.passwordSecretRef = { name: secretRef['name'], key: secretRef['key'] };
}

function readDuration(msgs: Messages, ref: DocRef, path: string, v: unknown, min: number, max: number): number | undefined {
  // 32 characters: the CRD's maxLength; a longer text is no duration anyone means.
  const secs = typeof v === 'string' && v.length <= 32 ? parseGoDuration(v) : undefined;
  if (secs === undefined) {
    msgs.error(ref, path, render(v), 'expected a duration such as "30s", "2m" or "1h2m3s"');
    return undefined;
  }
  const rounded = Math.round(secs);
  if (rounded < min || rounded > max) {
    msgs.error(ref, path, render(v), `out of range: expected ${min}s..${max}s (whole seconds)`);
    return undefined;
  }
  // Under half a second is not 0 (where 0 is allowed, it means something else: holdTime's "no keepalives").
  if (rounded === 0 && secs !== 0) {
    msgs.error(ref, path, render(v), 'out of range: shorter than 1s, it would round to 0 (whole seconds)');
    return undefined;
  }
  return rounded;
}

/**
 * keepaliveTime (Calico's) and holdTime (svcbgp's), checked together (./timers.ts has the rules; docs/design.md
 * § BGP and BFD timers says why). Written values only: the defaults are applied in ./peers.ts.
 */
function readPeerTimers(msgs: Messages, ref: DocRef, spec: Obj, peer: PeerDraft): void {
  const given = (k: string): boolean => spec[k] !== undefined && spec[k] !== null;
  let ok = true;
  let keepalive: number | undefined;
  let hold: number | undefined;
  if (given('keepaliveTime')) {
    keepalive = readDuration(msgs, ref, 'spec.keepaliveTime', spec['keepaliveTime'], 1, Math.floor(MAX_HOLD_TIME / 3));
    ok &&= keepalive !== undefined;
  }
  if (given('holdTime')) {
    // 0 passes the range so that timerProblems can say why it is refused.
    hold = readDuration(msgs, ref, 'spec.holdTime', spec['holdTime'], 0, MAX_HOLD_TIME);
    ok &&= hold !== undefined;
  }
  if (!ok) return;
  const { errors, warnings } = timerProblems(keepalive, hold);
  const path = hold !== undefined ? 'spec.holdTime' : 'spec.keepaliveTime';
  const value = render(spec[hold !== undefined ? 'holdTime' : 'keepaliveTime']);
  for (const e of errors) msgs.error(ref, path, value, e);
  for (const w of warnings) msgs.warn(ref, path, value, w);
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
function readFailureDetection(msgs: Messages, ref: DocRef, spec: Obj): BfdSettings | undefined {
  const mode = spec['failureDetectionMode'];
  const block = spec['bfd'];
  const on = mode === 'BFDIfDirectlyConnected';
  if (mode !== undefined && mode !== null && (typeof mode !== 'string' || !FAILURE_DETECTION_MODES.includes(mode))) {
    msgs.error(ref, 'spec.failureDetectionMode', render(mode), `expected one of ${FAILURE_DETECTION_MODES.join(', ')} (Calico's values, case-sensitive)`);
    return undefined;
  }
  if (block === undefined || block === null) return on ? { ...DEFAULT_BFD } : undefined;
  if (!isObject(block)) {
    msgs.error(ref, 'spec.bfd', render(block), `expected a mapping with ${BFD_FIELDS.join(', ')}`);
    return undefined;
  }
  for (const k of Object.keys(block))
    if (!BFD_FIELDS.includes(k)) msgs.warn(ref, `spec.bfd.${k}`, undefined, `unknown field; ignored (supported: ${BFD_FIELDS.join(', ')})`);
  if (!on) msgs.warn(ref, 'spec.bfd', undefined, 'BFD timers without failureDetectionMode: BFDIfDirectlyConnected; BFD stays off');
  const before = msgs.errors.length;
  const out: BfdSettings = { ...DEFAULT_BFD };
  const rx = readBfdInterval(msgs, ref, block, 'minimumRecvInterval');
  const tx = readBfdInterval(msgs, ref, block, 'minimumSendInterval');
  if (rx !== undefined) out.minimumRecvIntervalMs = rx;
  if (tx !== undefined) out.minimumSendIntervalMs = tx;
  const m = block['multiplier'];
  if (m !== undefined && m !== null) {
    const { min, max } = BFD_MULTIPLIER_RANGE;
    if (!refuseYamlNumber(msgs, ref, 'spec.bfd.multiplier', m, `write the multiplier as a plain decimal integer ${min}..${max}`)) {
      if (typeof m === 'number' && Number.isInteger(m) && m >= min && m <= max) out.multiplier = m;
      else msgs.error(ref, 'spec.bfd.multiplier', render(m), `expected an integer ${min}..${max}: packets missed before the peer is declared down`);
    }
  }
  if (msgs.errors.length > before || !on) return undefined;
  return out;
}

/** One interval of the `bfd` block, in whole milliseconds; undefined when absent or refused. */
function readBfdInterval(msgs: Messages, ref: DocRef, block: Obj, k: 'minimumRecvInterval' | 'minimumSendInterval'): number | undefined {
  const v = block[k];
  if (v === undefined || v === null) return undefined;
  const secs = typeof v === 'string' && v.length <= 32 ? parseGoDuration(v) : undefined;
  const ms = secs === undefined ? undefined : secs * 1000;
  const { min, max } = BFD_INTERVAL_RANGE_MS;
  // Whole milliseconds, as Calico's BFDConfiguration requires (1e-6: "0.3s" is 300.00000000000006 ms in floats).
  if (ms === undefined || Math.abs(ms - Math.round(ms)) > 1e-6 || ms < min || ms > max) {
    msgs.error(ref, `spec.bfd.${k}`, render(v), `expected a whole number of milliseconds ${min}ms..${max / 1000}s, e.g. "300ms"`);
    return undefined;
  }
  return Math.round(ms);
}

/** An optional integer field min..255 (a Calico uint8, or what gobgpd keeps in 8 bits); `expected` says what it is. */
function readByte(msgs: Messages, ref: DocRef, spec: Obj, field: string, min: number, expected: string): number | undefined {
  const v = spec[field];
  if (v === undefined || v === null) return undefined;
  const path = `spec.${field}`;
  if (refuseYamlNumber(msgs, ref, path, v, `write ${field} as a plain decimal integer`)) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= 255) return v;
  msgs.error(ref, path, render(v), `expected ${expected}`);
  return undefined;
}

/** spec.ttlSecurity, spec.numAllowedLocalASNumbers, spec.sourceAddress and spec.maxRestartTime. */
function readSessionOptions(msgs: Messages, ref: DocRef, spec: Obj, peer: PeerDraft): void {
  // Calico writes ttlSecurity into BIRD as "ttl security on; multihop N" (confd bgp_processor.go); BIRD then sends with
  // TTL 255 and accepts TTL >= 256 - N (proto/bgp/bgp.c sk_set_min_ttl): peers.ts gives gobgpd that minimum.
  const ttl = readByte(msgs, ref, spec, 'ttlSecurity', 0, 'the number of hops to the peer, 1..255 (1: directly connected; 0: off)');
  if (ttl !== undefined && ttl > 0) peer.ttlSecurityHops = ttl;
  const ownAs = readByte(
    msgs,
    ref,
    spec,
    'numAllowedLocalASNumbers',
    0,
    "how many times a received route's AS path may hold the local AS, 1..255 (0: none; gobgpd counts in 8 bits)",
  );
  if (ownAs !== undefined && ownAs > 0) peer.allowedLocalAsNumbers = ownAs;
  const source = spec['sourceAddress'];
  if (source === 'UseNodeIP') peer.sourceAddressNodeIP = true;
  else if (source !== undefined && source !== null && source !== '' && source !== 'None') {
    msgs.error(ref, 'spec.sourceAddress', render(source), "expected UseNodeIP or None (Calico's values, case-sensitive)");
  }
  if (spec['maxRestartTime'] !== undefined && spec['maxRestartTime'] !== null) {
    // The graceful-restart capability carries the restart time in 12 bits (RFC 4724): at most 4095 s.
    const r = readDuration(msgs, ref, 'spec.maxRestartTime', spec['maxRestartTime'], 1, 4095);
    if (r !== undefined) peer.maxRestartTime = r;
  }
}

function peerIdentity(ref: DocRef, spec: Obj, address: string, port: number | undefined): PeerIdentity {
  const node = spec['node'];
  const sel = spec['nodeSelector'];
  const id: PeerIdentity = { ref, address };
  if (port !== undefined) id.port = port;
  if (typeof node === 'string' && node !== '') id.node = node;
  else if (typeof sel === 'string' && sel !== '') id.nodeSelector = sel;
  return id;
}
