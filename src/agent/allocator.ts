import type { V1Service } from '@kubernetes/client-node';
import type { Logger } from 'winston';
import { allocate, lbServiceFromObject, OWNERSHIP_CONDITION_TYPE, ownershipCondition, type Decision, type LbService } from '../alloc/index.js';
import type { AllocationConfig } from '../config/types.js';
import { parseIp } from '../config/net.js';
import type { KubeClient } from '../kube/client.js';
import { projectService } from '../kube/project.js';
import { LIST_PAGE } from '../kube/watched-cache.js';
import { LeaseElector } from '../kube/lease.js';
import type { LeaseTimings } from '../kube/lease-decision.js';
import { isConflict, isNotFound, NotLeaderError, patchServiceStatus, type Fence, type IngressEntry } from '../kube/service-status.js';
import { errorText } from '../text/error.js';

/**
 * The load-balancer address allocator at work: on the agent that holds the allocator Lease, every change of a
 * Service or of the pools runs the pure core (src/alloc, `allocate`) over every Service and writes the statuses it
 * decides (docs/allocation.md § How it runs). Only the Lease holder writes, and every write is fenced twice
 * (src/kube/service-status.ts). What keeps a new holder from handing out an address twice:
 * 1. it starts from a consistent read: a full list of Services from the API server, taken after it acquired the
 *    Lease, so every write of the previous holder that landed is in it (the watch cache may still lag behind);
 * 2. the core imports every address already in a status before it hands one out;
 * 3. its own writes count at once: the Service the API server returns is kept until the watch cache shows that
 *    version or a newer one (resourceVersions of one resource compare as integers), so the next pass cannot hand
 *    out an address it has just written.
 */

/** The Lease side, as the allocator uses it (src/kube/lease.ts). */
export interface AllocatorElector extends Fence {
  readonly identity: string;
  start(): void;
  stop(opts?: { release: boolean }): Promise<void>;
  isLeader(): boolean;
}

export interface AllocatorOptions {
  elector: AllocatorElector;
  client: KubeClient;
  /** The watched Service cache (projected objects, src/kube/project.ts). */
  services: () => readonly V1Service[];
  /** Whether the Service cache has listed once. */
  synced: () => boolean;
  /** The pools and settings in force; undefined or without pools: nothing to allocate. */
  allocation: () => AllocationConfig | undefined;
  log: Logger;
  /** Changes within this window make one pass (default 100 ms). */
  debounceMs?: number;
  /** The wait before a pass after a failed write or a conflict (default 1 s). */
  retryMs?: number;
  /** The wall clock, for the condition's lastTransitionTime. */
  wallNow?: () => number;
}

/** What a pass did, for tests and logs. */
export interface AllocatorPassResult {
  ran: boolean;
  written: number;
  conflicts: number;
  pending: number;
}

/** A Service's newest version known to the allocator, when newer than the watch cache's. */
interface Newer {
  svc: V1Service;
  rv: bigint;
  /** When it was kept (monotonic ms): one the cache never shows (deleted meanwhile) is dropped after ORPHAN_MS. */
  at: number;
}

const ORPHAN_MS = 60_000;

/** Cache reasons that cannot change an allocation. */
const IRRELEVANT = new Set(['endpointslices', 'node']);

export class Allocator {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<AllocatorPassResult> | undefined;
  private again = false;
  private stopped = false;
  private electing = false;
  /** Counts acquisitions; the view below belongs to one of them. */
  private epoch = 0;
  private viewEpoch = -1;
  private readonly newer = new Map<string, Newer>();
  /** The last pending reason logged per Service uid (each is logged when it changes, not on every pass). */
  private readonly pendingLogged = new Map<string, string>();

  constructor(private readonly opts: AllocatorOptions) {}

  /** Whether this agent holds the allocator Lease now (and may write). */
  isLeader(): boolean {
    return this.opts.elector.isLeader();
  }

  /** Something changed (a cache name, 'config-file', 'drift', ...): a pass soon. */
  kick(reason: string): void {
    if (this.stopped || IRRELEVANT.has(reason)) return;
    this.schedule(this.opts.debounceMs ?? 100);
  }

  /** Called by the elector's onLeadership. */
  leadershipChanged(leader: boolean): void {
    if (leader) this.epoch++;
    else this.forgetView();
    this.kick('lease');
  }

