import { expect } from 'chai';
import { parseConfig, defaultConfig, peersForNode, speakerConfigForNode, type BgpConfig, type ParseResult } from '../../../src/config/index.js';
import { planPeers } from '../../../src/gobgp/provision-plan.js';
import { BGP_CONFIGURATION_EXTERNAL_IPS, BGP_PEER, yamlFile } from '../../fixtures/seed/article.js';

const ok = (r: ParseResult): BgpConfig => {
  if (!r.ok) throw new Error(r.errors.map((e) => e.text).join('\n'));
  return r.config;
};
const errors = (r: ParseResult): string[] => (r.ok ? [] : r.errors.map((e) => e.text));
const warnings = (r: ParseResult): string[] => r.warnings.map((w) => w.text);

/** The article's final configuration: the peer and the external-IP BGPConfiguration. */
const ARTICLE = yamlFile(BGP_PEER, BGP_CONFIGURATION_EXTERNAL_IPS);

const cfgDoc = (spec: string, name = 'default', api = 'projectcalico.org/v3'): string =>
  `apiVersion: ${api}\nkind: BGPConfiguration\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
const peerDoc = (name: string, spec: string, api = 'projectcalico.org/v3'): string =>
  `apiVersion: ${api}\nkind: BGPPeer\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

describe('config: parsing Calico documents', () => {
  it("accepts the article's documents as written; the empty serviceClusterIPs key means none", () => {
    const r = parseConfig(ARTICLE);
    const c = ok(r);
    expect(warnings(r)).to.deep.equal([]);
    expect(c.global.serviceClusterIPs).to.deep.equal([]);
    expect(c.global.serviceExternalIPs.map((x) => x.cidr)).to.deep.equal(['192.168.3.0/24']);
    expect(c.peers.map((p) => [p.name, p.address, p.asNumber])).to.deep.equal([['bgppeer-global-64512', '192.168.1.1', 64512]]);
    expect(c.defaulted).to.deep.equal({ global: false, peers: false });
  });

  it('accepts the same kinds under svcbgp.io/v1alpha1, and already-parsed objects (informer input)', () => {
    const c = ok(parseConfig(ARTICLE.replaceAll('projectcalico.org/v3', 'svcbgp.io/v1alpha1')));
    expect(c.global.serviceExternalIPs.map((x) => x.cidr)).to.deep.equal(['192.168.3.0/24']);
    const objs = ok(
      parseConfig([
        { apiVersion: 'svcbgp.io/v1alpha1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { serviceClusterIPs: [{ cidr: '10.49.0.0/16' }] } },
      ]),
    );
    expect(objs.global.serviceClusterIPs.map((x) => x.cidr)).to.deep.equal(['10.49.0.0/16']);
  });

  it('accepts a kind: List (kubectl get -o yaml) with items', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'svcbgp.io/v1alpha1', kind: 'BGPPeer', metadata: { name: 'tor' }, spec: { peerIP: '192.168.1.1', asNumber: 64512 } }],
    };
    expect(ok(parseConfig([list])).peers.map((p) => p.name)).to.deep.equal(['tor']);
  });

  it('no configuration at all -> the seed defaults: AS 64512, port 179, peer 192.168.1.1 AS 64512 with graceful restart 120 s', () => {
    for (const input of ['', '---\n', []]) {
      const c = ok(parseConfig(input));
      expect(c).to.deep.equal(defaultConfig());
      expect(c.global.asNumber).to.equal(64512);
      expect(c.global.listenPort).to.equal(179);
      expect(c.global.serviceClusterIPs).to.deep.equal([]);
      const sp = speakerConfigForNode(c, { name: 'node-1', labels: {} }, '192.168.1.10');
      expect(sp).to.deep.equal({
        asn: 64512,
        routerId: '192.168.1.10',
        listenPort: 179,
        peers: [
          { name: 'default-tor', address: '192.168.1.1', asn: 64512, keepaliveTime: 3, holdTime: 9, gracefulRestart: { enabled: true, restartTime: 120 } },
        ],
      });
    }
  });

  it('defaults per kind: a BGPConfiguration alone keeps the default peer; a BGPPeer alone keeps the default AS', () => {
    const c1 = ok(parseConfig(cfgDoc('  asNumber: 65001\n')));
    expect([c1.global.asNumber, c1.peers.map((p) => p.address), c1.defaulted]).to.deep.equal([65001, ['192.168.1.1'], { global: false, peers: true }]);
    const c2 = ok(parseConfig(peerDoc('x', '  peerIP: 10.0.0.1\n  asNumber: 65002\n')));
    expect([c2.global.asNumber, c2.peers.map((p) => p.address)]).to.deep.equal([64512, ['10.0.0.1']]);
  });

  it('reads every supported field', () => {
    const c = ok(
      parseConfig(`${cfgDoc(`  asNumber: 65000
  listenPort: 1179
  serviceClusterIPs: [{cidr: 10.49.0.0/16}, {cidr: "fd00:49:0:0::/112"}]
  serviceExternalIPs: [{cidr: 192.168.3.0/24}]
  serviceLoadBalancerIPs: [{cidr: 192.168.4.0/24}]
  communities: [{name: a, value: "65000:1"}, {name: big, value: "65000:1:2"}]
  prefixAdvertisements:
  - cidr: 10.49.0.0/16
    communities: [a, big, "65000:7"]
`)}---
${peerDoc(
  'p1',
  `  peerIP: "[fd00::1]:1179"
  asNumber: "1.10"
  nodeSelector: "rack == 'r1' && !has(edge)"
  password:
    secretKeyRef: {name: bgp-secrets, key: tor}
  keepaliveTime: 20s
  maxRestartTime: 2m
`,
)}`),
    );
    expect(c.global.asNumber).to.equal(65000);
    expect(c.global.listenPort).to.equal(1179);
    expect(c.global.serviceClusterIPs.map((x) => x.cidr)).to.deep.equal(['10.49.0.0/16', 'fd00:49::/112']);
    expect(c.global.prefixAdvertisements.map((p) => [p.cidr.cidr, p.communities, p.largeCommunities])).to.deep.equal([
      ['10.49.0.0/16', ['65000:1', '65000:7'], ['65000:1:2']],
    ]);
    const p = c.peers[0]!;
    expect([p.address, p.port, p.asNumber, p.nodeSelector, p.passwordSecretRef, p.keepaliveTime, p.maxRestartTime]).to.deep.equal([
      'fd00::1',
      1179,
      65546,
      "rack == 'r1' && !has(edge)",
      { name: 'bgp-secrets', key: 'tor' },
      20,
      120,
    ]);
  });

  it('peerIP forms: IPv4, IPv4:port, IPv6, [IPv6]:port', () => {
    const forms: [string, string, number | undefined][] = [
      ['192.168.1.1', '192.168.1.1', undefined],
      ['192.168.1.1:1179', '192.168.1.1', 1179],
      ['FD00:0:0::1', 'fd00::1', undefined],
      ['[fd00::1]:179', 'fd00::1', 179],
    ];
    for (const [text, addr, port] of forms) {
      const p = ok(parseConfig(peerDoc('p', `  peerIP: "${text}"\n  asNumber: 64512\n`))).peers[0]!;
      expect([p.address, p.port]).to.deep.equal([addr, port]);
    }
  });

  it('durations: Go syntax, rounded to seconds', () => {
    const p = ok(parseConfig(peerDoc('p', '  peerIP: 10.0.0.1\n  asNumber: 1\n  keepaliveTime: 1m30s\n  maxRestartTime: 1h2m3s\n'))).peers[0]!;
    expect([p.keepaliveTime, p.maxRestartTime]).to.deep.equal([90, 3723]);
  });
});

