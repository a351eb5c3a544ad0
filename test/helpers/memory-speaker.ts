/**
 * An in-memory gobgpd behind the reconciler's SpeakerPort (no gRPC, no timing): BGP started or not, local paths
 * (with the ownership marker, as gobgpd holds them), peers; every call recorded in `calls`. For the reconciler's
 * table-driven unit tests and the in-process pass benchmark (test/bench/pass.ts); the same promises are tested
 * against a real gobgpd in test/integration/agent/.
 */
import type { GlobalOutcome, PeerStatus, PeersResult, RunningGlobal, SpeakerPort, SpeakerProbe } from '../../src/model/speaker.js';
import type { SpeakerConfig } from '../../src/model/peer.js';
import type { Route } from '../../src/model/route.js';
import { isOwned, markOwned, unmarkOwned } from '../../src/model/owner-marker.js';
import { routeKey } from '../../src/routes/diff.js';

export class MemorySpeaker implements SpeakerPort {
  calls: string[] = [];
  started: { asn: number; routerId: string; listenPort: number } | undefined;
  /** What gobgpd holds: marked paths are svcbgp's, unmarked ones an operator's. */
  paths = new Map<string, Route>();
  peers = new Map<string, PeerStatus>();
  reachable = true;
  private runningAs: number | undefined;

  async probe(): Promise<SpeakerProbe> {
    if (!this.reachable) return { state: 'unreachable', error: 'connection refused' };
    return this.started ? { state: 'running', ...this.started } : { state: 'unprovisioned' };
  }
  async provisionGlobal(sc: SpeakerConfig, running: RunningGlobal | undefined): Promise<GlobalOutcome> {
    if (!running) {
      this.calls.push('StartBgp');
      this.started = { asn: sc.asn, routerId: sc.routerId, listenPort: sc.listenPort };
      this.runningAs = sc.asn;
      return { result: 'started' };
    }
    this.runningAs = running.asn;
    if (running.asn !== sc.asn) {
      return { result: 'conflict', running, differences: [{ field: 'asn', have: running.asn, want: sc.asn }], message: 'runs another AS' };
    }
    return { result: 'matches' };
  }
  async provisionPeers(sc: SpeakerConfig, opts: { localRestarting: boolean }): Promise<PeersResult> {
    const added: string[] = [];
    for (const p of sc.peers) {
      if (!this.peers.has(p.address)) {
        this.calls.push(`AddPeer ${p.address}${opts.localRestarting ? ' local_restarting' : ''}`);
        this.peers.set(p.address, { address: p.address, state: 'established', ours: true });
        added.push(p.address);
      }
    }
    return { added, updated: [], deleted: [] };
  }
  async listOwnedPaths(): Promise<{ owned: Route[]; local: number }> {
    this.calls.push('ListPath');
    const owned = [...this.paths.values()].filter(isOwned).map((r) => unmarkOwned(r, this.runningAs!));
    return { owned, local: this.paths.size };
  }
  async addPaths(routes: Route[]): Promise<void> {
    this.calls.push(`AddPath ${routes.map((r) => r.prefix).join(',')}`);
    for (const r of routes) this.paths.set(routeKey(r), this.wireRoute(r));
  }
  async deletePaths(routes: Route[]): Promise<void> {
    this.calls.push(`DeletePath ${routes.map((r) => r.prefix).join(',')}`);
    for (const r of routes) this.paths.delete(routeKey(r));
  }
  wireRoute(route: Route): Route {
    return this.runningAs === undefined ? route : markOwned(route, this.runningAs);
  }
  async listPeers(): Promise<PeerStatus[]> {
    return [...this.peers.values()];
  }
  watchPeers(): () => void {
    return () => undefined;
  }
  close(): void {}
}
