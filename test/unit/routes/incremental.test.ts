/**
 * The incremental desired state (src/routes/incremental.ts) against a full recomputation (desiredRoutes).
 *
 * A random sequence of what the informers see — Services created, changed (a new object, as the informer
 * delivers it), deleted; EndpointSlices created, changed, deleted; this Node's labels and addresses changed; the
 * configuration replaced — goes through ONE IncrementalRoutes; after every step its result must be deep-equal
 * to desiredRoutes over the same view (routes with reasons and attributes, refusals, withheld addresses), and
 * verify() (what the drift pass runs) must find no difference, and the delta it reports (the route keys that changed)
 * must name every route whose object is not the one of the step before. The same again with the keys of the changed
 * Services handed over as the watch records them (ServiceChanges), calls with and without keys mixed.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { desiredRoutes } from '../../../src/routes/index.js';
import { IncrementalRoutes } from '../../../src/routes/incremental.js';
import type { BgpConfig } from '../../../src/config/index.js';
import { mustConfig, node, service, slice, type Ep } from './cluster.js';
import { fuzzParams } from '../../helpers/fuzz/settings.js';
import { sliceServiceKey, type ServiceChanges } from '../../../src/model/service-key.js';

const CONFIGS: BgpConfig[] = [
  mustConfig(`apiVersion: svcbgp.io/v1alpha1
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceClusterIPs: [{cidr: 10.49.0.0/16}, {cidr: 'fd00:49::/112'}]
  serviceExternalIPs: [{cidr: 192.168.3.0/24}, {cidr: 192.168.3.180/32}]
  serviceLoadBalancerIPs: [{cidr: 192.168.4.0/24}, {cidr: 192.168.4.20/32}, {cidr: 'fd00:4::/120'}]
  communities: [{name: x, value: '64512:300'}]
  prefixAdvertisements:
  - {cidr: 192.168.3.0/24, communities: [x, '64512:120']}
  - {cidr: 10.49.0.0/16, communities: ['64512:1'], localPref: 200}
`),
  mustConfig(`apiVersion: svcbgp.io/v1alpha1
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceClusterIPs: [{cidr: 10.49.0.0/16}]
  serviceExternalIPs: [{cidr: 192.168.3.0/24}]
`),
  mustConfig(`apiVersion: svcbgp.io/v1alpha1
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceExternalIPs: [{cidr: 192.168.3.0/25}, {cidr: 'fd00:3::/64'}]
  serviceLoadBalancerIPs: [{cidr: 192.168.4.20/32}]
`),
  // Weighted ECMP and per-Service attributes (issue 13): contributions of several Services to one prefix merge.
  mustConfig(`apiVersion: svcbgp.io/v1alpha1
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceClusterIPs: [{cidr: 10.49.0.0/16}]
  serviceExternalIPs: [{cidr: 192.168.3.0/24}, {cidr: 192.168.3.180/32}]
  serviceLoadBalancerIPs: [{cidr: 192.168.4.20/32}]
  prefixAdvertisements: [{cidr: 192.168.3.0/24, communities: ['64512:120'], localPref: 150}]
  weightedECMP: {enabled: true, aggregateLinkBandwidthMbps: 1000}
  serviceAttributeLimits:
    communities: ["64512:100-199"]
    largeCommunities: ["64512:1:0-99"]
    localPref: "50-200"
`),
  // serviceLoadBalancerAggregation: Disabled: a load-balancer IP's route depends on every endpoint of the Service.
  mustConfig(`apiVersion: svcbgp.io/v1alpha1
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceClusterIPs: [{cidr: 10.49.0.0/16}]
  serviceLoadBalancerIPs: [{cidr: 192.168.4.0/24}, {cidr: 192.168.4.20/32}, {cidr: 'fd00:4::/120'}]
  serviceLoadBalancerAggregation: Disabled
  serviceAttributeLimits: {communities: ["64512:100-199"], localPref: "50-200"}
`),
];

/** Annotations a tenant might set: inside the limits, outside them, unreadable, opt-out. */
const ANNOTATIONS: Record<string, string>[] = [
  {},
  { 'svcbgp.io/communities': '64512:100' },
  { 'svcbgp.io/communities': '64512:150, 64512:999', 'svcbgp.io/local-pref': '80' },
  { 'svcbgp.io/large-communities': '64512:1:5', 'svcbgp.io/local-pref': '120' },
  { 'svcbgp.io/local-pref': 'high' },
  { 'svcbgp.io/advertise': 'false' },
];

