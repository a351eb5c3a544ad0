import { expect } from 'chai';
import { readIpPools, type IpPoolsResult } from '../../../src/config/ip-pools.js';
import { mustParseCidr } from '../../../src/config/net.js';

const placement = {
  serviceLoadBalancerIPs: [mustParseCidr('192.168.4.0/24'), mustParseCidr('fd00:4::/64')],
  serviceClusterIPs: [mustParseCidr('10.49.0.0/16')],
};
const ippool = (name: string, spec: Record<string, unknown>, apiVersion = 'projectcalico.org/v3'): unknown => ({
  apiVersion,
  kind: 'IPPool',
  metadata: { name },
  spec,
});
const lb = (name: string, cidr: string, extra: Record<string, unknown> = {}): unknown => ippool(name, { cidr, allowedUses: ['LoadBalancer'], ...extra });
const ok = (r: IpPoolsResult): Extract<IpPoolsResult, { ok: true }> => {
  if (!r.ok) throw new Error(r.errors.map((e) => e.text).join('\n'));
  return r;
};
const errors = (r: IpPoolsResult): string[] => (r.ok ? [] : r.errors.map((e) => e.text));
const warnings = (r: IpPoolsResult): string[] => r.warnings.map((w) => w.text);

describe('config: IPPool documents for load-balancer addresses', () => {
  it('reads a Calico LoadBalancer pool with its defaults, and the svcbgp.io kind alike', () => {
    const r = ok(
      readIpPools(
        [
          lb('lb-v4', '192.168.4.0/26'),
          ippool('lb-v6', { cidr: 'fd00:4::/120', allowedUses: ['LoadBalancer'], assignmentMode: 'Manual', disabled: true }, 'svcbgp.io/v1alpha1'),
        ],
        placement,
      ),
    );
    expect(r.pools.map((p) => [p.name, p.cidr.cidr, p.assignmentMode, p.disabled])).to.deep.equal([
      ['lb-v4', '192.168.4.0/26', 'Automatic', false],
      ['lb-v6', 'fd00:4::/120', 'Manual', true],
    ]);
    expect(r.settings).to.deep.equal({ assignIPs: 'AllServices' });
    expect(warnings(r)).to.deep.equal([]);
  });

  it('skips workload pools without a word (no allowedUses means Workload, Tunnel) and accepts their Calico fields', () => {
    const r = ok(
      readIpPools(
        [
          ippool('default-ipv4-ippool', { cidr: '10.48.0.0/16', ipipMode: 'Always', natOutgoing: true, blockSize: 26, nodeSelector: 'all()' }),
          { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'tor' }, spec: {} },
        ],
        placement,
      ),
    );
    expect([r.pools, warnings(r)]).to.deep.equal([[], []]);
  });

  it('reads the pools inside a List, numbered as parseConfig numbers them', () => {
    const r = readIpPools([{ apiVersion: 'v1', kind: 'List', items: [lb('a', '192.168.4.0/28'), lb('b', '192.168.4.8/29')] }], placement);
    expect(errors(r)).to.deep.equal([
      'document 1, item 2 (IPPool "b"): spec.cidr = "192.168.4.8/29": overlaps IPPool "a" (192.168.4.0/28, document 1, item 1 (IPPool "a")); an address may belong to one load-balancer pool only: shrink or remove one of them',
    ]);
  });

  it('a pool outside every serviceLoadBalancerIPs CIDR: a warning that says why, and the pool is not used', () => {
    const r = ok(readIpPools([lb('far', '10.50.0.0/24'), lb('near', '192.168.4.0/28')], placement));
    expect(r.pools.map((p) => p.name)).to.deep.equal(['near']);
    expect(r.unused.map((u) => [u.name, u.reason])).to.deep.equal([['far', 'outside-service-load-balancer-ips']]);
    expect(warnings(r)[0]).to.equal(
      'document 1 (IPPool "far"): spec.cidr = "10.50.0.0/24": not used: its addresses lie outside every BGPConfiguration serviceLoadBalancerIPs CIDR (192.168.4.0/24, fd00:4::/64), so they would never be advertised; add a CIDR that contains 10.50.0.0/24 to serviceLoadBalancerIPs, or move the pool inside one',
    );
  });

  it('a pool overlapping serviceClusterIPs is not used unless allowAddressesInClusterIPRange', () => {
    const wide = { ...placement, serviceLoadBalancerIPs: [mustParseCidr('10.0.0.0/8')] };
    expect(ok(readIpPools([lb('clash', '10.49.1.0/24')], wide)).unused.map((u) => u.reason)).to.deep.equal(['inside-service-cluster-ips']);
    expect(ok(readIpPools([lb('clash', '10.49.1.0/24')], { ...wide, allowAddressesInClusterIPRange: true })).pools).to.have.length(1);
  });

  it('refuses wrong fields with the document, field, value and fix', () => {
    const r = readIpPools(
      [
        lb('mixed', '192.168.4.0/28', { allowedUses: ['LoadBalancer', 'Workload'] }),
        lb('host', '192.168.4.17/28'),
        lb('mode', '192.168.4.32/28', { assignmentMode: 'Sometimes' }),
        lb('flag', '192.168.4.48/28', { disabled: 'yes' }),
        lb('ns', '192.168.4.64/28', { namespaceSelector: 'team == "a"' }),
        ippool('use', { cidr: '192.168.4.80/28', allowedUses: ['Loadbalancer'] }),
        lb('mixed', '192.168.4.96/28'),
        { apiVersion: 'v1', kind: 'IPPool', metadata: { name: 'api' }, spec: { cidr: '192.168.4.112/28', allowedUses: ['LoadBalancer'] } },
      ],
      placement,
    );
    expect(errors(r)).to.deep.equal([
      'document 1 (IPPool "mixed"): spec.allowedUses = ["LoadBalancer","Workload"]: LoadBalancer cannot be combined with Workload (Calico refuses it too: a pod must never get a Service\'s address); make two pools',
      'document 2 (IPPool "host"): spec.cidr = "192.168.4.17/28": the bits after the prefix length must be zero; did you mean 192.168.4.16/28?',
      'document 3 (IPPool "mode"): spec.assignmentMode = "Sometimes": expected "Automatic" (any Service may get an address) or "Manual" (only Services that ask for this pool or one of its addresses)',
      'document 4 (IPPool "flag"): spec.disabled = "yes": expected true or false (unquoted)',
      'document 5 (IPPool "ns"): spec.namespaceSelector = "team == \\"a\\"": svcbgp does not restrict load-balancer pools by namespace; remove the selector, or give those namespaces their pool through the Services\' projectcalico.org/ipv4pools / ipv6pools annotation with assignmentMode: Manual',
      'document 6 (IPPool "use"): spec.allowedUses = ["Loadbalancer"]: unknown use "Loadbalancer"; expected Workload, Tunnel, LoadBalancer',
      'document 7 (IPPool "mixed"): metadata.name = "mixed": duplicate IPPool name: document 1 (IPPool "mixed") has the same name; names must be unique',
      'document 8 (IPPool "api"): apiVersion = "v1": expected one of "projectcalico.org/v3", "svcbgp.io/v1alpha1"',
    ]);
  });

  it('warns about fields that do not apply to a load-balancer pool', () => {
    const r = ok(readIpPools([lb('a', '192.168.4.0/28', { ipipMode: 'Always', disableBGPExport: true, colour: 'blue' })], placement));
    expect(warnings(r).map((w) => w.split(': ')[1])).to.deep.equal(['spec.ipipMode = "Always"', 'spec.disableBGPExport = true', 'spec.colour']);
  });

  it('reads assignIPs from KubeControllersConfiguration "default" as Calico writes it', () => {
    const kcc = (name: string, loadBalancer: unknown): unknown => ({
      apiVersion: 'projectcalico.org/v3',
      kind: 'KubeControllersConfiguration',
      metadata: { name },
      spec: { controllers: { node: {}, loadBalancer } },
    });
    expect(ok(readIpPools([kcc('default', { assignIPs: 'RequestedServicesOnly' })], placement)).settings.assignIPs).to.equal('RequestedServicesOnly');
    expect(ok(readIpPools([kcc('default', {})], placement)).settings.assignIPs).to.equal('AllServices');
    const other = ok(readIpPools([kcc('other', { assignIPs: 'RequestedServicesOnly' })], placement));
    expect([other.settings.assignIPs, warnings(other)[0]]).to.deep.equal([
      'AllServices',
      'document 1 (KubeControllersConfiguration "other"): metadata.name = "other": ignored: Calico and svcbgp read only the KubeControllersConfiguration named "default"',
    ]);
    expect(errors(readIpPools([kcc('default', { assignIPs: 'Some' })], placement))[0]).to.contain(
      'spec.controllers.loadBalancer.assignIPs = "Some": expected "AllServices"',
    );
  });

  it('never throws on hostile input', () => {
    const r = readIpPools(
      [
        null,
        7,
        'text',
        [],
        { kind: 'IPPool' },
        { kind: 'IPPool', apiVersion: 'projectcalico.org/v3', metadata: { name: 'x\u001b[31m' }, spec: { cidr: 5, allowedUses: ['LoadBalancer'] } },
      ],
      placement,
    );
    expect(errors(r).join('\n')).to.contain('IPPool "x\\u001b[31m"').and.not.contain('\u001b');
  });
});
