/**
 * The lab cleans up after itself: destroy(), SIGTERM to the owning process, and cleanupStale() after the owner
 * was SIGKILLed (nothing of ours could run then). Checked the way an operator would: `ip netns list`, the run
 * dir, the FRR state dir, and whether the daemons' pids still exist. Needs root.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { cleanupStale, createLab, readState, run, waitFor, type LabState } from '../lab/index.js';
import { isAlive } from '../lab/exec.js';
import { frrStateDir } from '../lab/frr.js';
import { metric } from './lab-metrics.js';

const INDEX_URL = new URL('../lab/index.js', import.meta.url).href;

async function labNamespaces(prefix: string): Promise<string[]> {
  const out = (await run('ip', ['netns', 'list'])).stdout;
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((ns) => ns.startsWith(`${prefix}-`));
}

/** Start a child process that builds a lab (router given), prints its lab.json state as JSON, then runs `then`. */
function childLab(router: 'bird' | 'frr', then: 'wait' | 'crash'): Promise<{ state: LabState; pids: number[]; child: ReturnType<typeof spawn> }> {
  const code = `
    const { createLab, readState } = await import(${JSON.stringify(INDEX_URL)});
    const lab = await createLab({ router: ${JSON.stringify(router)} });
    const mem = await lab.memory();
    console.log(JSON.stringify({ state: readState(lab.runDir), pids: mem.processes.map((p) => p.pid) }));
    ${then === 'crash' ? 'process.kill(process.pid, "SIGKILL");' : 'setInterval(() => {}, 1000);'}
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => resolve({ ...(JSON.parse(line) as { state: LabState; pids: number[] }), child }));
    child.once('exit', (code, sig) => reject(new Error(`child exited early (${code ?? sig})`)));
  });
}

async function expectGone(state: LabState, pids: number[]): Promise<void> {
  expect(await labNamespaces(state.prefix)).to.deep.equal([]);
  expect(existsSync(state.runDir), state.runDir).to.equal(false);
  expect(existsSync(frrStateDir(`${state.prefix}-tor`))).to.equal(false);
  // SIGKILLed processes are reaped by init shortly after; wait for that rather than racing it.
  await waitFor(
    'lab processes gone',
    async () => (pids.every((p) => !isAlive(p)) ? true : undefined),
    10_000,
    100,
    () => pids.filter(isAlive).join(','),
  );
}

describe('network lab lifecycle', function () {
  this.timeout(60_000);

  for (const router of ['bird', 'frr'] as const) {
    it(`destroy() removes every namespace, process and directory (${router})`, async () => {
      const lab = await createLab({ router });
      const state = readState(lab.runDir)!;
      // A tracked process outside the namespaces (where the agent will run), with a child of its own.
      const agentStandIn = lab.spawn('agent-stand-in', ['sh', '-c', 'sleep 300 & wait']);
      const pids = (await lab.memory()).processes.map((p) => p.pid);
      // router daemon(s) + 3 gobgpd, each under its dumb-init (as in the DaemonSet) + the tracked process
      expect(pids.length).to.equal(router === 'bird' ? 8 : 9);
      expect(Object.keys((await lab.memory()).byComm)).to.include.members(['dumb-init', 'gobgpd']);
      expect(pids).to.include(agentStandIn);
      const child = (await run('pgrep', ['-P', String(agentStandIn)])).stdout.trim().split('\n').map(Number);
      pids.push(...child);
      expect(await labNamespaces(state.prefix)).to.have.members(state.namespaces);
      await lab.destroy();
      await expectGone(state, pids);
      await lab.destroy(); // idempotent
    });
  }

  it('answers unadvertised addresses with ICMP unreachable by default, and drops them (client times out) with drop', async () => {
    const a = await createLab({ router: 'bird', startGobgpd: false });
    const b = await createLab({ router: 'bird', startGobgpd: false, unknownDestinations: 'drop' });
    try {
      const fast = await a.httpFromExternal('10.49.62.131', { timeoutMs: 1500 });
      expect(fast).to.include({ ok: false, error: 'ENETUNREACH' });
      const slow = await b.httpFromExternal('10.49.62.131', { timeoutMs: 1500 });
      expect(slow.ok).to.equal(false);
      expect(slow.error).to.match(/timed out after 1500 ms/);
      expect(await b.torIpRoute()).to.match(/^blackhole default/m);
    } finally {
      await a.destroy();
      await b.destroy();
    }
  });

  it('tears the lab down when its owner gets SIGTERM', async () => {
    const { state, pids, child } = await childLab('frr', 'wait');
    expect(await labNamespaces(state.prefix)).to.have.length(5);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).to.equal(143);
    await expectGone(state, pids);
  });

  it('cleanupStale() removes what a SIGKILLed owner left behind, and leaves live labs alone', async () => {
    const mine = await createLab({ router: 'bird', startGobgpd: false });
    try {
      const { state, pids } = await childLab('bird', 'crash');
      await waitFor('crashed owner gone', async () => (isAlive(state.ownerPid) ? undefined : true), 10_000);
      expect(await labNamespaces(state.prefix), 'leftovers after the crash').to.have.length(5);
      expect(pids.some(isAlive), 'daemons outlive their crashed owner').to.equal(true);
      const t = Date.now();
      const report = cleanupStale();
      metric('lab', 'cleanupStale of one crashed lab, ms', Date.now() - t);
      expect(report.removed).to.include(state.prefix);
      expect(report.removed).to.not.include(mine.id);
      await expectGone(state, pids);
      expect(await labNamespaces(mine.id)).to.have.length(5);
    } finally {
      await mine.destroy();
    }
  });
});
