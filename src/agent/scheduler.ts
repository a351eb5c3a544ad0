/**
 * Coalesces bursts of triggers into single passes: a trigger arms a short debounce timer (restarted by
 * further triggers, but never delayed beyond `maxDelayMs` after the first one); only one pass runs at a
 * time; a trigger that arrives while a pass runs marks the state dirty and causes exactly one more pass
 * afterwards. Level-triggered: a pass never sees *which* events happened, only that something changed.
 *
 * Leading edge: the first trigger after a quiet period (no pass running, none armed, the last one ended at least
 * `debounceMs` ago) starts its pass at once (on the next turn of the event loop, so triggers of the same tick
 * still share it) instead of waiting a window meant for bursts: a lone Service change reaches gobgpd after one
 * pass, not after debounce + pass. A burst still coalesces: what arrives while that first pass runs waits for the
 * trailing pass, which is debounced as before. So a burst costs at most two passes more than its coalesced
 * minimum, and a lone event costs no debounce at all.
 */
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
  /** When the last pass ended; undefined before the first. */
  private lastEndedAt: number | undefined;
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
    const quiet = !this.timer && (this.lastEndedAt === undefined || Date.now() - this.lastEndedAt >= this.opts.debounceMs);
    this.arm(delayMs ?? (quiet ? 0 : this.opts.debounceMs));
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
      this.lastEndedAt = Date.now();
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
