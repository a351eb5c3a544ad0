/**
 * Every field of Calico's BGPConfiguration and BGPPeer (3.30-3.32) is honoured, warned about by name, or refused with a
 * reason; none is "unknown", none is ignored in silence. docs/calico-fields.md says the same, field by field, and the
 * svcbgp.io CRDs admit every field (a field the schema lacks would be pruned by the API server: ignored in silence).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseConfig, peersForNode, speakerConfigForNode, type ParseResult } from '../../../src/config/index.js';
import { nodeAddressWarnings } from '../../../src/config/node-checks.js';
import { CALICO_BGPCONFIGURATION_FIELDS, CALICO_BGPPEER_FIELDS, CALICO_ENTERPRISE_BGPPEER_FIELDS } from '../../../src/config/calico-fields.js';

const repoRoot = (): string => path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

type Handling = 'honoured' | 'warned' | 'refused';
type Kind = 'BGPConfiguration' | 'BGPPeer';

const BASE_PEER = { peerIP: '192.168.1.1', asNumber: 64512 };

function parseOne(kind: Kind, spec: Record<string, unknown>, name = kind === 'BGPPeer' ? 'tor' : 'default'): ParseResult {
  return parseConfig([{ apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec: kind === 'BGPPeer' ? { ...BASE_PEER, ...spec } : spec }]);
}

/** The messages about one field: errors and warnings whose path is the field or inside it. */
function about(r: ParseResult, field: string): { errors: string[]; warnings: string[] } {
  const mine = (m: { path: string }): boolean => m.path === `spec.${field}` || m.path.startsWith(`spec.${field}.`) || m.path.startsWith(`spec.${field}[`);
  return {
    errors: r.ok ? [] : r.errors.filter(mine).map((e) => e.text),
    warnings: r.warnings.filter(mine).map((w) => w.text),
  };
}

function handlingOf(r: ParseResult, field: string): Handling {
  const m = about(r, field);
  if (m.errors.length > 0) return 'refused';
  if (m.warnings.length > 0) return 'warned';
  expect(r.ok, `${field}: no message about it, yet the document is refused: ${r.ok ? '' : r.errors.map((e) => e.text).join('; ')}`).to.equal(true);
  return 'honoured';
}

/** One value per field, the one docs/calico-fields.md classifies (the field's first bold word there). */
const CONFIG_CASES: Record<string, { value: unknown; handling: Handling }> = {
  logSeverityScreen: { value: 'Info', handling: 'warned' },
  nodeToNodeMeshEnabled: { value: true, handling: 'warned' },
  asNumber: { value: 64513, handling: 'honoured' },
  serviceLoadBalancerIPs: { value: [{ cidr: '192.168.4.0/24' }], handling: 'honoured' },
  serviceExternalIPs: { value: [{ cidr: '192.168.3.0/24' }], handling: 'honoured' },
  serviceClusterIPs: { value: [{ cidr: '10.49.0.0/16' }], handling: 'honoured' },
  serviceLoadBalancerAggregation: { value: 'Disabled', handling: 'honoured' },
  communities: { value: [{ name: 'a', value: '64512:100' }], handling: 'honoured' },
  prefixAdvertisements: { value: [{ cidr: '10.49.0.0/16', communities: ['64512:100'] }], handling: 'honoured' },
  listenPort: { value: 1179, handling: 'honoured' },
  nodeMeshPassword: { value: { secretKeyRef: { name: 's', key: 'k' } }, handling: 'warned' },
  nodeMeshMaxRestartTime: { value: '300s', handling: 'warned' },
  bindMode: { value: 'NodeIP', handling: 'honoured' },
  ignoredInterfaces: { value: ['eth9'], handling: 'warned' },
  localWorkloadPeeringIPV4: { value: '169.254.0.179', handling: 'warned' },
  localWorkloadPeeringIPV6: { value: 'fe80::179', handling: 'warned' },
  programClusterRoutes: { value: 'Disabled', handling: 'warned' },
  ipv4NormalRoutePriority: { value: 1024, handling: 'warned' },
  ipv6NormalRoutePriority: { value: 1024, handling: 'warned' },
};

