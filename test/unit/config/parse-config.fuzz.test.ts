import { expect } from 'chai';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/index.js';
import { arbConfigDoc, HOSTILE_TEXT } from '../../helpers/fuzz/arbitraries.js';
import { fuzz } from '../../helpers/fuzz/settings.js';
import { fileURLToPath } from 'node:url';
import { runScript } from '../../helpers/child.js';

/**
 * The configuration parser on random and hostile documents: it never throws, and every message names the
 * document it came from (or, for a limit of the whole text, "the configuration text"). The classes this fuzz
 * found in src/config/parse.ts and selector.ts (deep selectors, unresolved aliases, alias bombs, deep YAML that
 * aborted Node on a second parse, raw control characters in selector messages) are fixed: each has its named
 * case below, and the random properties no longer leave them out.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The documents as plain JSON (what YAML and the API server carry). */
function withoutKnownCrashes(docs: unknown[]): unknown[] {
  return JSON.parse(JSON.stringify(docs, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? '[]') as unknown[];
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
        fc.constantFrom('', ...HOSTILE_TEXT, ': :', '- [', '&a x', '*b', ' *a', '!!binary x', '---\n', '...\n', '%TAG ! x\n'),
        (docs, at, splice) => {
          const text = withoutKnownCrashes(docs)
            .map((d) => stringify(d))
            .join('---\n');
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
  it('(was a crash, selector.ts) a nodeSelector of 100,000 "!" or nested "(" is a message naming the limit', () => {
    for (const sel of [`${'!'.repeat(100_000)}all()`, `${'('.repeat(50_000)}all()${')'.repeat(50_000)}`]) {
      const doc = {
        apiVersion: 'projectcalico.org/v3',
        kind: 'BGPPeer',
        metadata: { name: 'p' },
        spec: { peerIP: '192.168.1.2', asNumber: 64512, nodeSelector: sel },
      };
      expect(() => checkMessages(parseConfig([doc]))).to.not.throw();
    }
  });

  // Known crash (issue 12 item 2, for the lead: src/config/parse.ts, and src/config/source.ts's reload):
  // YAML nested ~1000 levels deep. The first parse reports "Maximum call stack size exceeded" as a syntax
  // error, but parsing such text a second time in the same process aborts Node 20 with "FATAL ERROR:
  // RegExpCompiler Allocation failed - process out of memory" (no try/catch survives it). A --config file like
  // this ends the agent on its second poll. explain's dump reader avoids it with src/text/yaml-nesting.ts.
  // (Skipped: when it fails it takes the whole mocha process down.)
  it('(was a crash, parse.ts / yaml) a config nested 20,000 levels deep, parsed three times, is a message, never an abort', () => {
    for (const text of [`${'['.repeat(20_000)}${']'.repeat(20_000)}`, `${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}- `).join('\n')}x`]) {
      for (let i = 0; i < 3; i++) checkMessages(parseConfig(text));
    }
  });

  // The same in a fresh process, where the abort reproduced every time on this machine (in a long-running mocha
  // process it may not): three parses of 1,000-deep flow and "- - -" YAML must each end in a message.
  it('(was a crash, yaml.ts) a config nested 1,000 levels deep, parsed three times in a fresh process, never aborts Node', async function () {
    this.timeout(120_000);
    const r = await runScript(`
      import { parseConfig } from ${JSON.stringify(fileURLToPath(new URL('../../../src/config/index.js', import.meta.url)))};
      for (const t of ['['.repeat(1000) + ']'.repeat(1000), '- '.repeat(1000) + 'x']) for (let i = 0; i < 3; i++) {
        const r = parseConfig(t);
        console.log(r.ok ? 'ok' : r.errors[0].text);
      }`);
    expect(r.code, r.stderr.slice(0, 300)).to.equal(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).to.have.length(6);
    for (const l of lines) expect(l).to.match(/nest/);
  });

  // Known crash (issue 12 item 2, for the lead: src/config/parse.ts): an alias without its anchor ("*b") makes
  // the YAML library's toJS throw ReferenceError "Unresolved alias", which escapes parseConfig (found by the fuzz,
  // seed 20261202). explain's dump reader catches the same throw.
  it('(was a crash, parse.ts) an unresolved YAML alias ("*b") is a message', () => {
    for (const text of ['*b', 'a: *b\n', 'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: p}\nspec: {peerIP: *ip}\n']) {
      expect(() => checkMessages(parseConfig(text))).to.not.throw();
    }
  });

  // Known (issue 12 item 4, for the lead: src/config/selector.ts): a selector error echoes the offending character
  // raw ("unexpected character '\u0000' at position 1"): a newline or ESC in a nodeSelector reaches the message
  // unescaped (explain escapes its lines, but ConfigMessage.text and the agent's logs carry it). Found by the fuzz.
  it('(was unescaped, selector.ts) a control character in a nodeSelector is escaped in the message', () => {
    const doc = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'BGPPeer',
      metadata: { name: 'p' },
      spec: { peerIP: '192.168.1.2', asNumber: 64512, nodeSelector: 'has(a)\n\u001b[31m' },
    };
    const r = parseConfig([doc]);
    for (const m of r.ok ? [] : r.errors) expect(m.text).to.not.match(CONTROL);
  });

  // Was open (found by the fuzz, SVCBGP_FUZZ_RUNS=5000 SVCBGP_FUZZ_SEED=7): a bare string entry was echoed raw into
  // the fix-it hint ("expected a mapping {cidr: <value>}: write \"- cidr: <value>\""), outside render().
  it('(was unescaped, parse.ts) a control character in a bare serviceClusterIPs entry is escaped in the hint', () => {
    const doc = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'BGPConfiguration',
      metadata: { name: 'default' },
      spec: { serviceClusterIPs: ['10.49.0.0/16\n\u001b[31merror: x'] },
    };
    const r = parseConfig([doc]);
    expect(r.ok).to.equal(false);
    for (const m of r.ok ? [] : r.errors) expect(m.text).to.not.match(CONTROL);
  });

  // Known crash (issue 12 item 2): a YAML alias bomb is rejected by the YAML library's maxAliasCount with an
  // exception from toJS, which parse.ts does not catch.
  it('(was a crash, parse.ts) a YAML alias bomb is a message', () => {
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i <= 6; i++)
      text += `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    expect(() => checkMessages(parseConfig(text))).to.not.throw();
  });
});
