/**
 * NODE SIMULATOR — THE ONE STAND-IN in svcbgp's Kubernetes tests.
 *
 * Why it exists: no kubelet or container runtime can run on this machine (no container images, no
 * cgroup delegation, no registry), yet svcbgp's behaviour depends on what kubelets report: which Pods run
 * where, with which IP, and whether they are ready. Everything else is real: etcd, kube-apiserver, the
 * scheduler that places the Pods, the controller-manager whose EndpointSlice controller writes the
 * EndpointSlices from the Pod status this simulator reports, its node-IPAM controller that assigns each
 * Node's podCIDR, its node-lifecycle controller that watches the heartbeats.
 *
 * What it does, as a kubelet would through the real API:
 *   - registers Nodes (default node-1/2/3 with InternalIPs 192.168.1.10/.11/.12), Ready, with
 *     allocatable cpu/memory/pods and the well-known labels; renews each Node's Lease in
 *     kube-node-lease every 10 s (the heartbeat the node-lifecycle controller reads);
 *   - for every Pod the scheduler bound to one of its Nodes: status Running, Ready, a pod IP from each of that
 *     Node's podCIDRs (IPv4 and IPv6 on the dual-stack control plane, as a dual-stack kubelet + CNI report them,
 *     so the EndpointSlice controller writes an IPv6 slice for a dual-stack Service; the Node's own IP for
 *     hostNetwork Pods), containerStatuses;
 *   - on deletion: by default it finishes at once, like containers that exit promptly on SIGTERM (status
 *     not ready, then delete with grace 0). terminateServing() keeps a deleted Pod Ready (the
 *     EndpointSlice then says ready=false, serving=true, terminating=true) until finishTermination()
 *     or its grace period runs out.
 * Test controls: setPodReady(), terminateServing(), finishTermination(), removePod(), stopKubelet()/startKubelet().
 *
 * By default it never sends traffic anywhere but the API server on loopback: the node IPs are only data and no
 * process runs for a Pod. With a PodRuntime (option `runtime`; the network lab's is test/lab/pods.ts) it also does
 * the container runtime's and CNI plugin's part: before it reports a Pod Running and Ready it asks the runtime to give
 * the Pod its network (the pod IP it assigned) and start its containers, and waits until they serve; when the Pod ends
 * (finalized, force-deleted, or the simulator stops) it asks the runtime to stop them and remove the network.
 */
import ipaddr from 'ipaddr.js';
import {
  CoordinationV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
  type Informer,
  type ObjectCache,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';

export interface SimNodeSpec {
  name: string;
  internalIP: string;
  labels?: Record<string, string>;
  /** Default "4", "8Gi", "110". */
  cpu?: string;
  memory?: string;
  pods?: string;
}

/** A Pod as the runtime gets it: what the kubelet hands the container runtime and the CNI plugin. */
export interface PodSandbox {
  namespace: string;
  name: string;
  uid: string;
  /** The Node it runs on. */
  node: string;
  /** The pod IPs the simulator reports in status.podIPs (IPv4 first; the Node's IP for a hostNetwork Pod). */
  ips: readonly string[];
  hostNetwork: boolean;
  containers: readonly { name: string; image: string; ports: readonly number[] }[];
}

/** The container runtime + CNI plugin of the simulated nodes (the lab runs Pods in network namespaces). */
export interface PodRuntime {
  /** Give the Pod its network and start its containers; resolve once they serve. Rejecting leaves nothing behind. */
  start(pod: PodSandbox): Promise<void>;
  /** Stop the Pod's containers and remove its network. Idempotent. */
  stop(pod: PodSandbox): Promise<void>;
}

export interface NodeSimOptions {
  nodes?: SimNodeSpec[];
  /** Run the Pods (network + containers) with this runtime; default none: Pods are only status in the API. */
  runtime?: PodRuntime;
  /** Keep EVERY deleted Pod serving until its grace period ends (default false: finish at once). */
  holdTerminatingPods?: boolean;
  /** Delete the Nodes on stop() so another suite can register the same names. Default true. */
  deleteNodesOnStop?: boolean;
  /** Lease renewal period. Default 10 s (the kubelet's default). */
  heartbeatMs?: number;
}

export const DEFAULT_SIM_NODES: SimNodeSpec[] = [
  { name: 'node-1', internalIP: '192.168.1.10' },
  { name: 'node-2', internalIP: '192.168.1.11' },
  { name: 'node-3', internalIP: '192.168.1.12' },
];

/** Labels that mark an object as made by the simulator, so an operator reading `kubectl get nodes --show-labels` knows. */
export const SIMULATED_LABEL = 'svcbgp.io/simulated-node';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const key = (ns: string, name: string): string => `${ns}/${name}`;
const nowTime = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
/** metav1.MicroTime wants exactly six fractional digits. */
const nowMicro = (): string => new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

function isNotFound(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: number }).code === 404;
}
function isConflict(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: number }).code === 409;
}

