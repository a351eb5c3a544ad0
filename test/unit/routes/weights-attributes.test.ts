import { expect } from 'chai';
import type { V1Service } from '@kubernetes/client-node';
import { parseConfig } from '../../../src/config/index.js';
import { desiredRoutes, diff } from '../../../src/routes/index.js';
import { mergeContributions, readServiceAttributes, type RouteContribution } from '../../../src/routes/service-attributes.js';
import { endpointsLinkBandwidth, linkBandwidthAsn } from '../../../src/routes/weights.js';
import { NODES, PEER_DOC, mustConfig, service, slice } from './cluster.js';
import { explain, formatText } from '../../../src/cli/explain.js';

const DOC = (spec: string): string => `${PEER_DOC}---\napiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n${spec}`;
const CIDRS = `  serviceClusterIPs:
  - cidr: 10.49.0.0/16
  serviceExternalIPs:
  - cidr: 192.168.3.0/24
`;
const WEIGHTED = mustConfig(
  DOC(`${CIDRS}  weightedECMP:
    enabled: true
  serviceAttributeLimits:
    communities: ["64512:100", "64512:200-299"]
    largeCommunities: ["64512:1:0-99"]
    localPref: "50-200"
`),
);
const PLAIN = mustConfig(DOC(CIDRS));
const [N1, N2] = [NODES[0]!, NODES[1]!];

function web(name: string, annotations: Record<string, string> = {}, o: Parameters<typeof service>[1] = {}): V1Service {
  const s = service(name, { type: 'LoadBalancer', clusterIP: '10.49.7.7', externalIPs: ['192.168.3.180'], externalTrafficPolicy: 'Local', ...o });
  s.metadata!.annotations = annotations;
  return s;
}
/** `n1` endpoints on node-1, `n2` on node-2 (the issue's example: 1 and 3). */
function eps(name: string, n1: number, n2: number, ready = true): ReturnType<typeof slice> {
  const list = [
    ...Array.from({ length: n1 }, (_, i) => ({ ip: `10.48.1.${i + 1}`, node: 'node-1', ready })),
    ...Array.from({ length: n2 }, (_, i) => ({ ip: `10.48.2.${i + 1}`, node: 'node-2', ready })),
  ];
  return slice(name, 'IPv4', list);
}
const route = (res: ReturnType<typeof desiredRoutes>, prefix: string) => res.routes.find((r) => r.route.prefix === prefix);

describe('configuration: weightedECMP and serviceAttributeLimits (svcbgp extensions)', () => {
  it('off by default; read when set', () => {
    expect(PLAIN.global.weightedEcmp).to.equal(undefined);
    expect(PLAIN.global.serviceAttributeLimits).to.equal(undefined);
    expect(WEIGHTED.global.weightedEcmp).to.deep.equal({});
    expect(WEIGHTED.global.serviceAttributeLimits!.communities.map((c) => c.text)).to.deep.equal(['64512:100', '64512:200-299']);
    expect(WEIGHTED.global.serviceAttributeLimits!.localPref).to.deep.equal({ min: 50, max: 200 });
  });

  it('rejects bad values with the field and the value', () => {
    const r = parseConfig(
      DOC(`${CIDRS}  weightedECMP: {enabled: yes, aggregateLinkBandwidthMbps: 0}
  serviceAttributeLimits:
    communities: ["64512:300-200", "65536:1", "64512"]
    localPref: "high"
`),
    );
    expect(r.ok).to.equal(false);
    const texts = r.ok ? [] : r.errors.map((e) => e.text);
    expect(texts.some((t) => t.includes('spec.weightedECMP.aggregateLinkBandwidthMbps = 0'))).to.equal(true);
    expect(texts.some((t) => t.includes('spec.serviceAttributeLimits.communities[0]') && t.includes('lower bound first'))).to.equal(true);
    expect(texts.some((t) => t.includes('spec.serviceAttributeLimits.communities[1]') && t.includes('out of range'))).to.equal(true);
    expect(texts.some((t) => t.includes('spec.serviceAttributeLimits.communities[2]') && t.includes('2 parts'))).to.equal(true);
    expect(texts.some((t) => t.includes('spec.serviceAttributeLimits.localPref = "high"'))).to.equal(true);
  });
});

