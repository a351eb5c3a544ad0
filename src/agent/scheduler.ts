/**
 * Runs reconcile passes one at a time and coalesces the triggers that arrive meanwhile (level-triggered: a pass never
 * sees which events happened). The window between the end of a pass and the next is what passes cost lately — the
 * median of the last few, at least 1 ms, at most --debounce — so a lone change goes out at once, a change that lands
 * during a pass goes out a few ms after it, and a stream is batched: the busier, the bigger the batches
 * (docs/design.md § Coalescing). A trigger never pushes an armed pass later, so a stream cannot starve the passes.
 */

/** Pass durations the window is the median of. */
export const WINDOW_SAMPLES = 8;
/** The shortest window between two passes. */
export const MIN_WINDOW_MS = 1;

export interface SchedulerOptions {
  /** The longest window between the end of a pass and the next one while changes are pending (--debounce). */
  maxWindowMs: number;
  /** Delay before retrying after a pass that asked for it or threw. */
  retryMs: number;
  now?: () => number;
}

export type Pass = (reasons: ReadonlySet<string>) => Promise<'done' | 'retry'>;

export class PassScheduler {
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private running: Promise<void> | undefined;
  private pending = new Set<string>();
  private stopped = false;
  private lastEndedAt = -Infinity;
  /** After a pass that asked for a retry: no pass before this time, whatever triggers arrive. */
  private notBefore = -Infinity;
  private readonly costs: number[] = [];
  private readonly laterTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly pass: Pass,
    private readonly opts: SchedulerOptions,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Ask for a pass; `reason` is only for logs/metrics. `delayMs`: not before that long from now (unless one is armed sooner). */
  trigger(reason: string, delayMs?: number): void {
    if (this.stopped) return;
    this.pending.add(reason);
    if (this.running) return; // the running pass arms the next one when it ends
    const now = this.now();
    const at = delayMs !== undefined ? now + delayMs : Math.max(now, this.lastEndedAt + this.window());
    this.armAt(Math.max(at, this.notBefore));
  }

  /**
   * Ask for a pass `delayMs` from now (the end of a leaving node's drain time), also from inside a running pass. Not
   * trigger(reason, delayMs): a trigger during a pass only marks the state dirty, so the delay would be lost. Each
   * call keeps its own timer; stop() clears them.
   */
  later(reason: string, delayMs: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.laterTimers.delete(t);
      this.trigger(reason, 0);
    }, delayMs);
    this.laterTimers.add(t);
  }

  /** The current window between passes: the median cost of the recent passes, within [MIN_WINDOW_MS, maxWindowMs]. */
  window(): number {
    if (this.costs.length === 0) return MIN_WINDOW_MS;
    const sorted = [...this.costs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? MIN_WINDOW_MS;
    return Math.min(this.opts.maxWindowMs, Math.max(MIN_WINDOW_MS, median));
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
    this.clearTimer();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Arm the pass for `at`, or keep the armed one if it comes sooner. */
  private armAt(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - this.now()));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.stopped) return;
    const reasons = this.pending;
    this.pending = new Set();
    this.running = this.run(reasons);
  }

  private async run(reasons: Set<string>): Promise<void> {
    const started = this.now();
    let outcome: 'done' | 'retry' = 'done';
    try {
      outcome = await this.pass(reasons);
    } catch (err) {
      this.onError(err);
      outcome = 'retry';
    }
    this.lastEndedAt = this.now();
    this.costs.push(this.lastEndedAt - started);
    if (this.costs.length > WINDOW_SAMPLES) this.costs.shift();
    this.running = undefined;
    if (this.stopped) return;
    this.notBefore = outcome === 'retry' ? this.lastEndedAt + this.opts.retryMs : -Infinity;
    if (outcome === 'retry') {
      for (const r of reasons) this.pending.add(r);
      this.armAt(this.notBefore);
    } else if (this.pending.size > 0) {
      this.armAt(this.lastEndedAt + this.window());
    }
  }
}