/**
 * Host addresses of a podCIDR, in order, skipping the network address and the first host (the CNI bridge on a real
 * node): 10.48.1.2, .3, ... for IPv4 (up to the broadcast address, excluded); fd00:48:0:1::2, ::3, ... for IPv6.
 */
export function* hostAddresses(cidr: string): Generator<string> {
  const [addr, len] = ipaddr.parseCIDR(cidr);
  const bits = addr.kind() === 'ipv4' ? 32 : 128;
  if (addr.kind() === 'ipv4' ? !(len >= 8 && len <= 30) : !(len >= 48 && len <= 126)) throw new Error(`node simulator: unsupported podCIDR ${cidr}`);
  const start = addr.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n) & ~((1n << BigInt(bits - len)) - 1n);
  // IPv4 has a broadcast address at the top; IPv6 has none (the generator stops long before the top of a /64).
  const end = (1n << BigInt(bits - len)) - (addr.kind() === 'ipv4' ? 1n : 0n);
  for (let i = 2n; i < end; i++) {
    const n = start + i;
    const bytes = Array.from({ length: bits / 8 }, (_, k) => Number((n >> BigInt(bits - 8 - 8 * k)) & 255n));
    yield ipaddr.fromByteArray(bytes).toString();
  }
}

interface PodState {
  /** status.podIPs: one per podCIDR family, the first (IPv4) is also status.podIP. */
  ips: string[];
  node: string;
  uid: string;
  finalizeTimer?: NodeJS.Timeout;
  /** With a runtime: what it was started with, and the start (settled once the containers serve or failed). */
  sandbox?: PodSandbox;
  started?: Promise<void>;
  ended?: Promise<void>;
}

export class NodeSimulator {
  readonly nodes: SimNodeSpec[];
  private readonly core: CoreV1Api;
  private readonly coordination: CoordinationV1Api;
  private readonly opts: Required<Omit<NodeSimOptions, 'nodes' | 'runtime'>>;
  private readonly runtime: PodRuntime | undefined;
  private informer?: Informer<V1Pod> & ObjectCache<V1Pod>;
  private readonly heartbeats = new Map<string, NodeJS.Timeout>();
  /** Nodes whose kubelet is "dead" (stopKubelet): nothing is written for them. */
  private readonly down = new Set<string>();
  /** spec.podCIDRs per Node: IPv4 first, then IPv6 on the dual-stack control plane. */
  private readonly podCIDRs = new Map<string, string[]>();
  private readonly pods = new Map<string, PodState>();
  private readonly readyOverride = new Map<string, boolean>();
  private readonly holdServing = new Set<string>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  private stopped = false;
  /** Errors met while playing the kubelet (a test may assert this stays empty). */
  readonly errors: Error[] = [];

