import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import type { SpeakerConfig, Peer } from '../model/peer.js';
import { speakerConfigForNode, type BgpConfig, type NodePeer } from '../config/index.js';
import { desiredRoutes } from '../routes/desired.js';
import type { DesiredRoute, Refusal } from '../routes/types.js';
import type { DesiredPath, DesiredState, RouteKind } from './ports.js';
import { serviceAttributeLines } from '../routes/service-attributes.js';
import type { PasswordResolver } from './passwords.js';

/** Adapter from the pure route model (src/routes) to the reconciler's DesiredState. */
export function computeDesired(
  config: BgpConfig,
  node: V1Node,
  services: readonly V1Service[],
  slices: readonly V1EndpointSlice[],
): DesiredState {
  const res = desiredRoutes(config, node, services, slices);
  const uids = new Map(services.map((s) => [`${s.metadata?.namespace}/${s.metadata?.name}`, s.metadata?.uid]));
  return {
    paths: res.routes.map(toPath),
    refused: res.refused.map((r: Refusal) => {
      const uid = uids.get(`${r.service.namespace}/${r.service.name}`);
      return {
        namespace: r.service.namespace,
        service: r.service.name,
        ...(uid ? { uid } : {}),
        address: r.address,
        code: r.code,
        message: r.text,
        summary: r.summary,
      };
    }),
    withheld: res.withheld.map((w) => ({ namespace: w.service.namespace, service: w.service.name, address: w.address, code: w.code, message: w.text })),
  };
}

function toPath(r: DesiredRoute): DesiredPath {
  const route = {
    prefix: r.prefix,
    family: r.family,
    nextHop: r.nextHop,
    communities: [...r.communities],
    largeCommunities: [...r.largeCommunities],
    ...(r.localPref !== undefined ? { localPref: r.localPref } : {}),
    ...(r.linkBandwidth !== undefined ? { linkBandwidth: { ...r.linkBandwidth } } : {}),
  };
  const kinds: RouteKind[] = r.reasons.map((why) => (why.rule === 'aggregate' ? (`${why.kind}-cidr` as RouteKind) : why.kind));
  // Where the weight and the Service attributes come from follows the reasons (status and the advertise log show them).
  return { route, kinds: [...new Set(kinds)], reasons: [...r.reasons.map((why) => why.text), ...serviceAttributeLines(r)] };
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
