/**
 * Who allocates load-balancer addresses: the decisions of the leader election over a coordination.k8s.io/v1 Lease,
 * pure (times are the local monotonic clock in milliseconds, passed in). ./lease.ts does the Kubernetes I/O.
 *
 * The rules are client-go's leaderelection package, with the holder's own deadline made explicit:
 * - A candidate never compares the Lease's renewTime with its own clock (the clocks of two nodes differ). It notes
 *   when it last saw the Lease change (a new resourceVersion) and counts the holder's leaseDurationSeconds from
 *   there: a holder that renews keeps changing it, a dead one stops.
 * - The holder counts its validity from the moment it SENT its last successful renewal, which is before the API
 *   server stored it and so before any candidate could have seen it; it stops acting a safety margin before the
 *   duration is over, for the difference in clock rates and the time a write it sent may still spend in flight
 *   (docs/allocation.md § How it runs).
 */

export interface LeaseTimings {
  /** spec.leaseDurationSeconds, in ms: a candidate takes over this long after the Lease last changed. */
  leaseDurationMs: number;
  /** How often the holder renews, and a candidate looks again. */
  renewIntervalMs: number;
  /** The holder stops acting this long before its lease ends (see the header). */
  safetyMarginMs: number;
}

/**
 * 8 s: leadership moves within 8-10 s of a dead holder (its last renewal, plus one retry interval of the candidate);
 * renewing every 2 s leaves three renewals that may fail before the holder's own deadline at 6 s; the 2 s margin is
 * far above any clock-rate difference over 8 s and what an API-server write normally takes.
 */
export const DEFAULT_LEASE_TIMINGS: LeaseTimings = { leaseDurationMs: 8000, renewIntervalMs: 2000, safetyMarginMs: 2000 };

/** The problem with a set of timings, or undefined when they work together. */
export function leaseTimingsProblem(t: LeaseTimings): string | undefined {
  if (t.leaseDurationMs < 1000 || t.leaseDurationMs % 1000 !== 0)
    return `lease duration ${t.leaseDurationMs} ms: must be whole seconds, at least 1 s (spec.leaseDurationSeconds)`;
  if (t.renewIntervalMs <= 0) return `renew interval ${t.renewIntervalMs} ms: must be positive`;
  if (t.safetyMarginMs <= 0) return `safety margin ${t.safetyMarginMs} ms: must be positive`;
  if (t.renewIntervalMs + t.safetyMarginMs >= t.leaseDurationMs)
    return `renew interval ${t.renewIntervalMs} ms + safety margin ${t.safetyMarginMs} ms must be shorter than the lease duration ${t.leaseDurationMs} ms, or the holder loses the lease between two renewals`;
  return undefined;
}

/** What a candidate knows of the Lease. */
export interface LeaseObservation {
  /** spec.holderIdentity; empty or absent: released. */
  holder: string | undefined;
  /** spec.leaseDurationSeconds in ms (the holder's, which may differ from ours). */
  durationMs: number;
  /** When (local monotonic clock) this candidate first saw the Lease as it is now (this resourceVersion). */
  observedAt: number;
}

export type LeaseAction =
  /** No Lease exists: create it, holding it. */
  | { kind: 'create' }
  /** We hold it: renew (update renewTime). */
  | { kind: 'renew' }
  /** Released, or expired by our observation: take it (update holderIdentity, acquireTime, leaseTransitions + 1). */
  | { kind: 'take-over'; why: 'released' | 'expired' }
  /** Another holds it and may be alive: look again; `expiresAt` is when it would count as expired. */
  | { kind: 'wait'; holder: string; expiresAt: number };

/** The next step of candidate `me`, given the Lease as observed (undefined: there is none). */
export function nextLeaseAction(me: string, lease: LeaseObservation | undefined, now: number): LeaseAction {
  if (!lease) return { kind: 'create' };
  if (lease.holder === me) return { kind: 'renew' };
  if (lease.holder === undefined || lease.holder === '') return { kind: 'take-over', why: 'released' };
  const expiresAt = lease.observedAt + Math.max(0, lease.durationMs);
  if (now >= expiresAt) return { kind: 'take-over', why: 'expired' };
  return { kind: 'wait', holder: lease.holder, expiresAt };
}

/** The holder's deadline: it may act until this time (exclusive), counted from when it sent the renewal that succeeded. */
export function holderDeadline(renewSentAt: number, t: LeaseTimings): number {
  return renewSentAt + t.leaseDurationMs - t.safetyMarginMs;
}

/** Whether a holder whose last successful renewal was sent at `renewSentAt` (undefined: none) may act at `now`. */
export function leaseValidAt(renewSentAt: number | undefined, now: number, t: LeaseTimings): boolean {
  return renewSentAt !== undefined && now < holderDeadline(renewSentAt, t);
}

/** Kubernetes MicroTime text (RFC 3339 with microseconds, UTC), as the Lease's acquireTime and renewTime are written. */
export function microTime(wallClockMs: number): string {
  return new Date(wallClockMs).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
