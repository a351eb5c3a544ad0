import { expect } from 'chai';
import { PassScheduler } from '../../../src/agent/scheduler.js';

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
});
