import type { Logger } from 'winston';
import { status } from '@grpc/grpc-js';
import { connectGobgp } from '../gobgp/client.js';
import { GobgpApiMismatchError, GobgpError } from '../gobgp/errors.js';
import type { ApiChoice, GobgpClient, PeerStatus as GobgpPeerStatus } from '../gobgp/types.js';
import type { Route } from '../model/route.js';
import type { SpeakerConfig } from '../model/peer.js';
import type { AgentMetrics } from '../http/metrics.js';
import type { PeerStatus, PeersResult, SpeakerPort, SpeakerProbe } from '../model/speaker.js';
import { provisionGlobalOnly, provisionPeersOnly } from './provision-adapter.js';

/**
 * SpeakerPort over the GoBGP client (src/gobgp). Every failed call increments
 * svcbgp_gobgp_errors_total{rpc} with the RPC name the client's GobgpError carries.
 */
export function gobgpSpeaker(
  address: string,
  opts: { deadlineMs: number; log: Logger; metrics?: AgentMetrics; api?: ApiChoice },
): SpeakerPort {
  const client = connectGobgp(address, { deadlineMs: opts.deadlineMs, logger: opts.log, api: opts.api ?? 'auto' });
  return speakerOverClient(client, opts);
}

export function speakerOverClient(client: GobgpClient, opts: { log: Logger; metrics?: AgentMetrics }): SpeakerPort {
  const counted = async <T>(fallbackRpc: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      opts.metrics?.gobgpErrors.inc({ rpc: err instanceof GobgpError ? err.rpc : fallbackRpc });
      throw err;
    }
  };
  const toPeerStatus = (p: GobgpPeerStatus): PeerStatus => ({ address: p.peer.address, state: p.sessionState, ours: p.ours });

  return {
    async probe(): Promise<SpeakerProbe> {
      try {
        const g = await counted('GetBgp', () => client.getGlobal());
        if (!g) return { state: 'unprovisioned' };
        return { state: 'running', asn: g.asn, routerId: g.routerId, listenPort: g.listenPort };
      } catch (err) {
        if (err instanceof GobgpError && err.bgpNotStarted) return { state: 'unprovisioned' };
        if (err instanceof GobgpApiMismatchError) return { state: 'incompatible', error: err.message };
        if (err instanceof GobgpError && err.unimplemented) {
          // It answered, so it is not "unreachable"; but neither gobgpd API: something else listens there.
          return {
            state: 'incompatible',
            error: `${err.message}: the server at ${client.address} serves neither gobgpd API (v3 apipb.GobgpApi, v4 api.GoBgpService); is it gobgpd?`,
          };
        }
        return { state: 'unreachable', error: err instanceof Error ? err.message : String(err) };
      }
    },
    apiVersion: () => client.apiVersion,
    provisionGlobal: (speaker: SpeakerConfig) => counted('StartBgp', () => provisionGlobalOnly(client, speaker, opts.log)),
    provisionPeers: (speaker, o): Promise<PeersResult> => counted('AddPeer', () => provisionPeersOnly(client, speaker, o, opts.log)),
    async listLocalPaths(): Promise<Route[]> {
      const out: Route[] = [];
      for (const family of ['ipv4-unicast', 'ipv6-unicast'] as const) {
        const paths = await counted('ListPath', () => client.listPaths(family));
        for (const p of paths) if (p.local && !p.withdrawn) out.push(p.route);
      }
      return out;
    },
    addPaths: (routes) => counted('AddPathStream', () => client.addPaths(routes)),
    deletePaths: (routes) => counted('AddPathStream', () => client.deletePaths(routes)),
    async listPeers(): Promise<PeerStatus[]> {
      return (await counted('ListPeer', () => client.listPeers())).map(toPeerStatus);
    },
    watchPeers(onPeer, onEnd) {
      let handle;
      try {
        handle = client.watch({ peers: true, initial: true }, (ev) => {
          if (ev.kind === 'peer') onPeer(toPeerStatus(ev.peer));
        });
      } catch (err) {
        queueMicrotask(() => onEnd(err instanceof Error ? err : new Error(String(err))));
        return () => undefined;
      }
      let cancelled = false;
      handle.done.then(
        () => {
          if (!cancelled) onEnd();
        },
        (err: unknown) => {
          if (cancelled) return;
          if (!(err instanceof GobgpError && err.code === status.CANCELLED)) opts.metrics?.gobgpErrors.inc({ rpc: 'WatchEvent' });
          onEnd(err instanceof Error ? err : new Error(String(err)));
        },
      );
      return () => {
        cancelled = true;
        handle.close();
      };
    },
    close: () => client.close(),
  };
}
