import { expect } from 'chai';
import fc from 'fast-check';
import {
  allocate,
  ANNOTATION_IPV4_POOLS,
  ANNOTATION_LOAD_BALANCER_IPS,
  ANNOTATION_SHARING_KEY,
  statusAfter,
  type AllocationResult,
  type LbService,
} from '../../../src/alloc/index.js';
import type { AllocatorSettings, LoadBalancerPool } from '../../../src/config/ip-pools.js';
import { cidrContains, parseIp } from '../../../src/config/net.js';
import { pool, settings } from './fixtures.js';

/**
 * Random histories of a cluster, checked after every step. A step changes the world (create, delete, request an
 * address or a pool, share, change ports, type or class, edit the pools, change assignIPs, another product writes a
 * status) and runs the allocator; "restart" writes only a random part of the plan (a leader that dies mid-plan,
 * respecting each write's `after`) and lets a fresh allocator finish from the statuses alone.
 */

const RUNS = 300;
const MAX_STEPS = 30;

/** Small pools (exhaustion is common) in variants an operator might switch between. */
const POOL_SETS: readonly (readonly LoadBalancerPool[])[] = [
  [pool('a', '192.168.4.0/29'), pool('v6', 'fd00:4::/125')],
  [pool('a', '192.168.4.0/28'), pool('v6', 'fd00:4::/125')],
  [pool('a', '192.168.4.0/30'), pool('v6', 'fd00:4::/126')],
  [pool('a', '192.168.4.0/29', { disabled: true }), pool('b', '192.168.4.16/30'), pool('v6', 'fd00:4::/125')],
  [pool('a', '192.168.4.0/29', { assignmentMode: 'Manual' }), pool('v6', 'fd00:4::/125')],
  [],
  [pool('b', '192.168.4.16/30'), pool('z', '192.168.4.0/29'), pool('v6', 'fd00:4::/125', { assignmentMode: 'Manual' })],
];

type Op =
  | { op: 'create'; family: number; key: number; port: number; local: boolean; sel: number; klass: number }
  | { op: 'delete'; i: number }
  | { op: 'request'; i: number; what: number }
  | { op: 'share'; i: number; key: number }
  | { op: 'ports'; i: number; port: number }
  | { op: 'type'; i: number; lb: boolean }
  | { op: 'class'; i: number; klass: number }
  | { op: 'pools'; set: number }
  | { op: 'assign'; requestedOnly: boolean }
  | { op: 'foreign'; i: number; address: number }
  | { op: 'restart'; mask: number[] };

const idx = fc.nat(50);
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('create' as const),
      family: fc.nat(4),
      key: fc.nat(3),
      port: fc.nat(3),
      local: fc.boolean(),
      sel: fc.nat(1),
      klass: fc.nat(5),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), i: idx }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('request' as const), i: idx, what: fc.nat(7) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('share' as const), i: idx, key: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('ports' as const), i: idx, port: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('type' as const), i: idx, lb: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('class' as const), i: idx, klass: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('pools' as const), set: fc.nat(POOL_SETS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('assign' as const), requestedOnly: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('foreign' as const), i: idx, address: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('restart' as const), mask: fc.array(fc.nat(1), { maxLength: 16 }) }) },
);

const FAMILIES: readonly Partial<LbService>[] = [
  { ipFamilies: ['IPv4'] },
  { ipFamilies: ['IPv6'] },
  { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] },
  { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] },
  { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6', 'IPv4'] },
];
/** Requests: none, an address in a pool, in another, outside every pool, IPv6, a pool name, an unknown pool, bad JSON. */
const REQUESTS: readonly Record<string, string>[] = [
  {},
  { [ANNOTATION_LOAD_BALANCER_IPS]: '["192.168.4.1"]' },
  { [ANNOTATION_LOAD_BALANCER_IPS]: '["192.168.4.17"]' },
  { [ANNOTATION_LOAD_BALANCER_IPS]: '["192.168.4.40"]' },
  { [ANNOTATION_LOAD_BALANCER_IPS]: '["fd00:4::2"]' },
  { [ANNOTATION_IPV4_POOLS]: '["a"]' },
  { [ANNOTATION_IPV4_POOLS]: '["b"]' },
  { [ANNOTATION_LOAD_BALANCER_IPS]: 'not json' },
];
const CLASSES = [undefined, 'svcbgp.io/bgp', 'other.io/lb'];
const FOREIGN = ['192.168.4.2', '192.168.4.18', 'fd00:4::3', '10.0.0.1'];

interface World {
  pools: readonly LoadBalancerPool[];
  settings: AllocatorSettings;
  services: LbService[];
  created: number;
}

function sharingKeyAnn(key: number): Record<string, string> {
  return key === 0 ? {} : { [ANNOTATION_SHARING_KEY]: `k${key}` };
}

