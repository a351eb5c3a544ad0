import { expect } from 'chai';
import fc from 'fast-check';
import { sortCommunities } from '../../../src/model/route.js';

describe('model: sortCommunities (the one canonical community order)', () => {
  it('orders numerically part by part, not as text', () => {
    expect(sortCommunities(['64512:100', '64512:20', '100:5'])).to.deep.equal(['100:5', '64512:20', '64512:100']);
    expect(sortCommunities(['64512:7376:1', '64512:10:2', '64512:10:1'])).to.deep.equal(['64512:10:1', '64512:10:2', '64512:7376:1']);
  });

  it('drops duplicates', () => {
    expect(sortCommunities(['1:1', '1:1', '2:2'])).to.deep.equal(['1:1', '2:2']);
  });

  it('gives the same list whatever the input order (so desired and actual compare equal as text)', () => {
    const community = fc.tuple(fc.nat(65535), fc.nat(65535)).map(([a, b]) => `${a}:${b}`);
    fc.assert(
      fc.property(fc.array(community, { maxLength: 12 }), (list) => {
        const reversed = [...list].reverse();
        expect(sortCommunities(reversed)).to.deep.equal(sortCommunities(list));
      }),
    );
  });
});
