import type { Logger } from 'winston';
import { KubeApiError, type KubeClient } from './client.js';
import {
  DEFAULT_LEASE_TIMINGS,
  leaseTimingsProblem,
  leaseValidAt,
  microTime,
  nextLeaseAction,
  type LeaseObservation,
  type LeaseTimings,
} from './lease-decision.js';
import { errorText } from '../text/error.js';

/**
 * Leader election over a coordination.k8s.io/v1 Lease: the Kubernetes side of ./lease-decision.ts. Every update of
 * the Lease is a PUT carrying the resourceVersion it was based on, so two candidates that act on the same view
 * cannot both win: the second gets 409 Conflict and looks again.
 */

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaseElectorOptions {
  client: KubeClient;
  namespace: string;
  /** metadata.name of the Lease. */
  name: string;
  /** This candidate (unique among the candidates: the agent uses its node name). */
  identity: string;
  log: Logger;
  timings?: LeaseTimings;
  /** Called when this candidate becomes leader (true) or stops being leader (false). */
  onLeadership?: (leader: boolean) => void;
  /** The local monotonic clock in ms (tests inject one). */
  monotonicNow?: () => number;
  /** The wall clock in ms, only for the Lease's acquireTime / renewTime text. */
  wallNow?: () => number;
}

/** The labels the Lease is created with. */
const LEASE_LABELS = { 'app.kubernetes.io/name': 'svcbgp', 'app.kubernetes.io/component': 'allocator' };

export class LeaseElector {
  readonly timings: LeaseTimings;
  private readonly clock: () => number;
  private readonly wall: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  /** The Lease as last read or written, and when its resourceVersion was first seen. */
  private lease: Lease | undefined;
  private observedAt = 0;
  /** When the last successful renewal (or acquisition) was sent; undefined while not holding. */
  private renewSentAt: number | undefined;
  private leader = false;
  private lastWaitLogged: string | undefined;

  constructor(private readonly opts: LeaseElectorOptions) {
    this.timings = opts.timings ?? DEFAULT_LEASE_TIMINGS;
    const problem = leaseTimingsProblem(this.timings);
    if (problem) throw new Error(`leader election: ${problem}`);
    this.clock = opts.monotonicNow ?? (() => performance.now());
    this.wall = opts.wallNow ?? Date.now;
  }

  /** The local monotonic clock this elector counts with (ms). */
  now(): number {
    return this.clock();
  }

  get identity(): string {
    return this.opts.identity;
  }

  /** Whether this candidate holds the lease and may act now (its deadline, with the safety margin, not passed). */
  isLeader(): boolean {
    return leaseValidAt(this.renewSentAt, this.clock(), this.timings);
  }

  /** The local monotonic time until which this candidate may act; undefined when it does not hold the lease. */
  validUntil(): number | undefined {
    return this.renewSentAt === undefined ? undefined : this.renewSentAt + this.timings.leaseDurationMs - this.timings.safetyMarginMs;
  }