/** Applies the operation; returns the uid of the Service it edited ('' for none, '*' for every Service). */
function change(w: World, o: Op): string {
  const pick = (i: number): LbService | undefined => w.services[i % Math.max(1, w.services.length)];
  const edit = (i: number, f: (s: LbService) => LbService): string => {
    const s = pick(i);
    if (!s) return '';
    w.services = w.services.map((x) => (x === s ? f(x) : x));
    return s.uid;
  };
  switch (o.op) {
    case 'create': {
      const n = ++w.created;
      const s: LbService = {
        namespace: n % 2 === 0 ? 'a' : 'b',
        name: `s${n}`,
        uid: `u${n}`,
        creationTimestamp: `2024-01-01T00:${String(Math.floor(n / 60)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}Z`,
        type: 'LoadBalancer',
        ipFamilies: ['IPv4'],
        ...FAMILIES[o.family],
        ports: [{ port: 80 + o.port, protocol: 'TCP' }],
        annotations: sharingKeyAnn(o.key),
        ingress: [],
        assignedBySvcbgp: [],
      };
      if (o.local) {
        s.externalTrafficPolicy = 'Local';
        s.selector = { app: `x${o.sel}` };
      }
      const klass = CLASSES[o.klass];
      if (klass !== undefined) s.loadBalancerClass = klass;
      w.services.push(s);
      return s.uid;
    }
    case 'delete': {
      const s = pick(o.i);
      w.services = w.services.filter((x) => x !== s);
      return s?.uid ?? '';
    }
    case 'request':
      return edit(o.i, (s) => {
        const keep = Object.fromEntries(Object.entries(s.annotations).filter(([k]) => k === ANNOTATION_SHARING_KEY));
        return { ...s, annotations: { ...keep, ...REQUESTS[o.what] } };
      });
    case 'share':
      return edit(o.i, (s) => {
        const rest = Object.fromEntries(Object.entries(s.annotations).filter(([k]) => k !== ANNOTATION_SHARING_KEY));
        return { ...s, annotations: { ...rest, ...sharingKeyAnn(o.key) } };
      });
    case 'ports':
      return edit(o.i, (s) => ({ ...s, ports: [{ port: 80 + o.port, protocol: 'TCP' }] }));
    case 'type':
      return edit(o.i, (s) => ({ ...s, type: o.lb ? 'LoadBalancer' : 'ClusterIP' }));
    case 'class':
      return edit(o.i, (s) => {
        const { loadBalancerClass: _drop, ...rest } = s;
        const klass = CLASSES[o.klass];
        return klass === undefined ? rest : { ...rest, loadBalancerClass: klass };
      });
    case 'pools':
      w.pools = POOL_SETS[o.set] ?? [];
      return '';
    case 'assign':
      w.settings = settings(o.requestedOnly ? 'RequestedServicesOnly' : 'AllServices');
      return '*';
    case 'foreign':
      // Another product serves this Service and writes its own status (MetalLB, a person with kubectl).
      return edit(o.i, (s) => ({ ...s, loadBalancerClass: 'other.io/lb', ingress: [...s.ingress, FOREIGN[o.address] as string] }));
    case 'restart':
      return '';
  }
}

/** Writes the decisions for the Services `write` selects, and only those whose `after` releases are written too. */
function writePlan(w: World, r: AllocationResult, write: (uid: string) => boolean): void {
  const chosen = new Set(r.decisions.filter((d) => d.write && write(d.service.uid)).map((d) => d.service.uid));
  let changed = true;
  while (changed) {
    changed = false;
    for (const d of r.decisions) {
      if (chosen.has(d.service.uid) && d.added.some((a) => a.after && !chosen.has(a.after.uid))) {
        chosen.delete(d.service.uid);
        changed = true;
      }
    }
  }
  w.services = w.services.map((s) => {
    const d = r.decisions.find((x) => x.service.uid === s.uid);
    return d && chosen.has(s.uid) ? { ...s, ...statusAfter(s, d) } : s;
  });
}

const canon = (t: string): string => parseIp(t)?.text ?? t;
const mine = (s: LbService): string[] => s.ingress.map(canon).filter((a) => s.assignedBySvcbgp.map(canon).includes(a));

/** The sharing rules, written again for the oracle. */
function mayShare(a: LbService, b: LbService): boolean {
  const ka = a.annotations[ANNOTATION_SHARING_KEY];
  if (ka === undefined || ka !== b.annotations[ANNOTATION_SHARING_KEY]) return false;
  if (a.ports.some((p) => b.ports.some((q) => p.port === q.port && p.protocol === q.protocol))) return false;
  const la = a.externalTrafficPolicy === 'Local';
  if (la !== (b.externalTrafficPolicy === 'Local')) return false;
  return !la || JSON.stringify(a.selector) === JSON.stringify(b.selector);
}