const NODE_VARIANTS: V1Node[] = [
  node('node-1', {}, ['192.168.1.10']),
  node('node-1', {}, ['192.168.1.10', 'fd00:1::10']),
  node('node-1', { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' }, ['192.168.1.10']),
  node('node-1', { rack: 'r2' }, ['192.168.1.10']),
];

const NAMES = ['a', 'b', 'c', 'd', 'e'];
// Few addresses, two of them frequent: Services often share a prefix, so merges and partial removals are exercised.
const arbIp = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('10.49.0.1', '192.168.3.180') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '10.49.0.2',
      '10.49.62.131',
      '10.50.0.1',
      '192.168.3.5',
      '192.168.3.200',
      '192.168.4.20',
      '192.168.4.21',
      '8.8.8.8',
      'fd00:49::1',
      'fd00:3::5',
      'fd00:4::1',
      'garbage',
      '',
    ),
  },
);
const arbEp: fc.Arbitrary<Ep> = fc.record({
  ip: fc.constantFrom('10.48.0.1', '10.48.0.2'),
  node: fc.constantFrom('node-1', 'node-2', undefined),
  ready: fc.boolean(),
  serving: fc.boolean(),
  terminating: fc.boolean(),
});

type Step =
  | {
      op: 'service';
      name: string;
      ns: string;
      type: string;
      clusterIPs: string[];
      externalIPs: string[];
      lb: string[];
      etp: string;
      itp: string;
      annotations: number;
    }
  | { op: 'delete-service'; name: string; ns: string }
  | { op: 'slice'; name: string; ns: string; family: 'IPv4' | 'IPv6'; suffix: string; eps: Ep[] }
  | { op: 'delete-slice'; name: string; ns: string; family: 'IPv4' | 'IPv6'; suffix: string }
  | { op: 'node'; variant: number }
  | { op: 'config'; variant: number }
  | { op: 'nothing' };

