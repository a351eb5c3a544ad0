import { expect } from 'chai';
import { isOwned, isOwnerCommunity, markOwned, ownerCommunity, unmarkOwned } from '../../../src/model/owner-marker.js';
import type { Route } from '../../../src/model/route.js';

const r = (extra: Partial<Route> = {}): Route => ({
  prefix: '10.49.0.0/16',
  family: 'ipv4-unicast',
  nextHop: '0.0.0.0',
  communities: [],
  largeCommunities: [],
  ...extra,
});

describe('ownership marker (large community <localAS>:7376:1), put on and taken off by the speaker', () => {
  it('is <localAS>:7376:1', () => {
    expect(ownerCommunity(64512)).to.equal('64512:7376:1');
  });

  it('is recognised whatever the AS in the global part (an AS change does not orphan paths)', () => {
    expect(isOwnerCommunity('64512:7376:1')).to.equal(true);
    expect(isOwnerCommunity('65001:7376:1')).to.equal(true);
    expect(isOwnerCommunity('64512:7376:2')).to.equal(false);
    expect(isOwnerCommunity('64512:1:7376')).to.equal(false);
    expect(isOwnerCommunity('7376:1')).to.equal(false);
  });

  it("an operator's path (no marker, or other large communities) is not owned", () => {
    expect(isOwned(r())).to.equal(false);
    expect(isOwned(r({ largeCommunities: ['64512:100:1'] }))).to.equal(false);
    expect(isOwned(r({ largeCommunities: ['64512:100:1', '64512:7376:1'] }))).to.equal(true);
  });

  it('markOwned adds exactly one marker, keeps other large communities, replaces a marker of another AS', () => {
    expect(markOwned(r({ largeCommunities: ['64512:100:1'] }), 64512).largeCommunities).to.deep.equal(['64512:100:1', '64512:7376:1']);
    expect(markOwned(r({ largeCommunities: ['65000:7376:1'] }), 64512).largeCommunities).to.deep.equal(['64512:7376:1']);
    expect(markOwned(markOwned(r(), 64512), 64512).largeCommunities).to.deep.equal(['64512:7376:1']);
  });

  it('markOwned puts communities in canonical order: numerically sorted, unique (no spurious updates)', () => {
    const n = markOwned(r({ communities: ['64512:10', '64512:9', '64512:10'], largeCommunities: ['2:1:1', '10:1:1'] }), 64512);
    expect(n.communities).to.deep.equal(['64512:9', '64512:10']);
    expect(n.largeCommunities).to.deep.equal(['2:1:1', '10:1:1', '64512:7376:1']);
    expect(n).to.not.have.property('localPref');
    expect(markOwned(r({ localPref: 200 }), 64512).localPref).to.equal(200);
  });

  it('unmarkOwned gives back the route as the agent sent it; a marker of another AS stays (the path is re-sent)', () => {
    const sent = r({ communities: ['64512:100'], largeCommunities: ['64512:1:2'] });
    expect(unmarkOwned(markOwned(sent, 64512), 64512)).to.deep.equal(sent);
    expect(unmarkOwned(markOwned(sent, 65000), 64512).largeCommunities).to.deep.equal(['64512:1:2', '65000:7376:1']);
  });
});
