/**
 * Fuzz: Services that add attributes within the operator's limits, many of them on few addresses (so prefixes are
 * shared), in several namespaces, with the operator's own communities at up to what the configuration accepts.
 * Properties an operator relies on:
 * - no path over the BGP message limit: every route, with the ownership marker, fits one UPDATE with gobgpd's room;
 * - annotations never change an aggregate: a route that is an operator's configured CIDR carries exactly the
 *   operator's attributes, on every node;
 * - a route's Service attributes come from one namespace only, and every node gives one address the same attributes
 *   from Services (the nodes that advertise it agree).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { parseConfig } from '../../../src/config/index.js';
import { desiredRoutes, ruleReasons } from '../../../src/routes/index.js';
import { markOwned } from '../../../src/model/owner-marker.js';
import { MAX_UPDATE_BYTES, updateBytes, wireBytes } from '../../../src/model/path-size.js';
import { fuzz } from '../../helpers/fuzz/settings.js';

const NODES = ['node-1', 'node-2', 'node-3'];
const ADDRESSES = ['192.168.3.180', '192.168.3.181', '192.168.3.7', '192.168.4.20'];

const arbCommunities = (max: number, parts: 2 | 3): fc.Arbitrary<string[]> =>
  fc.array(
    parts === 2
      ? fc.tuple(fc.constantFrom(64512, 65535, 0, 64513), fc.integer({ min: 0, max: 400 })).map(([a, b]) => `${a}:${b}`)
      : fc.tuple(fc.constantFrom(64512, 64513), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 400 })).map(([a, b, c]) => `${a}:${b}:${c}`),
    { maxLength: max },
  );

const arbService = fc.record({
  name: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'),
  namespace: fc.constantFrom('shop', 'shop', 'shop', 'bank'),
  created: fc.integer({ min: 0, max: 5 }),
  local: fc.constantFrom(true, true, true, false),
  externalIPs: fc.oneof(fc.constant([ADDRESSES[0]!]), fc.subarray(ADDRESSES.slice(0, 3), { minLength: 1 })),
  lb: fc.option(fc.constant('192.168.4.20'), { nil: undefined }),
  communities: arbCommunities(40, 2),
  large: fc.oneof(
    arbCommunities(40, 3),
    arbCommunities(40, 3).map((l) => [...l, ...Array.from({ length: 32 }, (_, i) => `64513:3:${i * 7 + l.length}`)]),
  ),
  localPref: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
  endpointsOn: fc.oneof(fc.constant(NODES), fc.subarray(NODES)),
});

const arbConfig = fc.record({
  operatorStd: fc.integer({ min: 0, max: 700 }),
  operatorLarge: fc.integer({ min: 0, max: 20 }),
  singleExternal: fc.boolean(),
  wellKnown: fc.boolean(),
});

function configText(c: { operatorStd: number; operatorLarge: number; singleExternal: boolean; wellKnown: boolean }): string {
  const std = Array.from({ length: c.operatorStd }, (_, i) => `"64600:${i}"`);
  const large = Array.from({ length: c.operatorLarge }, (_, i) => `"64600:9:${i}"`);
  return `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceExternalIPs: [{cidr: 192.168.3.0/24}${c.singleExternal ? ', {cidr: 192.168.3.180/32}' : ''}]
  serviceLoadBalancerIPs: [{cidr: 192.168.4.20/32}]
  prefixAdvertisements: [{cidr: 192.168.3.0/24, communities: [${[...std, ...large].join(', ')}]}]
  weightedECMP: {enabled: true}
  serviceAttributeLimits:
    communities: ["0-65535:0-400"]
    largeCommunities: ["64512-64513:0-3:0-400"]
    localPref: "0-300"
    allowWellKnownCommunities: ${c.wellKnown}
`;
}

type Svc = typeof arbService extends fc.Arbitrary<infer T> ? T : never;

function objects(svcs: readonly Svc[]): { services: V1Service[]; slices: V1EndpointSlice[] } {
  const services: V1Service[] = [];
  const slices: V1EndpointSlice[] = [];
  for (const s of svcs) {
    const annotations: Record<string, string> = {};
    if (s.communities.length) annotations['svcbgp.io/communities'] = s.communities.join(' ');
    if (s.large.length) annotations['svcbgp.io/large-communities'] = s.large.join(', ');
    if (s.localPref !== undefined) annotations['svcbgp.io/local-pref'] = String(s.localPref);
    services.push({
      metadata: { name: s.name, namespace: s.namespace, creationTimestamp: `2026-01-0${s.created + 1}T00:00:00Z` as unknown as Date, annotations },
      spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', externalIPs: [...s.externalIPs], externalTrafficPolicy: s.local ? 'Local' : 'Cluster' },
      status: s.lb ? { loadBalancer: { ingress: [{ ip: s.lb }] } } : {},
    });
    slices.push({
      metadata: { name: `${s.name}-x`, namespace: s.namespace, labels: { 'kubernetes.io/service-name': s.name } },
      addressType: 'IPv4',
      endpoints: s.endpointsOn.map((n, i) => ({ addresses: [`10.48.${i}.${s.name.charCodeAt(0)}`], nodeName: n, conditions: { ready: true } })),
    });
  }
  return { services, slices };
}

describe('fuzz: Service attributes on shared prefixes (path size, aggregates, namespaces)', function () {
  this.timeout(120_000);

  it('no path over the BGP message limit; annotations never change an aggregate; one namespace per route and the same attributes on every node', () => {
    fuzz(
      'service attributes',
      fc.property(arbConfig, fc.array(arbService, { maxLength: 14 }), (cfg, svcs) => {
        const parsed = parseConfig(configText(cfg));
        fc.pre(parsed.ok);
        if (!parsed.ok) return;
        const { services, slices } = objects(svcs);
        const byNode = NODES.map((n) => desiredRoutes(parsed.config, { metadata: { name: n } }, services, slices));
        const fromServices = new Map<string, string>();
        for (const res of byNode) {
          for (const r of res.routes) {
            expect(wireBytes(r.route), `${r.route.prefix}: path size`).to.be.at.most(MAX_UPDATE_BYTES);
            expect(updateBytes(markOwned(r.route, 4294967295))).to.be.below(wireBytes(r.route));
            const operatorStd = [...new Set((r.attributesFrom ?? []).flatMap((a) => a.communities))].sort();
            const operatorLarge = [...new Set((r.attributesFrom ?? []).flatMap((a) => a.largeCommunities))].sort();
            if (r.reasons.some((x) => x.rule === 'aggregate')) {
              expect(r.serviceAttributesFrom, `${r.route.prefix} (aggregate) carries Service attributes`).to.equal(undefined);
              expect([...r.route.communities].sort()).to.deep.equal(operatorStd);
              expect([...r.route.largeCommunities].sort()).to.deep.equal(operatorLarge);
              expect(r.route.localPref).to.equal(undefined);
            }
            const namespaces = new Set((r.serviceAttributesFrom ?? []).map((x) => x.service.namespace));
            expect(namespaces.size, `${r.route.prefix}: Service attributes from several namespaces`).to.be.at.most(1);
            const own = JSON.stringify([
              r.route.communities.filter((x) => !operatorStd.includes(x)),
              r.route.largeCommunities.filter((x) => !operatorLarge.includes(x)),
              r.route.localPref,
            ]);
            // Every node that advertises the address because of the same Services gives it the same attributes.
            const who = JSON.stringify(ruleReasons(r).map((x) => [x.rule, x.services.map((s) => `${s.namespace}/${s.name}`)]));
            const k = `${r.route.prefix} ${who}`;
            const before = fromServices.get(k);
            if (before !== undefined) expect(own, `${r.route.prefix}: nodes disagree`).to.equal(before);
            else fromServices.set(k, own);
          }
        }
      }),
      300,
    );
  });
});
