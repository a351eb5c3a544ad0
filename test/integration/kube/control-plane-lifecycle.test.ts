/**
 * test/k8s/control-plane.sh itself: loopback only, and nothing left behind — neither after stop() nor when
 * the process that started it dies without a word (SIGKILL).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CONTROL_PLANE_SCRIPT, runCommand, startControlPlane, waitFor } from '../../helpers/kube/index.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('kube: control-plane.sh lifecycle', function () {
  this.timeout(300_000);

  it('listens on 127.0.0.1 only, answers /readyz with the written kubeconfig, and stop() ends every component and removes the run dir', async () => {
    const cp = await startControlPlane();
    let stopped = false;
    try {
      expect((await cp.kubectlOk(['get', '--raw', '/readyz'])).trim()).to.equal('ok');
      const ss = await runCommand('ss', ['-Hltnp']);
      const ours = ss.stdout.split('\n').filter((l) => Object.values(cp.pids).some((pid) => l.includes(`pid=${pid},`)));
      expect(ours.length).to.be.greaterThan(4);
      for (const l of ours) expect(l.split(/\s+/)[3], l).to.match(/^127\.0\.0\.1:\d+$/);
      await cp.stop();
      stopped = true;
      for (const [name, pid] of Object.entries(cp.pids)) expect(alive(pid), name).to.equal(false);
      expect(existsSync(cp.runDir)).to.equal(false);
    } finally {
      if (!stopped) await cp.stop();
    }
  });

  it('cleans up by itself when the process given as --parent-pid dies (a test runner killed with SIGKILL)', async () => {
    const parent = spawn('sleep', ['600'], { stdio: 'ignore' });
    const script = spawn(CONTROL_PLANE_SCRIPT(), ['--parent-pid', String(parent.pid)], { stdio: ['ignore', 'pipe', 'ignore'] });
    const scriptExited = new Promise<void>((r) => script.once('exit', () => r()));
    try {
      let out = '';
      script.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      const ready = await waitFor('SVCBGP_K8S_READY', async () => /^SVCBGP_K8S_READY (.*)$/m.exec(out)?.[1], { timeoutMs: 120_000 });
      const info = JSON.parse(ready) as { runDir: string; pids: Record<string, number> };
      parent.kill('SIGKILL');
      await scriptExited;
      for (const [name, pid] of Object.entries(info.pids)) expect(alive(pid), name).to.equal(false);
      expect(existsSync(info.runDir)).to.equal(false);
    } finally {
      parent.kill('SIGKILL');
      if (script.exitCode === null) script.kill('SIGTERM');
      await scriptExited;
    }
  });
});