describe('weights: the link-bandwidth value', () => {
  it('1 Mbit/s (125,000 bytes/s) per usable local endpoint; the local AS, or AS_TRANS when it needs 4 octets', () => {
    expect(endpointsLinkBandwidth(3, 64512)).to.deep.equal({ asn: 64512, bytesPerSecond: 375_000 });
    expect(linkBandwidthAsn(4_200_000_000)).to.equal(23456);
    // FRR keeps bytes per second in a uint32: the count is capped.
    expect(endpointsLinkBandwidth(1e9, 64512).bytesPerSecond).to.be.below(2 ** 32);
  });
});

describe('weighted ECMP in desiredRoutes', () => {
  it("a Local host route carries a link bandwidth proportional to the node's usable local endpoints (1 on node-1, 3 on node-2)", () => {
    const svcs = [web('web')];
    const slices = [eps('web', 1, 3)];
    const r1 = route(desiredRoutes(WEIGHTED, N1, svcs, slices), '192.168.3.180/32')!;
    const r2 = route(desiredRoutes(WEIGHTED, N2, svcs, slices), '192.168.3.180/32')!;
    expect(r1.route.linkBandwidth).to.deep.equal({ asn: 64512, bytesPerSecond: 125_000 });
    expect(r2.route.linkBandwidth).to.deep.equal({ asn: 64512, bytesPerSecond: 375_000 });
    expect(r2.linkBandwidthFrom).to.deep.equal({
      basis: 'local-endpoints',
      localEndpoints: 3,
      services: [{ service: { namespace: 'default', name: 'web' }, localEndpoints: 3 }],
    });
  });

  it('aggregates carry none unless the operator sets aggregateLinkBandwidthMbps; off means no route carries one', () => {
    expect(route(desiredRoutes(WEIGHTED, N1, [web('web')], [eps('web', 1, 3)]), '10.49.0.0/16')!.route.linkBandwidth).to.equal(undefined);
    const agg = mustConfig(DOC(`${CIDRS}  weightedECMP: {enabled: true, aggregateLinkBandwidthMbps: 1000}\n`));
    expect(route(desiredRoutes(agg, N1, [], []), '10.49.0.0/16')!.route.linkBandwidth).to.deep.equal({ asn: 64512, bytesPerSecond: 125_000_000 });
    expect(desiredRoutes(PLAIN, N2, [web('web')], [eps('web', 1, 3)]).routes.every((r) => r.route.linkBandwidth === undefined)).to.equal(true);
  });

  it('scaling changes the value in place: one update of the same prefix, never a delete and add', () => {
    const before = desiredRoutes(WEIGHTED, N2, [web('web')], [eps('web', 1, 3)]).routes.map((p) => p.route);
    const after = desiredRoutes(WEIGHTED, N2, [web('web')], [eps('web', 1, 5)]).routes.map((p) => p.route);
    const d = diff(after, before);
    expect(d.add).to.deep.equal([]);
    expect(d.delete).to.deep.equal([]);
    expect(d.update.map((r) => [r.prefix, r.linkBandwidth?.bytesPerSecond])).to.deep.equal([
      ['10.49.7.7/32', 625_000],
      ['192.168.3.180/32', 625_000],
    ]);
  });

  it('endpoints that cannot serve do not count', () => {
    const s = slice('web', 'IPv4', [
      { ip: '10.48.2.1', node: 'node-2' },
      { ip: '10.48.2.2', node: 'node-2' },
      { ip: '10.48.2.3', node: 'node-2', ready: false },
      { ip: '10.48.2.4', node: 'node-2', ready: false, serving: false, terminating: true },
    ]);
    expect(route(desiredRoutes(WEIGHTED, N2, [web('web')], [s]), '192.168.3.180/32')!.route.linkBandwidth!.bytesPerSecond).to.equal(250_000);
  });

  it('an endpoint listed in two EndpointSlices counts once', () => {
    const a = slice(
      'web',
      'IPv4',
      [
        { ip: '10.48.2.1', node: 'node-2' },
        { ip: '10.48.2.2', node: 'node-2' },
      ],
      { suffix: 'a' },
    );
    // The same two Pods again (one address in another spelling), one of them twice, and a third Pod.
    const b = slice(
      'web',
      'IPv4',
      [
        { ip: '10.48.2.2', node: 'node-2' },
        { ip: '10.48.2.2', node: 'node-2' },
        { ip: '10.48.2.3', node: 'node-2' },
      ],
      { suffix: 'b' },
    );
    const r = route(desiredRoutes(WEIGHTED, N2, [web('web')], [a, b]), '192.168.3.180/32')!;
    expect(r.route.linkBandwidth).to.deep.equal({ asn: 64512, bytesPerSecond: 375_000 });
    expect(r.linkBandwidthFrom?.localEndpoints).to.equal(3);
    // IPv6: the address in canonical form, whatever its spelling.
    const v6 = mustConfig(DOC('  serviceExternalIPs:\n  - cidr: fd00:3::/64\n  weightedECMP:\n    enabled: true\n'));
    const svc6 = web('web', {}, { clusterIP: undefined, externalIPs: ['fd00:3::80'] });
    const s6 = slice(
      'web',
      'IPv6',
      ['fd00::1', 'fd00:0::0:1', 'FD00::1', 'fd00::2'].map((ip) => ({ ip, node: 'node-2' })),
    );
    expect(route(desiredRoutes(v6, N2, [svc6], [s6]), 'fd00:3::80/128')!.route.linkBandwidth!.bytesPerSecond).to.equal(250_000);
  });

  it('duplicates that disagree count once, with the best condition', () => {
    const a = slice(
      'web',
      'IPv4',
      [
        { ip: '10.48.2.1', node: 'node-2', ready: false, serving: true, terminating: true },
        { ip: '10.48.2.2', node: 'node-2', ready: false, serving: false },
      ],
      { suffix: 'a' },
    );
    const b = slice(
      'web',
      'IPv4',
      [
        { ip: '10.48.2.1', node: 'node-2' },
        { ip: '10.48.2.2', node: 'node-2', ready: false, serving: true, terminating: true },
      ],
      { suffix: 'b' },
    );
    // 10.48.2.1 is ready in b; 10.48.2.2 at best serving while terminating: one ready endpoint.
    expect(route(desiredRoutes(WEIGHTED, N2, [web('web')], [a, b]), '192.168.3.180/32')!.route.linkBandwidth!.bytesPerSecond).to.equal(125_000);
    expect(route(desiredRoutes(WEIGHTED, N2, [web('web')], [b, a]), '192.168.3.180/32')!.route.linkBandwidth!.bytesPerSecond).to.equal(125_000);
  });

  it('terminating endpoints do not count beside ready ones (kube-proxy KEP-1669)', () => {
    const s = slice('web', 'IPv4', [
      { ip: '10.48.2.1', node: 'node-2' },
      { ip: '10.48.2.2', node: 'node-2', ready: false, serving: true, terminating: true },
      { ip: '10.48.2.3', node: 'node-2', ready: false, serving: true, terminating: true },
    ]);
    const r = route(desiredRoutes(WEIGHTED, N2, [web('web')], [s]), '192.168.3.180/32')!;
    expect(r.route.linkBandwidth).to.deep.equal({ asn: 64512, bytesPerSecond: 125_000 });
    expect(r.linkBandwidthFrom?.localEndpoints).to.equal(1);
  });

  it('only terminating-serving endpoints: they count', () => {
    const s = slice('web', 'IPv4', [
      { ip: '10.48.2.1', node: 'node-2', ready: false, serving: true, terminating: true },
      { ip: '10.48.2.2', node: 'node-2', ready: false, serving: true, terminating: true },
      { ip: '10.48.2.3', node: 'node-2', ready: false, serving: false, terminating: true },
      { ip: '10.48.1.1', node: 'node-1' },
    ]);
    const r = route(desiredRoutes(WEIGHTED, N2, [web('web')], [s]), '192.168.3.180/32')!;
    expect(r.route.linkBandwidth).to.deep.equal({ asn: 64512, bytesPerSecond: 250_000 });
    // Nothing that can serve: no route, as before.
    const gone = slice('web', 'IPv4', [{ ip: '10.48.2.3', node: 'node-2', ready: false, serving: false, terminating: true }]);
    expect(route(desiredRoutes(WEIGHTED, N2, [web('web')], [gone]), '192.168.3.180/32')).to.equal(undefined);
  });
});

