import { expect } from 'chai';
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { explain, formatJson, formatText, InputError, parseClusterDump, type ClusterDump } from '../../../src/cli/explain.js';
import { parseConfig } from '../../../src/config/index.js';
import { readNode } from '../../../src/config/node.js';
import { escapeControls } from '../../../src/text/escape.js';
import { arbConfigDoc, arbDumpItems, arbGoodConfigDocs, arbNodeName, arbText, HOSTILE_TEXT } from '../../helpers/fuzz/arbitraries.js';
import { fuzz, fuzzAsync } from '../../helpers/fuzz/settings.js';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));
/** Any control character except the newline that ends each line. */
const CONTROL_IN_LINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** A dump as text: a kind: List (YAML or JSON), or loose YAML documents. */
const arbDumpText = fc.tuple(arbDumpItems, fc.constantFrom('list-yaml', 'list-json', 'documents')).map(([items, form]) => {
  // undefined is not representable in YAML or JSON: drop it as kubectl would never print it.
  const clean = JSON.parse(JSON.stringify(items, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? '[]') as unknown[];
  if (form === 'list-json') return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: clean });
  if (form === 'list-yaml') return stringify({ apiVersion: 'v1', kind: 'List', items: clean });
  return clean.map((i) => stringify(i)).join('---\n');
});

/** Text that is barely YAML: cut and spliced dumps, alias bombs, deep nesting, binary noise. */
const arbBrokenText = fc.oneof(
  fc
    .tuple(arbDumpText, fc.nat(), fc.constantFrom(...HOSTILE_TEXT, ': :', '- [', '&a', '*a', '!!binary x', '%YAML 1.1\n---\n'))
    .map(([t, at, ins]) => t.slice(0, at % (t.length + 1)) + ins + t.slice(at % (t.length + 1))),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.integer({ min: 1, max: 12 }).map((n) => {
    let s = 'a: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i <= n; i++)
      s += `a${i}: &a${i} [*a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}]\n`;
    return s.replace(/^a:/, 'kind: Service\na:');
  }),
  fc.integer({ min: 1, max: 20000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.integer({ min: 1, max: 5000 }).map((n) => `${'{a: '.repeat(n)}1${'}'.repeat(n)}`),
);

function checkReport(text: string): void {
  for (const line of text.split('\n')) expect(line, JSON.stringify(line)).to.not.match(CONTROL_IN_LINE);
}

describe('fuzz: svcbgp explain on random and hostile dumps and configurations', function () {
  this.timeout(180_000);

  it('parseClusterDump: any text gives a dump or an InputError with messages, never another exception', () => {
    fuzz(
      'parseClusterDump',
      fc.property(fc.oneof(arbDumpText, arbBrokenText), (text) => {
        try {
          const d = parseClusterDump(text, 'dump.yaml');
          for (const n of d.notes) expect(n).to.be.a('string');
        } catch (e) {
          expect(e, String(e instanceof Error ? e.stack : e)).to.be.instanceOf(InputError);
          const messages = (e as InputError).messages;
          expect(messages.length).to.be.greaterThan(0);
          for (const m of messages) expect(m).to.match(/^dump\.yaml: /);
        }
      }),
      300,
    );
  });

  it('explain + formatText/formatJson: never throw; every line is free of control characters; every refusal is printed with its Service', () => {
    fuzz(
      'explain',
      fc.property(arbGoodConfigDocs, arbDumpText, arbNodeName, fc.dictionary(arbText, arbText, { maxKeys: 3 }), (docs, dumpText, nodeName, extraLabels) => {
        const parsed = parseConfig(docs);
        fc.pre(parsed.ok);
        if (!parsed.ok) return;
        let dump: ClusterDump;
        try {
          dump = parseClusterDump(dumpText, 'dump.yaml');
        } catch (e) {
          expect(e).to.be.instanceOf(InputError);
          return;
        }
        const fromDump = dump.nodes.map((n) => readNode(n)).find((n) => n.info.name === nodeName);
        const node = { name: nodeName, labels: { ...fromDump?.info.labels, ...extraLabels }, addresses: fromDump?.info.addresses ?? [] };
        const report = explain({ config: parsed.config, configSource: 'bgp\n.yaml', warnings: parsed.warnings, node, dump });
        const text = formatText(report);
        checkReport(text);
        for (const x of report.refused) expect(text).to.contain(`  ${escapeControls(`${x.service.namespace}/${x.service.name}`)}`);
        const json = formatJson(report);
        expect(json).to.not.match(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u);
        expect(JSON.parse(json)).to.deep.equal(JSON.parse(JSON.stringify(report)));
      }),
      200,
    );
  });

  it('the compiled CLI: random dumps and configurations exit 0 or 2 with one-line messages, never "unexpected failure"', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'svcbgp-fuzz-explain-'));
    try {
      await fuzzAsync(
        'explain-cli',
        fc.asyncProperty(
          fc.oneof(arbGoodConfigDocs, fc.array(arbConfigDoc, { maxLength: 3 })),
          fc.oneof({ weight: 3, arbitrary: arbDumpText }, { weight: 1, arbitrary: arbBrokenText }),
          arbNodeName,
          fc.constantFrom('text', 'json'),
          async (docs, dumpText, nodeName, output) => {
            await writeFile(join(dir, 'bgp.yaml'), docs.map((d) => stringify(JSON.parse(JSON.stringify(d ?? null)) as unknown)).join('---\n'));
            await writeFile(join(dir, 'dump.yaml'), dumpText);
            const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
              execFile(
                process.execPath,
                [MAIN, 'explain', '--config', join(dir, 'bgp.yaml'), '--cluster', join(dir, 'dump.yaml'), '--node', nodeName, '--output', output],
                { timeout: 60_000, maxBuffer: 64 << 20 },
                (err, stdout, stderr) => {
                  resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
                },
              );
            });
            expect([0, 2], r.stderr).to.include(r.code);
            expect(r.stderr).to.not.contain('unexpected failure');
            checkReport(r.stdout);
            checkReport(r.stderr);
            if (r.code === 0 && output === 'json') JSON.parse(r.stdout);
          },
        ),
        6,
        1000, // one process per input: SVCBGP_FUZZ_RUNS=100000 runs 100 of them
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
