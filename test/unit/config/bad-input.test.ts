import { expect } from 'chai';
import { parseConfig, type ParseResult } from '../../../src/config/index.js';
import { MAX_SELECTOR_DEPTH, MAX_SELECTOR_LENGTH } from '../../../src/config/selector.js';
import { MAX_YAML_ALIAS_COUNT, MAX_YAML_BYTES, MAX_YAML_DEPTH } from '../../../src/config/yaml.js';
import { MAX_TCP_MD5_KEY_BYTES, passwordProblem } from '../../../src/agent/passwords.js';

/**
 * Issue 12: bad input never costs a route. One describe per class of bad input; each case is named after what an
 * operator (or a hostile tenant) would write. Every case goes through parseConfig as the agent calls it (YAML text
 * from the --config file, or parsed objects from the svcbgp.io informer).
 */

const errors = (r: ParseResult): string[] => (r.ok ? [] : r.errors.map((e) => e.text));
const warnings = (r: ParseResult): string[] => r.warnings.map((w) => w.text);
const cfg = (spec: string): string => `apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec:\n${spec}`;
const peer = (spec: string, name = 'tor'): string => `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: ${name}}\nspec:\n${spec}`;
const peerObj = (spec: Record<string, unknown>): unknown => ({ apiVersion: 'svcbgp.io/v1alpha1', kind: 'BGPPeer', metadata: { name: 'tor' }, spec });

/** parseConfig must return, never throw; and a rejection names the document. */
function mustReject(input: string | unknown[], ...fragments: string[]): string {
  let r: ParseResult | undefined;
  expect(() => (r = parseConfig(input))).not.to.throw();
  const text = errors(r!).join('\n');
  expect(r!.ok, `accepted: ${typeof input === 'string' ? input.slice(0, 200) : JSON.stringify(input).slice(0, 200)}`).to.equal(false);
  for (const f of fragments) expect(text).to.contain(f);
  return text;
}

describe('bad input: no input throws out of the parser', () => {
  it('a deeply nested selector is a message naming the limit, not a stack overflow', () => {
    for (const depth of [MAX_SELECTOR_DEPTH + 1, 500, 100_000]) {
      const sel = `${'('.repeat(depth)}a == 'b'${')'.repeat(depth)}`;
      // 100,000 levels is also over the length limit: either limit is named.
      const text = mustReject(peer(`  peerIP: 192.168.1.1\n  asNumber: 64512\n  nodeSelector: "${sel}"\n`), 'spec.nodeSelector');
      expect(text).to.match(new RegExp(`${MAX_SELECTOR_DEPTH} levels deep|limit of ${MAX_SELECTOR_LENGTH}`));
    }
    const nots = `${'!'.repeat(MAX_SELECTOR_DEPTH + 1)}has(a)`;
    mustReject([peerObj({ peerIP: '192.168.1.1', asNumber: 64512, nodeSelector: nots })], `${MAX_SELECTOR_DEPTH} levels deep`);
  });

  it('a selector at the depth limit still parses', () => {
    const sel = `${'('.repeat(MAX_SELECTOR_DEPTH)}a == 'b'${')'.repeat(MAX_SELECTOR_DEPTH)}`;
    expect(errors(parseConfig([peerObj({ peerIP: '192.168.1.1', asNumber: 64512, nodeSelector: sel })]))).to.deep.equal([]);
  });

  it('a YAML alias bomb ("billion laughs") is a message naming the alias limit', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const name = String.fromCharCode(97 + i);
      lines.push(
        `${name}: &${name} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    }
    mustReject(lines.join('\n'), 'too many YAML aliases', String(MAX_YAML_ALIAS_COUNT));
  });

  it('deeply nested YAML is a message naming the depth limit', () => {
    mustReject(cfg(`  asNumber: ${'['.repeat(MAX_YAML_DEPTH + 5)}1${']'.repeat(MAX_YAML_DEPTH + 5)}\n`), `nested more than ${MAX_YAML_DEPTH} deep`);
    mustReject('['.repeat(20_000) + ']'.repeat(20_000), 'nested');
    // Block nesting: 70 levels of "- " (140 columns) pass the text pre-check and meet the document depth limit.
    mustReject(`${Array.from({ length: 70 }, (_, i) => `${'  '.repeat(i)}- `).join('\n')}x\n`, `nested more than ${MAX_YAML_DEPTH} levels deep`);
    // Deeper than the indentation limit: refused before the YAML library sees it (a second such parse aborted Node).
    for (let i = 0; i < 3; i++) mustReject(`${Array.from({ length: 300 }, (_, j) => `${' '.repeat(j)}- `).join('\n')}x`, 'nested too deeply');
    mustReject('a: *undefined_anchor\n', 'an alias refers to an anchor that is not defined');
  });

  it('a file over the size limit is refused before parsing', () => {
    mustReject(cfg(`  asNumber: 64512\n#${'x'.repeat(MAX_YAML_BYTES)}\n`), 'more than the limit', String(MAX_YAML_BYTES));
  });

  it('objects YAML cannot make but an informer or a test can (cycles, odd prototypes) do not throw', () => {
    const cyclic: Record<string, unknown> = { apiVersion: 'svcbgp.io/v1alpha1', kind: 'BGPPeer', metadata: { name: 'x' } };
    cyclic['spec'] = { peerIP: cyclic, asNumber: 64512 };
    expect(() => parseConfig([cyclic])).not.to.throw();
    expect(parseConfig([cyclic]).ok).to.equal(false);
    expect(() => parseConfig([Object.create(null), 5, 'x', [], true])).not.to.throw();
  });
});

