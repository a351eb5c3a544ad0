/**
 * Speaker provisioning: make gobgpd's global settings and peers match a SpeakerConfig, idempotently. Only what is
 * ours changes: a running speaker with other global settings is a conflict returned as a value, never StopBgp /
 * StartBgp, and a peer without our marker is never touched. Passwords never reach the logs or the result
 * (docs/design.md § Provisioning).
 */
import type { Peer, SpeakerConfig } from '../model/peer.js';
import type { GlobalOutcome } from '../model/speaker.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { compareGlobal, desiredGlobal, planPeers, type GlobalDifference } from './provision-plan.js';
import type { GlobalConfig, GobgpClient, Neighbor } from './types.js';

export interface ProvisionOptions {
  /**
   * Add new peers with graceful restart local_restarting set (the Restart State bit): use right after
   * gobgpd itself restarted and before our paths are re-added, so the router keeps forwarding on the
   * stale routes until our End-of-RIB. Peers that already exist are not reset for this. gobgpd then holds our
   * UPDATEs until every peer's End-of-RIB or the peer's deferral time (peer-defaults.ts DEFAULT_DEFERRAL_TIME).
   */
  localRestarting?: boolean;
  logger?: Logger;
  /** The global AS gobgpd runs, if the caller knows it (otherwise provisionPeers asks gobgpd: GetBgp). */
  runningAsn?: number;
  /**
   * Addresses of our peers to leave exactly as gobgpd has them (their password Secret is unreadable right now):
   * their current gobgpd configuration is what is wanted, so provisioning neither deletes nor resets them.
   */
  keepAsIs?: readonly string[];
}

export interface ProvisionResult {
  added: string[];
  /** Peers changed with UpdatePeer; `resetsSession` = gobgpd re-establishes the session for it. */
  updated: { address: string; changes: string[]; resetsSession: boolean }[];
  /** Peers deleted and re-added (a change UpdatePeer would not apply). */
  replaced: { address: string; changes: string[] }[];
  deleted: string[];
  unchanged: string[];
  /** Peers svcbgp did not configure; left alone. */
  foreign: string[];
  /** Peers we want whose address a foreign peer already has; left alone. */
  conflicts: string[];
  /** True when any RPC that changes gobgpd's state was sent. */
  changed: boolean;
}

/**
 * Global settings only. `running`: what gobgpd answered to this pass's GetBgp (undefined: BGP not started), so that
 * a pass asks once. StartBgp when BGP is not running ('started': gobgpd was fresh or restarted, so paths go back
 * first, then the peers with localRestarting); a running gobgpd with other settings is a 'conflict', left alone.
 */
export async function provisionGlobal(client: GobgpClient, config: SpeakerConfig, running: GlobalConfig | undefined, log: Logger): Promise<GlobalOutcome> {
  const want = desiredGlobal(config);
  if (!running) {
    log.info('starting BGP on gobgpd', { asn: want.asn, routerId: want.routerId, listenPort: want.listenPort });
    await client.startBgp(want);
    return { result: 'started' };
  }
  const differences = compareGlobal(running, want);
  if (differences.length === 0) return { result: 'matches' };
  return {
    result: 'conflict',
    running: { asn: running.asn, routerId: running.routerId, listenPort: running.listenPort },
    differences,
    message: globalConflictMessage(client.address, differences),
  };
}

/** What an operator reads about a global-settings conflict: both sides, and the two ways out. */
export function globalConflictMessage(address: string, differences: readonly GlobalDifference[]): string {
  return (
    `gobgpd at ${address} already runs BGP with ${differences.map((d) => `${d.field} ${d.have}`).join(', ')}, ` +
    `but svcbgp is configured for ${differences.map((d) => `${d.field} ${d.want}`).join(', ')}. ` +
    'svcbgp does not change the global settings of a running gobgpd (that would drop all its sessions): ' +
    "remove the global section from gobgpd's config file (start it without -f) or make svcbgp's configuration match."
  );
}

/** Peers only (BGP must be running). */
export async function provisionPeers(client: GobgpClient, config: SpeakerConfig, options: ProvisionOptions = {}): Promise<ProvisionResult> {
  const log = options.logger ?? silentLogger();
  const result: ProvisionResult = {
    added: [],
    updated: [],
    replaced: [],
    deleted: [],
    unchanged: [],
    foreign: [],
    conflicts: [],
    changed: false,
  };
  // The AS gobgpd runs (a peer without localAsn uses it): given by the caller, else asked for.
  const runningAsn = options.runningAsn ?? (await client.getGlobal())?.asn;
  const actual = await client.listPeers();
  const plan = planPeers(wantedPeers(config.peers, actual, options.keepAsIs), actual, runningAsn);
  result.unchanged = plan.unchanged;
  result.foreign = plan.foreign;
  result.conflicts = plan.conflicts;
  for (const address of plan.conflicts) {
    log.warn('peer exists in gobgpd but was not configured by svcbgp; leaving it alone', { event: 'peer-conflict', address });
  }
  const localRestarting = options.localRestarting ?? false;
  for (const action of plan.actions) {
    switch (action.kind) {
      case 'add':
        warnIfNoBfd(client, action.peer, log);
        log.info('adding peer', { event: 'peer-add', address: action.peer.address, asn: action.peer.asn, localRestarting });
        await client.addPeer(action.peer, { localRestarting });
        result.added.push(action.peer.address);
        break;
      case 'update':
        // gobgpd 3.10 re-establishes the session on UpdatePeer (see provision-plan.ts).
        log.info('updating peer', { event: 'peer-update', address: action.peer.address, changes: action.changes, resetsSession: action.resetsSession });
        await client.updatePeer(action.peer);
        result.updated.push({ address: action.peer.address, changes: action.changes, resetsSession: action.resetsSession });
        break;
      case 'replace':
        log.info('replacing peer', { event: 'peer-replace', address: action.peer.address, changes: action.changes });
        await client.deletePeer(action.peer.address);
        await client.addPeer(action.peer, { localRestarting });
        result.replaced.push({ address: action.peer.address, changes: action.changes });
        break;
      case 'delete':
        log.info('deleting peer', { event: 'peer-delete', address: action.address });
        await client.deletePeer(action.address);
        result.deleted.push(action.address);
        break;
    }
    result.changed = true;
  }
  return result;
}

/** The peers to converge to: the configured ones, except that a peer kept as is is wanted exactly as gobgpd has it. */
function wantedPeers(configured: readonly Peer[], actual: readonly Neighbor[], keepAsIs: readonly string[] = []): readonly Peer[] {
  if (keepAsIs.length === 0) return configured;
  const keep = new Set(keepAsIs);
  const current = actual.filter((n) => n.ours && keep.has(n.peer.address)).map((n) => n.peer);
  return [...configured.filter((p) => !keep.has(p.address)), ...current];
}

/**
 * BFD needs gobgpd >= 4.6 (the v4 API's Peer.bfd); the v3 API has no such field. The peer is still added, without
 * BFD: a session bounded by the hold time beats no session at all. Said once per AddPeer, as a warning.
 */
function warnIfNoBfd(client: GobgpClient, peer: Peer, log: Logger): void {
  if (!peer.bfd || client.apiVersion !== 'v3') return;
  log.warn(
    'BFD requested for this peer (failureDetectionMode: BFDIfDirectlyConnected), but gobgpd speaks the v3 API, ' +
      'which has no BFD (gobgpd has it from 4.6): the peer is configured without BFD; the hold time bounds failure detection',
    {
      event: 'bfd-unsupported',
      address: peer.address,
      holdTime: peer.holdTime,
    },
  );
}
