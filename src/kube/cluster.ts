import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { departureFingerprint } from '../config/departure.js';
import { projectEndpointSlice, projectService } from './project.js';
import { serviceKey, sliceServiceKey, type ServiceChanges } from '../model/service-key.js';
import type { Logger } from 'winston';
import type { KubeClient } from './client.js';
import { WatchedCache } from './watched-cache.js';
import type { KubeObject } from './listwatch.js';
import type { ConfigResource } from '../config/source.js';

/** Our own configuration kinds (CRDs shipped in deploy/): cluster-scoped, spec fields identical to Calico's. */
export const SVCBGP_GROUP = 'svcbgp.io';
export const SVCBGP_API_VERSION = 'v1alpha1';

/** A custom resource as the API returns it (apiVersion, kind, metadata, spec). */
export type CustomResource = KubeObject & ConfigResource;

export interface ClusterView {
  synced: boolean;
  connected: boolean;
  /** Which caches are not synced or failing, for logs and /readyz. */
  notReady: string[];
  services: readonly V1Service[];
  endpointSlices: readonly V1EndpointSlice[];
  node: V1Node | undefined;
  bgpPeers: readonly CustomResource[];
  bgpConfigurations: readonly CustomResource[];
}

export interface ClusterWatchOptions {
  client: KubeClient;
  nodeName: string;
  log: Logger;
  onChange: (what: string) => void;
  onWatchError?: (resource: string) => void;
  /** Watch svcbgp.io BGPPeer/BGPConfiguration (default true). */
  watchCustomResources?: boolean;
}

/**
 * The agent's view of the cluster: informers for Services, discovery.k8s.io/v1 EndpointSlices, this node's Node
 * (fieldSelector metadata.name=<node>) and, when the CRDs exist, our BGPPeer and BGPConfiguration resources.
 */
export class ClusterWatch {
  private readonly caches: WatchedCache<KubeObject>[] = [];
  private readonly services: WatchedCache<V1Service>;
  private readonly slices: WatchedCache<V1EndpointSlice>;
  private readonly nodes: WatchedCache<V1Node>;
  private readonly peers: WatchedCache<CustomResource> | undefined;
  private readonly configs: WatchedCache<CustomResource> | undefined;
  private nodeChanged: () => boolean = () => true;

  constructor(private readonly opts: ClusterWatchOptions) {
    const common = { client: opts.client, log: opts.log };
    const mk = <T extends KubeObject>(
      name: string,
      path: string,
      extra: { fieldSelector?: string; optional?: boolean; project?: (obj: unknown) => T; keyOf?: (obj: T) => string | undefined } = {},
    ): WatchedCache<T> => {
      const c = new WatchedCache<T>({
        ...common,
        ...extra,
        name,
        path,
        onChange: () => {
          if (name === 'node' && !this.nodeChanged()) return;
          opts.onChange(name);
        },
        onError: () => opts.onWatchError?.(name),
      });
      this.caches.push(c as unknown as WatchedCache<KubeObject>);
      return c;
    };
    this.services = mk<V1Service>('services', '/api/v1/services', { project: projectService, keyOf: ownKey });
    this.slices = mk<V1EndpointSlice>('endpointslices', '/apis/discovery.k8s.io/v1/endpointslices', { project: projectEndpointSlice, keyOf: sliceServiceKey });
    const fieldSelector = `metadata.name=${opts.nodeName}`;
    this.nodes = mk<V1Node>('node', '/api/v1/nodes', { fieldSelector });
    // A kubelet rewrites its Node's status every few seconds (conditions, heartbeats); only the name, labels,
    // addresses (routes, router-id) and what tells that the node is leaving (src/config/departure.ts) matter, so
    // other Node updates do not cause a pass.
    let nodeFingerprint = '';
    this.nodeChanged = (): boolean => {
      const n = this.nodes.list().find((x) => x.metadata?.name === opts.nodeName);
      const fp = JSON.stringify([n?.metadata?.name, n?.metadata?.labels ?? {}, n?.status?.addresses ?? [], departureFingerprint(n), this.nodes.state]);
      if (fp === nodeFingerprint) return false;
      nodeFingerprint = fp;
      return true;
    };
    if (opts.watchCustomResources !== false) {
      const base = `/apis/${SVCBGP_GROUP}/${SVCBGP_API_VERSION}`;
      this.peers = mk<CustomResource>('bgppeers', `${base}/bgppeers`, { optional: true });
      this.configs = mk<CustomResource>('bgpconfigurations', `${base}/bgpconfigurations`, { optional: true });
    }
  }

  async start(): Promise<void> {
    // Start all in parallel; each retries on its own.
    await Promise.all(this.caches.map((c) => c.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.caches.map((c) => c.stop()));
  }

  cacheStates(): Record<string, string> {
    const all: [string, { readonly state: string } | undefined][] = [
      ['services', this.services],
      ['endpointslices', this.slices],
      ['node', this.nodes],
      ['bgppeers', this.peers],
      ['bgpconfigurations', this.configs],
    ];
    const out: Record<string, string> = {};
    for (const [name, c] of all) if (c) out[name] = c.state;
    return out;
  }

  /**
   * The Services whose Service or EndpointSlices changed since the last call, by key, and where to find their objects
   * now: what the route model recomputes, instead of looking at every Service. One reader only (the agent's inputs):
   * a call hands the keys over.
   */
  takeServiceChanges(): ServiceChanges {
    const keys = this.services.takeChanged();
    for (const k of this.slices.takeChanged()) keys.add(k);
    return { keys, service: (k) => this.services.byKey(k)[0], slices: (k) => this.slices.byKey(k) };
  }

  /** The Service cache's objects (projected), without building a whole view. */
  serviceObjects(): readonly V1Service[] {
    return this.services.list();
  }

  /** The svcbgp.io configuration resources, without building a whole view. */
  configResources(): { bgpPeers: readonly CustomResource[]; bgpConfigurations: readonly CustomResource[] } {
    return { bgpPeers: this.peers?.list() ?? [], bgpConfigurations: this.configs?.list() ?? [] };
  }

  view(): ClusterView {
    const { services, slices } = this;
    const notReady = Object.entries(this.cacheStates())
      .filter(([, s]) => s !== 'synced' && s !== 'absent')
      .map(([n, s]) => `${n}:${s}`);
    return {
      synced: this.caches.every((c) => c.synced),
      connected: this.caches.every((c) => c.connected),
      notReady,
      // Read when asked for: a list of every Service is built again after each change, and most passes never need one.
      get services() {
        return services.list();
      },
      get endpointSlices() {
        return slices.list();
      },
      node: this.nodes.list().find((n) => n.metadata?.name === this.opts.nodeName),
      bgpPeers: this.peers?.list() ?? [],
      bgpConfigurations: this.configs?.list() ?? [],
    };
  }
}

/** A Service's own key ("namespace/name"), as the route model keys its contribution. */
function ownKey(svc: V1Service): string | undefined {
  const name = svc.metadata?.name;
  return name ? serviceKey(svc.metadata?.namespace || 'default', name) : undefined;
}