const arbName = fc.constantFrom(...NAMES);
const arbNs = fc.constantFrom('default', 'prod');
const arbStep: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('service' as const),
      name: arbName,
      ns: arbNs,
      type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
      clusterIPs: fc.array(arbIp, { maxLength: 2 }),
      externalIPs: fc.array(arbIp, { maxLength: 2 }),
      lb: fc.array(arbIp, { maxLength: 2 }),
      etp: fc.constantFrom('Local', 'Cluster'),
      itp: fc.constantFrom('Local', 'Cluster'),
      annotations: fc.integer({ min: 0, max: ANNOTATIONS.length - 1 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete-service' as const), name: arbName, ns: arbNs }) },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('slice' as const),
      name: arbName,
      ns: arbNs,
      family: fc.constantFrom('IPv4' as const, 'IPv6' as const),
      suffix: fc.constantFrom('x', 'y'),
      eps: fc.array(arbEp, { maxLength: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('delete-slice' as const),
      name: arbName,
      ns: arbNs,
      family: fc.constantFrom('IPv4' as const, 'IPv6' as const),
      suffix: fc.constantFrom('x', 'y'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('node' as const), variant: fc.integer({ min: 0, max: NODE_VARIANTS.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('config' as const), variant: fc.integer({ min: 0, max: CONFIGS.length - 1 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'nothing' as const }) },
);

/** The informers' view: objects keyed as the informer keys them; an update is a new object. */
class View {
  services = new Map<string, V1Service>();
  slices = new Map<string, V1EndpointSlice>();
  node: V1Node = NODE_VARIANTS[0]!;
  config: BgpConfig = CONFIGS[0]!;
  /** The Service keys changed since takeChanges(), as the watch records them (src/kube/watched-cache.ts). */
  private changed = new Set<string>();

  /** What the watch hands over: the changed keys, and the objects of a key now. */
  takeChanges(): ServiceChanges {
    const keys = this.changed;
    this.changed = new Set();
    return {
      keys,
      service: (k) => this.services.get(k),
      slices: (k) => [...this.slices.values()].filter((sl) => sliceServiceKey(sl) === k),
    };
  }

  apply(s: Step): void {
    if (s.op === 'service' || s.op === 'delete-service' || s.op === 'slice' || s.op === 'delete-slice') this.changed.add(`${s.ns}/${s.name}`);
    switch (s.op) {
      case 'service': {
        const svc = service(s.name, {
          namespace: s.ns,
          type: s.type,
          ...(s.clusterIPs.length ? { clusterIPs: s.clusterIPs } : {}),
          externalIPs: s.externalIPs,
          externalTrafficPolicy: s.etp,
          internalTrafficPolicy: s.itp,
          lbIngress: s.lb.map((ip) => ({ ip })),
        });
        svc.metadata!.annotations = { ...ANNOTATIONS[s.annotations]! };
        this.services.set(`${s.ns}/${s.name}`, svc);
        break;
      }
      case 'delete-service':
        this.services.delete(`${s.ns}/${s.name}`);
        break;
      case 'slice': {
        const eps = s.family === 'IPv6' ? s.eps.map((e) => ({ ...e, ip: e.ip.replace('10.48.0.', 'fd00:48::') })) : s.eps;
        this.slices.set(`${s.ns}/${s.name}-${s.family}-${s.suffix}`, slice(s.name, s.family, eps, { namespace: s.ns, suffix: `${s.family}-${s.suffix}` }));
        break;
      }
      case 'delete-slice':
        this.slices.delete(`${s.ns}/${s.name}-${s.family}-${s.suffix}`);
        break;
      case 'node':
        // A new object every time (the informer never hands the same one twice), sometimes with equal content.
        this.node = structuredClone(NODE_VARIANTS[s.variant]!);
        break;
      case 'config':
        this.config = CONFIGS[s.variant]!;
        break;
      case 'nothing':
        break;
    }
  }
}

describe('routes: incremental desired state equals a full recomputation (fast-check)', () => {
  /** `keyed`: whether the compute() after each step gets the watch's keys (default: never). */
  function sequence(first: number, steps: readonly Step[], keyed: readonly boolean[] = []): void {
    const view = new View();
    view.config = CONFIGS[first]!;
    const inc = new IncrementalRoutes();
    let before = new Map<string, unknown>();
    for (const [i, step] of steps.entries()) {
      view.apply(step);
      const services = [...view.services.values()];
      const slices = [...view.slices.values()];
      const handed = view.takeChanges();
      const { result, changes } = inc.compute(view.config, view.node, services, slices, keyed[i] ? handed : undefined);
      expect(result, JSON.stringify(step)).to.deep.equal(desiredRoutes(view.config, view.node, services, slices));
      // The delta the reconciler trusts (src/agent/reconciler.ts): every route added, changed or dropped since the
      // last result is among `changes`, and every unchanged one is the same object as before.
      const now = new Map<string, unknown>(result.routes.map((r) => [`${r.route.family}|${r.route.prefix}`, r]));
      if (changes) {
        for (const k of new Set([...before.keys(), ...now.keys()])) {
          if (!changes.has(k)) expect(now.get(k), `${JSON.stringify(step)}: ${k} changed but not in the delta`).to.equal(before.get(k));
        }
      }
      before = now;
      expect(inc.verify(services, slices)).to.equal(undefined);
    }
  }

  it('after every step of a random sequence of Service, EndpointSlice, Node and configuration events', () => {
    const out = fc.check(
      fc.property(fc.integer({ min: 0, max: CONFIGS.length - 1 }), fc.array(arbStep, { minLength: 1, maxLength: 40 }), (first, steps) =>
        sequence(first, steps),
      ),
      fuzzParams(300),
    );
    if (out.failed) throw new Error(fc.defaultReportMessage(out) ?? 'property failed');
    console.log(`      incremental vs full: ${out.numRuns} sequences`);
  });

  it('the same with the keys of the changed Services handed over by the watch, calls with and without keys mixed', () => {
    const arbRun = fc.array(fc.tuple(arbStep, fc.boolean()), { minLength: 1, maxLength: 40 });
    const out = fc.check(
      fc.property(fc.integer({ min: 0, max: CONFIGS.length - 1 }), arbRun, fc.boolean(), (first, run, alwaysKeyed) =>
        sequence(
          first,
          run.map(([step]) => step),
          run.map(([, k], i) => i > 0 && (alwaysKeyed || k)),
        ),
      ),
      fuzzParams(300),
    );
    if (out.failed) throw new Error(fc.defaultReportMessage(out) ?? 'property failed');
    console.log(`      incremental (keys handed over) vs full: ${out.numRuns} sequences`);
  });

  it('the drift check, run in slices while changes keep coming (as the agent runs it), agrees with every step', () => {
    // The check starts from a snapshot of the view; each later step changes the view and is computed (with the watch's
    // keys, as the agent does), then the check advances by one stride of 1-3 items. At the end it must agree: a change
    // that came while it ran is never taken for a difference. Configuration and Node changes start the table over
    // and end the check, as in the agent.
    const arbRun = fc.tuple(
      fc.array(arbStep, { minLength: 1, maxLength: 15 }),
      fc.array(
        fc.tuple(
          arbStep.filter((st) => st.op !== 'node' && st.op !== 'config'),
          fc.integer({ min: 1, max: 3 }),
        ),
        { minLength: 1, maxLength: 40 },
      ),
    );
    let ended = 0;
    const out = fc.check(
      fc.property(fc.integer({ min: 0, max: CONFIGS.length - 1 }), arbRun, (first, [before, during]) => {
        const view = new View();
        view.config = CONFIGS[first]!;
        const inc = new IncrementalRoutes();
        for (const step of before) {
          view.apply(step);
          inc.compute(view.config, view.node, [...view.services.values()], [...view.slices.values()]);
          view.takeChanges();
        }
        expect(inc.startCheck([...view.services.values()], [...view.slices.values()])).to.equal(true);
        let last: ReturnType<IncrementalRoutes['checkStep']>;
        for (const [step, stride] of during) {
          view.apply(step);
          const handed = view.takeChanges();
          const got =
            inc.computeKeyed(view.config, view.node, handed) ?? inc.compute(view.config, view.node, [...view.services.values()], [...view.slices.values()]);
          expect(got.result, JSON.stringify(step)).to.deep.equal(desiredRoutes(view.config, view.node, [...view.services.values()], [...view.slices.values()]));
          last = inc.checkStep(0, stride) ?? last;
          expect(last?.state, JSON.stringify(last)).to.not.equal('differ');
        }
        while (inc.checking) last = inc.checkStep(0, 2);
        expect(last?.state, JSON.stringify(last)).to.equal('agree');
        ended++;
      }),
      fuzzParams(300),
    );
    if (out.failed) throw new Error(fc.defaultReportMessage(out) ?? 'property failed');
    console.log(`      drift check in slices beside changes: ${out.numRuns} sequences, ${ended} ended in agreement`);
  });

  it('the drift check in slices finds a change the watch never reported, though other changes came meanwhile', () => {
    const config = CONFIGS[0]!;
    const services = NAMES.map((n, i) => service(n, { clusterIPs: [`10.49.0.${i + 1}`], internalTrafficPolicy: 'Local' }));
    const slices = NAMES.map((n) => slice(n, 'IPv4', [{ ip: '10.48.0.1', node: 'node-1' }]));
    const inc = new IncrementalRoutes();
    inc.compute(config, NODE_VARIANTS[0]!, services, slices);
    slices[1]!.endpoints[0]!.nodeName = 'node-2'; // changed in place and never reported: the incremental state is stale
    expect(inc.startCheck(services, slices)).to.equal(true);
    let step = inc.checkStep(0, 1);
    // Meanwhile Service e's endpoint moves away, reported as the watch reports it.
    slices[4] = slice('e', 'IPv4', [{ ip: '10.48.0.1', node: 'node-2' }]);
    const handed = { keys: new Set(['default/e']), service: () => services[4], slices: () => [slices[4]!] };
    expect(inc.computeKeyed(config, NODE_VARIANTS[0]!, handed)).to.not.equal(undefined);
    while (step?.state === 'more') step = inc.checkStep(0, 1);
    expect(step?.state).to.equal('differ');
    expect(step?.state === 'differ' ? step.mismatch.routes : []).to.deep.equal(['10.49.0.2/32']);
    // The next computation starts over from the view, and is right.
    expect(inc.computeKeyed(config, NODE_VARIANTS[0]!, { keys: new Set(), service: () => undefined, slices: () => [] })).to.equal(undefined);
    const full = inc.compute(config, NODE_VARIANTS[0]!, services, slices);
    expect(full.result.routes.map((r) => r.route.prefix)).to.deep.equal(
      desiredRoutes(config, NODE_VARIANTS[0]!, services, slices).routes.map((r) => r.route.prefix),
    );
    expect(full.stats.full).to.equal(true);
  });

  it('with keys handed over, only the Services they name are looked at', () => {
    const config = CONFIGS[0]!;
    const services = NAMES.map((n, i) => service(n, { clusterIPs: [`10.49.0.${i + 1}`], internalTrafficPolicy: 'Local' }));
    const slices = NAMES.map((n) => slice(n, 'IPv4', [{ ip: '10.48.0.1', node: 'node-1' }]));
    const inc = new IncrementalRoutes();
    inc.compute(config, NODE_VARIANTS[0]!, services, slices);
    slices[2] = slice('c', 'IPv4', [{ ip: '10.48.0.1', node: 'node-2' }]);
    const changes: ServiceChanges = {
      keys: new Set(['default/c']),
      service: (k) => services.find((s) => `default/${s.metadata!.name}` === k),
      slices: () => [slices[2]!],
    };
    const after = inc.compute(config, NODE_VARIANTS[0]!, services, slices, changes);
    expect(after.stats).to.include({ full: false, recomputed: 1, removed: 0 });
    expect([...after.changes!]).to.deep.equal(['ipv4-unicast|10.49.0.3/32']);
    expect(after.result).to.deep.equal(desiredRoutes(config, NODE_VARIANTS[0]!, services, slices));
    // Nothing handed over: nothing looked at, even a change the keys do not name (the drift pass's verify finds it).
    slices[3] = slice('d', 'IPv4', [{ ip: '10.48.0.1', node: 'node-2' }]);
    const none = inc.compute(config, NODE_VARIANTS[0]!, services, slices, { keys: new Set(), service: () => undefined, slices: () => [] });
    expect(none.stats).to.include({ full: false, recomputed: 0 });
    expect(inc.verify(services, slices)?.routes).to.deep.equal(['10.49.0.4/32']);
  });

  it('one changed Service is the only one recomputed; a configuration or Node change recomputes all', () => {
    const config = CONFIGS[0]!;
    const services = NAMES.map((n, i) => service(n, { clusterIPs: [`10.49.0.${i + 1}`], internalTrafficPolicy: 'Local' }));
    const slices = NAMES.map((n) => slice(n, 'IPv4', [{ ip: '10.48.0.1', node: 'node-1' }]));
    const inc = new IncrementalRoutes();
    expect(inc.compute(config, NODE_VARIANTS[0]!, services, slices).stats).to.include({ full: true, recomputed: 5 });
    const before = inc.compute(config, NODE_VARIANTS[0]!, services, slices);
    expect(before.stats).to.include({ full: false, recomputed: 0, removed: 0 });
    const beforeRoutes = before.result.routes; // read before the next compute (RouteTable.result says why)

    slices[2] = slice('c', 'IPv4', [{ ip: '10.48.0.1', node: 'node-2' }]); // the endpoint moved away
    const after = inc.compute(config, NODE_VARIANTS[0]!, services, slices);
    expect(after.stats).to.include({ full: false, recomputed: 1 });
    expect(after.result.routes.map((r) => r.route.prefix)).to.deep.equal([
      '10.49.0.0/16',
      '10.49.0.1/32',
      '10.49.0.2/32',
      '10.49.0.4/32',
      '10.49.0.5/32',
      '192.168.3.0/24',
      '192.168.4.0/24',
      'fd00:4::/120',
      'fd00:49::/112',
    ]);
    // Routes the change did not touch are the same objects: the reconciler and the diff skip them cheaply.
    const byPrefix = (rs: typeof after.result.routes, p: string): unknown => rs.find((r) => r.route.prefix === p);
    expect(byPrefix(after.result.routes, '10.49.0.5/32')).to.equal(byPrefix(beforeRoutes, '10.49.0.5/32'));
    // The list read earlier still holds its own pass's routes (copy on write), with 10.49.0.3/32 in it.
    expect(beforeRoutes.map((r) => r.route.prefix)).to.include('10.49.0.3/32');

    expect(inc.compute(config, structuredClone(NODE_VARIANTS[1]!), services, slices).stats).to.include({ full: true, recomputed: 5 });
    expect(inc.compute(CONFIGS[1]!, structuredClone(NODE_VARIANTS[1]!), services, slices).stats).to.include({ full: true });
    // A Node object that is new but says the same (a status heartbeat) recomputes nothing.
    expect(inc.compute(CONFIGS[1]!, structuredClone(NODE_VARIANTS[1]!), services, slices).stats).to.include({ full: false, recomputed: 0 });
  });

  it('verify() catches what object identity cannot see (an object changed in place), and the next result is right', () => {
    const config = CONFIGS[1]!;
    const svc = service('a', { clusterIPs: ['10.49.0.1'], internalTrafficPolicy: 'Local' });
    const sl = slice('a', 'IPv4', [{ ip: '10.48.0.1', node: 'node-1' }]);
    const inc = new IncrementalRoutes();
    expect(inc.compute(config, NODE_VARIANTS[0]!, [svc], [sl]).result.routes.map((r) => r.route.prefix)).to.include('10.49.0.1/32');
    sl.endpoints[0]!.nodeName = 'node-2'; // never done by the informer; a bug elsewhere could
    expect(inc.compute(config, NODE_VARIANTS[0]!, [svc], [sl]).result.routes.map((r) => r.route.prefix)).to.include('10.49.0.1/32');
    const mismatch = inc.verify([svc], [sl]);
    expect(mismatch?.routes).to.deep.equal(['10.49.0.1/32']);
    expect(mismatch?.withheld).to.deep.equal(['default/a 10.49.0.1 cluster-ip']);
    const next = inc.compute(config, NODE_VARIANTS[0]!, [svc], [sl]);
    expect(next.stats.full).to.equal(true);
    expect(next.result).to.deep.equal(desiredRoutes(config, NODE_VARIANTS[0]!, [svc], [sl]));
  });

  it('two Services share a prefix: one changes its annotations, then its endpoints; the merged route follows', () => {
    const config = CONFIGS[3]!;
    const sl = (name: string, n: number): ReturnType<typeof slice> =>
      slice(
        name,
        'IPv4',
        Array.from({ length: n }, (_, k) => ({ ip: `10.48.0.${k + 1}`, node: 'node-1' })),
      );
    const a = (annotations: Record<string, string>): ReturnType<typeof service> => {
      const svc = service('a', { clusterIPs: ['10.49.0.1'], internalTrafficPolicy: 'Local' });
      svc.metadata!.annotations = annotations;
      return svc;
    };
    const b = service('b', { clusterIPs: ['10.49.0.1'], internalTrafficPolicy: 'Local' });
    const inc = new IncrementalRoutes();
    const steps: [ReturnType<typeof service>, ReturnType<typeof slice>][] = [
      [a({ 'svcbgp.io/communities': '64512:100' }), sl('a', 3)],
      [a({ 'svcbgp.io/communities': '64512:150' }), sl('a', 3)],
      [a({ 'svcbgp.io/communities': '64512:150' }), sl('a', 1)],
    ];
    for (const [svcA, sliceA] of steps) {
      const view = [
        [svcA, b],
        [sliceA, sl('b', 2)],
      ] as const;
      const got = inc.compute(config, NODE_VARIANTS[0]!, view[0], view[1]).result;
      expect(got).to.deep.equal(desiredRoutes(config, NODE_VARIANTS[0]!, view[0], view[1]));
    }
    const host = inc
      .compute(config, NODE_VARIANTS[0]!, [steps[2]![0], b], [steps[2]![1], sl('b', 2)])
      .result.routes.find((r) => r.route.prefix === '10.49.0.1/32')!;
    expect(host.route.communities).to.deep.equal(['64512:150']);
    expect(host.linkBandwidthFrom?.localEndpoints).to.equal(3); // 1 of a's + 2 of b's
  });

  it('two Services under one key (a hand-made view, never an informer) fall back to the full computation', () => {
    const config = CONFIGS[1]!;
    const a1 = service('a', { clusterIPs: ['10.49.0.1'], internalTrafficPolicy: 'Local' });
    const a2 = service('a', { clusterIPs: ['10.49.0.2'], internalTrafficPolicy: 'Local' });
    const sl = slice('a', 'IPv4', [{ ip: '10.48.0.1', node: 'node-1' }]);
    const inc = new IncrementalRoutes();
    const { result, stats } = inc.compute(config, NODE_VARIANTS[0]!, [a1, a2], [sl]);
    expect(stats.full).to.equal(true);
    expect(result).to.deep.equal(desiredRoutes(config, NODE_VARIANTS[0]!, [a1, a2], [sl]));
    expect(inc.compute(config, NODE_VARIANTS[0]!, [a1], [sl]).result).to.deep.equal(desiredRoutes(config, NODE_VARIANTS[0]!, [a1], [sl]));
  });
});