describe('bad input: values that parse but mean something else are refused', () => {
  it('a negative AS number (from a file or an object)', () => {
    mustReject(cfg('  asNumber: -64512\n'), 'spec.asNumber = -64512', 'negative');
    mustReject(peer('  peerIP: 192.168.1.1\n  asNumber: -1\n'), 'negative');
    mustReject([peerObj({ peerIP: '192.168.1.1', asNumber: -5 })], 'negative');
  });

  it('an unquoted asdot AS "1.0" (YAML reads the float 1: AS 1, not 65536) says to quote it', () => {
    const text = mustReject(cfg('  asNumber: 1.0\n'), 'spec.asNumber = 1.0', 'YAML reads this as the number 1', 'quote an asdot AS number ("1.0")');
    expect(text).not.to.contain('AS 1 ');
    // Quoted, it is asdot: 1 * 65536 + 0.
    const r = parseConfig(cfg('  asNumber: "1.0"\n'));
    expect(r.ok && r.config.global.asNumber).to.equal(65536);
  });

  it('hex, octal, exponent and signed forms are not AS numbers, ports or LOCAL_PREFs', () => {
    for (const v of ['0x10', '0o20', '1e3', '+64512', '64512.0', '.inf', '-.inf', '.nan']) {
      mustReject(cfg(`  asNumber: ${v}\n`), 'spec.asNumber', 'YAML reads this as the number');
      mustReject(cfg(`  listenPort: ${v}\n`), 'spec.listenPort');
      mustReject(cfg(`  prefixAdvertisements:\n  - cidr: 10.49.0.0/16\n    localPref: ${v}\n`), 'localPref');
    }
    for (const v of ['"0x10"', '"1e3"', '"0100"', '"-5"', '"01.0"']) mustReject(cfg(`  asNumber: ${v}\n`), 'spec.asNumber');
  });

  it('plain decimal integers still read as they always did', () => {
    const r = parseConfig(cfg('  asNumber: 65001\n  listenPort: 1179\n  prefixAdvertisements:\n  - cidr: 10.49.0.0/16\n    localPref: 0\n'));
    expect(errors(r)).to.deep.equal([]);
    expect(r.ok && [r.config.global.asNumber, r.config.global.listenPort, r.config.global.prefixAdvertisements[0]?.localPref]).to.deep.equal([65001, 1179, 0]);
  });

  it('service CIDRs that empty the allow-list (0.0.0.0/0, ::/0, very short prefixes) are refused unless opted in', () => {
    for (const [field, cidr] of [
      ['serviceExternalIPs', '0.0.0.0/0'],
      ['serviceLoadBalancerIPs', '::/0'],
      ['serviceClusterIPs', '10.0.0.0/7'],
      ['serviceExternalIPs', '2001::/16'],
      ['serviceExternalIPs', '128.0.0.0/1'],
    ] as const) {
      mustReject(cfg(`  ${field}:\n  - cidr: ${cidr}\n`), `spec.${field}[0].cidr = "${cidr}"`, 'shorter than', 'allowUnsafeServiceCIDRs: true');
      const r = parseConfig(cfg(`  allowUnsafeServiceCIDRs: true\n  ${field}:\n  - cidr: ${cidr}\n`));
      expect(errors(r), cidr).to.deep.equal([]);
      expect(warnings(r).join('\n')).to.contain('accepted because allowUnsafeServiceCIDRs is true');
    }
    // The limits themselves are accepted: /8 and /32.
    expect(errors(parseConfig(cfg('  serviceClusterIPs:\n  - cidr: 10.0.0.0/8\n  - cidr: fd00::/32\n')))).to.deep.equal([]);
  });

  it('loopback, link-local, multicast and other reserved ranges are refused as service CIDRs', () => {
    for (const [cidr, what] of [
      ['127.0.0.0/8', 'loopback'],
      ['127.0.0.1/32', 'loopback'],
      ['169.254.0.0/16', 'link-local'],
      ['224.0.0.0/24', 'multicast'],
      ['240.0.0.0/8', 'reserved'],
      ['255.255.255.255/32', 'broadcast'],
      ['0.0.0.0/32', 'this network'],
      ['::1/128', 'loopback'],
      ['fe80::/64', 'link-local'],
      ['ff02::/64', 'multicast'],
      ['::/128', 'unspecified'],
    ] as const) {
      mustReject(cfg(`  serviceExternalIPs:\n  - cidr: ${cidr}\n`), `= "${cidr}"`, what, 'never a Service range');
    }
  });

  it('overlapping service CIDRs and a service CIDR containing a peer get a warning', () => {
    const r = parseConfig(
      `${peer('  peerIP: 192.168.1.1\n  asNumber: 64512\n')}\n---\n${cfg('  serviceClusterIPs:\n  - cidr: 10.49.0.0/16\n  serviceExternalIPs:\n  - cidr: 10.49.7.0/24\n  - cidr: 192.168.0.0/16\n')}`,
    );
    expect(errors(r)).to.deep.equal([]);
    const w = warnings(r).join('\n');
    expect(w).to.contain('spec.serviceExternalIPs[0].cidr = "10.49.7.0/24": overlaps spec.serviceClusterIPs[0].cidr (10.49.0.0/16)');
    expect(w).to.contain('spec.serviceExternalIPs[1].cidr = "192.168.0.0/16": contains the address of the peer in document 1 (BGPPeer "tor") (192.168.1.1)');
  });

  it('peer addresses that cannot be peers: unspecified, broadcast, multicast, IPv6 link-local, loopback outside tests', () => {
    for (const [ip, what] of [
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['255.255.255.255', 'broadcast'],
      ['224.0.0.5', 'multicast'],
      ['ff02::2', 'multicast'],
      ['fe80::1', 'link-local'],
      ['127.0.0.1', 'loopback'],
      ['127.0.0.2:1179', 'loopback'],
      ['::1', 'loopback'],
    ] as const) {
      mustReject(peer(`  peerIP: "${ip}"\n  asNumber: 64512\n`), `spec.peerIP = "${ip}"`, what);
    }
    // Tests and labs opt in to loopback peers (svcbgp run --allow-loopback-peers); the others stay refused.
    expect(errors(parseConfig(peer('  peerIP: "127.0.0.2:1179"\n  asNumber: 64512\n'), { allowLoopbackPeers: true }))).to.deep.equal([]);
    expect(parseConfig(peer('  peerIP: "0.0.0.0"\n  asNumber: 64512\n'), { allowLoopbackPeers: true }).ok).to.equal(false);
  });

  it('an empty Secret value (MD5 silently off) and a key over 80 bytes are not passwords', () => {
    expect(passwordProblem('')).to.contain('empty');
    expect(passwordProblem('x'.repeat(MAX_TCP_MD5_KEY_BYTES))).to.equal(undefined);
    expect(passwordProblem('x'.repeat(MAX_TCP_MD5_KEY_BYTES + 1))).to.contain(`limit of ${MAX_TCP_MD5_KEY_BYTES} bytes`);
    expect(passwordProblem('é'.repeat(41))).to.contain('82 bytes'); // bytes, not characters
  });
});

describe('bad input: a service CIDR that contains a node address', () => {
  it('gets a warning naming the node, the address and the CIDR (not an error: the node still advertises)', async () => {
    const { nodeAddressWarnings } = await import('../../../src/config/node-checks.js');
    const r = parseConfig(cfg('  serviceExternalIPs:\n  - cidr: 192.168.0.0/16\n  serviceClusterIPs:\n  - cidr: 10.49.0.0/16\n'));
    if (!r.ok) throw new Error(errors(r).join('\n'));
    const w = nodeAddressWarnings(r.config, {
      name: 'node-1',
      labels: {},
      addresses: [
        { type: 'InternalIP', address: '192.168.1.10' },
        { type: 'Hostname', address: 'node-1' },
      ],
    });
    expect(w).to.deep.equal([
      "serviceExternalIPs 192.168.0.0/16 contains node node-1's InternalIP 192.168.1.10: every node advertises it, so the ToR may send traffic for this node's own address to another node",
    ]);
    expect(nodeAddressWarnings(r.config, { name: 'node-2', labels: {}, addresses: [{ type: 'InternalIP', address: '172.16.0.2' }] })).to.deep.equal([]);
  });
});