const PEER_CASES: Record<string, { value: unknown; handling: Handling }> = {
  node: { value: 'node-1', handling: 'honoured' },
  nodeSelector: { value: "rack == 'a'", handling: 'honoured' },
  peerIP: { value: '192.168.1.2', handling: 'honoured' },
  asNumber: { value: 64513, handling: 'honoured' },
  localASNumber: { value: 65001, handling: 'honoured' },
  peerSelector: { value: 'all()', handling: 'refused' },
  keepOriginalNextHop: { value: true, handling: 'warned' },
  nextHopMode: { value: 'Keep', handling: 'warned' },
  password: { value: { secretKeyRef: { name: 's', key: 'k' } }, handling: 'honoured' },
  sourceAddress: { value: 'UseNodeIP', handling: 'honoured' },
  maxRestartTime: { value: '300s', handling: 'honoured' },
  keepaliveTime: { value: '10s', handling: 'honoured' },
  numAllowedLocalASNumbers: { value: 1, handling: 'honoured' },
  ttlSecurity: { value: 1, handling: 'honoured' },
  reachableBy: { value: '192.168.1.254', handling: 'warned' },
  filters: { value: ['export-only-services'], handling: 'refused' },
  localWorkloadSelector: { value: "app == 'bgp'", handling: 'refused' },
  reversePeering: { value: 'Manual', handling: 'warned' },
  // Calico Enterprise's fields.
  failureDetectionMode: { value: 'BFDIfDirectlyConnected', handling: 'honoured' },
  restartMode: { value: 'LongLivedGracefulRestart', handling: 'refused' },
  birdGatewayMode: { value: 'DirectIfDirectlyConnected', handling: 'warned' },
};

describe('Calico fields: every one honoured, warned by name or refused', () => {
  it('the cases cover every field of Calico 3.30-3.32 (and the Calico Enterprise BGPPeer fields svcbgp knows)', () => {
    expect(Object.keys(CONFIG_CASES).sort()).to.deep.equal(Object.keys(CALICO_BGPCONFIGURATION_FIELDS).sort());
    expect(Object.keys(PEER_CASES).sort()).to.deep.equal([...Object.keys(CALICO_BGPPEER_FIELDS), ...CALICO_ENTERPRISE_BGPPEER_FIELDS].sort());
  });

  for (const [kind, cases] of [
    ['BGPConfiguration', CONFIG_CASES],
    ['BGPPeer', PEER_CASES],
  ] as const) {
    for (const [field, c] of Object.entries(cases)) {
      it(`${kind} ${field}: ${JSON.stringify(c.value)} is ${c.handling}, and never called an unknown field`, () => {
        const r = parseOne(kind, { [field]: c.value });
        expect(handlingOf(r, field)).to.equal(c.handling);
        const all = [...(r.ok ? [] : r.errors), ...r.warnings].map((m) => m.text);
        expect(all.filter((t) => t.includes('unknown field'))).to.deep.equal([]);
      });
    }
  }

  it("unset means unset: null, and an empty string (as Calico's omitempty JSON reads it), say nothing", () => {
    for (const v of [null, '']) {
      const r = parseOne('BGPPeer', { peerSelector: v, sourceAddress: v, nextHopMode: v, filters: v === '' ? [] : v });
      expect([r.ok, r.warnings.map((w) => w.text)]).to.deep.equal([true, []]);
    }
  });

  it("a value outside Calico's enum is an error that lists Calico's values", () => {
    const r = parseOne('BGPPeer', { nextHopMode: 'self', sourceAddress: 'NodeIP' });
    expect(r.ok ? [] : r.errors.map((e) => e.text)).to.deep.equal([
      'document 1 (BGPPeer "tor"): spec.nextHopMode = "self": expected Auto, Self, Keep (Calico\'s values, case-sensitive)',
      'document 1 (BGPPeer "tor"): spec.sourceAddress = "NodeIP": expected UseNodeIP or None (Calico\'s values, case-sensitive)',
    ]);
    const mesh = parseOne('BGPConfiguration', { nodeToNodeMeshEnabled: 'yes' });
    expect(mesh.ok ? [] : mesh.errors.map((e) => e.text)).to.deep.equal([
      'document 1 (BGPConfiguration "default"): spec.nodeToNodeMeshEnabled = "yes": expected true, false (a boolean)',
    ]);
  });

  it('the values that say what svcbgp does are honoured without a word: nodeToNodeMeshEnabled false, bindMode None, nextHopMode Self/Auto, keepOriginalNextHop false, filters []', () => {
    const cfg = parseOne('BGPConfiguration', { nodeToNodeMeshEnabled: false, bindMode: 'None' });
    expect([cfg.ok, cfg.warnings]).to.deep.equal([true, []]);
    for (const nextHopMode of ['Self', 'Auto']) {
      const peer = parseOne('BGPPeer', { nextHopMode, keepOriginalNextHop: false, filters: [], restartMode: 'GracefulRestart' });
      expect([peer.ok, peer.warnings]).to.deep.equal([true, []]);
    }
  });

  it('refusals say why and what to use instead: peerSelector (no node-to-node peering), filters (no BGPFilter)', () => {
    const r = parseConfig([
      { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'mesh' }, spec: { peerSelector: 'all()' } },
      { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'filtered' }, spec: { ...BASE_PEER, filters: ['no-lb'] } },
    ]);
    expect(r.ok ? [] : r.errors.map((e) => e.text)).to.deep.equal([
      // No "peerIP required" or "asNumber required" on top: the refusal asks for peerIP; Calico's peerSelector has no asNumber.
      'document 1 (BGPPeer "mesh"): spec.peerSelector = "all()": svcbgp makes no node-to-node peering (peerSelector selects Calico nodes to peer with); give the router\'s address in peerIP and choose the nodes with node or nodeSelector',
      'document 2 (BGPPeer "filtered"): spec.filters = ["no-lb"]: svcbgp does not implement BGPFilter, and an export filter changes which routes a peer receives; remove filters. To limit what is advertised narrow serviceClusterIPs, serviceExternalIPs or serviceLoadBalancerIPs; to tag routes use prefixAdvertisements',
    ]);
  });

  it('a node.<nodename> document: logSeverityScreen warned as in "default" (Calico reads it there too), any other Calico field ignored with a warning as Calico ignores it', () => {
    const r = parseOne('BGPConfiguration', { logSeverityScreen: 'Debug', bindMode: 'NodeIP', listenPort: 1179 }, 'node.node-1');
    expect(r.ok).to.equal(true);
    expect(r.warnings.map((w) => w.text)).to.deep.equal([
      'document 1 (BGPConfiguration "node.node-1"): spec.logSeverityScreen = "Debug": Calico\'s BIRD log level; svcbgp\'s is `svcbgp run --log-level` (SVCBGP_LOG_LEVEL) and gobgpd\'s its own -l flag. It changes no route; remove it',
      'document 1 (BGPConfiguration "node.node-1"): spec.bindMode: Calico and svcbgp read it only from the BGPConfiguration named \'default\' (a node.<nodename> document may set listenPort and prefixAdvertisements); ignored here',
    ]);
  });

  it('a field named after an Object property ("toString", "constructor") is an unknown field, not a check', () => {
    const r = parseOne('BGPPeer', { toString: 1, constructor: 'x' });
    expect(r.ok).to.equal(true);
    expect(r.warnings.map((w) => w.path)).to.deep.equal(['spec.toString', 'spec.constructor']);
  });
});

