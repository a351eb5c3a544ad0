/**
 * API version detection against real gobgpd of both lines, whatever SVCBGP_GOBGPD says: Debian's 3.10 (API v3)
 * and a 4.x (API v4, built by scripts/build-gobgpd.sh; SVCBGP_GOBGPD's when it is a v4, else the newest). What an operator would check: the agent talks to whichever
 * gobgpd runs, follows an upgrade between two gobgpd restarts on the same socket, and with a forced version that
 * does not match says what to set instead of "unreachable".
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectGobgp, GobgpApiMismatchError, GobgpError } from '../../../src/gobgp/index.js';
import { connectTestGobgp } from '../../helpers/gobgpd-client.js';
import { speakerOverClient } from '../../helpers/gobgpd-speaker.js';
import { silentLogger } from '../../../src/log/logger.js';
import { Reconciler, fixedInputs } from '../../../src/agent/reconciler.js';
import { AgentMetrics } from '../../../src/http/metrics.js';
import { memoryLogger } from '../agent/util.js';
import { startGobgpd, waitFor, type Gobgpd } from '../../helpers/gobgpd.js';
import { sideBySideV4 } from '../../helpers/gobgpd-version.js';

const GLOBAL = { asn: 64512, routerId: '192.168.1.10', listenPort: -1 };
const V4 = sideBySideV4();

describe(`gobgpd API version detection (3.10 and ${V4})`, function () {
  this.timeout(60_000);
  const started: Gobgpd[] = [];
  let dir: string;
  before(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'svcbgp-apiver-'));
  });
  after(async function () {
    for (const d of started) await d.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const start = async (version: string, socketPath?: string) => {
    const d = await startGobgpd({ name: `apiver-${version}`, version, ...(socketPath ? { socketPath } : { unixSocket: true }) });
    started.push(d);
    return d;
  };

  for (const [version, api] of [
    ['3.10', 'v3'],
    [V4, 'v4'],
  ] as const) {
    it(`auto: gobgpd ${version} is spoken to in ${api}, and the call works`, async function () {
      const d = await start(version);
      const seen: string[] = [];
      const c = connectGobgp(d.apiAddress, { onApiVersion: (v, how) => seen.push(`${v} ${how}`) });
      try {
        expect(c.apiVersion).to.equal(undefined);
        expect(await c.getGlobal()).to.equal(undefined);
        expect(c.apiVersion).to.equal(api);
        await c.startBgp(GLOBAL);
        expect(await c.getGlobal()).to.deep.include({ asn: 64512, routerId: '192.168.1.10' });
        expect(seen).to.deep.equal([`${api} detected`]);
        // What gobgpd itself says, through its own CLI.
        expect(await d.cli('global')).to.match(/AS:\s+64512/);
      } finally {
        c.close();
        await d.stop();
      }
    });
  }

  it(`auto follows gobgpd being replaced by the other version on the same socket (3.10 -> ${V4} -> 3.10 -> 3.10 again: no new detection event)`, async function () {
    const socket = path.join(dir, 'gobgp.sock');
    const seen: string[] = [];
    const c = connectTestGobgp(`unix://${socket}`, { deadlineMs: 3000, onApiVersion: (v) => seen.push(v) });
    try {
      for (const version of ['3.10', V4, '3.10', '3.10']) {
        const d = await start(version, socket);
        // The first call after the swap may still fail (the old process is gone); the next one re-detects.
        await waitFor(`the client to reach gobgpd ${version}`, async () => ((await c.getGlobal()) === undefined ? true : undefined), 15_000, 100);
        await c.startBgp(GLOBAL);
        await c.addPath({ prefix: '10.49.0.0/16', family: 'ipv4-unicast', nextHop: '0.0.0.0', communities: [], largeCommunities: [] });
        expect((await c.listPaths('ipv4-unicast')).map((p) => p.route.prefix)).to.deep.equal(['10.49.0.0/16']);
        await d.stop('SIGKILL');
      }
      expect(seen).to.deep.equal(['v3', 'v4', 'v3']);
    } finally {
      c.close();
    }
  });

  for (const [version, forced, served] of [
    [V4, 'v3', 'v4'],
    ['3.10', 'v4', 'v3'],
  ] as const) {
    it(`forced ${forced} against gobgpd ${version}: the error says it speaks ${served} and what to set; the probe says "incompatible", not "unreachable"`, async function () {
      const d = await start(version);
      const c = connectGobgp(d.apiAddress, { api: forced });
      try {
        const err = await c.getGlobal().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).to.be.instanceOf(GobgpApiMismatchError);
        expect((err as GobgpError).message)
          .to.contain(`speaks the ${served} API`)
          .and.contain(`--gobgp-api ${served}`)
          .and.contain(`SVCBGP_GOBGP_API=${served}`);
        const probe = await speakerOverClient(c, { log: silentLogger() }).probe();
        expect(probe.state).to.equal('incompatible');
        expect(probe).to.have.property('error').that.contains(`set --gobgp-api ${served}`);
        expect(await d.cli('global')).to.match(/AS:\s+0\b/); // nothing was sent
      } finally {
        c.close();
        await d.stop();
      }
    });
  }

  it(`the reconciler with a forced v3 against gobgpd ${V4}: sends nothing, stays "reachable", fails gobgpd-api-matches, logs what to set once`, async function () {
    const d = await start(V4);
    const c = connectGobgp(d.apiAddress, { api: 'v3' });
    const { log, entries } = memoryLogger();
    const metrics = new AgentMetrics(false);
    const route = { prefix: '10.49.0.0/16', family: 'ipv4-unicast' as const, nextHop: '0.0.0.0', communities: [], largeCommunities: [] };
    const reconciler = new Reconciler({
      speaker: speakerOverClient(c, { log, metrics }),
      inputs: fixedInputs(() => ({
        synced: true,
        connected: true,
        speaker: { asn: 64512, routerId: '192.168.1.10', listenPort: -1, peers: [] },
        desired: { paths: [{ route, kinds: ['cluster-ip-cidr'], reasons: [{ rule: 'aggregate', text: 'test' }] }], refused: [] },
      })),
      log,
      metrics,
    });
    try {
      expect(await reconciler.pass(new Set(['test']))).to.equal('done');
      expect(await reconciler.pass(new Set(['test']))).to.equal('done');
      expect(reconciler.readiness()).to.deep.include({ gobgpReachable: true, gobgpApiMatches: false, gobgpApi: 'v3', provisioned: false });
      const mismatch = entries.filter((e) => e.message === 'gobgpd answers in another API than svcbgp speaks; nothing sent');
      expect(mismatch).to.have.length(1);
      expect(String(mismatch[0]!.error)).to.contain('set --gobgp-api v4');
      expect(entries.some((e) => /unreachable/.test(String(e.message)))).to.equal(false);
      expect(await d.cli('global')).to.match(/AS:\s+0\b/);
      const info = (await metrics.gobgpInfo.get()).values;
      expect(info).to.deep.equal([{ labels: { api: 'v3', api_matches: 'false' }, value: 1 }]);
    } finally {
      c.close();
      await d.stop();
    }
  });

  it('nothing listening: unreachable (UNAVAILABLE), and the error names the call, not the probe', async function () {
    const c = connectGobgp(`unix://${path.join(dir, 'nobody.sock')}`, { deadlineMs: 2000 });
    try {
      const err = await c.getGlobal().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(GobgpError);
      expect((err as GobgpError).message).to.match(/^GetBgp failed: (UNAVAILABLE|DEADLINE_EXCEEDED): .*detecting gobgpd's API version/);
      expect((await speakerOverClient(c, { log: silentLogger() }).probe()).state).to.equal('unreachable');
    } finally {
      c.close();
    }
  });
});
