import { expect } from 'chai';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/index.js';
import { arbConfigDoc, HOSTILE_TEXT } from './arbitraries.js';
import { fuzz } from './settings.js';
import { fileURLToPath } from 'node:url';
import { runScript } from '../../helpers/child.js';

/**
 * The configuration parser on random and hostile documents: it never throws, and every message names the
 * document it came from. Problems found here in src/config/parse.ts or selector.ts are not fixed on the fuzz's
 * branch (the parser belongs to issue 12 items 1-3): they are it.skip cases below, each naming the problem, and
 * the random properties leave their class out until the fix lands. The four crash classes the fuzz found
 * before the parser limits landed on main are regression cases now.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_G = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Keeps the random documents away from the known classes below (see the it.skip cases): control characters
 * in a nodeSelector (selector.ts echoes them raw) or in a bare string CIDR list entry (parse.ts echoes it raw).
 * Also makes them plain JSON (what YAML and the API server carry).
 */
function withoutKnownProblems(docs: unknown[]): unknown[] {
  return JSON.parse(JSON.stringify(docs, (k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (k === 'nodeSelector' && typeof v === 'string') return v.replace(CONTROL_G, '?');
    if (/^service(Cluster|External|LoadBalancer)IPs$/.test(k) && Array.isArray(v)) return v.map((x: unknown) => (typeof x === 'string' ? x.replace(CONTROL_G, '?') : x));
    return v;
  }) ?? '[]') as unknown[];
}

