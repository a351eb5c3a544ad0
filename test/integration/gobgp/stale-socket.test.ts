/**
 * The gobgpd container restarts inside its Pod (OOM kill, or its dumb-init turning a SIGTERM into SIGKILL while the
 * Pod stays): the emptyDir keeps the old API socket file, and a REAL gobgpd refuses to start on it ("address already
 * in use") until the file is gone. The agent removes it when it is certainly stale (src/gobgp/stale-socket.ts).
 * gobgpd 3.x exits on it (the kubelet restarts it); gobgpd 4.x keeps running WITHOUT an API ("failed to listen grpc
 * port"), which the DaemonSet's liveness probe (`gobgp neighbor` over the socket) turns into a container restart.
 * The kubelet's container restart is played by starting the same gobgpd binary again on the same socket path.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GOBGPD_BIN, GOBGPD_VERSION, waitFor } from '../../helpers/gobgpd.js';
import { gobgpdFlags } from '../../helpers/gobgpd-flags.js';
import { removeStaleSocket } from '../../../src/gobgp/stale-socket.js';
import { RestartableGobgpd, memoryLogger } from '../agent/util.js';

/** gobgpd on `socket`, as a container's command; resolves with its exit code if it exits within `ms`. */
function runGobgpd(socket: string, ms: number): { exited: Promise<number | null>; kill: () => void } {
  const child = spawn(GOBGPD_BIN, gobgpdFlags(GOBGPD_VERSION, { apiHosts: `unix://${socket}` }), { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => {
    const t = setTimeout(() => resolve(null), ms);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code ?? -1);
    });
  });
  return { exited, kill: () => child.kill('SIGKILL') };
}

describe('gobgpd container restart in the same Pod: a stale API socket', function () {
  this.timeout(60_000);
  let gobgpd: RestartableGobgpd;

  before(async () => {
    gobgpd = new RestartableGobgpd('stale-socket');
    await gobgpd.start();
    await gobgpd.kill('SIGKILL'); // as dumb-init --rewrite 15:9 does on the kubelet's SIGTERM, or the OOM killer
  });
  after(async () => gobgpd?.stop());

  it('a restarted gobgpd cannot start on the leftover file; the agent removes it (refused connect) and the next start works', async () => {
    expect(existsSync(gobgpd.socket), 'the killed gobgpd left its socket file').to.equal(true);
    const first = runGobgpd(gobgpd.socket, 10_000);
    try {
      const code = await first.exited;
      if (GOBGPD_VERSION.api === 'v3') expect(code, 'gobgpd 3.x exits at once on the stale socket').to.not.equal(null);
      else expect(code, 'gobgpd 4.x keeps running without its API').to.equal(null);
      expect(
        await gobgpd.cli('neighbor').then(
          () => 'answers',
          () => 'no API',
        ),
        "the liveness probe's command",
      ).to.equal('no API');
    } finally {
      first.kill(); // no gobgpd outlives the test, whatever failed
    }

    const { log, entries } = memoryLogger();
    expect(await removeStaleSocket(`unix://${gobgpd.socket}`, log)).to.equal(true);
    expect(entries.some((e) => String(e.message).startsWith('removed a stale gobgpd API socket'))).to.equal(true);

    const second = runGobgpd(gobgpd.socket, 3_000);
    try {
      await waitFor(
        'the new gobgpd answers on the socket',
        async () => ((await gobgpd.cli('global').catch(() => undefined)) !== undefined ? true : undefined),
        15_000,
      );
      // A live socket is never removed.
      expect(await removeStaleSocket(`unix://${gobgpd.socket}`, log)).to.equal(false);
      expect(existsSync(gobgpd.socket)).to.equal(true);
      expect(await second.exited).to.equal(null);
    } finally {
      second.kill();
    }
  });

  it('leaves alone what is not a stale socket: a missing path, a regular file, a TCP address', async () => {
    const { log } = memoryLogger();
    expect(await removeStaleSocket('unix:///nonexistent/gobgp.sock', log)).to.equal(false);
    expect(await removeStaleSocket('127.0.0.1:50051', log)).to.equal(false);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svcbgp-stale-'));
    try {
      writeFileSync(path.join(dir, 'gobgp.sock'), 'not a socket');
      expect(await removeStaleSocket(`unix://${path.join(dir, 'gobgp.sock')}`, log)).to.equal(false);
      expect(existsSync(path.join(dir, 'gobgp.sock'))).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
