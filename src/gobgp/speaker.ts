import { status } from '@grpc/grpc-js';
import type { Logger } from '../log/logger.js';
import type { Route } from '../model/route.js';
import type { SpeakerConfig } from '../model/peer.js';
import { isOwned, markOwned, unmarkOwned } from '../model/owner-marker.js';
import type { GlobalOutcome, PeerStatus, PeersResult, RunningGlobal, SpeakerPort, SpeakerProbe } from '../model/speaker.js';
import { errorText, asError } from '../text/error.js';
import { connectGobgp } from './client.js';
import { GobgpApiMismatchError, GobgpError } from './errors.js';
import { provisionGlobal, provisionPeers } from './provision.js';
import { removeStaleSocket } from './stale-socket.js';
import type { ApiChoice, GobgpClient, Neighbor, WatchHandle } from './types.js';

export interface GobgpSpeakerOptions {
  log: Logger;
  /** Told the RPC of every failed call (svcbgp_gobgp_errors_total{rpc}). */
  onRpcError?: (rpc: string) => void;
}

/**
 * svcbgp's speaker: the agent's SpeakerPort (src/model/speaker.ts) over one gobgpd. It owns what is gobgpd's business
 * and not the agent's: the wire client and its API version, provisioning (global settings, then peers), the ownership
 * marker on every path it sends and off every path it lists, and the stale API socket a killed gobgpd leaves behind.
 */
export class GobgpSpeaker implements SpeakerPort {
  /** The AS gobgpd runs, as the last provisionGlobal found it: the ownership marker carries it. */
  private runningAs: number | undefined;

  /** A speaker over a new client for `address` (host:port on loopback, or unix:///path). */
  static connect(address: string, opts: GobgpSpeakerOptions & { deadlineMs: number; api?: ApiChoice }): GobgpSpeaker {
    return new GobgpSpeaker(connectGobgp(address, { deadlineMs: opts.deadlineMs, logger: opts.log, api: opts.api ?? 'auto' }), opts);
  }

  constructor(
    private readonly client: GobgpClient,
    private readonly opts: GobgpSpeakerOptions,
  ) {}

  async probe(): Promise<SpeakerProbe> {
    const p = await this.ask();
    // gobgpd does not answer: a socket file left by a killed gobgpd keeps a restarted one from binding (stale-socket.ts).
    if (p.state === 'unreachable') await removeStaleSocket(this.client.address, this.opts.log);
    return p;
  }

  apiVersion(): string | undefined {
    return this.client.apiVersion;
  }

  async provisionGlobal(speaker: SpeakerConfig, running: RunningGlobal | undefined): Promise<GlobalOutcome> {
    const outcome = await this.counted('StartBgp', () => provisionGlobal(this.client, speaker, running, this.opts.log));
    this.runningAs = outcome.result === 'conflict' ? outcome.running.asn : speaker.asn;
    return outcome;
  }

  async provisionPeers(speaker: SpeakerConfig, o: { localRestarting: boolean; keepAsIs?: readonly string[] }): Promise<PeersResult> {
    const res = await this.counted('AddPeer', () =>
      provisionPeers(this.client, speaker, {
        localRestarting: o.localRestarting,
        logger: this.opts.log,
        ...(o.keepAsIs ? { keepAsIs: o.keepAsIs } : {}),
        ...(this.runningAs !== undefined ? { runningAsn: this.runningAs } : {}),
      }),
    );
    return { added: res.added, updated: [...res.updated.map((u) => u.address), ...res.replaced.map((r) => r.address)], deleted: res.deleted };
  }

  async listOwnedPaths(): Promise<{ owned: Route[]; local: number }> {
    const owned: Route[] = [];
    let local = 0;
    for (const family of ['ipv4-unicast', 'ipv6-unicast'] as const) {
      for (const p of await this.counted('ListPath', () => this.client.listPaths(family))) {
        if (!p.local || p.withdrawn) continue;
        local++;
        if (isOwned(p.route)) owned.push(this.runningAs === undefined ? p.route : unmarkOwned(p.route, this.runningAs));
      }
    }
    return { owned, local };
  }

  addPaths(routes: Route[]): Promise<void> {
    return this.counted('AddPathStream', () => this.client.addPaths(routes.map((r) => this.marked(r))));
  }

  deletePaths(routes: Route[]): Promise<void> {
    return this.counted('AddPathStream', () => this.client.deletePaths(routes.map((r) => this.marked(r))));
  }

  wireRoute(route: Route): Route {
    return this.runningAs === undefined ? route : markOwned(route, this.runningAs);
  }

  private marked(route: Route): Route {
    if (this.runningAs === undefined) throw new Error('the ownership marker needs the AS gobgpd runs: provisionGlobal first');
    return markOwned(route, this.runningAs);
  }

  async listPeers(): Promise<PeerStatus[]> {
    return (await this.counted('ListPeer', () => this.client.listPeers())).map(peerStatus);
  }

  watchPeers(onPeer: (p: PeerStatus) => void, onEnd: (err?: Error) => void): () => void {
    let handle: WatchHandle;
    try {
      handle = this.client.watch({ peers: true, initial: true }, (ev) => {
        if (ev.kind === 'peer') onPeer(peerStatus(ev.peer));
      });
    } catch (err) {
      queueMicrotask(() => onEnd(asError(err)));
      return () => undefined;
    }
    let cancelled = false;
    handle.done.then(
      () => {
        if (!cancelled) onEnd();
      },
      (err: unknown) => {
        if (cancelled) return;
        if (!(err instanceof GobgpError && err.code === status.CANCELLED)) this.opts.onRpcError?.('WatchEvent');
        onEnd(asError(err));
      },
    );
    return () => {
      cancelled = true;
      handle.close();
    };
  }

  close(): void {
    this.client.close();
  }

  /** GetBgp, as a probe result: it never throws. */
  private async ask(): Promise<SpeakerProbe> {
    try {
      const g = await this.counted('GetBgp', () => this.client.getGlobal());
      if (!g) return { state: 'unprovisioned' };
      return { state: 'running', asn: g.asn, routerId: g.routerId, listenPort: g.listenPort };
    } catch (err) {
      if (err instanceof GobgpError && err.bgpNotStarted) return { state: 'unprovisioned' };
      if (err instanceof GobgpApiMismatchError) return { state: 'incompatible', error: err.message };
      if (err instanceof GobgpError && err.unimplemented) {
        // It answered, so it is not "unreachable"; but neither gobgpd API: something else listens there.
        return {
          state: 'incompatible',
          error: `${err.message}: the server at ${this.client.address} serves neither gobgpd API (v3 apipb.GobgpApi, v4 api.GoBgpService); is it gobgpd?`,
        };
      }
      return { state: 'unreachable', error: errorText(err) };
    }
  }

  /** Runs one call; a failure is counted under the RPC its GobgpError names (else `fallbackRpc`) and rethrown. */
  private async counted<T>(fallbackRpc: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.opts.onRpcError?.(err instanceof GobgpError ? err.rpc : fallbackRpc);
      throw err;
    }
  }
}

function peerStatus(n: Neighbor): PeerStatus {
  return { address: n.peer.address, state: n.sessionState, ours: n.ours };
}
