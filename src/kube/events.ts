import { CoreV1Api, type KubeConfig, type CoreV1Event } from '@kubernetes/client-node';
import type { Logger } from 'winston';
import type { RefusedAddress } from '../agent/ports.js';

export interface EventSink {
  create(namespace: string, event: CoreV1Event): Promise<void>;
}

export function kubeEventSink(kc: KubeConfig): EventSink {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async create(namespace, body) {
      await core.createNamespacedEvent({ namespace, body });
    },
  };
}

/**
 * Turns the refused addresses of each pass into Kubernetes Events on the Service (`kubectl describe service`
 * shows them), deduplicated: one Event per (Service, address, reason) while the refusal lasts. When the refusal
 * goes away and comes back later, a new Event is created. Each node's agent reports on its own
 * (source.host = node), like kubelets do. Failures to create Events are logged and never block a pass.
 */
export class RefusalEvents {
  private reported = new Set<string>();

  constructor(
    private readonly sink: EventSink,
    private readonly nodeName: string,
    private readonly log: Logger,
    private readonly onResult: (ok: boolean) => void = () => undefined,
  ) {}

  /** Returns the Events created by this call (for tests); creation happens in the background. */
  report(refused: readonly RefusedAddress[], now = new Date()): Promise<number> {
    const current = new Set<string>();
    const todo: RefusedAddress[] = [];
    for (const r of refused) {
      const key = `${r.namespace}/${r.service}|${r.address}|${r.code}`;
      current.add(key);
      if (!this.reported.has(key)) todo.push(r);
    }
    this.reported = new Set([...current].filter((k) => this.reported.has(k)));
    for (const r of todo) {
      this.reported.add(`${r.namespace}/${r.service}|${r.address}|${r.code}`);
      this.log.warn('address refused', { namespace: r.namespace, service: r.service, address: r.address, code: r.code, reason: r.message });
    }
    return Promise.all(todo.map((r) => this.emit(r, now))).then((oks) => oks.filter(Boolean).length);
  }

  private async emit(r: RefusedAddress, now: Date): Promise<boolean> {
    const event: CoreV1Event = {
      metadata: { generateName: `${r.service}.svcbgp-`, namespace: r.namespace },
      // With the uid, as kubelets' Events have it: `kubectl describe` selects Events by involvedObject.uid.
      involvedObject: { apiVersion: 'v1', kind: 'Service', namespace: r.namespace, name: r.service, ...(r.uid ? { uid: r.uid } : {}) },
      reason: 'AddressNotAdvertised',
      message: `svcbgp on node ${this.nodeName} does not advertise ${r.address || 'this Service'}: ${r.message}`,
      type: 'Warning',
      source: { component: 'svcbgp', host: this.nodeName },
      reportingComponent: 'svcbgp.io/agent',
      reportingInstance: this.nodeName,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.sink.create(r.namespace, event);
      this.onResult(true);
      return true;
    } catch (err) {
      // Forget it so a later pass tries again.
      this.reported.delete(`${r.namespace}/${r.service}|${r.address}|${r.code}`);
      this.onResult(false);
      this.log.warn('could not create Event for refused address', {
        namespace: r.namespace,
        service: r.service,
        error: err instanceof Error ? err.message.split('\n')[0] : String(err),
      });
      return false;
    }
  }
}