  /**
   * Stops. `release` (a graceful shutdown): gives the Lease up so another agent takes over at once. Without it the
   * Lease is left to expire, as when the Pod dies.
   */
  async stop(opts: { release: boolean } = { release: true }): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    await this.opts.elector.stop(opts);
  }

  /** One pass now (tests; the timer calls it otherwise). Passes never overlap: a call during one waits for it. */
  async pass(): Promise<AllocatorPassResult> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.passOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pass()
        .catch((err: unknown) => {
          this.opts.log.error('allocator pass failed; trying again', { error: errorText(err) });
          return { ran: false, written: 0, conflicts: 1, pending: 0 };
        })
        .then((r) => {
          if (this.again || r.conflicts > 0) {
            this.again = false;
            this.schedule(r.conflicts > 0 ? (this.opts.retryMs ?? 1000) : (this.opts.debounceMs ?? 100));
          }
        });
    }, delayMs);
  }

  private forgetView(): void {
    this.viewEpoch = -1;
    this.newer.clear();
  }

  private async passOnce(): Promise<AllocatorPassResult> {
    const none: AllocatorPassResult = { ran: false, written: 0, conflicts: 0, pending: 0 };
    if (this.stopped) return none;
    const allocation = this.opts.allocation();
    if (!allocation || allocation.pools.length === 0) {
      if (this.electing) {
        this.electing = false;
        this.opts.log.info('no load-balancer IPPool in force: this agent stops taking part in address allocation', {});
        await this.opts.elector.stop({ release: true });
        this.forgetView();
      }
      return none;
    }
    if (!this.electing) {
      this.electing = true;
      this.opts.log.info('load-balancer IPPools in force: this agent takes part in the allocator election', {
        identity: this.opts.elector.identity,
        pools: allocation.pools.map((p) => `${p.name} ${p.cidr.cidr}`),
      });
      this.opts.elector.start();
    }
    const { elector } = this.opts;
    if (!elector.isLeader()) {
      this.forgetView();
      return none;
    }
    if (this.viewEpoch !== this.epoch) {
      const epoch = this.epoch;
      await this.readConsistently();
      if (!elector.isLeader() || epoch !== this.epoch) return none;
      this.viewEpoch = epoch;
    }
    if (!this.opts.synced()) return none;

    const view = this.view();
    const { decisions } = allocate(
      allocation.pools,
      allocation.settings,
      [...view.values()].map((v) => v.lb),
    );
    const result: AllocatorPassResult = { ran: true, written: 0, conflicts: 0, pending: 0 };
    this.logPending(decisions, result);

    const done = new Set<string>();
    const writes = decisions.filter((d) => d.write);
    // AddedAddress.after: an address released by another Service in this plan is written only once that release landed.
    const first = writes.filter((d) => !d.added.some((a) => a.after));
    const second = writes.filter((d) => d.added.some((a) => a.after));
    for (const round of [first, second]) {
      for (const d of round) {
        if (d.added.some((a) => a.after && !done.has(a.after.uid))) continue;
        const entry = view.get(d.service.uid);
        if (!entry) continue;
        const outcome = await this.write(entry.svc, entry.lb, d);
        if (outcome === 'not-leader') return result;
        if (outcome === 'written') {
          done.add(d.service.uid);
          result.written++;
        } else if (outcome === 'conflict') result.conflicts++;
      }
    }
    if (second.some((d) => !done.has(d.service.uid))) result.conflicts++; // a release did not land: look again soon
    return result;
  }

  /** The first view of a new holder: every Service as the API server has it now (docs: see the header). */
  private async readConsistently(): Promise<void> {
    const started = performance.now();
    const list = await this.opts.client.listAll<unknown, V1Service>('/api/v1/services', {}, LIST_PAGE, projectService);
    this.newer.clear();
    const now = this.opts.elector.now();
    for (const svc of list.items) {
      const uid = svc.metadata?.uid;
      const rv = resourceVersion(svc);
      if (uid && rv !== undefined && relevant(svc)) this.newer.set(uid, { svc, rv, at: now });
    }
    this.opts.log.info('allocator lease held: read every Service from the API server before allocating', {
      identity: this.opts.elector.identity,
      services: list.items.length,
      ms: Math.round(performance.now() - started),
    });
  }

  /** The Services to allocate over, by uid: the watch cache, each replaced by a newer version the allocator knows. */
  private view(): Map<string, { svc: V1Service; lb: LbService }> {
    const out = new Map<string, { svc: V1Service; lb: LbService }>();
    const seen = new Set<string>();
    for (const cached of this.opts.services()) {
      const uid = cached.metadata?.uid;
      if (!uid) continue;
      seen.add(uid);
      const n = this.newer.get(uid);
      const rv = resourceVersion(cached);
      let svc = cached;
      if (n && (rv === undefined || n.rv > rv)) svc = n.svc;
      else if (n) this.newer.delete(uid);
      if (relevant(svc)) out.set(uid, { svc, lb: lbServiceFromObject(svc) });
    }
    const now = this.opts.elector.now();
    for (const [uid, n] of this.newer) {
      if (seen.has(uid)) continue;
      if (now - n.at > ORPHAN_MS) this.newer.delete(uid);
      else out.set(uid, { svc: n.svc, lb: lbServiceFromObject(n.svc) });
    }
    return out;
  }

  private async write(svc: V1Service, lb: LbService, d: Decision): Promise<'written' | 'conflict' | 'gone' | 'failed' | 'not-leader'> {
    const who = `${d.service.namespace}/${d.service.name}`;
    const addresses = d.addresses.map((a) => a.address);
    const released = new Set(d.released);
    const ingress: IngressEntry[] = (svc.status?.loadBalancer?.ingress ?? []).filter(
      (e) => !(typeof e.ip === 'string' && released.has(parseIp(e.ip)?.text ?? e.ip)),
    ) as IngressEntry[];
    for (const a of d.added) if (!ingress.some((e) => typeof e.ip === 'string' && parseIp(e.ip)?.text === a.address)) ingress.push({ ip: a.address });
    const at = new Date((this.opts.wallNow ?? Date.now)()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    try {
      const answer = await patchServiceStatus(
        this.opts.client,
        {
          namespace: lb.namespace,
          name: lb.name,
          uid: lb.uid,
          resourceVersion: svc.metadata?.resourceVersion ?? '',
          ingress,
          conditionType: OWNERSHIP_CONDITION_TYPE,
          condition: ownershipCondition(addresses, at),
        },
        this.opts.elector,
      );
      const written = projectService(answer);
      const rv = resourceVersion(written);
      if (rv !== undefined) this.newer.set(lb.uid, { svc: written, rv, at: this.opts.elector.now() });
      this.opts.log.info(d.action === 'free' ? 'load-balancer addresses taken back' : 'load-balancer addresses written', {
        service: who,
        addresses,
        added: d.added.map((a) => a.address),
        released: d.released,
        reason: d.reason.text,
        ...(d.releases.length > 0 ? { releases: d.releases.map((r) => `${r.address}: ${r.code}`) } : {}),
      });
      return 'written';
    } catch (err) {
      if (err instanceof NotLeaderError) {
        this.opts.log.warn('allocator lease no longer valid: stopping the pass before the next status write', { service: who });
        return 'not-leader';
      }
      if (isConflict(err)) {
        this.opts.log.info('Service changed since it was read: allocating again from the newer version', { service: who });
        return 'conflict';
      }
      if (isNotFound(err)) {
        this.newer.delete(lb.uid);
        return 'gone';
      }
      this.opts.log.warn('could not write the load-balancer status; trying again', { service: who, error: errorText(err) });
      return 'conflict';
    }
  }

  private logPending(decisions: readonly Decision[], result: AllocatorPassResult): void {
    const present = new Set<string>();
    for (const d of decisions) {
      present.add(d.service.uid);
      if (d.action !== 'pending') {
        this.pendingLogged.delete(d.service.uid);
        continue;
      }
      result.pending++;
      const key = `${d.reason.code}\n${d.reason.text}`;
      if (this.pendingLogged.get(d.service.uid) === key) continue;
      this.pendingLogged.set(d.service.uid, key);
      this.opts.log.info('no load-balancer address for a Service', {
        service: `${d.service.namespace}/${d.service.name}`,
        code: d.reason.code,
        reason: d.reason.text,
      });
    }
    for (const uid of this.pendingLogged.keys()) if (!present.has(uid)) this.pendingLogged.delete(uid);
  }
}

