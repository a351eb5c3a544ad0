import type { Logger } from 'winston';
import type { GobgpClient } from '../gobgp/types.js';
import type { SpeakerConfig } from '../model/peer.js';
import type { PeersResult } from './ports.js';

/**
 * The reconciler needs provisioning in two halves (global config first, peers last, paths in between —
 * the restore order after a gobgpd restart). This adapter splits src/gobgp's provisioning accordingly.
 */
export async function provisionGlobalOnly(client: GobgpClient, speaker: SpeakerConfig, _log: Logger): Promise<void> {
  const have = await client.getGlobal();
  const want = { asn: speaker.asn, routerId: speaker.routerId, listenPort: speaker.listenPort };
  if (!have) {
    await client.startBgp(speaker.listenAddresses ? { ...want, listenAddresses: speaker.listenAddresses } : want);
    return;
  }
  const diffs: string[] = [];
  if (have.asn !== want.asn) diffs.push(`AS ${have.asn} (we want ${want.asn})`);
  if (have.routerId !== want.routerId) diffs.push(`router-id ${have.routerId} (we want ${want.routerId})`);
  if (have.listenPort !== want.listenPort) diffs.push(`listen port ${have.listenPort} (we want ${want.listenPort})`);
  if (diffs.length > 0) {
    throw new Error(
      `gobgpd already runs BGP with ${diffs.join(', ')}; svcbgp does not change a running speaker's global config ` +
        '(that would reset every session): fix the configuration or restart gobgpd',
    );
  }
}

export async function provisionPeersOnly(
  _client: GobgpClient,
  _speaker: SpeakerConfig,
  _opts: { localRestarting: boolean; keepAsIs?: readonly string[] },
  _log: Logger,
): Promise<PeersResult> {
  throw new Error('provisionPeersOnly: waiting for src/gobgp/provision.ts');
}