describe('localASNumber, ttlSecurity, numAllowedLocalASNumbers, sourceAddress, bindMode: what gobgpd is given', () => {
  const peerOf = (spec: Record<string, unknown>) => {
    const r = parseOne('BGPPeer', spec);
    if (!r.ok) throw new Error(r.errors.map((e) => e.text).join('\n'));
    return peersForNode(r.config, { name: 'node-1', labels: {} })[0]!;
  };

  it("localASNumber -> the session's local AS (gobgpd PeerConf.local_asn); absent: none, gobgpd uses the global AS", () => {
    expect(peerOf({ localASNumber: 65001 })).to.include({ localAsn: 65001 });
    expect(peerOf({ localASNumber: '1.10' })).to.include({ localAsn: 65546 });
    expect(peerOf({})).to.not.have.property('localAsn');
  });

  it('ttlSecurity N -> GTSM with minimum TTL 256 - N, as Calico\'s BIRD does ("ttl security on; multihop N"); 0: off', () => {
    expect(peerOf({ ttlSecurity: 1 })).to.include({ ttlSecurityMinTtl: 255 });
    expect(peerOf({ ttlSecurity: 2 })).to.include({ ttlSecurityMinTtl: 254 });
    expect(peerOf({ ttlSecurity: 255 })).to.include({ ttlSecurityMinTtl: 1 });
    expect(peerOf({ ttlSecurity: 0 })).to.not.have.property('ttlSecurityMinTtl');
  });

  it('numAllowedLocalASNumbers -> gobgpd allow_own_asn; 0: none', () => {
    expect(peerOf({ numAllowedLocalASNumbers: 3 })).to.include({ allowOwnAsn: 3 });
    expect(peerOf({ numAllowedLocalASNumbers: 0 })).to.not.have.property('allowOwnAsn');
  });

  it("sourceAddress UseNodeIP -> the session's source is the node's InternalIP of the peer's family (Calico: the node IP); None or absent: the kernel chooses", () => {
    const r = parseConfig([
      {
        apiVersion: 'projectcalico.org/v3',
        kind: 'BGPPeer',
        metadata: { name: 'v4' },
        spec: { peerIP: '192.168.1.1', asNumber: 64512, sourceAddress: 'UseNodeIP' },
      },
      {
        apiVersion: 'projectcalico.org/v3',
        kind: 'BGPPeer',
        metadata: { name: 'v6' },
        spec: { peerIP: 'fd00:1::1', asNumber: 64512, sourceAddress: 'UseNodeIP' },
      },
      {
        apiVersion: 'projectcalico.org/v3',
        kind: 'BGPPeer',
        metadata: { name: 'none' },
        spec: { peerIP: '192.168.2.1', asNumber: 64512, sourceAddress: 'None' },
      },
    ]);
    if (!r.ok) throw new Error(r.errors.map((e) => e.text).join('\n'));
    const dual = {
      name: 'node-1',
      labels: {},
      addresses: [
        { type: 'ExternalIP', address: '203.0.113.10' },
        { type: 'InternalIP', address: '192.168.1.10' },
        { type: 'InternalIP', address: 'fd00:1::10' },
      ],
    };
    expect(peersForNode(r.config, dual).map((p) => [p.address, p.localAddress])).to.deep.equal([
      ['192.168.1.1', '192.168.1.10'],
      ['192.168.2.1', undefined],
      ['fd00:1::1', 'fd00:1::10'],
    ]);
    expect(nodeAddressWarnings(r.config, dual)).to.deep.equal([]);
    const v4only = { name: 'node-2', labels: {}, addresses: [{ type: 'InternalIP', address: '192.168.1.11' }] };
    expect(peersForNode(r.config, v4only).find((p) => p.address === 'fd00:1::1')).to.not.have.property('localAddress');
    expect(nodeAddressWarnings(r.config, v4only)).to.deep.equal([
      'BGPPeer v6: sourceAddress UseNodeIP, but node node-2 has no IPv6 InternalIP: the kernel chooses the source address of the session with fd00:1::1',
    ]);
  });

  it("bindMode NodeIP -> gobgpd listens on the node's InternalIP of each family only (Calico: `listen bgp address <node IP>`); None or absent: every address", () => {
    const cfg = (bindMode?: string) => {
      const r = parseOne('BGPConfiguration', bindMode ? { bindMode } : {});
      if (!r.ok) throw new Error(r.errors.map((e) => e.text).join('\n'));
      return r.config;
    };
    const node = {
      name: 'node-1',
      labels: {},
      addresses: [
        { type: 'ExternalIP', address: '203.0.113.10' },
        { type: 'InternalIP', address: 'fd00:1::10' },
        { type: 'InternalIP', address: '192.168.1.10' },
        { type: 'InternalIP', address: '192.168.1.20' },
      ],
    };
    expect(speakerConfigForNode(cfg('NodeIP'), node, '192.168.1.10').listenAddresses).to.deep.equal(['192.168.1.10', 'fd00:1::10']);
    for (const c of [cfg('None'), cfg()]) expect(speakerConfigForNode(c, node, '192.168.1.10')).to.not.have.property('listenAddresses');
    const bare = { name: 'node-2', labels: {}, addresses: [] };
    expect(speakerConfigForNode(cfg('NodeIP'), bare, '192.168.1.11')).to.not.have.property('listenAddresses');
    expect(nodeAddressWarnings(cfg('NodeIP'), bare)).to.deep.equal([
      'bindMode NodeIP, but node node-2 has no InternalIP: gobgpd listens for BGP on every address',
    ]);
    const bad = parseOne('BGPConfiguration', { bindMode: 'nodeip' });
    expect(bad.ok ? [] : bad.errors.map((e) => e.text)).to.deep.equal([
      'document 1 (BGPConfiguration "default"): spec.bindMode = "nodeip": expected None or NodeIP (Calico\'s values, case-sensitive)',
    ]);
  });

  it('out-of-range or mistyped values are errors naming the field, the value and the range', () => {
    const r = parseConfig(
      `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: tor}\nspec:\n  peerIP: 192.168.1.1\n  asNumber: 64512\n` +
        '  localASNumber: 0\n  ttlSecurity: 256\n  numAllowedLocalASNumbers: 0x10\n',
    );
    expect(r.ok ? [] : r.errors.map((e) => e.text)).to.deep.equal([
      'document 1 (BGPPeer "tor"): spec.localASNumber = 0: AS 0 is reserved (RFC 7607) and cannot be used; expected 1..4294967295',
      'document 1 (BGPPeer "tor"): spec.ttlSecurity = 256: expected the number of hops to the peer, 1..255 (1: directly connected; 0: off)',
      'document 1 (BGPPeer "tor"): spec.numAllowedLocalASNumbers = 0x10: YAML reads this as the number 16, which is probably not what was meant; write numAllowedLocalASNumbers as a plain decimal integer',
    ]);
  });
});

