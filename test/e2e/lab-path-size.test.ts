/**
 * The largest path svcbgp can build reaches a real ToR, on the gobgpd version under test (SVCBGP_GOBGPD; the matrix
 * runs this file on every supported version). A path larger than one BGP message makes gobgpd 3.10 panic while
 * sending it (`makeslice: cap out of range`) and again after every restart, so the bounds of src/model/path-size.ts
 * must hold on the wire, not only in the model: here the route model builds the biggest path its bounds allow — the
 * operator's prefixAdvertisements at the most the configuration accepts, a dozen Services on one address each asking
 * for 32 standard and 32 large communities and a LOCAL_PREF, weighted ECMP — for an IPv4 and an IPv6 host route, in
 * the form a draining node sends (GRACEFUL_SHUTDOWN added, LOCAL_PREF 0), svcbgp's own client and codec send them to the node's gobgpd with the ownership marker, and the ToR (BIRD 2 and
 * FRR, in the lab's namespaces) must hold each path with every community, while gobgpd keeps running.
 *
 * Difference from production: the agent's reconciler is not in the loop (the path goes through the same client call
 * the reconciler's speaker makes); the Services are objects handed to the route model, not read from an API server.
 */
import { expect } from 'chai';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { cleanupStale, createLab, sleep, type Lab, type RouterKind } from '../lab/index.js';
import { BirdRouter } from '../lab/bird.js';
import { FrrRouter } from '../lab/frr.js';
import { connectTestGobgp as connectGobgp, type TestGobgpClient as GobgpClient } from '../helpers/gobgpd-client.js';
import { parseConfig } from '../../src/config/index.js';
import { desiredRoutes } from '../../src/routes/index.js';
import { markOwned } from '../../src/model/owner-marker.js';
import { GRACEFUL_SHUTDOWN_COMMUNITY } from '../../src/config/departure.js';
import { MAX_BGP_MESSAGE, MAX_SERVICE_COMMUNITIES, MAX_SERVICE_LARGE_COMMUNITIES, operatorCommunitiesFit, updateBytes } from '../../src/model/path-size.js';
import type { Route } from '../../src/model/route.js';
import { gobgpdVersion } from '../helpers/gobgpd-version.js';
import { metric } from './lab-metrics.js';

const V4 = '192.168.3.180';
const V6 = 'fd00:3::180';

/** The most standard communities prefixAdvertisements may give a route (with 8 large ones beside them). */
function operatorMax(): number {
  let n = 0;
  while (operatorCommunitiesFit(n + 1, 8)) n++;
  return n;
}

function config(operatorStd: number): ReturnType<typeof parseConfig> {
  const std = Array.from({ length: operatorStd }, (_, i) => `"64600:${i}"`);
  const large = Array.from({ length: 8 }, (_, i) => `"64600:9:${i}"`);
  const all = [...std, ...large].join(', ');
  return parseConfig(`apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceExternalIPs: [{cidr: 192.168.3.0/24}, {cidr: "fd00:3::/64"}]
  prefixAdvertisements:
  - {cidr: 192.168.3.0/24, communities: [${all}]}
  - {cidr: "fd00:3::/64", communities: [${all}]}
  weightedECMP: {enabled: true}
  serviceAttributeLimits:
    communities: ["64512:0-65535"]
    largeCommunities: ["64512:0-99:0-4294967295"]
    localPref: "50-200"
`);
}

function services(): { services: V1Service[]; slices: V1EndpointSlice[] } {
  const svcs: V1Service[] = [];
  const slices: V1EndpointSlice[] = [];
  for (let i = 0; i < 12; i++) {
    const name = `tenant-${i}`;
    svcs.push({
      metadata: {
        name,
        namespace: 'shop',
        creationTimestamp: `2026-01-01T00:00:${String(10 + i)}Z` as unknown as Date,
        annotations: {
          'svcbgp.io/communities': Array.from({ length: 32 }, (_, j) => `64512:${i * 100 + j}`).join(' '),
          'svcbgp.io/large-communities': Array.from({ length: 32 }, (_, j) => `64512:${i}:${j}`).join(' '),
          'svcbgp.io/local-pref': String(100 + i),
        },
      },
      spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', ipFamilyPolicy: 'PreferDualStack', externalIPs: [V4, V6], externalTrafficPolicy: 'Local' },
    });
    for (const fam of ['IPv4', 'IPv6'] as const) {
      slices.push({
        metadata: { name: `${name}-${fam}`, namespace: 'shop', labels: { 'kubernetes.io/service-name': name } },
        addressType: fam,
        endpoints: [{ addresses: [fam === 'IPv4' ? `10.48.1.${i + 1}` : `fd00:48:1::${i + 1}`], nodeName: 'node-1', conditions: { ready: true } }],
      });
    }
  }
  return { services: svcs, slices };
}

