/**
 * Pure planning for speaker provisioning: given what we want (SpeakerConfig) and what gobgpd reports, decide what to
 * do; src/gobgp/provision.ts executes the plan. An unchanged config plans nothing, since gobgpd 3.10's UpdatePeer
 * resets the session in practice; a multihop or TTL-security change, which UpdatePeer ignores, is a "replace"
 * (DeletePeer + AddPeer). From gobgpd's pkg/server/server.go updateNeighbor (docs/design.md § GoBGP facts).
 */
import ipaddr from 'ipaddr.js';
import { bfdText, type Peer, type SpeakerConfig } from '../model/peer.js';
import { normalizePeer, type NormalizedPeer } from './peer-defaults.js';
import type { GlobalConfig, Neighbor } from './types.js';

export interface GlobalDifference {
  field: 'asn' | 'routerId' | 'listenPort' | 'listenAddresses';
  have: string;
  want: string;
}

/** What svcbgp wants as gobgpd's global settings. */
export function desiredGlobal(config: SpeakerConfig): GlobalConfig {
  const g: GlobalConfig = { asn: config.asn, routerId: config.routerId, listenPort: config.listenPort };
  if (config.listenAddresses && config.listenAddresses.length > 0) g.listenAddresses = [...config.listenAddresses];
  return g;
}

/** Differences between a running gobgpd's global settings and ours; empty = compatible. */
export function compareGlobal(have: GlobalConfig, want: GlobalConfig): GlobalDifference[] {
  const out: GlobalDifference[] = [];
  if (have.asn !== want.asn) out.push({ field: 'asn', have: String(have.asn), want: String(want.asn) });
  if (have.routerId !== want.routerId) out.push({ field: 'routerId', have: have.routerId, want: want.routerId });
  if (have.listenPort !== want.listenPort) {
    out.push({ field: 'listenPort', have: String(have.listenPort), want: String(want.listenPort) });
  }
  // Only compared when we ask for specific addresses: gobgpd reports its defaults (0.0.0.0, ::) otherwise.
  if (want.listenAddresses && want.listenAddresses.length > 0) {
    const h = [...(have.listenAddresses ?? [])].sort().join(',');
    const w = [...want.listenAddresses].sort().join(',');
    if (h !== w) out.push({ field: 'listenAddresses', have: h || '(all)', want: w });
  }
  return out;
}

export type PeerAction =
  | { kind: 'add'; peer: Peer }
  | { kind: 'update'; peer: Peer; changes: string[]; resetsSession: boolean }
  | { kind: 'replace'; peer: Peer; changes: string[] }
  | { kind: 'delete'; address: string };

export interface PeerPlan {
  actions: PeerAction[];
  unchanged: string[];
  /** Peers gobgpd has that svcbgp did not configure: left alone. */
  foreign: string[];
  /** Peers we want whose address is taken by a foreign peer: left alone, reported. */
  conflicts: string[];
}

/** Addresses compared in canonical form ("fd00::1" vs "FD00:0::1"). */
function canonical(address: string): string {
  return ipaddr.isValid(address) ? ipaddr.parse(address).toString() : address.toLowerCase();
}
function sameAddress(a: string, b: string): boolean {
  return canonical(a) === canonical(b);
}

/**
 * The differences between desired and actual peer config, as human-readable items. Passwords are
 * compared but never printed.
 */
