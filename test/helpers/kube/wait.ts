/**
 * Waiting for cluster state in tests: poll with a generous timeout until a condition holds (never a
 * wall-clock assertion), and say what was last seen when it does not.
 */
import { DiscoveryV1Api, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  opts: { timeoutMs?: number; intervalMs?: number; lastSeen?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const seen = opts.lastSeen ? `; last seen: ${opts.lastSeen()}` : '';
      const err = lastError ? `; last error: ${String(lastError)}` : '';
      throw new Error(`timed out after ${opts.timeoutMs ?? 60_000} ms waiting for ${what}${seen}${err}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}

/** One endpoint as the EndpointSlice controller wrote it, flattened for assertions. */
export interface EndpointView {
  addresses: string[];
  nodeName: string | undefined;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  pod: string | undefined;
  slice: string;
  addressType: string;
}

export async function endpointsOf(kc: KubeConfig, namespace: string, service: string): Promise<EndpointView[]> {
  const api = kc.makeApiClient(DiscoveryV1Api);
  const list = await api.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
  return list.items.flatMap((s: V1EndpointSlice) =>
    (s.endpoints ?? []).map((e) => ({
      addresses: e.addresses,
      nodeName: e.nodeName,
      // EndpointSlice API: a nil "ready" means ready; a nil "serving"/"terminating" means ready / false.
      ready: e.conditions?.ready ?? true,
      serving: e.conditions?.serving ?? e.conditions?.ready ?? true,
      terminating: e.conditions?.terminating ?? false,
      pod: e.targetRef?.kind === 'Pod' ? e.targetRef.name : undefined,
      slice: s.metadata!.name!,
      addressType: s.addressType,
    })),
  );
}

export interface SliceExpectation {
  /** Exactly this many endpoints with ready=true. */
  ready?: number;
  /** The ready endpoints are on exactly these nodes (a multiset, order ignored). */
  nodes?: string[];
  /** Any other condition on the whole list. */
  where?: (eps: EndpointView[]) => boolean;
  timeoutMs?: number;
}

/** Wait until the Service's EndpointSlices (written by the real controller) match the expectation; returns them. */
export async function waitForEndpointSlices(kc: KubeConfig, namespace: string, service: string, expect: SliceExpectation): Promise<EndpointView[]> {
  let last: EndpointView[] = [];
  return waitFor(
    `EndpointSlices of ${namespace}/${service} to show ${JSON.stringify({ ready: expect.ready, nodes: expect.nodes })}`,
    async () => {
      last = await endpointsOf(kc, namespace, service);
      const ready = last.filter((e) => e.ready);
      if (expect.ready !== undefined && ready.length !== expect.ready) return false;
      if (expect.nodes !== undefined) {
        const got = ready.map((e) => e.nodeName ?? '').sort();
        const want = [...expect.nodes].sort();
        if (got.join(',') !== want.join(',')) return false;
      }
      if (expect.where && !expect.where(last)) return false;
      return last;
    },
    { timeoutMs: expect.timeoutMs ?? 60_000, lastSeen: () => JSON.stringify(last) },
  );
}