describe('config: invalid input is rejected with the document, field, value and what is expected', () => {
  it('a host address given as a CIDR names the network it probably meant', () => {
    expect(errors(parseConfig(cfgDoc('  serviceClusterIPs:\n  - cidr: 10.49.0.1/16\n')))).to.deep.equal([
      'document 1 (BGPConfiguration "default"): spec.serviceClusterIPs[0].cidr = "10.49.0.1/16": this is a host address, not a network: the bits after the prefix length must be zero; did you mean 10.49.0.0/16?',
    ]);
  });

  it('reports ALL errors, across documents, not only the first', () => {
    const r = parseConfig(`${cfgDoc(`  asNumber: 4294967296
  listenPort: 70000
  serviceClusterIPs: [{cidr: 10.49.0.0/33}]
  serviceExternalIPs: 192.168.3.0/24
  serviceLoadBalancerIPs: ["192.168.4.0/24"]
`)}---
${peerDoc('p', '  peerIP: 192.168.1.300\n  asNumber: 0\n  keepaliveTime: 30\n  maxRestartTime: 2h\n')}`);
    expect(errors(r)).to.deep.equal([
      'document 1 (BGPConfiguration "default"): spec.asNumber = 4294967296: out of range: expected an AS number 1..4294967295 (or asdot "a.b")',
      'document 1 (BGPConfiguration "default"): spec.listenPort = 70000: expected a TCP port 1..65535',
      'document 1 (BGPConfiguration "default"): spec.serviceClusterIPs[0].cidr = "10.49.0.0/33": not a valid CIDR; expected "address/length" such as "10.49.0.0/16" or "fd00:49::/112"',
      'document 1 (BGPConfiguration "default"): spec.serviceExternalIPs = "192.168.3.0/24": expected a list of {cidr: ...} entries, e.g. "- cidr: 10.49.0.0/16"',
      'document 1 (BGPConfiguration "default"): spec.serviceLoadBalancerIPs[0] = "192.168.4.0/24": expected a mapping {cidr: 192.168.4.0/24}: write "- cidr: 192.168.4.0/24"',
      'document 2 (BGPPeer "p"): spec.peerIP = "192.168.1.300": expected an IPv4 or IPv6 address, optionally with a port: "192.168.1.1", "192.168.1.1:1179", "fd00::1", "[fd00::1]:1179"',
      'document 2 (BGPPeer "p"): spec.asNumber = 0: AS 0 is reserved (RFC 7607) and cannot be used; expected 1..4294967295',
      'document 2 (BGPPeer "p"): spec.keepaliveTime = 30: expected a duration such as "30s", "2m" or "1h2m3s"',
      'document 2 (BGPPeer "p"): spec.maxRestartTime = "2h": out of range: expected 1s..4095s (whole seconds)',
    ]);
  });

  it('wrong apiVersion / kind / missing name', () => {
    const r = parseConfig(
      `apiVersion: crd.projectcalico.org/v1\nkind: BGPPeer\nmetadata: {name: a}\nspec: {peerIP: 10.0.0.1, asNumber: 1}\n---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: b}\n---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nspec: {peerIP: 10.0.0.1, asNumber: 1}\n`,
    );
    expect(errors(r)).to.deep.equal([
      'document 1 (BGPPeer "a"): apiVersion = "crd.projectcalico.org/v1": expected one of "projectcalico.org/v3", "svcbgp.io/v1alpha1"',
      'document 2 (NetworkPolicy "b"): kind = "NetworkPolicy": expected "BGPPeer", "BGPConfiguration", "IPPool" or "KubeControllersConfiguration"',
      'document 3 (BGPPeer): metadata.name = undefined: every document needs a non-empty metadata.name',
    ]);
  });

  it('reads IPPool and KubeControllersConfiguration documents beside the BGP ones: the pools in force, their messages among the others', () => {
    const bgp =
      'apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec:\n  serviceLoadBalancerIPs: [{cidr: 192.168.4.0/24}]\n';
    const pool = (name: string, cidr: string): string =>
      `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: ${name}}\nspec: {cidr: ${cidr}, allowedUses: [LoadBalancer]}\n`;
    const controllers =
      'apiVersion: projectcalico.org/v3\nkind: KubeControllersConfiguration\nmetadata: {name: default}\nspec: {controllers: {loadBalancer: {assignIPs: RequestedServicesOnly}}}\n';
    const r = parseConfig(`${bgp}---\n${pool('lb', '192.168.4.0/26')}---\n${controllers}---\n${pool('far', '10.9.0.0/24')}`);
    if (!r.ok) throw new Error(errors(r).join('\n'));
    expect(r.config.allocation?.pools.map((p) => `${p.name} ${p.cidr.cidr}`)).to.deep.equal(['lb 192.168.4.0/26']);
    expect(r.config.allocation?.settings.assignIPs).to.equal('RequestedServicesOnly');
    expect(r.config.allocation?.unused.map((u) => u.name)).to.deep.equal(['far']);
    expect(r.warnings.map((w) => w.text).join('\n')).to.contain('document 4 (IPPool "far"): spec.cidr = "10.9.0.0/24": not used');
    expect(parseConfig(bgp).ok && parseConfig(bgp)).to.not.have.nested.property('config.allocation');
    const bad = parseConfig(`${bgp}---\n${pool('lb', '192.168.4.0/26')}---\n${pool('lb2', '192.168.4.0/25')}`);
    expect(errors(bad)).to.deep.equal([
      'document 3 (IPPool "lb2"): spec.cidr = "192.168.4.0/25": overlaps IPPool "lb" (192.168.4.0/26, document 2 (IPPool "lb")); an address may belong to one load-balancer pool only: shrink or remove one of them',
    ]);
  });

  it('duplicate peers and duplicate names are rejected, naming both documents', () => {
    const r = parseConfig(
      `${peerDoc('a', '  peerIP: 192.168.1.1\n  asNumber: 64512\n')}---\n${peerDoc('b', '  peerIP: 192.168.1.1\n  asNumber: 64513\n')}---\n${peerDoc('a', '  peerIP: 10.0.0.1\n  asNumber: 1\n')}`,
    );
    expect(errors(r)).to.deep.equal([
      'document 2 (BGPPeer "b"): spec.peerIP = "192.168.1.1": duplicate peer: document 1 (BGPPeer "a") already peers with this address for all nodes; remove one of them',
      'document 3 (BGPPeer "a"): metadata.name = "a": duplicate BGPPeer name: document 1 (BGPPeer "a") has the same name; names must be unique',
    ]);
    // The same address for different nodes is not a duplicate.
    expect(
      parseConfig(`${peerDoc('a', '  peerIP: 192.168.1.1\n  asNumber: 1\n')}---\n${peerDoc('c', '  peerIP: 192.168.1.1\n  asNumber: 1\n  node: node-1\n')}`).ok,
    ).to.equal(true);
  });

  it('the same address on another port is a duplicate too: gobgpd keys neighbors by address alone', () => {
    const r = parseConfig(`${peerDoc('a', '  peerIP: 192.168.1.1\n  asNumber: 1\n')}---\n${peerDoc('b', '  peerIP: "192.168.1.1:1179"\n  asNumber: 1\n')}`);
    expect(errors(r)).to.deep.equal([
      'document 2 (BGPPeer "b"): spec.peerIP = "192.168.1.1:1179": duplicate peer: document 1 (BGPPeer "a") already peers with this address for all nodes; remove one of them',
    ]);
  });

  it('wrong types, YAML syntax errors, bad communities, bad selectors, node+nodeSelector', () => {
    expect(errors(parseConfig(cfgDoc('  asNumber: [1]\n  prefixAdvertisements:\n  - cidr: 10.49.0.0/16\n    communities: [nope, "70000:1"]\n')))).to.deep.equal(
      [
        'document 1 (BGPConfiguration "default"): spec.asNumber = [1]: expected an AS number 1..4294967295 (or asdot "a.b")',
        'document 1 (BGPConfiguration "default"): spec.prefixAdvertisements[0].communities[0] = "nope": neither a community literal ("aa:nn" or "aa:nn:mm") nor a name defined in spec.communities (none defined)',
        'document 1 (BGPConfiguration "default"): spec.prefixAdvertisements[0].communities[1] = "70000:1": a standard community is "aa:nn" with both parts 0..65535',
      ],
    );
    const syntax = errors(parseConfig('apiVersion: projectcalico.org/v3\nkind: [BGPPeer\n'));
    expect(syntax).to.have.length(1);
    expect(syntax[0]).to.match(/^document 1: YAML syntax error: .* at line 3, column 1$/);
    expect(errors(parseConfig(peerDoc('p', '  peerIP: 10.0.0.1\n  asNumber: 1\n  nodeSelector: "rack contains \'r\'"\n')))).to.deep.equal([
      `document 1 (BGPPeer "p"): spec.nodeSelector = "rack contains 'r'": unsupported operator 'contains' after 'rack' at position 6; supported: all(), has(k), k == 'v', k != 'v', k in {'a','b'}, k not in {'a','b'}, &&, ||, !, ( )`,
    ]);
    expect(errors(parseConfig(peerDoc('p', '  peerIP: 10.0.0.1\n  asNumber: 1\n  node: n1\n  nodeSelector: all()\n')))).to.deep.equal([
      'document 1 (BGPPeer "p"): spec.nodeSelector = "all()": node and nodeSelector cannot both be set; use one of them',
    ]);
  });

  it('a BGPConfiguration with another name than default / node.<name> is an error', () => {
    expect(errors(parseConfig(cfgDoc('  asNumber: 1\n', 'global')))).to.deep.equal([
      `document 1 (BGPConfiguration "global"): metadata.name = "global": a BGPConfiguration must be named 'default' (cluster-wide settings) or 'node.<nodename>' (per-node listenPort/prefixAdvertisements)`,
    ]);
  });

  it('an inline password is rejected without echoing it', () => {
    const r = parseConfig(peerDoc('p', '  peerIP: 10.0.0.1\n  asNumber: 1\n  password: hunter2\n'));
    expect(errors(r).join('\n')).to.not.contain('hunter2');
    expect(errors(r)).to.deep.equal([
      'document 1 (BGPPeer "p"): spec.password = (hidden): expected {secretKeyRef: {name: <secret>, key: <key>}}; an inline password is not accepted',
    ]);
  });
});