  /** Starts trying to acquire (and then renewing) at once, then every renew interval. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /**
   * Stops. `release` (a graceful shutdown): a held lease is given up at once (holderIdentity emptied), so another
   * candidate takes over on its next look instead of after the lease duration. Without it the Lease is left as it
   * is, as a process that dies leaves it (the tests use that to stand for a dead Pod).
   */
  async stop(opts: { release: boolean } = { release: true }): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking?.catch(() => undefined);
    const held = this.renewSentAt !== undefined;
    this.setHolding(undefined);
    if (!opts.release || !held || !this.lease) return;
    const lease = this.lease;
    const spec = lease.spec ?? {};
    if (spec.holderIdentity !== this.opts.identity) return;
    try {
      await this.opts.client.put<Lease>(this.path(), { ...lease, spec: { ...spec, holderIdentity: '', leaseDurationSeconds: 1 } }, this.requestOptions());
      this.opts.log.info('released the allocator lease', { lease: this.leaseName(), identity: this.opts.identity });
    } catch (err) {
      this.opts.log.warn('could not release the allocator lease; another agent takes over once it expires', {
        lease: this.leaseName(),
        error: errorText(err),
      });
    }
  }

  /** One look at the Lease (tests call it directly; start() calls it every renew interval). */
  async tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.tickOnce().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick().finally(() => this.schedule(this.timings.renewIntervalMs));
    }, delayMs);
  }

  private async tickOnce(): Promise<void> {
    try {
      if (this.renewSentAt === undefined || !this.lease) await this.read();
      const action = nextLeaseAction(this.opts.identity, this.observation(), this.clock());
      if (action.kind === 'create') await this.create();
      else if (action.kind === 'renew' || action.kind === 'take-over') await this.update(action.kind === 'take-over' ? action.why : undefined);
      else {
        this.setHolding(undefined);
        if (this.lastWaitLogged !== action.holder) {
          this.lastWaitLogged = action.holder;
          this.opts.log.info('another agent holds the allocator lease', { lease: this.leaseName(), holder: action.holder, identity: this.opts.identity });
        }
      }
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 409) {
        // Someone else changed the Lease first: read it again at the next look.
        this.lease = undefined;
        if (this.renewSentAt !== undefined) {
          this.opts.log.warn('lost the allocator lease: another agent updated it first', { lease: this.leaseName(), identity: this.opts.identity });
        }
        this.setHolding(undefined);
        return;
      }
      // Nothing else ends leadership at once: it ends when the deadline passes without a successful renewal.
      this.opts.log.warn('allocator lease: request failed; trying again', {
        lease: this.leaseName(),
        identity: this.opts.identity,
        error: errorText(err),
        ...(this.renewSentAt !== undefined ? { leaderForMs: Math.max(0, Math.round((this.validUntil() ?? 0) - this.clock())) } : {}),
      });
      if (this.renewSentAt !== undefined && !this.isLeader()) this.setHolding(undefined);
    }
  }

  private observation(): LeaseObservation | undefined {
    if (!this.lease) return undefined;
    const spec = this.lease.spec ?? {};
    return { holder: spec.holderIdentity, durationMs: (spec.leaseDurationSeconds ?? 0) * 1000, observedAt: this.observedAt };
  }

  private async read(): Promise<void> {
    try {
      this.note(await this.opts.client.get<Lease>(this.path(), {}, this.requestOptions()));
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) {
        this.lease = undefined;
        return;
      }
      throw err;
    }
  }

  /** Keeps the Lease; a new resourceVersion restarts the candidate's count of the holder's duration. */
  private note(lease: Lease): void {
    const rv = lease.metadata?.resourceVersion;
    if (rv === undefined || rv !== this.lease?.metadata?.resourceVersion) this.observedAt = this.clock();
    this.lease = lease;
  }

  private async create(): Promise<void> {
    const sentAt = this.clock();
    const at = microTime(this.wall());
    const body: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.opts.name, namespace: this.opts.namespace, labels: LEASE_LABELS },
      spec: {
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: this.timings.leaseDurationMs / 1000,
        acquireTime: at,
        renewTime: at,
        leaseTransitions: 0,
      },
    };
    const created = await this.opts.client.post<Lease>(
      `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.opts.namespace)}/leases`,
      body,
      this.requestOptions(),
    );
    this.note(created);
    this.setHolding(sentAt, 'created');
  }

  private async update(takeOver: 'released' | 'expired' | undefined): Promise<void> {
    const lease = this.lease as Lease;
    const spec = lease.spec ?? {};
    const sentAt = this.clock();
    const at = microTime(this.wall());
    const next: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: this.timings.leaseDurationMs / 1000,
        renewTime: at,
        ...(takeOver ? { acquireTime: at, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
      },
    };
    const written = await this.opts.client.put<Lease>(this.path(), next, this.requestOptions());
    this.note(written);
    this.setHolding(sentAt, takeOver ? `took over (${takeOver}) from ${spec.holderIdentity || '(nobody)'}` : undefined);
  }

  private setHolding(sentAt: number | undefined, how?: string): void {
    this.renewSentAt = sentAt;
    const leader = sentAt !== undefined;
    if (leader === this.leader) return;
    this.leader = leader;
    this.lastWaitLogged = undefined;
    if (leader) this.opts.log.info('acquired the allocator lease', { lease: this.leaseName(), identity: this.opts.identity, how });
    else this.opts.log.info('no longer holds the allocator lease', { lease: this.leaseName(), identity: this.opts.identity });
    this.opts.onLeadership?.(leader);
  }

  /** A Lease request that takes longer than a renew interval is abandoned (the next look tries again). */
  private requestOptions(): { timeoutMs: number } {
    return { timeoutMs: Math.max(1000, this.timings.renewIntervalMs) };
  }

  private path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.opts.namespace)}/leases/${encodeURIComponent(this.opts.name)}`;
  }

  private leaseName(): string {
    return `${this.opts.namespace}/${this.opts.name}`;
  }
}
