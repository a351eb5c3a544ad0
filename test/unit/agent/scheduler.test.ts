import { expect } from 'chai';
import { MIN_WINDOW_MS, PassScheduler } from '../../../src/agent/scheduler.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PassScheduler: one pass at a time, coalescing sized to what passes cost', () => {
  it('a burst of triggers becomes one pass that sees every reason', async () => {
    const passes: string[][] = [];
    const s = new PassScheduler(
      async (reasons) => {
        passes.push([...reasons].sort());
        return 'done';
      },
      { maxWindowMs: 30, retryMs: 50 },
    );
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
    const s = new PassScheduler(
      async (reasons) => {
        passes.push({ at: Date.now() - t0, reasons: [...reasons] });
        if (first) {
          first = false;
          s.later('drain-time', 300);
        }
        return 'done';
      },
      { maxWindowMs: 10, retryMs: 50 },
    );
    s.trigger('node');
    await sleep(200);
    expect(
      passes.map((p) => p.reasons),
      'before the delay: only the first pass',
    ).to.deep.equal([['node']]);
    await sleep(250);
    await s.idle();
    expect(passes.map((p) => p.reasons)).to.deep.equal([['node'], ['drain-time']]);
    expect(passes[1]!.at).to.be.at.least(300);
    s.stop();
  });

  it('stop() cancels what later() asked for', async () => {
    let count = 0;
    const s = new PassScheduler(
      async () => {
        count++;
        return 'done';
      },
      { maxWindowMs: 10, retryMs: 50 },
    );
    s.later('drain-time', 50);
    s.stop();
    await sleep(100);
    expect(count).to.equal(0);
  });

  it('a trigger during a running pass causes exactly one more pass, never two at once', async () => {
    let running = 0;
    let maxRunning = 0;
    let count = 0;
    const s = new PassScheduler(
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        count++;
        await sleep(60);
        running--;
        return 'done';
      },
      { maxWindowMs: 5, retryMs: 50 },
    );
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

  it('a steady stream of triggers: passes keep running, each takes what came since the last (no starvation)', async () => {
    const sizes: number[] = [];
    const s = new PassScheduler(
      async (reasons) => {
        sizes.push(reasons.size);
        await sleep(20);
        return 'done';
      },
      { maxWindowMs: 40, retryMs: 50 },
    );
    let i = 0;
    const t = setInterval(() => s.trigger(`x${i++}`), 2);
    await sleep(400);
    clearInterval(t);
    await s.idle();
    s.stop();
    expect(sizes.length, 'passes ran during the stream').to.be.greaterThan(2);
    expect(
      sizes.reduce((a, b) => a + b, 0),
      'every trigger was seen by a pass',
    ).to.equal(i);
    expect(Math.max(...sizes), 'passes batched the stream').to.be.greaterThan(1);
  });

  it('a pass that asks for a retry (or throws) runs again after retryMs', async () => {
    let count = 0;
    const errors: unknown[] = [];
    const s = new PassScheduler(
      async () => {
        count++;
        if (count === 1) return 'retry';
        if (count === 2) throw new Error('boom');
        return 'done';
      },
      { maxWindowMs: 1, retryMs: 20 },
      (e) => errors.push(e),
    );
    s.trigger('x');
    await sleep(150);
    await s.idle();
    expect(count).to.equal(3);
    expect(String(errors[0])).to.contain('boom');
    s.stop();
  });

  it('lone triggers run at once, however long --debounce is: the window follows what passes cost', async () => {
    // The longest window is 30 s and the test waits at most 5 s per step: only a window sized to the passes (which
    // cost nothing here: MIN_WINDOW_MS) can let these passes run, so there is no timing threshold.
    let count = 0;
    const s = new PassScheduler(
      async () => {
        count++;
        return 'done';
      },
      { maxWindowMs: 30_000, retryMs: 50 },
    );
    const until = async (n: number): Promise<void> => {
      for (let i = 0; i < 500 && count < n; i++) await sleep(10);
    };
    for (let n = 1; n <= 10; n++) {
      s.trigger(`change-${n}`);
      await until(n);
      expect(count, `trigger ${n} ran before the 30 s window`).to.equal(n);
    }
    expect(s.window()).to.equal(MIN_WINDOW_MS);
    s.stop();
  });

  it('the window is the median of the recent passes: one long pass (a drift pass) does not stretch it', async () => {
    let clock = 0;
    const costs = [5, 5, 5, 2_000, 5, 5];
    let n = 0;
    const s = new PassScheduler(
      async () => {
        clock += costs[n++] ?? 5;
        return 'done';
      },
      { maxWindowMs: 200, retryMs: 50, now: () => clock },
    );
    for (let i = 0; i < costs.length; i++) {
      s.trigger(`c${i}`);
      await s.idle();
    }
    expect(n).to.equal(costs.length);
    expect(s.window()).to.equal(5);
    s.stop();
  });

  it('the window never exceeds --debounce, even when every pass is slow', async () => {
    let clock = 0;
    const s = new PassScheduler(
      async () => {
        clock += 5_000;
        return 'done';
      },
      { maxWindowMs: 200, retryMs: 50, now: () => clock },
    );
    s.trigger('a');
    await s.idle();
    expect(s.window()).to.equal(200);
    s.stop();
  });

  it('a burst after a quiet period: a leading pass, then everything that came during it in one trailing pass', async () => {
    const passes: string[][] = [];
    const s = new PassScheduler(
      async (reasons) => {
        passes.push([...reasons].sort());
        await sleep(30);
        return 'done';
      },
      { maxWindowMs: 20, retryMs: 50 },
    );
    s.trigger('e0');
    await sleep(5); // the leading pass is running
    for (let i = 1; i <= 200; i++) s.trigger(`e${i}`);
    await sleep(120);
    await s.idle();
    expect(passes.map((p) => p.length)).to.deep.equal([1, 200]);
    s.stop();
  });
});
