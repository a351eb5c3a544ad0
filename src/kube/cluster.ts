import {
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1EndpointSlice,
  type V1Node,
  type V1Service,
} from '@kubernetes/client-node';
import { departureFingerprint } from '../agent/departure.js';
import { projectEndpointSlice, projectService } from './project.js';
import type { Logger } from 'winston';
import { WatchedCache } from './informer.js';

/** Our own configuration kinds (CRDs shipped in deploy/): cluster-scoped, spec fields identical to Calico's. */
export const SVCBGP_GROUP = 'svcbgp.io';
export const SVCBGP_VERSION = 'v1alpha1';

/** A custom resource as the API returns it (apiVersion, kind, metadata, spec). */
export interface CustomResource extends KubernetesObject {
  spec?: Record<string, unknown>;
}

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
  kubeConfig: KubeConfig;
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
  private readonly caches: WatchedCache<KubernetesObject>[] = [];
  private readonly services: WatchedCache<V1Service>;
  private readonly slices: WatchedCache<V1EndpointSlice>;
  private readonly nodes: WatchedCache<V1Node>;
  private readonly peers: WatchedCache<CustomResource> | undefined;
  private readonly configs: WatchedCache<CustomResource> | undefined;
  private nodeChanged: () => boolean = () => true;

  constructor(private readonly opts: ClusterWatchOptions) {
    const kc = opts.kubeConfig;
    const core = kc.makeApiClient(CoreV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const common = { kubeConfig: kc, log: opts.log };
    const mk = <T extends KubernetesObject>(
      name: string,
      path: string,
      list: () => Promise<KubernetesListObject<T>>,
      extra: { fieldSelector?: string; optional?: boolean; project?: (obj: T) => void } = {},
    ): WatchedCache<T> => {
      const c = new WatchedCache<T>({
        ...common,
        ...extra,
        name,
        path,
        list,
        onChange: () => {
          if (name === 'node' && !this.nodeChanged()) return;
          opts.onChange(name);
        },
        onError: () => opts.onWatchError?.(name),
      });
      this.caches.push(c as unknown as WatchedCache<KubernetesObject>);
      return c;
    };
    this.services = mk('services', '/api/v1/services', () =>
      listAllPages((p) => core.listServiceForAllNamespaces(p)),
      { project: projectService },
    );
    this.slices = mk('endpointslices', '/apis/discovery.k8s.io/v1/endpointslices', () =>
      listAllPages((p) => discovery.listEndpointSliceForAllNamespaces(p)),
      { project: projectEndpointSlice },
    );
    const fieldSelector = `metadata.name=${opts.nodeName}`;
    this.nodes = mk('node', '/api/v1/nodes', () => core.listNode({ fieldSelector }), { fieldSelector });
    // A kubelet rewrites its Node's status every few seconds (conditions, heartbeats); only the name, labels,
    // addresses (routes, router-id) and what tells that the node is leaving (src/agent/departure.ts) matter, so
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
      const listCr = (plural: string) => async (): Promise<KubernetesListObject<CustomResource>> =>
        (await custom.listClusterCustomObject({ group: SVCBGP_GROUP, version: SVCBGP_VERSION, plural })) as KubernetesListObject<CustomResource>;
      const base = `/apis/${SVCBGP_GROUP}/${SVCBGP_VERSION}`;
      this.peers = mk('bgppeers', `${base}/bgppeers`, listCr('bgppeers'), { optional: true });
      this.configs = mk('bgpconfigurations', `${base}/bgpconfigurations`, listCr('bgpconfigurations'), { optional: true });
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
    const names = ['services', 'endpointslices', 'node', 'bgppeers', 'bgpconfigurations'];
    const all = [this.services, this.slices, this.nodes, this.peers, this.configs];
    const out: Record<string, string> = {};
    all.forEach((c, i) => {
      if (c) out[names[i]!] = c.state;
    });
    return out;
  }

  view(): ClusterView {
    const notReady = Object.entries(this.cacheStates())
      .filter(([, s]) => s !== 'synced' && s !== 'absent')
      .map(([n, s]) => `${n}:${s}`);
    return {
      synced: this.caches.every((c) => c.synced),
      connected: this.caches.every((c) => c.connected),
      notReady,
      services: this.services.list(),
      endpointSlices: this.slices.list(),
      node: this.nodes.list().find((n) => n.metadata?.name === this.opts.nodeName),
      bgpPeers: this.peers?.list() ?? [],
      bgpConfigurations: this.configs?.list() ?? [],
    };
  }
}

/**
 * A full list in pages of `LIST_PAGE` objects (limit/continue), so a cluster with many thousands of Services is
 * never one huge response to parse at once. Pages of one list are a consistent snapshot (the API server serves
 * them from the first page's resourceVersion); the last page's metadata carries that resourceVersion, which
 * the watch then starts from. If the snapshot expires between pages (410), the error ends this list and the
 * informer relists from scratch.
 */
export const LIST_PAGE = 500;

export async function listAllPages<T extends KubernetesObject>(
  page: (p: { limit: number; _continue?: string }) => Promise<KubernetesListObject<T>>,
): Promise<KubernetesListObject<T>> {
  let res = await page({ limit: LIST_PAGE });
  const items = [...res.items];
  while (res.metadata?._continue) {
    res = await page({ limit: LIST_PAGE, _continue: res.metadata._continue });
    items.push(...res.items);
  }
  return { ...res, items, metadata: { ...res.metadata, _continue: undefined } };
}