describe('per-Service attributes (annotations within serviceAttributeLimits)', () => {
  it("allowed values reach the Service's host routes, never the aggregates; sources are named", () => {
    const svc = web('web', { 'svcbgp.io/communities': '64512:100, 64512:250', 'svcbgp.io/large-communities': '64512:1:7', 'svcbgp.io/local-pref': '150' });
    const res = desiredRoutes(WEIGHTED, N2, [svc], [eps('web', 1, 3)]);
    const host = route(res, '192.168.3.180/32')!;
    expect(host.route.communities).to.deep.equal(['64512:100', '64512:250']);
    expect(host.route.largeCommunities).to.deep.equal(['64512:1:7']);
    expect(host.route.localPref).to.equal(150);
    expect(host.serviceAttributesFrom).to.deep.equal([
      { service: { namespace: 'default', name: 'web' }, communities: ['64512:100', '64512:250'], largeCommunities: ['64512:1:7'], localPref: 150 },
    ]);
    const agg = route(res, '10.49.0.0/16')!;
    expect(agg.route.communities).to.deep.equal([]);
    expect(agg.serviceAttributesFrom).to.equal(undefined);
    expect(res.refused).to.deep.equal([]);
  });

  it('a value outside the allow-list is refused (the route is advertised without it); with no limits nothing is allowed', () => {
    const svc = web('web', { 'svcbgp.io/communities': '64512:100 65535:666', 'svcbgp.io/local-pref': '500' });
    const res = desiredRoutes(WEIGHTED, N2, [svc], [eps('web', 0, 1)]);
    expect(route(res, '192.168.3.180/32')!.route.communities).to.deep.equal(['64512:100']);
    expect(route(res, '192.168.3.180/32')!.route.localPref).to.equal(undefined);
    expect(res.refused.map((r) => [r.code, r.address])).to.deep.equal([
      ['attribute-not-allowed', '500'],
      ['attribute-not-allowed', '65535:666'],
    ]);
    expect(res.refused.find((r) => r.address === '65535:666')!.message).to.contain('outside serviceAttributeLimits.communities (64512:100, 64512:200-299)');
    const none = desiredRoutes(PLAIN, N2, [svc], [eps('web', 0, 1)]);
    expect(route(none, '192.168.3.180/32')!.route.communities).to.deep.equal([]);
    expect(none.refused.map((r) => r.code)).to.deep.equal(['attribute-not-allowed', 'attribute-not-allowed', 'attribute-not-allowed']);
    expect(none.refused[0]!.message).to.contain('sets no serviceAttributeLimits');
  });

  it('malformed values are refused without echoing control characters', () => {
    const r = readServiceAttributes({ 'svcbgp.io/communities': '64512:1x\u001b[2J', 'svcbgp.io/advertise': 'nope' }, WEIGHTED.global.serviceAttributeLimits);
    expect(r.advertise).to.equal(true);
    expect(r.refused.map((x) => x.code)).to.deep.equal(['invalid-annotation', 'invalid-annotation']);
    expect(r.refused.every((x) => !/[\u0000-\u001f]/.test(x.text))).to.equal(true);
  });

  it('svcbgp.io/advertise: "false" withholds the Service\'s host routes (the aggregate still carries it)', () => {
    const res = desiredRoutes(WEIGHTED, N2, [web('web', { 'svcbgp.io/advertise': 'false' })], [eps('web', 1, 3)]);
    expect(route(res, '192.168.3.180/32')).to.equal(undefined);
    expect(route(res, '192.168.3.0/24')).to.not.equal(undefined);
    expect(res.withheld.map((w) => [w.address, w.code])).to.deep.include(['192.168.3.180', 'advertise-disabled']);
  });
});

