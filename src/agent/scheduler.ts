/**
 * Coalesces bursts of triggers into single passes: a trigger arms a short debounce timer (restarted by
 * further triggers, but never delayed beyond `maxDelayMs` after the first one); only one pass runs at a
 * time; a trigger that arrives while a pass runs marks the state dirty and causes exactly one more pass
 * afterwards. Level-triggered: a pass never sees *which* events happened, only that something changed.
 *
 * Leading edge: a trigger while nothing runs and nothing is armed starts its pass at once (on the next turn of the
 * event loop, so triggers of the same tick still share it) instead of waiting a window meant for bursts — as long as
 * the leading-edge budget allows: a token bucket of LEADING_BURST passes, refilled by one per `debounceMs`. Lone
 * events (a Service change now and then, between Node heartbeats and lease renewals) never wait; a stream of
 * events faster than one per `debounceMs` uses up the bucket and is then debounced and coalesced as before. What
 * arrives while a pass runs always waits for the trailing pass, which is debounced. Measured with `npm run bench`:
 * the earlier rule ("quiet" = the last pass ended at least `debounceMs` ago) made every change that followed an
 * unrelated pass by less than 200 ms wait the whole window: event to RIB p90 277 ms at 10,000 Services.
 */
/** Leading-edge passes allowed back to back before triggers are debounced again. */
export const LEADING_BURST = 3;

export interface SchedulerOptions {
  debounceMs: number;
  maxDelayMs: number;
  /** Delay before retrying after a pass that threw (the pass decides whether it wants a retry). */
  retryMs: number;
}

export type Pass = (reasons: ReadonlySet<string>) => Promise<'done' | 'retry'>;

export class PassScheduler {
  private timer: NodeJS.Timeout | undefined;
  private firstTriggerAt: number | undefined;
  private running: Promise<void> | undefined;
  private pending = new Set<string>();
  private stopped = false;
  /** Leading-edge budget (see the header): tokens, and when they were last counted. */
  private tokens = LEADING_BURST;
  private tokensAt = Date.now();
  private readonly laterTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly pass: Pass,
    private readonly opts: SchedulerOptions,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Ask for a pass; `reason` is only for logs/metrics. */
  trigger(reason: string, delayMs?: number): void {
    if (this.stopped) return;
    this.pending.add(reason);
    if (this.running) return; // picked up when the running pass ends
    if (delayMs !== undefined) return this.arm(delayMs);
    if (this.timer) return this.arm(this.opts.debounceMs);
    this.arm(this.takeToken() ? 0 : this.opts.debounceMs);
  }

  /**
   * Ask for a pass `delayMs` from now (the end of a leaving node's drain time), also from inside a running pass. Not
   * trigger(reason, delayMs): a trigger during a pass only marks the state dirty, and the pass after it comes after the
   * debounce, so the delay would be lost. Each call keeps its own timer; stop() clears them.
   */
  later(reason: string, delayMs: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.laterTimers.delete(t);
      this.trigger(reason, 0);
    }, delayMs);
    this.laterTimers.add(t);
  }

  /** Resolves when no pass is running and none is pending (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.timer) {
      if (this.running) await this.running;
      else await new Promise((r) => setTimeout(r, 5));
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.laterTimers) clearTimeout(t);
    this.laterTimers.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private takeToken(): boolean {
    const now = Date.now();
    const rate = Math.max(1, this.opts.debounceMs);
    this.tokens = Math.min(LEADING_BURST, this.tokens + (now - this.tokensAt) / rate);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private arm(delayMs: number, capped = true): void {
    const now = Date.now();
    this.firstTriggerAt ??= now;
    const latest = capped ? this.firstTriggerAt + this.opts.maxDelayMs : Infinity;
    const at = Math.min(now + delayMs, Math.max(latest, now));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - now));
  }

  private fire(): void {
    this.timer = undefined;
    this.firstTriggerAt = undefined;
    if (this.stopped) return;
    const reasons = this.pending;
    this.pending = new Set();
    this.running = (async () => {
      let outcome: 'done' | 'retry' = 'done';
      try {
        outcome = await this.pass(reasons);
      } catch (err) {
        this.onError(err);
        outcome = 'retry';
      }
      this.running = undefined;
      if (this.stopped) return;
      if (outcome === 'retry') {
        for (const r of reasons) this.pending.add(r);
        this.arm(this.opts.retryMs, false);
      } else if (this.pending.size > 0) {
        this.arm(this.opts.debounceMs);
      }
    })();
  }
}
