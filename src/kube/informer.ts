import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'winston';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export type CacheState = 'syncing' | 'synced' | 'failing' | 'absent';

export interface WatchedCacheOptions<T extends KubernetesObject> {
  /** Name for logs and metrics ("services", "endpointslices", ...). */
  name: string;
  kubeConfig: KubeConfig;
  /** Watch path, e.g. "/api/v1/services". */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  fieldSelector?: string;
  /** A 404 on list means "this resource type does not exist" (our CRDs not installed): not an error. */
  optional?: boolean;
  log: Logger;
  onChange: () => void;
  onError?: () => void;
  /** Back-off bounds for restarting a failed list/watch. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often, at most, to look again for an absent optional resource (CRD installed later). */
  absentRecheckMs?: number;
  /**
   * An optional resource counts as absent only after this many 404s in a row, retried quickly (the first
   * retry after minBackoffMs, then doubling): default 4, i.e. about 3.5 s with the default back-off.
   */
  absentConfirmations?: number;
  /** Cut an object down to what is read, in place, as it arrives (src/kube/project.ts). */
  project?: (obj: T) => void;
}

/**
 * A client-node ListWatch (the informer behind makeInformer) with the state the reconciler needs.
 *
 * ListWatch itself: lists (replacing its cache atomically), then watches from the list's resourceVersion;
 * a watch closed by the server is resumed; a 410 Gone relists. On any other error it calls the error
 * callbacks and STOPS — it does not retry. We retry with exponential back-off. While failing, the cache
 * keeps the last known objects (never cleared), and `state` says 'failing', so the reconciler knows the
 * view may be stale and withdraws nothing.
 *
 * `synced` becomes true after the first successful list, or once an optional type is confirmed absent, and stays
 * true (the cache is complete, if maybe stale): a later outage must not turn a definite answer into "unknown",
 * or the agent would stop provisioning (e.g. re-provisioning a restarted gobgpd) until the API server is back.
 */
export class WatchedCache<T extends KubernetesObject> {
  private readonly informer: ListWatch<T>;
  private stateValue: CacheState = 'syncing';
  private everSynced = false;
  /** The last definite answer was "this resource type is not served" (kept through a later outage). */
  private absentKnown = false;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private errorSeen = false;
  private listedOnce = false;
  /** 404s in a row on an optional resource not yet declared absent. */
  private notFound = 0;
  private notFoundBackoffMs: number;
  private absentRecheckMs: number;

  constructor(private readonly opts: WatchedCacheOptions<T>) {
    this.backoffMs = opts.minBackoffMs ?? 500;
    this.notFoundBackoffMs = this.backoffMs;
    this.absentRecheckMs = this.firstAbsentRecheckMs();
    const list = async (): Promise<KubernetesListObject<T>> => {
      const res = await opts.list();
      this.listedOnce = true;
      return res;
    };
    this.informer = new ListWatch<T>(opts.path, new Watch(opts.kubeConfig), list, false, undefined, opts.fieldSelector);
    const changed = (): void => {
      if (this.everSynced) opts.onChange();
    };
    // Slim the cached objects in place (the callback gets the very object the cache keeps): managedFields and
    // kubectl's last-applied copy are often most of an object's size and nothing in svcbgp reads them.
    const slim = (obj: T): void => {
      if (opts.project) {
        opts.project(obj);
        return;
      }
      const meta = obj.metadata;
      if (!meta) return;
      delete meta.managedFields;
      if (meta.annotations && LAST_APPLIED in meta.annotations) {
        const { [LAST_APPLIED]: _drop, ...rest } = meta.annotations;
        void _drop;
        meta.annotations = rest;
      }
    };
    this.informer.on('add', slim);
    this.informer.on('update', slim);
    this.informer.on('add', changed);
    this.informer.on('update', changed);
    this.informer.on('delete', changed);
    this.informer.on('error', (err: unknown) => this.failed(err));
  }

  get state(): CacheState {
    return this.stateValue;
  }

