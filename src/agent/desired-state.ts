import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import type { SpeakerConfig, Peer } from '../model/peer.js';
import { speakerConfigForNode, type BgpConfig, type NodePeer } from '../config/index.js';
import { IncrementalRoutes, type ComputeStats, type Mismatch } from '../routes/incremental.js';
import type { DesiredRoute, DesiredRoutesResult, Refusal, Withheld } from '../routes/types.js';
import type { DesiredPath, DesiredState, RefusedAddress, RouteKind, WithheldAddress } from '../model/path.js';
import { serviceAttributeReasons } from '../routes/service-attributes.js';
import type { PasswordResolver } from './passwords.js';

/**
 * Adapter from the pure route model (src/routes) to the reconciler's DesiredState, incremental: only the Services
 * whose inputs changed are recomputed (src/routes/incremental.ts), and a route that did not change keeps its
 * DesiredPath object, so the reconciler's per-pass work on it is a map lookup.
 */
/** DesiredState generations: one counter for the process, so a delta can never be read against another source. */
let generations = 0;

export class DesiredComputer {
  private readonly routes = new IncrementalRoutes();
  private readonly paths = new WeakMap<DesiredRoute, DesiredPath>();
  private readonly withheld = new WeakMap<Withheld, WithheldAddress>();
  private readonly refused = new WeakMap<Refusal, RefusedAddress>();
  private lastGeneration: number | undefined;

  /** `verify`: also recompute everything and compare (the drift pass); a difference is returned and repaired. */
  compute(
    config: BgpConfig,
    node: V1Node,
    services: readonly V1Service[],
    slices: readonly V1EndpointSlice[],
    verify = false,
  ): { state: DesiredState; stats: ComputeStats; mismatch?: Mismatch } {
    const { result, stats, changes } = this.routes.compute(config, node, services, slices);
    const mismatch = verify ? this.routes.verify(config, node, services, slices) : undefined;
    const res = mismatch ? this.routes.compute(config, node, services, slices).result : result;
    const state = this.toState(res, services, ++generations);
    // The delta holds only when nothing was recomputed from scratch since the state it is relative to.
    if (changes && !mismatch && this.lastGeneration !== undefined) {
      const changed = new Map<string, DesiredPath | undefined>();
      for (const key of changes) {
        const r = this.routes.route(key);
        changed.set(key, r ? this.pathOf(r) : undefined);
      }
      state.delta = { since: this.lastGeneration, changed };
    }
    this.lastGeneration = state.generation;
    return { state, stats, ...(mismatch ? { mismatch } : {}) };
  }

  private pathOf(r: DesiredRoute): DesiredPath {
    let p = this.paths.get(r);
    if (!p) {
      p = toPath(r);
      this.paths.set(r, p);
    }
    return p;
  }

  /**
   * The state of one result. Its lists are made when first read: a pass after one Service change reads only the
   * delta, so it never walks every route (status and a full pass read them all).
   */
  private toState(res: DesiredRoutesResult, services: readonly V1Service[], generation: number): DesiredState {
    // Service uids only for refusals not seen before (the Event names its involvedObject by uid); usually none.
    let uids: Map<string, string | undefined> | undefined;
    const refused = res.refused.map((r: Refusal) => {
      let out = this.refused.get(r);
      if (!out) {
        uids ??= new Map(services.map((s) => [`${s.metadata?.namespace}/${s.metadata?.name}`, s.metadata?.uid]));
        const uid = uids.get(`${r.service.namespace}/${r.service.name}`);
        out = {
          namespace: r.service.namespace,
          service: r.service.name,
          ...(uid ? { uid } : {}),
          address: r.address,
          code: r.code,
          message: r.text,
          summary: r.summary,
        };
        this.refused.set(r, out);
      }
      return out;
    });
    let paths: DesiredPath[] | undefined;
    let withheld: WithheldAddress[] | undefined;
    const pathOf = (r: DesiredRoute): DesiredPath => this.pathOf(r);
    const withheldOf = (w: Withheld): WithheldAddress => this.withheldOf(w);
    return {
      get paths(): DesiredPath[] {
        return (paths ??= res.routes.map(pathOf));
      },
      refused,
      get withheld(): WithheldAddress[] {
        return (withheld ??= res.withheld.map(withheldOf));
      },
      generation,
    };
  }

  private withheldOf(w: Withheld): WithheldAddress {
    let out = this.withheld.get(w);
    if (!out) {
      out = { namespace: w.service.namespace, service: w.service.name, address: w.address, code: w.code, message: w.text };
      this.withheld.set(w, out);
    }
    return out;
  }
}

/** A one-shot computation (tests, tools): the same adapter without state kept between calls. */
export function computeDesired(config: BgpConfig, node: V1Node, services: readonly V1Service[], slices: readonly V1EndpointSlice[]): DesiredState {
  return new DesiredComputer().compute(config, node, services, slices).state;
}

/** The kinds of a path, one array per distinct list (a handful exist): not one array per path. */
const KINDS = new Map<string, RouteKind[]>();

/**
 * A route as the reconciler pushes it. Its arrays are the DesiredRoute's own (nothing downstream changes a route:
 * the codec reads it, the diff compares it), and the reasons are the route's unless Service attributes add some.
 */
function toPath(r: DesiredRoute): DesiredPath {
  const route = {
    prefix: r.prefix,
    family: r.family,
    nextHop: r.nextHop,
    communities: r.communities,
    largeCommunities: r.largeCommunities,
    ...(r.localPref !== undefined ? { localPref: r.localPref } : {}),
    ...(r.linkBandwidth !== undefined ? { linkBandwidth: { ...r.linkBandwidth } } : {}),
  };
  const list = [...new Set(r.reasons.map((why): RouteKind => (why.rule === 'aggregate' ? `${why.kind}-cidr` : why.kind)))];
  const key = list.join(',');
  let kinds = KINDS.get(key);
  if (!kinds) KINDS.set(key, (kinds = list));
  // Where the weight and the Service attributes come from follows the reasons (status and the advertise log show them).
  const extra = serviceAttributeReasons(r);
  return { route, kinds, reasons: extra.length === 0 ? r.reasons : [...r.reasons, ...extra] };
}

/** --router-id, else the node's first IPv4 InternalIP (then ExternalIP). BGP identifiers are IPv4. */
export function routerIdFor(node: V1Node, flag: string | undefined): { routerId: string } | { problem: string } {
  if (flag) return { routerId: flag };
  const addrs = node.status?.addresses ?? [];
  const v4 = (type: string): string | undefined =>
    addrs.find((a) => a.type === type && /^\d{1,3}(\.\d{1,3}){3}$/.test(a.address))?.address;
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
