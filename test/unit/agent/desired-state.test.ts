/**
 * The route model's reasons travel with the path to the reconciler as they are (structured, the same objects), and
 * the reconciler's logs and `svcbgp status` print their texts.
 */
import { expect } from 'chai';
import { computeDesired } from '../../../src/agent/desired-state.js';
import { reasonTexts } from '../../../src/model/path.js';
import { desiredRoutes } from '../../../src/routes/index.js';
import { mustConfig, node, service, slice } from '../routes/cluster.js';

describe("desired paths carry the route model's structured reasons", () => {
  const config = mustConfig(`apiVersion: svcbgp.io/v1alpha1
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceClusterIPs: [{cidr: 10.49.0.0/16}]
  weightedECMP: {enabled: true}
`);
  const n = node('node-1', {}, ['192.168.1.10']);
  const services = [service('web', { clusterIPs: ['10.49.0.7'], internalTrafficPolicy: 'Local' })];
  const slices = [
    slice('web', 'IPv4', [
      { ip: '10.48.0.1', node: 'node-1' },
      { ip: '10.48.0.2', node: 'node-1' },
    ]),
  ];

  it('rule, kind, CIDR and Services per reason, as desiredRoutes gives them; the weight beside them', () => {
    const state = computeDesired(config, n, services, slices);
    const host = state.paths.find((p) => p.route.prefix === '10.49.0.7/32')!;
    const model = desiredRoutes(config, n, services, slices).routes.find((r) => r.route.prefix === '10.49.0.7/32')!;
    expect(host.reasons[0]).to.deep.equal(model.reasons[0]);
    expect(host.reasons[0]).to.include({ rule: 'local-endpoint', kind: 'cluster-ip', cidr: '10.49.0.0/16' });
    expect(host.reasons[0]!.services).to.deep.equal([{ namespace: 'default', name: 'web', address: '10.49.0.7' }]);
    expect(host.reasons.map((r) => r.rule)).to.deep.equal(['local-endpoint', 'link-bandwidth']);
    expect(reasonTexts(host.reasons)[1]).to.equal('weight from 2 usable local endpoint(s) (weightedECMP): default/web 2');
    const aggregate = state.paths.find((p) => p.route.prefix === '10.49.0.0/16')!;
    expect(aggregate.reasons.map((r) => [r.rule, r.kind, r.cidr])).to.deep.equal([['aggregate', 'cluster-ip', '10.49.0.0/16']]);
  });
});
