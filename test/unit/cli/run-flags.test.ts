import { expect } from 'chai';
import { CommanderError, type Command } from 'commander';
import { buildProgram } from '../../../src/cli/main.js';
import { DURATION_FLAGS, parseDurationFlag, type DurationFlag } from '../../../src/cli/run.js';

/** Node.js runs a timer above this many ms after 1 ms (lib/internal/timers.js TIMEOUT_MAX). */
const NODE_TIMER_MAX_MS = 2 ** 31 - 1;

/** `svcbgp run` as built by the entry point, with the agent replaced by a recorder of the parsed options. */
function runCommand(): { run: Command; errors: string[]; parsed: Record<string, unknown>[] } {
  const program = buildProgram();
  const run = program.commands.find((c) => c.name() === 'run')!;
  const errors: string[] = [];
  const parsed: Record<string, unknown>[] = [];
  run.exitOverride().configureOutput({ writeErr: (s) => errors.push(s), writeOut: () => {} });
  run.action((opts: Record<string, unknown>) => {
    parsed.push(opts);
  });
  return { run, errors, parsed };
}

/** Parses `svcbgp run <args>` with `env` set; the error commander prints, or the options. */
async function parseRun(args: string[], env: Record<string, string> = {}): Promise<{ error?: string; opts?: Record<string, unknown> }> {
  const { run, errors, parsed } = runCommand();
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    await run.parent!.parseAsync(['node', 'svcbgp', 'run', ...args]);
    return { opts: parsed[0]! };
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    return { error: errors.join('') };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('svcbgp run: duration flags', () => {
  it("a duration flag beyond Node's timer limit is refused", async () => {
    const r = await parseRun(['--resync-interval', '1000h']);
    expect(r.error).to.contain('--resync-interval: "1000h" is out of range: 1s..24h');
    expect((await parseRun(['--gobgp-timeout', '600h'])).error).to.contain('--gobgp-timeout: "600h" is out of range: 100ms..10m');
    expect((await parseRun(['--drain-time', '2h'])).error).to.contain('--drain-time: "2h" is out of range: 1s..1h');
  });

  it('a sub-millisecond duration is refused, not rounded to 0', async () => {
    expect((await parseRun(['--debounce', '1ns'])).error).to.contain('--debounce: "1ns" is out of range: 1ms..10s');
    expect((await parseRun(['--debounce', '0.4ms'])).error).to.contain('--debounce: "0.4ms" is out of range: 1ms..10s');
  });

  it('zero, a negative or a too short duration is refused', async () => {
    expect((await parseRun(['--gobgp-probe-interval', '0'])).error).to.contain('--gobgp-probe-interval: "0" is out of range: 100ms..5m');
    expect((await parseRun(['--config-poll-interval=-5s'])).error).to.contain('--config-poll-interval: "-5s" is out of range: 100ms..1h');
    expect((await parseRun(['--resync-interval', '500ms'])).error).to.contain('--resync-interval: "500ms" is out of range: 1s..24h');
  });

  it('a text that is no Go duration is refused with the range', async () => {
    expect((await parseRun(['--debounce', 'soon'])).error).to.contain('--debounce: "soon" is not a Go duration like 500ms, 30s, 2m (range 1ms..10s)');
  });

  it('a duration from the environment variable is checked alike', async () => {
    const r = await parseRun([], { SVCBGP_DRAIN_TIME: '1000h' });
    expect(r.error).to.contain("from env 'SVCBGP_DRAIN_TIME'").and.to.contain('--drain-time: "1000h" is out of range: 1s..1h');
  });

  it('values within the range are taken in whole milliseconds; the defaults stand', async () => {
    const r = await parseRun(['--resync-interval', '24h', '--debounce', '1ms', '--gobgp-probe-interval', '0.3s'], { SVCBGP_GOBGP_TIMEOUT: '10m' });
    expect(r.opts).to.deep.include({
      resyncInterval: 86_400_000,
      debounce: 1,
      gobgpProbeInterval: 300,
      gobgpTimeout: 600_000,
      configPollInterval: 2_000,
      drainTime: 10_000,
    });
    expect(parseDurationFlag('--debounce')('1500us')).to.equal(2);
  });

  it("every range fits Node's timers, starts at 1 ms or more and holds its default", () => {
    for (const [flag, d] of Object.entries(DURATION_FLAGS)) {
      expect(d.min, flag).to.be.at.least(1);
      expect(d.max, flag).to.be.at.most(NODE_TIMER_MAX_MS);
      expect(d.default, flag).to.be.within(d.min, d.max);
    }
  });

  it('the help of every duration flag shows its range', () => {
    // One entry per option: "--flag <arg>  description (default: ...) (env: ...)", wrapped lines joined.
    const entries = runCommand()
      .run.helpInformation()
      .split(/\n {2}(?=-)/)
      .map((e) => e.replace(/\s+/g, ' '));
    const shown: Record<DurationFlag, string> = {
      '--resync-interval': '(1s..24h)',
      '--gobgp-probe-interval': '(100ms..5m)',
      '--gobgp-timeout': '(100ms..10m)',
      '--debounce': '(1ms..10s)',
      '--config-poll-interval': '(100ms..1h)',
      '--drain-time': '(1s..1h)',
    };
    for (const [flag, range] of Object.entries(shown)) {
      const entry = entries.find((e) => e.startsWith(`${flag} <duration>`));
      expect(entry, flag).to.contain(range);
    }
  });
});

describe('svcbgp run: --http-address', () => {
  it('listens on loopback by default (":9479" opens every interface only when asked for)', async () => {
    const option = runCommand().run.options.find((o) => o.long === '--http-address')!;
    expect(option.defaultValue).to.equal('127.0.0.1:9479');
    expect(option.envVar).to.equal('SVCBGP_HTTP_ADDRESS');
    expect((await parseRun([])).opts?.httpAddress).to.equal('127.0.0.1:9479');
    expect((await parseRun(['--http-address', ':9479'])).opts?.httpAddress).to.equal(':9479');
  });
});
