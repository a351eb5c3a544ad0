import { expect } from 'chai';
import { matchSelector, parseSelector, parseGoDuration } from '../../../src/config/index.js';

describe('config: Calico selector subset', () => {
  const m = (sel: string, labels: Record<string, string>): boolean => matchSelector(parseSelector(sel), labels);

  it('all(), has(), ==, !=, in, not in, &&, ||, !, parentheses', () => {
    expect(m('all()', {})).to.equal(true);
    expect(m('has(rack)', { rack: '' })).to.equal(true);
    expect(m('!has(rack)', { rack: 'a' })).to.equal(false);
    expect(m("rack == 'a'", { rack: 'a' })).to.equal(true);
    expect(m('rack == "a"', { rack: 'b' })).to.equal(false);
    expect(m("rack != 'a'", {})).to.equal(true); // Calico: != also matches a missing label
    expect(m("rack != 'a'", { rack: 'a' })).to.equal(false);
    expect(m("rack in {'a','b'}", { rack: 'b' })).to.equal(true);
    expect(m("rack in {'a','b'}", {})).to.equal(false);
    expect(m("rack not in {'a','b'}", {})).to.equal(true);
    expect(m("rack not in {'a','b'}", { rack: 'a' })).to.equal(false);
    expect(m("a == '1' || b == '2' && c == '3'", { b: '2', c: '3' })).to.equal(true); // && binds tighter
    expect(m("(a == '1' || b == '2') && c == '3'", { b: '2' })).to.equal(false);
    expect(m("!(kubernetes.io/hostname == 'node-1')", { 'kubernetes.io/hostname': 'node-2' })).to.equal(true);
  });

  it('rejects what it does not support, with a position', () => {
    expect(() => parseSelector("name starts with 'x'")).to.throw(/unsupported operator 'starts' after 'name' at position 6/);
    expect(() => parseSelector('global()')).to.throw(/unsupported function 'global\(\)'/);
    expect(() => parseSelector("a == 'x")).to.throw(/unterminated string/);
    expect(() => parseSelector("a == 'x' &&")).to.throw(/unexpected end of selector/);
    expect(() => parseSelector('')).to.throw(/empty selector/);
    expect(() => parseSelector("a == 'x' b")).to.throw(/unexpected 'b' at position 10/);
  });
});

describe('config: Go durations', () => {
  it('parses what metav1.Duration prints and rejects the rest', () => {
    expect(parseGoDuration('30s')).to.equal(30);
    expect(parseGoDuration('2m')).to.equal(120);
    expect(parseGoDuration('1h2m3s')).to.equal(3723);
    expect(parseGoDuration('1.5h')).to.equal(5400);
    expect(parseGoDuration('300ms')).to.equal(0.3);
    expect(parseGoDuration('0')).to.equal(0);
    for (const bad of ['30', 's', '1d', '1h 2m', '', '.s']) expect(parseGoDuration(bad), bad).to.equal(undefined);
  });
});
