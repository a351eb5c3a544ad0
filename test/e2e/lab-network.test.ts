/**
 * The network lab, exercised with real routers: BIRD 2 and FRR as the ToR, real gobgpd in every node namespace,
 * configured with the gobgp CLI (the agent does not exist yet). What is asserted is what an operator checks:
 * the ToR's own session view (`birdc show protocols` / `vtysh show bgp summary json`), `gobgp neighbor` on the
 * nodes, and the ToR's kernel table (`ip route` in its namespace), plus HTTP from the external host.
 * Needs root (ip netns). Numbers (bring-up, teardown, memory, stale-route time) are printed, never asserted.
 */
import { expect } from 'chai';
import { cleanupStale, createLab, formatRouteTable, GOBGP, sleep, type Lab, type RouterKind } from '../lab/index.js';
import { metric } from './lab-metrics.js';

const AGGREGATE = '10.49.0.0/16';
const SERVICE_32 = '10.49.62.131/32';
const EXTERNAL_IP = '192.168.3.180';
const AGGREGATE_V6 = 'fd00:49::/64';

/**
 * Poll the ToR every 20 ms until stop(), tracking the longest run of consecutive samples in which `prefix` lacks
 * next hop `hop`. A run of 1 can be BIRD's kernel sync: it rewrites a changed route as delete + add (seen with
 * `ip -ts monitor route`: 0.4 ms apart), which a sample can land in; a real outage spans many samples.
 */
