/**
 * The reconciler's inputs port over the cluster (src/agent/inputs.ts): the desired paths are computed
 * incrementally, a drift pass compares them with a full recomputation, and a difference is an error log, a
 * metric and the full result.
 */
import { expect } from 'chai';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { ClusterInputs } from '../../../src/agent/inputs.js';
import { PasswordResolver } from '../../../src/agent/passwords.js';
import { AgentMetrics } from '../../../src/http/metrics.js';
import type { ClusterView } from '../../../src/kube/cluster.js';
import type { ServiceChanges } from '../../../src/model/service-key.js';
import { capturingLogger } from '../../helpers/log.js';
import { mustConfig, node, service, slice } from '../routes/cluster.js';

const CONFIG = mustConfig(`apiVersion: svcbgp.io/v1alpha1
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceClusterIPs: [{cidr: 10.49.0.0/16}]
`);

function setup(
  services: V1Service[],
  slices: V1EndpointSlice[],
  theNode: V1Node = node('node-1', {}, ['192.168.1.10']),
  extra: Partial<ConstructorParameters<typeof ClusterInputs>[0]> = {},
) {
  const { log, lines } = capturingLogger();
  const metrics = new AgentMetrics(false);
  const view = (): ClusterView => ({
    synced: true,
    connected: true,
    notReady: [],
    services,
    endpointSlices: slices,
    node: theNode,
    bgpPeers: [],
    bgpConfigurations: [],
  });
  const inputs = new ClusterInputs({
    nodeName: 'node-1',
    sources: { view, config: () => ({ state: 'valid', config: CONFIG }) },
    passwords: new PasswordResolver(() => Promise.reject(new Error('no secrets here')), log),
    log,
    metrics,
    onCheckFailed: () => repairs.push(Date.now()),
    ...extra,
  });
  const repairs: number[] = [];
  return { inputs, lines, metrics, repairs };
}

const prefixes = (i: Awaited<ReturnType<ClusterInputs['read']>>): string[] => (i.desired?.paths ?? []).map((p) => p.route.prefix);
const counter = async (m: AgentMetrics, name: string): Promise<string[]> => (await m.registry.metrics()).split('\n').filter((l) => l.startsWith(name));

describe('agent inputs: incremental desired paths, checked on the drift pass', () => {
  it('one changed EndpointSlice recomputes one Service; an unchanged path keeps its object', async () => {
    const services = ['a', 'b', 'c'].map((n, i) => service(n, { clusterIPs: [`10.49.0.${i + 1}`], internalTrafficPolicy: 'Local' }));
    const slices = ['a', 'b', 'c'].map((n) => slice(n, 'IPv4', [{ ip: '10.48.0.1', node: 'node-1' }]));
    const { inputs, metrics } = setup(services, slices);
    const first = await inputs.read(new Set(['start']));
    expect(prefixes(first)).to.deep.equal(['10.49.0.0/16', '10.49.0.1/32', '10.49.0.2/32', '10.49.0.3/32']);
    // A state's paths are read in its own pass (the reconciler does): keep the list, not the state.
    const firstPaths = first.desired!.paths;
    slices[1] = slice('b', 'IPv4', [{ ip: '10.48.0.1', node: 'node-2' }]);
    const second = await inputs.read(new Set(['endpointslices']));
    expect(prefixes(second)).to.deep.equal(['10.49.0.0/16', '10.49.0.1/32', '10.49.0.3/32']);
    expect(second.desired!.paths[2]).to.equal(firstPaths[3]); // 10.49.0.3/32: the same object
    // Holding the state past its pass and reading it then is a programming error, and says so.
    expect(() => first.desired!.paths).to.throw(/read after the table changed again/);
    expect(await counter(metrics, 'svcbgp_services_recomputed_total{')).to.deep.equal([
      'svcbgp_services_recomputed_total{scope="full"} 3',
      'svcbgp_services_recomputed_total{scope="incremental"} 1',
    ]);
  });

  it('a drift check that finds the incremental state wrong logs an error, counts it, and the next pass uses the full result', async () => {
    const services = [service('a', { clusterIPs: ['10.49.0.1'], internalTrafficPolicy: 'Local' })];
    const slices = [slice('a', 'IPv4', [{ ip: '10.48.0.1', node: 'node-1' }])];
    const { inputs, lines, metrics, repairs } = setup(services, slices);
    expect(prefixes(await inputs.read(new Set(['start'])))).to.include('10.49.0.1/32');
    slices[0]!.endpoints[0]!.nodeName = 'node-2'; // changed in place: invisible to the incremental path
    expect(prefixes(await inputs.read(new Set(['endpointslices'])))).to.include('10.49.0.1/32');
    expect(await counter(metrics, 'svcbgp_desired_state_mismatches_total ')).to.deep.equal(['svcbgp_desired_state_mismatches_total 0']);
    // The drift pass itself answers from the incremental state; its check runs beside the passes.
    expect(prefixes(await inputs.read(new Set(['drift'])))).to.include('10.49.0.1/32');
    await inputs.checkDone();
    expect(await counter(metrics, 'svcbgp_desired_state_mismatches_total ')).to.deep.equal(['svcbgp_desired_state_mismatches_total 1']);
    const bug = lines.filter((l) => l.level === 'error' && String(l.message).startsWith('BUG: the incremental desired state differed'));
    expect(bug).to.have.length(1);
    expect(bug[0]!.routes).to.deep.equal(['10.49.0.1/32']);
    expect(repairs).to.have.length(1); // the agent runs a pass at once
    expect(prefixes(await inputs.read(new Set(['drift-repair'])))).to.deep.equal(['10.49.0.0/16']);
    // Back in step: the next drift check finds nothing.
    await inputs.read(new Set(['drift']));
    await inputs.checkDone();
    expect(await counter(metrics, 'svcbgp_desired_state_mismatches_total ')).to.deep.equal(['svcbgp_desired_state_mismatches_total 1']);
    expect(repairs).to.have.length(1);
  });
});