  constructor(
    private readonly kc: KubeConfig,
    opts: NodeSimOptions = {},
  ) {
    this.nodes = opts.nodes ?? DEFAULT_SIM_NODES;
    this.runtime = opts.runtime;
    this.core = kc.makeApiClient(CoreV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.opts = {
      holdTerminatingPods: opts.holdTerminatingPods ?? false,
      deleteNodesOnStop: opts.deleteNodesOnStop ?? true,
      heartbeatMs: opts.heartbeatMs ?? 10_000,
    };
  }

  /** Register the Nodes, wait for their podCIDRs, start heartbeats and the Pod watch. */
  async start(): Promise<void> {
    for (const n of this.nodes) await this.registerNode(n);
    for (const n of this.nodes) this.podCIDRs.set(n.name, await this.waitForPodCIDRs(n.name));
    for (const n of this.nodes) this.startHeartbeat(n.name);
    const informer = makeInformer<V1Pod>(this.kc, '/api/v1/pods', () => this.core.listPodForAllNamespaces());
    informer.on('add', (p) => this.onPod(p));
    informer.on('update', (p) => this.onPod(p));
    informer.on('delete', (p) => this.onPodGone(p));
    informer.on('error', () => {
      if (this.stopped) return;
      // The informer stops on error (e.g. a dropped watch); restart it (list + watch) like client-go's reflector.
      setTimeout(() => void informer.start().catch((e: unknown) => this.errors.push(e as Error)), 1000);
    });
    this.informer = informer;
    await informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.heartbeats.values()) clearInterval(t);
    this.heartbeats.clear();
    for (const s of this.pods.values()) if (s.finalizeTimer) clearTimeout(s.finalizeTimer);
    await this.informer?.stop();
    await Promise.allSettled([...this.inflight.values()]);
    // The Pods' processes and networks belong to this simulator: they end with it.
    await Promise.allSettled([...this.pods.values()].map((s) => this.endPod(s)));
    if (this.opts.deleteNodesOnStop) {
      for (const n of this.nodes) {
        await this.core.deleteNode({ name: n.name }).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
      }
    }
  }

  /** The (first: IPv4) podCIDR the real node-IPAM controller assigned to a Node. */
  podCIDR(node: string): string | undefined {
    return this.podCIDRs.get(node)?.[0];
  }

  /** Every podCIDR of a Node (spec.podCIDRs: IPv4, then IPv6 on a dual-stack control plane). */
  podCIDRsOf(node: string): readonly string[] {
    return this.podCIDRs.get(node) ?? [];
  }

  /** The (first) pod IP the simulator gave a Pod (undefined until it reported it running). */
  podIP(namespace: string, name: string): string | undefined {
    return this.pods.get(key(namespace, name))?.ips[0];
  }

  /** Make a Pod's containers fail (ready=false) or pass (ready=true) their readiness probe. */
  async setPodReady(namespace: string, name: string, ready: boolean): Promise<void> {
    this.readyOverride.set(key(namespace, name), ready);
    const pod = await this.core.readNamespacedPod({ name, namespace });
    await this.reconcile(pod);
  }

  /**
   * Delete a Pod gracefully and keep it Ready while it terminates (a Pod draining connections): the
   * EndpointSlice shows it ready=false, serving=true, terminating=true until finishTermination() or
   * until graceSeconds have passed.
   */
  async terminateServing(namespace: string, name: string, graceSeconds = 300): Promise<void> {
    this.holdServing.add(key(namespace, name));
    await this.core.deleteNamespacedPod({ name, namespace, body: { gracePeriodSeconds: graceSeconds } });
  }

  /** End a terminating Pod now: its containers stop (not ready), then the kubelet's final delete with grace 0. */
  async finishTermination(namespace: string, name: string): Promise<void> {
    const pod = await this.core.readNamespacedPod({ name, namespace });
    await this.finalize(pod);
  }

  /** The Pod is gone at once (force delete, as after a node crash): no terminating phase at all. */
  async removePod(namespace: string, name: string): Promise<void> {
    await this.core.deleteNamespacedPod({ name, namespace, body: { gracePeriodSeconds: 0 } }).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }

  /**
   * The Node's kubelet dies: no more Lease renewals and no more Pod status writes for that Node. After
   * the node-monitor grace period (50 s by default) the real node-lifecycle controller marks the Node
   * Ready=Unknown, taints it unreachable and marks its Pods not ready, so their endpoints turn ready=false.
   */
  stopKubelet(node: string): void {
    clearInterval(this.heartbeats.get(node));
    this.heartbeats.delete(node);
    this.down.add(node);
  }

  /** The kubelet comes back: Ready status and Lease at once, then its Pods are reported Ready again. */
  async startKubelet(node: string): Promise<void> {
    const spec = this.nodes.find((n) => n.name === node);
    if (!spec) throw new Error(`node simulator: unknown node ${node}`);
    this.down.delete(node);
    await this.registerNode(spec);
    if (!this.heartbeats.has(node)) this.startHeartbeat(node);
    for (const p of this.informer?.list() ?? []) if (p.spec?.nodeName === node) this.onPod(p);
  }