function sampleMissing(lab: Lab, prefix: string, hop: string): { stop: () => Promise<{ samples: number; longestMiss: number }> } {
  let running = true;
  let samples = 0;
  let run = 0;
  let longestMiss = 0;
  const loop = (async () => {
    while (running) {
      const t = await lab.torRoutes();
      samples++;
      run = (t[prefix] ?? []).includes(hop) ? 0 : run + 1;
      longestMiss = Math.max(longestMiss, run);
      await sleep(20);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { samples, longestMiss };
    },
  };
}

for (const router of ['bird', 'frr'] as RouterKind[]) {
  describe(`network lab with ${router === 'bird' ? 'BIRD 2' : 'FRR'} as the ToR`, function () {
    this.timeout(120_000);
    let lab: Lab;
    let n1: Lab['nodes'][number];
    let n2: Lab['nodes'][number];
    let n3: Lab['nodes'][number];

    before(async function () {
      cleanupStale(); // leftovers of a crashed earlier run (labs whose owner process is gone)
      const t0 = Date.now();
      lab = await createLab({ router });
      metric(router, 'bring-up (namespaces + router + 3 gobgpd), ms', lab.timings.totalMs, JSON.stringify(lab.timings));
      [n1, n2, n3] = [lab.node(1), lab.node(2), lab.node(3)] as [typeof n1, typeof n2, typeof n3];
      await lab.configureNodesWithCli();
      await lab.waitForSessions(undefined, 90_000);
      metric(router, 'bring-up until 3 sessions Established, ms', Date.now() - t0);
    });

    /** Each test sets up the routes it needs (re-adding replaces), so any test runs alone (mocha -g). */
    async function ensureAggregate(): Promise<void> {
      for (const n of lab.nodes) await n.gobgpd.addRoute(AGGREGATE);
      await lab.waitForTorRoute(AGGREGATE, [n1.ipv4, n2.ipv4, n3.ipv4]);
    }

    after(async function () {
      if (!lab) return;
      const mem = await lab.memory();
      metric(router, 'memory RSS total, KiB', mem.totalKiB, JSON.stringify(mem.byComm));
      const t = Date.now();
      await lab.destroy();
      metric(router, 'teardown, ms', Date.now() - t);
    });

    it('has every node session Established, seen from the ToR and from each node (gobgp neighbor)', async () => {
      const sessions = await lab.torSessions();
      expect(sessions.map((s) => [s.peer, s.state])).to.deep.equal([
        ['192.168.1.10', 'Established'],
        ['192.168.1.11', 'Established'],
        ['192.168.1.12', 'Established'],
      ]);
      for (const n of lab.nodes) expect(await n.gobgpd.neighborState('192.168.1.1'), n.name).to.equal('established');
      // Over the unix socket from the root namespace (how the agent connects) ...
      const text = (await n1.gobgpd.gobgp(['neighbor'])).stdout;
      expect(text).to.match(/192\.168\.1\.1\s+64512\s+\S+\s+Establ/);
      // ... and with the CLI's defaults (127.0.0.1:50051) inside the node namespace, as an operator would.
      const inNs = (await lab.exec(n3.ns, GOBGP, ['neighbor'])).stdout;
      expect(inNs).to.match(/192\.168\.1\.1\s+64512\s+\S+\s+Establ/);
    });

    it('installs an aggregate from 3 nodes as one ECMP route and a /32 from 2 nodes via exactly those 2', async () => {
      for (const n of lab.nodes) await n.gobgpd.addRoute(AGGREGATE);
      await n2.gobgpd.addRoute(SERVICE_32);
      await n3.gobgpd.addRoute(SERVICE_32);
      const table = await lab.waitForTorRoutes(
        (t) => (t[AGGREGATE]?.length ?? 0) === 3 && (t[SERVICE_32]?.length ?? 0) === 2,
        30_000,
        'aggregate via 3 nodes and /32 via 2',
      );
      expect(table).to.deep.equal({
        [AGGREGATE]: ['192.168.1.10', '192.168.1.11', '192.168.1.12'],
        [SERVICE_32]: ['192.168.1.11', '192.168.1.12'],
      });
      // What an operator reads: the article's multipath form.
      const text = await lab.torIpRoute();
      expect(text).to.match(/^10\.49\.0\.0\/16 (nhid \d+ )?proto (bird|bgp)[^\n]*\n(\s+nexthop via 192\.168\.1\.1[012] dev br0 weight 1\s*\n){3}/m);
      expect(text).to.match(/^10\.49\.62\.131 (nhid \d+ )?proto (bird|bgp)/m);
    });

    it('installs IPv6 routes (MP-BGP over the IPv4 session, explicit IPv6 next hop) as ECMP too', async () => {
      for (const n of lab.nodes) await n.gobgpd.addRoute(AGGREGATE_V6, n.ipv6);
      const table = await lab.waitForTorRoute(AGGREGATE_V6, [n1.ipv6, n2.ipv6, n3.ipv6]);
      expect(table[AGGREGATE_V6]).to.deep.equal(['fd00:1::10', 'fd00:1::11', 'fd00:1::12']);
      for (const n of lab.nodes) await n.gobgpd.deleteRoute(AGGREGATE_V6);
      await lab.waitForTorRoute(AGGREGATE_V6, null);
    });

    it('removes a withdrawn next hop, then the whole route when the last node withdraws it', async () => {
      await ensureAggregate();
      await n2.gobgpd.addRoute(SERVICE_32);
      await n3.gobgpd.addRoute(SERVICE_32);
      await lab.waitForTorRoute(SERVICE_32, [n2.ipv4, n3.ipv4]);
      await n3.gobgpd.deleteRoute(SERVICE_32);
      expect(await n3.gobgpd.ribPrefixes()).to.deep.equal([AGGREGATE]);
      const t = await lab.waitForTorRoute(SERVICE_32, [n2.ipv4]);
      expect(t[SERVICE_32]).to.deep.equal(['192.168.1.11']);
      expect(await lab.torIpRoute()).to.match(/^10\.49\.62\.131 (nhid \d+ )?via 192\.168\.1\.11 dev br0 proto (bird|bgp)/m);
      await n2.gobgpd.deleteRoute(SERVICE_32);
      const after = await lab.waitForTorRoute(SERVICE_32, null);
      expect(after).to.deep.equal({ [AGGREGATE]: ['192.168.1.10', '192.168.1.11', '192.168.1.12'] });
    });

    it('carries HTTP from the external host to an advertised /32 only, to a node that holds it', async () => {
      await ensureAggregate();
      // STAND-IN: a small HTTP server on the Service IP stands where kube-proxy + nginx would.
      await lab.startHttpServer(n2, EXTERNAL_IP);
      await lab.startHttpServer(n3, EXTERNAL_IP);
      // Served on node-2 and node-3, but not advertised: the ToR has no route, the request fails.
      const before = await lab.httpFromExternal(EXTERNAL_IP, { timeoutMs: 3000 });
      expect(before.ok, JSON.stringify(before)).to.equal(false);

      await n2.gobgpd.addRoute(`${EXTERNAL_IP}/32`);
      await n3.gobgpd.addRoute(`${EXTERNAL_IP}/32`);
      await lab.waitForTorRoute(`${EXTERNAL_IP}/32`, [n2.ipv4, n3.ipv4]);
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const r = await lab.httpFromExternal(EXTERNAL_IP, { timeoutMs: 5000 });
        expect(r.ok, JSON.stringify(r)).to.equal(true);
        expect(r.status).to.equal(200);
        seen.add(r.node ?? '?');
      }
      expect(
        [...seen].every((n) => n === 'node-2' || n === 'node-3'),
        [...seen].join(','),
      ).to.equal(true);

      // Withdrawn again: unreachable again.
      await n2.gobgpd.deleteRoute(`${EXTERNAL_IP}/32`);
      await n3.gobgpd.deleteRoute(`${EXTERNAL_IP}/32`);
      await lab.waitForTorRoute(`${EXTERNAL_IP}/32`, null);
      const afterWithdraw = await lab.httpFromExternal(EXTERNAL_IP, { timeoutMs: 3000 });
      expect(afterWithdraw.ok, JSON.stringify(afterWithdraw)).to.equal(false);
      // Inside the advertised aggregate the ToR forwards to a node; no server on this address there: no answer.
      const noServer = await lab.httpFromExternal('10.49.99.99', { timeoutMs: 1500 });
      expect(noServer.ok).to.equal(false);
    });

    it('keeps a SIGKILLed node route as stale (graceful restart) and takes the re-added route after restart', async () => {
      // The gobgp 3.10 CLI cannot enable graceful restart on a neighbor: node-1 restarts from a bootstrap TOML.
      await ensureAggregate();
      const speaker = lab.speakerFor(n1, 60);
      await n1.gobgpd.kill();
      await n1.gobgpd.start({ bootstrap: speaker });
      await lab.waitForSessions([n1.ipv4]);
      await n1.gobgpd.addRoute(AGGREGATE);
      await lab.waitForTorRoute(AGGREGATE, [n1.ipv4, n2.ipv4, n3.ipv4]);

      await n1.gobgpd.kill();
      const down = await lab.waitForTorSessionState(n1.ipv4, false);
      expect(down.established).to.equal(false);
      // Session gone, route kept: the ToR acts as graceful-restart helper for the 60 s node-1 advertised.
      const stale = await lab.torRoutes();
      expect(stale[AGGREGATE], formatRouteTable(stale)).to.deep.equal(['192.168.1.10', '192.168.1.11', '192.168.1.12']);

      const t = Date.now();
      await n1.gobgpd.start({ bootstrap: speaker, restarting: true });
      await lab.waitForSessions([n1.ipv4]);
      await n1.gobgpd.addRoute(AGGREGATE);
      await lab.waitForTorRoute(AGGREGATE, [n1.ipv4, n2.ipv4, n3.ipv4]);
      expect(await n1.gobgpd.ribPrefixes()).to.deep.equal([AGGREGATE]);
      metric(router, 'GR: gobgpd restart -> session Established + route re-added on ToR, ms', Date.now() - t);
    });

    it('restarts hitlessly when the paths are re-added before the peer; peer first loses the route until re-added', async () => {
      const full = lab.speakerFor(n1, 60);
      const { peer: _peer, ...globalOnly } = full;
      const all = [n1.ipv4, n2.ipv4, n3.ipv4];
      // node-1 with graceful restart (the CLI cannot enable it): bootstrap TOML.
      await n1.gobgpd.kill();
      await n1.gobgpd.start({ bootstrap: full });
      await lab.waitForSessions([n1.ipv4]);
      await ensureAggregate();

      // Paths first (what the agent does after a gobgpd restart): global config, paths, then the peer.
      const sampler = sampleMissing(lab, AGGREGATE, n1.ipv4);
      await n1.gobgpd.kill();
      await lab.waitForTorSessionState(n1.ipv4, false);
      await n1.gobgpd.start({ bootstrap: globalOnly, restarting: true });
      await n1.gobgpd.addRoute(AGGREGATE);
      await n1.gobgpd.reload(full); // SIGHUP: the neighbor appears only now
      await lab.waitForSessions([n1.ipv4]);
      await lab.waitForTorRoute(AGGREGATE, all);
      const missed = await sampler.stop();
      expect(missed.samples).to.be.greaterThan(5);
      expect(missed.longestMiss, `ToR lost node-1's next hop for ${missed.longestMiss} consecutive samples`).to.be.lessThan(2);

      // Peer first: gobgpd sends End-of-RIB as soon as the session is up, the ToR flushes the stale route.
      await n1.gobgpd.kill();
      await lab.waitForTorSessionState(n1.ipv4, false);
      await n1.gobgpd.start({ bootstrap: full, restarting: true });
      await lab.waitForSessions([n1.ipv4]);
      await lab.waitForTorRoute(AGGREGATE, [n2.ipv4, n3.ipv4], 10_000);
      await n1.gobgpd.addRoute(AGGREGATE);
      await lab.waitForTorRoute(AGGREGATE, all);
    });

    it('drops the stale route once the restart time runs out when gobgpd does not come back (measured)', async function () {
      this.timeout(90_000);
      const restartTime = 10;
      await ensureAggregate();
      await n1.gobgpd.kill();
      await n1.gobgpd.start({ bootstrap: lab.speakerFor(n1, restartTime) });
      await lab.waitForSessions([n1.ipv4]);
      await n1.gobgpd.addRoute(AGGREGATE);
      await lab.waitForTorRoute(AGGREGATE, [n1.ipv4, n2.ipv4, n3.ipv4]);
      const t = Date.now();
      await n1.gobgpd.kill();
      await lab.waitForTorSessionState(n1.ipv4, false);
      const t2 = await lab.waitForTorRoute(AGGREGATE, [n2.ipv4, n3.ipv4], 60_000);
      expect(t2[AGGREGATE]).to.deep.equal(['192.168.1.11', '192.168.1.12']);
      metric(router, `GR: stale route kept after SIGKILL (restart time ${restartTime} s), ms`, Date.now() - t);
      // Bring node-1 back for any later test.
      await n1.gobgpd.start({ bootstrap: lab.speakerFor(n1) });
      await lab.waitForSessions([n1.ipv4]);
    });
  });
}
