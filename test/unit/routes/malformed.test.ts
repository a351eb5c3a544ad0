import { expect } from 'chai';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { desiredRoutes } from '../../../src/routes/index.js';
import { readNode, toNodeInfo } from '../../../src/config/node.js';
import { EXTERNAL_IPS_DOC, mustConfig, node, service, slice } from './cluster.js';

/** Objects as a hand-edited cluster dump may hold them: the types say otherwise, so cast through unknown. */
const asService = (o: unknown): V1Service => o as V1Service;
const asSlice = (o: unknown): V1EndpointSlice => o as V1EndpointSlice;
const asNode = (o: unknown): V1Node => o as V1Node;

describe('routes: malformed objects are refused or skipped with a reason, never thrown on', () => {
  const config = mustConfig(EXTERNAL_IPS_DOC);
  const good = service('good', { externalIPs: ['192.168.3.5'], externalTrafficPolicy: 'Local' });
  const goodSlice = slice('good', 'IPv4', [{ ip: '10.48.0.1', node: 'node-1' }]);

  it('a Service with metadata: null, spec: 5, status: "x" or a non-list externalIPs is refused naming the field; the others are still advertised', () => {
    const bad = [
      asService({ kind: 'Service', metadata: null, spec: { ports: 'x' } }),
      asService({ kind: 'Service', metadata: { name: 'spec5', namespace: 'shop' }, spec: 5 }),
      asService({ kind: 'Service', metadata: { name: 'status', namespace: 'shop' }, status: 'x' }),
      asService({ kind: 'Service', metadata: { name: 'lb', namespace: 'shop' }, status: { loadBalancer: 7 } }),
      asService({ kind: 'Service', metadata: { name: 'ns', namespace: 5 } }),
      asService({ kind: 'Service', metadata: { name: 'eips', namespace: 'shop' }, spec: { externalIPs: 'x' } }),
      asService(null),
      asService(42),
    ];
    const res = desiredRoutes(config, node('node-1'), [good, ...bad], [goodSlice]);
    expect(res.routes.map((r) => r.route.prefix)).to.deep.equal(['192.168.3.0/24', '192.168.3.5/32']);
    const texts = res.refused.map((r) => `${r.namespace}/${r.service}: ${r.message}`);
    expect(texts).to.include.members([
      'default/(unnamed): malformed Service: metadata is not a mapping: null; its addresses are not advertised',
      'shop/spec5: malformed Service: spec is not a mapping: 5; its addresses are not advertised',
      'shop/status: malformed Service: status is not a mapping: "x"; its addresses are not advertised',
      'shop/lb: malformed Service: status.loadBalancer is not a mapping: 7; its addresses are not advertised',
      'default/ns: malformed Service: metadata.namespace is not a string: 5; its addresses are not advertised',
      'shop/eips: Service data could not be read (spec.externalIPs is not a list: "x"); its addresses are not advertised',
      'default/(unnamed): malformed Service: not an object: 42; its addresses are not advertised',
    ]);
    expect(res.refused.every((r) => r.code === 'invalid-service')).to.equal(true);
  });

  it('a malformed EndpointSlice or endpoint (endpoints: 5, conditions: 5, metadata: null) is skipped; a good one still counts', () => {
    const slices = [
      asSlice({ kind: 'EndpointSlice', metadata: null, endpoints: 5 }),
      asSlice({ kind: 'EndpointSlice', metadata: { labels: 5 } }),
      asSlice({ ...slice('good', 'IPv4', []), endpoints: [null, 5, { nodeName: 'node-1', conditions: 5 }] }),
    ];
    const res = desiredRoutes(config, node('node-1'), [good], slices);
    expect(res.routes.map((r) => r.route.prefix)).to.deep.equal(['192.168.3.0/24']);
    expect(res.withheld.map((w) => w.code)).to.deep.equal(['no-local-endpoint']);
    const withGood = desiredRoutes(config, node('node-1'), [good], [...slices, goodSlice]);
    expect(withGood.routes.map((r) => r.route.prefix)).to.deep.equal(['192.168.3.0/24', '192.168.3.5/32']);
  });

  it('a malformed Node (status.addresses: 5, metadata: null, labels: 5) is read as far as it makes sense, each problem named', () => {
    expect(readNode(asNode({ kind: 'Node', metadata: { name: 'node-1' }, status: { addresses: 5 } }))).to.deep.equal({
      info: { name: 'node-1', labels: {}, addresses: [] },
      problems: ['status.addresses is not a list: 5; ignored'],
    });
    expect(readNode(asNode({ kind: 'Node', metadata: null })).problems).to.deep.equal(['metadata is not a mapping: null']);
    expect(
      readNode(asNode({ metadata: { name: 'n', labels: 5 }, status: { addresses: [null, { type: 'InternalIP', address: '192.168.1.10' }] } })),
    ).to.deep.equal({
      info: { name: 'n', labels: {}, addresses: [{ type: 'InternalIP', address: '192.168.1.10' }] },
      problems: ['metadata.labels is not a mapping: 5; ignored', 'status.addresses[0] is not {type, address} strings: null; ignored'],
    });
    expect(toNodeInfo(asNode(null))).to.deep.equal({ name: '', labels: {}, addresses: [] });
    for (const n of [null, 5, 'x', { status: { addresses: 5 } }, { metadata: { labels: 'abc' } }]) {
      expect(() => desiredRoutes(config, asNode(n), [good], [goodSlice])).to.not.throw();
    }
  });

  it('a newline or ANSI escape in a Service name, an address or an endpoint node name is escaped in every text', () => {
    const evil = service('a\nerror: forged', { namespace: 'x\u001b[31m', externalIPs: ['8.8.8.8\nerror: x', '192.168.3.9'], externalTrafficPolicy: 'Local' });
    const evilSlice = slice('a\nerror: forged', 'IPv4', [{ ip: '10.48.0.9', node: 'n\u009b2' }], { namespace: 'x\u001b[31m' });
    const res = desiredRoutes(config, node('node-1'), [evil], [evilSlice]);
    const texts = [...res.refused.map((r) => r.message), ...res.withheld.map((w) => w.message), ...res.routes.flatMap((r) => r.reasons.map((x) => x.text))];
    expect(texts).to.have.length.greaterThan(1);
    for (const t of texts) expect(t).to.not.match(/[\u0000-\u001f\u007f-\u009f]/);
    expect(res.refused[0]!.message).to.equal('external IP "8.8.8.8\\nerror: x" is not a valid IPv4 or IPv6 address; not advertised');
    expect(res.withheld[0]!.message).to.contain('(endpoints are on: n\\x9b2)');
  });

  it('every refusal has a summary without its address, shared by addresses refused alike', () => {
    const svc = service('many', { externalIPs: ['8.8.8.8', '8.8.4.4', 'fd00::1', 'junk'] });
    const res = desiredRoutes(config, node('node-1'), [svc], []);
    expect(res.refused.map((r) => [r.address, r.summary])).to.deep.equal([
      ['8.8.4.4', 'external IP outside every serviceExternalIPs CIDR (192.168.3.0/24)'],
      ['8.8.8.8', 'external IP outside every serviceExternalIPs CIDR (192.168.3.0/24)'],
      ['fd00::1', 'external IP: serviceExternalIPs has no IPv6 CIDR'],
      ['junk', 'external IP is not a valid IPv4 or IPv6 address'],
    ]);
  });
});