  // ---------------------------------------------------------------------------------------------

  private async registerNode(n: SimNodeSpec): Promise<void> {
    const node: V1Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: n.name,
        labels: {
          'kubernetes.io/hostname': n.name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/os': 'linux',
          'beta.kubernetes.io/arch': 'amd64',
          [SIMULATED_LABEL]: 'true',
          ...n.labels,
        },
        annotations: { 'svcbgp.io/node-simulator': 'stand-in for a kubelet (test/helpers/kube/node-sim.ts)' },
      },
      spec: {},
    };
    try {
      await this.core.createNode({ body: node });
    } catch (e) {
      if (!isConflict(e)) throw e; // already registered (a previous simulator on a shared control plane)
      await this.core.patchNode({ name: n.name, body: { metadata: { labels: node.metadata!.labels } } }, mergePatch);
    }
    const t = nowTime();
    const capacity = { cpu: n.cpu ?? '4', memory: n.memory ?? '8Gi', pods: n.pods ?? '110', 'ephemeral-storage': '50Gi' };
    const cond = (type: string, status: string, reason: string, message: string): object => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: t,
      lastTransitionTime: t,
    });
    await this.core.patchNodeStatus(
      {
        name: n.name,
        body: {
          status: {
            addresses: [
              { type: 'InternalIP', address: n.internalIP },
              { type: 'Hostname', address: n.name },
            ],
            capacity,
            allocatable: capacity,
            conditions: [
              cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'simulated'),
              cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'simulated'),
              cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'simulated'),
              cond('Ready', 'True', 'KubeletReady', 'node simulator (svcbgp tests) is posting ready status'),
            ],
            nodeInfo: {
              machineID: `sim-${n.name}`,
              systemUUID: `sim-${n.name}`,
              bootID: `sim-${n.name}`,
              kernelVersion: 'simulated',
              osImage: 'svcbgp node simulator',
              containerRuntimeVersion: 'sim://0',
              kubeletVersion: 'v0.0.0-sim',
              kubeProxyVersion: '',
              operatingSystem: 'linux',
              architecture: 'amd64',
            },
            daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
          },
        },
      },
      mergePatch,
    );
    await this.renewLease(n.name);
  }

  private async waitForPodCIDRs(node: string): Promise<string[]> {
    for (let i = 0; i < 300; i++) {
      const n = await this.core.readNode({ name: node });
      // The node-IPAM controller writes podCIDR and podCIDRs (every family) in one update.
      const cidrs = n.spec?.podCIDRs?.length ? n.spec.podCIDRs : n.spec?.podCIDR ? [n.spec.podCIDR] : [];
      if (cidrs.length > 0) return cidrs;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`node ${node} got no podCIDR from the controller-manager in 30 s (is --allocate-node-cidrs on?)`);
  }

  private startHeartbeat(node: string): void {
    const t = setInterval(() => {
      this.renewLease(node).catch((e: unknown) => {
        if (!this.stopped) this.errors.push(e as Error);
      });
    }, this.opts.heartbeatMs);
    t.unref();
    this.heartbeats.set(node, t);
  }

  private async renewLease(node: string): Promise<void> {
    const namespace = 'kube-node-lease';
    const renew = { spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime: nowMicro() } };
    try {
      await this.coordination.patchNamespacedLease({ name: node, namespace, body: renew }, mergePatch);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      const n = await this.core.readNode({ name: node });
      await this.coordination.createNamespacedLease({
        namespace,
        body: {
          metadata: {
            name: node,
            namespace,
            ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node, uid: n.metadata!.uid! }],
          },
          spec: { holderIdentity: node, leaseDurationSeconds: 40 },
        },
      });
      await this.coordination.patchNamespacedLease({ name: node, namespace, body: renew }, mergePatch);
    }
  }

  private ours(pod: V1Pod): SimNodeSpec | undefined {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName || this.down.has(nodeName)) return undefined;
    return this.nodes.find((n) => n.name === nodeName);
  }

  private onPod(pod: V1Pod): void {
    if (this.stopped || !this.ours(pod)) return;
    const k = key(pod.metadata!.namespace!, pod.metadata!.name!);
    // One reconcile per Pod at a time; a change seen meanwhile triggers one more pass with fresh state.
    if (this.inflight.has(k)) {
      this.dirty.add(k);
      return;
    }
    const run = async (p: V1Pod): Promise<void> => {
      try {
        await this.reconcile(p);
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e) && !this.stopped) this.errors.push(e as Error);
      }
      if (this.dirty.delete(k) && !this.stopped) {
        const fresh = this.informer?.get(pod.metadata!.name!, pod.metadata!.namespace!);
        if (fresh) await run(fresh);
      }
    };
    const promise = run(pod).finally(() => this.inflight.delete(k));
    this.inflight.set(k, promise);
  }

  private onPodGone(pod: V1Pod): void {
    const k = key(pod.metadata!.namespace!, pod.metadata!.name!);
    const s = this.pods.get(k);
    if (s && s.uid === pod.metadata!.uid) {
      if (s.finalizeTimer) clearTimeout(s.finalizeTimer);
      this.pods.delete(k);
      // Force-deleted (or finalized): the runtime stops what still runs
      this.endPod(s).catch((e: unknown) => {
        if (!this.stopped) this.errors.push(e as Error);
      });
    }
    this.readyOverride.delete(k);
    this.holdServing.delete(k);
  }

  /** One free address from each of the Node's podCIDRs (the Node's own IP for a hostNetwork Pod). */
  private allocateIPs(node: SimNodeSpec, pod: V1Pod): string[] {
    if (pod.spec?.hostNetwork) return [node.internalIP];
    const cidrs = this.podCIDRs.get(node.name);
    if (!cidrs?.length) throw new Error(`node ${node.name} has no podCIDR yet`);
    const used = new Set([...this.pods.values()].filter((s) => s.node === node.name).flatMap((s) => s.ips));
    return cidrs.map((cidr) => {
      for (const ip of hostAddresses(cidr)) if (!used.has(ip)) return ip;
      throw new Error(`node ${node.name}: podCIDR ${cidr} is full`);
    });
  }

  private async reconcile(pod: V1Pod): Promise<void> {
    const node = this.ours(pod);
    if (!node) return;
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const k = key(ns, name);
    let state = this.pods.get(k);
    if (state && state.uid !== pod.metadata!.uid) {
      this.pods.delete(k); // same name, new Pod (e.g. a StatefulSet): a new IP
      // the old one's containers, if its deletion went unseen
      this.endPod(state).catch((e: unknown) => {
        if (!this.stopped) this.errors.push(e as Error);
      });
      state = undefined;
    }
    if (!state) {
      // A Pod another simulator already reported keeps its addresses (a shared control plane).
      const reported = (pod.status?.podIPs ?? []).map((x) => x.ip).filter((ip) => ip !== '');
      state = { ips: reported.length > 0 ? reported : this.allocateIPs(node, pod), node: node.name, uid: pod.metadata!.uid! };
      this.pods.set(k, state);
    }

    if (pod.metadata!.deletionTimestamp) {
      if (this.holdServing.has(k) || this.opts.holdTerminatingPods) {
        if (!state.finalizeTimer) {
          const graceMs = (pod.metadata!.deletionGracePeriodSeconds ?? 30) * 1000;
          const deadline = new Date(pod.metadata!.deletionTimestamp).getTime();
          // deletionTimestamp is when the grace period ends; fall back to now+grace if the clock disagrees
          const wait = Math.max(0, Math.min(graceMs, deadline - Date.now()));
          state.finalizeTimer = setTimeout(() => {
            void this.finalize(pod).catch((e: unknown) => {
              if (!isNotFound(e) && !this.stopped) this.errors.push(e as Error);
            });
          }, wait);
          state.finalizeTimer.unref();
        }
        return; // keeps its last reported status: Ready while it drains
      }
      await this.finalize(pod);
      return;
    }

    if (this.runtime && !state.ended) {
      // The runtime's part first: the Pod is reported Running and Ready only once its containers serve.
      if (!state.started) {
        state.sandbox = toSandbox(pod, node.name, state.ips);
        state.started = this.runtime.start(state.sandbox);
        try {
          await state.started;
        } catch (e) {
          // nothing was left behind: the Pod's next event tries again, as the kubelet retries a failed sandbox
          state.started = undefined;
          state.sandbox = undefined;
          throw e;
        }
      } else {
        await state.started;
      }
    }

    const ready = this.readyOverride.get(k) ?? true;
    const desired = this.podStatus(pod, node, state.ips, ready);
    const current = pod.status;
    const currentReady = current?.conditions?.find((c) => c.type === 'Ready')?.status;
    const currentIPs = (current?.podIPs ?? []).map((x) => x.ip).join(',');
    if (current?.phase === 'Running' && currentIPs === state.ips.join(',') && currentReady === (ready ? 'True' : 'False')) return;
    await this.core.patchNamespacedPodStatus({ name, namespace: ns, body: { status: desired } }, mergePatch);
  }

  private podStatus(pod: V1Pod, node: SimNodeSpec, ips: readonly string[], ready: boolean): Record<string, unknown> {
    const t = nowTime();
    const started = pod.status?.startTime ? new Date(pod.status.startTime).toISOString().replace(/\.\d+Z$/, 'Z') : t;
    const prev = (type: string, status: string): string => {
      const c = pod.status?.conditions?.find((x) => x.type === type);
      return c && c.status === status && c.lastTransitionTime ? new Date(c.lastTransitionTime).toISOString().replace(/\.\d+Z$/, 'Z') : t;
    };
    const r = ready ? 'True' : 'False';
    const cond = (type: string, status: string, reason?: string): Record<string, unknown> => ({
      type,
      status,
      lastTransitionTime: prev(type, status),
      ...(reason ? { reason } : {}),
    });
    return {
      phase: 'Running',
      hostIP: node.internalIP,
      hostIPs: [{ ip: node.internalIP }],
      podIP: ips[0],
      podIPs: ips.map((ip) => ({ ip })),
      startTime: started,
      conditions: [
        cond('PodReadyToStartContainers', 'True'),
        cond('Initialized', 'True'),
        cond('Ready', r, ready ? undefined : 'ContainersNotReady'),
        cond('ContainersReady', r, ready ? undefined : 'ContainersNotReady'),
        cond('PodScheduled', 'True'),
      ],
      containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: `sim://${c.image ?? ''}`,
        containerID: `sim://${pod.metadata!.uid}/${c.name}`,
        ready,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: started } },
      })),
    };
  }

  /** Stop a Pod's containers and network (once; a no-op without a runtime or before a start). */
  private endPod(state: PodState): Promise<void> {
    if (!this.runtime || !state.sandbox) return Promise.resolve();
    if (!state.ended) {
      const runtime = this.runtime;
      const sandbox = state.sandbox;
      // wait for a start still in progress: stopping half a start would leave the other half behind
      state.ended = (state.started ?? Promise.resolve()).catch(() => undefined).then(() => runtime.stop(sandbox));
    }
    return state.ended;
  }

  /** The kubelet's end of a Pod: containers stopped (not ready), then the final delete with grace 0 and a uid precondition. */
  private async finalize(pod: V1Pod): Promise<void> {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const state = this.pods.get(key(ns, name));
    if (state?.finalizeTimer) {
      clearTimeout(state.finalizeTimer);
      state.finalizeTimer = undefined;
    }
    const node = this.ours(pod);
    if (node && state) {
      await this.core
        .patchNamespacedPodStatus({ name, namespace: ns, body: { status: this.podStatus(pod, node, state.ips, false) } }, mergePatch)
        .catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
    }
    // The containers are stopped before the final delete, as the kubelet does
    if (state) await this.endPod(state);
    await this.core
      .deleteNamespacedPod({
        name,
        namespace: ns,
        // with a body the API server ignores the query parameters: the grace period goes into the body too
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid! } },
      })
      .catch((e: unknown) => {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      });
  }
}

/** The runtime's view of a Pod: its identity, node, addresses and containers. */
function toSandbox(pod: V1Pod, node: string, ips: readonly string[]): PodSandbox {
  return {
    namespace: pod.metadata!.namespace!,
    name: pod.metadata!.name!,
    uid: pod.metadata!.uid!,
    node,
    ips: [...ips],
    hostNetwork: pod.spec?.hostNetwork ?? false,
    containers: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      ports: (c.ports ?? []).map((p) => p.containerPort),
    })),
  };
}
