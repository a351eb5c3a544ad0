import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import type { SpeakerConfig, Peer } from '../model/peer.js';
import { speakerConfigForNode, type BgpConfig, type NodePeer } from '../config/index.js';
import { IncrementalRoutes, type CheckStep, type ComputeStats } from '../routes/incremental.js';
import type { DesiredPath, DesiredState } from '../model/path.js';
import type { ServiceChanges } from '../model/service-key.js';
import type { PasswordResolver } from './passwords.js';

/**
 * The reconciler's DesiredState from the route model (src/routes), computed incrementally: only the Services whose
 * inputs changed are recomputed (src/routes/incremental.ts), and a route that did not change keeps its DesiredPath
 * object, so the reconciler's per-pass work on it is a map lookup. The route model's paths, refusals and withheld
 * addresses are the state's own: nothing is converted here. The drift pass's comparison with a full recomputation
 * runs beside the passes, in slices (startCheck, checkStep).
 */
/** DesiredState generations: one counter for the process, so a delta can never be read against another source. */
let generations = 0;

/** The lists of the view, read only when a computation needs them (most passes follow the changed keys). */
export interface ViewLists {
  readonly services: readonly V1Service[];
  readonly endpointSlices: readonly V1EndpointSlice[];
}

export class DesiredComputer {
  private readonly routes = new IncrementalRoutes();
  private lastGeneration: number | undefined;

  /**
   * `changed`: the Services whose inputs changed since the last call, from the watch; absent: unknown, every Service
   * of the view is looked at.
   */
  compute(config: BgpConfig, node: V1Node, view: ViewLists, changed?: ServiceChanges): { state: DesiredState; stats: ComputeStats } {
    const keyed = changed && this.routes.computeKeyed(config, node, changed);
    const { result: res, stats, changes } = keyed ?? this.routes.compute(config, node, view.services, view.endpointSlices, changed);
    // The paths are read from the result only when the reconciler asks for them (a pass with no delta to follow).
    const state: DesiredState = {
      get paths() {
        return res.routes;
      },
      refused: res.refused,
      get withheld() {
        return res.withheld;
      },
      generation: ++generations,
    };
    // The delta holds only when nothing was recomputed from scratch since the state it is relative to.
    if (changes && this.lastGeneration !== undefined) {
      const delta = new Map<string, DesiredPath | undefined>();
      for (const key of changes) delta.set(key, this.routes.path(key));
      state.delta = { since: this.lastGeneration, changed: delta };
    }
    this.lastGeneration = state.generation;
    return { state, stats };
  }

  /** Starts the drift check against the view as it is now (src/routes/check.ts); false: nothing computed yet. */
  startCheck(view: ViewLists): boolean {
    return this.routes.startCheck(view.services, view.endpointSlices);
  }

  /** Advances the running drift check by about `budgetMs`; undefined: none is running. */
  checkStep(budgetMs: number): CheckStep | undefined {
    return this.routes.checkStep(budgetMs);
  }
}

/** A one-shot computation (tests, tools): the same adapter without state kept between calls. */
export function computeDesired(config: BgpConfig, node: V1Node, services: readonly V1Service[], slices: readonly V1EndpointSlice[]): DesiredState {
  return new DesiredComputer().compute(config, node, { services, endpointSlices: slices }).state;
}

/** --router-id, else the node's first IPv4 InternalIP (then ExternalIP). BGP identifiers are IPv4. */
export function routerIdFor(node: V1Node, flag: string | undefined): { routerId: string } | { problem: string } {
  if (flag) return { routerId: flag };
  const addrs = node.status?.addresses ?? [];
  const v4 = (type: string): string | undefined => addrs.find((a) => a.type === type && /^\d{1,3}(\.\d{1,3}){3}$/.test(a.address))?.address;
  const id = v4('InternalIP') ?? v4('ExternalIP');
  if (id) return { routerId: id };
  return { problem: `Node ${node.metadata?.name} has no IPv4 InternalIP/ExternalIP to use as BGP router-id: pass --router-id` };
}

export interface NodeSpeakerConfig extends SpeakerConfig {
  /** Peers whose password could not be resolved: left exactly as gobgpd has them. */
  keepAsIs: string[];
}

/** The speaker config for this node, with BGP passwords read from Secrets. */
export async function speakerFor(config: BgpConfig, node: V1Node, routerId: string, passwords: PasswordResolver): Promise<NodeSpeakerConfig> {
  const sc = speakerConfigForNode(config, node, routerId);
  const peers: Peer[] = [];
  const keepAsIs: string[] = [];
  for (const p of sc.peers as NodePeer[]) {
    const { name: _name, passwordSecretRef, ...peer } = p;
    void _name;
    if (passwordSecretRef) {
      const pw = await passwords.resolve(passwordSecretRef, p.address);
      if (pw === undefined) {
        keepAsIs.push(p.address);
        continue;
      }
      peer.password = pw;
    }
    peers.push(peer);
  }
  return { ...sc, peers, keepAsIs };
}