/** A Service the core must see: a LoadBalancer, or one whose status holds addresses or svcbgp's condition. */
function relevant(svc: V1Service): boolean {
  return (
    svc.spec?.type === 'LoadBalancer' ||
    (svc.status?.loadBalancer?.ingress?.length ?? 0) > 0 ||
    (svc.status?.conditions ?? []).some((c) => c.type === OWNERSHIP_CONDITION_TYPE)
  );
}

/** metadata.resourceVersion as an integer (comparable between versions of one resource); undefined if it is not one. */
function resourceVersion(svc: V1Service): bigint | undefined {
  const rv = svc.metadata?.resourceVersion;
  return rv !== undefined && /^[1-9][0-9]{0,30}$/.test(rv) ? BigInt(rv) : undefined;
}

export const ALLOCATOR_LEASE_NAME = 'svcbgp-allocator';

/** An Allocator with its own LeaseElector (src/kube/lease.ts) in `namespace`, wired both ways. */
export function createAllocator(
  o: Omit<AllocatorOptions, 'elector'> & { namespace: string; identity: string; leaseName?: string; timings?: LeaseTimings },
): Allocator {
  let allocator: Allocator | undefined;
  const elector = new LeaseElector({
    client: o.client,
    namespace: o.namespace,
    name: o.leaseName ?? ALLOCATOR_LEASE_NAME,
    identity: o.identity,
    log: o.log,
    ...(o.timings ? { timings: o.timings } : {}),
    onLeadership: (leader) => allocator?.leadershipChanged(leader),
  });
  allocator = new Allocator({ ...o, elector });
  return allocator;
}
