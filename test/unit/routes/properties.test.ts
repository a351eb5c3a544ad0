import { expect } from 'chai';
import fc from 'fast-check';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { Route } from '../../../src/model/route.js';
import { desiredRoutes, ruleReasons, diff, routeKey } from '../../../src/routes/index.js';
import { cidrContains, mustParseCidr, parseIp } from '../../../src/config/net.js';
import type { BgpConfig } from '../../../src/config/index.js';
import { ribAfter } from '../../helpers/rib.js';
import { NODES, mustConfig, node, service, slice, type Ep } from './cluster.js';

const CLUSTER = ['10.49.0.0/16', '10.49.62.0/24', 'fd00:49::/112'];
const EXTERNAL = ['192.168.3.0/24', '192.168.3.180/32', 'fd00:3::/64'];
const LB = ['192.168.4.0/24', '192.168.4.20/32', 'fd00:4::/120'];

function configFrom(c: string[], e: string[], l: string[]): BgpConfig {
  const list = (xs: string[]): string => (xs.length ? xs.map((x) => `\n  - cidr: ${x}`).join('') : ' []');
  return mustConfig(`apiVersion: svcbgp.io/v1alpha1
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceClusterIPs:${list(c)}
  serviceExternalIPs:${list(e)}
  serviceLoadBalancerIPs:${list(l)}
`);
}

const arbConfig = fc.tuple(fc.subarray(CLUSTER), fc.subarray(EXTERNAL), fc.subarray(LB)).map(([c, e, l]) => ({ c, e, l, config: configFrom(c, e, l) }));

/** Addresses near and far from the configured CIDRs, plus junk. */
const arbIp = fc.oneof(
  fc.integer({ min: 0, max: 65535 }).map((n) => `10.49.${n >> 8}.${n & 255}`),
  fc.integer({ min: 0, max: 255 }).map((n) => `192.168.3.${n}`),
  fc.integer({ min: 0, max: 255 }).map((n) => `192.168.4.${n}`),
  fc.constantFrom(
    '192.168.3.180',
    '192.168.4.20',
    '8.8.8.8',
    '10.50.0.1',
    'fd00:49::1',
    'fd00:49::1:0',
    'fd00:3::5',
    'fd00:4::1ff',
    '2001:db8::1',
    'None',
    '',
    'garbage',
    '1.2.3',
  ),
  fc.ipV4(),
  fc.ipV6(),
);

const arbEp = fc.record({
  ip: fc.constantFrom('10.48.0.1', '10.48.0.2'),
  node: fc.constantFrom('node-1', 'node-2', 'node-3', undefined),
  ready: fc.boolean(),
  serving: fc.boolean(),
  terminating: fc.boolean(),
}) as fc.Arbitrary<Ep>;

const arbSvcSpec = fc.record({
  type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
  clusterIPs: fc.array(arbIp, { maxLength: 2 }),
  externalIPs: fc.array(arbIp, { maxLength: 3 }),
  lb: fc.array(arbIp, { maxLength: 2 }),
  etp: fc.constantFrom('Local', 'Cluster'),
  itp: fc.constantFrom('Local', 'Cluster'),
  v4: fc.array(arbEp, { maxLength: 3 }),
  v6: fc.array(arbEp, { maxLength: 2 }),
  ns: fc.constantFrom('default', 'prod'),
});

const arbCluster = fc.array(arbSvcSpec, { maxLength: 8 }).map((specs) => {
  const services: V1Service[] = [];
  const slices: V1EndpointSlice[] = [];
  specs.forEach((s, i) => {
    const name = `svc-${i}`;
    services.push(
      service(name, {
        namespace: s.ns,
        type: s.type,
        ...(s.clusterIPs.length ? { clusterIPs: s.clusterIPs } : {}),
        externalIPs: s.externalIPs,
        externalTrafficPolicy: s.etp,
        internalTrafficPolicy: s.itp,
        lbIngress: s.lb.map((ip) => ({ ip })),
      }),
    );
    if (s.v4.length) slices.push(slice(name, 'IPv4', s.v4, { namespace: s.ns }));
    if (s.v6.length)
      slices.push(
        slice(
          name,
          'IPv6',
          s.v6.map((e) => ({ ...e, ip: 'fd00:48::1' })),
          { namespace: s.ns },
        ),
      );
  });
  return { services, slices };
});

function shuffle<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const arbNode = fc.constantFrom(NODES[0]!, NODES[1]!, NODES[2]!, node('node-2', {}, ['192.168.1.11', 'fd00:1::11']));

