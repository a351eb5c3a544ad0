/**
 * The lab's ToR configurations honour GRACEFUL_SHUTDOWN on import (RFC 8326; test/lab/bird.ts and frr.ts): a path a
 * node sends with the community 65535:0 but the ordinary LOCAL_PREF 100 — what the ToR gets over eBGP, where LOCAL_PREF
 * is not sent — is held with LOCAL_PREF 0 and leaves the ECMP route, while the other nodes' paths are untouched. The
 * nodes' gobgpd is driven with the gobgp CLI (no agent: svcbgp itself also sends LOCAL_PREF 0 over iBGP, which would
 * hide the ToR's part). The ToR's BGP table (`birdc show route ... all`, `vtysh show bgp ... json`) and kernel table are
 * what is asserted.
 */
import { expect } from 'chai';
import { cleanupStale, createLab, type Lab, type RouterKind } from '../lab/index.js';
import { torBgpPaths } from '../lab/tor-paths.js';
import { monitorRoutes } from '../lab/route-events.js';

const AGGREGATE = '10.49.0.0/16';

for (const router of ['bird', 'frr'] as RouterKind[]) {
  describe(`the lab ToR (${router === 'bird' ? 'BIRD 2' : 'FRR'}) honours GRACEFUL_SHUTDOWN received from a node`, function () {
    this.timeout(90_000);
    let lab: Lab;

    before(async function () {
      cleanupStale();
      lab = await createLab({ router });
      await lab.configureNodesWithCli();
      await lab.waitForSessions(undefined, 60_000);
      for (const n of lab.nodes) await n.gobgpd.addRoute(AGGREGATE);
      await lab.waitForTorRoute(
        AGGREGATE,
        lab.nodes.map((n) => n.ipv4),
      );
    });

    after(async function () {
      await lab?.destroy();
    });

    it('65535:0 with LOCAL_PREF 100: held with LOCAL_PREF 0, out of the ECMP route, nothing deleted; the other paths unchanged', async () => {
      const [n1, n2, n3] = [lab.node(1), lab.node(2), lab.node(3)];
      const monitor = monitorRoutes(lab.tor.ns);
      // gobgp CLI: the same prefix again replaces node-1's path, now with the community (LOCAL_PREF stays gobgpd's 100).
      await n1.gobgpd.gobgp(['global', 'rib', 'add', AGGREGATE, 'community', '65535:0']);
      await lab.waitForTorRoute(AGGREGATE, [n2.ipv4, n3.ipv4], 15_000);
      const paths = await torBgpPaths(lab.router, AGGREGATE);
      const events = await monitor.stop();
      expect(
        paths.find((p) => p.nextHop === n1.ipv4),
        "node-1's path at the ToR",
      ).to.deep.equal({ nextHop: n1.ipv4, localPref: 0, communities: ['65535:0'] });
      for (const n of [n2, n3]) expect(paths.find((p) => p.nextHop === n.ipv4)?.localPref, `${n.name}'s path`).to.equal(100);
      expect(
        events.filter((e) => e.deleted).map((e) => e.line),
        'route deletions at the ToR',
      ).to.deep.equal([]);
      // Back without the community: back in the ECMP route.
      await n1.gobgpd.addRoute(AGGREGATE);
      await lab.waitForTorRoute(
        AGGREGATE,
        lab.nodes.map((n) => n.ipv4),
        15_000,
      );
      expect((await torBgpPaths(lab.router, AGGREGATE)).find((p) => p.nextHop === n1.ipv4)?.localPref).to.equal(100);
    });
  });
}
