import { expect } from 'chai';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/index.js';
import { arbConfigDoc, HOSTILE_TEXT } from './arbitraries.js';
import { fuzz } from './settings.js';

/**
 * The configuration parser on random and hostile documents: it never throws, and every message names the
 * document it came from. Crashes found here in src/config/parse.ts or selector.ts are not fixed in this
 * file's branch (the parser belongs to issue 12 items 1-3): they are the it.skip cases below, each naming the
 * crash, and the random properties leave their class out until the fix lands.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_G = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Keeps the random documents away from the known classes below (see the it.skip cases): control characters
 * in a nodeSelector (selector.ts echoes them raw) or in a bare string CIDR list entry (parse.ts echoes it raw).
 * Also makes them plain JSON (what YAML and the API server carry).
 */
function withoutKnownCrashes(docs: unknown[]): unknown[] {
  return JSON.parse(JSON.stringify(docs, (k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (k === 'nodeSelector' && typeof v === 'string') return v.replace(CONTROL_G, '?');
    if (/^service(Cluster|External|LoadBalancer)IPs$/.test(k) && Array.isArray(v)) return v.map((x: unknown) => (typeof x === 'string' ? x.replace(CONTROL_G, '?') : x));
    return v;
  }) ?? '[]') as unknown[];
}

function checkMessages(r: ReturnType<typeof parseConfig>): void {
  const messages = [...(r.ok ? [] : r.errors), ...r.warnings];
  for (const m of messages) expect(m.text, m.text).to.match(/^document \d+(, item \d+)?( \(|: )/);
  if (!r.ok) expect(r.errors.length).to.be.greaterThan(0);
}

describe('fuzz: parseConfig on random and hostile configuration documents', function () {
  this.timeout(180_000);

  it('documents as objects (the informer path): never throws, every message names its document', () => {
    fuzz(
      'parseConfig-objects',
      fc.property(fc.array(arbConfigDoc, { maxLength: 4 }), (docs) => checkMessages(parseConfig(withoutKnownCrashes(docs)))),
      500,
    );
  });

  it('documents as YAML text, some cut or spliced with hostile text (the --config path): never throws, every message names its document', () => {
    fuzz(
      'parseConfig-yaml',
      fc.property(
        fc.array(arbConfigDoc, { maxLength: 4 }),
        fc.nat(),
        // No alias without its anchor ('*b'): that class throws today (it.skip below).
        fc.constantFrom('', ...HOSTILE_TEXT, ': :', '- [', '&a x', '!!binary x', '---\n', '...\n', '%TAG ! x\n'),
        (docs, at, splice) => {
          const text = withoutKnownCrashes(docs).map((d) => stringify(d)).join('---\n');
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
        const r = parseConfig(withoutKnownCrashes(docs));
        for (const m of [...(r.ok ? [] : r.errors), ...r.warnings]) expect(m.text).to.not.match(CONTROL);
      }),
      500,
    );
  });

  // Known crash (issue 12 item 2, for the lead: src/config/selector.ts): a deeply nested nodeSelector overflows
  // the recursive selector parser, a RangeError escapes parseConfig. Unskip when selector depth is limited.
  it.skip('KNOWN CRASH selector.ts: a nodeSelector of 100,000 "!" or nested "(" throws RangeError out of parseConfig', () => {
    for (const sel of [`${'!'.repeat(100_000)}all()`, `${'('.repeat(50_000)}all()${')'.repeat(50_000)}`]) {
      const doc = { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'p' }, spec: { peerIP: '192.168.1.2', asNumber: 64512, nodeSelector: sel } };
      expect(() => checkMessages(parseConfig([doc]))).to.not.throw();
    }
  });

  // Known crash (issue 12 item 2, for the lead: src/config/parse.ts, and src/kube/config-source.ts's reload):
  // YAML nested ~1000 levels deep. The first parse reports "Maximum call stack size exceeded" as a syntax
  // error, but parsing such text a second time in the same process aborts Node 20 with "FATAL ERROR:
  // RegExpCompiler Allocation failed - process out of memory" (no try/catch survives it). A --config file like
  // this ends the agent on its second poll. explain's dump reader avoids it with src/text/yaml-nesting.ts.
  // (Skipped: when it fails it takes the whole mocha process down.)
  it.skip('KNOWN CRASH parse.ts / yaml: a config nested 20,000 levels deep, parsed twice, aborts the process', () => {
    for (const text of [`${'['.repeat(20_000)}${']'.repeat(20_000)}`, Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}- `).join('\n') + 'x']) {
      for (let i = 0; i < 3; i++) checkMessages(parseConfig(text));
    }
  });

  // Known crash (issue 12 item 2, for the lead: src/config/parse.ts): an alias without its anchor ("*b") makes
  // the YAML library's toJS throw ReferenceError "Unresolved alias", which escapes parseConfig (found by the fuzz,
  // seed 20261202). explain's dump reader catches the same throw.
  it.skip('KNOWN CRASH parse.ts: an unresolved YAML alias ("*b") throws ReferenceError out of parseConfig', () => {
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

  // Known crash (issue 12 item 2): a YAML alias bomb is rejected by the YAML library's maxAliasCount with an
  // exception from toJS, which parse.ts does not catch.
  it.skip('KNOWN CRASH parse.ts: a YAML alias bomb throws out of parseConfig', () => {
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i <= 6; i++) text += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
    expect(() => checkMessages(parseConfig(text))).to.not.throw();
  });
});
