import { expect } from 'chai';
import { allocate, ANNOTATION_IPV4_POOLS, ANNOTATION_LOAD_BALANCER_IPS, ANNOTATION_SHARING_KEY, type LbService } from '../../../src/alloc/index.js';
import { addressesOf, decisionOf, pass, pool, settings, svc } from './fixtures.js';

const P4 = pool('a-v4', '192.168.4.0/30');
const P6 = pool('b-v6', 'fd00:4::/126');
const shareKey = (key: string, port: number, extra: Partial<LbService> = {}): Partial<LbService> => ({
  annotations: { [ANNOTATION_SHARING_KEY]: key },
  ports: [{ port, protocol: 'TCP' }],
  ...extra,
});

describe('alloc: rules', () => {
  describe('import before assignment', () => {
    it("import-first: an address in a later Service's status is never handed to an earlier one (restart, takeover)", () => {
      const early = svc('early');
      const late = svc('late', { ingress: ['192.168.4.0'], assignedBySvcbgp: ['192.168.4.0'] });
      const r = allocate([P4], settings(), [early, late]);
      expect(addressesOf(decisionOf(r, 'late'))).to.deep.equal(['192.168.4.0']);
      expect(decisionOf(r, 'late').action).to.equal('keep');
      expect(decisionOf(r, 'late').write).to.equal(false);
      expect(addressesOf(decisionOf(r, 'early'))).to.deep.equal(['192.168.4.1']);
    });

    it('import-foreign: an address another implementation wrote blocks it for svcbgp', () => {
      const other = svc('other', { loadBalancerClass: 'metallb.io/x', ingress: ['192.168.4.0'] });
      const mine = svc('mine');
      const r = allocate([P4], settings(), [other, mine]);
      expect(decisionOf(r, 'other').reason.code).to.equal('class-not-ours');
      expect(decisionOf(r, 'other').write).to.equal(false);
      expect(addressesOf(decisionOf(r, 'mine'))).to.deep.equal(['192.168.4.1']);
    });

    it('import-unmarked: a Service of ours with a pool address it did not get from svcbgp keeps it and the mark is written', () => {
      const migrated = svc('migrated', { ingress: ['192.168.4.2'] });
      const d = decisionOf(allocate([P4], settings(), [migrated]), 'migrated');
      expect([d.action, d.write, addressesOf(d)]).to.deep.equal(['keep', true, ['192.168.4.2']]);
    });
  });

  describe('choice of address', () => {
    it('lowest-free-first-pool: pools in name order, lowest free address first', () => {
      const r = allocate([pool('z', '192.168.4.8/30'), pool('m', '192.168.4.0/30')], settings(), [svc('one'), svc('two')]);
      expect(addressesOf(decisionOf(r, 'one'))).to.deep.equal(['192.168.4.0']);
      expect(addressesOf(decisionOf(r, 'two'))).to.deep.equal(['192.168.4.1']);
    });

    it('deterministic: the input order does not matter, creationTimestamp then namespace/name decides', () => {
      const list = [svc('a'), svc('b'), svc('c'), svc('d'), svc('e')];
      const one = allocate([P4], settings(), list);
      const two = allocate([P4], settings(), [...list].reverse());
      expect(two).to.deep.equal(one);
      expect(decisionOf(one, 'e').reason.code).to.equal('pool-exhausted');
    });

    it('pool-exhausted: names the pools and the fix', () => {
      const r = allocate([pool('tiny', '192.168.4.9/32')], settings(), [svc('a'), svc('b')]);
      const d = decisionOf(r, 'b');
      expect(d.action).to.equal('pending');
      expect(d.reason.code).to.equal('pool-exhausted');
      expect(d.reason.text).to.contain('"tiny" (192.168.4.9/32)').and.contain('add or enlarge a pool');
    });

    it('usage: used and free per pool once the plan is written', () => {
      const r = allocate([P4, P6], settings(), [svc('a'), svc('b', { ingress: ['8.8.8.8'], loadBalancerClass: 'x' })]);
      expect(r.usage.map((u) => [u.pool, u.used, u.free])).to.deep.equal([
        ['a-v4', 1, 3n],
        ['b-v6', 0, 4n],
      ]);
    });
  });

  describe('stability', () => {
    it('keep-across-pool-edit: growing, shrinking (around it), disabling or switching a pool to Manual moves nothing', () => {
      const held = svc('held', { ingress: ['192.168.4.1'], assignedBySvcbgp: ['192.168.4.1'] });
      for (const edited of [
        pool('a-v4', '192.168.4.0/24'),
        pool('a-v4', '192.168.4.0/31'),
        pool('a-v4', '192.168.4.0/30', { disabled: true }),
        pool('a-v4', '192.168.4.0/30', { assignmentMode: 'Manual' }),
        pool('renamed', '192.168.4.0/30'),
      ]) {
        const d = decisionOf(allocate([edited], settings(), [held]), 'held');
        expect([d.action, addressesOf(d)], edited.cidr.cidr).to.deep.equal(['keep', ['192.168.4.1']]);
      }
    });

    it('keep-after-delete: deleting another Service moves nothing', () => {
      let s = pass([P4], [svc('a'), svc('b'), svc('c')]).services;
      s = pass(
        [P4],
        s.filter((x) => x.name !== 'a'),
      ).services;
      expect(s.map((x) => x.ingress)).to.deep.equal([['192.168.4.1'], ['192.168.4.2']]);
    });

    it('left-every-pool: an address outside every pool is released and replaced, in one write', () => {
      const held = svc('held', { ingress: ['192.168.4.9'], assignedBySvcbgp: ['192.168.4.9'] });
      const d = decisionOf(allocate([P4], settings(), [held]), 'held');
      expect([d.action, d.released, addressesOf(d)]).to.deep.equal(['assign', ['192.168.4.9'], ['192.168.4.0']]);
      expect(d.releases[0]?.code).to.equal('outside-every-pool');
    });

    it('after: an address freed in this plan may go to another Service once that release is written', () => {
      const gone = svc('gone', { type: 'ClusterIP', ingress: ['192.168.4.9'], assignedBySvcbgp: ['192.168.4.9'] });
      const wants = svc('wants', { annotations: { [ANNOTATION_LOAD_BALANCER_IPS]: '["192.168.4.9"]' } });
      const r = allocate([pool('p', '192.168.4.8/30')], settings(), [gone, wants]);
      expect(decisionOf(r, 'gone')).to.include({ action: 'free', write: true });
      expect(decisionOf(r, 'wants').added).to.deep.equal([{ address: '192.168.4.9', after: { namespace: 'default', name: 'gone', uid: 'uid-gone' } }]);
    });
  });

  describe('requests', () => {
    it('requested-address: the named address, also from a Manual pool', () => {
      const r = allocate([pool('m', '192.168.4.0/30', { assignmentMode: 'Manual' })], settings(), [svc('a', { loadBalancerIP: '192.168.4.3' })]);
      expect(addressesOf(decisionOf(r, 'a'))).to.deep.equal(['192.168.4.3']);
    });

    it('requested-address-taken: held by another Service without a common sharing key', () => {
      const r = allocate([P4], settings(), [svc('a'), svc('b', { annotations: { [ANNOTATION_LOAD_BALANCER_IPS]: '["192.168.4.0"]' } })]);
      const d = decisionOf(r, 'b');
      expect(d.reason.code).to.equal('requested-address-taken');
      expect(d.reason.text).to.contain('Service default/a holds it').and.contain('svcbgp.io/sharing-key');
    });

    it('outside-every-pool: a named address in no pool', () => {
      const d = decisionOf(allocate([P4], settings(), [svc('a', { loadBalancerIP: '10.0.0.1' })]), 'a');
      expect(d.reason.code).to.equal('outside-every-pool');
    });

    it('manual-pool-not-requested: only Manual pools for the family and none named', () => {
      const m = pool('m', '192.168.4.0/30', { assignmentMode: 'Manual' });
      expect(decisionOf(allocate([m], settings(), [svc('a')]), 'a').reason.code).to.equal('manual-pool-not-requested');
      const named = decisionOf(allocate([m], settings(), [svc('b', { annotations: { [ANNOTATION_IPV4_POOLS]: '["m"]' } })]), 'b');
      expect(addressesOf(named)).to.deep.equal(['192.168.4.0']);
    });

    it('pool-disabled: no new address from a disabled pool', () => {
      const d = decisionOf(allocate([pool('a', '192.168.4.0/30', { disabled: true })], settings(), [svc('a')]), 'a');
      expect(d.reason.code).to.equal('pool-disabled');
    });

    it('unknown-pool and invalid-request: the Service keeps what it holds', () => {
      const held = { ingress: ['192.168.4.1'], assignedBySvcbgp: ['192.168.4.1'] };
      const r = allocate([P4], settings(), [
        svc('typo', { ...held, annotations: { [ANNOTATION_IPV4_POOLS]: '["nope"]' } }),
        svc('json', { annotations: { [ANNOTATION_LOAD_BALANCER_IPS]: '192.168.4.2' } }),
        svc('two', { annotations: { [ANNOTATION_LOAD_BALANCER_IPS]: '["192.168.4.2","192.168.4.3"]' } }),
        svc('fresh'),
      ]);
      expect([decisionOf(r, 'typo').reason.code, addressesOf(decisionOf(r, 'typo')), decisionOf(r, 'typo').write]).to.deep.equal([
        'unknown-pool',
        ['192.168.4.1'],
        false,
      ]);
      expect(decisionOf(r, 'json').reason.code).to.equal('invalid-request');
      expect(decisionOf(r, 'two').reason.text).to.contain('at most one address per family');
      expect(addressesOf(decisionOf(r, 'fresh'))).to.deep.equal(['192.168.4.0']);
    });

    it('not-requested-any-more: a Service that names another address moves to it', () => {
      const d = decisionOf(
        allocate([P4], settings(), [svc('a', { ingress: ['192.168.4.1'], assignedBySvcbgp: ['192.168.4.1'], loadBalancerIP: '192.168.4.2' })]),
        'a',
      );
      expect([d.released, addressesOf(d)]).to.deep.equal([['192.168.4.1'], ['192.168.4.2']]);
    });

    it('foreign-address: a status entry outside every pool that svcbgp did not write: left alone', () => {
      const d = decisionOf(allocate([P4], settings(), [svc('a', { ingress: ['10.9.9.9'] })]), 'a');
      expect([d.action, d.reason.code, d.write]).to.deep.equal(['pending', 'foreign-address', false]);
    });
  });

  describe('whose Service', () => {
    it('class-not-ours: another class is not touched; svcbgp removes only what it wrote', () => {
      const r = allocate([P4], settings(), [
        svc('other', { loadBalancerClass: 'x', ingress: ['192.168.4.1'] }),
        svc('moved', { loadBalancerClass: 'x', ingress: ['192.168.4.2', '10.1.1.1'], assignedBySvcbgp: ['192.168.4.2'] }),
      ]);
      expect(decisionOf(r, 'other')).to.include({ action: 'pending', write: false });
      expect(decisionOf(r, 'moved')).to.deep.include({ action: 'free', released: ['192.168.4.2'] });
      expect(
        pass([P4], [svc('m2', { loadBalancerClass: 'x', ingress: ['192.168.4.2', '10.1.1.1'], assignedBySvcbgp: ['192.168.4.2'] })]).services[0]?.ingress,
      ).to.deep.equal(['10.1.1.1']);
    });

    it("not-load-balancer: a Service that became ClusterIP loses svcbgp's address; one never ours gets no decision", () => {
      const r = allocate([P4], settings(), [
        svc('was', { type: 'ClusterIP', ingress: ['192.168.4.1'], assignedBySvcbgp: ['192.168.4.1'] }),
        svc('never', { type: 'ClusterIP' }),
      ]);
      expect(decisionOf(r, 'was').reason.code).to.equal('not-load-balancer');
      expect(r.decisions.map((d) => d.service.name)).to.deep.equal(['was']);
    });

    it('not-requested: RequestedServicesOnly serves only Services that ask (annotation, loadBalancerIP, or our class)', () => {
      const r = allocate([P4], settings('RequestedServicesOnly'), [
        svc('plain'),
        svc('classed', { loadBalancerClass: 'svcbgp.io/bgp' }),
        svc('named', { loadBalancerIP: '192.168.4.3' }),
      ]);
      expect(decisionOf(r, 'plain').reason.code).to.equal('not-requested');
      expect(addressesOf(decisionOf(r, 'classed'))).to.deep.equal(['192.168.4.0']);
      expect(addressesOf(decisionOf(r, 'named'))).to.deep.equal(['192.168.4.3']);
    });
  });

  describe('sharing', () => {
    it('share: same key, different ports, both Cluster: one address', () => {
      const r = allocate([P4], settings(), [svc('web', shareKey('k', 80)), svc('mail', shareKey('k', 25))]);
      expect(addressesOf(decisionOf(r, 'mail'))).to.deep.equal(['192.168.4.0']);
      expect(decisionOf(r, 'mail').addresses[0]?.sharedWith).to.deep.equal([{ namespace: 'default', name: 'web' }]);
    });

    it('no-share: overlapping port, other policy, other selector, no key: separate addresses', () => {
      const cases: [string, Partial<LbService>][] = [
        ['port', shareKey('k', 80)],
        ['policy', shareKey('k', 25, { externalTrafficPolicy: 'Local' })],
        ['key', shareKey('other', 25)],
        ['nokey', { ports: [{ port: 25, protocol: 'TCP' }] }],
      ];
      for (const [name, extra] of cases) {
        const r = allocate([P4], settings(), [svc('web', shareKey('k', 80)), svc(name, extra)]);
        expect(addressesOf(decisionOf(r, name)), name).to.deep.equal(['192.168.4.1']);
      }
      const local = (sel: Record<string, string>): Partial<LbService> => shareKey('k', 0, { externalTrafficPolicy: 'Local', selector: sel });
      const r = allocate([P4], settings(), [
        svc('l1', { ...local({ app: 'a' }), ports: [{ port: 80, protocol: 'TCP' }] }),
        svc('l2', { ...local({ app: 'b' }), ports: [{ port: 81, protocol: 'TCP' }] }),
        svc('l3', { ...local({ app: 'a' }), ports: [{ port: 82, protocol: 'TCP' }] }),
      ]);
      expect([r.decisions.map(addressesOf)]).to.deep.equal([[['192.168.4.0'], ['192.168.4.1'], ['192.168.4.0']]]);
    });

    it('same port, other protocol: shared (53/TCP and 53/UDP)', () => {
      const r = allocate([P4], settings(), [
        svc('dns-tcp', shareKey('dns', 53)),
        svc('dns-udp', { ...shareKey('dns', 53), ports: [{ port: 53, protocol: 'UDP' }] }),
      ]);
      expect(addressesOf(decisionOf(r, 'dns-udp'))).to.deep.equal(['192.168.4.0']);
    });

    it('sharing-refused: a requested shared address with an overlapping port', () => {
      const r = allocate([P4], settings(), [svc('a', shareKey('k', 80)), svc('b', shareKey('k', 80, { loadBalancerIP: '192.168.4.0' }))]);
      expect(decisionOf(r, 'b').reason.code).to.equal('sharing-refused');
      expect(decisionOf(r, 'b').reason.text).to.contain('port 80/TCP');
    });

    it('shared-after-restart: two Services sharing an address still share it when re-read from their statuses', () => {
      const first = pass([P4], [svc('web', shareKey('k', 80)), svc('mail', shareKey('k', 25))]);
      const again = allocate([P4], settings(), first.services);
      expect(again.decisions.map((d) => [d.action, d.write, addressesOf(d)])).to.deep.equal([
        ['keep', false, ['192.168.4.0']],
        ['keep', false, ['192.168.4.0']],
      ]);
    });

    it('duplicate in status (no key): the earlier Service keeps it, the later one moves', () => {
      const r = allocate([P4], settings(), [
        svc('old', { ingress: ['192.168.4.0'] }),
        svc('new', { ingress: ['192.168.4.0'], assignedBySvcbgp: ['192.168.4.0'] }),
      ]);
      expect(addressesOf(decisionOf(r, 'old'))).to.deep.equal(['192.168.4.0']);
      expect(decisionOf(r, 'new')).to.deep.include({ released: ['192.168.4.0'] });
      expect(addressesOf(decisionOf(r, 'new'))).to.deep.equal(['192.168.4.1']);
    });
  });

  describe('families', () => {
    const dual = (policy: string): Partial<LbService> => ({ ipFamilyPolicy: policy, ipFamilies: ['IPv6', 'IPv4'] });

    it('single-stack: the first family only', () => {
      expect(addressesOf(decisionOf(allocate([P4, P6], settings(), [svc('a', { ipFamilies: ['IPv6', 'IPv4'] })]), 'a'))).to.deep.equal(['fd00:4::']);
    });

    it('prefer-dual-stack: both when pools exist for both, else one, with the missing family said', () => {
      expect(addressesOf(decisionOf(allocate([P4, P6], settings(), [svc('a', dual('PreferDualStack'))]), 'a'))).to.deep.equal(['192.168.4.0', 'fd00:4::']);
      const d = decisionOf(allocate([P4], settings(), [svc('a', dual('PreferDualStack'))]), 'a');
      expect([d.action, addressesOf(d), d.missing?.map((m) => m.code)]).to.deep.equal(['assign', ['192.168.4.0'], ['no-pool-for-family']]);
    });

    it('require-dual-stack: both or pending, and no half assignment', () => {
      const d = decisionOf(allocate([P4], settings(), [svc('a', dual('RequireDualStack'))]), 'a');
      expect([d.action, d.reason.code, addressesOf(d), d.write]).to.deep.equal(['pending', 'no-pool-for-family', [], false]);
    });

    it('family-not-wanted: an IPv6 address on a SingleStack IPv4 Service is released', () => {
      const d = decisionOf(allocate([P4, P6], settings(), [svc('a', { ingress: ['fd00:4::1'], assignedBySvcbgp: ['fd00:4::1'] })]), 'a');
      expect([d.releases.map((x) => x.code), addressesOf(d)]).to.deep.equal([['family-not-wanted'], ['192.168.4.0']]);
    });
  });
});
