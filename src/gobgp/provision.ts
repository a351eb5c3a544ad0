/**
 * Speaker provisioning: make gobgpd's global settings and peers match a SpeakerConfig, idempotently.
 *
 *  - BGP not started (fresh or restarted gobgpd): StartBgp with our AS / router-id / port.
 *  - BGP started with other global settings (gobgpd's own config file): fail with ProvisionConflictError
 *    that says what gobgpd has and what we want. We never StopBgp/StartBgp a running speaker: that would
 *    drop every session and route of whoever configured it.
 *  - Peers: add missing ones, update changed ones (see provision-plan.ts for when gobgpd resets the
 *    session), delete ours that are no longer configured. A peer without our marker (an operator's
 *    `gobgp neighbor add`) is never touched, even if it has the address we want.
 *  - Same config again: ListPeer/GetBgp only, nothing that changes anything.
 * Passwords never reach the logs or the result.
 */
import type { Peer, SpeakerConfig } from '../model/peer.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { compareGlobal, desiredGlobal, planPeers, type GlobalDifference } from './provision-plan.js';
import type { GlobalConfig, GobgpClient } from './types.js';

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
}

export interface ProvisionResult {
  /** StartBgp was called (gobgpd had BGP not running). */
  bgpStarted: boolean;
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

export class ProvisionConflictError extends Error {
  override readonly name = 'ProvisionConflictError';
  constructor(readonly address: string, readonly have: GlobalConfig, readonly want: GlobalConfig, readonly differences: GlobalDifference[]) {
    super(`gobgpd at ${address} already runs BGP with ${differences.map((d) => `${d.field} ${d.have}`).join(', ')}, `
      + `but svcbgp is configured for ${differences.map((d) => `${d.field} ${d.want}`).join(', ')}. `
      + 'svcbgp does not change the global settings of a running gobgpd (that would drop all its sessions): '
      + 'remove the global section from gobgpd\'s config file (start it without -f) or make svcbgp\'s configuration match.');
  }
}

/**
 * Global settings only: StartBgp when BGP is not running; ProvisionConflictError when it runs with other
 * settings. Returns true when StartBgp was called (gobgpd was fresh or restarted: re-add paths, then peers
 * with localRestarting).
 */
export async function provisionGlobal(client: GobgpClient, config: SpeakerConfig, options: Pick<ProvisionOptions, 'logger'> = {}): Promise<boolean> {
  const log = options.logger ?? silentLogger();
  const want = desiredGlobal(config);
  const have = await client.getGlobal();
  if (!have) {
    log.info('starting BGP on gobgpd', { event: 'bgp-start', asn: want.asn, routerId: want.routerId, listenPort: want.listenPort });
    await client.startBgp(want);
    return true;
  }
  const differences = compareGlobal(have, want);
  if (differences.length > 0) throw new ProvisionConflictError(client.address, have, want, differences);
  return false;
}

/** Peers only (BGP must be running). `bgpStarted` in the result is always false. */
export async function provisionPeers(client: GobgpClient, config: SpeakerConfig, options: ProvisionOptions = {}): Promise<ProvisionResult> {
  const log = options.logger ?? silentLogger();
  const result: ProvisionResult = {
    bgpStarted: false, added: [], updated: [], replaced: [], deleted: [], unchanged: [], foreign: [], conflicts: [], changed: false,
  };
  // The AS gobgpd runs (a peer without localAsn uses it): given by the caller, else asked for.
  const runningAsn = options.runningAsn ?? (await client.getGlobal())?.asn;
  const plan = planPeers(config.peers, await client.listPeers(), runningAsn);
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

/**
 * BFD needs gobgpd >= 4.6 (the v4 API's Peer.bfd); the v3 API has no such field. The peer is still added, without
 * BFD: a session bounded by the hold time beats no session at all. Said once per AddPeer, as a warning.
 */
function warnIfNoBfd(client: GobgpClient, peer: Peer, log: Logger): void {
  if (!peer.bfd || client.apiVersion !== 'v3') return;
  log.warn('BFD requested for this peer (failureDetectionMode: BFDIfDirectlyConnected), but gobgpd speaks the v3 API, '
    + 'which has no BFD (gobgpd has it from 4.6): the peer is configured without BFD; the hold time bounds failure detection', {
    event: 'bfd-unsupported', address: peer.address, holdTime: peer.holdTime,
  });
}

/** Global settings, then peers. */
export async function provisionSpeaker(client: GobgpClient, config: SpeakerConfig, options: ProvisionOptions = {}): Promise<ProvisionResult> {
  const bgpStarted = await provisionGlobal(client, config, options.logger ? { logger: options.logger } : {});
  const result = await provisionPeers(client, config, options);
  return { ...result, bgpStarted, changed: result.changed || bgpStarted };
}
