import type { Logger } from 'winston';
import { agentWarningEvent, type EventSink } from './events.js';
import { escapeControls } from '../text/escape.js';
import type { RejectedResource } from '../config/source.js';
import { SVCBGP_API_VERSION } from '../config/index.js';

/**
 * Warning Events on the svcbgp.io resources that make the configuration invalid (`kubectl describe bgppeer X`
 * lists them: it finds Events by involvedObject uid). The resources are cluster-scoped, so the Events live in the
 * `default` namespace, as Kubernetes does for Nodes. One Event per (resource, set of messages) while it lasts; each
 * node's agent reports on its own (source.host), like kubelets do. Failures are logged and never block anything.
 */
export const CLUSTER_SCOPED_EVENT_NAMESPACE = 'default';
const MAX_MESSAGE = 1000;

export class ConfigRejectionEvents {
  private reported = new Set<string>();

  constructor(
    private readonly sink: EventSink,
    private readonly nodeName: string,
    private readonly log: Logger,
    private readonly onResult: (ok: boolean) => void = () => undefined,
  ) {}

  /** The current rejected resources (empty = the configuration is valid again). Resolves to the Events created. */
  report(rejected: readonly RejectedResource[], now = new Date()): Promise<number> {
    const keyOf = (r: RejectedResource): string => JSON.stringify([r.kind, r.name, r.uid ?? '', r.errors]);
    const current = new Set(rejected.map(keyOf));
    const todo = rejected.filter((r) => !this.reported.has(keyOf(r)));
    this.reported = current;
    return Promise.all(todo.map((r) => this.emit(r, keyOf(r), now))).then((oks) => oks.filter(Boolean).length);
  }

  private async emit(r: RejectedResource, key: string, now: Date): Promise<boolean> {
    // Escaped: a config message may echo a value (a nodeSelector) with a newline or an ANSI escape in it.
    let message = escapeControls(
      `svcbgp on node ${this.nodeName} rejects this ${r.kind}, so the configuration is invalid (nothing from it is applied): ${r.errors.join('; ')}`,
    );
    if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE - 3)}...`;
    const event = agentWarningEvent(this.nodeName, now, {
      metadata: { generateName: `${r.name}.svcbgp-`, namespace: CLUSTER_SCOPED_EVENT_NAMESPACE },
      involvedObject: { apiVersion: SVCBGP_API_VERSION, kind: r.kind, name: r.name, ...(r.uid ? { uid: r.uid } : {}) },
      reason: 'InvalidConfiguration',
      message,
    });
    try {
      await this.sink.create(CLUSTER_SCOPED_EVENT_NAMESPACE, event);
      this.onResult(true);
      return true;
    } catch (err) {
      this.reported.delete(key); // a later report tries again
      this.onResult(false);
      this.log.warn('could not create Event for a rejected configuration resource', {
        kind: r.kind,
        name: r.name,
        error: err instanceof Error ? err.message.split('\n')[0] : String(err),
      });
      return false;
    }
  }
}
