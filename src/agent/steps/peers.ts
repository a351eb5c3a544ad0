import type { SpeakerConfig } from '../../model/peer.js';
import type { PeerStatus } from '../../model/speaker.js';
import type { ReconcilerDeps } from '../reconciler-types.js';

/**
 * Step "peers", last: when this process started BGP, every path is in the RIB before the peers are (re)added with
 * `local_restarting`, so a graceful-restart helper keeps forwarding until gobgpd's End-of-RIB
 * (docs/design.md § Graceful restart). With no known desired set yet the peers wait for the caches: a session with an
 * empty RIB would make the ToR flush the stale routes it still forwards on
 * (docs/design.md § No withdrawals from a stale view).
 */
export class Peers {
  private restoring = false;
  private provisioned = false;
  readonly states = new Map<string, PeerStatus>();

  constructor(private readonly deps: Pick<ReconcilerDeps, 'speaker' | 'log' | 'metrics'>) {}

  get isProvisioned(): boolean {
    return this.provisioned;
  }

  /** This process started BGP: the next peers are added with local_restarting. */
  expectRestore(): void {
    this.provisioned = false;
    this.restoring = true;
  }

  /** gobgpd's peers are unknown or gone. */
  unprovisioned(): void {
    this.provisioned = false;
  }

  async converge(config: SpeakerConfig & { keepAsIs?: readonly string[] }, haveDesired: boolean): Promise<void> {
    const { speaker, log, metrics } = this.deps;
    if (!haveDesired && this.restoring) {
      log.info('gobgpd restored without routes yet: peers wait until the cluster caches are synced', {});
      return;
    }
    const res = await speaker.provisionPeers(config, { localRestarting: this.restoring, keepAsIs: config.keepAsIs ?? [] });
    if (res.added.length || res.updated.length || res.deleted.length) {
      log.info('peers provisioned', { ...res, localRestarting: this.restoring });
    }
    this.restoring = false;
    this.provisioned = true;
    const peers = await speaker.listPeers();
    for (const p of peers) this.note(p);
    for (const a of [...this.states.keys()]) if (!peers.some((p) => p.address === a)) this.states.delete(a);
    metrics?.retainPeers(new Set(peers.map((p) => p.address)));
  }

  /**
   * A peer's state, from ListPeer (source 'list') or from gobgpd's WatchEvent stream ('watch'). gobgpd 3.10's
   * peer events carry only AS, address, state and transport (pkg/server/server.go builds their PeerConf without a
   * description), so they cannot tell our peers (marked by description) from an operator's: for a peer already
   * known, ownership stays what ListPeer said.
   */
  note(p: PeerStatus, source: 'list' | 'watch' = 'list'): void {
    const known = this.states.get(p.address);
    const status = source === 'watch' && known ? { ...p, ours: known.ours } : p;
    this.states.set(status.address, status);
    this.deps.metrics?.setPeerState(status.address, status.state, status.ours);
  }
}
