import type { Logger } from 'winston';
import type { GobgpClient } from '../gobgp/types.js';
import { provisionPeers, ProvisionConflictError } from '../gobgp/provision.js';
import { compareGlobal, desiredGlobal } from '../gobgp/provision-plan.js';
import type { Peer, SpeakerConfig } from '../model/peer.js';
import type { GlobalOutcome, PeersResult } from '../model/speaker.js';

/**
 * The reconciler needs provisioning in two halves — global config first, peers last, paths in between (the
 * restore order after a gobgpd restart) — while src/gobgp's provisionSpeaker does both in one call. This
 * adapter splits it, reusing src/gobgp's plan functions, and adds `keepAsIs` (peers whose password Secret is
 * unreadable right now: their current gobgpd config is kept, so provisioning neither deletes nor resets them).
 */
export async function provisionGlobalOnly(client: GobgpClient, speaker: SpeakerConfig, log: Logger): Promise<GlobalOutcome> {
  const want = desiredGlobal(speaker);
  const have = await client.getGlobal();
  if (!have) {
    log.info('starting BGP on gobgpd', { asn: want.asn, routerId: want.routerId, listenPort: want.listenPort });
    await client.startBgp(want);
    return { result: 'started' };
  }
  const differences = compareGlobal(have, want);
  if (differences.length === 0) return { result: 'matches' };
  // src/gobgp's error carries the operator-facing text; here it is a value the reconciler reports and works around.
  const message = new ProvisionConflictError(client.address, have, want, differences).message;
  return { result: 'conflict', running: { asn: have.asn, routerId: have.routerId, listenPort: have.listenPort }, differences, message };
}

export async function provisionPeersOnly(
  client: GobgpClient,
  speaker: SpeakerConfig,
  opts: { localRestarting: boolean; keepAsIs?: readonly string[]; runningAsn?: number },
  log: Logger,
): Promise<PeersResult> {
  let peers: Peer[] = speaker.peers;
  if (opts.keepAsIs && opts.keepAsIs.length > 0) {
    const keep = new Set(opts.keepAsIs);
    const current = (await client.listPeers()).filter((p) => p.ours && keep.has(p.peer.address));
    peers = [...peers.filter((p) => !keep.has(p.address)), ...current.map((p) => p.peer)];
  }
  // Peers only (src/gobgp's provisionSpeaker would re-check the global settings and throw on a conflict, which
  // the reconciler reports on its own and must not let block the peers).
  const res = await provisionPeers(client, { ...speaker, peers }, {
    localRestarting: opts.localRestarting, logger: log, ...(opts.runningAsn !== undefined ? { runningAsn: opts.runningAsn } : {}),
  });
  return {
    added: res.added,
    updated: [...res.updated.map((u) => u.address), ...res.replaced.map((r) => r.address)],
    deleted: res.deleted,
  };
}