describe('config: warnings are never silent', () => {
  it('unknown and unsupported fields are named', () => {
    const r = parseConfig(
      `${cfgDoc('  nodeToNodeMeshEnabled: true\n  serviceClusterIP: [{cidr: 10.49.0.0/16}]\n  serviceExternalIPs: [{cidr: 192.168.3.180/32, note: x}]\n')}---\n${peerDoc('p', '  peerIP: 10.0.0.1\n  asNumber: 1\n  keepOriginalNextHop: true\n')}`,
    );
    expect(r.ok).to.equal(true);
    expect(warnings(r)).to.deep.equal([
      'document 1 (BGPConfiguration "default"): spec.nodeToNodeMeshEnabled = true: svcbgp runs no node-to-node mesh: each node peers only with the BGPPeers that select it, and the mesh carries no Service route to a router; it changes no route. Set it to false (what svcbgp does) or remove it',
      'document 1 (BGPConfiguration "default"): spec.serviceClusterIP: unknown field; ignored (supported: asNumber, listenPort, serviceClusterIPs, serviceExternalIPs, serviceLoadBalancerIPs, serviceLoadBalancerAggregation, communities, prefixAdvertisements, bindMode, allowUnsafeServiceCIDRs, weightedECMP, serviceAttributeLimits, allowAddressesInClusterIPRange)',
      'document 1 (BGPConfiguration "default"): spec.serviceExternalIPs[0].note: unknown field; ignored (an entry has only "cidr")',
      'document 2 (BGPPeer "p"): spec.keepOriginalNextHop = true: the routes svcbgp adds have this node as next hop either way (next hop keep matters for routes passed on from another peer, which svcbgp does not add; docs/calico-fields.md); it changes no route. Remove it',
    ]);
  });

  it('node.<name> documents: only listenPort / prefixAdvertisements; other fields warned about', () => {
    const r = parseConfig(cfgDoc('  listenPort: 1179\n  serviceClusterIPs: [{cidr: 10.49.0.0/16}]\n', 'node.node-2'));
    const c = ok(r);
    expect(c.nodeOverrides.map((o) => [o.node, o.listenPort])).to.deep.equal([['node-2', 1179]]);
    expect(c.global.serviceClusterIPs).to.deep.equal([]);
    expect(warnings(r)).to.deep.equal([
      `document 1 (BGPConfiguration "node.node-2"): spec.serviceClusterIPs: Calico and svcbgp read it only from the BGPConfiguration named 'default' (a node.<nodename> document may set listenPort and prefixAdvertisements); ignored here`,
    ]);
    expect(speakerConfigForNode(c, { name: 'node-2', labels: {} }, '192.168.1.11').listenPort).to.equal(1179);
    expect(speakerConfigForNode(c, { name: 'node-1', labels: {} }, '192.168.1.10').listenPort).to.equal(179);
  });
});