/** Standard and large communities of the node's path at the ToR, as its own CLI prints them. */
async function torCommunities(lab: Lab, prefix: string, from: string): Promise<{ std: number; large: number } | undefined> {
  const r = lab.router;
  if (r instanceof BirdRouter) {
    const text = await r.birdc(['show', 'route', prefix, 'all']);
    const block = text.split(/\n(?=\S|\s+unicast \[)/).find((b) => b.includes(`BGP.next_hop: ${from}`));
    if (!block) return undefined;
    // birdc wraps a long attribute over several indented lines: gather each attribute's text until the next one.
    const attrs = new Map<string, string>();
    let cur = '';
    for (const l of block.split('\n')) {
      const m = /^\s+BGP\.(\w+):(.*)$/.exec(l);
      if (m) attrs.set((cur = m[1]!), m[2]!);
      else if (cur !== '' && /^\s/.test(l)) attrs.set(cur, `${attrs.get(cur) ?? ''} ${l}`);
      else cur = '';
    }
    const line = (name: string) => attrs.get(name) ?? '';
    return { std: [...line('community').matchAll(/\(\d+,\s*\d+\)/g)].length, large: [...line('large_community').matchAll(/\(\d+,\s*\d+,\s*\d+\)/g)].length };
  }
  if (r instanceof FrrRouter) {
    const family = prefix.includes(':') ? 'ipv6' : 'ipv4';
    const j = JSON.parse(await r.vtysh([`show bgp ${family} unicast ${prefix} json`])) as {
      paths?: { nexthops?: { ip?: string }[]; community?: { list?: unknown[]; string?: string }; largeCommunity?: { list?: unknown[]; string?: string } }[];
    };
    const p = (j.paths ?? []).find((x) => (x.nexthops ?? []).some((h) => h.ip === from));
    if (!p) return undefined;
    const count = (c?: { list?: unknown[]; string?: string }) => c?.list?.length ?? (c?.string ? c.string.split(' ').length : 0);
    return { std: count(p.community), large: count(p.largeCommunity) };
  }
  throw new Error(`no reader for ToR ${r.kind}`);
}

for (const router of ['bird', 'frr'] as RouterKind[]) {
  describe(`the largest path svcbgp builds reaches ${router === 'bird' ? 'BIRD 2' : 'FRR'} (gobgpd ${gobgpdVersion().name}, lab)`, function () {
    this.timeout(180_000);
    let lab: Lab;
    let client: GobgpClient;

    before(async function () {
      cleanupStale();
      lab = await createLab({ router });
      await lab.configureNodesWithCli();
      await lab.waitForSessions(undefined, 90_000);
      client = connectGobgp(lab.node(1).gobgpd.target, { deadlineMs: 10_000 });
    });
    after(async function () {
      client?.close();
      await lab?.destroy();
    });

    it('a dozen Services with 32 + 32 communities each on one address, the operator at its maximum: the path is at the bound, the ToR holds every community, gobgpd keeps running', async function () {
      const operatorStd = operatorMax();
      const parsed = config(operatorStd);
      if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.text).join('\n'));
      const { services: svcs, slices } = services();
      const n1 = lab.node(1);
      const node: V1Node = {
        metadata: { name: 'node-1' },
        status: {
          addresses: [
            { type: 'InternalIP', address: n1.ipv4 },
            { type: 'InternalIP', address: n1.ipv6 },
          ],
        },
      };
      const res = desiredRoutes(parsed.config, node, svcs, slices);
      const hosts = [V4, V6].map((ip) => res.routes.find((r) => r.route.prefix === `${ip}/${ip.includes(':') ? 128 : 32}`)!);
      // As the node sends them while it drains (the largest form: GRACEFUL_SHUTDOWN and LOCAL_PREF 0 added).
      const paths: Route[] = hosts.map((r) =>
        markOwned({ ...r.route, communities: [...r.route.communities, GRACEFUL_SHUTDOWN_COMMUNITY], localPref: 0 }, 64512),
      );
      for (const p of paths) {
        const bytes = updateBytes(p);
        metric(
          router,
          `UPDATE bytes of the largest ${p.family} path (before gobgpd's additions)`,
          bytes,
          `${p.communities.length} standard, ${p.largeCommunities.length} large communities`,
        );
        // Within the message with gobgpd's room, and not far below it: this is the biggest path the bounds allow.
        expect(bytes)
          .to.be.at.most(MAX_BGP_MESSAGE - 256)
          .and.at.least(MAX_BGP_MESSAGE - 256 - 100);
        expect(p.communities).to.have.length(operatorStd + MAX_SERVICE_COMMUNITIES + 1);
        expect(p.largeCommunities).to.have.length(8 + MAX_SERVICE_LARGE_COMMUNITIES + 1);
        await client.addPath(p);
      }
      for (const p of paths) {
        const from = p.family === 'ipv4-unicast' ? n1.ipv4 : n1.ipv6;
        let seen: { std: number; large: number } | undefined;
        for (let t0 = Date.now(); Date.now() - t0 < 30_000; await sleep(200)) {
          seen = await torCommunities(lab, p.prefix, from);
          if (seen) break;
        }
        expect(seen, `${p.prefix} from ${from} at the ToR`).to.deep.equal({ std: p.communities.length, large: p.largeCommunities.length });
      }
      // gobgpd is alive and still has both paths (3.10 would have panicked on a path over 4,096 bytes).
      expect(n1.gobgpd.running() && n1.gobgpd.gobgpdPid() !== undefined).to.equal(true);
      expect((await client.listPaths('ipv4-unicast')).map((x) => x.route.prefix)).to.include(`${V4}/32`);
      expect((await client.listPaths('ipv6-unicast')).map((x) => x.route.prefix)).to.include(`${V6}/128`);
    });
  });
}
