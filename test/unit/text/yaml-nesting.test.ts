import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { MAX_FLOW_DEPTH, MAX_INDENT_COLUMNS, yamlNestingProblem } from '../../../src/text/yaml-nesting.js';
import { InputError, parseClusterDump } from '../../../src/cli/explain.js';
import { runScript } from '../../helpers/child.js';

const EXPLAIN = fileURLToPath(new URL('../../../src/cli/explain.js', import.meta.url));
const FIX = fileURLToPath(new URL('../../../../test/fixtures/seed/', import.meta.url));

describe('YAML nesting limit before the YAML library (src/text/yaml-nesting.ts)', () => {
  it('the seed dump and configuration files are well within the limits', async () => {
    for (const f of ['cluster-dump.yaml', 'config-cluster-ips.yaml', 'config-external-ips.yaml', 'config-invalid.yaml']) {
      expect(yamlNestingProblem(await readFile(FIX + f, 'utf8')), f).to.equal(undefined);
    }
  });

  it('flow nesting: the limit is exact; brackets inside quoted scalars and comments do not count', () => {
    const nested = (n: number): string => `a: ${'['.repeat(n)}1${']'.repeat(n)}\n`;
    expect(yamlNestingProblem(nested(MAX_FLOW_DEPTH))).to.equal(undefined);
    expect(yamlNestingProblem(nested(MAX_FLOW_DEPTH + 1))).to.equal(`line 1: [ and { nested more than ${MAX_FLOW_DEPTH} deep (nesting limit)`);
    expect(yamlNestingProblem(`a: "${'['.repeat(500)}"\nb: '${'{'.repeat(500)}'\n# ${'['.repeat(500)}\nc: don't ${'x'.repeat(10)}\n`)).to.equal(undefined);
  });

  it('block nesting: indentation (and "- " indicators) beyond the limit is refused', () => {
    const deep = `${Array.from({ length: MAX_INDENT_COLUMNS + 2 }, (_, i) => `${' '.repeat(i)}- `).join('\n')}x\n`;
    expect(yamlNestingProblem(deep)).to.match(/^line \d+ is indented more than 256 columns \(nesting limit\)$/);
    expect(yamlNestingProblem(`${'- '.repeat(MAX_INDENT_COLUMNS)}x\n`)).to.match(/indented more than/);
  });

  it('a dump nested 1,000 levels deep, read three times in one process, is refused with a message each time (the second parse aborted Node)', async function () {
    this.timeout(120_000);
    // In a fresh process: the abort (V8 "RegExpCompiler Allocation failed - process out of memory") reproduces
    // reliably there, and it would take mocha down with it.
    const r = await runScript(`
      import { parseClusterDump } from ${JSON.stringify(EXPLAIN)};
      const texts = ['['.repeat(1000) + ']'.repeat(1000), '- '.repeat(1000) + 'x', Array.from({ length: 1000 }, (_, i) => ' '.repeat(i) + '- ').join('\\n') + 'x'];
      for (const t of texts) for (let i = 0; i < 3; i++) {
        try { parseClusterDump(t, 'dump.yaml'); console.log('parsed'); } catch (e) { console.log(e.constructor.name + ': ' + e.message); }
      }`);
    expect(r.code, r.stderr.slice(0, 300)).to.equal(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).to.have.length(9);
    for (const l of lines) expect(l).to.match(/^InputError: dump\.yaml: .*nesting limit\)$/);
  });

  it('explain reads the same dumps in-process too (no exception other than InputError)', () => {
    for (const text of [`${'['.repeat(20000)}${']'.repeat(20000)}`, `${'- '.repeat(5000)}x`]) {
      expect(() => parseClusterDump(text, 'dump.yaml')).to.throw(InputError, /^dump\.yaml: .*nesting limit/);
    }
  });
});