describe('agent inputs: the drift check beside the passes', () => {
  it('runs its slices only while no pass runs or is armed (whenIdle), then ends', async () => {
    const services = [service('a', { clusterIPs: ['10.49.0.1'], internalTrafficPolicy: 'Local' })];
    const slices = [slice('a', 'IPv4', [{ ip: '10.48.0.1', node: 'node-1' }])];
    let release: () => void = () => undefined;
    const busy = new Promise<void>((resolve) => {
      release = resolve;
    });
    let waited = 0;
    const { inputs, metrics } = setup(services, slices, undefined, {
      whenIdle: () => {
        waited++;
        return busy;
      },
    });
    await inputs.read(new Set(['start']));
    await inputs.read(new Set(['drift']));
    let ended = false;
    void inputs.checkDone().then(() => {
      ended = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(waited).to.equal(1); // asked once, still waiting: no slice ran while "a pass runs"
    expect(ended).to.equal(false);
    release();
    await inputs.checkDone();
    expect(ended).to.equal(true);
    expect(await counter(metrics, 'svcbgp_desired_state_mismatches_total ')).to.deep.equal(['svcbgp_desired_state_mismatches_total 0']);
  });
});

describe('agent inputs: the Service changes the watch hands over', () => {
  it('only the named Services are recomputed; keys handed over while the inputs wait are used by the next computation', async () => {
    const services = ['a', 'b', 'c'].map((n, i) => service(n, { clusterIPs: [`10.49.0.${i + 1}`], internalTrafficPolicy: 'Local' }));
    const slices = ['a', 'b', 'c'].map((n) => slice(n, 'IPv4', [{ ip: '10.48.0.1', node: 'node-1' }]));
    const { log } = capturingLogger();
    const metrics = new AgentMetrics(false);
    let synced = true;
    let changed = new Set<string>();
    const at = (k: string): number => ['default/a', 'default/b', 'default/c'].indexOf(k);
    const inputs = new ClusterInputs({
      nodeName: 'node-1',
      sources: {
        view: (): ClusterView => ({
          synced,
          connected: true,
          notReady: synced ? [] : ['services:syncing'],
          services,
          endpointSlices: slices,
          node: node('node-1', {}, ['192.168.1.10']),
          bgpPeers: [],
          bgpConfigurations: [],
        }),
        serviceChanges: (): ServiceChanges => {
          const keys = changed;
          changed = new Set();
          return { keys, service: (k) => services[at(k)], slices: (k) => slices.filter((_, i) => i === at(k)) };
        },
        config: () => ({ state: 'valid', config: CONFIG }),
      },
      passwords: new PasswordResolver(() => Promise.reject(new Error('no secrets here')), log),
      log,
      metrics,
    });
    expect(prefixes(await inputs.read(new Set(['start'])))).to.deep.equal(['10.49.0.0/16', '10.49.0.1/32', '10.49.0.2/32', '10.49.0.3/32']);
    slices[1] = slice('b', 'IPv4', [{ ip: '10.48.0.1', node: 'node-2' }]);
    changed.add('default/b');
    synced = false;
    expect((await inputs.read(new Set(['endpointslices']))).waiting).to.contain('caches syncing');
    synced = true;
    const next = await inputs.read(new Set(['services']));
    expect(prefixes(next)).to.deep.equal(['10.49.0.0/16', '10.49.0.1/32', '10.49.0.3/32']);
    expect(await counter(metrics, 'svcbgp_services_recomputed_total{')).to.deep.equal([
      'svcbgp_services_recomputed_total{scope="full"} 3',
      'svcbgp_services_recomputed_total{scope="incremental"} 1',
    ]);
    // The drift check compares with the whole view: nothing differs.
    await inputs.read(new Set(['drift']));
    await inputs.checkDone();
    expect(await counter(metrics, 'svcbgp_desired_state_mismatches_total ')).to.deep.equal(['svcbgp_desired_state_mismatches_total 0']);
  });
});

describe('agent inputs: the svcbgp.io/leaving annotation', () => {
  it('an unrecognised svcbgp.io/leaving value is not leaving and is warned about once per value', async () => {
    const n = node('node-1', {}, ['192.168.1.10']);
    const { inputs, lines } = setup([], [], n);
    const warned = (): unknown[] => lines.filter((l) => l.level === 'warn' && l.message === 'node annotation not understood').map((l) => l.warning);
    n.metadata!.annotations = { 'svcbgp.io/leaving': 'yes' };
    expect((await inputs.read(new Set(['node']))).leaving).to.equal(undefined);
    await inputs.read(new Set(['drift']));
    expect(warned()).to.have.length(1);
    expect(warned()[0]).to.contain('svcbgp.io/leaving="yes" is not understood');
    n.metadata!.annotations = { 'svcbgp.io/leaving': '1' };
    await inputs.read(new Set(['node']));
    expect(warned()).to.have.length(2);
    n.metadata!.annotations = { 'svcbgp.io/leaving': 'TRUE' };
    expect((await inputs.read(new Set(['node']))).leaving).to.equal('the Node is annotated svcbgp.io/leaving=true');
    n.metadata!.annotations = { 'svcbgp.io/leaving': 'false' };
    expect((await inputs.read(new Set(['node']))).leaving).to.equal(undefined);
    expect(warned()).to.have.length(2);
  });
});
