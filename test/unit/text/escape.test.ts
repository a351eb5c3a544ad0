import { expect } from 'chai';
import fc from 'fast-check';
import { escapeControls, quoteValue, safeJson } from '../../../src/text/escape.js';

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

describe('escaping names and values echoed into text (src/text/escape.ts)', () => {
  it('a newline, carriage return or ANSI escape becomes a visible escape', () => {
    expect(escapeControls('a\nerror: forged')).to.equal('a\\nerror: forged');
    expect(escapeControls('a\r\tb')).to.equal('a\\r\\tb');
    expect(escapeControls('\u001b[31mred\u001b[0m')).to.equal('\\x1b[31mred\\x1b[0m');
  });

  it('C1 controls (U+009B is a one-character CSI), DEL, line separators and bidi overrides are escaped too', () => {
    expect(escapeControls('\u009b31m\u007f\u2028\u202e')).to.equal('\\x9b31m\\x7f\\u2028\\u202e');
  });

  it('ordinary names, addresses and non-ASCII text are unchanged', () => {
    for (const s of ['nginx', 'kube-system/kube-dns', 'fd00:49::1', '10.49.0.0/16', 'café ü 日本']) expect(escapeControls(s)).to.equal(s);
  });

  it('is idempotent and its output never holds a control character (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const e = escapeControls(s);
        expect(e).to.not.match(UNSAFE);
        expect(escapeControls(e)).to.equal(e);
      }),
      { seed: 12, numRuns: 500 },
    );
  });

  it('quoteValue: JSON-quoted, escaped, one bounded line', () => {
    expect(quoteValue('192.168.1.1')).to.equal('"192.168.1.1"');
    expect(quoteValue('x\u009by')).to.equal('"x\\x9by"');
    expect(quoteValue(undefined)).to.equal('undefined');
    expect(quoteValue('a'.repeat(500), 20)).to.equal(`"${'a'.repeat(16)}...`);
  });

  it('safeJson parses back to the same value and holds no raw control character (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (v, s) => {
        const value = { v, s };
        const text = safeJson(value, 2);
        expect(text).to.not.match(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u);
        expect(JSON.parse(text)).to.deep.equal(JSON.parse(JSON.stringify(value)));
      }),
      { seed: 12, numRuns: 300 },
    );
  });
});