  /** True once the first full list completed (also true while failing later: the cache is stale, not partial). */
  get synced(): boolean {
    return this.everSynced || this.absentKnown;
  }

  /** True when the resource is currently listed/watched without error. */
  get connected(): boolean {
    return this.stateValue === 'synced' || this.stateValue === 'absent';
  }

  list(): readonly T[] {
    // While failing after "absent", the informer may still hold objects from before the type went away.
    return this.absentKnown ? [] : this.informer.list();
  }

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.informer.stop();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.errorSeen = false;
    this.listedOnce = false;
    // start() resolves once the list is done and the watch request is open, or after the error callback ran.
    await this.informer.start();
    if (this.stopped || this.errorSeen) return;
    const first = !this.everSynced;
    const wasFailing = this.stateValue !== 'synced';
    this.everSynced = true;
    this.absentKnown = false;
    this.stateValue = 'synced';
    this.backoffMs = this.opts.minBackoffMs ?? 500;
    this.notFound = 0;
    this.notFoundBackoffMs = this.backoffMs;
    this.absentRecheckMs = this.firstAbsentRecheckMs();
    if (first) {
      this.opts.log.info('cache synced', { resource: this.opts.name, objects: this.informer.list().length });
    } else if (wasFailing) {
      this.opts.log.info('watch re-established', { resource: this.opts.name, relisted: this.listedOnce });
    }
    if (first || wasFailing) this.opts.onChange();
  }

  private failed(err: unknown): void {
    this.errorSeen = true;
    if (this.stopped) return;
    const status = statusOf(err);
    if (this.opts.optional && status === 404) {
      if (this.stateValue !== 'absent') {
        // A 404 is also what the API server answers for a moment right after a CRD was (re)created (until its
        // group/version is registered and served) — and "absent" is an answer the agent acts on (the file's
        // configuration alone; its first StartBgp fixes the listen port). So absence must be confirmed: quick
        // retries first, and only a 404 streak makes the type absent. Until then the cache stays not synced.
        this.notFound += 1;
        if (this.notFound < (this.opts.absentConfirmations ?? 4)) {
          this.opts.log.debug('resource type not found; checking again before treating it as absent', {
            resource: this.opts.name,
            attempt: this.notFound,
            retryInMs: this.notFoundBackoffMs,
          });
          if (this.stateValue === 'synced') {
            this.stateValue = 'failing';
            this.opts.onChange();
          }
          this.schedule(this.notFoundBackoffMs);
          this.notFoundBackoffMs = Math.min(this.notFoundBackoffMs * 2, this.opts.maxBackoffMs ?? 10_000);
          return;
        }
        this.opts.log.info('resource type not served by the API server (CRD not installed?); treating as empty', {
          resource: this.opts.name,
          notFound: this.notFound,
        });
        this.stateValue = 'absent';
        this.absentKnown = true;
        this.opts.onChange();
      }
      // Look again soon first (CRDs applied together with the DaemonSet may be established a little later),
      // then every absentRecheckMs.
      this.schedule(this.absentRecheckMs);
      this.absentRecheckMs = Math.min(this.absentRecheckMs * 2, this.opts.absentRecheckMs ?? 30_000);
      return;
    }
    this.notFound = 0;
    this.notFoundBackoffMs = this.opts.minBackoffMs ?? 500;
    const wasOk = this.stateValue === 'synced';
    this.stateValue = 'failing';
    this.opts.onError?.();
    this.opts.log[wasOk ? 'warn' : 'debug']('list/watch failed; keeping the last known objects and retrying', {
      resource: this.opts.name,
      error: errText(err),
      status,
      retryInMs: this.backoffMs,
    });
    if (wasOk) this.opts.onChange();
    this.schedule(this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 10_000);
  }

  private firstAbsentRecheckMs(): number {
    return Math.min(2_000, this.opts.absentRecheckMs ?? 30_000);
  }

  private schedule(ms: number): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect().catch((e: unknown) => this.failed(e));
    }, ms);
  }
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  if (typeof e.code === 'number') return e.code;
  return undefined;
}

function errText(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.message;
  return String(err);
}
