import type { Logger } from 'winston';
import { KubeApiError, type KubeClient, type ListResult } from './client.js';
import { ListWatch, type KubeObject } from './listwatch.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * A full list is read in pages of this many objects (limit/continue), so a cluster with many thousands of Services
 * is never one huge response to parse at once.
 */
export const LIST_PAGE = 500;

/** The longest wait between two attempts of a failing list/watch (client-go's reflector: 30 s). */
const MAX_BACKOFF_MS = 30_000;
/** A list/watch working this long resets the back-off to its minimum. */
const BACKOFF_RESET_MS = 120_000;

export type CacheState = 'syncing' | 'synced' | 'failing' | 'absent';

export interface WatchedCacheOptions<T extends KubeObject> {
  /** Name for logs and metrics ("services", "endpointslices", ...). */
  name: string;
  client: KubeClient;
  /** List and watch path, e.g. "/api/v1/services". */
  path: string;
  /** The full list; default: `path` in pages of LIST_PAGE. (Tests inject failures here.) */
  list?: () => Promise<ListResult<unknown>>;
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
  /** What the cache keeps of an object as it arrives (src/kube/project.ts); default: the object without managedFields. */
  project?: (obj: unknown) => T;
  /**
   * The key an object is indexed and its changes recorded under (a Service's own key; an EndpointSlice's Service):
   * byKey() finds the objects of a key, takeChanged() says which keys changed. Undefined for an object: not indexed.
   */
  keyOf?: (obj: T) => string | undefined;
}

/**
 * A ListWatch (src/kube/listwatch.ts) with the state the reconciler needs: it retries a stopped ListWatch with
 * exponential back-off, keeps the last known objects while failing, and `synced` stays true once true, so a later
 * outage cannot stop provisioning (docs/design.md § No withdrawals from a stale view).
 */
export class WatchedCache<T extends KubeObject> {
  private readonly listWatch: ListWatch<T>;
  private stateValue: CacheState = 'syncing';
  private everSynced = false;
  /** The last definite answer was "this resource type is not served" (kept through a later outage). */
  private absentKnown = false;
  private backoffMs: number;
  /** Since when the list/watch has been working (undefined while failing). */
  private healthySince: number | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private errorSeen = false;
  private listedOnce = false;
  /** 404s in a row on an optional resource not yet declared absent. */
  private notFound = 0;
  private notFoundBackoffMs: number;
  private absentRecheckMs: number;
  /**
   * keyOf -> the objects of that key: the object itself while it is the only one (a Service's own key always; the
   * usual Service has one EndpointSlice), else a map by object name ("namespace/name"). A map per key cost about
   * 430 bytes per Service in each of two caches: a tenth of the heap at 10,000 Services.
   */
  private readonly index = new Map<string, T | Map<string, T>>();
  /** The keys whose objects were added, changed or deleted since takeChanged() was last called. */
  private changedKeys = new Set<string>();

  constructor(private readonly opts: WatchedCacheOptions<T>) {
    this.backoffMs = opts.minBackoffMs ?? 500;
    this.notFoundBackoffMs = this.backoffMs;
    this.absentRecheckMs = this.firstAbsentRecheckMs();
    const changed = (): void => {
      if (this.everSynced) opts.onChange();
    };
    const upsert = (obj: T, previous: T | undefined): void => {
      if (previous) this.unindex(previous);
      this.reindex(obj);
      changed();
    };
    const remove = (obj: T): void => {
      this.unindex(obj);
      changed();
    };
    const project = opts.project ?? ((obj: unknown) => slim(obj) as T);
    const selector = opts.fieldSelector !== undefined ? { fieldSelector: opts.fieldSelector } : {};
    const list = async (): Promise<ListResult<T>> => {
      let res: ListResult<T>;
      if (opts.list) {
        const raw = await opts.list();
        res = { items: raw.items.map(project), ...(raw.metadata ? { metadata: raw.metadata } : {}) };
      } else {
        res = await opts.client.listAll<unknown, T>(opts.path, selector, LIST_PAGE, project);
      }
      this.listedOnce = true;
      return res;
    };
    this.listWatch = new ListWatch<T>(
      { client: opts.client, path: opts.path, ...selector, list, project },
      { upsert, delete: remove, error: (err) => this.failed(err) },
    );
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
    // While failing after "absent", the list-watch may still hold objects from before the type went away.
    return this.absentKnown ? [] : this.listWatch.list();
  }

