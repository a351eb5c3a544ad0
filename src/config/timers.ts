/**
 * BGP and BFD timers of the peers svcbgp configures: svcbgp's defaults (keepalive 3 s, hold 9 s: the hold time is
 * how long a dead node is black-holed), and how a BGPPeer's fields resolve to the two numbers gobgpd takes. Pure.
 * Why these numbers: docs/design.md § BGP and BFD timers; measurements: docs/timers.md.
 */
import type { BfdSettings } from '../model/peer.js';

/** svcbgp's defaults, seconds (not gobgpd's: src/gobgp/peer-defaults.ts DEFAULT_HOLD_TIME is gobgpd's own 90 s). */
export const SVCBGP_KEEPALIVE_TIME = 3;
export const SVCBGP_HOLD_TIME = 9;
/** RFC 4271 4.2: the hold time is 0 or at least 3 s; gobgpd takes 0 as "its default, 90 s", so 0 is refused. */
export const MIN_HOLD_TIME = 3;
/** The OPEN message carries the hold time in 16 bits. */
export const MAX_HOLD_TIME = 65535;

/**
 * svcbgp's BFD timers (the BGPPeer's `bfd` block overrides them): 300 ms x 3 = 0.9 s detection, the common
 * default of FRR's bfdd and BIRD's `bfd` protocol tuned for a LAN, and what gobgpd's own docs show.
 */
export const DEFAULT_BFD: Readonly<BfdSettings> = { minimumSendIntervalMs: 300, minimumRecvIntervalMs: 300, multiplier: 3 };
/** BFD intervals svcbgp accepts, ms: below 50 ms gobgpd's Go timers on a busy node cause false positives. */
export const BFD_INTERVAL_RANGE_MS = { min: 50, max: 60_000 } as const;
export const BFD_MULTIPLIER_RANGE = { min: 2, max: 255 } as const;

export interface Timers {
  keepaliveTime: number;
  holdTime: number;
}

/**
 * The timers for a BGPPeer's (validated) fields. Only keepaliveTime: hold = 3 x keepalive (RFC 4271's suggested
 * ratio; Calico's keepaliveTime sets only the keepalive). Only holdTime: keepalive = hold / 3, at least 1 s.
 */
export function resolveTimers(keepaliveTime?: number, holdTime?: number): Timers {
  if (keepaliveTime !== undefined && holdTime !== undefined) return { keepaliveTime, holdTime };
  if (keepaliveTime !== undefined) return { keepaliveTime, holdTime: Math.min(MAX_HOLD_TIME, keepaliveTime * 3) };
  if (holdTime !== undefined) return { keepaliveTime: Math.max(1, Math.floor(holdTime / 3)), holdTime };
  return { keepaliveTime: SVCBGP_KEEPALIVE_TIME, holdTime: SVCBGP_HOLD_TIME };
}

/** Problems of a timer pair as written: errors reject the BGPPeer, warnings are said and accepted. */
export function timerProblems(keepaliveTime: number | undefined, holdTime: number | undefined): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (holdTime !== undefined && holdTime < MIN_HOLD_TIME) {
    errors.push(
      holdTime === 0
        ? 'a hold time of 0 (no keepalives, a dead peer is never detected) is not supported: gobgpd takes 0 as its default, 90s; use at least 3s'
        : `the hold time must be at least ${MIN_HOLD_TIME}s (RFC 4271 4.2)`,
    );
    return { errors, warnings };
  }
  if (keepaliveTime !== undefined && holdTime !== undefined) {
    if (keepaliveTime >= holdTime) {
      errors.push(
        `keepaliveTime (${keepaliveTime}s) must be shorter than holdTime (${holdTime}s): the peer would expire the session between two keepalives; RFC 4271 suggests keepalive = hold / 3`,
      );
    } else if (keepaliveTime * 3 > holdTime) {
      warnings.push(
        `keepaliveTime (${keepaliveTime}s) is more than a third of holdTime (${holdTime}s): fewer than three keepalives per hold time, so one late keepalive can reset the session`,
      );
    }
  }
  return { errors, warnings };
}