function checkNoDuplicate(w: World, when: string): void {
  const by = new Map<string, LbService[]>();
  for (const s of w.services) for (const a of mine(s)) by.set(a, [...(by.get(a) ?? []), s]);
  for (const [a, holders] of by) {
    for (let i = 0; i < holders.length; i++) {
      for (let j = 0; j < i; j++) {
        const x = holders[i] as LbService;
        const y = holders[j] as LbService;
        expect(mayShare(x, y), `${when}: ${a} held by ${x.name} and ${y.name}`).to.equal(true);
      }
    }
  }
}

const inPool = (w: World, a: string): boolean => {
  const ip = parseIp(a);
  return !!ip && w.pools.some((p) => cidrContains(p.cidr, ip.bytes));
};

/**
 * The Service's own request names other addresses or pools, and a pool edit made that request readable (a pool it
 * names appeared): it moves where it asked to go.
 */
function excludedByOwnRequest(w: World, s: LbService, a: string): boolean {
  const named = s.annotations[ANNOTATION_LOAD_BALANCER_IPS];
  if (named?.startsWith('[') && !named.includes(`"${a}"`)) return true;
  const pools = s.annotations[ANNOTATION_IPV4_POOLS];
  if (pools === undefined || a.includes(':')) return false;
  const ip = parseIp(a);
  return !w.pools.some((p) => pools.includes(`"${p.name}"`) && ip && cidrContains(p.cidr, ip.bytes));
}

describe('alloc: properties over random histories', function () {
  this.timeout(120_000);

  it(`${RUNS} histories of up to ${MAX_STEPS} steps keep every invariant`, () => {
    fc.assert(
      fc.property(fc.array(arbOp, { minLength: 1, maxLength: MAX_STEPS }), (ops) => {
        const w: World = { pools: POOL_SETS[0] ?? [], settings: settings(), services: [], created: 0 };
        for (const [step, o] of ops.entries()) {
          const when = `step ${step} ${JSON.stringify(o)}`;
          const before = w.services;
          const target = change(w, o);
          const partners = new Set(
            before.filter((s) => s.uid !== target && mine(s).some((a) => before.some((t) => t.uid === target && mine(t).includes(a)))).map((s) => s.uid),
          );

          const r = allocate(w.pools, w.settings, w.services);
          // svcbgp never hands out an address another Service's status holds unless they may share.
          for (const d of r.decisions) {
            for (const a of d.added) {
              for (const s of w.services) {
                if (s.uid === d.service.uid || !s.ingress.map(canon).includes(a.address)) continue;
                const self = w.services.find((x) => x.uid === d.service.uid) as LbService;
                const releasing = r.decisions.find((x) => x.service.uid === s.uid)?.released.includes(a.address);
                expect(
                  releasing || (mine(s).includes(a.address) && mayShare(self, s)),
                  `${when}: ${a.address} given to ${d.service.name} while ${s.name} holds it`,
                ).to.equal(true);
              }
            }
          }
          // Every pending Service says why.
          for (const d of r.decisions) {
            if (d.action === 'pending') expect(d.reason.code.length > 0 && d.reason.text.includes(d.service.name), when).to.equal(true);
          }
          if (o.op === 'restart') {
            // The leader dies mid-plan: part of the writes land (never an add before the release it waits for).
            let k = 0;
            writePlan(w, r, () => (o.mask[k++ % Math.max(1, o.mask.length)] ?? 1) === 1);
            checkNoDuplicate(w, `${when} (partly written)`);
            const again = allocate(w.pools, w.settings, w.services);
            writePlan(w, again, () => true);
          } else {
            writePlan(w, r, () => true);
          }
          checkNoDuplicate(w, when);

          // Nothing moves an address still inside a pool, unless the step edited that Service (or a Service sharing it).
          if (target !== '*') {
            for (const old of before) {
              if (old.uid === target || partners.has(old.uid)) continue;
              const now = w.services.find((s) => s.uid === old.uid);
              if (!now) continue;
              for (const a of mine(old)) {
                if (inPool(w, a) && !excludedByOwnRequest(w, now, a)) expect(now.ingress.map(canon), `${when}: ${old.name} lost ${a}`).to.include(a);
              }
            }
          }

          // Idempotent: the allocator on its own written output changes nothing.
          const steady = allocate(w.pools, w.settings, w.services);
          for (const d of steady.decisions) {
            expect(d.write, `${when}: second pass writes ${d.service.name}: ${JSON.stringify(d)}`).to.equal(false);
          }
          // Addresses svcbgp holds for a Service it serves lie in a pool.
          for (const d of steady.decisions) {
            if (d.action === 'keep' || d.action === 'assign') for (const a of d.addresses) expect(a.pool, `${when}: ${a.address}`).to.not.equal('');
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
