/** The golden-file helper (test/helpers/golden.ts): compare, update, and the messages a failing test shows. */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { checkGolden, goldenPath, repoRoot, unifiedDiff, UPDATE_GOLDEN_ENV } from '../../helpers/golden.js';

describe('golden files: the helper', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'svcbgp-golden-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the repository root from the compiled test (the directory with package.json)', () => {
    const root = repoRoot();
    expect(existsSync(join(root, 'package.json'))).to.equal(true);
    expect(existsSync(join(root, 'test', 'golden'))).to.equal(true);
    expect(goldenPath('explain/a', '/r')).to.equal('/r/test/golden/explain/a.golden');
  });

  it('refuses names that would leave test/golden', () => {
    for (const bad of ['', '../x', 'a/../../x', '/abs', 'a//b']) expect(() => goldenPath(bad, '/r'), bad).to.throw(/use a relative path of plain names/);
  });

  it('equal text passes; update writes the file (creating folders) and passes', () => {
    const path = join(dir, 'sub', 'x.golden');
    expect(checkGolden(path, 'a\nb\n', true)).to.equal('updated');
    expect(readFileSync(path, 'utf8')).to.equal('a\nb\n');
    expect(checkGolden(path, 'a\nb\n', false)).to.equal('matched');
  });

  it('a missing golden file fails and names the update flag', () => {
    expect(() => checkGolden(join(dir, 'none.golden'), 'x\n', false)).to.throw(`run the test with ${UPDATE_GOLDEN_ENV}=1 to write it`);
  });

  it('a mismatch fails with a unified diff of the lines and says how to update', () => {
    const path = join(dir, 'x.golden');
    writeFileSync(path, 'one\ntwo\nthree\n');
    let message = '';
    try {
      checkGolden(path, 'one\nTWO\nthree\n', false);
    } catch (e) {
      message = (e as Error).message;
    }
    const shown = relative(repoRoot(), path);
    expect(message.split('\n')).to.deep.equal([
      `output differs from golden file ${shown} (- golden, + actual):`,
      '@@ -1,3 +1,3 @@',
      ' one',
      '-two',
      '+TWO',
      ' three',
      `If the change is intended: rerun with ${UPDATE_GOLDEN_ENV}=1 and review \`git diff ${shown}\`.`,
    ]);
  });

  it('the diff: hunks with 3 lines of context, far-apart changes in separate hunks, a missing final newline shown', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `l${i + 1}`);
    const changed = [...lines];
    changed[1] = 'L2';
    changed.splice(15, 1);
    expect(unifiedDiff(`${lines.join('\n')}\n`, `${changed.join('\n')}\n`).split('\n')).to.deep.equal([
      '@@ -1,5 +1,5 @@',
      ' l1',
      '-l2',
      '+L2',
      ' l3',
      ' l4',
      ' l5',
      '@@ -13,7 +13,6 @@',
      ' l13',
      ' l14',
      ' l15',
      '-l16',
      ' l17',
      ' l18',
      ' l19',
    ]);
    expect(unifiedDiff('a\n', 'a')).to.equal('@@ -1,1 +1,2 @@\n a\n+\\ No newline at end of file');
    expect(unifiedDiff('', 'a\n')).to.equal('@@ -0,0 +1,1 @@\n+a');
  });
});