  /** The objects indexed under a key (opts.keyOf); none for an absent type. */
  byKey(key: string): readonly T[] {
    const m = this.absentKnown ? undefined : this.index.get(key);
    if (m === undefined) return [];
    return m instanceof Map ? [...m.values()] : [m];
  }

  /**
   * The keys (opts.keyOf) whose objects were added, changed or deleted since the last call: an object that moved from
   * one key to another names both. An optional type that became absent or present again names every key it held.
   */
  takeChanged(): Set<string> {
    const out = this.changedKeys;
    this.changedKeys = new Set();
    return out;
  }

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.listWatch.stop();
  }

  private reindex(obj: T): void {
    const key = this.opts.keyOf?.(obj);
    if (key === undefined) return;
    const m = this.index.get(key);
    const name = objectName(obj);
    if (m === undefined || (!(m instanceof Map) && objectName(m) === name)) this.index.set(key, obj);
    else if (m instanceof Map) m.set(name, obj);
    else
      this.index.set(
        key,
        new Map([
          [objectName(m), m],
          [name, obj],
        ]),
      );
    this.changedKeys.add(key);
  }

  private unindex(obj: T): void {
    const key = this.opts.keyOf?.(obj);
    if (key === undefined) return;
    const m = this.index.get(key);
    const name = objectName(obj);
    if (m instanceof Map) {
      if (m.delete(name) && m.size === 1) this.index.set(key, m.values().next().value as T);
    } else if (m !== undefined && objectName(m) === name) {
      this.index.delete(key);
    }
    this.changedKeys.add(key);
  }

  /** Absent or present again: every key the cache holds counts as changed. */
  private allChanged(): void {
    for (const key of this.index.keys()) this.changedKeys.add(key);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.errorSeen = false;
    this.listedOnce = false;
    // start() resolves once the list is done and the watch request is open, or after the error callback ran.
    await this.listWatch.start();
    if (this.stopped || this.errorSeen) return;
    const first = !this.everSynced;
    const wasFailing = this.stateValue !== 'synced';
    if (this.absentKnown) this.allChanged();
    this.everSynced = true;
    this.absentKnown = false;
    this.stateValue = 'synced';
    this.healthySince ??= Date.now();
    this.notFound = 0;
    this.notFoundBackoffMs = this.backoffMs;
    this.absentRecheckMs = this.firstAbsentRecheckMs();
    if (first) {
      this.opts.log.info('cache synced', { resource: this.opts.name, objects: this.listWatch.list().length });
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
        this.allChanged();
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
    // The back-off starts again from its minimum only after a healthy stretch (as client-go's reflector): a watch
    // that opens and fails at once, over and over, backs off like one that never opens.
    const min = this.opts.minBackoffMs ?? 500;
    if (this.healthySince !== undefined && Date.now() - this.healthySince >= BACKOFF_RESET_MS) this.backoffMs = min;
    this.healthySince = undefined;
    // Half the back-off plus a random half (not every node of a DaemonSet at once), and never before the server's
    // Retry-After (429 Too Many Requests from API priority and fairness).
    const retryAfter = err instanceof KubeApiError ? (err.retryAfterMs ?? 0) : 0;
    const delay = Math.max(Math.round(this.backoffMs / 2 + (Math.random() * this.backoffMs) / 2), retryAfter);
    const wasOk = this.stateValue === 'synced';
    this.stateValue = 'failing';
    this.opts.onError?.();
    this.opts.log[wasOk ? 'warn' : 'debug']('list/watch failed; keeping the last known objects and retrying', {
      resource: this.opts.name,
      error: errText(err),
      status,
      retryInMs: delay,
    });
    if (wasOk) this.opts.onChange();
    this.schedule(delay);
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? MAX_BACKOFF_MS);
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

function objectName(obj: KubeObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

function errText(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.message;
  return String(err);
}

/** The default projection: managedFields and kubectl's last-applied copy, often most of an object, are dropped. */
function slim(obj: unknown): unknown {
  const meta = (obj as { metadata?: { managedFields?: unknown; annotations?: Record<string, string> } } | null)?.metadata;
  if (!meta) return obj;
  delete meta.managedFields;
  if (meta.annotations && LAST_APPLIED in meta.annotations) {
    const { [LAST_APPLIED]: _drop, ...rest } = meta.annotations;
    void _drop;
    meta.annotations = rest;
  }
  return obj;
}