describe('mergeContributions: several Services on one prefix', () => {
  const svc = (name: string) => ({ namespace: 'default', name });
  const local = (name: string, n: number, attrs: Partial<RouteContribution['attributes']> = {}): RouteContribution => ({
    rule: 'local-endpoint',
    service: svc(name),
    localEndpoints: n,
    attributes: { communities: [], largeCommunities: [], ...attrs },
  });
  const settings = { asNumber: 64512, weightedEcmp: {} };

  it("communities: the union; LOCAL_PREF: the lowest; link bandwidth: the sum of the Services' local endpoints", () => {
    const m = mergeContributions(
      [
        local('a', 2, { communities: ['64512:100'], localPref: 150 }),
        local('b', 3, { communities: ['64512:200'], largeCommunities: ['64512:1:1'], localPref: 80 }),
      ],
      settings,
    );
    expect(m.communities).to.deep.equal(['64512:100', '64512:200']);
    expect(m.largeCommunities).to.deep.equal(['64512:1:1']);
    expect(m.localPref).to.equal(80);
    expect(m.linkBandwidth).to.deep.equal({ asn: 64512, bytesPerSecond: 625_000 });
    expect(m.serviceAttributesFrom.map((s) => s.service.name)).to.deep.equal(['a', 'b']);
  });

  it('is order-independent', () => {
    const cs = [local('a', 2, { communities: ['64512:100'], localPref: 150 }), local('b', 3, { localPref: 80 }), local('c', 1)];
    expect(mergeContributions([...cs].reverse(), settings)).to.deep.equal(mergeContributions(cs, settings));
  });

  it('no link bandwidth when the prefix also exists for another reason (an aggregate, a Cluster-policy single address)', () => {
    const single: RouteContribution = { rule: 'single-address-cidr', service: svc('x'), attributes: { communities: [], largeCommunities: [] } };
    expect(mergeContributions([local('a', 2), single], settings).linkBandwidth).to.equal(undefined);
    expect(mergeContributions([local('a', 2), { rule: 'aggregate', attributes: { communities: [], largeCommunities: [] } }], settings).linkBandwidth).to.equal(
      undefined,
    );
    expect(mergeContributions([local('a', 2)], { asNumber: 64512 }).linkBandwidth).to.equal(undefined);
  });

  it('two Local Services sharing an external IP on a node: one route, the endpoints of both', () => {
    const a = web('a', { 'svcbgp.io/communities': '64512:100' });
    const b = web('b', { 'svcbgp.io/communities': '64512:200' }, { clusterIP: '10.49.7.8' });
    const res = desiredRoutes(WEIGHTED, N2, [a, b], [eps('a', 0, 1), eps('b', 0, 2)]);
    const r = route(res, '192.168.3.180/32')!;
    expect(r.route.communities).to.deep.equal(['64512:100', '64512:200']);
    expect(r.route.linkBandwidth!.bytesPerSecond).to.equal(375_000);
  });
});