export function peerChanges(want: NormalizedPeer, have: Neighbor, runningAsn?: number): { changes: string[]; resetsSession: boolean; replace: boolean } {
  const h = normalizePeer(have.peer);
  const changes: string[] = [];
  let replace = false;
  const note = (what: string, from: unknown, to: unknown) => {
    changes.push(`${what} ${String(from)} -> ${String(to)}`);
  };
  if (h.asn !== want.asn) note('asn', h.asn, want.asn);
  // gobgpd reports a peer's local AS filled in with its global AS when none was set (default.go), so "none" and "the
  // global AS" are the same: compared against the AS gobgpd runs (when unknown, only a local AS we set is compared).
  const haveLocal = h.localAsn ?? runningAsn;
  const wantLocal = want.localAsn ?? runningAsn;
  if (wantLocal !== undefined && haveLocal !== undefined && haveLocal !== wantLocal) note('localAsn', haveLocal, wantLocal);
  if ((h.allowOwnAsn ?? 0) !== (want.allowOwnAsn ?? 0)) note('allowOwnAsn', h.allowOwnAsn ?? 0, want.allowOwnAsn ?? 0);
  if (h.port !== want.port) note('port', h.port, want.port);
  // Compared only when we set one: gobgpd reports the session's actual source address once connected.
  if (want.localAddress !== undefined && h.localAddress !== want.localAddress) {
    note('localAddress', h.localAddress ?? '(any)', want.localAddress);
  }
  if ((h.password ?? '') !== (want.password ?? '')) {
    changes.push(want.password ? (h.password ? 'password changed' : 'password set') : 'password removed');
  }
  if (h.gracefulRestart.enabled !== want.gracefulRestart.enabled) {
    note('gracefulRestart', h.gracefulRestart.enabled, want.gracefulRestart.enabled);
  } else if (want.gracefulRestart.enabled && h.gracefulRestart.restartTime !== want.gracefulRestart.restartTime) {
    note('restartTime', h.gracefulRestart.restartTime, want.gracefulRestart.restartTime);
  }
  // The deferral time is not compared, like local_restarting: it only acts when a session comes up with
  // local_restarting, i.e. right after AddPeer on a (re)started gobgpd, which sends the new value anyway. Comparing
  // it would reset every session of a gobgpd provisioned by an older svcbgp (360 s) just to change a value that
  // cannot matter before the next restart.
  if (want.gracefulRestart.enabled && !have.mpGracefulRestart) note('mpGracefulRestart', false, true);
  if (h.families.join(',') !== want.families.join(',')) note('families', h.families.join(','), want.families.join(','));
  if (h.holdTime !== want.holdTime) note('holdTime', h.holdTime, want.holdTime);
  if (h.keepaliveTime !== want.keepaliveTime) note('keepaliveTime', h.keepaliveTime, want.keepaliveTime);
  // Only where gobgpd has BFD (4.6+): 3.x and older 4.x cannot hold it, and would be "updated" on every pass.
  if (have.bfdSupported && bfdText(h.bfd) !== bfdText(want.bfd)) note('bfd', bfdText(h.bfd), bfdText(want.bfd));
  if ((h.ebgpMultihopTtl ?? 0) !== (want.ebgpMultihopTtl ?? 0)) {
    note('ebgpMultihopTtl', h.ebgpMultihopTtl ?? 'off', want.ebgpMultihopTtl ?? 'off');
    replace = true;
  }
  if ((h.ttlSecurityMinTtl ?? 0) !== (want.ttlSecurityMinTtl ?? 0)) {
    note('ttlSecurityMinTtl', h.ttlSecurityMinTtl ?? 'off', want.ttlSecurityMinTtl ?? 'off');
    replace = true;
  }
  if (!have.ours) changes.push('marker');
  // gobgpd 3.10 resets the session on every UpdatePeer (see the top of this file).
  return { changes, resetsSession: changes.length > 0, replace };
}

/** `runningAsn`: the global AS gobgpd runs, which a peer without a local AS of its own uses. */
export function planPeers(desired: readonly Peer[], actual: readonly Neighbor[], runningAsn?: number): PeerPlan {
  const plan: PeerPlan = { actions: [], unchanged: [], foreign: [], conflicts: [] };
  const seen = new Set<string>();
  for (const peer of desired) {
    const key = canonical(peer.address);
    if (seen.has(key)) throw new Error(`peer ${peer.address} is configured twice`);
    seen.add(key);
    const have = actual.find((a) => sameAddress(a.peer.address, peer.address));
    if (!have) {
      plan.actions.push({ kind: 'add', peer });
      continue;
    }
    if (!have.ours) {
      plan.conflicts.push(peer.address);
      continue;
    }
    const { changes, resetsSession, replace } = peerChanges(normalizePeer(peer), have, runningAsn);
    if (changes.length === 0) plan.unchanged.push(peer.address);
    else if (replace) plan.actions.push({ kind: 'replace', peer, changes });
    else plan.actions.push({ kind: 'update', peer, changes, resetsSession });
  }
  for (const have of actual) {
    if (seen.has(canonical(have.peer.address))) continue;
    if (have.ours) plan.actions.push({ kind: 'delete', address: have.peer.address });
    else plan.foreign.push(have.peer.address);
  }
  return plan;
}
