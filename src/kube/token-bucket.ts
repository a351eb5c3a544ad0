/**
 * A token bucket: up to `burst` actions at once, then `perSecond` on average. The clock is the caller's
 * (milliseconds), so tests drive it and nothing here reads the time.
 */
export class TokenBucket {
  private tokens: number;
  private last: number | undefined;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
  ) {
    this.tokens = burst;
  }

  /** Takes one token if there is one at `nowMs`. */
  take(nowMs: number): boolean {
    if (this.last !== undefined && nowMs > this.last) this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.last) / 1000) * this.perSecond);
    if (this.last === undefined || nowMs > this.last) this.last = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
