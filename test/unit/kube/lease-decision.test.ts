import { expect } from 'chai';
import fc from 'fast-check';
import {
  DEFAULT_LEASE_TIMINGS,
  holderDeadline,
  leaseTimingsProblem,
  leaseValidAt,
  microTime,
  nextLeaseAction,
  type LeaseObservation,
} from '../../../src/kube/lease-decision.js';

const T = DEFAULT_LEASE_TIMINGS;
const held = (holder: string | undefined, observedAt: number, durationMs = 8000): LeaseObservation => ({ holder, durationMs, observedAt });

describe('kube/lease-decision: who allocates', () => {
  it('creates a Lease that does not exist, renews its own, takes a released one', () => {
    expect(nextLeaseAction('a', undefined, 0)).to.deep.equal({ kind: 'create' });
    expect(nextLeaseAction('a', held('a', 0), 1_000_000)).to.deep.equal({ kind: 'renew' });
    expect(nextLeaseAction('a', held('', 100), 100)).to.deep.equal({ kind: 'take-over', why: 'released' });
    expect(nextLeaseAction('a', held(undefined, 100), 100)).to.deep.equal({ kind: 'take-over', why: 'released' });
  });

  it("waits for another holder's duration counted from when it last saw the Lease change, then takes over", () => {
    expect(nextLeaseAction('a', held('b', 1000), 8999)).to.deep.equal({ kind: 'wait', holder: 'b', expiresAt: 9000 });
    expect(nextLeaseAction('a', held('b', 1000), 9000)).to.deep.equal({ kind: 'take-over', why: 'expired' });
    // the holder's own duration counts, not ours
    expect(nextLeaseAction('a', held('b', 1000, 15_000), 9000)).to.deep.equal({ kind: 'wait', holder: 'b', expiresAt: 16_000 });
  });

  it('the holder acts only before its last successful renewal was sent + duration - margin', () => {
    expect(holderDeadline(1000, T)).to.equal(7000);
    expect(leaseValidAt(1000, 6999, T)).to.equal(true);
    expect(leaseValidAt(1000, 7000, T)).to.equal(false);
    expect(leaseValidAt(undefined, 0, T)).to.equal(false);
  });

  it('property: a holder has stopped acting, by the margin, before any candidate may take over', () => {
    // The candidate sees the renewal only after it was sent (observedAt >= sentAt); both clocks run at rates that
    // differ by less than 10 %: the holder's deadline, in the candidate's time, still comes before the take-over.
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.double({ min: 0.9, max: 1.1, noNaN: true }),
        (sentAt, delay, rate) => {
          const observedAt = sentAt + delay;
          const takeOverAt = nextLeaseAction('c', held('h', observedAt, T.leaseDurationMs), observedAt + T.leaseDurationMs);
          expect(takeOverAt.kind).to.equal('take-over');
          // the holder's remaining time after sending, measured by its own clock, as the candidate's clock sees it
          const holderStopsAt = sentAt + (holderDeadline(sentAt, T) - sentAt) * rate;
          expect(holderStopsAt).to.be.lessThan(observedAt + T.leaseDurationMs);
          // and while the candidate still waits, the holder may still act only within its deadline
          expect(nextLeaseAction('c', held('h', observedAt, T.leaseDurationMs), observedAt + T.leaseDurationMs - 1).kind).to.equal('wait');
        },
      ),
    );
  });

  it('refuses timings under which the holder would lose the lease between two renewals', () => {
    expect(leaseTimingsProblem(T)).to.equal(undefined);
    expect(leaseTimingsProblem({ leaseDurationMs: 4000, renewIntervalMs: 2000, safetyMarginMs: 2000 })).to.match(
      /must be shorter than the lease duration 4000 ms/,
    );
    expect(leaseTimingsProblem({ leaseDurationMs: 1500, renewIntervalMs: 200, safetyMarginMs: 200 })).to.match(/whole seconds/);
  });

  it('writes MicroTime with microseconds', () => {
    expect(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).to.equal('2026-01-02T03:04:05.678000Z');
  });
});
