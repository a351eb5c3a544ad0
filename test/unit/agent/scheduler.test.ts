import { expect } from 'chai';
import { LEADING_BURST, PassScheduler } from '../../../src/agent/scheduler.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PassScheduler: coalescing, one pass at a time, dirty re-run', () => {
  it('a burst of triggers becomes one pass that sees every reason', async () => {
    const passes: string[][] = [];
    const s = new PassScheduler(async (reasons) => {
      passes.push([...reasons].sort());
      return 'done';
    }, { debounceMs: 30, maxDelayMs: 300, retryMs: 50 });
    for (let i = 0; i < 100; i++) s.trigger(i % 2 ? 'services' : 'endpointslices');
    await sleep(100);
    await s.idle();
    expect(passes).to.deep.equal([['endpointslices', 'services']]);
    s.stop();
  });

  it('later() from inside a running pass: a pass after that delay, not after the debounce (the end of a drain time)', async () => {
    const passes: { at: number; reasons: string[] }[] = [];
    const t0 = Date.now();
    let first = true;
    const s = new PassScheduler(async (reasons) => {
      passes.push({ at: Date.now() - t0, reasons: [...reasons] });
      if (first) {
        first = false;
        s.later('drain-time', 300);
      }
      return 'done';
    }, { debounceMs: 10, maxDelayMs: 100, retryMs: 50 });
    s.trigger('node');
    await sleep(200);
    expect(passes.map((p) => p.reasons), 'before the delay: only the first pass').to.deep.equal([['node']]);
    await sleep(250);
    await s.idle();
    expect(passes.map((p) => p.reasons)).to.deep.equal([['node'], ['drain-time']]);
    expect(passes[1]!.at).to.be.at.least(300);
    s.stop();
  });

  it('stop() cancels what later() asked for', async () => {
    let count = 0;
    const s = new PassScheduler(async () => {
      count++;
      return 'done';
    }, { debounceMs: 10, maxDelayMs: 100, retryMs: 50 });
    s.later('drain-time', 50);
    s.stop();
    await sleep(100);
    expect(count).to.equal(0);
  });

  it('a trigger during a running pass causes exactly one more pass, never two at once', async () => {
    let running = 0;
    let maxRunning = 0;
    let count = 0;
    const s = new PassScheduler(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      count++;
      await sleep(60);
      running--;
      return 'done';
    }, { debounceMs: 5, maxDelayMs: 50, retryMs: 50 });
    s.trigger('a');
    await sleep(20); // pass 1 running
    s.trigger('b');
    s.trigger('c');
    s.trigger('d');
    await sleep(20);
    await s.idle();
    await sleep(20);
    await s.idle();
    expect(count).to.equal(2);
    expect(maxRunning).to.equal(1);
    s.stop();
  });

  it('a steady stream of triggers still runs a pass within maxDelay (no starvation by the debounce)', async () => {
    let count = 0;
    const s = new PassScheduler(async () => {
      count++;
      return 'done';
    }, { debounceMs: 40, maxDelayMs: 100, retryMs: 50 });
    const t = setInterval(() => s.trigger('x'), 10);
    await sleep(350);
    clearInterval(t);
    s.stop();
    expect(count).to.be.greaterThan(0);
  });

  it('a pass that asks for a retry (or throws) runs again after retryMs', async () => {
    let count = 0;
    const errors: unknown[] = [];
    const s = new PassScheduler(async () => {
      count++;
      if (count === 1) return 'retry';
      if (count === 2) throw new Error('boom');
      return 'done';
    }, { debounceMs: 1, maxDelayMs: 10, retryMs: 20 }, (e) => errors.push(e));
    s.trigger('x');
    await sleep(150);
    await s.idle();
    expect(count).to.equal(3);
    expect(String(errors[0])).to.contain('boom');
    s.stop();
  });

  it('lone triggers run at once, without waiting for the debounce window, until the leading-edge budget is spent', async () => {
    // The window is 30 s and the test waits at most 5 s per step: only a leading-edge pass can be seen (no timing
    // threshold). Refill is one token per 30 s, so the budget (LEADING_BURST) is what this run has.
    let count = 0;
    const s = new PassScheduler(async () => {
      count++;
      return 'done';
    }, { debounceMs: 30_000, maxDelayMs: 300_000, retryMs: 50 });
    const until = async (n: number): Promise<void> => {
      for (let i = 0; i < 500 && count < n; i++) await sleep(10);
    };
    for (let n = 1; n <= LEADING_BURST; n++) {
      s.trigger(`change-${n}`); // right after the previous pass: a lone event still goes out at once
      await until(n);
      expect(count, `trigger ${n} ran before the 30 s window`).to.equal(n);
    }
    s.trigger('one-too-many'); // a stream faster than one per window: debounced again
    await sleep(200);
    expect(count).to.equal(LEADING_BURST);
    s.stop();
  });

  it('a burst after a quiet period: a leading pass, then everything that came during it in one trailing pass', async () => {
    const passes: string[][] = [];
    const s = new PassScheduler(async (reasons) => {
      passes.push([...reasons].sort());
      await sleep(30);
      return 'done';
    }, { debounceMs: 20, maxDelayMs: 200, retryMs: 50 });
    s.trigger('e0');
    await sleep(5); // the leading pass is running
    for (let i = 1; i <= 200; i++) s.trigger(`e${i}`);
    await sleep(120);
    await s.idle();
    expect(passes.map((p) => p.length)).to.deep.equal([1, 200]);
    s.stop();
  });
});