function checkMessages(r: ReturnType<typeof parseConfig>): void {
  const messages = [...(r.ok ? [] : r.errors), ...r.warnings];
  for (const m of messages) expect(m.text, m.text).to.match(/^(document \d+(, item \d+)?( \(|: )|the configuration text: )/);
  if (!r.ok) expect(r.errors.length).to.be.greaterThan(0);
}

describe('fuzz: parseConfig on random and hostile configuration documents', function () {
  this.timeout(180_000);

  it('documents as objects (the informer path): never throws, every message names its document', () => {
    fuzz(
      'parseConfig-objects',
      fc.property(fc.array(arbConfigDoc, { maxLength: 4 }), (docs) => checkMessages(parseConfig(withoutKnownProblems(docs)))),
      500,
    );
  });

  it('documents as YAML text, some cut or spliced with hostile text (the --config path): never throws, every message names its document', () => {
    fuzz(
      'parseConfig-yaml',
      fc.property(
        fc.array(arbConfigDoc, { maxLength: 4 }),
        fc.nat(),
        fc.constantFrom('', ...HOSTILE_TEXT, ': :', '- [', '&a x', '*b', '!!binary x', '---\n', '...\n', '%TAG ! x\n'),
        (docs, at, splice) => {
          const text = withoutKnownProblems(docs).map((d) => stringify(d)).join('---\n');
          const cut = at % (text.length + 1);
          checkMessages(parseConfig(text.slice(0, cut) + splice + text.slice(cut)));
        },
      ),
      300,
    );
  });

  it('messages echo names and values escaped: no control character in any message text', () => {
    fuzz(
      'parseConfig-escaping',
      fc.property(fc.array(arbConfigDoc, { maxLength: 4 }), (docs) => {
        const r = parseConfig(withoutKnownProblems(docs));
        for (const m of [...(r.ok ? [] : r.errors), ...r.warnings]) expect(m.text).to.not.match(CONTROL);
      }),
      500,
    );
  });

  // Crash class found by this suite (before main's selector depth limit): RangeError out of the recursive parser.
  it('a nodeSelector of 100,000 "!" or nested "(" gives a message, not a RangeError', () => {
    for (const sel of [`${'!'.repeat(100_000)}all()`, `${'('.repeat(50_000)}all()${')'.repeat(50_000)}`]) {
      const doc = { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'p' }, spec: { peerIP: '192.168.1.2', asNumber: 64512, nodeSelector: sel } };
      expect(() => checkMessages(parseConfig([doc]))).to.not.throw();
    }
  });

  // KNOWN CRASH (issue 12 item 2, for the lead: src/config/yaml.ts parseYamlDocuments, used by parseConfig and the
  // --config reload): YAML nested ~900+ levels deep (flow "[[[", "- - -" or 1-space block indentation). The first
  // parse reports the library's stack overflow as "nested too deeply", but a second such parse in the same process
  // aborts Node 20 with "FATAL ERROR: RegExpCompiler Allocation failed - process out of memory": no try/catch
  // survives it, so a --config file like this ends the agent on its second poll. Seen in fresh processes on this
  // machine every time (in a long-running mocha process it may not reproduce). The fix: refuse the nesting before
  // the YAML library sees the text, as explain's dump reader does (src/text/yaml-nesting.ts yamlNestingProblem).
  it.skip('KNOWN CRASH yaml.ts: a config nested 1,000 levels deep, parsed three times in one process, aborts Node', async function () {
    this.timeout(120_000);
    const r = await runScript(`
      import { parseConfig } from ${JSON.stringify(fileURLToPath(new URL('../../../src/config/index.js', import.meta.url)))};
      for (const t of ['['.repeat(1000) + ']'.repeat(1000), '- '.repeat(1000) + 'x']) for (let i = 0; i < 3; i++) {
        const r = parseConfig(t);
        console.log(r.ok ? 'ok' : r.errors[0].text);
      }`);
    expect(r.code, r.stderr.slice(0, 300)).to.equal(0);
    expect(r.stdout.trim().split('\n')).to.have.length(6);
  });

  // Crash class found by this suite (seed 20261202, before main's YAML reader): an alias without its anchor ("*b")
  // made the YAML library's toJS throw ReferenceError "Unresolved alias" out of parseConfig.
  it('an unresolved YAML alias ("*b") gives a message, not a ReferenceError', () => {
    for (const text of ['*b', 'a: *b\n', 'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: p}\nspec: {peerIP: *ip}\n']) {
      expect(() => checkMessages(parseConfig(text))).to.not.throw();
    }
  });

  // Known (issue 12 item 4, for the lead: src/config/selector.ts): a selector error echoes the offending character
  // raw ("unexpected character '\u0000' at position 1"): a newline or ESC in a nodeSelector reaches the message
  // unescaped (explain escapes its lines, but ConfigMessage.text and the agent's logs carry it). Found by the fuzz.
  it.skip('KNOWN selector.ts: a control character in a nodeSelector is echoed unescaped in the message', () => {
    const doc = { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'p' }, spec: { peerIP: '192.168.1.2', asNumber: 64512, nodeSelector: 'has(a)\n\u001b[31m' } };
    const r = parseConfig([doc]);
    for (const m of r.ok ? [] : r.errors) expect(m.text).to.not.match(CONTROL);
  });

  // Known (issue 12 item 4, for the lead: src/config/parse.ts, the CIDR list reader): a bare string entry is echoed
  // raw into the fix-it hint ("expected a mapping {cidr: <value>}: write \"- cidr: <value>\""), outside render().
  // Found by the fuzz (SVCBGP_FUZZ_RUNS=5000 SVCBGP_FUZZ_SEED=7).
  it.skip('KNOWN parse.ts: a control character in a bare serviceClusterIPs entry is echoed unescaped in the hint', () => {
    const doc = { apiVersion: 'projectcalico.org/v3', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { serviceClusterIPs: ['10.49.0.0/16\n\u001b[31merror: x'] } };
    const r = parseConfig([doc]);
    for (const m of r.ok ? [] : r.errors) expect(m.text).to.not.match(CONTROL);
  });

  // Crash class (issue 12 item 2): the YAML library's maxAliasCount rejects an alias bomb by throwing from toJS.
  it('a YAML alias bomb gives a message, not an exception', () => {
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i <= 6; i++) text += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
    expect(() => checkMessages(parseConfig(text))).to.not.throw();
  });
});
