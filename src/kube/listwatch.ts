import type { KubeClient, ListResult, Query, WatchHandle } from './client.js';

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

/**
 * A list-then-watch cache of one resource type, keyed by namespace/name — the informer of client-go's reflector,
 * reduced to what svcbgp needs:
 * - start(): list (when no resourceVersion is known), reconcile the cache with the list — objects missing from it
 *   are deleted, new or changed ones (by resourceVersion) upserted, unchanged ones KEEP their object, so code that
 *   remembers objects by identity (src/routes/incremental.ts) sees no change — then watch from the list's
 *   resourceVersion;
 * - a watch the server ends is resumed from the last resourceVersion seen (bookmarks included);
 * - 410 Gone (as the answer or as an ERROR event) forgets the resourceVersion, so the next start relists;
 * - any other error calls `error` and stops: the owner (src/kube/informer.ts) retries with back-off.
 */
export class ListWatch<T extends KubeObject> {
  private readonly objects = new Map<string, T>();
  private snapshot: T[] | undefined;
  private resourceVersion = '';
  private request: WatchHandle | undefined;
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
        this.fail(err);
        return;
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

  private selector(): Query {
    return this.opts.fieldSelector !== undefined ? { fieldSelector: this.opts.fieldSelector } : {};
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const timeoutSeconds = WATCH_MIN_TIMEOUT_S + Math.floor(Math.random() * WATCH_MIN_TIMEOUT_S);
    const query: Query = { ...this.selector(), resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds };
    const project = this.opts.project ?? ((o: unknown) => o as T);
    let gone = false;
    const handle = await this.opts.client.watch<unknown>(
      this.opts.path,
      query,
      (ev) => {
        if (ev.type === 'ERROR') {
          // A Status: 410 Gone means the resourceVersion is too old; the server then ends the watch.
          if ((ev.object as { code?: unknown } | undefined)?.code === 410) gone = true;
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
        if (gone || (err as { code?: unknown } | null)?.code === 410) {
          this.resourceVersion = '';
          void this.start();
          return;
        }
        if (err) {
          this.fail(err);
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

function keyOf(obj: KubeObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}