describe('docs/calico-fields.md and the CRDs follow the code', () => {
  const doc = readFileSync(path.join(repoRoot(), 'docs/calico-fields.md'), 'utf8');

  /** The rows of the table under a heading: field -> the first bold word of its "svcbgp" column. */
  function rows(heading: string): Map<string, string> {
    const start = doc.indexOf(heading);
    expect(start, `heading ${heading}`).to.be.greaterThan(-1);
    const next = doc.indexOf('\n## ', start + heading.length);
    const section = doc.slice(start, next === -1 ? undefined : next);
    const out = new Map<string, string>();
    for (const line of section.split('\n')) {
      const m = /^\| `([A-Za-z0-9]+)` \|[^|]*\| \*\*(honoured|warned|refused)\*\*/.exec(line);
      if (m) out.set(m[1]!, m[2]!);
    }
    return out;
  }

  it('every BGPConfiguration field has a row whose handling is what the parser does', () => {
    const table = rows('## BGPConfiguration');
    expect([...table.keys()].sort()).to.deep.equal(Object.keys(CALICO_BGPCONFIGURATION_FIELDS).sort());
    for (const [field, c] of Object.entries(CONFIG_CASES)) expect(table.get(field), field).to.equal(c.handling);
  });

  it("every BGPPeer field has a row whose handling is what the parser does (Calico Enterprise's too)", () => {
    const table = new Map([...rows('## BGPPeer'), ...rows('## Calico Enterprise')]);
    expect([...table.keys()].sort()).to.deep.equal(Object.keys(PEER_CASES).sort());
    for (const [field, c] of Object.entries(PEER_CASES)) expect(table.get(field), field).to.equal(c.handling);
  });

  it('the counts at the top are the counts of the tables', () => {
    const count = (cases: Record<string, { handling: Handling }>, fields: Readonly<Record<string, unknown>>): string => {
      const n = (h: Handling): number => Object.keys(fields).filter((f) => cases[f]?.handling === h).length;
      return `${n('honoured')} honoured, ${n('refused')} refused, ${n('warned')} warned`;
    };
    const line = doc.replace(/\s+/g, ' ');
    expect(line).to.contain(`BGPConfiguration ${count(CONFIG_CASES, CALICO_BGPCONFIGURATION_FIELDS)}; BGPPeer ${count(PEER_CASES, CALICO_BGPPEER_FIELDS)}.`);
  });

  it('the svcbgp.io CRDs admit every Calico field, so the API server prunes none (a pruned field would be ignored in silence)', () => {
    const docs = readFileSync(path.join(repoRoot(), 'deploy/10-crds.yaml'), 'utf8')
      .split(/^---$/m)
      .map(
        (d) =>
          parse(d) as {
            spec: { names: { kind: string }; versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, unknown> } } } } }[] };
          },
      );
    const specFields = (kind: string): string[] => {
      const crd = docs.find((d) => d.spec.names.kind === kind)!;
      return Object.keys(crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties);
    };
    expect(Object.keys(CALICO_BGPCONFIGURATION_FIELDS).filter((f) => !specFields('BGPConfiguration').includes(f))).to.deep.equal([]);
    expect([...Object.keys(CALICO_BGPPEER_FIELDS), ...CALICO_ENTERPRISE_BGPPEER_FIELDS].filter((f) => !specFields('BGPPeer').includes(f))).to.deep.equal([]);
  });
});
