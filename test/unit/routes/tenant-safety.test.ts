/**
 * A tenant cannot hurt the node: what a Service's annotations may do to a path, and what the operator's allow-list
 * may open. Each class by its rule; the fuzz suite (test/unit/routes/attributes.fuzz.test.ts) tries random mixes.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { V1Service } from '@kubernetes/client-node';
import { parseConfig } from '../../../src/config/index.js';
import { desiredRoutes } from '../../../src/routes/index.js';
import { readServiceAttributes, MAX_REFUSALS_PER_ANNOTATION } from '../../../src/routes/service-attributes.js';
import { readServiceAttributeLimits, parseCommunityPattern } from '../../../src/config/service-limits.js';
import { IndexTooLarge, RangeIndex } from '../../../src/config/allow-list.js';
import { markOwned } from '../../../src/model/owner-marker.js';
import {
  MAX_BGP_MESSAGE,
  MAX_SERVICE_COMMUNITIES,
  MAX_SERVICE_LARGE_COMMUNITIES,
  MAX_UPDATE_BYTES,
  operatorCommunitiesFit,
  updateBytes,
} from '../../../src/model/path-size.js';
import { projectService, MAX_ANNOTATION_TEXT } from '../../../src/kube/project.js';
import { NODES, PEER_DOC, mustConfig, service, slice } from './cluster.js';

const DOC = (spec: string): string => `${PEER_DOC}---\napiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n${spec}`;
const LIMITS = `  serviceAttributeLimits:
    communities: ["64512:0-65535"]
    largeCommunities: ["64512:0-99:0-4294967295"]
    localPref: "0-300"
`;
const CONFIG = mustConfig(
  DOC(`  serviceExternalIPs:
  - cidr: 192.168.3.0/24
${LIMITS}`),
);
const [N1, N2] = [NODES[0]!, NODES[1]!];

function svc(name: string, annotations: Record<string, string>, o: { namespace?: string; local?: boolean; ip?: string; created?: string } = {}): V1Service {
  const s = service(name, {
    type: 'LoadBalancer',
    clusterIP: '10.49.7.7',
    externalIPs: [o.ip ?? '192.168.3.180'],
    externalTrafficPolicy: o.local === false ? 'Cluster' : 'Local',
    ...(o.namespace ? { namespace: o.namespace } : {}),
  });
  s.metadata!.annotations = annotations;
  if (o.created) s.metadata!.creationTimestamp = o.created as unknown as Date;
  return s;
}
const eps = (name: string, nodes: string[], namespace?: string) =>
  slice(
    name,
    'IPv4',
    nodes.map((node, i) => ({ ip: `10.48.${i}.${name.length}`, node, ready: true })),
    namespace ? { namespace } : {},
  );
const large = (n: number, base: number) => Array.from({ length: n }, (_, i) => `64512:${base}:${i}`).join(' ');
const std = (n: number, base: number) => Array.from({ length: n }, (_, i) => `64512:${base + i}`).join(' ');

describe('tenant safety: a path bigger than one BGP message is never built', () => {
  it('a dozen Services on one external IP, each with 32 large communities: the path fits one BGP message, the oldest Service keeps its values, the others are told why', () => {
    const services = Array.from({ length: 12 }, (_, i) =>
      svc(
        `s${String(i).padStart(2, '0')}`,
        { 'svcbgp.io/large-communities': large(32, i), 'svcbgp.io/communities': std(32, i * 40) },
        { created: `2026-01-01T00:00:${String(59 - i).padStart(2, '0')}Z` },
      ),
    );
    const slices = services.map((s) => eps(s.metadata!.name!, ['node-1']));
    const res = desiredRoutes(CONFIG, N1, services, slices);
    const host = res.routes.find((r) => r.route.prefix === '192.168.3.180/32')!;
    // Unbounded, the union would be 384 large + 384 standard communities: over 6 KB.
    expect(updateBytes(markOwned(host.route, 64512)))
      .to.be.at.most(MAX_UPDATE_BYTES)
      .and.below(MAX_BGP_MESSAGE);
    expect(host.route.largeCommunities).to.have.length(MAX_SERVICE_LARGE_COMMUNITIES);
    expect(host.route.communities).to.have.length(MAX_SERVICE_COMMUNITIES);
    // The oldest (created last in name order: s11) keeps its values whole; a newer one never displaces it.
    expect(host.serviceAttributesFrom!.map((x) => x.service.name)).to.deep.equal(['s11']);
    const told = res.refused.filter((r) => r.code === 'attribute-not-applied');
    expect(told.map((r) => r.service).sort()).to.deep.equal(['s00', 's01', 's02', 's03', 's04', 's05', 's06', 's07', 's08', 's09', 's10']);
    expect(told[0]!.message)
      .to.contain('192.168.3.180: its annotations are not applied: with them the route would carry more than 32 communities or 32 large communities')
      .and.to.contain('default/s11');
  });

  it('Services whose values together fit share the route: the union, the lowest LOCAL_PREF', () => {
    const a = svc('a', { 'svcbgp.io/communities': '64512:1 64512:2', 'svcbgp.io/local-pref': '150' });
    const b = svc('b', { 'svcbgp.io/communities': '64512:2 64512:3', 'svcbgp.io/local-pref': '120' });
    const res = desiredRoutes(CONFIG, N1, [a, b], [eps('a', ['node-1']), eps('b', ['node-1'])]);
    const host = res.routes.find((r) => r.route.prefix === '192.168.3.180/32')!;
    expect([...host.route.communities]).to.deep.equal(['64512:1', '64512:2', '64512:3']);
    expect(host.route.localPref).to.equal(120);
    expect(res.refused).to.deep.equal([]);
  });

  it("the operator's own communities never give way: the configuration is refused when they leave no room, with the entry and the bound", () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `"64600:${i}"`).join(', ');
    let fit = 0;
    while (operatorCommunitiesFit(fit + 1, 0)) fit++;
    expect(fit).to.be.greaterThan(700);
    const ok = parseConfig(
      DOC(`  serviceExternalIPs: [{cidr: 192.168.3.0/24}]\n  prefixAdvertisements:\n  - cidr: 192.168.3.0/24\n    communities: [${many(fit)}]\n`),
    );
    expect(ok.ok).to.equal(true);
    // Split over two overlapping entries: a route inside both carries both lists.
    const over = parseConfig(
      DOC(
        `  serviceExternalIPs: [{cidr: 192.168.3.0/24}]\n  prefixAdvertisements:\n  - cidr: 192.168.3.0/24\n    communities: [${many(fit)}]\n  - cidr: 192.168.3.128/25\n    communities: ["64700:1"]\n`,
      ),
    );
    expect(over.ok).to.equal(false);
    if (!over.ok) {
      expect(over.errors.map((e) => e.text).join('\n'))
        .to.contain(`spec.prefixAdvertisements[1].communities: routes inside 192.168.3.128/25 would carry ${fit + 1} standard and 0 large communities`)
        .and.to.contain('would not fit one BGP message (4096 bytes, 256 of them kept for gobgpd)');
    }
  });
});

describe('tenant safety: annotations never change an aggregate', () => {
  // A single-address serviceClusterIPs entry stays an aggregate (every node); a Service whose cluster IP it is, with
  // internalTrafficPolicy: Local, also wants the /32 as its own host route on the nodes with its endpoints.
  const SINGLE = mustConfig(
    DOC(`  serviceClusterIPs:
  - cidr: 10.49.7.7/32
  serviceExternalIPs:
  - cidr: 192.168.3.0/24
  prefixAdvertisements:
  - cidr: 10.49.0.0/16
    communities: ["64512:7"]
${LIMITS}`),
  );

  it('a Local Service on an address that is also an operator aggregate adds no community or LOCAL_PREF on the nodes with its endpoints: every node advertises the same route', () => {
    const s = svc('web', { 'svcbgp.io/communities': '64512:100', 'svcbgp.io/local-pref': '10' });
    s.spec!.internalTrafficPolicy = 'Local';
    const get = (r: ReturnType<typeof desiredRoutes>) => r.routes.find((x) => x.route.prefix === '10.49.7.7/32')!;
    const withEndpoint = get(desiredRoutes(SINGLE, N1, [s], [eps('web', ['node-1'])]));
    const without = get(desiredRoutes(SINGLE, N2, [s], [eps('web', ['node-1'])]));
    expect(withEndpoint.reasons.map((r) => r.rule)).to.deep.equal(['aggregate', 'local-endpoint']);
    expect([...withEndpoint.route.communities]).to.deep.equal(['64512:7']);
    expect(withEndpoint.route.localPref).to.equal(undefined);
    expect(withEndpoint.serviceAttributesFrom).to.equal(undefined);
    expect([withEndpoint.route.communities, withEndpoint.route.localPref]).to.deep.equal([without.route.communities, without.route.localPref]);
    const told = desiredRoutes(SINGLE, N1, [s], [eps('web', ['node-1'])]).refused.filter((r) => r.code === 'attribute-not-applied');
    expect(told.map((r) => r.message)).to.deep.equal([
      "10.49.7.7: its annotations are not applied here: the prefix is also an operator's configured CIDR (an aggregate every node advertises), which carries only the operator's attributes",
    ]);
  });

  it('an allowed annotation on a Cluster-policy Service does nothing, and says so', () => {
    const s = svc('web', { 'svcbgp.io/communities': '64512:100' }, { local: false });
    const res = desiredRoutes(CONFIG, N1, [s], [eps('web', ['node-1'])]);
    expect(res.routes.every((r) => r.serviceAttributesFrom === undefined)).to.equal(true);
    expect(res.refused.map((r) => [r.code, r.summary])).to.deep.equal([
      [
        'attribute-not-applied',
        "annotations not applied: the Service has no host route of its own (Cluster traffic policy: the operator's aggregates carry its addresses)",
      ],
    ]);
  });
});

describe('tenant safety: a Service never changes the route of another namespace', () => {
  it('two namespaces on one external IP: no Service attributes on any node, even where only one of them has endpoints', () => {
    const mine = svc('web', { 'svcbgp.io/local-pref': '10', 'svcbgp.io/communities': '64512:5' }, { namespace: 'shop' });
    const theirs = svc('web', {}, { namespace: 'bank' });
    const slices = [eps('web', ['node-1'], 'shop'), eps('web', ['node-2'], 'bank')];
    for (const node of [N1, N2]) {
      const host = desiredRoutes(CONFIG, node, [mine, theirs], slices).routes.find((r) => r.route.prefix === '192.168.3.180/32')!;
      expect(host.route.localPref, node.metadata!.name).to.equal(undefined);
      expect([...host.route.communities]).to.deep.equal([]);
    }
    const told = desiredRoutes(CONFIG, N1, [mine, theirs], slices).refused;
    expect(told.map((r) => [r.namespace, r.code, r.summary])).to.deep.equal([
      ['shop', 'attribute-not-applied', 'annotations not applied: Services of several namespaces use this address'],
    ]);
    // Alone again, the Service's attributes apply.
    const alone = desiredRoutes(CONFIG, N1, [mine], [slices[0]!]).routes.find((r) => r.route.prefix === '192.168.3.180/32')!;
    expect(alone.route.localPref).to.equal(10);
  });
});

describe('tenant safety: the allow-list admits nothing a tenant should not set', () => {
  const read = (v: unknown) => readServiceAttributeLimits(v);

  it('well-known communities (GRACEFUL_SHUTDOWN, BLACKHOLE, NO_EXPORT...) need allowWellKnownCommunities: an entry inside 65535:* is an error, a range over it a warning, and the values stay refused', () => {
    const only = read({ communities: ['65535:666'] });
    expect(only.value).to.equal(undefined);
    expect(only.problems.map((p) => [p.severity, p.path])).to.deep.equal([['error', 'spec.serviceAttributeLimits.communities[0]']]);
    expect(only.problems[0]!.message).to.contain('BLACKHOLE 65535:666').and.to.contain('allowWellKnownCommunities: true');
    const wide = read({ communities: ['0-65535:0-65535'] });
    expect(wide.problems.map((p) => p.severity)).to.deep.equal(['warning', 'warning']);
    expect(wide.problems.map((p) => p.message).join('\n'))
      .to.contain('overlaps the reserved ranges')
      .and.to.contain('allows the communities of every AS');
    for (const value of ['65535:0', '65535:666', '65535:65281', '65535:65282', '65535:65284', '0:6939']) {
      const r = readServiceAttributes({ 'svcbgp.io/communities': value }, wide.value);
      expect(r.attributes.communities, value).to.deep.equal([]);
      expect(r.refused[0]!.text).to.contain('reserved ranges 0:* / 65535:*');
    }
    const optIn = read({ communities: ['65535:666'], allowWellKnownCommunities: true });
    expect(optIn.problems).to.deep.equal([]);
    expect(readServiceAttributes({ 'svcbgp.io/communities': '65535:666' }, optIn.value).attributes.communities).to.deep.equal(['65535:666']);
  });

  it("svcbgp's ownership marker is never allowed: as an entry an error, inside a range refused", () => {
    const marker = read({ largeCommunities: ['64512:7376:1'] });
    expect(marker.value).to.equal(undefined);
    expect(marker.problems[0]!.message).to.contain("svcbgp's ownership marker");
    const wide = read({ largeCommunities: ['64512:0-9999:0-9'] });
    expect(wide.problems.map((p) => p.severity)).to.deep.equal(['warning']);
    const r = readServiceAttributes({ 'svcbgp.io/large-communities': '64512:7376:1 64512:7376:2' }, wide.value);
    expect(r.attributes.largeCommunities).to.deep.equal(['64512:7376:2']);
    expect(r.refused.map((x) => x.summary)).to.deep.equal([
      "annotation svcbgp.io/large-communities: svcbgp's ownership marker; the Service's routes are advertised without it",
    ]);
  });

  it('localPref: "150" (quoted) is one value; "0-4294967295" is accepted with a warning; an empty range is refused with how to write it', () => {
    expect(read({ localPref: '150' }).value!.localPref).to.deep.equal({ min: 150, max: 150 });
    expect(read({ localPref: '0-4294967295' }).problems.map((p) => p.severity)).to.deep.equal(['warning']);
    expect(read({ localPref: '200-50' }).problems[0]!.message).to.contain('write the lower bound first');
  });
});

describe('tenant safety: costs bounded whatever a tenant writes', () => {
  it('the allow-list index answers exactly what checking every entry answers (property)', () => {
    const arbRange = (max: number) =>
      fc.tuple(fc.integer({ min: 0, max }), fc.integer({ min: 0, max })).map(([a, b]) => ({ min: Math.min(a, b), max: Math.max(a, b) }));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(arbRange(40), arbRange(40), arbRange(40)), { maxLength: 30 }),
        fc.array(fc.tuple(fc.nat(42), fc.nat(42), fc.nat(42)), { maxLength: 50 }),
        (boxes, points) => {
          const index = new RangeIndex(boxes);
          for (const p of points) {
            const linear = boxes.some((b) => b.every((r, i) => r.min <= p[i]! && p[i]! <= r.max));
            expect(index.has(p), JSON.stringify({ boxes, p })).to.equal(linear);
          }
        },
      ),
      { seed: 20261207, numRuns: 300 },
    );
  });

  it('1,000 annotated Services against a 10,000-entry allow-list: read in one pass (time printed, the answer checked)', () => {
    const entries = Array.from({ length: 10_000 }, (_, i) => `${64512 + (i % 7)}:${i * 3}-${i * 3 + 1}`);
    const limits = read10k(entries);
    const t0 = process.hrtime.bigint();
    let allowed = 0;
    for (let s = 0; s < 1000; s++) {
      const values = Array.from({ length: 32 }, (_, i) => `${64512 + ((s + i) % 7)}:${(s * 32 + i) % 30_000}`).join(' ');
      allowed += readServiceAttributes({ 'svcbgp.io/communities': values }, limits).attributes.communities.length;
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`      1,000 Services x 32 values against 10,000 entries: ${ms.toFixed(0)} ms, ${allowed} values allowed`);
    expect(allowed).to.be.greaterThan(0).and.below(32_000);
  });

  it("an allow-list whose index would not stay small is refused with the field and the fix (the agent's memory is bounded)", () => {
    // Entries whose ranges all differ and overlap in three parts: a range tree needs O(n log^2 n) fragments for them.
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const range = () => {
      const a = rnd(),
        b = rnd();
      return `${Math.min(a, b)}-${Math.max(a, b)}`;
    };
    const wild = Array.from({ length: 10_000 }, () => `${range()}:${range()}:${range()}`);
    const r = readServiceAttributeLimits({ largeCommunities: wild });
    expect(r.value).to.equal(undefined);
    expect(r.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`)).to.deep.equal([
      'spec.serviceAttributeLimits.largeCommunities: 10000 entries whose ranges overlap in every part need an index of more than 500000 parts: merge overlapping entries, or write ranges of one AS',
    ]);
    // The same number of entries as an operator writes them (a few ASes, value ranges) indexes fine.
    const usual = Array.from({ length: 10_000 }, (_, i) => `${64512 + (i % 5)}:${i % 100}:${i * 10}-${i * 10 + 5}`);
    expect(readServiceAttributeLimits({ largeCommunities: usual }).value).to.not.equal(undefined);
    expect(() => new RangeIndex([[{ min: 0, max: 1 }]], 0)).to.throw(IndexTooLarge);
  });

  it('refused values are kept three per annotation and one count, not one each (memory and /status bounded)', () => {
    const limits = readServiceAttributeLimits({ communities: ['64512:1'] }).value;
    const r = readServiceAttributes(
      { 'svcbgp.io/communities': std(32, 100), 'svcbgp.io/large-communities': Array.from({ length: 32 }, (_, i) => `x${i}`).join(' ') },
      limits,
    );
    expect(r.refused).to.have.length(2 * (MAX_REFUSALS_PER_ANNOTATION + 1));
    expect(r.refused.map((x) => x.value)).to.include('(29 more)');
  });

  it('the caches keep only the annotations svcbgp reads, values cut at 4 KiB, and the names of the first three unknown ones', () => {
    const annotations: Record<string, string> = { 'svcbgp.io/communities': 'x'.repeat(256 * 1024), 'other.io/big': 'y'.repeat(256 * 1024) };
    for (let i = 0; i < 100; i++) annotations[`svcbgp.io/typo-${i}`] = 'z'.repeat(1000);
    const p = projectService({ metadata: { name: 'a', namespace: 'b', creationTimestamp: '2026-01-01T00:00:00Z', annotations }, spec: {} });
    const kept = p.metadata!.annotations!;
    expect(Object.keys(kept)).to.deep.equal(['svcbgp.io/communities', 'svcbgp.io/typo-0', 'svcbgp.io/typo-1', 'svcbgp.io/typo-2']);
    expect(kept['svcbgp.io/communities']).to.have.length(MAX_ANNOTATION_TEXT);
    expect(kept['svcbgp.io/typo-0']).to.equal('');
    expect(p.metadata!.creationTimestamp).to.equal('2026-01-01T00:00:00Z');
    // A Service without attribute annotations keeps no creationTimestamp (the common case: nothing extra per Service).
    expect(projectService({ metadata: { name: 'a', creationTimestamp: '2026-01-01T00:00:00Z' } }).metadata!.creationTimestamp).to.equal(undefined);
    const reading = readServiceAttributes(kept, undefined);
    expect(reading.refused.map((r) => r.summary)).to.include(
      'unknown svcbgp.io annotation; ignored (svcbgp reads svcbgp.io/communities, svcbgp.io/large-communities, svcbgp.io/local-pref, svcbgp.io/advertise, svcbgp.io/sharing-key)',
    );
  });
});

function read10k(entries: string[]) {
  const r = readServiceAttributeLimits({ communities: entries });
  expect(r.problems).to.deep.equal([]);
  expect(parseCommunityPattern(entries[0]!, 2)).to.have.property('ranges');
  return r.value!;
}
