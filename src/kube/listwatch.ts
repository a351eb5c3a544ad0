import { KubeApiError, type KubeClient, type ListResult, type Query, type KubeWatchHandle } from './client.js';

/** What every cached object has: metadata with name, namespace and resourceVersion. */
export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export interface ListWatchHandlers<T> {
  /** A new object in the cache, or a new version of one (different resourceVersion). */
  upsert(obj: T, previous: T | undefined): void;
  delete(obj: T): void;
  /** List or watch failed; the ListWatch has stopped (the owner retries with start()). */
  error(err: unknown): void;
}

export interface ListWatchOptions<T> {
  client: KubeClient;
  /** e.g. "/api/v1/services" (list and watch). */
  path: string;
  fieldSelector?: string;
  /** The full list, its objects already projected (KubeClient.listAll projects page by page). */
  list: () => Promise<ListResult<T>>;
  /** What the cache keeps of a watched object as it arrives (src/kube/project.ts); default: the object. */
  project?: (obj: unknown) => T;
}

/** The server ends a watch after timeoutSeconds (random in [MIN, 2*MIN), as client-go): a dead one never lingers. */
const WATCH_MIN_TIMEOUT_S = 300;
/** A watch the server ends within this time without one event is a failure (client-go's "very short watch"). */
const SHORT_WATCH_MS = 1_000;
/** After a 410 the relist waits a random 0.5-1.5 s: not every node of a DaemonSet at the same instant. */
const RELIST_DELAY_MS = 500;

/**
 * A list-then-watch cache of one resource type, keyed by namespace/name: client-go's reflector reduced to what svcbgp
 * needs. A list reconciles the cache (an unchanged object keeps its identity, which src/routes/incremental.ts relies
 * on), a watch resumes from the last resourceVersion, a 410 Gone relists after a random delay, and any other error
 * calls `error` and stops: the owner retries with back-off (docs/design.md § No withdrawals from a stale view).
 */
export class ListWatch<T extends KubeObject> {
  private readonly objects = new Map<string, T>();
  private snapshot: T[] | undefined;
  private resourceVersion = '';
  private request: KubeWatchHandle | undefined;
  private relistTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly opts: ListWatchOptions<T>,
    private readonly on: ListWatchHandlers<T>,
  ) {}

  /** Every cached object; the same array until the cache changes. */
  list(): readonly T[] {
    this.snapshot ??= [...this.objects.values()];
    return this.snapshot;
  }

  get size(): number {
    return this.objects.size;
  }

  /** Lists if needed and opens the watch; resolves once the watch is open or an error was reported. */
  async start(): Promise<void> {
    this.stopped = false;
    this.abortWatch();
    if (!this.resourceVersion) {
      let list: ListResult<T>;
      try {
        list = await this.opts.list();
      } catch (err) {
        if ((err as { code?: unknown } | null)?.code !== 410 || this.stopped) {
          this.fail(err);
          return;
        }
        // The paged list's snapshot expired between two pages (410 on a continue token: a slow list of a large
        // cluster while etcd compacts): list once more from the start, a new snapshot.
        try {
          list = await this.opts.list();
        } catch (again) {
          this.fail(again);
          return;
        }
      }
      if (this.stopped) return;
      this.replace(list.items);
      this.resourceVersion = list.metadata?.resourceVersion ?? '';
    }
    await this.watch();
  }

  stop(): void {
    this.stopped = true;
    this.abortWatch();
  }

  /** Cancels a relist scheduled after a 410. */
  private clearRelist(): void {
    if (this.relistTimer) clearTimeout(this.relistTimer);
    this.relistTimer = undefined;
  }

  private selector(): Query {
    return this.opts.fieldSelector !== undefined ? { fieldSelector: this.opts.fieldSelector } : {};
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const timeoutSeconds = WATCH_MIN_TIMEOUT_S + Math.floor(Math.random() * WATCH_MIN_TIMEOUT_S);
    const query: Query = { ...this.selector(), resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds };
    const project = this.opts.project ?? ((o: unknown) => o as T);
    // The ERROR event the server sent before ending the watch (a Status), if any.
    let status: KubeApiError | undefined;
    let events = 0;
    const opened = Date.now();
    const handle = await this.opts.client.watch<unknown>(
      this.opts.path,
      query,
      (ev) => {
        events++;
        if (ev.type === 'ERROR') {
          // A Status: 410 Gone means the resourceVersion is too old; any other code is an error. The server then
          // ends the watch.
          status ??= statusError(ev.object, this.opts.path);
          return;
        }
        const meta = (ev.object as KubeObject | undefined)?.metadata;
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.upsert(project(ev.object));
        else if (ev.type === 'DELETED') this.remove(ev.object as T);
        if (meta?.resourceVersion) this.resourceVersion = meta.resourceVersion;
      },
      (err) => {
        // (An aborted watch never gets here: done runs only for the current one.)
        this.request = undefined;
        if (this.stopped) return;
        const failure = status ?? err;
        if ((failure as { code?: unknown } | null)?.code === 410) {
          this.resourceVersion = '';
          this.clearRelist();
          this.relistTimer = setTimeout(
            () => {
              this.relistTimer = undefined;
              if (!this.stopped) void this.start();
            },
            RELIST_DELAY_MS + Math.floor(Math.random() * 2 * RELIST_DELAY_MS),
          );
          return;
        }
        if (failure) {
          this.fail(failure);
          return;
        }
        if (events === 0 && Date.now() - opened < SHORT_WATCH_MS) {
          this.fail(new Error(`watch ${this.opts.path}: the server ended it at once without an event`));
          return;
        }
        void this.watch();
      },
    );
    if (this.stopped) handle.abort();
    else this.request = handle;
  }

  private fail(err: unknown): void {
    this.abortWatch();
    if (!this.stopped) this.on.error(err);
  }

  private abortWatch(): void {
    this.clearRelist();
    this.request?.abort();
    this.request = undefined;
  }

  private replace(items: readonly T[]): void {
    const listed = new Set<string>();
    for (const obj of items) listed.add(keyOf(obj));
    for (const [key, obj] of this.objects) {
      if (listed.has(key)) continue;
      this.objects.delete(key);
      this.snapshot = undefined;
      this.on.delete(obj);
    }
    for (const obj of items) this.upsert(obj);
  }

  private upsert(obj: T): void {
    const key = keyOf(obj);
    const found = this.objects.get(key);
    const rv = found?.metadata?.resourceVersion;
    if (found && rv !== undefined && rv === obj.metadata?.resourceVersion) return;
    this.objects.set(key, obj);
    this.snapshot = undefined;
    this.on.upsert(obj, found);
  }

  private remove(obj: T): void {
    const key = keyOf(obj);
    const found = this.objects.get(key);
    if (!found) return;
    this.objects.delete(key);
    this.snapshot = undefined;
    this.on.delete(found);
  }
}

/** The Status of a watch ERROR event as an error (code, reason, message). */
function statusError(obj: unknown, path: string): KubeApiError {
  const st = (typeof obj === 'object' && obj !== null ? obj : {}) as { code?: unknown; reason?: unknown; message?: unknown };
  const code = typeof st.code === 'number' ? st.code : 0;
  const reason = typeof st.reason === 'string' ? st.reason : undefined;
  const text = typeof st.message === 'string' ? st.message : 'no message';
  return new KubeApiError(code, reason, `watch ${path}: ERROR event ${code}${reason ? ` ${reason}` : ''}: ${text}`);
}

function keyOf(obj: KubeObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}
