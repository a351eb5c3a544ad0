import { expect } from 'chai';
import type { KubernetesListObject, V1Service } from '@kubernetes/client-node';
import { LIST_PAGE, listAllPages } from '../../../src/kube/cluster.js';

describe('paginated lists (limit/continue)', () => {
  it('follows continue tokens, keeps every item in order and the snapshot resourceVersion, asks for LIST_PAGE items', async () => {
    const calls: { limit: number; _continue?: string }[] = [];
    const pages: KubernetesListObject<V1Service>[] = [
      { items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }], metadata: { resourceVersion: '42', _continue: 't1' } },
      { items: [{ metadata: { name: 'c' } }], metadata: { resourceVersion: '42', _continue: 't2' } },
      { items: [{ metadata: { name: 'd' } }], metadata: { resourceVersion: '42' } },
    ];
    const res = await listAllPages<V1Service>(async (p) => {
      calls.push(p);
      return pages[calls.length - 1]!;
    });
    expect(calls).to.deep.equal([{ limit: LIST_PAGE }, { limit: LIST_PAGE, _continue: 't1' }, { limit: LIST_PAGE, _continue: 't2' }]);
    expect(res.items.map((s) => s.metadata?.name)).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(res.metadata?.resourceVersion).to.equal('42');
    expect(res.metadata?._continue).to.equal(undefined);
  });

  it('an error on a later page fails the whole list (the informer then retries from scratch)', async () => {
    let n = 0;
    const err = await listAllPages<V1Service>(async () => {
      n++;
      if (n === 2) throw Object.assign(new Error('Expired'), { code: 410 });
      return { items: [], metadata: { resourceVersion: '1', _continue: 'x' } };
    }).then(() => undefined, (e: unknown) => e);
    expect((err as { code: number }).code).to.equal(410);
  });
});
