import { expect } from 'chai';
import fc from 'fast-check';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { parseConfig, type BgpConfig } from '../../../src/config/index.js';
import { cidrContains, isCidr, parseCidr, type ParsedCidr } from '../../../src/config/net.js';
import { desiredRoutes, ruleReasons, type AddressKind, type DesiredRoutesResult } from '../../../src/routes/index.js';
import { arbGoodConfigDocs, arbNode, arbService, arbSlice } from '../../helpers/fuzz/arbitraries.js';
import { fuzz } from '../../helpers/fuzz/settings.js';

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

function cidrsOf(config: BgpConfig, kind: AddressKind): ParsedCidr[] {
  const g = config.global;
  return kind === 'cluster-ip' ? g.serviceClusterIPs : kind === 'external-ip' ? g.serviceExternalIPs : g.serviceLoadBalancerIPs;
}

/** The namespace/name the route model must attribute a Service's refusals to, computed independently. */
function expectedRef(svc: unknown): string {
  const m = typeof svc === 'object' && svc !== null && !Array.isArray(svc) ? (svc as { metadata?: unknown }).metadata : undefined;
  const meta = typeof m === 'object' && m !== null && !Array.isArray(m) ? (m as Record<string, unknown>) : {};
  const ns = typeof meta['namespace'] === 'string' && meta['namespace'] !== '' ? meta['namespace'] : 'default';
  const name = typeof meta['name'] === 'string' && meta['name'] !== '' ? meta['name'] : '(unnamed)';
  return `${ns}/${name}`;
}

/** The properties every result must have, whatever the input. */
function checkResult(config: BgpConfig, services: readonly unknown[], res: DesiredRoutesResult): void {
  if (res.excluded) expect(res.routes).to.deep.equal([]);
  for (const r of res.routes) {
    const parsed = parseCidr(r.route.prefix);
    expect(isCidr(parsed), r.route.prefix).to.equal(true);
    if (!isCidr(parsed)) continue;
    const p = parsed;
    expect(p.family).to.equal(r.route.family);
    expect(r.reasons.length, r.route.prefix).to.be.greaterThan(0);
    for (const why of ruleReasons(r)) {
      // Every advertised route lies inside a configured CIDR of its kind: the one its reason names.
      const cidr = cidrsOf(config, why.kind).find((c) => c.cidr === why.cidr);
      expect(cidr, `${r.route.prefix}: ${why.kind} CIDR ${why.cidr} is not configured`).to.not.equal(undefined);
      expect(cidrContains(cidr!, p.bytes, p.length), `${r.route.prefix} outside ${why.cidr}`).to.equal(true);
      if (why.rule !== 'aggregate') {
        expect(why.services.length).to.be.greaterThan(0);
        for (const s of why.services) expect(`${s.address}/${p.length}`).to.equal(r.route.prefix);
      }
      expect(why.text).to.not.match(CONTROL);
    }
  }
  const refs = new Set(services.map(expectedRef));
  for (const x of res.refused) {
    // Every refusal names the Service it came from, with a one-line message.
    expect(refs.has(`${x.namespace}/${x.service}`), `refusal for unknown Service ${x.namespace}/${x.service}`).to.equal(true);
    expect(x.message).to.be.a('string').and.not.equal('');
    expect(x.summary).to.be.a('string').and.not.equal('');
    expect(x.message).to.not.match(CONTROL);
    expect(x.summary).to.not.match(CONTROL);
  }
  for (const w of res.withheld) {
    expect(refs.has(`${w.namespace}/${w.service}`)).to.equal(true);
    expect(w.message).to.not.match(CONTROL);
  }
}

describe('fuzz: the route model (desiredRoutes) on random and hostile cluster dumps', function () {
  this.timeout(120_000);

  it('never throws; every route lies inside a configured CIDR of its kind; every refusal names its Service; the order of the input does not matter', () => {
    fuzz(
      'desiredRoutes',
      fc.property(arbGoodConfigDocs, arbNode, fc.array(arbService, { maxLength: 10 }), fc.array(arbSlice, { maxLength: 6 }), (docs, node, services, slices) => {
        const parsed = parseConfig(docs);
        fc.pre(parsed.ok);
        if (!parsed.ok) return;
        const run = (svcs: unknown[], sls: unknown[]): DesiredRoutesResult =>
          desiredRoutes(parsed.config, node as V1Node, svcs as V1Service[], sls as V1EndpointSlice[]);
        const res = run(services, slices);
        checkResult(parsed.config, services, res);
        expect(run([...services].reverse(), [...slices].reverse())).to.deep.equal(res);
      }),
      400,
    );
  });

  it('a Service of 2,000 random addresses: every one is advertised inside its CIDR, refused or withheld — none is lost or thrown on', () => {
    fuzz(
      'desiredRoutes-wide',
      fc.property(arbGoodConfigDocs, fc.array(fc.ipV4(), { minLength: 1, maxLength: 2000, size: 'max' }), (docs, ips) => {
        const parsed = parseConfig(docs);
        fc.pre(parsed.ok);
        if (!parsed.ok) return;
        const svc = {
          kind: 'Service',
          metadata: { name: 'wide', namespace: 'prod' },
          spec: { type: 'LoadBalancer', externalIPs: ips },
          status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
        };
        const res = desiredRoutes(parsed.config, { name: 'node-1', labels: {} }, [svc as V1Service], []);
        checkResult(parsed.config, [svc], res);
        const covered = new Set(res.routes.flatMap((r) => ruleReasons(r).flatMap((why) => why.services.map((s) => s.address))));
        const refused = new Set(res.refused.map((x) => x.address));
        for (const ip of ips) expect(covered.has(ip) || refused.has(ip), ip).to.equal(true);
      }),
      30,
      50, // up to 2,000 addresses per input: SVCBGP_FUZZ_RUNS=100000 runs 2,000 of them
    );
  });
});