describe('routes: properties (fast-check)', () => {
  it('no route is ever outside the configured CIDRs', () => {
    fc.assert(
      fc.property(arbConfig, arbCluster, arbNode, ({ c, e, l, config }, { services, slices }, n) => {
        const all = [...c, ...e, ...l].map(mustParseCidr);
        for (const r of desiredRoutes(config, n, services, slices).routes) {
          const p = mustParseCidr(r.route.prefix);
          const inside = all.some((cidr) => cidrContains(cidr, p.bytes, p.length));
          if (!inside) throw new Error(`route ${r.route.prefix} outside ${all.map((x) => x.cidr).join(', ')}`);
          expect(r.route.family).to.equal(p.family);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the result does not depend on the order of Services and EndpointSlices', () => {
    fc.assert(
      fc.property(arbConfig, arbCluster, arbNode, fc.integer(), ({ config }, { services, slices }, n, seed) => {
        const a = desiredRoutes(config, n, services, slices);
        const b = desiredRoutes(config, n, shuffle(services, seed), shuffle(slices, seed ^ 0x5bd1e995));
        expect(b).to.deep.equal(a);
      }),
      { numRuns: 300 },
    );
  });

  it('every address a Service asks for is accounted for: routed, refused or withheld (never silently dropped)', () => {
    fc.assert(
      fc.property(arbConfig, arbCluster, arbNode, ({ config }, { services, slices }, n) => {
        const res = desiredRoutes(config, n, services, slices);
        const seen = new Set<string>();
        for (const r of res.routes) for (const why of ruleReasons(r)) for (const s of why.services) seen.add(`${s.namespace}/${s.name}/${s.address}`);
        for (const x of [...res.refused, ...res.withheld]) seen.add(`${x.namespace}/${x.service}/${x.address}`);
        for (const svc of services) {
          const spec = svc.spec!;
          if (spec.type === 'ExternalName' || spec.clusterIPs?.[0] === 'None') continue;
          const addrs = [...(spec.clusterIPs ?? []), ...(spec.externalIPs ?? []), ...(svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '')];
          for (const a of addrs) {
            if (a === '') continue;
            const key = `${svc.metadata!.namespace}/${svc.metadata!.name}/`;
            const ok = [...seen].some((k) => k.startsWith(key) && (k.endsWith(`/${a}`) || normalized(k.slice(key.length)) === normalized(a)));
            if (!ok) throw new Error(`${key}${a} not accounted for`);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  const PREFIXES = ['10.49.0.0/16', '10.49.62.131/32', '192.168.3.0/24', '192.168.3.180/32', 'fd00:49::/112', 'fd00:49::7/128'];
  const arbRoute: fc.Arbitrary<Route> = fc
    .record({
      prefix: fc.constantFrom(...PREFIXES),
      communities: fc.subarray(['64512:1', '64512:2']),
      largeCommunities: fc.subarray(['64512:1:1']),
      localPref: fc.option(fc.constantFrom(100, 200), { nil: undefined }),
      nh: fc.constantFrom('default', 'fd00:1::11'),
    })
    .map((r) => {
      const v6 = r.prefix.includes(':');
      const route: Route = {
        prefix: r.prefix,
        family: v6 ? 'ipv6-unicast' : 'ipv4-unicast',
        nextHop: v6 ? (r.nh === 'default' ? '::' : r.nh) : '0.0.0.0',
        communities: r.communities,
        largeCommunities: r.largeCommunities,
      };
      if (r.localPref !== undefined) route.localPref = r.localPref;
      return route;
    });
  const uniqueRoutes = fc.uniqueArray(arbRoute, { selector: routeKey, maxLength: PREFIXES.length });

  it('diff applied to actual gives desired, and touches nothing that is already right', () => {
    fc.assert(
      fc.property(uniqueRoutes, uniqueRoutes, (desired, actual) => {
        const d = diff(desired, actual);
        const after = ribAfter(actual, d);
        const norm = (rs: readonly Route[]): string[] =>
          rs.map((r) => JSON.stringify([routeKey(r), r.nextHop, [...r.communities].sort(), [...r.largeCommunities].sort(), r.localPref ?? null])).sort();
        expect(norm(after)).to.deep.equal(norm(desired));
        const touched = new Set([...d.add, ...d.update, ...d.delete].map(routeKey));
        for (const a of actual) {
          const w = desired.find((x) => routeKey(x) === routeKey(a));
          if (w && norm([w])[0] === norm([a])[0]) expect(touched.has(routeKey(a))).to.equal(false);
        }
        // An update never appears as a delete of the same prefix (gobgpd replaces on AddPath).
        const deleted = new Set(d.delete.map(routeKey));
        for (const u of [...d.update, ...d.add]) expect(deleted.has(routeKey(u))).to.equal(false);
      }),
      { numRuns: 500 },
    );
  });

  it('diff between two desiredRoutes results (a configuration change) converges', () => {
    fc.assert(
      fc.property(arbConfig, arbConfig, arbCluster, arbNode, (a, b, { services, slices }, n) => {
        const before = desiredRoutes(a.config, n, services, slices).routes.map((p) => p.route);
        const after = desiredRoutes(b.config, n, services, slices).routes.map((p) => p.route);
        const applied = ribAfter(before, diff(after, before));
        expect(applied.map(routeKey)).to.deep.equal(after.map(routeKey));
      }),
      { numRuns: 100 },
    );
  });
});

function normalized(ip: string): string {
  return parseIp(ip)?.text ?? ip;
}