describe('config: peersForNode', () => {
  const c = ok(
    parseConfig(
      [
        peerDoc('global', '  peerIP: 192.168.1.1\n  asNumber: 64512\n  maxRestartTime: 300s\n  keepaliveTime: 10s\n'),
        peerDoc('only-n1', '  peerIP: 192.168.1.2\n  asNumber: 64513\n  node: node-1\n'),
        peerDoc(
          'rack-a',
          "  peerIP: 192.168.1.3\n  asNumber: 64514\n  nodeSelector: rack in {'a', 'b'} || has(edge)\n  password: {secretKeyRef: {name: s, key: k}}\n",
        ),
        peerDoc('shadowed', '  peerIP: 192.168.1.1\n  asNumber: 65000\n  nodeSelector: all()\n'),
      ].join('---\n'),
    ),
  );

  it('a peer with neither node nor nodeSelector is global; node and nodeSelector narrow; a global peer wins over a node-specific one to the same address', () => {
    const n1 = peersForNode(c, { name: 'node-1', labels: { rack: 'a' } });
    expect(n1.map((p) => [p.name, p.address, p.asn])).to.deep.equal([
      ['global', '192.168.1.1', 64512],
      ['only-n1', '192.168.1.2', 64513],
      ['rack-a', '192.168.1.3', 64514],
    ]);
    expect(n1[0]).to.deep.include({ keepaliveTime: 10, holdTime: 30, gracefulRestart: { enabled: true, restartTime: 300 } });
    expect(n1[2]?.passwordSecretRef).to.deep.equal({ name: 's', key: 'k' });
    expect(peersForNode(c, { name: 'node-2', labels: { rack: 'c' } }).map((p) => p.name)).to.deep.equal(['global']);
    expect(peersForNode(c, { name: 'node-3', labels: { edge: '' } }).map((p) => p.name)).to.deep.equal(['global', 'rack-a']);
  });

  it("one peer per address, whatever the port: a node-specific peer on another port of a global peer's address is skipped", () => {
    const two = ok(
      parseConfig(
        [
          peerDoc('global', '  peerIP: 192.168.1.1\n  asNumber: 64512\n'),
          peerDoc('n1-other-port', '  peerIP: "192.168.1.1:1179"\n  asNumber: 64512\n  node: node-1\n'),
        ].join('---\n'),
      ),
    );
    const peers = peersForNode(two, { name: 'node-1', labels: {} });
    expect(peers.map((p) => [p.name, p.address, p.port])).to.deep.equal([['global', '192.168.1.1', undefined]]);
    // What provisioning needs: gobgpd cannot hold two neighbors at one address.
    expect(() => planPeers(peers, [])).to.not.throw();
  });

  it("skips a peer at one of the node's own addresses (Calico: 'Skipping ourselves')", () => {
    const tor = { name: 'node-9', labels: {}, addresses: [{ type: 'InternalIP', address: '192.168.1.1' }] };
    expect(peersForNode(c, tor).map((p) => p.name)).to.deep.equal([]);
  });

  it('accepts a V1Node', () => {
    const v1 = { metadata: { name: 'node-1', labels: { rack: 'b' } } };
    expect(peersForNode(c, v1).map((p) => p.name)).to.deep.equal(['global', 'only-n1', 'rack-a']);
  });
});
