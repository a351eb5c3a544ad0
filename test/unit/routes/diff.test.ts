import { expect } from 'chai';
import { diff } from '../../../src/routes/index.js';
import { ribAfter } from '../../helpers/rib.js';
import { route as r } from '../../fixtures/routes.js';

describe('routes: diff', () => {
  it('the article step 3: cluster routes deleted, external CIDR added, nothing else touched', () => {
    const d = diff([r('192.168.3.0/24')], [r('10.49.0.0/16'), r('10.49.62.131/32')]);
    expect(d.add.map((x) => x.prefix)).to.deep.equal(['192.168.3.0/24']);
    expect(d.update).to.deep.equal([]);
    expect(d.delete.map((x) => x.prefix)).to.deep.equal(['10.49.0.0/16', '10.49.62.131/32']);
  });

  it('same prefix, other attributes -> update (one AddPath), not delete + add', () => {
    const d = diff([r('10.49.0.0/16', { communities: ['64512:1'] })], [r('10.49.0.0/16')]);
    expect(d.update.map((x) => x.communities)).to.deep.equal([['64512:1']]);
    expect(d.add).to.deep.equal([]);
    expect(d.delete).to.deep.equal([]);
    expect(diff([r('10.49.0.0/16', { localPref: 200 })], [r('10.49.0.0/16', { localPref: 100 })]).update).to.have.length(1);
    expect(diff([r('fd00::/64', { nextHop: 'fd00:1::11' })], [r('fd00::/64')]).update).to.have.length(1);
  });

  it('unchanged routes are untouched; community order does not matter; extra fields (reasons) are ignored', () => {
    const desired = [{ ...r('10.49.0.0/16', { communities: ['64512:2', '64512:1'] }), reasons: ['x'] }];
    const d = diff(desired, [r('10.49.0.0/16', { communities: ['64512:1', '64512:2'] })]);
    expect([d.add, d.update, d.delete]).to.deep.equal([[], [], []]);
  });

  it('the same prefix in two families is two routes', () => {
    const d = diff([r('10.49.0.0/16')], [{ ...r('10.49.0.0/16'), family: 'ipv6-unicast' }]);
    expect(d.add).to.have.length(1);
    expect(d.delete).to.have.length(1);
  });

  it('the diff sent to gobgpd gives the desired set', () => {
    const desired = [r('10.49.0.0/16'), r('192.168.3.180/32', { communities: ['64512:5'] })];
    const actual = [r('192.168.3.180/32'), r('10.1.0.0/16')];
    expect(ribAfter(actual, diff(desired, actual))).to.deep.equal(desired);
  });
});