describe('svcbgp explain shows the weight and the Service attributes with their sources, and the refusal with its reason', () => {
  it('text output', () => {
    const svc = web('web', { 'svcbgp.io/communities': '64512:100 65535:666' });
    const text = formatText(
      explain({
        config: WEIGHTED,
        configSource: 'test',
        warnings: [],
        node: { name: 'node-2', labels: {} },
        dump: { services: [svc], endpointSlices: [eps('web', 1, 3)], nodes: [], notes: [] },
      }),
    );
    expect(text).to.match(/192\.168\.3\.180\/32 .*communities 64512:100, .*link-bandwidth 64512:3 Mbit\/s/);
    expect(text).to.contain('weight from 3 usable local endpoint(s) (weightedECMP): default/web 3');
    expect(text).to.contain('attributes from Service default/web annotations: communities 64512:100');
    expect(text).to.contain('[attribute-not-allowed]  community 65535:666 in annotation svcbgp.io/communities is outside serviceAttributeLimits.communities');
    expect(text).to.contain('Refused addresses (0): none\n');
    expect(text).to.match(
      /Refused annotation values \(1\) — the Services' routes are advertised without these; fix the annotation or serviceAttributeLimits:\n {2}default\/web 65535:666 {2}\[attribute-not-allowed\]/,
    );
  });
});
