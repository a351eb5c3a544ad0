import { expect } from 'chai';
import fc from 'fast-check';
import { SmallMap } from '../../../src/routes/small-map.js';

// SmallMap stands in for a Map in the route table: random sequences of set/delete on a few keys (so that it
// moves between none, one inline entry and a Map, and back) must leave it equal to a Map, in iteration order too.
describe('SmallMap', () => {
  it('behaves as a Map (get, size, delete results, iteration order) under random set/delete sequences', () => {
    const op = fc.record({ del: fc.boolean(), key: fc.constantFrom('a', 'b', 'c', 'd'), value: fc.integer() });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const small = new SmallMap<number>();
        const ref = new Map<string, number>();
        for (const o of ops) {
          if (o.del) expect(small.delete(o.key)).to.equal(ref.delete(o.key));
          else {
            small.set(o.key, o.value);
            ref.set(o.key, o.value);
          }
          expect(small.size).to.equal(ref.size);
          expect([...small.values()]).to.deep.equal([...ref.values()]);
          for (const k of ['a', 'b', 'c', 'd']) expect(small.get(k)).to.equal(ref.get(k));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps insertion order when it falls back from a Map to one entry and grows again', () => {
    const m = new SmallMap<number>();
    m.set('a', 1);
    m.set('b', 2);
    m.delete('a');
    m.set('a', 3);
    expect([...m.values()]).to.deep.equal([2, 3]);
  });
});
